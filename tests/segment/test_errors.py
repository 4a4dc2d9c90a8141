"""Bad input gets a clear error naming what is wrong."""

import re

import numpy as np
import pytest

from rdpt_fast import Segments, assign_tokens, segment, segment_batch

from .helpers import BACKENDS


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("bad", [None, b"bytes", 3, ["a"]])
def test_non_str_is_type_error(bad, backend: str) -> None:
    with pytest.raises(TypeError, match="must be str"):
        segment(bad, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_unpaired_surrogate_names_position(backend: str) -> None:
    with pytest.raises(ValueError, match="at code point 3"):
        segment("abc\ud800def", backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_errors_name_the_text(backend: str) -> None:
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        segment_batch(["ok", 7, "fine"], backend=backend)
    with pytest.raises(ValueError, match=r"texts\[2\].*code point 1"):
        segment_batch(["ok", "fine", "x\udfffy"], backend=backend)


def test_paired_surrogates_written_as_one_character_are_fine() -> None:
    text = "a 😀. B"  # an astral character is one code point in Python
    assert segment(text).texts(text) == ["a 😀. ", "B"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rules": "fancy"}, "rules must be"),
        ({"backend": "rust"}, "backend must be"),
        ({"min_chars": -1}, "min_chars"),
        ({"markers": [""]}, r"markers\[0\]"),
        ({"markers": ["<a>", " \n"]}, r"markers\[1\]"),
        ({"markers": [5]}, r"markers\[0\]"),
    ],
)
def test_bad_options(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        segment("text", **kwargs)


def test_custom_pattern_must_be_compiled() -> None:
    with pytest.raises(ValueError, match="rules must be"):
        segment("a;b", rules=";")
    assert len(segment("a; b", rules=re.compile(";"))) == 2


def test_assign_tokens_rejects_unsorted_segments() -> None:
    segs = Segments.from_lists([5, 0], [9, 5], [0, 0])
    with pytest.raises(ValueError, match="sorted and disjoint; segment 1"):
        assign_tokens(np.array([[0, 1]]), segs, "0123456789")
    with pytest.raises(ValueError, match="shape"):
        assign_tokens(np.zeros((2, 3), dtype=np.int64), Segments.from_lists([0], [3], [0]), "abc")
