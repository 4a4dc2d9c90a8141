"""One-pass epilogue over a float32 logits chunk (the cuBLAS-chunked backend): per-row log-sum-exp, target
log-prob, entropy and top-1, with bias / scale / softcap applied on the fly.

One program per row walks the row's vocabulary in BLOCK_V tiles (only the last tile is masked), keeping an
online log-sum-exp in base 2 (``exp2``, log2(e) folded into the scale). The target logit is read once
from the buffer and transformed like the tiles. No atomics: per-segment sums are reduced afterwards by
``kernels.segment_sum`` (deterministic).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .head_tiles import LN2, LOG2E, transform

IGNORE_INDEX = tl.constexpr(-100)
TOP1_ATOL = tl.constexpr(1e-4)
TOP1_RTOL = tl.constexpr(1e-5)
EPILOGUE_BLOCK_V = 2048
EPILOGUE_WARPS = 8


@triton.jit
def _row_step(y, m, s, t, WITH_ENTROPY: tl.constexpr, MASKED: tl.constexpr):
    m_new = tl.maximum(m, tl.max(y, 0))
    alpha = tl.exp2(m - m_new)
    p = tl.exp2(y - m_new)
    s = s * alpha + tl.sum(p, 0)
    if WITH_ENTROPY:
        py = tl.where(p > 0, p * y, 0.0) if MASKED else p * y
        t = t * alpha + tl.sum(py, 0)
    return m_new, s, t


@triton.jit
def _epilogue_kernel(
    logits_ptr,
    bias_ptr,
    targets_ptr,
    token_lp_ptr,
    entropy_ptr,
    top1_ptr,
    V,
    stride_row,
    pre_scale,
    post_scale,
    HAS_BIAS: tl.constexpr,
    HAS_SOFTCAP: tl.constexpr,
    WITH_ENTROPY: tl.constexpr,
    WITH_TOP1: tl.constexpr,
    BLOCK_V: tl.constexpr,
):
    row = tl.program_id(0)
    base = logits_ptr + row.to(tl.int64) * stride_row
    m = tl.full([], float("-inf"), tl.float32)
    s = tl.zeros([], tl.float32)
    t = tl.zeros([], tl.float32)
    n_full = V // BLOCK_V
    for i in range(0, n_full):
        cols = i * BLOCK_V + tl.arange(0, BLOCK_V)
        b = tl.load(bias_ptr + cols) if HAS_BIAS else 0.0
        y = transform(tl.load(base + cols), b, pre_scale, post_scale, HAS_BIAS, HAS_SOFTCAP)
        m, s, t = _row_step(y, m, s, t, WITH_ENTROPY, False)
    if n_full * BLOCK_V < V:
        cols = n_full * BLOCK_V + tl.arange(0, BLOCK_V)
        ok = cols < V
        b = tl.load(bias_ptr + cols, mask=ok, other=0.0) if HAS_BIAS else 0.0
        y = transform(
            tl.load(base + cols, mask=ok, other=0.0), b, pre_scale, post_scale, HAS_BIAS, HAS_SOFTCAP
        )
        y = tl.where(ok, y, float("-inf"))
        m, s, t = _row_step(y, m, s, t, WITH_ENTROPY, True)
    lse2 = m + tl.log2(s)

    tgt = tl.load(targets_ptr + row)
    valid = tgt != IGNORE_INDEX
    safe = tl.where(valid, tgt, 0)
    bt = tl.load(bias_ptr + safe) if HAS_BIAS else 0.0
    yt = transform(tl.load(base + safe), bt, pre_scale, post_scale, HAS_BIAS, HAS_SOFTCAP)
    tl.store(token_lp_ptr + row, tl.where(valid, (yt - lse2) * LN2, 0.0))
    if WITH_ENTROPY:
        tl.store(entropy_ptr + row, (lse2 - t / s) * LN2)
    if WITH_TOP1:
        tol = (TOP1_ATOL + TOP1_RTOL * tl.abs(m * LN2)) * LOG2E
        tl.store(top1_ptr + row, (valid & (yt >= m - tol)).to(tl.uint8))


def logits_epilogue(
    logits: torch.Tensor,
    targets: torch.Tensor,
    *,
    bias: torch.Tensor | None,
    pre_scale: float,
    post_scale: float,
    softcap: bool,
    token_lp: torch.Tensor,
    entropy: torch.Tensor | None,
    top1: torch.Tensor | None,
) -> None:
    """Fill token_lp [R] (and entropy [R] float32, top1 [R] uint8) from logits [R, V] float32 (unit column
    stride) and targets [R] int64 (-100 = ignored). Scales as in ``segment_logprobs.transform_scales``."""
    rows, vocab = logits.shape
    if rows == 0:
        return
    _epilogue_kernel[(rows,)](
        logits, bias if bias is not None else logits, targets, token_lp,
        entropy if entropy is not None else token_lp, top1 if top1 is not None else token_lp,
        vocab, logits.stride(0), pre_scale, post_scale,
        HAS_BIAS=bias is not None, HAS_SOFTCAP=softcap, WITH_ENTROPY=entropy is not None,
        WITH_TOP1=top1 is not None, BLOCK_V=EPILOGUE_BLOCK_V, num_warps=EPILOGUE_WARPS,
    )  # fmt: skip
