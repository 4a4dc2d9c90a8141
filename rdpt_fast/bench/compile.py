"""`rdpt-fast bench compile`: compile every shipped kernel variant ahead of time for a GPU target, no GPU.

Each variant (see rdpt_fast.bench.compile_variants) goes through ``triton.compile`` with an ``ASTSource``
and ``GPUTarget("cuda", arch, 32)``; ptxas from the triton wheel assembles it. Per variant: ok or the
compile error, registers and spill bytes (from ptxas' own report), shared memory, num_warps/num_stages,
and the MMA class of the PTX ("wgmma", "mma.sync", else "FFMA"). Arguments are specialized as the
launcher does at model shapes (aligned pointers, H / V / strides divisible by 16). A fresh triton cache
directory is used so every variant is really compiled (a cache hit would carry no ptxas report).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from rdpt_fast.bench.common import run_header
from rdpt_fast.bench.compile_variants import Variant, all_variants, attrs_of, ci_subset, signature_of

ARCHS = {"sm_80": 80, "sm_90": 90, "sm_100": 100}
# Largest dynamic shared memory one block may use (bytes): A100 163 KiB, H100/H200 and B200 227 KiB.
SMEM_LIMIT = {"sm_80": 166912, "sm_90": 232448, "sm_100": 232448}

_REGS = re.compile(r"Used (\d+) registers")
_SPILLS = re.compile(r"(\d+) bytes spill stores, (\d+) bytes spill loads")


def mma_class(ptx: str) -> str:
    """The tensor-core instruction class used by a PTX listing (tcgen05: Blackwell's MMA)."""
    if "tcgen05.mma" in ptx:
        return "tcgen05"
    if "wgmma" in ptx:
        return "wgmma"
    if "mma.sync" in ptx:
        return "mma.sync"
    return "FFMA"


def _init_worker(cache_dir: str) -> None:
    os.environ["TRITON_CACHE_DIR"] = cache_dir
    os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")


def compile_variant(variant: Variant, arch: str) -> dict[str, Any]:
    """Compile one variant for ``arch``; never raises (an error is reported in the row)."""
    import importlib

    import triton
    from triton import knobs
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    row: dict[str, Any] = {**variant.as_dict(), "arch": arch}
    module, name = variant.kernel.split(":", 1)
    fn = getattr(importlib.import_module(f"rdpt_fast.kernels.{module}"), name)
    attrs = attrs_of(variant, fn.arg_names)
    src = ASTSource(fn=fn, signature=signature_of(variant), constexprs=variant.constexprs, attrs=attrs)
    options = {"num_warps": variant.num_warps, "num_stages": variant.num_stages}
    knobs.nvidia.dump_ptxas_log = True
    log = io.StringIO()
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stdout(log):
            kernel = triton.compile(src, target=GPUTarget("cuda", ARCHS[arch], 32), options=options)
    except Exception as exc:  # a compile error is a result, not a crash
        return {**row, "ok": False, "error": f"{type(exc).__name__}: {str(exc)[-1500:]}"}
    text = log.getvalue()
    regs = _REGS.findall(text)
    spills = _SPILLS.findall(text)
    return {
        **row,
        "ok": True,
        "error": None,
        "n_regs": int(regs[-1]) if regs else None,
        "n_spills": int(spills[-1][0]) + int(spills[-1][1]) if spills else None,
        "shared": int(kernel.metadata.shared),
        "mma": mma_class(kernel.asm["ptx"]),
        "compile_s": round(time.perf_counter() - t0, 2),
    }


def _star(args: tuple[Variant, str]) -> dict[str, Any]:
    return compile_variant(*args)


def compile_all(variants: list[Variant], arch: str, workers: int | None = None) -> list[dict[str, Any]]:
    """Compile ``variants`` for ``arch`` in a process pool (at most 2 workers by default); rows in order.

    Variants that are the same compile unit (e.g. the fixed test config equal to an autotune entry) are
    compiled once and share the measurements."""
    workers = workers or max(1, min(2, os.cpu_count() or 1))
    unique: dict[str, Variant] = {}
    for v in variants:
        unique.setdefault(v.unit_key, v)
    with (
        tempfile.TemporaryDirectory(prefix="rdpt-compile-") as cache,
        ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(cache,)) as pool,
    ):
        done = dict(zip(unique, pool.map(_star, [(v, arch) for v in unique.values()])))
    measured = ("ok", "error", "n_regs", "n_spills", "shared", "mma", "compile_s")
    return [{**v.as_dict(), "arch": arch, **{k: done[v.unit_key].get(k) for k in measured}} for v in variants]


def problems(rows: list[dict[str, Any]]) -> list[str]:
    """Rule violations (empty: all good): compile errors; spills in a pickable bf16/fp16 variant; shared
    memory over the per-block limit; a bf16/fp16 main-loop variant on sm_90 without wgmma."""
    out = []
    for r in rows:
        what = f"{r['arch']} {r['kernel']} {r['dtype']} {r['config']} {r['flags']}"
        if not r["ok"]:
            out.append(f"{what}: compile error: {r['error'][:300]}")
            continue
        low = r["dtype"] in ("bf16", "fp16")
        if low and r["pickable"] and r["n_spills"]:
            out.append(f"{what}: spills {r['n_spills']} bytes")
        if r["shared"] > SMEM_LIMIT[r["arch"]]:
            out.append(f"{what}: shared memory {r['shared']} > {SMEM_LIMIT[r['arch']]}")
        if low and r["main_loop"] and r["arch"] == "sm_90" and r["mma"] != "wgmma":
            out.append(f"{what}: {r['mma']} instead of wgmma")
    return out


def render_table(rows: list[dict[str, Any]]) -> str:
    """One fixed-width table of compile results."""
    head = ("arch", "kernel", "dtype", "config", "flags", "tile VxNxH", "warps/st", "ok", "regs", "spill",
            "smem", "mma", "picked for")  # fmt: skip
    lines = []
    for r in rows:
        c = r["constexprs"]
        tile = f"{c['BLOCK_V']}x{c['BLOCK_N']}x{c['BLOCK_H']}" if "BLOCK_N" in c else "-"
        lines.append((
            r["arch"], r["kernel"].split(":")[1].strip("_"), r["dtype"], r["config"], r["flags"], tile,
            f"{r['num_warps']}/{r['num_stages']}", "ok" if r["ok"] else "ERROR",
            str(r.get("n_regs", "")), str(r.get("n_spills", "")), str(r.get("shared", "")),
            r.get("mma", ""), ",".join(r["pickable"]) or "-",
        ))  # fmt: skip
    widths = [max(len(h), *(len(x[i]) for x in lines)) if lines else len(h) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), *(fmt.format(*x) for x in lines)]) + "\n"


def summary(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Counts: variants, ok, with spills, and per MMA class."""
    ok = [r for r in rows if r["ok"]]
    return {
        "variants": len(rows),
        "ok": len(ok),
        "errors": len(rows) - len(ok),
        "spilling": sum(1 for r in ok if r["n_spills"]),
        **{cls: sum(1 for r in ok if r["mma"] == cls) for cls in ("wgmma", "tcgen05", "mma.sync", "FFMA")},
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``rdpt-fast bench compile``; exit code 1 when a rule is violated."""
    p = argparse.ArgumentParser(prog="rdpt-fast bench compile", description=__doc__.split("\n\n")[0])
    p.add_argument("--arch", choices=sorted(ARCHS), action="append", help="repeatable; default sm_90")
    p.add_argument("--subset", choices=["full", "ci"], default="full", help="full sweep or the CI subset")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the rows and summary as JSON")
    p.add_argument("--workers", type=int, help="compile processes (default min(2, cores))")
    args = p.parse_args(argv)
    import triton

    variants = all_variants() if args.subset == "full" else ci_subset()
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for arch in args.arch or ["sm_90"]:
        rows += compile_all(variants, arch, args.workers)
    print(render_table(rows), end="")
    bad = problems(rows)
    result = {
        **run_header("compile", argv),
        "triton_version": triton.__version__,
        "subset": args.subset,
        "seconds": round(time.perf_counter() - t0, 1),
        "summary": {arch: summary([r for r in rows if r["arch"] == arch]) for arch in args.arch or ["sm_90"]},
        "problems": bad,
        "rows": rows,
    }
    print(json.dumps(result["summary"]))
    for line in bad:
        print("PROBLEM:", line, file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
