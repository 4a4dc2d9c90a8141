"""Precomputed token log-probs reduce to the same sentence sums as running the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rdpt_fast.scoring import Scorer
from rdpt_fast.scoring.precomputed import decode_offsets

UNICODE_TAIL = " Schön: ∑ x² → 😀 ok. Fin."


def sampled(model, tok, prompt: str, response: str):
    """token_ids + logprobs of `response` as a sampler would return them (raw context `prompt`)."""
    ids = tok(prompt + response).input_ids
    n_prompt = len(tok(prompt).input_ids)
    assert tok.decode(ids[:n_prompt]) == prompt  # the prompt/response split is a token boundary here
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0].double(), -1)
    lps = [float(logp[k - 1, ids[k]]) for k in range(n_prompt, len(ids))]
    return ids[n_prompt:], lps


@pytest.fixture(scope="module")
def with_logprobs(qwen, records):
    model, tok = qwen
    out = []
    for i, r in enumerate(records[:3]):
        prompt = f"Problem {i}.\n"
        response = r["response"][:500] + UNICODE_TAIL
        ids, lps = sampled(model, tok, prompt, response)
        out.append(
            dict(r, prompt=prompt, response=response, token_ids=ids, logprobs=lps, logprobs_model="tiny-qwen")
        )
    return out


def test_precomputed_equals_running_the_model(qwen, with_logprobs):
    model, tok = qwen
    run = list(Scorer(model, tok, template=None).score(with_logprobs))  # name differs: the model runs
    assert all(r.source == "model" for r in run)
    pre = list(Scorer(None, tok, name="tiny-qwen").score(with_logprobs))  # no model at all
    for a, b in zip(run, pre):
        assert b.error is None and b.source == "precomputed"
        assert a.segments == b.segments
        np.testing.assert_array_equal(a.num_tokens, b.num_tokens)
        np.testing.assert_allclose(a.sum_logprob, b.sum_logprob, rtol=0, atol=1e-4)
        assert "token_ids" not in b.fields and b.fields["extra"] == 7


def test_decode_mismatch_is_an_error(qwen, with_logprobs):
    tok = qwen[1]
    wrong = dict(
        with_logprobs[0],
        token_ids=with_logprobs[0]["token_ids"][:-3],
        logprobs=with_logprobs[0]["logprobs"][:-3],
    )
    short = dict(with_logprobs[1], logprobs=with_logprobs[1]["logprobs"][:-1])
    out = list(Scorer(None, tok, name="tiny-qwen").score([wrong, short, with_logprobs[2]]))
    assert "differ from the response" in out[0].error
    assert "'logprobs' has" in out[1].error
    assert out[2].error is None
    no_model = Scorer(None, tok, name="other").score_one(with_logprobs[0])
    assert "no model to run" in no_model.error


def test_decode_offsets_cover_multibyte_characters(qwen):
    tok = qwen[1]
    text = "Größe ∑ 😀😀 done."
    ids = tok(text, add_special_tokens=False).input_ids
    decoded, offsets = decode_offsets(tok, ids)
    assert decoded == text
    assert offsets[0, 0] == 0 and offsets[-1, 1] == len(text)
    assert all(a < b for a, b in offsets.tolist())
    assert np.all(offsets[1:, 0] >= offsets[:-1, 0])
