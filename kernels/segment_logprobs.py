"""Fused LM-head scoring kernel: per-token log-probs and per-segment sums without materializing logits.

Three launches per call, all O(N) in extra memory and none with float atomics:

1. ``_partials_kernel``: one program per (token block, vocab split). It computes logits transposed,
   ``[BLOCK_V, BLOCK_N] = W_tile @ h_tile^T`` (vocab is the MMA's M dimension, so Hopper's wgmma is used
   for every N), applies bias / scale / softcap in base-2 units (log2(e) folded into the scale) and keeps an
   online log-sum-exp with ``exp2`` across its vocab tiles, plus the running sum of ``p * logit`` when
   entropy is requested. The (vocab tile, H step) loop is one flat loop, so the software pipeline keeps
   loading across vocab tiles instead of draining at each. Only the last tile of the vocabulary is
   masked. Partials go to ``[splits, N]``.
2. ``_finalize_kernel``: merges the split partials per token, gathers the target logit once (an fp32 dot of
   the token's hidden row with its target's weight row, not a compare in every tile) and writes the
   per-token log-prob, entropy and top-1.
3. ``kernels.segment_sum``: deterministic per-segment sums of the per-token log-probs (float64, one program
   per segment, fixed order): the same input gives the same bits.

top1 compares the gathered target logit with the tile maximum, which is computed by a different summation
order: a target within float32 rounding (1e-4 + 1e-5 relative, in nats) of the maximum counts as top-1.

Under ``TRITON_INTERPRET=1`` (set before triton is imported) the kernels run on CPU tensors with a fixed
configuration; bf16 arithmetic is not faithful there, so bf16 is only meaningful on a GPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import triton
import triton.language as tl

from .head_configs import (
    EVEN_H_MULTIPLE,
    INTERPRETER_CONFIG,
    TEST_CONFIG,
    KernelConfig,
    autotune_configs,
    prune_configs,
)
from .head_tiles import LN2, LOG2E, dot_step, logit_tile_t, transform, transform_scales
from .segment_sum import deterministic_segment_sums

__all__ = ["FusedResult", "KernelConfig", "choose_num_splits", "fused_segment_logprobs", "interpreting"]

_IGNORE = -100
IGNORE_INDEX = tl.constexpr(_IGNORE)
TOP1_ATOL = tl.constexpr(1e-4)
TOP1_RTOL = tl.constexpr(1e-5)

# Vocab split sizes are multiples of this, so that every config's BLOCK_V tiles a split exactly (only the
# split holding the end of the vocabulary has a ragged last tile).
_SPLIT_ALIGN = 256
# A split covers at least this many vocab entries: below it the LSE-merge overhead outweighs parallelism.
_MIN_SPLIT_VOCAB = 4096
# Nominal token block used to size the split count before the autotuner picks BLOCK_N.
_NOMINAL_BLOCK_N = 64
FINALIZE_BLOCK = 64
FINALIZE_BLOCK_H = 32


# Setting this environment variable to "test" makes every call use head_configs.TEST_CONFIG instead of
# autotuning (the GPU tests and the GPU check: one compile per dtype and flag set).
CONFIG_ENV = "RDPT_FAST_KERNEL_CONFIG"


def forced_config() -> KernelConfig | None:
    """The fixed config asked for through ``RDPT_FAST_KERNEL_CONFIG`` ("test"), else None."""
    name = os.environ.get(CONFIG_ENV, "")
    if name in ("", "auto"):
        return None
    if name != "test":
        raise ValueError(f"{CONFIG_ENV} must be 'test' or 'auto', got {name!r}")
    return TEST_CONFIG


def interpreting() -> bool:
    """True when triton runs kernels in its CPU interpreter (``TRITON_INTERPRET=1``)."""
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


@triton.jit
def _lse_step(y, m, s, t, WITH_ENTROPY: tl.constexpr, MASKED: tl.constexpr):
    """One vocab tile y [BLOCK_V, BLOCK_N] (base 2) into the running max m, sum s and sum t of p * y."""
    m_new = tl.maximum(m, tl.max(y, 0))
    alpha = tl.exp2(m - m_new)
    p = tl.exp2(y - m_new[None, :])
    s = s * alpha + tl.sum(p, 0)
    if WITH_ENTROPY:
        # masked entries are -inf with p == 0: keep 0 * -inf out of the sum
        py = tl.where(p > 0, p * y, 0.0) if MASKED else p * y
        t = t * alpha + tl.sum(py, 0)
    return m_new, s, t


@triton.jit
def _partials_kernel(
    hidden_ptr,
    weight_ptr,
    bias_ptr,
    part_m_ptr,
    part_s_ptr,
    part_t_ptr,
    N,
    V,
    H,
    split_size,
    num_splits,
    stride_hn,
    stride_wv,
    pre_scale,
    post_scale,
    n_bucket,  # autotune key only: log2 bucket of N, so that every new trace length is not re-tuned
    HAS_BIAS: tl.constexpr,
    HAS_SOFTCAP: tl.constexpr,
    WITH_ENTROPY: tl.constexpr,
    FP32_DOT: tl.constexpr,
    EVEN_H: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_V: tl.constexpr,
    BLOCK_H: tl.constexpr,
    GROUP_N: tl.constexpr,
):
    # Grouped ordering over (token block, vocab split): GROUP_N token blocks share a split's weight tiles.
    pid = tl.program_id(0)
    num_n_blocks = tl.cdiv(N, BLOCK_N)
    pids_per_group = GROUP_N * num_splits
    group_id = pid // pids_per_group
    first_n = group_id * GROUP_N
    group_size = tl.minimum(num_n_blocks - first_n, GROUP_N)
    pid_n = first_n + (pid % pids_per_group) % group_size
    pid_split = (pid % pids_per_group) // group_size

    rows = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    row_mask = rows < N
    rows64 = tl.minimum(rows, N - 1).to(tl.int64)  # clamped: padded rows recompute row N-1, never stored
    v_start = pid_split * split_size
    v_end = tl.minimum(v_start + split_size, V)
    n_full = (v_end - v_start) // BLOCK_V

    m = tl.full([BLOCK_N], float("-inf"), tl.float32)
    s = tl.zeros([BLOCK_N], tl.float32)
    t = tl.zeros([BLOCK_N], tl.float32)
    # One flat loop over (vocab tile, H step), so that the H pipeline does not drain between vocab tiles;
    # the epilogue runs after the last H step of each tile.
    n_k = tl.cdiv(H, BLOCK_H)
    acc = tl.zeros([BLOCK_V, BLOCK_N], tl.float32)
    for j in range(0, n_full * n_k):
        i = j // n_k
        k0 = (j - i * n_k) * BLOCK_H
        cols = v_start + i * BLOCK_V + tl.arange(0, BLOCK_V)
        acc = dot_step(acc, hidden_ptr, weight_ptr, rows64, cols.to(tl.int64), k0, H, stride_hn, stride_wv,
                       FP32_DOT, EVEN_H, BLOCK_H)  # fmt: skip
        if k0 + BLOCK_H >= H:
            b = tl.load(bias_ptr + cols)[:, None] if HAS_BIAS else 0.0
            y = transform(acc, b, pre_scale, post_scale, HAS_BIAS, HAS_SOFTCAP)
            m, s, t = _lse_step(y, m, s, t, WITH_ENTROPY, False)
            acc = tl.zeros([BLOCK_V, BLOCK_N], tl.float32)
    tail = v_start + n_full * BLOCK_V
    if tail < v_end:  # the ragged end of the vocabulary: the only masked tile
        cols = tail + tl.arange(0, BLOCK_V)
        col_ok = cols < v_end
        cols_c = tl.minimum(cols, V - 1)
        y = logit_tile_t(
            hidden_ptr, weight_ptr, rows64, cols_c.to(tl.int64), H, stride_hn, stride_wv,
            FP32_DOT, EVEN_H, BLOCK_V, BLOCK_N, BLOCK_H,
        )  # fmt: skip
        b = tl.load(bias_ptr + cols_c)[:, None] if HAS_BIAS else 0.0
        y = transform(y, b, pre_scale, post_scale, HAS_BIAS, HAS_SOFTCAP)
        y = tl.where(col_ok[:, None], y, float("-inf"))
        m, s, t = _lse_step(y, m, s, t, WITH_ENTROPY, True)

    part = pid_split * N + rows.to(tl.int64)
    tl.store(part_m_ptr + part, m, mask=row_mask)
    tl.store(part_s_ptr + part, s, mask=row_mask)
    if WITH_ENTROPY:
        tl.store(part_t_ptr + part, t, mask=row_mask)


@triton.jit
def _finalize_kernel(
    part_m_ptr,
    part_s_ptr,
    part_t_ptr,
    hidden_ptr,
    weight_ptr,
    bias_ptr,
    targets_ptr,
    token_lp_ptr,
    entropy_ptr,
    top1_ptr,
    N,
    H,
    num_splits,
    stride_hn,
    stride_wv,
    pre_scale,
    post_scale,
    HAS_BIAS: tl.constexpr,
    HAS_SOFTCAP: tl.constexpr,
    WITH_ENTROPY: tl.constexpr,
    WITH_TOP1: tl.constexpr,
    BLOCK: tl.constexpr,
    BLOCK_H: tl.constexpr,
):
    rows = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = rows < N
    rows64 = rows.to(tl.int64)

    big_m = tl.full([BLOCK], float("-inf"), tl.float32)
    for i in range(num_splits):
        big_m = tl.maximum(big_m, tl.load(part_m_ptr + i * N + rows64, mask=mask, other=0.0))
    big_s = tl.zeros([BLOCK], tl.float32)
    big_t = tl.zeros([BLOCK], tl.float32)
    for i in range(num_splits):
        w = tl.exp2(tl.load(part_m_ptr + i * N + rows64, mask=mask, other=0.0) - big_m)
        big_s += w * tl.load(part_s_ptr + i * N + rows64, mask=mask, other=1.0)
        if WITH_ENTROPY:
            big_t += w * tl.load(part_t_ptr + i * N + rows64, mask=mask, other=0.0)
    lse2 = big_m + tl.log2(big_s)

    # The target logit, gathered once: fp32 dot of the token's hidden row with its target's weight row.
    tgt = tl.load(targets_ptr + rows, mask=mask, other=IGNORE_INDEX)
    valid = mask & (tgt != IGNORE_INDEX)
    safe = tl.where(valid, tgt, 0).to(tl.int64)
    rows_c = tl.minimum(rows, N - 1).to(tl.int64)
    acc = tl.zeros([BLOCK], tl.float32)
    for k0 in range(0, H, BLOCK_H):
        ks = k0 + tl.arange(0, BLOCK_H)
        k_ok = ks[None, :] < H
        h = tl.load(hidden_ptr + rows_c[:, None] * stride_hn + ks[None, :], mask=k_ok, other=0.0)
        wt = tl.load(weight_ptr + safe[:, None] * stride_wv + ks[None, :], mask=k_ok, other=0.0)
        acc += tl.sum(h.to(tl.float32) * wt.to(tl.float32), 1)
    b = tl.load(bias_ptr + safe) if HAS_BIAS else 0.0
    y = transform(acc, b, pre_scale, post_scale, HAS_BIAS, HAS_SOFTCAP)

    lp = tl.where(valid, (y - lse2) * LN2, 0.0)
    tl.store(token_lp_ptr + rows, lp, mask=mask)
    if WITH_ENTROPY:
        tl.store(entropy_ptr + rows, (lse2 - big_t / big_s) * LN2, mask=mask)
    if WITH_TOP1:
        tol = (TOP1_ATOL + TOP1_RTOL * tl.abs(big_m * LN2)) * LOG2E
        tl.store(top1_ptr + rows, (valid & (y >= big_m - tol)).to(tl.uint8), mask=mask)


_partials_autotuned = triton.autotune(
    configs=autotune_configs(),
    key=["V", "H", "n_bucket", "num_splits", "HAS_BIAS", "HAS_SOFTCAP", "WITH_ENTROPY", "FP32_DOT"],
    prune_configs_by={"early_config_prune": prune_configs},
    cache_results=True,
)(_partials_kernel)


@dataclass
class FusedResult:
    """Outputs of one fused call; tensors live on the input device.

    token_logprobs: [N] float32 (0.0 where the target is ignored). entropy: [N] float32 or None.
    top1: [N] bool or None. seg_sum: [S] float32 (float64 accumulation, deterministic). seg_count: [S] int32.
    """

    token_logprobs: torch.Tensor
    entropy: torch.Tensor | None
    top1: torch.Tensor | None
    seg_sum: torch.Tensor
    seg_count: torch.Tensor


def _multiprocessor_count(device: torch.device) -> int:
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).multi_processor_count
    return 4  # interpreter: a small nominal machine so that short batches still exercise vocab splits


def choose_num_splits(n_tokens: int, vocab: int, device: torch.device) -> int:
    """Vocab splits so that roughly two programs per SM exist, each split >= _MIN_SPLIT_VOCAB entries."""
    n_blocks = triton.cdiv(max(n_tokens, 1), _NOMINAL_BLOCK_N)
    wanted = triton.cdiv(2 * _multiprocessor_count(device), n_blocks)
    return max(1, min(wanted, triton.cdiv(vocab, _MIN_SPLIT_VOCAB)))


def _launch_partials(args: tuple, kwargs: dict, n_tokens: int, splits: int, config: KernelConfig | None):
    if config is None:

        def grid(meta: dict) -> tuple[int]:
            return (triton.cdiv(n_tokens, meta["BLOCK_N"]) * splits,)

        _partials_autotuned[grid](*args, **kwargs)
        return
    _partials_kernel[(triton.cdiv(n_tokens, config.block_n) * splits,)](
        *args,
        **kwargs,
        BLOCK_N=config.block_n,
        BLOCK_V=config.block_v,
        BLOCK_H=config.block_h,
        GROUP_N=config.group_n,
        num_warps=config.num_warps,
        num_stages=config.num_stages,
    )


def fused_segment_logprobs(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    segment_ids: torch.Tensor,
    num_segments: int,
    *,
    bias: torch.Tensor | None,
    logit_scale: float,
    softcap: float | None,
    with_entropy: bool,
    with_top1: bool,
    num_splits: int | None = None,
    config: KernelConfig | None = None,
) -> FusedResult:
    """Launch the fused kernels on already validated inputs.

    hidden [N, H] and weight [V, H] share a float dtype and have unit stride in H; targets [N] int64 with
    values in [0, V) or -100; segment_ids [N] int64 in [-1, num_segments); bias [V] float32 or None.
    ``num_splits`` / ``config`` override the automatic choices (tests use them to force vocab splits and
    fixed tiles); without ``config`` the partials kernel is autotuned (fixed config under the interpreter
    or when ``RDPT_FAST_KERNEL_CONFIG=test``).
    """
    n_tokens, h_dim = hidden.shape
    vocab = weight.shape[0]
    device = hidden.device
    token_lp = torch.zeros(n_tokens, dtype=torch.float32, device=device)
    entropy = torch.empty(n_tokens, dtype=torch.float32, device=device) if with_entropy else None
    top1 = torch.empty(n_tokens, dtype=torch.uint8, device=device) if with_top1 else None
    if n_tokens > 0:
        if config is None:
            config = INTERPRETER_CONFIG if interpreting() else forced_config()
        splits = num_splits or choose_num_splits(n_tokens, vocab, device)
        split_size = triton.cdiv(triton.cdiv(vocab, splits), _SPLIT_ALIGN) * _SPLIT_ALIGN
        splits = triton.cdiv(vocab, split_size)  # no empty split after alignment
        part_m = torch.empty(splits, n_tokens, dtype=torch.float32, device=device)
        part_s = torch.empty_like(part_m)
        part_t = torch.empty_like(part_m) if with_entropy else part_m
        bias_arg = bias if bias is not None else part_m  # never read when HAS_BIAS is False
        pre_scale, post_scale = transform_scales(logit_scale, softcap)
        flags = dict(HAS_BIAS=bias is not None, HAS_SOFTCAP=softcap is not None, WITH_ENTROPY=with_entropy)
        block_h = config.block_h if config is not None else EVEN_H_MULTIPLE
        _launch_partials(
            (hidden, weight, bias_arg, part_m, part_s, part_t),
            dict(
                N=n_tokens, V=vocab, H=h_dim, split_size=split_size, num_splits=splits,
                stride_hn=hidden.stride(0), stride_wv=weight.stride(0), pre_scale=pre_scale,
                post_scale=post_scale, n_bucket=max(n_tokens - 1, 1).bit_length(), **flags,
                FP32_DOT=hidden.dtype == torch.float32, EVEN_H=h_dim % block_h == 0,
            ),
            n_tokens, splits, config,
        )  # fmt: skip
        _finalize_kernel[(triton.cdiv(n_tokens, FINALIZE_BLOCK),)](
            part_m, part_s, part_t, hidden, weight, bias_arg, targets, token_lp,
            entropy if entropy is not None else token_lp, top1 if top1 is not None else token_lp,
            n_tokens, h_dim, splits, hidden.stride(0), weight.stride(0), pre_scale, post_scale,
            **flags, WITH_TOP1=with_top1, BLOCK=FINALIZE_BLOCK, BLOCK_H=FINALIZE_BLOCK_H,
        )  # fmt: skip
    keep = (targets != _IGNORE) & (segment_ids >= 0)
    seg_sum, seg_count = deterministic_segment_sums(token_lp, keep, segment_ids, num_segments)
    return FusedResult(
        token_logprobs=token_lp,
        entropy=entropy,
        top1=top1.view(torch.bool) if top1 is not None else None,
        seg_sum=seg_sum,
        seg_count=seg_count,
    )
