"""Planning forward passes for a window of prepared records.

Two kinds of batch:
- `PackedBatch`: rows of traces; each row holds one trace, or several short traces packed end to end
  (block-diagonal attention, positions restarting at 0 per trace). Rows are padded to one length.
- `SharedBatch`: K records whose rendered prompt tokens are identical: the prompt runs once, the K
  continuations run batched on copies of its KV cache.
Budget: rows x padded length <= max_tokens (a trace longer than the budget gets a batch of its own).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rdpt_fast.scoring.costs import ForwardCosts
from rdpt_fast.scoring.prepare import Prepared


@dataclass
class PackedBatch:
    """`rows[r]` lists the traces of row r in order; `width` is the padded row length."""

    rows: list[list[Prepared]]

    @property
    def traces(self) -> list[Prepared]:
        return [p for row in self.rows for p in row]

    @property
    def width(self) -> int:
        return max(sum(p.length for p in row) for row in self.rows)

    @property
    def packed(self) -> bool:
        """True when some row holds more than one trace (attention then needs a block-diagonal mask)."""
        return any(len(row) > 1 for row in self.rows)

    def split(self) -> list[PackedBatch]:
        """Two batches with half the traces each, one trace per row (used after out-of-memory)."""
        traces = self.traces
        half = len(traces) // 2
        return [PackedBatch([[p] for p in part]) for part in (traces[:half], traces[half:]) if part]


@dataclass
class SharedBatch:
    """Records sharing the prompt tokens `members[0].input_ids[:num_prefix]`."""

    members: list[Prepared]

    @property
    def traces(self) -> list[Prepared]:
        return list(self.members)

    @property
    def prefix_length(self) -> int:
        return self.members[0].num_prefix

    def split(self) -> list[SharedBatch | PackedBatch]:
        """Halves; a single member falls back to an ordinary (unshared) batch."""
        if len(self.members) == 1:
            return [PackedBatch([[self.members[0]]])]
        half = len(self.members) // 2
        return [SharedBatch(part) for part in (self.members[:half], self.members[half:])]


Batch = PackedBatch | SharedBatch


def shared_groups(
    items: Sequence[Prepared], min_prefix: int = 1
) -> tuple[list[list[Prepared]], list[Prepared]]:
    """Groups (2+ records, input order) with identical prompt tokens, and the records left alone."""
    by_key: dict[bytes, list[Prepared]] = defaultdict(list)
    for p in items:
        by_key[p.prefix_key].append(p)
    groups, alone = [], []
    for members in by_key.values():
        if len(members) >= 2 and members[0].num_prefix >= min_prefix:
            groups.append(members)
        else:
            alone.extend(members)
    return groups, alone


def plan_shared(
    members: list[Prepared], max_tokens: int, costs: ForwardCosts | None = None
) -> tuple[list[SharedBatch], list[Prepared]]:
    """Length-sorted chunks of one group: a member joins the current chunk while K x (longest continuation)
    fits `max_tokens` and sharing gains: with `costs`, its `member_gain` is positive and a chunk is kept
    only when its `chunk_gain` is; without, its padding (longest continuation - its own) is at most the
    prompt length (past that, running the prompt once more is cheaper). Returns the chunks of 2+ members
    and the members left alone (to be packed with the other records)."""
    ordered = sorted(members, key=lambda p: p.length, reverse=True)
    chunks: list[list[Prepared]] = []
    for p in ordered:
        current = chunks[-1] if chunks else None
        if current is not None:
            prompt, tail = p.num_prefix, p.length - p.num_prefix
            longest = current[0].length - prompt
            fits = (len(current) + 1) * longest <= max_tokens
            gains = costs.member_gain(prompt, tail, longest) > 0 if costs else longest - tail <= prompt
            if fits and gains:
                current.append(p)
                continue
        chunks.append([p])

    def worth(chunk: list[Prepared]) -> bool:
        if len(chunk) < 2:
            return False
        prompt = chunk[0].num_prefix
        return costs is None or costs.chunk_gain(prompt, [p.length - prompt for p in chunk]) > 0

    shared = [SharedBatch(c) for c in chunks if worth(c)]
    return shared, [p for c in chunks if not worth(c) for p in c]


def plan_packed(
    items: Sequence[Prepared],
    max_tokens: int,
    pack: bool,
    pack_width: int = 1024,
    max_padding: float = 0.125,
    costs: ForwardCosts | None = None,
) -> list[PackedBatch]:
    """Longest first; each batch's rows are as long as its longest trace; with `pack` and rows no longer than
    `pack_width`, a trace goes into the first row with room left (first-fit decreasing), else into a new row
    while rows x width fits the budget and the row would be at most `max_padding` padding (and, with
    `costs`, its padding costs no more than the call it saves); else a new batch.
    (Longer rows stay unpacked: plain causal attention is faster there.)"""
    ordered = sorted(items, key=lambda p: p.length, reverse=True)
    batches: list[PackedBatch] = []
    rows: list[list[Prepared]] = []
    used: list[int] = []
    width = 0
    for p in ordered:
        packing = pack and width <= pack_width
        if rows and packing:
            slot = next((r for r, u in enumerate(used) if u + p.length <= width), None)
            if slot is not None:
                rows[slot].append(p)
                used[slot] += p.length
                continue
        padding = width - p.length
        little_padding = packing or (  # packed rows fill up later
            padding <= max_padding * width and (costs is None or costs.padding_pays(padding))
        )
        if rows and (len(rows) + 1) * width <= max_tokens and little_padding:
            rows.append([p])
            used.append(p.length)
            continue
        if rows:
            batches.append(PackedBatch(rows))
        rows, used, width = [[p]], [p.length], p.length
    if rows:
        batches.append(PackedBatch(rows))
    return batches


def plan(
    items: Sequence[Prepared],
    max_tokens: int,
    *,
    share: bool | Literal["auto"],
    pack: bool,
    pack_width: int = 1024,
    costs: ForwardCosts | None = None,
) -> list[Batch]:
    """Batches for one look-ahead window: shared-prompt groups first (`share="auto"`: where `costs` says
    sharing gains; True: wherever the padding rule allows), then the rest packed (padding limited by
    `costs` where given)."""
    if share:
        groups, alone = shared_groups(items)
    else:
        groups, alone = [], list(items)
    out: list[Batch] = []
    for g in groups:
        batches, left = plan_shared(g, max_tokens, costs if share == "auto" else None)
        out.extend(batches)
        alone.extend(left)
    out.extend(plan_packed(alone, max_tokens, pack, pack_width, costs=costs))
    return out
