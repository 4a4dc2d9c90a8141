"""Per-segment reduction of per-token log-probs (torch and reference backends)."""

from __future__ import annotations

import torch

from rdpt_fast.head.triton_backend import triton_available
from rdpt_fast.head.validation import IGNORE_INDEX


def reduce_segments(
    token_logprobs: torch.Tensor, targets: torch.Tensor, segment_ids: torch.Tensor, num_segments: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum log-probs and count scored tokens per segment.

    token_logprobs [N] float, targets [N] int64 (-100 = ignored), segment_ids [N] int64 in [-1, S).
    Returns (sum [S] float32 accumulated in float64 (float32 on MPS), count [S] int32). Deterministic: on
    CUDA (where index_add_ on floats is not) the sums come from the triton segment-sum kernel.
    """
    device = token_logprobs.device
    if device.type == "cuda" and triton_available(device):
        from rdpt_fast.kernels.segment_sum import deterministic_segment_sums

        keep = (targets != IGNORE_INDEX) & (segment_ids >= 0)
        return deterministic_segment_sums(
            token_logprobs.float().contiguous(), keep, segment_ids, num_segments
        )
    acc_dtype = torch.float32 if device.type == "mps" else torch.float64
    keep = (targets != IGNORE_INDEX) & (segment_ids >= 0)
    idx = segment_ids[keep]
    sums = torch.zeros(num_segments, dtype=acc_dtype, device=device)
    sums.index_add_(0, idx, token_logprobs[keep].to(acc_dtype))
    counts = torch.zeros(num_segments, dtype=torch.int32, device=device)
    counts.index_add_(0, idx, torch.ones_like(idx, dtype=torch.int32))
    return sums.to(torch.float32), counts
