"""Pure-Python reference segmenter: ../shared/SEGMENTATION.md rule by rule, written for clarity.

It is the ground truth the C++ segmenter is tested against. Offsets are `str` indices (code points).
A "piece" is the text between two markers; each piece is segmented on its own, as if it were a whole
text (line starts, look-behind and look-ahead never cross a marker). Rulesets are named by their
versioned names ("reasoning-v1", "reasoning-v2", "simple"; see `rdpt_fast.segmentation.resolve_rules`)
or given as a compiled boundary pattern.
"""

from __future__ import annotations

import re

from rdpt_fast.reference.markers import DEFAULT_MARKERS, Span, split_at_markers
from rdpt_fast.reference.regions import RegionIndex, find_regions
from rdpt_fast.reference.sentence_ends import sentence_end_boundaries, whitespace_end
from rdpt_fast.segments import CODE, MARKER, TEXT

__all__ = ["DEFAULT_MARKERS", "REASONING_VERSIONS", "protected_regions", "segment_spans"]

REASONING_VERSIONS = {"reasoning-v1": 1, "reasoning-v2": 2}
SIMPLE_TERMINATOR_RUN = re.compile(r"[.!?]+")
WHITESPACE_RUN = re.compile(r"\s+")  # \s on str patterns is exactly str.isspace()


def has_line_break(s: str) -> bool:
    return "\n" in s or "\r" in s


def line_break_boundaries(t: str) -> set[int]:
    """Rule 3: the end of every whitespace run that contains a line break."""
    return {m.end() for m in WHITESPACE_RUN.finditer(t) if has_line_break(m.group())}


def reasoning_boundaries(t: str, version: int) -> tuple[set[int], set[int]]:
    """Boundaries of one piece under the "reasoning" rules, and the start positions of fences."""
    regions = find_regions(t, version)
    index = RegionIndex(regions)
    boundaries = {b for b in line_break_boundaries(t) if not index.strictly_inside(b)}
    boundaries |= sentence_end_boundaries(t, index, version)
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


def segment_piece(t: str, rules: str | re.Pattern[str]) -> list[Span]:
    """Segment one piece (text between markers); offsets relative to the piece."""
    fences: set[int] = set()
    if isinstance(rules, re.Pattern):
        boundaries = pattern_boundaries(t, rules)
    elif rules in REASONING_VERSIONS:
        boundaries, fences = reasoning_boundaries(t, REASONING_VERSIONS[rules])
    elif rules == "simple":
        boundaries = simple_boundaries(t)
    else:
        raise ValueError(f"unknown ruleset {rules!r} (expected a versioned name or a compiled pattern)")
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
    rules: str | re.Pattern[str] = "reasoning-v2",
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


def protected_regions(
    text: str, *, version: int = 2, markers: tuple[str, ...] = DEFAULT_MARKERS
) -> list[tuple[int, int, bool]]:
    """The protected regions `(start, end, is_fence)` of `text` (rule 2 of the "reasoning" ruleset of
    that version), found in each piece between markers; offsets into `text`."""
    out = []
    for s, e, kind in split_at_markers(text, markers):
        if kind != MARKER:
            out.extend((s + a, s + b, fence) for a, b, fence in find_regions(text[s:e], version))
    return out
