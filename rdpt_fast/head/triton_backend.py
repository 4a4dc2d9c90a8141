"""Triton backend: thin adapter from validated inputs to the fused kernel in rdpt_fast.kernels."""

from __future__ import annotations

import importlib.util

import torch

from rdpt_fast.head.types import SegmentScores
from rdpt_fast.head.validation import HeadInputs


def triton_available(device: torch.device) -> bool:
    """True when the triton backend can run on ``device``: CUDA with triton importable, or any device under
    the triton interpreter (``TRITON_INTERPRET=1``, CPU tensors)."""
    if importlib.util.find_spec("triton") is None:
        return False
    from rdpt_fast.kernels.segment_logprobs import interpreting

    return device.type == ("cpu" if interpreting() else "cuda")


def triton_segment_scores(
    inputs: HeadInputs,
    segment_ids: torch.Tensor,
    num_segments: int,
    *,
    return_token_logprobs: bool,
    with_entropy: bool,
    with_top1: bool,
) -> SegmentScores:
    """Run the fused kernels; per-segment sums are deterministic (float64, no atomics)."""
    from rdpt_fast.kernels.segment_logprobs import fused_segment_logprobs

    result = fused_segment_logprobs(
        inputs.hidden,
        inputs.weight,
        inputs.targets,
        segment_ids,
        num_segments,
        bias=inputs.bias,
        logit_scale=inputs.logit_scale,
        softcap=inputs.softcap,
        with_entropy=with_entropy,
        with_top1=with_top1,
    )
    return SegmentScores(
        sum_logprob=result.seg_sum,
        num_tokens=result.seg_count,
        token_logprobs=result.token_logprobs if return_token_logprobs else None,
        entropy=result.entropy,
        top1=result.top1,
    )
