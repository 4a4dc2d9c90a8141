"""Scoring: per-sentence log-probs of reasoning traces under one causal LM (see `Scorer`)."""

from rdpt_fast.scoring.scorer import Scorer
from rdpt_fast.scoring.types import ScoredRecord, ScoreStats

__all__ = ["ScoreStats", "ScoredRecord", "Scorer"]
