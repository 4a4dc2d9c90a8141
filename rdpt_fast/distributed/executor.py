"""The Ray executor: each role of a run is one Ray pass (`engine.run_pass`) over the chunks it lacks.

The driver writes each chunk's `scores/<role>/part-NNNNN.parquet` through `role_pass.write_scores`, as the
local executor does, so the join, resuming and a rerun with either executor work on the folder unchanged.
Roles run one after another: every GPU holds one model at a time, and a model is loaded once per actor.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rdpt_fast.distributed.cluster import Workers, connect, plan_workers
from rdpt_fast.distributed.engine import PassStats, run_pass
from rdpt_fast.distributed.scorers import RoleFactory
from rdpt_fast.distributed.units import unit_budget
from rdpt_fast.engine.folder import RunFolder
from rdpt_fast.engine.jobs import RoleJob
from rdpt_fast.engine.role_pass import PassSummary, scores_stage, write_scores
from rdpt_fast.progress import Progress
from rdpt_fast.scoring.config import ScorerConfig

#: Record fields a model role's Scorer reads (a precomputed role also reads its log-probs fields).
SCORED_FIELDS = ("id", "prompt", "response", "segments")


@dataclass(frozen=True)
class RayExecutor:
    """Roles on the Ray cluster at `address` (None: RAY_ADDRESS, else a local Ray), `num_workers` Scorer
    actors of `gpus_per_worker` GPUs each (defaults: `cluster.plan_workers`)."""

    scorer: ScorerConfig
    quiet: bool
    address: str | None = None
    num_workers: int | None = None
    gpus_per_worker: float | None = None

    def run_roles(self, jobs: Sequence[RoleJob], folder: RunFolder) -> dict[str, PassSummary]:
        factories = {job.role: RoleFactory(job.source, job.role, self.scorer, self.quiet) for job in jobs}
        with connect(self.address) as resources:
            workers = plan_workers(self.num_workers, self.gpus_per_worker, resources)
            out = {}
            for job in jobs:
                role_workers = workers if job.source.model is not None else Workers(workers.count, 0.0)
                out[job.role] = self._run(job, factories[job.role], role_workers, folder)
            return out

    def _run(self, job: RoleJob, factory: RoleFactory, workers: Workers, folder: RunFolder) -> PassSummary:
        t0 = time.perf_counter()
        keep = SCORED_FIELDS + job.source.record_fields()
        spec = job.stream.spec
        spec = replace(spec, paths=tuple(Path(p).resolve() for p in spec.paths))  # the reader's cwd differs
        stream = replace(job.stream, spec=spec, keep=keep)
        progress = Progress(f"{job.label} ({workers.describe()})", job.total, quiet=self.quiet)
        progress.update(job.done_records)
        stats = PassStats()
        summary = PassSummary(job.role, device=workers.describe(), chunks_skipped=job.done_chunks)
        for chunk, results in run_pass(
            stream, factory, workers, unit_budget(self.scorer.max_tokens_per_batch), progress, stats
        ):
            write_scores(folder, job.role, chunk, [s.result for s in results])
            summary.chunks_scored += 1
        for chunk in set(range(folder.num_chunks or 0)) - folder.done(scores_stage(job.role)):
            write_scores(folder, job.role, chunk, [])  # every record of the chunk was rejected before
            summary.chunks_scored += 1
        progress.close()
        summary.records, summary.errors, summary.units = stats.records, stats.errors, stats.units
        summary.scored_tokens, summary.forwarded_tokens = stats.scored_tokens, stats.forwarded_tokens
        summary.seconds, summary.model = stats.seconds, stats.model
        summary.wall_seconds = time.perf_counter() - t0
        return summary
