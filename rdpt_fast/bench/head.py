"""Benchmark of LM-head scoring: every rdpt_fast backend, the peers, and the bare matmul floor.

Methods: the rdpt backends (triton = fused kernel, cublas = chunked float32 GEMM + Triton epilogue, torch,
reference = naive full logits), the peers, and the bare GEMM ``hidden @ weight.T`` (the floor). Each row
is one (shape, method): median milliseconds over ``--repeats`` timed calls (after a warm-up
call), tokens/s, achieved TFLOP/s counting 2*N*H*V flops, and peak extra memory:

* CUDA: ``torch.cuda.max_memory_allocated()`` during the timed calls minus the allocation before them.
* CPU: every row runs in its own subprocess; after the inputs exist and a warm-up call has run, the
  process's peak resident set (VmHWM) is reset through ``/proc/self/clear_refs`` and the extra memory is
  VmHWM after the timed calls minus VmRSS before them. Where clear_refs is not writable the row falls back
  to ``ru_maxrss`` minus the RSS measured before the warm-up (it then includes the warm-up's peak, which
  is the same computation). Page granularity: a few MiB of noise.

Peers (each only when installed, otherwise skipped with a note): cut-cross-entropy's
``linear_cross_entropy(..., reduction="none")`` (impl "cce" on GPU, "torch_compile" on CPU) and
Liger-Kernel's ``LigerFusedLinearCrossEntropyLoss(reduction="none")`` (Triton, GPU only).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from rdpt_fast.bench.common import RESULTS_DIR, proc_status_kib, reset_peak_rss, run_header, save_results

GPU_SHAPES = [
    (n, h, v)
    for n in (4096, 32768)
    for (h, v) in ((3584, 152064), (1536, 151936), (4096, 128256))  # Qwen2.5-7B, Qwen2.5-1.5B, Llama-3-8B
]
# CPU: the heads of Qwen2.5-0.5B / 1.5B / 7B (H 896, 1536, 3584) under the Llama-3 and Qwen vocabularies.
CPU_SHAPES = [(1024, h, v) for h in (896, 1536, 3584) for v in (128256, 151936)]
METHODS = (
    "rdpt:triton",
    "rdpt:cublas",
    "rdpt:torch",
    "rdpt:reference",
    "cut-cross-entropy",
    "liger-kernel",
    "matmul-floor",
)
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def _make_inputs(
    n: int, h: int, v: int, dtype: torch.dtype, device: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Seeded inputs, logit std ~3 (LM-like): hidden [N, H], weight [V, H], targets [N], 32-token segments."""
    g = torch.Generator(device="cpu").manual_seed(0)
    hidden = torch.randn(n, h, generator=g).to(device, dtype)
    weight = (torch.randn(v, h, generator=g) * (3.0 / h**0.5)).to(device, dtype)
    targets = torch.randint(0, v, (n,), generator=g).to(device)
    segment_ids = (torch.arange(n) // 32).to(device)
    return hidden, weight, targets, segment_ids, (n + 31) // 32


def _method_fn(method: str, n: int, h: int, v: int, dtype: torch.dtype, device: str) -> Callable[[], object]:
    """A zero-argument callable running ``method`` on fresh seeded inputs (inputs are allocated here)."""
    hidden, weight, targets, segment_ids, num_segments = _make_inputs(n, h, v, dtype, device)
    if method.startswith("rdpt:"):
        from rdpt_fast.head import segment_logprobs

        backend = method.split(":", 1)[1]
        return lambda: segment_logprobs(hidden, weight, targets, segment_ids, num_segments, backend=backend)
    if method == "matmul-floor":
        return lambda: hidden @ weight.T
    if method == "cut-cross-entropy":
        from cut_cross_entropy import linear_cross_entropy

        impl = "cce" if device == "cuda" else "torch_compile"
        return lambda: linear_cross_entropy(hidden, weight, targets, reduction="none", impl=impl)
    if method == "liger-kernel":
        from liger_kernel.transformers import LigerFusedLinearCrossEntropyLoss

        loss = LigerFusedLinearCrossEntropyLoss(reduction="none")
        return lambda: loss(weight, hidden, targets)
    raise ValueError(f"unknown method {method!r}")


def unavailable_reason(method: str, device: str) -> str | None:
    """Why ``method`` cannot run on ``device`` here, or None when it can."""
    if method == "rdpt:triton":
        if device != "cuda":
            return "triton backend needs a CUDA GPU"
        if importlib.util.find_spec("triton") is None:
            return "triton is not installed"
    if method == "cut-cross-entropy" and importlib.util.find_spec("cut_cross_entropy") is None:
        return "cut-cross-entropy is not installed"
    if method == "liger-kernel":
        if importlib.util.find_spec("liger_kernel") is None:
            return "liger-kernel is not installed"
        if device != "cuda":
            return "liger-kernel's fused linear cross-entropy is Triton GPU-only"
    return None


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def measure(method: str, n: int, h: int, v: int, dtype: torch.dtype, device: str, repeats: int) -> dict:
    """Time and measure one row in this process (CPU rows are meant to run in a fresh subprocess)."""
    fn = _method_fn(method, n, h, v, dtype, device)
    rss_before_warmup = proc_status_kib("VmRSS") if device == "cpu" else 0
    fn()  # warm-up: autotuning, compilation, lazy initialization
    _sync(device)
    gc.collect()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        memory_method = "torch.cuda.max_memory_allocated"
    else:
        base = proc_status_kib("VmRSS") * 1024
        memory_method = "VmHWM after clear_refs" if reset_peak_rss() else "ru_maxrss incl. warm-up"
        if memory_method.startswith("ru_maxrss"):
            base = rss_before_warmup * 1024
    times = []
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        out = fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
        del out
    if device == "cuda":
        peak = torch.cuda.max_memory_allocated() - base
    elif memory_method.startswith("VmHWM"):
        peak = proc_status_kib("VmHWM") * 1024 - base
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    median = statistics.median(times)
    return {
        "method": method,
        "N": n,
        "H": h,
        "V": v,
        "dtype": str(dtype).removeprefix("torch."),
        "median_ms": median * 1e3,
        "min_ms": min(times) * 1e3,
        "tokens_per_s": n / median,
        "tflops": 2.0 * n * h * v / median / 1e12,
        "peak_extra_mib": max(peak, 0) / 2**20,
        "memory_method": memory_method,
        "repeats": repeats,
    }


def _measure_in_subprocess(method: str, n: int, h: int, v: int, dtype_name: str, repeats: int) -> dict:
    spec = json.dumps({"method": method, "N": n, "H": h, "V": v, "dtype": dtype_name, "repeats": repeats})
    proc = subprocess.run(
        [sys.executable, "-m", "rdpt_fast.bench.head", "--worker", spec], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker for {method} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _parse_shapes(text: str) -> list[tuple[int, int, int]]:
    shapes = []
    for part in text.split(","):
        n, h, v = (int(x) for x in part.lower().split("x"))
        shapes.append((n, h, v))
    return shapes


def render_markdown(results: dict) -> str:
    """Markdown table of a results JSON (as written by ``main``), with speed and memory vs the reference."""
    lines = [
        f"LM head, {results['machine']['device_name']}, {results['date'][:10]}, `{results['command']}`; "
        f"torch {results['torch_version']}, {results['dtype']}, median of {results['repeats']} runs.",
        "",
        "| N x H x V | method | median ms | tokens/s | TFLOP/s | peak extra MiB | speed vs reference |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    rows = results["rows"]
    ref = {(r["N"], r["H"], r["V"]): r for r in rows if r["method"] == "rdpt:reference"}
    for r in rows:
        shape = f"{r['N']} x {r['H']} x {r['V']}"
        if "skipped" in r:
            lines.append(f"| {shape} | {r['method']} | skipped: {r['skipped']} | | | | |")
            continue
        base = ref.get((r["N"], r["H"], r["V"]))
        ratio = f"{base['median_ms'] / r['median_ms']:.2f}x" if base else ""
        lines.append(
            f"| {shape} | {r['method']} | {r['median_ms']:.1f} | {r['tokens_per_s']:,.0f} "
            f"| {r['tflops']:.2f} | {r['peak_extra_mib']:.1f} | {ratio} |"
        )
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rdpt-fast bench head", description=__doc__.split("\n\n")[0])
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument(
        "--shapes",
        help="comma-separated NxHxV (default: model heads on GPU, 1024x{896,1536,3584}x{128256,151936} CPU)",
    )
    p.add_argument("--dtype", choices=sorted(DTYPES), help="default bfloat16 on GPU, float32 on CPU")
    p.add_argument(
        "--methods", default=",".join(METHODS), help=f"comma-separated subset of {','.join(METHODS)}"
    )
    p.add_argument("--repeats", type=int, help="timed calls per row (default 20 on GPU, 5 on CPU)")
    p.add_argument(
        "--out", type=Path, default=RESULTS_DIR, help="results folder (file head-<device>-<date>.json)"
    )
    p.add_argument(
        "--render", type=Path, metavar="JSON", help="only print the Markdown table of a results file"
    )
    p.add_argument("--worker", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``rdpt-fast bench head``; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.worker:
        spec = json.loads(args.worker)
        row = measure(
            spec["method"], spec["N"], spec["H"], spec["V"], DTYPES[spec["dtype"]], "cpu", spec["repeats"]
        )
        print(json.dumps(row))
        return 0
    if args.render:
        print(render_markdown(json.loads(args.render.read_text())), end="")
        return 0

    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    shapes = _parse_shapes(args.shapes) if args.shapes else (GPU_SHAPES if device == "cuda" else CPU_SHAPES)
    dtype_name = args.dtype or ("bfloat16" if device == "cuda" else "float32")
    repeats = args.repeats or (20 if device == "cuda" else 5)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    for m in methods:
        if m not in METHODS:
            raise SystemExit(f"unknown method {m!r}; choose from {', '.join(METHODS)}")

    rows = []
    for n, h, v in shapes:
        for method in methods:
            reason = unavailable_reason(method, device)
            if reason:
                rows.append({"method": method, "N": n, "H": h, "V": v, "skipped": reason})
            elif device == "cpu":
                rows.append(_measure_in_subprocess(method, n, h, v, dtype_name, repeats))
            else:
                rows.append(measure(method, n, h, v, DTYPES[dtype_name], device, repeats))
                torch.cuda.empty_cache()
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)

    results = {
        **run_header("head", argv, device),
        "torch_version": torch.__version__,
        "triton_version": _version_of("triton"),
        "torch_threads": torch.get_num_threads(),
        "dtype": dtype_name,
        "repeats": repeats,
        "rows": rows,
    }
    out = save_results(results, args.out, f"head-{device}")
    print(render_markdown(results), end="")
    print(f"results written to {out}")
    return 0


def _version_of(module: str) -> str | None:
    if importlib.util.find_spec(module) is None:
        return None
    return getattr(__import__(module), "__version__", None)


if __name__ == "__main__":
    raise SystemExit(main())
