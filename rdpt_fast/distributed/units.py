"""Work units: the records handed to a Scorer actor in one call, bounded by an estimate of their tokens.

A unit is cut from the chunked record stream (`rdpt_fast.rdpt.inputs.Chunk`); each record keeps its chunk,
its position in the chunk and the chunk's size, so that the driver can rebuild every chunk exactly, whatever
order the units come back in. Tokens are estimated from characters (the tokenizer lives in the actor).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from rdpt_fast.rdpt.inputs import Chunk
from rdpt_fast.records import RecordError
from rdpt_fast.scoring.types import ScoredRecord

#: Characters per token of the estimate (English and math BPE vocabularies give 3 to 5).
CHARS_PER_TOKEN = 4
#: A unit holds at most this many forward passes' token budget: enough for the Scorer to pack and share
#: prompts, small enough that no worker holds much more work than another.
PASSES_PER_UNIT = 4


@dataclass(frozen=True)
class Item:
    """One record of a unit and where its result goes: position `position` of chunk `chunk`."""

    chunk: int
    position: int
    chunk_size: int
    location: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class Unit:
    """Unit `index` of a pass: its records, the input rejects found while reading them (the `score`
    command reports those) and the estimated tokens."""

    index: int
    items: list[Item]
    rejects: list[RecordError]
    tokens: int


@dataclass(frozen=True)
class Scored:
    """The result of one item (its fields dropped)."""

    chunk: int
    position: int
    chunk_size: int
    location: str
    result: ScoredRecord


def unit_budget(max_tokens_per_batch: int) -> int:
    """Estimated tokens per unit for a Scorer whose forward passes hold `max_tokens_per_batch` tokens."""
    return PASSES_PER_UNIT * max_tokens_per_batch


def estimate_tokens(fields: Mapping[str, Any]) -> int:
    """Tokens of prompt + response, estimated from their characters (at least 1)."""
    prompt = fields.get("prompt")
    if isinstance(prompt, list):
        chars = sum(len(str(m.get("content", ""))) for m in prompt if isinstance(m, Mapping))
    else:
        chars = len(str(prompt or ""))
    chars += len(str(fields.get("response") or ""))
    return max(1, chars // CHARS_PER_TOKEN)


def trimmed(chunk: Chunk, keep: Collection[str]) -> Chunk:
    """`chunk` with each record cut down to the fields in `keep` (what the actor's Scorer reads: the others
    would only travel to the workers and back)."""
    return Chunk(chunk.index, [{k: r[k] for k in keep if k in r} for r in chunk.records], chunk.locations)


def pack_units(chunks: Iterable[Chunk], budget: int, rejects: list[RecordError]) -> Iterator[Unit]:
    """The records of `chunks` in stream order, in units of at most `budget` estimated tokens (a record over
    the budget is a unit of its own). `rejects` is filled by whoever produces `chunks`: each unit takes the
    rejects found so far (a stream without records gives one unit of rejects only)."""
    items: list[Item] = []
    tokens = 0
    index = 0
    for chunk in chunks:
        for position, (fields, location) in enumerate(zip(chunk.records, chunk.locations)):
            cost = estimate_tokens(fields)
            if items and tokens + cost > budget:
                yield Unit(index, items, _drain(rejects), tokens)
                index += 1
                items, tokens = [], 0
            items.append(Item(chunk.index, position, len(chunk.records), location, fields))
            tokens += cost
    if items or rejects:
        yield Unit(index, items, _drain(rejects), tokens)


def _drain(rejects: list[RecordError]) -> list[RecordError]:
    taken = list(rejects)
    rejects.clear()
    return taken
