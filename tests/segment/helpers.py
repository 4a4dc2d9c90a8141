"""Helpers for segmentation tests: spans rendered with `|` at every boundary, as in SEGMENTATION.md."""

from __future__ import annotations

from rdpt_fast import Segments

BACKENDS = ("cpp", "reference")


def bars(text: str, segments: Segments) -> str:
    """`text` with `|` inserted at each boundary between two segments."""
    return "|".join(segments.texts(text))


def check_partition(text: str, segments: Segments) -> None:
    """The invariants of every segmentation: a partition in order, no whitespace-only segment
    (except a whitespace-only text), leading whitespace in the first segment."""
    if not text:
        assert len(segments) == 0
        return
    starts, ends = segments.starts.tolist(), segments.ends.tolist()
    assert starts[0] == 0 and ends[-1] == len(text)
    assert all(s < e for s, e in zip(starts, ends))
    assert all(e == s for e, s in zip(ends, starts[1:]))
    if not text.isspace():
        assert all(not text[s:e].isspace() for s, e in zip(starts, ends))
    else:
        assert len(segments) == 1
