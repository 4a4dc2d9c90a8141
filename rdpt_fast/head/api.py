"""Public head-scoring API: per-token and per-segment target log-probs from final hidden states.

logit = softcap * tanh(logit_scale * (h . w + b) / softcap) if softcap is set, else logit_scale * (h . w + b);
log p(target) = logit[target] - logsumexp(logits), computed in float32, in nats.
"""

from __future__ import annotations

from typing import Literal

import torch

from rdpt_fast.head.cublas_chunked import cublas_token_stats
from rdpt_fast.head.reference import reference_token_stats
from rdpt_fast.head.segment_reduction import reduce_segments
from rdpt_fast.head.torch_chunked import DEFAULT_CHUNK_BYTES, torch_token_stats
from rdpt_fast.head.torch_tiled import DEFAULT_TILE_BYTES, tiled_token_stats
from rdpt_fast.head.triton_backend import triton_available, triton_segment_scores
from rdpt_fast.head.types import SegmentScores, TokenStats
from rdpt_fast.head.validation import HeadInputs, validate_head_inputs, validate_segments

Backend = Literal["auto", "triton", "cublas", "torch", "reference"]
BACKENDS: tuple[str, ...] = ("auto", "triton", "cublas", "torch", "reference")
# The `auto` rule (the only place it lives): on CUDA with triton, batches of at least this many tokens go to
# the cuBLAS-chunked backend (GEMM-bound: cuBLAS is the faster GEMM), smaller ones to the fused kernel
# (weight-read bound, no logits buffer); elsewhere "torch". A first guess until measured on a GPU:
# `rdpt-fast bench gpu` prints the measured crossover.
AUTO_CUBLAS_MIN_TOKENS = 4096


def resolve_backend(backend: str, device: torch.device, n_tokens: int | None = None) -> str:
    """Map "auto" to a concrete backend for ``device`` and ``n_tokens`` (see AUTO_CUBLAS_MIN_TOKENS;
    unknown N counts as small); check explicit choices."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "auto":
        if not (device.type == "cuda" and triton_available(device)):
            return "torch"
        return "cublas" if (n_tokens or 0) >= AUTO_CUBLAS_MIN_TOKENS else "triton"
    if backend == "triton" and not triton_available(device):
        raise ValueError(
            f"backend 'triton' needs CUDA tensors and an importable triton (or TRITON_INTERPRET=1 with CPU "
            f"tensors); inputs are on {device}"
        )
    return backend


def _token_stats(
    inputs: HeadInputs, backend: str, *, with_entropy: bool, with_top1: bool, chunk_bytes: int
) -> TokenStats:
    if backend == "reference":
        return reference_token_stats(inputs, with_entropy=with_entropy, with_top1=with_top1)
    if backend == "cublas":
        return cublas_token_stats(
            inputs, with_entropy=with_entropy, with_top1=with_top1, chunk_bytes=chunk_bytes
        )
    if inputs.hidden.device.type == "cpu":  # vocab-tiled: the weight read once per large token block
        tile_bytes = min(chunk_bytes, DEFAULT_TILE_BYTES)
        return tiled_token_stats(
            inputs, with_entropy=with_entropy, with_top1=with_top1, tile_bytes=tile_bytes
        )
    return torch_token_stats(inputs, with_entropy=with_entropy, with_top1=with_top1, chunk_bytes=chunk_bytes)


def segment_logprobs(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    segment_ids: torch.Tensor,
    num_segments: int,
    *,
    bias: torch.Tensor | None = None,
    logit_scale: float = 1.0,
    softcap: float | None = None,
    backend: Backend = "auto",
    return_token_logprobs: bool = False,
    with_entropy: bool = False,
    with_top1: bool = False,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> SegmentScores:
    """Sum of target log-probs and scored-token count per segment, without materializing [N, V] logits.

    hidden [N, H] and weight [V, H] (tied embeddings work): same dtype (float32, float16 or bfloat16) and
    device. targets [N] integer, -100 = ignored. segment_ids [N] integer in [-1, num_segments), -1 = not in
    any segment. bias [V] or None. ``chunk_bytes`` bounds the torch and cublas backends' float32 logits
    buffers (the torch epilogue's entropy doubles the buffers within the same budget). Ignored targets get
    token log-prob 0.0; entropy is given for every token. Raises ValueError/TypeError on bad shapes,
    dtypes, ranges or devices.
    """
    inputs = validate_head_inputs(
        hidden, weight, targets, bias=bias, logit_scale=logit_scale, softcap=softcap
    )
    segment_ids = validate_segments(segment_ids, num_segments, inputs.num_tokens, inputs.hidden.device)
    chosen = resolve_backend(backend, inputs.hidden.device, inputs.num_tokens)
    if chosen == "triton":
        return triton_segment_scores(
            inputs,
            segment_ids,
            num_segments,
            return_token_logprobs=return_token_logprobs,
            with_entropy=with_entropy,
            with_top1=with_top1,
        )
    stats = _token_stats(
        inputs, chosen, with_entropy=with_entropy, with_top1=with_top1, chunk_bytes=chunk_bytes
    )
    sums, counts = reduce_segments(stats.logprobs, inputs.targets, segment_ids, num_segments)
    return SegmentScores(
        sum_logprob=sums,
        num_tokens=counts,
        token_logprobs=stats.logprobs if return_token_logprobs else None,
        entropy=stats.entropy,
        top1=stats.top1,
    )


def token_logprobs(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    *,
    bias: torch.Tensor | None = None,
    logit_scale: float = 1.0,
    softcap: float | None = None,
    backend: Backend = "auto",
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> torch.Tensor:
    """[N] float32 log p(target) per token, nats; 0.0 where the target is -100 (see segment_logprobs)."""
    inputs = validate_head_inputs(
        hidden, weight, targets, bias=bias, logit_scale=logit_scale, softcap=softcap
    )
    chosen = resolve_backend(backend, inputs.hidden.device, inputs.num_tokens)
    if chosen == "triton":
        no_segments = torch.full_like(inputs.targets, -1)
        scores = triton_segment_scores(
            inputs, no_segments, 0, return_token_logprobs=True, with_entropy=False, with_top1=False
        )
        assert scores.token_logprobs is not None
        return scores.token_logprobs
    return _token_stats(inputs, chosen, with_entropy=False, with_top1=False, chunk_bytes=chunk_bytes).logprobs
