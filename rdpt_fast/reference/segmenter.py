"""Pure-Python reference segmenter: ../shared/SEGMENTATION.md rule by rule, written for clarity.

It is the ground truth the C++ segmenter is tested against. Offsets are `str` indices (code points).
A "piece" is the text between two markers; each piece is segmented on its own, as if it were a whole
text (line starts, look-behind and look-ahead never cross a marker).
"""

from __future__ import annotations

import bisect
import re
import unicodedata

from rdpt_fast.segments import CODE, MARKER, TEXT

DEFAULT_MARKERS: tuple[str, ...] = (
    "<think>",
    "</think>",
    "<|begin_of_thought|>",
    "<|end_of_thought|>",
    "<|begin_of_solution|>",
    "<|end_of_solution|>",
)
ABBREVIATIONS = frozenset(
    [
        "e.g",
        "i.e",
        "etc",
        "vs",
        "cf",
        "approx",
        "resp",
        "fig",
        "figs",
        "eq",
        "eqs",
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "st",
        "jr",
        "sr",
        "al",
        "ca",
        "viz",
        "ref",
        "refs",
        "sec",
        "ch",
        "vol",
        "pp",
        "incl",
        "esp",
        "dept",
        "est",
    ]
)
ROMAN_NUMERALS = frozenset(["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"])
CLOSING = frozenset(")]}\"'”’»")
STRONG_TERMINATORS = frozenset("?!‽")
WEAK_TERMINATORS = frozenset(".…")
CJK_TERMINATORS = frozenset("。！？．")
TERMINATOR_RUN = re.compile("[?!‽.…。！？．]+")
SIMPLE_TERMINATOR_RUN = re.compile(r"[.!?]+")
WHITESPACE_RUN = re.compile(r"\s+")  # \s on str patterns is exactly str.isspace()
LINE_BREAKS = "\n\r"

Span = tuple[int, int, int]  # (start, end, kind code)


def is_lowercase_letter(c: str) -> bool:
    return unicodedata.category(c) == "Ll"


def has_line_break(s: str) -> bool:
    return "\n" in s or "\r" in s


def is_line_start(t: str, i: int) -> bool:
    return i == 0 or t[i - 1] in LINE_BREAKS


# ---------------------------------------------------------------- rule 1: markers


def split_at_markers(text: str, markers: tuple[str, ...]) -> list[Span]:
    """Cut `text` into marker spans (a marker plus the whitespace right after it) and the pieces
    between them (kind TEXT here; segmented later). At one position the longest marker wins."""
    if not markers:
        return [(0, len(text), TEXT)] if text else []
    alternatives = "|".join(re.escape(m) for m in sorted(markers, key=len, reverse=True))
    pieces: list[Span] = []
    pos = 0
    for m in re.finditer(f"(?:{alternatives})\\s*", text):
        if m.start() > pos:
            pieces.append((pos, m.start(), TEXT))
        pieces.append((m.start(), m.end(), MARKER))
        pos = m.end()
    if pos < len(text):
        pieces.append((pos, len(text), TEXT))
    return pieces


# ---------------------------------------------------------------- rule 2: protected regions


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


def unescaped_dollars(t: str, start: int, width: int, limit: int) -> int | None:
    """First position >= start, < limit, where `width` dollar signs start and the first is not
    preceded by a backslash."""
    k = t.find("$" * width, start, limit)
    while k != -1 and t[k - 1] == "\\":
        k = t.find("$" * width, k + 1, limit)
    return None if k == -1 else k


def line_limit(t: str, i: int) -> int:
    """Position of the first line break at or after `i` (or len(t))."""
    ends = [k for k in (t.find("\n", i), t.find("\r", i)) if k != -1]
    return min(ends) if ends else len(t)


class CloserSearch:
    """`t.find(closer, start)` that remembers its last answer: the answer is the same for any start
    up to the position found (or for any start at all when none was found), so many unclosed `\\[`
    stay linear."""

    def __init__(self, t: str):
        self.t = t
        self.last: dict[str, tuple[int, int]] = {}  # closer -> (searched from, found at or -1)

    def find(self, closer: str, start: int) -> int:
        if closer in self.last:
            s0, found = self.last[closer]
            if s0 <= start and (found == -1 or start <= found):
                return found
        found = self.t.find(closer, start)
        self.last[closer] = (start, found)
        return found


def open_region(t: str, i: int, closers: CloserSearch) -> tuple[int | None, int, bool] | None:
    """At position i: None when no opener starts there; else `(end, length, is_fence)` where `end`
    is the end of the region it opens (None when its closer does not exist: literal text) and
    `length` is the opener's length."""
    if t[i] == "`" and fence_at(t, i):
        return fence_close(t, i), 3, True
    if t[i] == "$" and (i == 0 or t[i - 1] != "\\"):
        if t.startswith("$$", i):
            k = unescaped_dollars(t, i + 2, 2, len(t))
            return (None if k is None else k + 2), 2, False
        k = unescaped_dollars(t, i + 1, 1, line_limit(t, i))
        return (None if k is None else k + 1), 1, False
    if t.startswith("\\[", i):
        k = closers.find("\\]", i + 2)
        return (None if k == -1 else k + 2), 2, False
    if t.startswith("\\(", i):
        k = closers.find("\\)", i + 2)
        return (None if k == -1 or k > line_limit(t, i) else k + 2), 2, False
    return None


def find_regions(t: str) -> list[tuple[int, int, bool]]:
    """Protected regions `(start, end, is_fence)`, scanned left to right, earliest opener first.
    An opener without its closer is literal text and the scan goes on after it."""
    regions: list[tuple[int, int, bool]] = []
    closers = CloserSearch(t)
    i = 0
    while i < len(t):
        opened = open_region(t, i, closers)
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


# ---------------------------------------------------------------- rule 4 exceptions


def word_before_is_abbreviation(t: str, run_start: int) -> bool:
    """Exception b: the run of letters and dots right before the terminator run is a listed
    abbreviation (ASCII, case-insensitive) or has a dot inside it (`U.S`, `a.m`)."""
    w = run_start
    while w > 0 and (t[w - 1].isalpha() or t[w - 1] == "."):
        w -= 1
    word = t[w:run_start].lstrip(".")
    return "." in word or (word.isascii() and word.lower() in ABBREVIATIONS)


def ends_list_number(t: str, run_start: int, run_end: int) -> bool:
    """Exception c: a single `.` right after a list number at the start of a line: optional indent,
    then ASCII digits, one letter, or a roman numeral i..xii."""
    if run_end - run_start != 1 or t[run_start] != ".":
        return False
    w = run_start
    while w > 0 and "0" <= t[w - 1] <= "9":
        w -= 1
    if w == run_start:
        while w > 0 and t[w - 1].isalpha():
            w -= 1
        token = t[w:run_start]
        if not (len(token) == 1 or (token.isascii() and token.lower() in ROMAN_NUMERALS)):
            return False
    while w > 0 and t[w - 1].isspace() and t[w - 1] not in LINE_BREAKS:
        w -= 1
    return is_line_start(t, w)


# ---------------------------------------------------------------- boundaries per ruleset


class RegionIndex:
    """Sorted, disjoint protected regions with position queries."""

    def __init__(self, regions: list[tuple[int, int, bool]]):
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


def whitespace_end(t: str, i: int) -> int:
    while i < len(t) and t[i].isspace():
        i += 1
    return i


def line_break_boundaries(t: str) -> set[int]:
    """Rule 3: the end of every whitespace run that contains a line break."""
    return {m.end() for m in WHITESPACE_RUN.finditer(t) if has_line_break(m.group())}


def reasoning_boundaries(t: str) -> tuple[set[int], set[int]]:
    """Boundaries of one piece under the "reasoning" rules, and the start positions of fences."""
    regions = find_regions(t)
    index = RegionIndex(regions)
    boundaries = {b for b in line_break_boundaries(t) if not index.strictly_inside(b)}
    for m in TERMINATOR_RUN.finditer(t):
        a, b = m.start(), m.end()
        if index.covers(a):
            continue
        run = m.group()
        j = b
        while j < len(t) and t[j] in CLOSING:
            j += 1
        k = whitespace_end(t, j)
        if any(c in CJK_TERMINATORS for c in run):
            boundaries.add(k)
            continue
        if k == j or has_line_break(t[j:k]):
            continue  # no whitespace: not an end; a line break: rule 3 already put the boundary there
        if not any(c in STRONG_TERMINATORS for c in run):
            if k < len(t) and is_lowercase_letter(t[k]):
                continue
            if word_before_is_abbreviation(t, a) or ends_list_number(t, a, b):
                continue
        boundaries.add(k)
    fences = {s for s, _, is_fence in regions if is_fence}
    return boundaries, fences


def simple_boundaries(t: str) -> set[int]:
    """The "simple" rules: after every run of `.!?` followed by whitespace, and rule 3."""
    boundaries = line_break_boundaries(t)
    for m in SIMPLE_TERMINATOR_RUN.finditer(t):
        k = whitespace_end(t, m.end())
        if k > m.end():
            boundaries.add(k)
    return boundaries


def pattern_boundaries(t: str, pattern: re.Pattern[str]) -> set[int]:
    """Custom rules: each match of `pattern` ends a segment; the whitespace after it joins it."""
    return {whitespace_end(t, m.end()) for m in pattern.finditer(t)}


# ---------------------------------------------------------------- assembly


def segment_piece(t: str, rules: str | re.Pattern[str]) -> list[Span]:
    """Segment one piece (text between markers); offsets relative to the piece."""
    fences: set[int] = set()
    if isinstance(rules, re.Pattern):
        boundaries = pattern_boundaries(t, rules)
    elif rules == "reasoning":
        boundaries, fences = reasoning_boundaries(t)
    else:
        boundaries = simple_boundaries(t)
    first_non_space = whitespace_end(t, 0)
    cuts = sorted(b for b in boundaries if first_non_space < b < len(t))
    spans = []
    for s, e in zip([0, *cuts], [*cuts, len(t)]):
        kind = CODE if whitespace_end(t, s) in fences else TEXT
        spans.append((s, e, kind))
    return spans


def merge_short(text: str, spans: list[Span], min_chars: int) -> list[Span]:
    """`min_chars`: a text segment with fewer than `min_chars` non-whitespace characters is merged
    into the following text segment, or into the previous one when no text segment follows it
    directly; markers and code are never merged."""

    def weight(s: int, e: int) -> int:
        return sum(1 for c in text[s:e] if not c.isspace())

    out: list[Span] = []
    pending: int | None = None  # start of short text carried into the next text segment
    for idx, (s, e, kind) in enumerate(spans):
        if kind != TEXT:
            out.append((s, e, kind))
            continue
        if pending is not None:
            s, pending = pending, None
        next_is_text = idx + 1 < len(spans) and spans[idx + 1][2] == TEXT
        if weight(s, e) < min_chars:
            if next_is_text:
                pending = s
                continue
            if out and out[-1][2] == TEXT and out[-1][1] == s:
                out[-1] = (out[-1][0], e, TEXT)
                continue
        out.append((s, e, kind))
    return out


def segment_spans(
    text: str,
    *,
    rules: str | re.Pattern[str] = "reasoning",
    markers: tuple[str, ...] = DEFAULT_MARKERS,
    min_chars: int = 0,
) -> list[Span]:
    """Segment `text`: a partition into `(start, end, kind)` spans in code points."""
    spans: list[Span] = []
    leading_space: int | None = None  # a whitespace-only first piece joins the next segment
    for s, e, kind in split_at_markers(text, markers):
        if kind == MARKER:
            if leading_space is not None:
                s, leading_space = leading_space, None
            spans.append((s, e, MARKER))
        elif text[s:e].isspace() and s == 0 and e < len(text):
            leading_space = s
        else:
            spans.extend((s + a, s + b, k) for a, b, k in segment_piece(text[s:e], rules))
    if min_chars > 0:
        spans = merge_short(text, spans, min_chars)
    return spans
