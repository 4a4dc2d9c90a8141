"""The scorer equals an independent naive implementation (full logits) in raw and chat-template mode."""

from __future__ import annotations

import numpy as np
import pytest

from rdpt_fast.scoring import Scorer

from .naive import naive_scores

TOL = 1e-4


def check_parity(result, segs, sums, counts):
    assert result.error is None, result.error
    assert result.segments == segs
    np.testing.assert_array_equal(result.num_tokens, counts)
    assert result.sum_logprob.dtype == np.float64
    np.testing.assert_allclose(result.sum_logprob, sums, rtol=0, atol=TOL)


@pytest.mark.parametrize("which", ["qwen", "llama"])
def test_raw_mode_matches_naive(which, request, records):
    model, tok = request.getfixturevalue(which)
    scorer = Scorer(model, tok, template=None)
    results = list(scorer.score(records))
    assert [r.id for r in results] == [r["id"] for r in records]
    for rec, res in zip(records, results):
        segs, sums, counts = naive_scores(model, tok, rec["prompt"], rec["response"], add_special_tokens=True)
        check_parity(res, segs, sums, counts)
        assert res.fields == {"extra": 7}
        assert res.num_prompt_tokens + res.num_response_tokens == len(
            tok(rec["prompt"] + rec["response"]).input_ids
        )


def test_chat_mode_matches_naive_and_scores_prefilled_think_once(qwen, records):
    model, tok = qwen
    recs = [dict(r, response="<think>\n" + r["response"].removeprefix("<think>\n")) for r in records[:3]]
    results = list(Scorer(model, tok).score(recs))  # template="auto": the tokenizer's chat template
    for rec, res in zip(recs, results):
        rendered = tok.apply_chat_template(
            [{"role": "user", "content": rec["prompt"]}], add_generation_prompt=True, tokenize=False
        )
        assert rendered.endswith("<think>\n")
        context = rendered[
            : -len("<think>\n")
        ]  # the pre-filled "<think>\n" is scored as part of the response
        segs, sums, counts = naive_scores(model, tok, context, rec["response"], add_special_tokens=False)
        check_parity(res, segs, sums, counts)
        assert res.segments.kind_names[0] == "marker" and res.num_tokens[0] >= 1


def test_chat_mode_without_overlap_keeps_whole_generation_prompt(qwen, records):
    model, tok = qwen
    rec = dict(records[0], response=records[0]["response"].removeprefix("<think>\n"))
    res = Scorer(model, tok).score_one(rec)
    rendered = tok.apply_chat_template(
        [{"role": "user", "content": rec["prompt"]}], add_generation_prompt=True, tokenize=False
    )
    segs, sums, counts = naive_scores(model, tok, rendered, rec["response"], add_special_tokens=False)
    check_parity(res, segs, sums, counts)


def test_jinja_template_string_and_messages(llama, records):
    model, tok = llama
    template = (
        "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
        "{% if add_generation_prompt %}[assistant] {% endif %}"
    )
    rec = dict(
        records[1], prompt=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"}]
    )
    res = Scorer(model, tok, template=template).score_one(rec)
    context = "[system] Be brief.\n[user] Hi?\n[assistant] "
    segs, sums, counts = naive_scores(model, tok, context, rec["response"], add_special_tokens=False)
    check_parity(res, segs, sums, counts)


@pytest.mark.parametrize(
    "options", [{"mode": "reference"}, {"head_backend": "reference"}, {"head_backend": "torch"}]
)
def test_fast_path_agrees_with_reference_paths(qwen, records, options):
    model, tok = qwen
    fast = list(Scorer(model, tok, template=None).score(records))
    other = list(Scorer(model, tok, template=None, **options).score(records))
    for a, b in zip(fast, other):
        np.testing.assert_array_equal(a.num_tokens, b.num_tokens)
        np.testing.assert_allclose(a.sum_logprob, b.sum_logprob, rtol=0, atol=TOL)


def test_loads_from_directory_and_prob_is_geometric_mean(qwen_dir, records):
    scorer = Scorer(str(qwen_dir), template=None, device="cpu", dtype="float32")
    assert scorer.name == qwen_dir.name
    res = scorer.score_one(records[0])
    for s, n, p in zip(res.sum_logprob, res.num_tokens, res.prob):
        assert (p is None) == (n == 0)
        if n:
            assert p == pytest.approx(np.exp(s / n), rel=1e-12)


def test_two_tokenizers_same_spans_own_counts(qwen, llama, records):
    a = list(Scorer(*qwen, template=None).score(records[:3]))
    b = list(Scorer(*llama, template=None).score(records[:3]))
    for ra, rb in zip(a, b):
        assert ra.segments == rb.segments
        assert not np.array_equal(ra.num_tokens, rb.num_tokens)
        assert (ra.num_tokens > 0).any() and (rb.num_tokens > 0).any()


def test_record_segments_are_used(qwen, records):
    model, tok = qwen
    rec = dict(records[2], response=records[2]["response"][:600])
    auto = Scorer(model, tok).score_one(rec)
    half = len(rec["response"]) // 2
    given = {"starts": [0, half], "ends": [half, len(rec["response"])], "kinds": ["text", "text"]}
    two = Scorer(model, tok).score_one(dict(rec, segments=given))
    assert two.segments.to_dict() == given
    # every response token is in exactly one sentence, so the totals agree whatever the partition
    assert two.num_tokens.sum() == auto.num_tokens.sum()
    assert two.sum_logprob.sum() == pytest.approx(auto.sum_logprob.sum(), abs=1e-3)
