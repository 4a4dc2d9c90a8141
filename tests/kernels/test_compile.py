"""Ahead-of-time compile check of every shipped kernel for sm_90 and sm_80 (no GPU needed).

The interpreter tests check numbers; this checks what the interpreter cannot: that the kernels compile
for real GPUs, that the bf16/fp16 variants autotuning can pick do not spill, that shared memory fits a
block, and that the main loop runs on wgmma on Hopper. The CI subset takes about 2.5 minutes on 2 cores;
the full sweep (every config x dtype x flag) is marked ``full_sweep`` and deselected by default
(``pytest -m full_sweep tests/kernels/test_compile.py`` runs it, as does ``rdpt-fast bench compile``).
"""

from __future__ import annotations

import importlib.util

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="triton is not installed")

from rdpt_fast.bench.compile import SMEM_LIMIT, compile_all, mma_class, problems  # noqa: E402
from rdpt_fast.bench.compile_variants import all_variants, ci_subset  # noqa: E402


def _check(rows: list[dict]) -> None:
    bad = problems(rows)
    assert not bad, "\n".join(bad)
    # independent restatement of the rules, straight from the rows
    for r in rows:
        assert r["ok"] and r["shared"] <= SMEM_LIMIT[r["arch"]]
        if r["dtype"] != "fp32" and r["pickable"]:
            assert r["n_spills"] == 0, r
        if r["arch"] == "sm_90" and r["main_loop"] and r["dtype"] != "fp32":
            assert r["mma"] == "wgmma", r


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["sm_90", "sm_80"])
def test_ci_subset_compiles_clean(arch: str) -> None:
    variants = ci_subset()
    rows = compile_all(variants, arch)
    _check(rows)
    # the subset covers every autotune config for bf16, and fp16/fp32 are present
    from rdpt_fast.kernels.head_configs import AUTOTUNE_CONFIGS

    bf16 = {r["config"] for r in rows if r["dtype"] == "bf16" and r["main_loop"]}
    wanted = {f"autotune[{i}]" for i, t in enumerate(AUTOTUNE_CONFIGS) if "bf16" in t.dtypes}
    assert wanted <= bf16
    assert {r["dtype"] for r in rows if r["main_loop"]} == {"bf16", "fp16", "fp32"}
    if arch == "sm_90":  # the fp32 path is the 3xTF32 split on tensor cores, not FFMA
        assert all(r["mma"] == "wgmma" for r in rows if r["main_loop"])


@pytest.mark.full_sweep
@pytest.mark.parametrize("arch", ["sm_90", "sm_80"])
def test_full_sweep_compiles_clean(arch: str) -> None:
    _check(compile_all(all_variants(), arch))


def test_rules_flag_each_violation() -> None:
    base = {"arch": "sm_90", "kernel": "k:f", "dtype": "bf16", "config": "c", "flags": "none", "ok": True,
            "n_spills": 0, "shared": 1024, "mma": "wgmma", "pickable": ("long",),
            "main_loop": True}  # fmt: skip
    assert problems([base]) == []
    assert "compile error" in problems([{**base, "ok": False, "error": "boom"}])[0]
    assert "spills" in problems([{**base, "n_spills": 8}])[0]
    assert problems([{**base, "n_spills": 8, "pickable": ()}]) == []  # not pickable: reported, not fatal
    assert problems([{**base, "n_spills": 8, "dtype": "fp32"}]) == []
    assert "shared memory" in problems([{**base, "shared": 232449}])[0]
    assert problems([{**base, "arch": "sm_80", "shared": 166912, "mma": "mma.sync"}]) == []
    assert "shared memory" in problems([{**base, "arch": "sm_80", "shared": 166913, "mma": "mma.sync"}])[0]
    assert "instead of wgmma" in problems([{**base, "mma": "mma.sync"}])[0]
    assert problems([{**base, "mma": "FFMA", "main_loop": False}]) == []


def test_mma_class() -> None:
    assert mma_class("wgmma.mma_async.sync.aligned.m64n64k16") == "wgmma"
    assert mma_class("mma.sync.aligned.m16n8k16.row.col") == "mma.sync"
    assert mma_class("fma.rn.f32") == "FFMA"


def test_variant_lists_are_consistent() -> None:
    full = {v.unit_key for v in all_variants()}
    assert {v.unit_key for v in ci_subset()} <= full
    assert len(full) > len({v.unit_key for v in ci_subset()})
