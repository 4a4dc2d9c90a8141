"""Token-to-segment assignment: hand-worked cases and C++ == reference on random tokenizations."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rdpt_fast import Segments, assign_tokens, segment

from .helpers import BACKENDS


@pytest.mark.parametrize("backend", BACKENDS)
def test_hand_worked(backend: str) -> None:
    text = "Hi there. Next one.\nLast"
    segs = segment(text)
    assert segs.texts(text) == ["Hi there. ", "Next one.\n", "Last"]
    offsets = [
        (0, 2),    # "Hi" -> 0
        (2, 8),    # " there" -> 0
        (8, 9),    # "." -> 0
        (9, 14),   # " Next": first non-space is N -> 1
        (14, 18),  # " one" -> 1
        (18, 19),  # "." -> 1
        (19, 20),  # "\n" whitespace-only: its first character is in segment 1
        (20, 24),  # "Last" -> 2
        (0, 0),    # empty (a special token) -> -1
        (24, 30),  # outside the text -> -1
        (22, 30),  # straddles the end: "st" -> 2
    ]  # fmt: skip
    got = assign_tokens(offsets, segs, text, backend=backend)
    assert got.dtype == np.int64
    assert got.tolist() == [0, 0, 0, 1, 1, 1, 1, 2, -1, -1, 2]


@pytest.mark.parametrize("backend", BACKENDS)
def test_segments_need_not_cover_the_text(backend: str) -> None:
    # a prompt followed by a response: only the response [7, 17) is segmented
    text = "PROMPT\n Answer. More"
    segs = Segments.from_lists([7, 16], [16, 20], [0, 0])
    offsets = [(0, 6), (6, 7), (6, 14), (14, 15), (15, 20)]
    # "\n" at 6 is whitespace-only and its first character lies in no segment; "\n Answer"'s
    # first non-space character is A (segment 0)
    assert assign_tokens(offsets, segs, text, backend=backend).tolist() == [-1, -1, 0, 0, 1]


@pytest.mark.parametrize("backend", BACKENDS)
def test_empty_inputs(backend: str) -> None:
    segs = segment("")
    assert assign_tokens(np.zeros((0, 2), dtype=np.int64), segs, "", backend=backend).tolist() == []
    assert assign_tokens([(0, 1)], segs, "", backend=backend).tolist() == [-1]


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("ab .?\n\t😀é我")), max_size=80),
    cuts=st.lists(st.integers(0, 90), max_size=40),
    jitter=st.lists(st.tuples(st.integers(-3, 95), st.integers(-3, 95)), max_size=10),
)
def test_cpp_matches_reference(text: str, cuts: list[int], jitter: list[tuple[int, int]]) -> None:
    # a tokenization (sorted cut points) plus arbitrary, possibly overlapping or reversed spans
    points = sorted({0, len(text), *(c for c in cuts if c <= len(text))})
    offsets = list(itertools.pairwise(points)) + jitter
    segs = segment(text)
    cpp = assign_tokens(offsets, segs, text)
    ref = assign_tokens(offsets, segs, text, backend="reference")
    assert cpp.tolist() == ref.tolist()
    # on a real tokenization every token of a non-empty text lands in a segment
    assert (cpp[: len(points) - 1] >= 0).all()
