"""The compile-check table in docs/gpu.md is rendered from the saved JSON (worst case over flags)."""

from __future__ import annotations

from rdpt_fast.bench.tables import compile_table


def _row(arch: str, flags: str, regs: int, spills: int, ok: bool = True) -> dict:
    return {"arch": arch, "kernel": "segment_logprobs:_partials_kernel", "dtype": "bf16",
            "config": "autotune[0]", "flags": flags, "ok": ok, "n_regs": regs, "n_spills": spills,
            "shared": 122880, "mma": "wgmma", "pickable": ["long", "short"], "num_warps": 8,
            "num_stages": 3, "constexprs": {"BLOCK_V": 256, "BLOCK_N": 64, "BLOCK_H": 64}}  # fmt: skip


def test_compile_table_worst_case_per_config() -> None:
    counts = {"variants": 2, "ok": 2, "errors": 0, "spilling": 0, "wgmma": 2, "mma.sync": 0, "FFMA": 0}
    results = {
        "triton_version": "3.9.0", "date": "2026-12-01T00:00:00+00:00", "subset": "full",
        "command": "rdpt-fast bench compile --arch sm_90", "summary": {"sm_90": counts},
        "rows": [_row("sm_90", "none", 161, 0), _row("sm_90", "bias+softcap+entropy", 232, 0)],
    }  # fmt: skip
    table = compile_table(results)
    assert "**sm_90**: 2 variants, 2 compiled, 0 errors, 0 with spills; MMA class: wgmma 2" in table
    assert (
        "| partials_kernel | bf16 | autotune[0] | 256x64x64 | 8/3 | long, short | 232 | 0 | 120 | wgmma |"
        in table
    )
