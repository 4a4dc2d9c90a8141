"""Type stub of the C++ core (csrc/bindings.cpp). Call it through `rdpt_fast.segmentation`, which checks
the options and names errors; offsets are code points into the text."""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Spans = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.uint8]]

def segment(text: str, rules: str, markers: Sequence[str], min_chars: int) -> Spans:
    """Segment one text -> (starts, ends, kinds); `rules` is a versioned ruleset name."""

def segment_batch(
    texts: Sequence[str], rules: str, markers: Sequence[str], min_chars: int, num_threads: int
) -> list[Spans]:
    """Segment many texts on a thread pool (0 threads: all cores), the GIL released."""

def scan_steps(text: str, rules: str, markers: Sequence[str], min_chars: int) -> int:
    """Work of segmenting one text: code points and bitmap words read after decoding (for tests)."""

def assign_tokens(
    token_offsets: npt.ArrayLike, starts: npt.ArrayLike, ends: npt.ArrayLike, text: str
) -> npt.NDArray[np.int64]:
    """Segment index of each token (-1: none)."""

def char_class(codepoint: int) -> int:
    """Bit 0 whitespace, bit 1 letter, bit 2 lowercase, bit 3 uppercase (tests the Unicode tables)."""
