"""The Ray Data actor that scores units: one Scorer (one model) per actor, built once, reused for every unit.

A record the Scorer cannot score comes back as an error row, as in a local run (the Scorer itself turns bad
records and single traces that do not fit into errors). Beyond that, an exception while scoring a unit does
not fail the job: the unit's records are scored one at a time and a record that still raises gets an error
naming the exception. An actor whose process dies (killed, out of host memory) is restarted by Ray and its
unit retried (`engine`); the driver keeps one result per record.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pyarrow as pa

from rdpt_fast.distributed.scorers import Factory
from rdpt_fast.distributed.units import Scored, Unit
from rdpt_fast.scoring.loading import SHARDED
from rdpt_fast.scoring.types import ScoredRecord

RESULT_SCHEMA = pa.schema(
    [
        ("unit", pa.int64()),
        ("model", pa.string()),  # JSON: what run.json records of the model (`sources.model_info`)
        ("scored_tokens", pa.int64()),
        ("forwarded_tokens", pa.int64()),
        ("seconds", pa.float64()),
        ("payload", pa.binary()),  # pickled list[Scored]
    ]
)


def actor_device(gpus: float) -> str:
    """The device of an actor holding `gpus` GPUs."""
    if gpus > 1:
        return SHARDED
    return "cuda" if gpus > 0 else "cpu"


class ScoreActor:
    """Scores unit rows (`source.UNIT_SCHEMA`) into result rows (`RESULT_SCHEMA`), one per unit."""

    def __init__(self, factory: Factory, gpus: float):
        self.scorer, self.view, info = factory(actor_device(gpus))
        self.model = json.dumps(info)

    def __call__(self, batch: pa.Table) -> pa.Table:
        rows = [self.score_unit(pickle.loads(payload)) for payload in batch.column("payload").to_pylist()]
        return pa.Table.from_pylist(rows, schema=RESULT_SCHEMA)

    def score_unit(self, unit: Unit) -> dict[str, Any]:
        stats = self.scorer.stats
        before = stats.scored_tokens, stats.forwarded_tokens, stats.seconds
        results = self._score([self.view(item.fields) for item in unit.items])
        scored = [
            Scored(item.chunk, item.position, item.chunk_size, item.location, replace(r, fields={}))
            for item, r in zip(unit.items, results)
        ]
        return {
            "unit": unit.index,
            "model": self.model,
            "scored_tokens": stats.scored_tokens - before[0],
            "forwarded_tokens": stats.forwarded_tokens - before[1],
            "seconds": stats.seconds - before[2],
            "payload": pickle.dumps(scored),
        }

    def _score(self, records: list[Mapping[str, Any]]) -> list[ScoredRecord]:
        try:
            return list(self.scorer.score(records))
        except Exception:  # isolate the record at fault
            return [self._score_alone(r) for r in records]

    def _score_alone(self, record: Mapping[str, Any]) -> ScoredRecord:
        try:
            return self.scorer.score_one(record)
        except Exception as e:  # the record's error row says what happened
            return ScoredRecord.failed(str(record.get("id")), f"{type(e).__name__}: {e}")
