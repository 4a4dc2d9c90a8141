"""The end-to-end benchmark's measurements run (on a tiny model here) and its README table renders."""

from __future__ import annotations

import torch

from rdpt_fast.bench.e2e import measure_shape, measure_sharing, measure_threads
from rdpt_fast.bench.e2e_stages import stage_seconds
from rdpt_fast.bench.tables import e2e_table


def test_e2e_measurements_and_table(qwen_dir, records):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(qwen_dir, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(qwen_dir)
    recs = [dict(r, id=str(i), response=r["response"][:300]) for i, r in enumerate(records[:2])]
    torch_threads = torch.get_num_threads()
    scoring = measure_shape(model, tok, recs, repeats=1)
    seconds = scoring["seconds"]
    assert seconds["floor"] == seconds["trunk"] + seconds["head_gemm"]
    assert scoring["rdpt_over_floor"] == seconds["rdpt"] / seconds["floor"]
    assert scoring["tokens_per_s"]["rdpt"] == scoring["tokens"] / seconds["rdpt"]
    stages = scoring["stages"]
    assert stages["trunk"] > 0 and stages["head"] > 0 and stages["prepare_thread_cpu"] > 0
    assert stages["trunk"] + stages["head"] + stages["other"] == stages["total"]
    memory = scoring["peak_extra_mib"]  # measured by a child process, which must have run all three
    assert all(memory[name] >= 0 for name in ("trunk", "naive", "rdpt"))
    threads = measure_threads(model, tok, recs[:1], [1, 2], repeats=1)
    assert set(threads["by_threads"]) == {"1", "2"} and torch.get_num_threads() == torch_threads
    sharing = measure_sharing(model, tok, records, k=3, tokens=40, repeats=1)
    assert sharing["unshared"]["shared_groups_per_call"] == 0
    k, p, r = 3, sharing["prompt_tokens"], sharing["response_tokens"]
    assert sharing["ideal_speedup"] == k * (p + r) / (p + k * r)
    results = {
        "machine": {"device_name": "test cpu"}, "date": "2026-12-01", "command": "rdpt-fast bench e2e",
        "config": {"dtype": "float32", "torch_threads": 1, "tokenizer": "test"},
        "shapes": {"tiny": {"scoring": scoring, "sharing": sharing, "threads": threads}},
    }  # fmt: skip
    table = e2e_table(results)
    assert "| tiny |" in table and f"{scoring['rdpt_over_floor']:.2f}x" in table
    assert f"| tiny | {threads['tokens']:,} | 2 |" in table  # the threads table


def test_stage_timing_leaves_the_scorer_as_it_was(qwen_dir):
    from rdpt_fast.scoring import Scorer

    scorer = Scorer(qwen_dir, template=None, device="cpu")
    record = {"id": "a", "prompt": "What is 2 + 2?", "response": "It is 4. Sure."}
    stages = stage_seconds(scorer, [record])
    assert stages["total"] >= stages["trunk"] + stages["head"] > 0
    assert "forward_packed" not in vars(scorer.runner) and "_prepare_window" not in vars(scorer)
    assert scorer.score_one(record).error is None
