"""`rdpt-fast score --executor ray`: the `score` command's shards, written by the driver from a Ray pass.

Chunk k of the records still to score (`score_cmd.Pending`, `--shard-records` per chunk) becomes shard
`scores-NNNNN.parquet` number `first + k` with the chunk's scored records, as soon as all of its records are
back; records the model could not score and unreadable input lines go to the rejects as in a local run.
Resuming works as for a local run: ids already in the shards are skipped.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from rdpt_fast.cli.score_cmd import Outcome, Pending, scorer_kwargs, sentence_rows, write_shard
from rdpt_fast.distributed.cluster import connect, plan_workers
from rdpt_fast.distributed.engine import PassStats, run_pass
from rdpt_fast.distributed.scorers import PlainScorer
from rdpt_fast.distributed.units import trimmed, unit_budget
from rdpt_fast.progress import Progress
from rdpt_fast.rdpt.inputs import Chunk
from rdpt_fast.records import RecordError
from rdpt_fast.scoring.prepare import KNOWN_FIELDS


@dataclass(frozen=True)
class PendingChunks:
    """`Pending` records in chunks of `size`, cut down to the fields a Scorer reads (picklable: it runs
    in the read task; paths absolute)."""

    inputs: tuple[str, ...]
    skip: frozenset[str]
    size: int

    def __call__(self, rejects: list[RecordError]) -> Iterator[Chunk]:
        records = iter(Pending(self.inputs, self.skip, rejects))
        for index, batch in enumerate(iter(lambda: list(islice(records, self.size)), [])):
            chunk = Chunk(index, [r.fields for r in batch], [r.location for r in batch])
            yield trimmed(chunk, KNOWN_FIELDS)


def score_on_ray(args: argparse.Namespace, out_dir: Path, skip: set[str], first: int) -> Outcome:
    """Score the pending records of `args.input` on the Ray cluster, shards numbered from `first`.
    `Outcome.skipped` counts the ids already in the output."""
    if args.device != "auto":
        raise ValueError("--device: only with --executor local (on Ray each worker has its own GPUs)")
    if args.shard_records < 1:
        raise ValueError(f"--shard-records must be positive, got {args.shard_records}")
    factory = PlainScorer(args.model, scorer_kwargs(args))
    inputs = tuple(os.path.abspath(p) for p in args.input)  # the reader's working directory is not ours
    producer = PendingChunks(inputs, frozenset(skip), args.shard_records)
    outcome = Outcome(skipped=len(skip))
    stats = PassStats()
    progress = Progress("rdpt-fast score (ray)", quiet=args.quiet)
    with connect(args.ray_address) as resources:
        workers = plan_workers(args.num_workers, args.gpus_per_worker, resources)
        budget = unit_budget(args.max_tokens)
        for chunk, results in run_pass(producer, factory, workers, budget, progress, stats):
            rows = []
            for s in results:
                if s.result.error is None:
                    rows += sentence_rows(s.result, stats.model)
                    outcome.scored += 1
                else:
                    outcome.rejected.append(RecordError(s.location, s.result.error, s.result.id))
            if rows:
                write_shard(out_dir, first + chunk, rows)
    progress.close()
    outcome.rejected[:0] = stats.rejects
    outcome.forwarded_tokens = stats.forwarded_tokens
    outcome.scored_tokens = stats.scored_tokens
    return outcome
