"""Head parameters read from the model: Gemma-2 final softcap (and sliding-window layers), Cohere logit scale,
a bias on the output layer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rdpt_fast.scoring import Scorer
from rdpt_fast.scoring.model_head import head_params
from rdpt_fast.scoring.tiny import random_model

from .naive import naive_scores


def tiny(kind: str, vocab: int, path):
    if kind == "gemma2":  # final softcap, and sliding-window layers shorter than the traces
        options = dict(
            head_dim=16, final_logit_softcapping=3.0, sliding_window=48, attn_implementation="eager"
        )
    else:
        options = dict(logit_scale=0.5)
    model = random_model(kind, vocab, max_positions=2048, seed=3, init_std=0.1, **options)
    model.save_pretrained(path)
    return type(model).from_pretrained(path, dtype=torch.float32).eval()


@pytest.mark.parametrize("kind", ["gemma2", "cohere"])
def test_head_parameters_are_read_and_scores_match(kind, qwen, records, tmp_path):
    tok = qwen[1]
    model = tiny(kind, len(tok), tmp_path)
    head = head_params(model)
    if kind == "gemma2":
        assert head.softcap == 3.0 and head.logit_scale == 1.0
    else:
        assert head.logit_scale == 0.5 and head.softcap is None
    recs = [
        dict(r, prompt=f"P{i}: ", response=r["response"][: 150 + 100 * i]) for i, r in enumerate(records[:3])
    ]
    out = list(Scorer(model, tok, template=None).score(recs))  # packed: sliding windows per trace
    for rec, res in zip(recs, out):
        segs, sums, counts = naive_scores(model, tok, rec["prompt"], rec["response"], add_special_tokens=True)
        assert res.segments == segs
        np.testing.assert_array_equal(res.num_tokens, counts)
        np.testing.assert_allclose(res.sum_logprob, sums, rtol=0, atol=1e-4)


def test_output_bias_is_used(qwen, records):
    model, tok = qwen
    biased = type(model)(model.config)
    biased.load_state_dict(model.state_dict())
    biased.config.tie_word_embeddings = False
    old = biased.lm_head
    biased.lm_head = torch.nn.Linear(old.in_features, old.out_features, bias=True)
    with torch.no_grad():
        biased.lm_head.weight.copy_(old.weight)
        biased.lm_head.bias.copy_(torch.linspace(-2, 2, old.out_features))
    biased.eval()
    assert head_params(biased).bias is not None
    rec = dict(records[0], response=records[0]["response"][:300])
    res = Scorer(biased, tok, template=None).score_one(rec)
    _, sums, counts = naive_scores(biased, tok, rec["prompt"], rec["response"], add_special_tokens=True)
    np.testing.assert_array_equal(res.num_tokens, counts)
    np.testing.assert_allclose(res.sum_logprob, sums, rtol=0, atol=1e-4)
    unbiased = Scorer(model, tok, template=None).score_one(rec)
    assert not np.allclose(unbiased.sum_logprob, res.sum_logprob, atol=1e-2)
