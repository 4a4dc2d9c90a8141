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


def member_chunks(lengths: Sequence[int], group: PrefixGroup, max_tokens: int) -> list[list[int]]:
    """A group's members split so that each chunk's continuation rows x width <= `max_tokens`."""
    tails = [n - group.prefix_length for n in lengths]
    return row_batches(tails, group.members, max(max_tokens, 1))
