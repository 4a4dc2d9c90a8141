"""Batching, packing and prompt sharing change no number; traces in one pack never see each other."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rdpt_fast.scoring import Scorer
from rdpt_fast.scoring.batching import PackedBatch, plan, plan_packed, plan_shared
from rdpt_fast.scoring.prepare import Prepared
from rdpt_fast.scoring.runner import block_causal_mask

TOL = 1e-4


def distinct(records, lengths):
    """Records with distinct prompts and responses cut to `lengths` characters."""
    return [
        dict(
            r,
            id=f"{r['id']}#{i}",
            prompt=f"Case {i}. {r['prompt'][: 60 + 20 * i]}",
            response=r["response"][:n],
        )
        for i, (r, n) in enumerate(zip(records, lengths))
    ]


def assert_same(a, b, atol=TOL):
    assert [r.id for r in a] == [r.id for r in b]
    for x, y in zip(a, b):
        assert x.error is None and y.error is None
        np.testing.assert_array_equal(x.num_tokens, y.num_tokens)
        np.testing.assert_allclose(x.sum_logprob, y.sum_logprob, rtol=0, atol=atol)


@pytest.fixture(scope="module")
def mixed(records):
    """Six traces of very different lengths, two pairs sharing a prompt."""
    recs = distinct(records, [1400, 120, 600, 90, 300, 1000])
    recs[3]["prompt"] = recs[1]["prompt"]
    recs[5]["prompt"] = recs[2]["prompt"]
    return recs


@pytest.fixture(scope="module")
def alone(qwen, mixed):
    return list(Scorer(*qwen, mode="reference").score(mixed))


@pytest.mark.parametrize(
    "options",
    [
        {"share_prompts": False, "pack": False},
        {"share_prompts": False, "pack": True},
        {"share_prompts": True, "pack": True},
        {"share_prompts": True, "pack": True, "max_tokens_per_batch": 700},
        {"share_prompts": True, "pack": False, "window": 2},
        {"share_prompts": True, "pack": True, "window": 1},
    ],
)
def test_batching_changes_nothing(qwen, mixed, alone, options):
    scorer = Scorer(*qwen, **options)
    assert_same(alone, list(scorer.score(mixed)))
    stats = scorer.stats
    assert stats.scored == len(mixed) and stats.errors == 0
    assert stats.scored_tokens == sum(r.num_prompt_tokens + r.num_response_tokens for r in alone)
    if options.get("share_prompts") and options.get("window", 256) >= 4:
        assert stats.shared_groups >= 1 and stats.forwarded_tokens < stats.scored_tokens
    else:
        assert stats.forwarded_tokens == stats.scored_tokens


def test_shared_prompt_forwards_prompt_once(qwen, records):
    recs = [dict(r, response=r["response"][: 300 + 100 * i]) for i, r in enumerate(records[:4])]
    assert len({r["prompt"] for r in recs}) == 1
    scorer = Scorer(*qwen, share_prompts=True)
    shared = list(scorer.score(recs))
    assert all(r.prompt_shared for r in shared)
    prompt = shared[0].num_prompt_tokens
    assert scorer.stats.forwarded_tokens == prompt + sum(r.num_response_tokens for r in shared)
    assert scorer.stats.scored_tokens == sum(prompt + r.num_response_tokens for r in shared)
    unshared = list(Scorer(*qwen, share_prompts=False).score(recs))
    assert not any(r.prompt_shared for r in unshared)
    assert_same(unshared, shared)


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_packed_traces_never_see_each_other(qwen_dir, records, attn):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(qwen_dir, dtype=torch.float32, attn_implementation=attn)
    tok = AutoTokenizer.from_pretrained(qwen_dir)
    recs = [dict(r, prompt=f"Case {i}: solve it.") for i, r in enumerate(distinct(records, [1400, 100, 120]))]
    alone = list(Scorer(model, tok, mode="reference").score(recs))
    budget = 2 * (alone[0].num_prompt_tokens + alone[0].num_response_tokens)  # room for two rows
    scorer = Scorer(model, tok, max_tokens_per_batch=budget)
    packed = list(scorer.score(recs))
    assert scorer.stats.batches == 1  # so the two short traces were packed into the second row
    assert scorer.stats.padded_tokens == budget - scorer.stats.forwarded_tokens
    changed = [recs[0], dict(recs[1], response="Completely different words here. " * 4), recs[2]]
    again = list(Scorer(model, tok, max_tokens_per_batch=budget).score(changed))
    for i in (0, 2):
        np.testing.assert_allclose(packed[i].sum_logprob, again[i].sum_logprob, rtol=0, atol=1e-5)
    assert not np.allclose(packed[1].sum_logprob[:2], again[1].sum_logprob[:2])
    assert_same(alone, packed)


def test_block_causal_mask():
    m = block_causal_mask([[3, 2]], 6, torch.bool, torch.device("cpu"))[0, 0].int().tolist()
    assert m == [
        [1, 0, 0, 0, 0, 0],
        [1, 1, 0, 0, 0, 0],
        [1, 1, 1, 0, 0, 0],
        [0, 0, 0, 1, 0, 0],
        [0, 0, 0, 1, 1, 0],
        [0, 0, 0, 0, 0, 1],
    ]
    additive = block_causal_mask([[2], [1]], 2, torch.float32, torch.device("cpu"))
    assert additive.shape == (2, 1, 2, 2)
    assert additive[0, 0, 0, 1] == torch.finfo(torch.float32).min and additive[1, 0, 1, 1] == 0


def fake(index: int, length: int, prefix: int = 3) -> Prepared:
    ids = np.arange(length, dtype=np.int64) + (0 if index % 2 else 1000)
    segs = np.where(np.arange(length) >= prefix, 0, -1)
    return Prepared(index, str(index), {}, "x", None, ids, segs, prefix)


def test_plan_covers_every_trace_once_within_budget():
    rng = np.random.default_rng(0)
    items = [fake(i, int(n)) for i, n in enumerate(rng.integers(4, 400, size=60))]
    for pack in (False, True):
        batches = plan_packed(items, 1000, pack)
        seen = sorted(p.index for b in batches for p in b.traces)
        assert seen == list(range(len(items)))
        for b in batches:
            assert len(b.rows) * b.width <= 1000 or len(b.traces) == 1
            assert all(sum(p.length for p in row) <= b.width for row in b.rows)
            assert pack or all(len(row) == 1 for row in b.rows)
    shared = plan([fake(2 * i, 50 + i, prefix=10) for i in range(5)], 10_000, share=True, pack=True)
    assert len(shared) == 1 and len(shared[0].traces) == 5


def test_shared_groups_split_where_padding_costs_more_than_the_prompt():
    # one prompt of 10 tokens; continuations 100, 95, 50, 48, 10: padding 95 -> 100 is 5 (<= 10: share),
    # 50 -> 100 would be 50 (> 10: run the prompt again), 10 -> 50 would be 40 (alone: packed elsewhere)
    lengths = (110, 105, 60, 58, 20)
    batches, alone = plan_shared([fake(2 * i, n, prefix=10) for i, n in enumerate(lengths)], 10_000)
    assert [sorted(p.length for p in b.traces) for b in batches] == [[105, 110], [58, 60]]
    assert [p.length for p in alone] == [20]
    planned = plan([fake(2 * i, n, prefix=10) for i, n in enumerate(lengths)], 10_000, share=True, pack=True)
    assert sorted(p.length for b in planned for p in b.traces) == sorted(lengths)
    assert isinstance(planned[-1], PackedBatch) and [p.length for p in planned[-1].traces] == [20]


def test_plan_limits_padding_of_unpacked_rows():
    items = [fake(0, 1000), fake(1, 960), fake(2, 500), fake(3, 480)]
    batches = plan_packed(items, 100_000, pack=True, pack_width=256)
    assert [sorted(p.length for p in b.traces) for b in batches] == [[960, 1000], [480, 500]]
    assert all(not b.packed for b in batches)
    packed = plan_packed([fake(0, 200), fake(1, 120), fake(2, 70), fake(3, 10)], 400, pack=True)
    assert len(packed) == 1 and packed[0].packed
    assert sorted(len(row) for row in packed[0].rows) == [1, 3]
