"""How a Ray actor builds its role's Scorer: a picklable factory, called in the actor with its device.

The factory is called with "cpu", "cuda" (the actor's GPU: Ray sets CUDA_VISIBLE_DEVICES) or
`loading.SHARDED` (the actor holds several GPUs: the model is spread over all of them), and returns the
Scorer, the view of a record it should score and what run.json records of the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rdpt_fast.engine.sources import ModelSource, RecordView, build_scorer, model_info
from rdpt_fast.scoring.config import ScorerConfig

Factory = Callable[[str], tuple[Any, RecordView, dict[str, Any]]]


@dataclass(frozen=True)
class RoleFactory:
    """One role's Scorer (`sources.build_scorer`) on the actor's device. The model must be a directory every
    worker can read, or a hub id (a loaded Scorer cannot travel)."""

    source: ModelSource
    role: str
    config: ScorerConfig
    quiet: bool = False

    def __post_init__(self) -> None:
        if self.source.model is not None and not self.source.is_path:
            raise ValueError(
                f"{self.role}: with the ray executor a model must be a directory or hub id, "
                f"not a {type(self.source.model).__name__}"
            )

    def __call__(self, device: str) -> tuple[Any, RecordView, dict[str, Any]]:
        scorer, view = build_scorer(self.source, self.role, device, self.config, quiet=self.quiet)
        return scorer, view, model_info(self.source, scorer)
