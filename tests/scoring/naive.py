"""An independent naive scorer for the tests: full logits, log_softmax in float64, gather, and the
token-to-sentence rule of DESIGN.md written out directly."""

from __future__ import annotations

import numpy as np
import torch

import rdpt_fast


def sentence_of(offsets: list[tuple[int, int]], starts: list[int], ends: list[int], text: str) -> list[int]:
    """Per token: the sentence holding its first non-whitespace character (whitespace-only token: its first
    character), -1 when that character is in no sentence or the token is empty."""
    out = []
    for a, b in offsets:
        if a >= b:
            out.append(-1)
            continue
        piece = text[a:b]
        lead = len(piece) - len(piece.lstrip())
        at = a + (lead if lead < len(piece) else 0)
        out.append(next((i for i, (s, e) in enumerate(zip(starts, ends)) if s <= at < e), -1))
    return out


def naive_scores(model, tokenizer, context: str, response: str, add_special_tokens: bool):
    """(segments, sum_logprob float64 [S], num_tokens [S]) of `response` scored after `context`."""
    text = context + response
    segs = rdpt_fast.segment(response)
    enc = tokenizer(text, add_special_tokens=add_special_tokens, return_offsets_mapping=True)
    ids = torch.tensor(enc["input_ids"])
    shift = len(context)
    owner = sentence_of(
        enc["offset_mapping"],
        [s + shift for s in segs.starts.tolist()],
        [e + shift for e in segs.ends.tolist()],
        text,
    )
    with torch.no_grad():
        logits = model(input_ids=ids[None]).logits[0].double()
    logp = torch.log_softmax(logits, dim=-1)
    sums = np.zeros(len(segs))
    counts = np.zeros(len(segs), dtype=np.int64)
    for k in range(1, len(ids)):
        if owner[k] >= 0:
            sums[owner[k]] += float(logp[k - 1, ids[k]])
            counts[owner[k]] += 1
    return segs, sums, counts
