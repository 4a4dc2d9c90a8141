"""The `Segments` container."""

import numpy as np

from rdpt_fast import segment
from rdpt_fast.segments import KIND_NAMES, Segment


def test_container_protocol() -> None:
    text = "<think>\nOne. Two.\n```\ncode\n```\n"
    segs = segment(text)
    assert segs.starts.dtype == np.int64 and segs.ends.dtype == np.int64
    assert len(segs) == 4
    assert list(segs) == [
        Segment(0, 8, "marker"),
        Segment(8, 13, "text"),
        Segment(13, 18, "text"),
        Segment(18, 31, "code"),
    ]
    assert segs[1] == Segment(8, 13, "text")
    assert segs.texts(text) == ["<think>\n", "One. ", "Two.\n", "```\ncode\n```\n"]
    assert segs.kind_names == [KIND_NAMES[k] for k in segs.kinds]
    assert segs.to_dict() == {
        "starts": [0, 8, 13, 18],
        "ends": [8, 13, 18, 31],
        "kinds": ["marker", "text", "text", "code"],
    }
    assert segs == segment(text, backend="reference")
    assert segs != segment("One.")
    assert "Segment(start=0, end=8, kind='marker')" in repr(segs)


def test_offsets_are_code_points_not_bytes() -> None:
    text = "Über 😀 größer. Nächster Satz."
    segs = segment(text)
    assert segs.texts(text) == ["Über 😀 größer. ", "Nächster Satz."]
    assert segs.ends[0] == len("Über 😀 größer. ")
