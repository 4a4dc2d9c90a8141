"""The end-to-end benchmark's measurements run (on a tiny model here) and its README table renders."""

from __future__ import annotations

import torch

from rdpt_fast.bench.e2e import measure_shape, measure_sharing
from rdpt_fast.bench.tables import e2e_table


def test_e2e_measurements_and_table(qwen_dir, records):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(qwen_dir, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(qwen_dir)
    recs = [dict(r, id=str(i), response=r["response"][:300]) for i, r in enumerate(records[:2])]
    scoring = measure_shape(model, tok, recs, repeats=1)
    seconds = scoring["seconds"]
    assert seconds["floor"] == seconds["trunk"] + seconds["head_gemm"]
    assert scoring["rdpt_over_floor"] == seconds["rdpt"] / seconds["floor"]
    assert scoring["tokens_per_s"]["rdpt"] == scoring["tokens"] / seconds["rdpt"]
    sharing = measure_sharing(model, tok, records, k=3, tokens=40, repeats=1)
    assert sharing["unshared"]["shared_groups"] == 0
    k, p, r = 3, sharing["prompt_tokens"], sharing["response_tokens"]
    assert sharing["ideal_speedup"] == k * (p + r) / (p + k * r)
    results = {
        "machine": {"device_name": "test cpu"}, "date": "2026-12-01", "command": "rdpt-fast bench e2e",
        "config": {"dtype": "float32", "torch_threads": 1, "tokenizer": "test"},
        "shapes": {"tiny": {"scoring": scoring, "sharing": sharing}},
    }  # fmt: skip
    table = e2e_table(results)
    assert "| tiny |" in table and f"{scoring['rdpt_over_floor']:.2f}x" in table
