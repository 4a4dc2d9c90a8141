"""The OpenAI Python client against `rdpt-fast serve`: the responses parse, and the numbers are the
model's own (float64 log_softmax of its logits) within 1e-4."""

from __future__ import annotations

import math

import pytest

from .conftest import MODEL_NAME
from .truth import own_logprobs

openai = pytest.importorskip("openai", reason="openai is part of rdpt-fast[test]")

PROMPTS = [
    "Okay, so I need to find the number of minutes. Let me think.",
    "Okay, so I need to find the number of hours. Wait, let me double-check that.",
]


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)


def test_echo_logprobs_and_greedy_token_match_the_model(client, server):
    tok, model = server.scorer.tokenizer, server.scorer.model
    resp = client.completions.create(
        model=MODEL_NAME, prompt=PROMPTS, echo=True, logprobs=3, max_tokens=1, temperature=0
    )
    assert resp.object == "text_completion" and len(resp.choices) == 2
    assert resp.usage.completion_tokens == 2
    for choice, prompt in zip(sorted(resp.choices, key=lambda c: c.index), PROMPTS):
        ids = tok(prompt)["input_ids"]
        truth = own_logprobs(model, ids)
        lp = choice.logprobs
        assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(ids) + 1
        assert lp.token_logprobs[0] is None and lp.top_logprobs[0] is None
        for t in range(1, len(ids)):
            assert math.isclose(lp.token_logprobs[t], float(truth[t - 1, ids[t]]), abs_tol=1e-4)
            top = lp.top_logprobs[t]
            assert tok.decode([ids[t]]) in top  # the scored token is always listed
            best = truth[t - 1].topk(3)
            assert max(top.values()) == pytest.approx(float(best.values[0]), abs=1e-4)
            assert tok.decode([int(best.indices[0])]) in top
        greedy = int(truth[-1].argmax())
        assert choice.text == prompt + tok.decode([greedy])
        assert lp.tokens[-1] == tok.decode([greedy])
        assert math.isclose(lp.token_logprobs[-1], float(truth[-1, greedy]), abs_tol=1e-4)
        assert lp.text_offset[0] == 0 and lp.text_offset == sorted(lp.text_offset)


def test_token_id_prompts_score_only(client, server):
    tok, model = server.scorer.tokenizer, server.scorer.model
    prompts = [tok(p)["input_ids"] for p in PROMPTS]
    resp = client.completions.create(model=MODEL_NAME, prompt=prompts, echo=True, logprobs=0, max_tokens=0)
    for choice, ids in zip(sorted(resp.choices, key=lambda c: c.index), prompts):
        truth = own_logprobs(model, ids)
        expected = [float(truth[t - 1, ids[t]]) for t in range(1, len(ids))]
        assert choice.logprobs.token_logprobs[1:] == pytest.approx(expected, abs=1e-4)
        assert choice.text == tok.decode(ids)
    assert resp.usage.prompt_tokens == sum(map(len, prompts)) and resp.usage.completion_tokens == 0


def test_one_greedy_token_without_echo_or_logprobs(client, server):
    tok, model = server.scorer.tokenizer, server.scorer.model
    resp = client.completions.create(model=MODEL_NAME, prompt=PROMPTS[0], max_tokens=1, temperature=0)
    greedy = int(own_logprobs(model, tok(PROMPTS[0])["input_ids"])[-1].argmax())
    assert resp.choices[0].text == tok.decode([greedy]) and resp.choices[0].logprobs is None


def test_models_endpoint(client):
    assert [m.id for m in client.models.list().data] == [MODEL_NAME]
