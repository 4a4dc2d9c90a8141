"""Pure-Python reference for token-to-segment assignment (DESIGN.md, "Segments")."""

from __future__ import annotations

import bisect
from collections.abc import Sequence


def assign_tokens_reference(
    token_offsets: Sequence[tuple[int, int]], starts: Sequence[int], ends: Sequence[int], text: str
) -> list[int]:
    """Segment index of each token, or -1.

    A token `[s, e)` (code points of `text`) belongs to the segment containing its first
    non-whitespace character; a whitespace-only token to the segment containing its first character.
    Empty tokens, tokens outside the text and characters in no segment give -1. Segments are sorted
    and disjoint but need not cover the text.
    """
    out = []
    for s, e in token_offsets:
        s, e = max(int(s), 0), min(int(e), len(text))
        if s >= e:
            out.append(-1)
            continue
        pos = s
        while pos < e and text[pos].isspace():
            pos += 1
        if pos == e:
            pos = s
        i = bisect.bisect_right(starts, pos) - 1
        out.append(i if i >= 0 and pos < ends[i] else -1)
    return out
