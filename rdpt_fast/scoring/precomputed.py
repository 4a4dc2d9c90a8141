"""Sentence scores from precomputed per-token log-probs (`token_ids` + `logprobs` of the response under
one model), without running the model.

The token ids are decoded with the model's tokenizer incrementally, which gives each token's span in the
decoded text (code points); the decoded text must equal the response exactly, else the record is an error.
A token whose bytes end inside a character (byte-level BPE) shares the span of the character it completes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rdpt_fast.segmentation import assign_tokens
from rdpt_fast.segments import Segments

REPLACEMENT = "\ufffd"
#: Tokens of context kept before the text being decoded (decoders that strip a leading space need some).
CONTEXT_TOKENS = 6


class DecodeMismatch(ValueError):
    """The decoded token ids do not reproduce the response text."""


def _decode(tokenizer: Any, ids: Sequence[int]) -> str:
    return tokenizer.decode(list(ids), skip_special_tokens=False, clean_up_tokenization_spaces=False)


def decode_offsets(tokenizer: Any, token_ids: Sequence[int]) -> tuple[str, np.ndarray]:
    """(decoded text, offsets [N, 2] int64 in code points), decoding a few tokens at a time."""
    ids = [int(t) for t in token_ids]
    text_parts: list[str] = []
    length = 0
    offsets = np.zeros((len(ids), 2), dtype=np.int64)
    prefix_at, read_at = 0, 0  # ids[prefix_at:read_at] is context already emitted
    for k in range(len(ids)):
        before = _decode(tokenizer, ids[prefix_at:read_at])
        now = _decode(tokenizer, ids[prefix_at : k + 1])
        if now.endswith(REPLACEMENT) and k + 1 < len(ids):
            continue  # an incomplete character: wait for the next token
        if not now.startswith(before):
            raise DecodeMismatch(f"token {k}: decoding is not incremental ({before!r} -> {now!r})")
        delta = now[len(before) :]
        offsets[read_at : k + 1] = (length, length + len(delta))
        text_parts.append(delta)
        length += len(delta)
        read_at = k + 1
        prefix_at = max(0, read_at - CONTEXT_TOKENS)
    return "".join(text_parts), offsets


def reduce_precomputed(
    tokenizer: Any, response: str, segments: Segments, token_ids: Any, logprobs: Any
) -> tuple[np.ndarray, np.ndarray]:
    """(sum_logprob [S] float64, num_tokens [S] int64) of the response's sentences from per-token log-probs.

    Raises ValueError for ids/log-probs of different lengths or non-finite log-probs, DecodeMismatch when the
    decode differs from `response` (the first differing code point is named).
    """
    if not isinstance(token_ids, (list, tuple, np.ndarray)) or not isinstance(
        logprobs, (list, tuple, np.ndarray)
    ):
        raise ValueError("fields 'token_ids' and 'logprobs' must be lists")
    if len(token_ids) != len(logprobs):
        raise ValueError(f"'token_ids' has {len(token_ids)} entries but 'logprobs' has {len(logprobs)}")
    lp = np.asarray(logprobs, dtype=np.float64)
    if lp.size and not np.all(np.isfinite(lp)):
        raise ValueError(
            f"'logprobs' holds a non-finite value at index {int(np.flatnonzero(~np.isfinite(lp))[0])}"
        )
    text, offsets = decode_offsets(tokenizer, token_ids)
    if text != response:
        at = next(
            (i for i, (a, b) in enumerate(zip(text, response)) if a != b), min(len(text), len(response))
        )
        raise DecodeMismatch(
            f"decoded token_ids differ from the response at code point {at} "
            f"(decoded {text[at : at + 20]!r}, response {response[at : at + 20]!r})"
        )
    seg = assign_tokens(offsets, segments, response)
    keep = seg >= 0
    n = len(segments)
    sums = np.bincount(seg[keep], weights=lp[keep], minlength=n).astype(np.float64)
    counts = np.bincount(seg[keep], minlength=n).astype(np.int64)
    return sums, counts
