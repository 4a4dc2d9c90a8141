"""The executor seam: who runs the roles of a run. One small interface, a local and a Ray implementation.

An executor runs each `RoleJob` (one role's Scorer over the chunks not done yet), writes the role's shards
through `role_pass.write_scores` (which marks them in the manifest) and returns a `PassSummary` per role.
It does not touch the run otherwise: the engine records the summaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rdpt_fast.engine.folder import RunFolder
from rdpt_fast.engine.role_pass import PassSummary
from rdpt_fast.engine.segments_pass import ChunkStream
from rdpt_fast.engine.sources import ModelSource


@dataclass(frozen=True)
class RoleJob:
    """One role to run: its model, the chunks it still lacks (`stream`), and for progress the records
    already done and the run's total (None when unknown)."""

    role: str
    source: ModelSource
    stream: ChunkStream
    label: str
    done_chunks: int = 0
    done_records: int = 0
    total: int | None = None


class Executor(Protocol):
    def run_roles(self, jobs: Sequence[RoleJob], folder: RunFolder) -> dict[str, PassSummary]:
        """Run every job; the summaries by role."""
        ...
