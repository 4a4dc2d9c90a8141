"""rdpt-fast: per-sentence scoring of reasoning traces for Reasoning Distillation Provenance Tracing.

Segmentation (C++ core, pure-Python reference) and LM-head scoring (Triton / chunked torch / naive
reference). The head API is imported on first use, so segmentation alone does not load torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rdpt_fast.segmentation import DEFAULT_MARKERS, assign_tokens, segment, segment_batch
from rdpt_fast.segments import KIND_NAMES, Segment, Segments

if TYPE_CHECKING:
    from rdpt_fast.head import SegmentScores, segment_logprobs, token_logprobs

__version__ = "0.1.0"

_HEAD_EXPORTS = ("SegmentScores", "segment_logprobs", "token_logprobs")

__all__ = [
    "DEFAULT_MARKERS",
    "KIND_NAMES",
    "Segment",
    "SegmentScores",
    "Segments",
    "__version__",
    "assign_tokens",
    "segment",
    "segment_batch",
    "segment_logprobs",
    "token_logprobs",
]


def __getattr__(name: str) -> Any:
    if name in _HEAD_EXPORTS:
        from rdpt_fast import head

        return getattr(head, name)
    raise AttributeError(f"module 'rdpt_fast' has no attribute {name!r}")
