"""The parts of the Ray path that need no cluster: token-budgeted units, chunk collection, pool sizing."""

from __future__ import annotations

import numpy as np
import pytest

from rdpt_fast.distributed.cluster import Workers, plan_workers
from rdpt_fast.distributed.collect import ChunkCollector
from rdpt_fast.distributed.units import CHARS_PER_TOKEN, Scored, estimate_tokens, pack_units
from rdpt_fast.engine.inputs import Chunk
from rdpt_fast.scoring.types import ScoredRecord


def chunks(sizes: list[list[int]]) -> list[Chunk]:
    """Chunks whose records have responses of the given numbers of estimated tokens."""
    out = []
    for c, tokens in enumerate(sizes):
        text = ["x" * (n * CHARS_PER_TOKEN) for n in tokens]
        recs = [{"id": f"{c}-{i}", "prompt": "", "response": t} for i, t in enumerate(text)]
        out.append(Chunk(c, recs, [f"in.jsonl:{c}.{i}" for i in range(len(tokens))]))
    return out


def test_units_are_bounded_by_tokens_not_records():
    # a 30k-token trace among 500-token ones is a unit of its own; the others fill units of up to 2k
    sizes = [[500] * 7, [30_000], [500] * 5]
    units = list(pack_units(chunks(sizes), 2_000))
    assert [len(u.items) for u in units] == [4, 3, 1, 4, 1]
    assert [u.tokens for u in units] == [2_000, 1_500, 30_000, 2_000, 500]
    flat = [(i.chunk, i.position, i.chunk_size) for u in units for i in u.items]
    assert flat == [(c, p, len(s)) for c, s in enumerate(sizes) for p in range(len(s))]
    assert [u.index for u in units] == [0, 1, 2, 3, 4]


def test_estimate_counts_chat_messages():
    record = {"id": 1, "prompt": [{"role": "user", "content": "abcd" * 3}], "response": "abcd", "extra": 1}
    assert estimate_tokens(record) == 4


def scored(chunk: int, position: int, size: int) -> Scored:
    result = ScoredRecord(f"{chunk}-{position}", None, np.zeros(0), np.zeros(0, dtype=np.int64))
    return Scored(chunk, position, size, "", result)


def test_collector_hands_out_each_chunk_once_complete_and_in_order():
    c = ChunkCollector()
    assert c.add(1, [scored(0, 2, 3), scored(1, 0, 2)]) == []
    assert c.add(1, [scored(0, 2, 3)]) is None  # a unit delivered twice is ignored
    done = c.add(0, [scored(0, 1, 3), scored(0, 0, 3)])
    assert [(k, [s.position for s in rows]) for k, rows in done] == [(0, [0, 1, 2])]
    with pytest.raises(RuntimeError, match=r"\{1: 1\}"):
        c.check_finished()
    assert [k for k, _ in c.add(2, [scored(1, 1, 2)])] == [1]
    c.check_finished()


@pytest.mark.parametrize(
    ("workers", "gpus", "resources", "expected"),
    [
        (None, None, {"CPU": 64, "GPU": 8}, Workers(8, 1.0)),
        (None, 2, {"CPU": 64, "GPU": 8}, Workers(4, 2.0)),
        (None, None, {"CPU": 2}, Workers(1, 0.0)),
        (None, None, {"CPU": 16}, Workers(15, 0.0)),
        (3, None, {"CPU": 16}, Workers(3, 0.0)),
        (16, 1, {"CPU": 8, "GPU": 4}, Workers(16, 1.0)),  # an autoscaling cluster adds the nodes
    ],
)
def test_pool_size(workers, gpus, resources, expected):
    assert plan_workers(workers, gpus, resources) == expected


@pytest.mark.parametrize(
    ("workers", "gpus", "resources", "message"),
    [(0, None, {}, "at least 1"), (None, -1, {}, "negative"), (None, 1, {"CPU": 8}, "0 GPU")],
)
def test_pool_size_errors(workers, gpus, resources, message):
    with pytest.raises(ValueError, match=message):
        plan_workers(workers, gpus, resources)
