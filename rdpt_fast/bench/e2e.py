"""End to end at real model shapes: the Scorer against its floor and the naive pipeline, and prompt sharing.

For each shape (random weights, float32, a BPE tokenizer trained on the traces), over real traces in raw
mode, each timed as the median of `--repeats` runs after a warm-up:

* ``trunk``: the bare trunk, ``model.model(ids)`` per trace (no head);
* ``head-gemm``: the head's matmul alone, ``hidden @ W.T`` per trace's scored positions;
* ``floor`` = trunk + head-gemm: what any exact scorer must at least spend;
* ``naive``: ``model(ids).logits``, ``log_softmax``, gather, per trace;
* ``rdpt``: ``Scorer.score`` (self-check excluded: it runs once at load).

Each also gets its peak extra memory (`e2e_memory`: one call each in a fresh process), and rdpt a
breakdown of where its time goes (`e2e_stages`). Sharing: K responses of ~R tokens to one prompt of ~P
tokens, ``share_prompts=False`` against the default ``"auto"``; ideal speed-up K(P+R)/(P+KR) counts
trunk tokens only. Threads: floor and rdpt again on the first shape at each of `--thread-counts` torch
threads.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

import torch

from rdpt_fast.bench.common import RESULTS_DIR, run_header, save_results, timed
from rdpt_fast.bench.e2e_memory import memory_in_subprocess
from rdpt_fast.bench.e2e_models import SHAPES, build, naive, token_ids, trunk_and_gemm
from rdpt_fast.bench.e2e_stages import stage_seconds
from rdpt_fast.bench.score import CORPUS, corpus_and_tokenizer, long_traces


def floor_seconds(model: torch.nn.Module, ids: list[torch.Tensor], repeats: int) -> tuple[float, float]:
    """Median (trunk, head GEMM) seconds of `repeats` runs after a warm-up."""
    parts = [trunk_and_gemm(model, ids) for _ in range(repeats + 1)][1:]
    return statistics.median(p[0] for p in parts), statistics.median(p[1] for p in parts)


def measure_shape(model, tok, recs: list[dict], repeats: int) -> dict[str, Any]:
    from rdpt_fast.scoring import Scorer

    ids = token_ids(tok, recs)
    tokens = sum(len(x) for x in ids)
    trunk, gemm = floor_seconds(model, ids, repeats)
    t_naive, _ = timed(lambda: naive(model, ids), repeats)
    scorer = Scorer(model, tok, template=None, device="cpu")
    t_ours, _ = timed(lambda: list(scorer.score(recs)), repeats)
    floor = trunk + gemm
    memory = memory_in_subprocess(model, tok, recs)
    padded_before = scorer.stats.padded_tokens
    stages = stage_seconds(scorer, recs)
    return {
        "traces": len(recs),
        "tokens": tokens,
        "seconds": {"trunk": trunk, "head_gemm": gemm, "floor": floor, "naive": t_naive, "rdpt": t_ours},
        "tokens_per_s": {k: tokens / v for k, v in
                         {"trunk": trunk, "floor": floor, "naive": t_naive, "rdpt": t_ours}.items()},
        "rdpt_over_floor": t_ours / floor,
        "naive_over_rdpt": t_naive / t_ours,
        "peak_extra_mib": memory,
        "stages": stages,
        "padded_tokens": scorer.stats.padded_tokens - padded_before,
        "self_check_seconds": scorer.capabilities.seconds,
    }  # fmt: skip


def measure_threads(model, tok, recs: list[dict], counts: list[int], repeats: int) -> dict[str, Any]:
    """Floor and rdpt (with its preparation thread's CPU seconds) at each torch thread count."""
    from rdpt_fast.scoring import Scorer

    ids = token_ids(tok, recs)
    scorer = Scorer(model, tok, template=None, device="cpu")
    before, out = torch.get_num_threads(), {}
    try:
        for n in counts:
            torch.set_num_threads(n)
            trunk, gemm = floor_seconds(model, ids, repeats)
            t_ours, _ = timed(lambda: list(scorer.score(recs)), repeats)
            stages = stage_seconds(scorer, recs)
            out[str(n)] = {
                "floor": trunk + gemm, "rdpt": t_ours, "rdpt_over_floor": t_ours / (trunk + gemm),
                "prepare_thread_cpu": stages["prepare_thread_cpu"],
            }  # fmt: skip
    finally:
        torch.set_num_threads(before)
    return {"tokens": sum(len(x) for x in ids), "traces": len(recs), "by_threads": out}


def measure_sharing(model, tok, records: list[dict], k: int, tokens: int, repeats: int) -> dict[str, Any]:
    from rdpt_fast.scoring import Scorer

    def cut(text: str) -> str:
        return tok.decode(tok(text, add_special_tokens=False).input_ids[:tokens])

    prompt = cut(records[0]["prompt"] + "\n\nContext:\n" + " ".join(r["response"] for r in records[-3:]))
    recs = [
        {"id": str(i), "prompt": prompt, "response": cut(r["response"])}
        for i, r in enumerate(records[1 : k + 1])
    ]
    out: dict[str, Any] = {"k": k}
    for label, share in (("unshared", False), ("auto", "auto")):
        scorer = Scorer(model, tok, template=None, device="cpu", share_prompts=share)
        seconds, res = timed(lambda s=scorer: list(s.score(recs)), repeats)  # a warm-up + `repeats` calls
        out[label] = {
            "seconds": seconds,
            "shared_groups_per_call": scorer.stats.shared_groups / (repeats + 1),
        }
    p = sum(r.num_prompt_tokens for r in res) / len(res)
    r_ = sum(r.num_response_tokens for r in res) / len(res)
    out.update(prompt_tokens=p, response_tokens=r_, ideal_speedup=k * (p + r_) / (p + k * r_))
    out["speedup"] = out["unshared"]["seconds"] / out["auto"]["seconds"]
    out["fraction_of_ideal"] = out["speedup"] / out["ideal_speedup"]
    return out


def report(shape: str, entry: dict[str, Any]) -> None:
    s, sh = entry["scoring"], entry["sharing"]
    print(f"== {shape}: {s['tokens']} tokens in {s['traces']} traces")
    for name, value in s["tokens_per_s"].items():
        print(f"{name:<8} {value:>8.0f} tokens/s")
    print(f"rdpt / floor {s['rdpt_over_floor']:.2f}x; naive / rdpt {s['naive_over_rdpt']:.2f}x")
    print("stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in s["stages"].items()))
    print(f"K={sh['k']} sharing (auto): {sh['speedup']:.2f}x of ideal {sh['ideal_speedup']:.2f}x")
    for n, row in entry.get("threads", {}).get("by_threads", {}).items():
        print(f"{n} thread(s): rdpt / floor {row['rdpt_over_floor']:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rdpt-fast bench e2e", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="folder of the trace corpora (default: ../shared/data/traces)")
    parser.add_argument("--shapes", nargs="+", choices=sorted(SHAPES), default=list(SHAPES))
    parser.add_argument("--traces", type=int, default=4)
    parser.add_argument("--max-chars", type=int, default=4500, help="longest response used (~1,000 tokens)")
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--share-tokens", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument(
        "--thread-counts", type=int, nargs="*", default=[1, 2],
        help="torch thread counts for the threads table, on the first shape and its first trace (none: skip)",
    )  # fmt: skip
    parser.add_argument("--out", default=str(RESULTS_DIR))
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    records, tok = corpus_and_tokenizer(args.data, 8192)
    traces = long_traces(records, args.traces, 60, args.max_chars)
    recs = [{"id": str(i), "prompt": r["prompt"], "response": r["response"]} for i, r in enumerate(traces)]
    results = run_header("e2e", argv)
    results["config"] = {
        "tokenizer": "byte-level BPE, 8192 tokens, trained on the skythought traces",
        "dtype": "float32",
        "torch_threads": torch.get_num_threads(),
        "corpus": CORPUS,
    }
    results["shapes"] = {}
    for index, shape in enumerate(args.shapes):
        model = build(shape)
        entry = {"config": SHAPES[shape], "scoring": measure_shape(model, tok, recs, args.repeats)}
        entry["sharing"] = measure_sharing(model, tok, records, args.k, args.share_tokens, args.repeats)
        if index == 0 and args.thread_counts:
            entry["threads"] = measure_threads(model, tok, recs[:1], args.thread_counts, args.repeats)
        results["shapes"][shape] = entry
        report(shape, entry)
        del model
        path = save_results(results, Path(args.out), "e2e-cpu")  # after each shape: a long run keeps its part
        print(f"saved {path}")
    return 0
