"""The executors of a run: `make_executor` picks one, `LocalExecutor` runs the roles in this process (the
Ray one is `rdpt_fast.distributed.executor.RayExecutor`); the interface is `jobs.Executor`."""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from rdpt_fast.engine.config import RunConfig
from rdpt_fast.engine.folder import RunFolder
from rdpt_fast.engine.jobs import Executor, RoleJob
from rdpt_fast.engine.role_pass import PassSummary, score_chunks
from rdpt_fast.engine.sources import build_scorer, model_info
from rdpt_fast.progress import Progress
from rdpt_fast.scoring.config import ScorerConfig


def make_executor(config: RunConfig) -> Executor:
    """The executor `config.executor` names ("ray" imports `rdpt_fast.distributed`, an extra)."""
    if config.executor == "ray":
        from rdpt_fast.distributed.executor import RayExecutor

        return RayExecutor(
            config.scorer, config.quiet, config.ray_address, config.num_workers, config.gpus_per_worker
        )
    return LocalExecutor(config.scorer, config.quiet, tuple(config.devices))


def release_memory() -> None:
    """Free a model that was just dropped (host memory, and the CUDA cache on a GPU)."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


@dataclass(frozen=True)
class LocalExecutor:
    """Roles in this process: one model at a time on the first device, or, with several devices, one role
    per device in parallel threads (models are loaded one at a time)."""

    scorer: ScorerConfig
    quiet: bool
    devices: tuple[str, ...] = ("auto",)

    def run_roles(self, jobs: Sequence[RoleJob], folder: RunFolder) -> dict[str, PassSummary]:
        if len(self.devices) == 1 or len(jobs) <= 1:
            return {job.role: self._run(job, folder, self.devices[0], parallel=False) for job in jobs}
        with ThreadPoolExecutor(max_workers=min(len(self.devices), len(jobs))) as pool:
            futures = {
                job.role: pool.submit(
                    self._run, job, folder, self.devices[i % len(self.devices)], parallel=True
                )
                for i, job in enumerate(jobs)
            }
            return {role: f.result() for role, f in futures.items()}

    def _run(self, job: RoleJob, folder: RunFolder, device: str, *, parallel: bool) -> PassSummary:
        t0 = time.perf_counter()
        scorer, view = build_scorer(job.source, job.role, device, self.scorer, quiet=self.quiet)
        progress = Progress(
            f"{job.label} ({scorer.name})", job.total, quiet=self.quiet, tty=False if parallel else None
        )
        progress.update(job.done_records)
        summary = PassSummary(job.role, device=str(scorer.device), chunks_skipped=job.done_chunks)
        score_chunks(folder, job.role, scorer, view, job.stream(), summary, progress)
        progress.close()
        summary.model = model_info(job.source, scorer)
        summary.wall_seconds = time.perf_counter() - t0
        del scorer
        release_memory()
        return summary
