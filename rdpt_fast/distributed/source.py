"""The input of a Ray pass as a Ray Dataset: one row, and one block, per work unit.

A single read task runs on the driver's node (where the input paths are valid, as for the driver's join)
and streams the producer's chunks into units. One reader keeps the valid stream exactly that of a local run
(validation, first-of-duplicate-ids, chunk numbering are sequential over the whole input); it parses JSON
far faster than GPUs score it. Each unit is its own block, so Ray hands one unit, never a merged run of
them, to an actor.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pyarrow as pa
import ray.data
from ray.data.block import BlockMetadata
from ray.data.datasource import Datasource, ReadTask

from rdpt_fast.distributed.units import Unit, pack_units
from rdpt_fast.engine.inputs import Chunk

#: The chunks of one pass.
Producer = Callable[[], Iterable[Chunk]]

UNIT_SCHEMA = pa.schema(
    [("unit", pa.int64()), ("tokens", pa.int64()), ("records", pa.int64()), ("payload", pa.binary())]
)


def unit_table(unit: Unit) -> pa.Table:
    """The one-row table of a unit (the unit itself pickled in `payload`)."""
    columns = {"unit": [unit.index], "tokens": [unit.tokens], "records": [len(unit.items)]}
    return pa.Table.from_pydict({**columns, "payload": [pickle.dumps(unit)]}, schema=UNIT_SCHEMA)


class UnitSource(Datasource):
    """Ray Data source of the units of `producer`'s chunks, at most `budget` estimated tokens each."""

    def __init__(self, producer: Producer, budget: int):
        super().__init__()
        self.producer = producer
        self.budget = budget

    def estimate_inmemory_data_size(self) -> int | None:
        return None

    def get_read_tasks(self, parallelism: int, **_: Any) -> list[ReadTask]:
        metadata = BlockMetadata(num_rows=None, size_bytes=None, input_files=None, exec_stats=None)
        return [ReadTask(self._read, metadata)]

    @property
    def supports_distributed_reads(self) -> bool:
        return False  # Ray then runs the read task on the driver's node

    def _read(self) -> Iterator[pa.Table]:
        for unit in pack_units(self.producer(), self.budget):
            yield unit_table(unit)


def read_units(producer: Producer, budget: int) -> ray.data.Dataset:
    """The units as a Dataset; the reader reserves no CPU (it must run even on a head node with none)."""
    return ray.data.read_datasource(UnitSource(producer, budget), override_num_blocks=1, num_cpus=0)
