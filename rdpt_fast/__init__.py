"""rdpt-fast: per-sentence scoring of reasoning traces for Reasoning Distillation Provenance Tracing.

What users call is here: segmentation (C++ core, pure-Python reference), LM-head scoring without logits,
the `Scorer` and its `ScorerConfig`, the runs `score`, `trace` and `select` (`RunConfig`), the label rules,
relabelling and the report. Everything else is reachable from the subpackages (`rdpt_fast.engine`,
`rdpt_fast.scoring`, `rdpt_fast.head`, `rdpt_fast.rdpt`, ...). Everything but segmentation is imported on
first use, so segmentation alone does not load torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rdpt_fast.segmentation import assign_tokens, segment, segment_batch
from rdpt_fast.segments import Segments

if TYPE_CHECKING:
    from rdpt_fast.engine.config import RunConfig
    from rdpt_fast.engine.relabel import classify_folder
    from rdpt_fast.engine.result import RunResult
    from rdpt_fast.engine.score import score
    from rdpt_fast.head import segment_logprobs, token_logprobs
    from rdpt_fast.rdpt import SELECT_LABELS, TRACE_LABELS, adaptive_beta, classify, classify_selection
    from rdpt_fast.rdpt.report import report
    from rdpt_fast.rdpt.select import SelectResult, select
    from rdpt_fast.rdpt.trace import trace
    from rdpt_fast.scoring import ScoredRecord, Scorer, ScorerConfig
    from rdpt_fast.scoring.model_logprobs import LogProbs, model_token_logprobs

__version__ = "0.1.0"

_LAZY_EXPORTS = {
    "segment_logprobs": "rdpt_fast.head",
    "token_logprobs": "rdpt_fast.head",
    "Scorer": "rdpt_fast.scoring",
    "ScorerConfig": "rdpt_fast.scoring",
    "ScoredRecord": "rdpt_fast.scoring",
    "RunConfig": "rdpt_fast.engine.config",
    "RunResult": "rdpt_fast.engine.result",
    "score": "rdpt_fast.engine.score",
    "classify_folder": "rdpt_fast.engine.relabel",
    "trace": "rdpt_fast.rdpt.trace",
    "select": "rdpt_fast.rdpt.select",
    "SelectResult": "rdpt_fast.rdpt.select",
    "LogProbs": "rdpt_fast.scoring.model_logprobs",
    "model_token_logprobs": "rdpt_fast.scoring.model_logprobs",
    **dict.fromkeys(
        ("SELECT_LABELS", "TRACE_LABELS", "adaptive_beta", "classify", "classify_selection"), "rdpt_fast.rdpt"
    ),
    "report": "rdpt_fast.rdpt.report",  # matplotlib is imported only when a report is made
}

__all__ = [
    "SELECT_LABELS",
    "TRACE_LABELS",
    "LogProbs",
    "RunConfig",
    "RunResult",
    "ScoredRecord",
    "Scorer",
    "ScorerConfig",
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
    "score",
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
