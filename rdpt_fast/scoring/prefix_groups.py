"""Planning forward passes for token sequences: shared-prefix groups and padded row batches.

Sequences that start with the same tokens (the K choices of one question, K samples of one prompt)
form a group whose common prefix runs once; its KV cache is continued by each member's remaining
tokens. Everything else runs one sequence per row, right-padded, rows x width <= the token budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Shortest common prefix (tokens) worth a separate prefix pass.
MIN_SHARED_PREFIX = 4


@dataclass(frozen=True)
class PrefixGroup:
    """Sequences `members` (indices into the planned list) sharing their first `prefix_length` tokens."""

    prefix_length: int
    members: tuple[int, ...]


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token sequences."""
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def plan_groups(
    seqs: Sequence[Sequence[int]], *, share: bool, min_prefix: int = MIN_SHARED_PREFIX
) -> tuple[list[PrefixGroup], list[int]]:
    """(groups of 2+ sequences sharing at least `min_prefix` leading tokens, sequences left alone).

    Sequences are visited in token order; a sequence joins the current group when it shares at least
    `min_prefix` tokens with the group's prefix, which shrinks to what all members share. A group's
    prefix is at most every member's length. With `share` False every sequence is alone.
    """
    if not share:
        return [], list(range(len(seqs)))
    order = sorted(range(len(seqs)), key=lambda i: list(seqs[i]))
    groups: list[PrefixGroup] = []
    alone: list[int] = []
    current: list[int] = []
    prefix = 0

    def close() -> None:
        if len(current) > 1:
            groups.append(PrefixGroup(prefix, tuple(current)))
        else:
            alone.extend(current)

    for i in order:
        shared = common_prefix(seqs[current[0]], seqs[i]) if current else 0
        if current and min(shared, prefix) >= min_prefix:
            current.append(i)
            prefix = min(shared, prefix)
            continue
        close()
        current, prefix = [i], len(seqs[i])
    close()
    return groups, sorted(alone)


def row_batches(lengths: Sequence[int], indices: Sequence[int], max_tokens: int) -> list[list[int]]:
    """`indices` split into row batches (longest first) with rows x longest length <= `max_tokens`
    (a sequence longer than the budget gets a batch of its own)."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in sorted(indices, key=lambda j: -lengths[j]):
        width = lengths[current[0]] if current else lengths[i]
        if current and (len(current) + 1) * width > max_tokens:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def group_batches(
    groups: Sequence[PrefixGroup], lengths: Sequence[int], max_tokens: int
) -> list[list[PrefixGroup]]:
    """`groups` split into batches whose prefix pass (groups x longest prefix) and tail pass (members x
    longest tail) each stay within `max_tokens` (a group larger than that gets a batch of its own)."""
    batches: list[list[PrefixGroup]] = []
    current: list[PrefixGroup] = []
    for g in sorted(groups, key=lambda g: -g.prefix_length):
        trial = [*current, g]
        prefix_cost = len(trial) * max(x.prefix_length for x in trial)
        tails = [lengths[i] - x.prefix_length for x in trial for i in x.members]
        if current and max(prefix_cost, len(tails) * max(tails)) > max_tokens:
            batches.append(current)
            trial = [g]
        current = trial
    if current:
        batches.append(current)
    return batches
