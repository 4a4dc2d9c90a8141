"""One Ray pass: one model over the units of a record stream, results back on the driver by chunk.

Dataset: the units (`source`) -> `map_batches` over a fixed pool of `ScoreActor`s (one unit per call) ->
`iter_batches` on the driver, where `ChunkCollector` rebuilds the chunks. Ray restarts an actor that dies
(`max_restarts=-1`) and retries its unit on a live one (up to `MAX_TASK_RETRIES` times: a unit that kills
every actor it meets fails the pass instead of looping); since results are keyed by unit and position, a
retried unit adds nothing twice.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field

import ray.data

from rdpt_fast.distributed.actors import ScoreActor
from rdpt_fast.distributed.cluster import Workers
from rdpt_fast.distributed.collect import ChunkCollector
from rdpt_fast.distributed.scorers import Factory
from rdpt_fast.distributed.source import Producer, read_units
from rdpt_fast.distributed.units import Scored
from rdpt_fast.progress import Progress

MAX_TASK_RETRIES = 3
#: CPUs an actor reserves besides its GPUs (tokenization and batch planning run beside the model).
CPUS_PER_WORKER = 1.0


@dataclass
class PassStats:
    """What a Ray pass did (chunks completed before it are not counted): what run.json records of the model
    (`sources.model_info`), the units, records, errors and tokens scored, `seconds` in the actors."""

    model: dict = field(default_factory=dict)
    units: int = 0
    records: int = 0
    errors: int = 0
    scored_tokens: int = 0
    forwarded_tokens: int = 0
    seconds: float = 0.0


def run_pass(
    producer: Producer,
    factory: Factory,
    workers: Workers,
    budget: int,
    progress: Progress,
    stats: PassStats,
) -> Iterator[tuple[int, list[Scored]]]:
    """Score every record of `producer`'s chunks with `workers` actors built by `factory`, in units of
    `budget` estimated tokens; yields each chunk (index, results in input order) once complete. `stats`
    and `progress` are updated as units come back. Call inside `cluster.connect`."""
    ds = read_units(producer, budget).map_batches(
        ScoreActor,
        fn_constructor_args=(factory, workers.gpus),
        batch_size=1,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=workers.count),
        num_cpus=CPUS_PER_WORKER,
        **({"num_gpus": workers.gpus} if workers.gpus else {}),
        max_restarts=-1,
        max_task_retries=MAX_TASK_RETRIES,
    )
    context = ds.context
    context.target_max_block_size = 1  # every unit a block of its own: Ray must not merge units
    context.enable_progress_bars = False  # the driver prints its own progress
    context.print_on_execution_start = False
    collector = ChunkCollector()
    for batch in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
        for row in batch.to_pylist():
            results = pickle.loads(row["payload"])
            complete = collector.add(row["unit"], results)
            if complete is None:
                continue
            stats.model = json.loads(row["model"])
            stats.units += 1
            stats.records += len(results)
            stats.errors += sum(s.result.error is not None for s in results)
            stats.scored_tokens += row["scored_tokens"]
            stats.forwarded_tokens += row["forwarded_tokens"]
            stats.seconds += row["seconds"]
            progress.update(len(results), row["scored_tokens"])
            yield from complete
    collector.check_finished()
