"""Deterministic per-segment sums: one program per segment over its tokens in sorted order (no atomics).

The same inputs give the same bits on every run: tokens are ordered by a stable sort of their segment
ids (integer work, deterministic), and each segment is summed by one program in a fixed order, in float64.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

_BLOCK = 128


@triton.jit
def _segment_sum_kernel(values_ptr, order_ptr, offsets_ptr, out_ptr, BLOCK: tl.constexpr):
    seg = tl.program_id(0)
    start = tl.load(offsets_ptr + seg)
    end = tl.load(offsets_ptr + seg + 1)
    acc = tl.zeros([BLOCK], tl.float64)
    for j in range(start, end, BLOCK):
        idx = j + tl.arange(0, BLOCK)
        ok = idx < end
        tok = tl.load(order_ptr + idx, mask=ok, other=0)
        acc += tl.load(values_ptr + tok, mask=ok, other=0.0).to(tl.float64)
    tl.store(out_ptr + seg, tl.sum(acc, 0).to(tl.float32))


def deterministic_segment_sums(
    values: torch.Tensor, keep: torch.Tensor, segment_ids: torch.Tensor, num_segments: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum ``values`` [N] float32 per segment over tokens where ``keep`` [N] bool is set.

    segment_ids [N] int64 in [-1, S) (kept tokens must have ids >= 0). Returns (sums [S] float32 accumulated
    in float64, counts [S] int32), bit-identical across runs.
    """
    device = values.device
    sums = torch.zeros(num_segments, dtype=torch.float32, device=device)
    counts = torch.zeros(num_segments, dtype=torch.int32, device=device)
    if num_segments == 0 or values.numel() == 0:
        return sums, counts
    positions = keep.nonzero()[:, 0]
    ids = segment_ids[positions]
    sorted_ids, perm = torch.sort(ids, stable=True)
    order = positions[perm].contiguous()
    counts64 = torch.bincount(sorted_ids, minlength=num_segments)
    offsets = torch.zeros(num_segments + 1, dtype=torch.int64, device=device)
    torch.cumsum(counts64, 0, out=offsets[1:])
    if order.numel() == 0:
        return sums, counts
    _segment_sum_kernel[(num_segments,)](values, order, offsets, sums, BLOCK=_BLOCK)
    return sums, counts64.to(torch.int32)
