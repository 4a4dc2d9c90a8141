"""Fused LM-head scoring kernel: per-token log-probs and per-segment sums without materializing logits.

Two launches per call, both O(N) in extra memory:

1. ``_partials_kernel``: one program per (token block, vocab split). It tiles tokens x vocab, computes
   logits with ``tl.dot`` (fp32 accumulation), applies bias / scale / softcap, and keeps an online
   log-sum-exp (running max ``m`` and rescaled sum ``s``) across its vocab tiles, plus the running sum of
   ``exp(logit - m) * logit`` when entropy is requested. The program whose vocab range holds a token's
   target stores that target's logit. Partials are written to ``[num_splits, N]`` buffers.
2. ``_finalize_kernel``: merges the split partials per token (O(N x num_splits)), writes the per-token
   outputs and atomically adds log-probs and counts into the per-segment sums.

The partials launch is idempotent (plain stores), so it is safe to autotune; the atomics live only in the
finalize launch. Short batches (N in the hundreds) split the vocab across programs so that the GPU is
filled; long traces use one split and grouped program ordering so that concurrently running programs
read the same weight tiles from L2.

Under ``TRITON_INTERPRET=1`` (set before triton is imported) the kernels run on CPU tensors with a fixed
configuration; bf16 arithmetic is not faithful there, so bf16 is only meaningful on a GPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import triton
import triton.language as tl

IGNORE_INDEX = tl.constexpr(-100)

# Vocab split sizes are multiples of this, so that every autotune config's BLOCK_V tiles a split exactly
# (except at the end of the vocabulary).
_SPLIT_ALIGN = 256
# A split covers at least this many vocab entries: below it the LSE-merge overhead outweighs parallelism.
_MIN_SPLIT_VOCAB = 4096
# Nominal token block used to size the split count before the autotuner picks BLOCK_N.
_NOMINAL_BLOCK_N = 64


def interpreting() -> bool:
    """True when triton runs kernels in its CPU interpreter (``TRITON_INTERPRET=1``)."""
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


@dataclass(frozen=True)
class KernelConfig:
    """Explicit tile configuration (bypasses autotuning); block sizes must be powers of two >= 16."""

    block_n: int = 32
    block_v: int = 64
    block_h: int = 32
    group_n: int = 4
    num_warps: int = 4
    num_stages: int = 2


# Fixed configuration used under the interpreter, where autotuning would only cost time.
INTERPRETER_CONFIG = KernelConfig(block_n=32, block_v=64, block_h=32, group_n=2)

_AUTOTUNE_CONFIGS = [
    triton.Config({"BLOCK_N": 128, "BLOCK_V": 128, "BLOCK_H": 64, "GROUP_N": 8}, num_warps=8, num_stages=3),
    triton.Config({"BLOCK_N": 128, "BLOCK_V": 256, "BLOCK_H": 32, "GROUP_N": 8}, num_warps=8, num_stages=3),
    triton.Config({"BLOCK_N": 64, "BLOCK_V": 256, "BLOCK_H": 64, "GROUP_N": 8}, num_warps=8, num_stages=3),
    triton.Config({"BLOCK_N": 64, "BLOCK_V": 128, "BLOCK_H": 64, "GROUP_N": 8}, num_warps=4, num_stages=4),
    triton.Config({"BLOCK_N": 32, "BLOCK_V": 256, "BLOCK_H": 64, "GROUP_N": 4}, num_warps=4, num_stages=4),
    triton.Config({"BLOCK_N": 16, "BLOCK_V": 256, "BLOCK_H": 128, "GROUP_N": 4}, num_warps=4, num_stages=3),
]


@triton.jit
def _tanh(x):
    # tanh without libdevice (portable to the interpreter); exact at +-inf, no overflow.
    e = tl.exp(-2.0 * tl.abs(x))
    r = (1.0 - e) / (1.0 + e)
    return tl.where(x >= 0, r, -r)


@triton.jit
def _partials_kernel(
    hidden_ptr,
    weight_ptr,
    bias_ptr,
    targets_ptr,
    part_m_ptr,
    part_s_ptr,
    part_t_ptr,
    tgt_logit_ptr,
    N,
    V,
    H,
    split_size,
    num_splits,
    stride_hn,
    stride_wv,
    logit_scale,
    softcap,
    n_bucket,  # autotune key only: log2 bucket of N, so that every new trace length is not re-tuned
    HAS_BIAS: tl.constexpr,
    HAS_SOFTCAP: tl.constexpr,
    WITH_ENTROPY: tl.constexpr,
    IEEE_DOT: tl.constexpr,
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
    rows64 = rows.to(tl.int64)
    tgt = tl.load(targets_ptr + rows, mask=row_mask, other=IGNORE_INDEX)

    v_start = pid_split * split_size
    v_end = tl.minimum(v_start + split_size, V)

    m = tl.full([BLOCK_N], float("-inf"), tl.float32)
    s = tl.zeros([BLOCK_N], tl.float32)
    t = tl.zeros([BLOCK_N], tl.float32)
    tgt_logit = tl.zeros([BLOCK_N], tl.float32)

    for v0 in range(v_start, v_end, BLOCK_V):
        cols = v0 + tl.arange(0, BLOCK_V)
        col_mask = cols < v_end
        cols64 = cols.to(tl.int64)
        acc = tl.zeros([BLOCK_N, BLOCK_V], tl.float32)
        for k0 in range(0, H, BLOCK_H):
            ks = k0 + tl.arange(0, BLOCK_H)
            k_mask = ks < H
            a = tl.load(
                hidden_ptr + rows64[:, None] * stride_hn + ks[None, :],
                mask=row_mask[:, None] & k_mask[None, :],
                other=0.0,
            )
            b = tl.load(
                weight_ptr + cols64[None, :] * stride_wv + ks[:, None],
                mask=col_mask[None, :] & k_mask[:, None],
                other=0.0,
            )
            # float32 inputs: full-precision products (tf32 would cost ~1e-3 relative); a constexpr
            # branch kept as a statement so that only one tl.dot is traced
            if IEEE_DOT:  # noqa: SIM108
                acc = tl.dot(a, b, acc, input_precision="ieee")
            else:
                acc = tl.dot(a, b, acc)
        if HAS_BIAS:
            acc += tl.load(bias_ptr + cols, mask=col_mask, other=0.0)[None, :]
        acc = acc * logit_scale
        if HAS_SOFTCAP:
            acc = softcap * _tanh(acc / softcap)
        logits = tl.where(col_mask[None, :], acc, float("-inf"))

        m_new = tl.maximum(m, tl.max(logits, 1))
        alpha = tl.exp(m - m_new)
        p = tl.exp(logits - m_new[:, None])
        s = s * alpha + tl.sum(p, 1)
        if WITH_ENTROPY:
            t = t * alpha + tl.sum(p * tl.where(col_mask[None, :], logits, 0.0), 1)
        m = m_new
        tgt_logit += tl.sum(tl.where(cols[None, :] == tgt[:, None], logits, 0.0), 1)

    part = pid_split * N + rows64
    tl.store(part_m_ptr + part, m, mask=row_mask)
    tl.store(part_s_ptr + part, s, mask=row_mask)
    if WITH_ENTROPY:
        tl.store(part_t_ptr + part, t, mask=row_mask)
    owns_target = row_mask & (tgt >= v_start) & (tgt < v_end)
    tl.store(tgt_logit_ptr + rows, tgt_logit, mask=owns_target)


@triton.jit
def _finalize_kernel(
    part_m_ptr,
    part_s_ptr,
    part_t_ptr,
    tgt_logit_ptr,
    targets_ptr,
    segment_ids_ptr,
    token_lp_ptr,
    entropy_ptr,
    top1_ptr,
    seg_sum_ptr,
    seg_count_ptr,
    N,
    num_splits,
    WITH_ENTROPY: tl.constexpr,
    WITH_TOP1: tl.constexpr,
    BLOCK: tl.constexpr,
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
        w = tl.exp(tl.load(part_m_ptr + i * N + rows64, mask=mask, other=0.0) - big_m)
        big_s += w * tl.load(part_s_ptr + i * N + rows64, mask=mask, other=1.0)
        if WITH_ENTROPY:
            big_t += w * tl.load(part_t_ptr + i * N + rows64, mask=mask, other=0.0)
    lse = big_m + tl.log(big_s)

    tgt = tl.load(targets_ptr + rows, mask=mask, other=IGNORE_INDEX)
    valid = mask & (tgt != IGNORE_INDEX)
    x = tl.load(tgt_logit_ptr + rows, mask=valid, other=0.0)
    lp = tl.where(valid, x - lse, 0.0)
    tl.store(token_lp_ptr + rows, lp, mask=mask)
    if WITH_ENTROPY:
        tl.store(entropy_ptr + rows, lse - big_t / big_s, mask=mask)
    if WITH_TOP1:
        # The target logit is one of the values the max ran over, computed identically: top1 <=> x == max.
        tl.store(top1_ptr + rows, (valid & (x >= big_m)).to(tl.uint8), mask=mask)

    seg = tl.load(segment_ids_ptr + rows, mask=mask, other=-1)
    in_seg = valid & (seg >= 0)
    tl.atomic_add(seg_sum_ptr + seg, lp, mask=in_seg)
    tl.atomic_add(seg_count_ptr + seg, tl.full([BLOCK], 1, tl.int32), mask=in_seg)


_partials_autotuned = triton.autotune(
    configs=_AUTOTUNE_CONFIGS,
    key=["V", "H", "n_bucket", "num_splits", "HAS_SOFTCAP", "WITH_ENTROPY"],
)(_partials_kernel)

_FINALIZE_BLOCK = 256


@dataclass
class FusedResult:
    """Outputs of one fused call; tensors live on the input device.

    token_logprobs: [N] float32 (0.0 where the target is ignored). entropy: [N] float32 or None.
    top1: [N] bool or None. seg_sum: [S] float32. seg_count: [S] int32.
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
    values in [0, V) or -100; segment_ids [N] int32/int64 in [-1, num_segments); bias [V] float32 or None.
    ``num_splits`` / ``config`` override the automatic choices (tests use them to force vocab splits and
    small tiles); without ``config`` the partials kernel is autotuned (fixed config under the interpreter).
    """
    n_tokens, h_dim = hidden.shape
    vocab = weight.shape[0]
    device = hidden.device
    token_lp = torch.empty(n_tokens, dtype=torch.float32, device=device)
    entropy = torch.empty(n_tokens, dtype=torch.float32, device=device) if with_entropy else None
    top1 = torch.empty(n_tokens, dtype=torch.uint8, device=device) if with_top1 else None
    # One spare slot so that S == 0 still hands the kernel a valid pointer (never written: no id is >= 0).
    seg_sum = torch.zeros(num_segments + 1, dtype=torch.float32, device=device)
    seg_count = torch.zeros(num_segments + 1, dtype=torch.int32, device=device)
    if n_tokens > 0:
        splits = num_splits or choose_num_splits(n_tokens, vocab, device)
        split_size = triton.cdiv(triton.cdiv(vocab, splits), _SPLIT_ALIGN) * _SPLIT_ALIGN
        splits = triton.cdiv(vocab, split_size)  # no empty split after alignment
        part_m = torch.empty(splits, n_tokens, dtype=torch.float32, device=device)
        part_s = torch.empty_like(part_m)
        part_t = torch.empty_like(part_m) if with_entropy else part_m
        tgt_logit = torch.zeros(n_tokens, dtype=torch.float32, device=device)
        bias_arg = bias if bias is not None else part_m  # never read when HAS_BIAS is False
        args = (hidden, weight, bias_arg, targets, part_m, part_s, part_t, tgt_logit)
        kwargs = dict(
            N=n_tokens,
            V=vocab,
            H=h_dim,
            split_size=split_size,
            num_splits=splits,
            stride_hn=hidden.stride(0),
            stride_wv=weight.stride(0),
            logit_scale=float(logit_scale),
            softcap=float(softcap) if softcap is not None else 1.0,
            n_bucket=max(n_tokens - 1, 1).bit_length(),
            HAS_BIAS=bias is not None,
            HAS_SOFTCAP=softcap is not None,
            WITH_ENTROPY=with_entropy,
            IEEE_DOT=hidden.dtype == torch.float32,
        )
        if config is None and interpreting():
            config = INTERPRETER_CONFIG
        if config is None:

            def grid(meta: dict) -> tuple[int]:
                return (triton.cdiv(n_tokens, meta["BLOCK_N"]) * splits,)

            _partials_autotuned[grid](*args, **kwargs)
        else:
            grid_size = (triton.cdiv(n_tokens, config.block_n) * splits,)
            _partials_kernel[grid_size](
                *args,
                **kwargs,
                BLOCK_N=config.block_n,
                BLOCK_V=config.block_v,
                BLOCK_H=config.block_h,
                GROUP_N=config.group_n,
                num_warps=config.num_warps,
                num_stages=config.num_stages,
            )
        _finalize_kernel[(triton.cdiv(n_tokens, _FINALIZE_BLOCK),)](
            part_m,
            part_s,
            part_t,
            tgt_logit,
            targets,
            segment_ids,
            token_lp,
            entropy if entropy is not None else token_lp,
            top1 if top1 is not None else token_lp,
            seg_sum,
            seg_count,
            n_tokens,
            splits,
            WITH_ENTROPY=with_entropy,
            WITH_TOP1=with_top1,
            BLOCK=_FINALIZE_BLOCK,
        )
    return FusedResult(
        token_logprobs=token_lp,
        entropy=entropy,
        top1=top1.view(torch.bool) if top1 is not None else None,
        seg_sum=seg_sum[:num_segments],
        seg_count=seg_count[:num_segments],
    )
