"""Scoring: per-sentence log-probs of reasoning traces under one causal LM (see `Scorer`, `ScorerConfig`).

`ScorerConfig` is light; the Scorer (torch, transformers) is imported on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rdpt_fast.scoring.config import ScorerConfig

if TYPE_CHECKING:
    from rdpt_fast.scoring.scorer import Scorer
    from rdpt_fast.scoring.types import ScoredRecord, ScoreStats

_LAZY = {"Scorer": "rdpt_fast.scoring.scorer", "ScoredRecord": "rdpt_fast.scoring.types"}
_LAZY["ScoreStats"] = "rdpt_fast.scoring.types"

__all__ = ["ScoreStats", "ScoredRecord", "Scorer", "ScorerConfig"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rdpt_fast.scoring' has no attribute {name!r}")
