"""Rule 1 of ../shared/SEGMENTATION.md: markers are segments of their own (reference implementation)."""

from __future__ import annotations

import re

from rdpt_fast.segments import MARKER, TEXT

DEFAULT_MARKERS: tuple[str, ...] = (
    "<think>",
    "</think>",
    "<|begin_of_thought|>",
    "<|end_of_thought|>",
    "<|begin_of_solution|>",
    "<|end_of_solution|>",
)

Span = tuple[int, int, int]  # (start, end, kind code)


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
