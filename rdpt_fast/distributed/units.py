"""Work units: the records handed to a Scorer actor in one call, bounded by an estimate of their tokens.

A unit is cut from the chunked record stream (`rdpt_fast.engine.inputs.Chunk`); each record keeps its chunk,
its position in the chunk and the chunk's size, so that the driver can rebuild every chunk exactly, whatever
order the units come back in. Tokens are estimated from characters (the tokenizer lives in the actor).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from rdpt_fast.engine.inputs import Chunk
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
    """Unit `index` of a pass: its records and their estimated tokens."""

    index: int
    items: list[Item]
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


def pack_units(chunks: Iterable[Chunk], budget: int) -> Iterator[Unit]:
    """The records of `chunks` in stream order, in units of at most `budget` estimated tokens (a record over
    the budget is a unit of its own)."""
    items: list[Item] = []
    tokens = 0
    index = 0
    for chunk in chunks:
        for position, (fields, location) in enumerate(zip(chunk.records, chunk.locations)):
            cost = estimate_tokens(fields)
            if items and tokens + cost > budget:
                yield Unit(index, items, tokens)
                index += 1
                items, tokens = [], 0
            items.append(Item(chunk.index, position, len(chunk.records), location, fields))
            tokens += cost
    if items:
        yield Unit(index, items, tokens)
