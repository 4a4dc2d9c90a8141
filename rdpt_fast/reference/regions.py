"""Rule 2 of ../shared/SEGMENTATION.md: protected regions (code fences, display and inline math),
reference implementation. `version` is the "reasoning" ruleset version (1 or 2): they differ only in
when a single `$` opens and closes inline math. Offsets are `str` indices within one piece."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

LINE_BREAKS = "\n\r"
# Version 2 (pandoc's rule): a closing `$` has a non-space, non-backslash character before it and no
# ASCII digit after it.
INLINE_DOLLAR_CLOSER_V2 = re.compile(r"(?<=[^\s\\])\$(?![0-9])")

Region = tuple[int, int, bool]  # (start, end, is_fence)


def is_line_start(t: str, i: int) -> bool:
    return i == 0 or t[i - 1] in LINE_BREAKS


def fence_at(t: str, i: int) -> bool:
    """True when three backticks start at `i` after at most 3 spaces of indent at a line start."""
    if not t.startswith("```", i):
        return False
    indent = 0
    while indent < 4 and i - indent > 0 and t[i - indent - 1] == " ":
        indent += 1
    return indent <= 3 and is_line_start(t, i - indent)


def line_end_after_break(t: str, i: int) -> int:
    """End of the line holding `i`, its line break (`\\n`, `\\r\\n` or `\\r`) included."""
    j = i
    while j < len(t) and t[j] not in LINE_BREAKS:
        j += 1
    if t.startswith("\r\n", j):
        return j + 2
    return min(j + 1, len(t))


def fence_close(t: str, opener: int) -> int | None:
    """End of the region opened by the fence at `opener`: through the next fence line, newline
    included; None when there is no such line."""
    line = line_end_after_break(t, opener)
    while line < len(t):
        j = line
        while j < len(t) and j - line < 3 and t[j] == " ":
            j += 1
        if fence_at(t, j):
            return line_end_after_break(t, j)
        line = line_end_after_break(t, line)
    return None


def line_limit(t: str, i: int) -> int:
    """Position of the first line break at or after `i` (or len(t))."""
    ends = [k for k in (t.find("\n", i), t.find("\r", i)) if k != -1]
    return min(ends) if ends else len(t)


class CachedSearch:
    """Searches whose answer depends only on where they start: a search that found its target at `f`
    gives `f` for every start up to `f` (and one that found nothing, nothing for any later start), so
    remembering the last answer per key keeps many unclosed openers linear."""

    def __init__(self) -> None:
        self.last: dict[str, tuple[int, int]] = {}  # key -> (searched from, found at or -1)

    def find(self, key: str, start: int, search: Callable[[int], int]) -> int:
        if key in self.last:
            s0, found = self.last[key]
            if s0 <= start and (found == -1 or start <= found):
                return found
        found = search(start)
        self.last[key] = (start, found)
        return found


def unescaped_dollars(t: str, start: int, width: int) -> int:
    """First position >= start where `width` dollar signs start, the first not preceded by a
    backslash; -1 when there is none."""
    k = t.find("$" * width, start)
    while k != -1 and t[k - 1] == "\\":
        k = t.find("$" * width, k + 1)
    return k


def first_closer_v2(t: str, start: int) -> int:
    """First closing `$` of inline math (version 2) at or after `start`, or -1."""
    m = INLINE_DOLLAR_CLOSER_V2.search(t, start)
    return -1 if m is None else m.start()


def cached_line_limit(t: str, i: int, cache: CachedSearch) -> int:
    """`line_limit(t, i)`, remembered (-1 never comes back: len(t) is an answer)."""
    return cache.find("line break", i, lambda s: line_limit(t, s))


def inline_dollar_end(t: str, i: int, version: int, cache: CachedSearch) -> int | None:
    """End of inline math opened by the `$` at `i` (not the first of `$$`), None when it opens none."""
    limit = cached_line_limit(t, i, cache)
    if version == 1:
        k = cache.find("$", i + 1, lambda s: unescaped_dollars(t, s, 1))
    elif i + 1 >= len(t) or t[i + 1].isspace():
        return None  # version 2: an opening `$` is followed by a non-space character
    else:
        k = cache.find("$v2", i + 1, lambda s: first_closer_v2(t, s))
    return None if k == -1 or k >= limit else k + 1


def open_region(t: str, i: int, version: int, cache: CachedSearch) -> tuple[int | None, int, bool] | None:
    """At position i: None when no opener starts there; else `(end, length, is_fence)` where `end`
    is the end of the region it opens (None when its closer does not exist: literal text) and
    `length` is the opener's length."""
    if t[i] == "`" and fence_at(t, i):
        return fence_close(t, i), 3, True
    if t[i] == "$" and (i == 0 or t[i - 1] != "\\"):
        if t.startswith("$$", i):
            k = cache.find("$$", i + 2, lambda s: unescaped_dollars(t, s, 2))
            return (None if k == -1 else k + 2), 2, False
        return inline_dollar_end(t, i, version, cache), 1, False
    if t.startswith("\\[", i):
        k = cache.find("\\]", i + 2, lambda s: t.find("\\]", s))
        return (None if k == -1 else k + 2), 2, False
    if t.startswith("\\(", i):
        k = cache.find("\\)", i + 2, lambda s: t.find("\\)", s))
        return (None if k == -1 or k > cached_line_limit(t, i, cache) else k + 2), 2, False
    return None


def find_regions(t: str, version: int) -> list[Region]:
    """Protected regions `(start, end, is_fence)`, scanned left to right, earliest opener first.
    An opener without its closer is literal text and the scan goes on after it."""
    regions: list[Region] = []
    cache = CachedSearch()
    i = 0
    while i < len(t):
        opened = open_region(t, i, version, cache)
        if opened is None:
            i += 1
            continue
        end, length, is_fence = opened
        if end is None:
            i += length
            continue
        regions.append((i, end, is_fence))
        i = end
    return regions


class RegionIndex:
    """Sorted, disjoint protected regions with position queries."""

    def __init__(self, regions: list[Region]):
        self.starts = [s for s, _, _ in regions]
        self.ends = [e for _, e, _ in regions]

    def strictly_inside(self, pos: int) -> bool:
        """True when a boundary at `pos` would fall strictly inside a region."""
        i = bisect.bisect_left(self.starts, pos) - 1
        return i >= 0 and pos < self.ends[i]

    def covers(self, pos: int) -> bool:
        """True when the character at `pos` belongs to a region."""
        i = bisect.bisect_right(self.starts, pos) - 1
        return i >= 0 and pos < self.ends[i]
