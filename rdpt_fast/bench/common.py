"""What every benchmark shares: machine description, timing, and saving results as JSON."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rdpt_fast import __version__

RESULTS_DIR = Path("benchmarks") / "results"
CORPORA = ("thought_anchors_r1_distill_llama8b.jsonl.gz", "skythought_aime24.jsonl.gz")


def find_data_dir(explicit: str | None, names: tuple[str, ...] = CORPORA) -> Path:
    """The folder holding the trace corpora `names` (`explicit`, else ../shared/data/traces)."""
    candidates = [Path(explicit)] if explicit else [Path("../shared/data/traces"), Path("shared/data/traces")]
    for c in candidates:
        if all((c / name).exists() for name in names):
            return c
    raise FileNotFoundError(
        f"trace corpora {', '.join(names)} not found in {', '.join(map(str, candidates))} (use --data DIR)"
    )


def load_corpus(path: Path) -> list[dict[str, Any]]:
    """Every record of a JSONL.gz corpus."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(device: str) -> str:
    """A readable name of the device a benchmark ran on ("cuda": the GPU's name)."""
    if device == "cuda":
        import torch

        return torch.cuda.get_device_name()
    return f"{cpu_model()} ({os.cpu_count()} cores)"


def machine_info(device: str = "cpu") -> dict[str, Any]:
    return {
        "device": device,
        "device_name": device_name(device),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "rdpt_fast": __version__,
    }


def run_header(benchmark: str, argv: list[str] | None, device: str = "cpu") -> dict[str, Any]:
    """The fields every results file starts with: benchmark, date (UTC), command, machine."""
    args = sys.argv[1:] if argv is None else argv
    return {
        "benchmark": benchmark,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": f"rdpt-fast bench {benchmark} {shlex.join(args)}".strip(),
        "machine": machine_info(device),
    }


def run_seconds(
    fn: Callable[[], Any],
    repeats: int,
    setup: Callable[[], Any] | None = None,
    sync: Callable[[], Any] | None = None,
) -> list[float]:
    """Wall-clock seconds of each of `repeats` calls of `fn` (after `setup`, untimed, before each; `sync`,
    e.g. torch.cuda.synchronize, after each call inside the timing)."""
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        fn()
        if sync is not None:
            sync()
        times.append(time.perf_counter() - t0)
    return times


def timed(
    fn: Callable[[], Any], repeats: int, *, warmup: bool = True, sync: Callable[[], Any] | None = None
) -> tuple[float, Any]:
    """Median seconds of `repeats` calls of `fn`, and the result of an untimed first call (`warmup`) or,
    without warm-up, of a last call (every timed call then does the whole job, e.g. loads its models)."""
    result = fn() if warmup else None
    if sync is not None and warmup:
        sync()
    if not warmup:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t0)
        return statistics.median(times), result
    return statistics.median(run_seconds(fn, repeats, sync=sync)), result


def summarize(times: list[float]) -> dict[str, float]:
    return {"median_s": statistics.median(times), "min_s": min(times), "runs_s": times}


def save_results(results: dict[str, Any], out_dir: Path, stem: str) -> Path:
    """Write results as `<out_dir>/<stem>-<date>.json` (atomically) and return the path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{stem}-{results['date'][:10]}.json"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def proc_status_kib(key: str) -> int:
    """A KiB field of /proc/self/status (VmRSS, VmHWM)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def reset_peak_rss() -> bool:
    """Reset the process's peak resident set (VmHWM) to its current size; False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_extra_mib(fn: Callable[[], Any]) -> float | None:
    """MiB the process's peak resident set rose above its size before one call of `fn` (None where the
    peak cannot be reset)."""
    import gc

    gc.collect()
    base = proc_status_kib("VmRSS")
    if not reset_peak_rss():
        return None
    fn()
    return max(proc_status_kib("VmHWM") - base, 0) / 1024
