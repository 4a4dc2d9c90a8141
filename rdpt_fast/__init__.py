"""rdpt-fast: per-sentence scoring of reasoning traces for Reasoning Distillation Provenance Tracing.

Segmentation (C++ core, pure-Python reference), LM-head scoring (Triton / chunked torch / naive
reference), the Scorer (every sentence of a trace in one forward pass) and RDPT on top of it (trace,
select, classify, adaptive beta, report). Everything but segmentation is imported on first use, so
segmentation alone does not load torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rdpt_fast.segmentation import DEFAULT_MARKERS, assign_tokens, segment, segment_batch
from rdpt_fast.segments import KIND_NAMES, Segment, Segments

if TYPE_CHECKING:
    from rdpt_fast.head import SegmentScores, segment_logprobs, token_logprobs
    from rdpt_fast.rdpt import (
        AdaptiveBeta,
        ModelSource,
        RunResult,
        SelectResult,
        adaptive_beta,
        classify,
        classify_folder,
        classify_selection,
        select,
        trace,
    )
    from rdpt_fast.rdpt.report import report
    from rdpt_fast.scoring import ScoredRecord, Scorer, ScoreStats
    from rdpt_fast.scoring.model_logprobs import LogProbs, model_token_logprobs

__version__ = "0.1.0"

_LAZY_EXPORTS = {
    "SegmentScores": "rdpt_fast.head",
    "segment_logprobs": "rdpt_fast.head",
    "token_logprobs": "rdpt_fast.head",
    "ScoreStats": "rdpt_fast.scoring",
    "ScoredRecord": "rdpt_fast.scoring",
    "Scorer": "rdpt_fast.scoring",
    "LogProbs": "rdpt_fast.scoring.model_logprobs",
    "model_token_logprobs": "rdpt_fast.scoring.model_logprobs",
    **dict.fromkeys(
        (
            "AdaptiveBeta",
            "ModelSource",
            "RunResult",
            "SelectResult",
            "adaptive_beta",
            "classify",
            "classify_folder",
            "classify_selection",
            "select",
            "trace",
        ),
        "rdpt_fast.rdpt",
    ),
    "report": "rdpt_fast.rdpt.report",  # matplotlib is imported only when a report is made
}

__all__ = [
    "DEFAULT_MARKERS",
    "KIND_NAMES",
    "AdaptiveBeta",
    "LogProbs",
    "ModelSource",
    "RunResult",
    "ScoreStats",
    "ScoredRecord",
    "Scorer",
    "Segment",
    "SegmentScores",
    "Segments",
    "SelectResult",
    "__version__",
    "adaptive_beta",
    "assign_tokens",
    "classify",
    "classify_folder",
    "classify_selection",
    "model_token_logprobs",
    "report",
    "segment",
    "segment_batch",
    "segment_logprobs",
    "select",
    "token_logprobs",
    "trace",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY_EXPORTS:
        import importlib

        return getattr(importlib.import_module(_LAZY_EXPORTS[name]), name)
    raise AttributeError(f"module 'rdpt_fast' has no attribute {name!r}")
