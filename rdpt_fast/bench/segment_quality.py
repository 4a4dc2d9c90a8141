"""Where segmenters put boundaries that a reader would not: inside math and inside code fences.

Regions are those of rule 2 of the "reasoning" ruleset, version 2 (../shared/SEGMENTATION.md: code
fences, `$$ $$`, `\\[ \\]`, inline `$ $` by pandoc's rule and `\\( \\)`), found by the reference
implementation. A boundary is the start of a sentence after the first, moved past any whitespace it
starts with; it is inside a region when it falls strictly between the region's start and end.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from rdpt_fast.reference.segmenter import protected_regions


def boundaries(text: str, starts: list[int]) -> list[int]:
    """Sorted distinct boundaries of a segmenter that starts sentences at `starts`: each moved past
    leading whitespace; those before the first non-space character or at the end dropped."""
    first = len(text) - len(text.lstrip())
    out = set()
    for s in starts:
        while s < len(text) and text[s].isspace():
            s += 1
        if first < s < len(text):
            out.add(s)
    return sorted(out)


def count_inside(points: list[int], regions: list[tuple[int, int]]) -> int:
    """How many of the sorted `points` fall strictly inside one of the disjoint `regions`."""
    total = 0
    for start, end in regions:
        total += bisect.bisect_left(points, end) - bisect.bisect_right(points, start)
    return total


class QualitySample:
    """A fixed list of texts with their math regions and code fences, computed once."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.math: list[list[tuple[int, int]]] = []
        self.fences: list[list[tuple[int, int]]] = []
        for t in texts:
            regions = protected_regions(t)
            self.math.append([(s, e) for s, e, fence in regions if not fence])
            self.fences.append([(s, e) for s, e, fence in regions if fence])

    def summary(self) -> dict[str, int]:
        return {
            "traces": len(self.texts),
            "chars": sum(map(len, self.texts)),
            "math_regions": sum(map(len, self.math)),
            "code_fences": sum(map(len, self.fences)),
        }

    def count(self, starts: Callable[[str], list[int]]) -> dict[str, int]:
        """Boundaries of one segmenter over the sample: in all, inside math, inside code fences."""
        counts = {"boundaries": 0, "in_math": 0, "in_code": 0}
        for text, math, fences in zip(self.texts, self.math, self.fences):
            points = boundaries(text, starts(text))
            counts["boundaries"] += len(points)
            counts["in_math"] += count_inside(points, math)
            counts["in_code"] += count_inside(points, fences)
        return counts
