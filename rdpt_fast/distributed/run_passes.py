"""The model passes of a trace or select run on Ray (`Run.execute` with executor "ray").

Each role is one Ray pass (`engine.run_pass`) over the chunks its shards lack; the driver writes each chunk's
`scores/<role>/part-NNNNN.parquet` (`role_scores.SCORES_SCHEMA`, rows in input order) and marks it in the
manifest as `score_role` does, so the join, resuming and a rerun with either executor work on the folder
unchanged. Roles run one after another: every GPU holds one model at a time, and a model is loaded once
per actor.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from rdpt_fast.distributed.cluster import Workers, connect, plan_workers
from rdpt_fast.distributed.engine import PassStats, run_pass
from rdpt_fast.distributed.scorers import RoleScorer
from rdpt_fast.distributed.units import trimmed, unit_budget
from rdpt_fast.progress import Progress
from rdpt_fast.rdpt.inputs import Chunk, iter_chunks
from rdpt_fast.rdpt.role_scores import SCORES_SCHEMA, RoleRun, scores_row, scores_stage
from rdpt_fast.rdpt.run import Run, parse_devices
from rdpt_fast.records import RecordError
from rdpt_fast.writers import open_rows

#: Record fields a model role's Scorer reads (a precomputed role also reads its log-probs fields).
SCORED_FIELDS = ("id", "prompt", "response", "segments")


@dataclass(frozen=True)
class RunChunks:
    """A run's valid stream in chunks (`iter_chunks`), less the chunks in `skip`, records cut down to the
    fields in `keep` (picklable: it runs in the read task). Input rejects are left to the driver's join."""

    paths: tuple[Path, ...]
    chunk_records: int
    required: tuple[str, ...]
    skip: frozenset[int]
    keep: tuple[str, ...]

    def __call__(self, rejects: list[RecordError]) -> Iterator[Chunk]:
        for chunk in iter_chunks(self.paths, self.chunk_records, required=self.required):
            if chunk.index not in self.skip:
                yield trimmed(chunk, self.keep)


def ray_model_passes(run: Run, roles: Sequence[str]) -> None:
    """Score `roles` of `run` on the Ray cluster of `run.options` (see `RunOptions`)."""
    o = run.options
    if parse_devices(o.devices) != ["auto"]:
        raise ValueError("devices apply to the local executor; on Ray each worker has its own GPUs")
    factories = {role: RoleScorer(run.sources[role], role, o) for role in roles}  # checks the sources
    with connect(o.ray_address) as resources:
        workers = plan_workers(o.num_workers, o.gpus_per_worker, resources)
        for role in roles:
            role_workers = workers if run.sources[role].model is not None else Workers(workers.count, 0.0)
            _role_pass(run, role, factories[role], role_workers)


def _role_pass(run: Run, role: str, factory: RoleScorer, workers: Workers) -> None:
    t0 = time.perf_counter()
    folder, o = run.folder, run.options
    stage = scores_stage(role)
    done = folder.done(stage)
    paths = tuple(Path(p).resolve() for p in run.paths)  # the reader's working directory is not ours
    source = run.sources[role]
    keep = SCORED_FIELDS + ((source.logprobs_field, source.token_ids_field) if source.logprobs_field else ())
    producer = RunChunks(paths, o.chunk_records, tuple(run.required), frozenset(done), keep)
    progress = Progress(f"{run.scheme.kind} {role} ({workers.describe()})", run.total, quiet=o.quiet)
    progress.update(sum(folder.entry(stage, c).get("records", 0) for c in done))
    stats = PassStats()
    chunks = set(done)
    budget = unit_budget(o.max_tokens_per_batch)
    for chunk, results in run_pass(producer, factory, workers, budget, progress, stats):
        path = folder.scores_path(role, chunk)
        with open_rows(path, SCORES_SCHEMA) as w:
            w.write([scores_row(s.result) for s in results])
        folder.mark(stage, chunk, [path], records=len(results))
        chunks.add(chunk)
    folder.set_num_chunks(max(chunks, default=-1) + 1)  # every chunk was either done or streamed
    progress.close()
    summary = RoleRun(
        role,
        stats.model or role,
        chunks_scored=len(chunks) - len(done),
        chunks_skipped=len(done),
        records=stats.records,
        errors=stats.errors,
        scored_tokens=stats.scored_tokens,
        forwarded_tokens=stats.forwarded_tokens,
        seconds=stats.seconds,
    )
    if stats.units:  # as a local pass records it; a pass with nothing left to score keeps what it had
        run.models[role] = {
            "name": stats.model,
            "source": "precomputed" if source.logprobs_field else "model",
            **source.describe(),
            "dtype": stats.dtype,
            "attn_implementation": stats.attn_implementation,
            "paths": stats.paths,
        }
    run.passes[role] = {
        **summary.to_dict(),
        "device": workers.describe(),
        "units": stats.units,
        "wall_seconds": time.perf_counter() - t0,
    }
