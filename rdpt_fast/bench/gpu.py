"""`rdpt-fast bench gpu`: the one-shot GPU check (<= 8 minutes on one H100/H200, offline).

Steps, each timed and failure-isolated (its own subprocess with a time limit; a failing step never hides
the others): (1) the GPU tests (every backend and dtype vs float64 truth, fixed kernel config);
(2) the head benchmark, bf16, N in {4096, 32768} x (H=3584, V=152064) and (H=4096, V=128256): every
rdpt backend, the naive pipeline, Liger-Kernel and cut-cross-entropy when importable, the bare GEMM;
and the fused/cublas crossover; (3) end to end: the Scorer on a Qwen2.5-1.5B-shaped random model over
real traces vs the trunk + head-GEMM floor and HF naive; (4) one JSON under the output folder with the
device, versions, date and commands. ``--dry-run`` runs everything up to the CUDA calls on any machine
(argument parsing, the plan, test collection, the e2e model config and data) and writes a JSON marked
dry-run. benchmarks/gpu/check.sh installs the project offline first, then runs this.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from rdpt_fast.bench.common import RESULTS_DIR, run_header, save_results

HEAD_SHAPES = "4096x3584x152064,32768x3584x152064,4096x4096x128256,32768x4096x128256"
HEAD_METHODS = "rdpt:triton,rdpt:cublas,rdpt:torch,rdpt:reference,liger-kernel,cut-cross-entropy,matmul-floor"
GPU_TESTS = ["tests/kernels/test_kernel_gpu.py"]
# Seconds per step; the three sum to under 8 minutes.
LIMITS = {"tests": 210, "head": 170, "e2e": 90}


def plan(out_dir: Path, data: str | None) -> list[dict[str, Any]]:
    """The steps: name, command (argv), time limit and whether the dry run executes it."""
    py = sys.executable
    e2e_json = str(out_dir / "gpu-e2e.json")
    e2e = [py, "-m", "rdpt_fast.bench.gpu_e2e", "--json", e2e_json, *(["--data", data] if data else [])]
    head = [py, "-m", "rdpt_fast.bench.head", "--device", "cuda", "--dtype", "bfloat16", "--shapes",
            HEAD_SHAPES, "--methods", HEAD_METHODS, "--repeats", "10", "--out", str(out_dir)]  # fmt: skip
    return [
        {"name": "tests", "argv": [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", *GPU_TESTS]},
        {"name": "head", "argv": head},
        {"name": "e2e", "argv": e2e, "json": e2e_json},
    ]


def dry_argv(step: dict[str, Any]) -> list[str] | None:
    """What the dry run executes for a step (CPU-safe), or None (then its arguments are only parsed)."""
    if step["name"] == "head":
        from rdpt_fast.bench.head import build_parser

        build_parser().parse_args(step["argv"][3:])  # the benchmark's own parser: exits on a bad flag
        return None
    if step["name"] == "tests":
        return [*step["argv"], "--collect-only"]
    if step["name"] == "e2e":
        return [*step["argv"], "--dry-run"]
    return None


def run_step(step: dict[str, Any], argv: list[str], limit: float) -> dict[str, Any]:
    """Run one step in a subprocess; never raises. Records rc, seconds and the output's tail."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=limit)
        rc, out = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc, out = 124, f"timed out after {limit} s\n{exc.stdout or ''}{exc.stderr or ''}"
    except OSError as exc:
        rc, out = 127, f"could not start: {exc}"
    return {"name": step["name"], "command": " ".join(argv), "rc": rc, "ok": rc == 0,
            "seconds": round(time.perf_counter() - t0, 1), "output_tail": out[-4000:]}  # fmt: skip


def crossover(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (H, V): at each N which of the fused (triton) and cublas backends is faster, and the ratio."""
    out = []
    timed = [r for r in rows if "median_ms" in r]
    for h, v, n in sorted({(r["H"], r["V"], r["N"]) for r in timed}):
        ms = {r["method"]: r["median_ms"] for r in timed if (r["H"], r["V"], r["N"]) == (h, v, n)}
        if "rdpt:triton" in ms and "rdpt:cublas" in ms:
            faster = "cublas" if ms["rdpt:cublas"] < ms["rdpt:triton"] else "triton"
            ratio = ms["rdpt:triton"] / ms["rdpt:cublas"]
            out.append({"H": h, "V": v, "N": n, "faster": faster, "triton_over_cublas_time": ratio})
    return out


def _versions() -> dict[str, str | None]:
    def version(mod: str) -> str | None:
        if importlib.util.find_spec(mod) is None:
            return None
        return getattr(__import__(mod), "__version__", None)

    names = ("triton", "transformers", "liger_kernel", "cut_cross_entropy", "flash_attn")
    return {"torch": torch.__version__, "cuda": torch.version.cuda, **{m: version(m) for m in names}}


def _attach_results(step: dict[str, Any], result: dict[str, Any], out_dir: Path, since: float) -> None:
    if step["name"] == "head" and result["ok"]:
        files = [p for p in out_dir.glob("head-cuda-*.json") if p.stat().st_mtime >= since]
        if files:
            rows = json.loads(max(files, key=lambda p: p.stat().st_mtime).read_text())["rows"]
            result["rows"] = rows
            result["crossover"] = crossover(rows)
    if "json" in step and Path(step["json"]).exists():
        result["result"] = json.loads(Path(step["json"]).read_text())


def main(argv: list[str] | None = None) -> int:
    """Entry point; exit code 1 when a step failed (the JSON is written either way)."""
    p = argparse.ArgumentParser(prog="rdpt-fast bench gpu", description=__doc__.split("\n\n")[0])
    p.add_argument("--dry-run", action="store_true", help="everything up to the CUDA calls (any machine)")
    p.add_argument("--out", type=Path, default=RESULTS_DIR, help="results folder")
    p.add_argument("--data", help="folder of the trace corpora (default: ../shared/data/traces)")
    p.add_argument("--steps", default="tests,head,e2e", help="comma-separated subset of tests,head,e2e")
    args = p.parse_args(argv)
    if not args.dry_run and not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU here: use --dry-run to check the plan on a CPU machine")
    args.out.mkdir(parents=True, exist_ok=True)
    wanted = {s.strip() for s in args.steps.split(",") if s.strip()}
    device = "cuda" if not args.dry_run else "cpu"
    results = {
        **run_header("gpu", argv, device),
        "dry_run": args.dry_run,
        "versions": _versions(),
        "steps": [],
    }
    for step in plan(args.out, args.data):
        if step["name"] not in wanted:
            continue
        argv_run = dry_argv(step) if args.dry_run else step["argv"]
        if argv_run is None:
            results["steps"].append(
                {"name": step["name"], "command": " ".join(step["argv"]), "planned": True}
            )
            continue
        since = time.time()
        result = run_step(step, argv_run, LIMITS[step["name"]])
        _attach_results(step, result, args.out, since)
        results["steps"].append(result)
        print(f"[{step['name']}] rc={result['rc']} {result['seconds']} s", flush=True)
    for c in next((s.get("crossover", []) for s in results["steps"] if s["name"] == "head"), []):
        print(f"crossover H={c['H']} V={c['V']} N={c['N']}: {c['faster']} faster "
              f"(triton/cublas time {c['triton_over_cublas_time']:.2f})")  # fmt: skip
    stem = (
        "gpu-check-dry-run"
        if args.dry_run
        else "gpu-check-" + results["machine"]["device_name"].replace(" ", "_")
    )
    path = save_results(results, args.out, stem)
    print(f"results written to {path}")
    return 0 if all(s.get("ok", True) for s in results["steps"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
