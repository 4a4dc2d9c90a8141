"""Tile configurations of the fused head kernel: the autotune list, its pruning by N, and fixed configs.

The partials kernel computes logits transposed, ``[BLOCK_V, BLOCK_N] = W_tile @ h_tile^T``, so that the
vocabulary is the MMA's M dimension (>= 64 rows per warpgroup, as Hopper's wgmma needs) for every N, and
the token count only sets the MMA's N dimension (8..256). Every config here is compile-checked for sm_90 and
sm_80 (``rdpt-fast bench compile``, tests/kernels/test_compile.py): no compile error, no register spills in
bf16/fp16, shared memory within the per-block limit, wgmma on sm_90. Configs that failed were removed.

This module does not import triton at import time beyond ``triton.Config``.
"""

from __future__ import annotations

from dataclasses import dataclass

import triton


@dataclass(frozen=True)
class KernelConfig:
    """Explicit tile configuration (bypasses autotuning); block sizes are powers of two >= 16."""

    block_n: int = 32
    block_v: int = 64
    block_h: int = 32
    group_n: int = 4
    num_warps: int = 4
    num_stages: int = 2

    def as_triton(self) -> triton.Config:
        meta = {"BLOCK_N": self.block_n, "BLOCK_V": self.block_v, "BLOCK_H": self.block_h}
        meta["GROUP_N"] = self.group_n
        return triton.Config(meta, num_warps=self.num_warps, num_stages=self.num_stages)


# Fixed configuration used under the interpreter, where autotuning would only cost time.
INTERPRETER_CONFIG = KernelConfig(block_n=32, block_v=64, block_h=32, group_n=2)
# Fixed configuration for GPU tests: one compile per dtype/flag set (keeps the GPU check within budget).
TEST_CONFIG = KernelConfig(block_n=64, block_v=128, block_h=64, group_n=8, num_warps=8, num_stages=3)

# (BLOCK_V, BLOCK_N, BLOCK_H, GROUP_N, num_warps, num_stages, input dtypes). Kept because they compile
# without spills and with wgmma on sm_90 (fp32 runs the 3xTF32 split, which needs smaller tiles). Removed
# after the compile check: 128x128x64 (spills 36 bytes with every feature on), the fp32 128x128 / 256x64 /
# 128x16x64 tiles (spills of 0.1-3.4 KB), bf16/fp16 128x64x64 with 8 warps (28 bytes on sm_80 with
# softcap + entropy).
_LOW = ("bf16", "fp16")
_TILES = (
    (256, 64, 64, 8, 8, 3, _LOW),  # long traces: 256 vocab rows per tile, two warpgroups
    (128, 128, 32, 8, 8, 3, _LOW),
    (128, 64, 64, 8, 8, 3, ("fp32",)),  # bf16/fp16: ptxas caps it at 128 registers on sm_80 and spills
    (128, 64, 64, 8, 4, 4, _LOW),
    (128, 32, 64, 4, 4, 4, _LOW),  # short batches: vocab stays the 128-row MMA dimension
    (128, 16, 64, 4, 4, 4, _LOW),
    (128, 32, 32, 4, 4, 3, ("fp32",)),
    (128, 16, 32, 4, 4, 3, ("fp32",)),
)


@dataclass(frozen=True)
class TunedConfig:
    """An autotune entry: a tile config and the input dtypes ("bf16", "fp16", "fp32") it is tuned for."""

    config: KernelConfig
    dtypes: tuple[str, ...]


AUTOTUNE_CONFIGS: list[TunedConfig] = [
    TunedConfig(KernelConfig(block_n=bn, block_v=bv, block_h=bh, group_n=g, num_warps=w, num_stages=s), dt)
    for bv, bn, bh, g, w, s, dt in _TILES
]
# H is "even" (no masks on the H axis) when it is a multiple of this; every BLOCK_H divides it.
EVEN_H_MULTIPLE = 64
assert all(EVEN_H_MULTIPLE % t.config.block_h == 0 for t in AUTOTUNE_CONFIGS)
_SMALLEST_BLOCK_N = min(t.config.block_n for t in AUTOTUNE_CONFIGS)
_DTYPE_NAMES = {"torch.bfloat16": "bf16", "torch.float16": "fp16", "torch.float32": "fp32"}


def allowed_block_n(n_tokens: int) -> tuple[int, int]:
    """(min, max) BLOCK_N autotuning tries for n tokens: short batches never pay for padded token rows,
    long ones never run the small-N tiles (which re-read the weight N/BLOCK_N times)."""
    upper = max(_SMALLEST_BLOCK_N, triton.next_power_of_2(max(n_tokens, 1)))
    lower = 64 if n_tokens >= 2048 else _SMALLEST_BLOCK_N
    return lower, upper


def pickable(tuned: TunedConfig, dtype: str, n_tokens: int) -> bool:
    """Whether autotuning can pick ``tuned`` for inputs of ``dtype`` ("bf16"...) and n tokens."""
    lower, upper = allowed_block_n(n_tokens)
    return dtype in tuned.dtypes and lower <= tuned.config.block_n <= upper


def prune_configs(configs: list[triton.Config], named_args: dict, **kwargs: object) -> list[triton.Config]:
    """``early_config_prune`` for the partials kernel: keep the configs tuned for the input dtype whose
    BLOCK_N suits N (never empty: falls back to the dtype's smallest BLOCK_N)."""
    dtype = _DTYPE_NAMES[str(named_args["hidden_ptr"].dtype)]
    n_tokens = int(named_args["N"])
    by_key = {_key(t.config.as_triton()): t for t in AUTOTUNE_CONFIGS}
    mine = [c for c in configs if dtype in by_key[_key(c)].dtypes]
    kept = [c for c in mine if pickable(by_key[_key(c)], dtype, n_tokens)]
    return kept or [min(mine, key=lambda c: c.kwargs["BLOCK_N"])]


def _key(c: triton.Config) -> tuple:
    return (*sorted(c.kwargs.items()), c.num_warps, c.num_stages)


def autotune_configs() -> list[triton.Config]:
    """The autotune list as ``triton.Config`` objects."""
    return [t.config.as_triton() for t in AUTOTUNE_CONFIGS]
