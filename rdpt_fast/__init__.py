"""rdpt-fast: per-sentence scoring of reasoning traces for Reasoning Distillation Provenance Tracing.

Segmentation (C++ core, pure-Python reference), LM-head scoring (Triton / chunked torch / naive
reference) and the Scorer (every sentence of a trace in one forward pass). The head and scoring APIs
are imported on first use, so segmentation alone does not load torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rdpt_fast.segmentation import DEFAULT_MARKERS, assign_tokens, segment, segment_batch
from rdpt_fast.segments import KIND_NAMES, Segment, Segments

if TYPE_CHECKING:
    from rdpt_fast.head import SegmentScores, segment_logprobs, token_logprobs
    from rdpt_fast.scoring import ScoredRecord, Scorer, ScoreStats

__version__ = "0.1.0"

_LAZY_EXPORTS = {
    "SegmentScores": "rdpt_fast.head",
    "segment_logprobs": "rdpt_fast.head",
    "token_logprobs": "rdpt_fast.head",
    "ScoreStats": "rdpt_fast.scoring",
    "ScoredRecord": "rdpt_fast.scoring",
    "Scorer": "rdpt_fast.scoring",
}

__all__ = [
    "DEFAULT_MARKERS",
    "KIND_NAMES",
    "ScoreStats",
    "ScoredRecord",
    "Scorer",
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
    if name in _LAZY_EXPORTS:
        import importlib

        return getattr(importlib.import_module(_LAZY_EXPORTS[name]), name)
    raise AttributeError(f"module 'rdpt_fast' has no attribute {name!r}")
