"""The sharing cost model: sharing where it saves trunk work, never where the extra call and the cache
copies cost more (a tiny trunk under a large head); decisions checked by counting forwarded tokens."""

from __future__ import annotations

import numpy as np
import torch

from rdpt_fast.scoring import Scorer
from rdpt_fast.scoring.batching import plan_packed, plan_shared
from rdpt_fast.scoring.costs import ForwardCosts
from rdpt_fast.scoring.model_head import base_model

from .test_batching import assert_same, fake

UNIT = ForwardCosts(seconds_per_token=1.0, seconds_per_byte=0.0, call_seconds=0.0, cache_bytes_per_token=0.0)


def test_gains_are_token_counts_with_unit_costs():
    # prompt 10, tails 100 and 95 in rows of 100: unshared 2 * 10 + 195 = 215, shared 10 + 200 = 210
    assert UNIT.chunk_gain(10, [100, 95]) == 5.0
    assert UNIT.member_gain(10, 80, 100) == -10.0  # padding 20 costs more than the 10 prompt tokens saved
    copying = ForwardCosts(1.0, 1.0, 0.0, cache_bytes_per_token=0.5)
    assert copying.member_gain(10, 100, 100) == 10.0 - 10 * 0.5


def test_planner_shares_only_what_gains():
    lengths = (110, 105, 60, 58, 20)  # prompt of 10 tokens
    items = [fake(2 * i, n, prefix=10) for i, n in enumerate(lengths)]
    batches, alone = plan_shared(items, 10_000, UNIT)
    assert [sorted(p.length for p in b.traces) for b in batches] == [[105, 110], [58, 60]]
    assert [p.length for p in alone] == [20]
    dear_call = ForwardCosts(1.0, 0.0, call_seconds=9.0, cache_bytes_per_token=0.0)
    batches, alone = plan_shared(items, 10_000, dear_call)  # each pair saves 5 - 9 < 0: nothing shared
    assert batches == [] and sorted(p.length for p in alone) == sorted(lengths)


def qwen2_on_meta(**shape) -> torch.nn.Module:
    import transformers

    config = transformers.Qwen2Config(**shape)
    with torch.device("meta"):
        return transformers.AutoModelForCausalLM.from_config(config)


def test_trunk_heavy_shape_shares_and_head_heavy_shape_does_not():
    """K=3 responses of 300 tokens under one 20-token prompt, on the CPU's constants: worth a second
    forward call for a 0.5B trunk, not for a tiny one under the same 152k-vocabulary head."""
    half_b = qwen2_on_meta(  # Qwen2.5-0.5B's shape
        hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
        num_key_value_heads=2, vocab_size=151936,
    )  # fmt: skip
    tiny_trunk = qwen2_on_meta(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=151936,
    )  # fmt: skip
    for model, shares in ((half_b, True), (tiny_trunk, False)):
        costs = ForwardCosts.for_model(model, base_model(model), device_type="cpu")
        assert (costs.chunk_gain(20, [300] * 3) > 0) is shares
    costs = ForwardCosts.for_model(tiny_trunk, base_model(tiny_trunk), device_type="cpu")
    assert costs.chunk_gain(300, [300] * 8) > 0  # a long enough prompt pays even for a tiny trunk


def test_auto_sharing_skips_a_tiny_trunk_and_changes_no_number(qwen, records):
    recs = [dict(r, response=r["response"][: 300 + 100 * i]) for i, r in enumerate(records[:4])]
    auto = Scorer(*qwen)  # share_prompts="auto"
    out = list(auto.score(recs))
    assert auto.stats.shared_groups == 0 and auto.stats.forwarded_tokens == auto.stats.scored_tokens
    forced = Scorer(*qwen, share_prompts=True)
    assert_same(out, list(forced.score(recs)))
    assert forced.stats.shared_groups == 1
    assert np.all([not r.prompt_shared for r in out])


def test_padding_joins_a_batch_only_where_it_costs_less_than_a_call():
    # rows of 100 and 95 tokens: 5 padding tokens against one forward call
    items = [fake(0, 100), fake(1, 95)]
    cheap_call = ForwardCosts(1.0, 0.0, call_seconds=4.0, cache_bytes_per_token=0.0)
    dear_call = ForwardCosts(1.0, 0.0, call_seconds=5.0, cache_bytes_per_token=0.0)
    assert [len(b.rows) for b in plan_packed(items, 10_000, pack=False, costs=cheap_call)] == [1, 1]
    assert [len(b.rows) for b in plan_packed(items, 10_000, pack=False, costs=dear_call)] == [2]
    assert [len(b.rows) for b in plan_packed(items, 10_000, pack=False)] == [2]  # 5% padding, no costs


def test_a_half_b_trunk_pads_on_a_gpu_not_on_a_cpu():
    half_b = qwen2_on_meta(
        hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
        num_key_value_heads=2, vocab_size=151936,
    )  # fmt: skip
    cpu = ForwardCosts.for_model(half_b, base_model(half_b), device_type="cpu")
    gpu = ForwardCosts.for_model(half_b, base_model(half_b), device_type="cuda")
    assert cpu.padding_pays(0) and not cpu.padding_pays(1)
    assert gpu.padding_pays(200)
