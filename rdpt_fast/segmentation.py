"""Public segmentation API: `segment`, `segment_batch`, `assign_tokens`, `resolve_rules`.

Two implementations of ../shared/SEGMENTATION.md sit behind `backend=`: "cpp" (the C++ core,
default) and "reference" (plain Python, `rdpt_fast.reference`). A custom boundary pattern
(`rules=re.compile(...)`) always runs in Python. Rulesets: "reasoning" (the latest version, now
"reasoning-v2"), "reasoning-v1" (to reproduce earlier runs), "reasoning-v2", "simple".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import numpy as np

from rdpt_fast import _core
from rdpt_fast.reference.assign import assign_tokens_reference
from rdpt_fast.reference.segmenter import DEFAULT_MARKERS, segment_spans
from rdpt_fast.segments import Segments

Rules = Literal["reasoning", "reasoning-v1", "reasoning-v2", "simple"] | re.Pattern[str]
Backend = Literal["cpp", "reference"]

#: Every ruleset name `segment` accepts, with the versioned name it stands for.
RULESETS: dict[str, str] = {
    "reasoning": "reasoning-v2",
    "reasoning-v1": "reasoning-v1",
    "reasoning-v2": "reasoning-v2",
    "simple": "simple",
}

__all__ = ["DEFAULT_MARKERS", "RULESETS", "assign_tokens", "resolve_rules", "segment", "segment_batch"]


def resolve_rules(rules: str) -> str:
    """The versioned name of a ruleset ("reasoning" -> "reasoning-v2"), to record with a run.
    Raises ValueError for an unknown name."""
    if not isinstance(rules, str) or rules not in RULESETS:
        names = ", ".join(repr(r) for r in RULESETS)
        raise ValueError(f"rules must be one of {names} or a compiled re.Pattern, got {rules!r}")
    return RULESETS[rules]


def _check_options(
    rules: Rules, markers: Sequence[str] | None, min_chars: int, backend: str
) -> tuple[str | re.Pattern[str], tuple[str, ...]]:
    """The resolved ruleset and the markers; ValueError naming the first bad option."""
    resolved = rules if isinstance(rules, re.Pattern) else resolve_rules(rules)
    if backend not in ("cpp", "reference"):
        raise ValueError(f"backend must be 'cpp' or 'reference', got {backend!r}")
    if not isinstance(min_chars, int) or min_chars < 0:
        raise ValueError(f"min_chars must be a non-negative int, got {min_chars!r}")
    markers = DEFAULT_MARKERS if markers is None else tuple(markers)
    for i, m in enumerate(markers):
        if not isinstance(m, str) or not m or m.isspace():
            raise ValueError(f"markers[{i}] must be a str with a non-whitespace character, got {m!r}")
    return resolved, markers


def _check_text(text: object, what: str) -> None:
    """TypeError for non-str; ValueError naming the position of an unpaired surrogate."""
    if not isinstance(text, str):
        raise TypeError(f"{what} must be str, not {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(
            f"{what} has an unpaired surrogate {text[e.start]!r} at code point {e.start}; "
            "it is not valid Unicode text"
        ) from None


def _reference(text: str, rules: str | re.Pattern[str], markers: tuple[str, ...], min_chars: int) -> Segments:
    spans = segment_spans(text, rules=rules, markers=markers, min_chars=min_chars)
    return Segments.from_lists([s for s, _, _ in spans], [e for _, e, _ in spans], [k for _, _, k in spans])


def segment(
    text: str,
    *,
    rules: Rules = "reasoning",
    markers: Sequence[str] | None = None,
    min_chars: int = 0,
    backend: Backend = "cpp",
) -> Segments:
    """Split `text` into sentences: a partition into spans `[start, end)` in code points.

    `rules`: "reasoning" (default: the latest version, "reasoning-v2"), "reasoning-v1", "reasoning-v2",
    "simple", or a compiled regex whose matches end a segment.
    `markers`: marker strings that are segments of their own (default `DEFAULT_MARKERS`; `()` for none).
    `min_chars`: merge text segments with fewer non-whitespace characters (0: off).
    `backend`: "cpp" or "reference" (pure Python). Raises TypeError for non-str, ValueError for text
    with unpaired surrogates.
    """
    resolved, markers = _check_options(rules, markers, min_chars, backend)
    if backend == "reference" or isinstance(resolved, re.Pattern):
        _check_text(text, "text")
        return _reference(text, resolved, markers, min_chars)
    try:
        starts, ends, kinds = _core.segment(text, resolved, list(markers), min_chars)
    except ValueError:
        _check_text(text, "text")  # names the position
        raise
    return Segments(starts, ends, kinds)


def segment_batch(
    texts: Sequence[str],
    *,
    rules: Rules = "reasoning",
    markers: Sequence[str] | None = None,
    min_chars: int = 0,
    backend: Backend = "cpp",
    num_threads: int = 0,
) -> list[Segments]:
    """`segment` for many texts; the C++ backend spreads them over `num_threads` threads (0: all
    cores) with the GIL released. Errors name the index of the offending text."""
    resolved, markers = _check_options(rules, markers, min_chars, backend)
    if not isinstance(num_threads, int) or num_threads < 0:
        raise ValueError(f"num_threads must be a non-negative int, got {num_threads!r}")
    if backend == "reference" or isinstance(resolved, re.Pattern):
        out = []
        for i, t in enumerate(texts):
            _check_text(t, f"texts[{i}]")
            out.append(_reference(t, resolved, markers, min_chars))
        return out
    if not isinstance(texts, (list, tuple)):
        texts = list(texts)
    try:
        results = _core.segment_batch(texts, resolved, list(markers), min_chars, num_threads)
    except ValueError:
        for i, t in enumerate(texts):
            _check_text(t, f"texts[{i}]")
        raise
    return [Segments(s, e, k) for s, e, k in results]


def assign_tokens(
    token_offsets: np.ndarray | Sequence[tuple[int, int]],
    segments: Segments,
    text: str,
    *,
    backend: Backend = "cpp",
) -> np.ndarray:
    """Segment index (int64) of each token, -1 for tokens in no segment.

    `token_offsets`: [num_tokens, 2] code-point spans into `text` (as a fast tokenizer's
    `return_offsets_mapping` gives them). A token belongs to the segment holding its first
    non-whitespace character; a whitespace-only token to the one holding its first character;
    empty tokens and tokens outside the text get -1.
    """
    offsets = np.asarray(token_offsets, dtype=np.int64)
    if offsets.size == 0:
        offsets = offsets.reshape(0, 2)
    if offsets.ndim != 2 or offsets.shape[1] != 2:
        raise ValueError(f"token_offsets must have shape [num_tokens, 2], got {list(offsets.shape)}")
    _check_text(text, "text")
    starts, ends = segments.starts, segments.ends
    bad = np.flatnonzero(starts > ends).tolist() + (np.flatnonzero(starts[1:] < ends[:-1]) + 1).tolist()
    if bad:
        k = min(bad)
        raise ValueError(f"segments must be sorted and disjoint; segment {k} is [{starts[k]}, {ends[k]})")
    if backend == "reference":
        spans = assign_tokens_reference(offsets.tolist(), starts.tolist(), ends.tolist(), text)
        return np.asarray(spans, dtype=np.int64)
    if backend != "cpp":
        raise ValueError(f"backend must be 'cpp' or 'reference', got {backend!r}")
    return _core.assign_tokens(offsets, segments.starts, segments.ends, text)
