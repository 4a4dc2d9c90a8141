"""OpenAI completions response bodies from sequence scores.

Per choice, with `echo`: the prompt's tokens (then the generated one, with max_tokens 1) as decoded
strings, `token_logprobs` (None for the first token: nothing predicts it), `top_logprobs` (per position
a dict of the top max(k, 1) tokens plus the scored token, as OpenAI gives it) and `text_offset`
(character offsets of each token string in `text`). Without echo only the generated token is listed.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from rdpt_fast.scoring.sequences import SequenceScores


@dataclass(frozen=True)
class ChoiceInput:
    """One prompt as tokenized: ids, its text (as given, or the decoded ids), and its scores (None when
    nothing had to be computed: max_tokens 0 without echo)."""

    ids: list[int]
    text: str
    scores: SequenceScores | None


def _top_dict(decode: Any, ids: list[int], values: list[float], scored: int, scored_lp: float) -> dict:
    """Top tokens (most likely first) and the scored token, keyed by decoded string; a string shared by
    several ids keeps its most likely entry."""
    out: dict[str, float] = {}
    for i, v in zip(ids, values):
        out.setdefault(decode(i), v)
    out.setdefault(decode(scored), scored_lp)
    return out


def build_choice(
    index: int, choice: ChoiceInput, *, echo: bool, max_tokens: int, logprobs: int | None, decode: Any
) -> dict[str, Any]:
    """One `choices[i]` entry. `decode(id) -> str` decodes a single token."""
    s = choice.scores
    tokens: list[int] = list(choice.ids) if echo else []
    lps: list[float | None] = [None, *s.logprobs.tolist()] if echo and s is not None else []
    tops: list[dict | None] = []
    if echo and s is not None and logprobs is not None:
        tops = [None] + [
            _top_dict(
                decode, s.top_ids[p].tolist(), s.top_logprobs[p].tolist(), choice.ids[p + 1], lps[p + 1]
            )
            for p in range(len(choice.ids) - 1)
        ]
    generated = ""
    if max_tokens == 1 and s is not None:
        next_id, next_lp = int(s.top_ids[-1, 0]), float(s.top_logprobs[-1, 0])
        generated = decode(next_id)
        tokens.append(next_id)
        lps.append(next_lp)
        if logprobs is not None:
            tops.append(
                _top_dict(decode, s.top_ids[-1].tolist(), s.top_logprobs[-1].tolist(), next_id, next_lp)
            )
    strings = [decode(t) for t in tokens]
    offsets, at = [], 0
    for piece in strings:
        offsets.append(at)
        at += len(piece)
    body = None
    if logprobs is not None:
        body = {"tokens": strings, "token_logprobs": lps, "top_logprobs": tops, "text_offset": offsets}
    return {
        "index": index,
        "text": (choice.text if echo else "") + generated,
        "logprobs": body,
        "finish_reason": "length",
    }


def completion_body(
    model: str, choices: list[dict[str, Any]], prompt_tokens: int, completion_tokens: int
) -> dict:
    """The whole response: id, object, created, model, choices, usage."""
    return {
        "id": f"cmpl-{uuid.uuid4().hex}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
