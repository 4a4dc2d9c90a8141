"""Scoring throughput (tokens/s of prompt + response) on real traces, CPU, tiny random-weight models.

Methods, all giving every sentence's sum of log-probs for the same traces:

* ``per-sentence``: the straightforward method: one forward pass per (context, sentence) pair, the
  context being the prompt and all earlier sentences; the head only on the sentence's positions
  (``logits_to_keep``), log_softmax + gather. Quadratic in trace length.
* ``naive-full-logits``: one pass per trace, ``model(...).logits`` for every position ([L, V] float32),
  log_softmax, gather, per-sentence sums.
* ``rdpt``: `rdpt_fast.Scorer` (base model once per trace, fused chunked head, batching/packing).
* Prompt sharing: K responses to one prompt as long as each response, `Scorer` with and without
  ``share_prompts``; ideal speed-up K(P+R)/(P+KR).

The tokenizer is a byte-level BPE trained on the traces; the models are Qwen2 configs with seeded random
weights (see MODELS): one with a small hidden size and a large vocabulary (the head dominates), one deeper
with a small vocabulary (the base model dominates, as in real LMs).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rdpt_fast.bench.common import (
    RESULTS_DIR,
    find_data_dir,
    load_corpus,
    run_header,
    save_results,
    timed,
)
from rdpt_fast.segmentation import assign_tokens, segment
from rdpt_fast.segments import Segments

CORPUS = "thought_anchors_r1_distill_llama8b.jsonl.gz"
TRAIN_CORPUS = "skythought_aime24.jsonl.gz"


def long_traces(records: list[dict[str, Any]], n: int, min_sentences: int, max_chars: int) -> list[dict]:
    """The first n records with at least `min_sentences` sentences and at most `max_chars` characters,
    with distinct prompts (so that nothing is shared)."""
    out: list[dict] = []
    prompts: set[str] = set()
    for r in records:
        fits = len(r["response"]) <= max_chars and r["prompt"] not in prompts
        if fits and len(segment(r["response"])) >= min_sentences:
            out.append(r)
            prompts.add(r["prompt"])
        if len(out) == n:
            break
    return out


def corpus_and_tokenizer(data_arg: str | None, vocab_size: int) -> tuple[list[dict[str, Any]], Any]:
    """The records of CORPUS and a byte-level BPE tokenizer of `vocab_size` trained on TRAIN_CORPUS."""
    from rdpt_fast.scoring.tiny import train_tokenizer

    data = find_data_dir(data_arg, (CORPUS, TRAIN_CORPUS))
    train = [r["response"] for r in load_corpus(data / TRAIN_CORPUS)[:200]]
    return load_corpus(data / CORPUS), train_tokenizer(train, vocab_size)


def tokenize(tok: Any, prompt: str, response: str) -> tuple[torch.Tensor, np.ndarray, Segments]:
    """ids [L], segment id per token (prompt: -1), and the response's segments (raw mode)."""
    text = prompt + response
    enc = tok(text, return_offsets_mapping=True)
    segs = segment(response)
    shifted = Segments(segs.starts + len(prompt), segs.ends + len(prompt), segs.kinds)
    return torch.tensor(enc["input_ids"]), assign_tokens(enc["offset_mapping"], shifted, text), segs


@torch.inference_mode()
def per_sentence(model: torch.nn.Module, tok: Any, prompt: str, response: str) -> np.ndarray:
    """Sentence sums by re-encoding: sentence j is scored in a pass over prompt + sentences[:j+1]."""
    ids, seg_ids, segs = tokenize(tok, prompt, response)
    sums = np.zeros(len(segs))
    for j in range(len(segs)):
        where = np.flatnonzero(seg_ids == j)
        if where.size == 0:
            continue
        end = int(where[-1]) + 1
        first = int(where[0])
        logits = model(input_ids=ids[None, :end], logits_to_keep=end - first + 1).logits[0, :-1].float()
        logp = torch.log_softmax(logits, -1).gather(1, ids[first:end, None])[:, 0]
        sums[j] = float(logp[torch.from_numpy(seg_ids[first:end] == j)].sum())
    return sums


@torch.inference_mode()
def naive_full_logits(model: torch.nn.Module, tok: Any, prompt: str, response: str) -> np.ndarray:
    """Sentence sums from one pass with full [L, V] logits, log_softmax, gather."""
    ids, seg_ids, segs = tokenize(tok, prompt, response)
    logits = model(input_ids=ids[None]).logits[0, :-1].float()
    logp = torch.log_softmax(logits, -1).gather(1, ids[1:, None])[:, 0].double().numpy()
    s = seg_ids[1:]
    keep = s >= 0
    return np.bincount(s[keep], weights=logp[keep], minlength=len(segs))


def run_methods(model, tok, traces: list[dict], per_sentence_traces: int, repeats: int) -> dict[str, Any]:
    from rdpt_fast.scoring import Scorer

    recs = [{"id": str(i), "prompt": r["prompt"], "response": r["response"]} for i, r in enumerate(traces)]
    tokens = [len(tok(r["prompt"] + r["response"]).input_ids) for r in recs]
    sentences = [len(segment(r["response"])) for r in recs]
    scorer = Scorer(model, tok, template=None, device="cpu")
    t_ours, ours = timed(lambda: list(scorer.score(recs)), repeats)
    t_naive, naive = timed(
        lambda: [naive_full_logits(model, tok, r["prompt"], r["response"]) for r in recs], repeats
    )
    few = recs[:per_sentence_traces]
    t_per, per = timed(lambda: [per_sentence(model, tok, r["prompt"], r["response"]) for r in few], 1)
    # the same sentences under every method (fp32 tolerance, the per-sentence one re-tokenizes prefixes)
    diff_naive = max(float(np.abs(o.sum_logprob - n).max()) for o, n in zip(ours, naive))
    diff_per = max(float(np.abs(o.sum_logprob - p).max()) for o, p in zip(ours, per))
    all_tokens, few_tokens = sum(tokens), sum(tokens[:per_sentence_traces])
    t_ours_few = t_ours * few_tokens / all_tokens
    return {
        "traces": len(recs),
        "tokens": all_tokens,
        "sentences_median": float(np.median(sentences)),
        "per_sentence_traces": len(few),
        "rows": [
            {
                "method": "per-sentence",
                "tokens": few_tokens,
                "seconds": t_per,
                "tokens_per_s": few_tokens / t_per,
            },
            {
                "method": "naive-full-logits",
                "tokens": all_tokens,
                "seconds": t_naive,
                "tokens_per_s": all_tokens / t_naive,
            },
            {"method": "rdpt", "tokens": all_tokens, "seconds": t_ours, "tokens_per_s": all_tokens / t_ours},
        ],
        "speedup_vs_per_sentence": t_per / t_ours_few,
        "speedup_vs_naive": t_naive / t_ours,
        "max_abs_diff_vs_naive": diff_naive,
        "max_abs_diff_vs_per_sentence": diff_per,
    }


def sharing(model, tok, records: list[dict], k: int, target_tokens: int, repeats: int) -> dict[str, Any]:
    """K responses of about `target_tokens` tokens to one prompt of about as many tokens."""
    from rdpt_fast.scoring import Scorer

    def cut(text: str, n: int) -> str:
        ids = tok(text, add_special_tokens=False).input_ids[:n]
        return tok.decode(ids)

    base = records[0]["prompt"]
    filler = " ".join(r["response"] for r in records[-3:])
    prompt = cut(base + "\n\nContext:\n" + filler, target_tokens)
    responses = [cut(r["response"], target_tokens) for r in records[1 : k + 1]]
    recs = [{"id": str(i), "prompt": prompt, "response": resp} for i, resp in enumerate(responses)]
    out: dict[str, Any] = {"k": k}
    results = {}
    for share in (False, True):
        scorer = Scorer(model, tok, template=None, device="cpu", share_prompts=share)
        seconds, res = timed(lambda s=scorer: list(s.score(recs)), repeats)
        results[share] = res
        tokens = sum(r.num_prompt_tokens + r.num_response_tokens for r in res)
        out["shared" if share else "unshared"] = {"seconds": seconds, "tokens_per_s": tokens / seconds}
    p = float(np.mean([r.num_prompt_tokens for r in results[True]]))
    r_ = float(np.mean([r.num_response_tokens for r in results[True]]))
    ideal = k * (p + r_) / (p + k * r_)
    speedup = out["unshared"]["seconds"] / out["shared"]["seconds"]
    out.update(
        prompt_tokens=p,
        response_tokens=r_,
        ideal_speedup=ideal,
        speedup=speedup,
        fraction_of_ideal=speedup / ideal,
        max_abs_diff=max(
            float(np.abs(a.sum_logprob - b.sum_logprob).max()) for a, b in zip(results[False], results[True])
        ),
    )
    return out


#: (name, hidden, layers, vocab): a small-hidden large-vocab model (the head dominates) and a deeper one
#: with a small vocabulary (the base model dominates, as in real LMs).
MODELS = {"head-heavy": (128, 2, 65536), "base-heavy": (256, 6, 8192)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rdpt-fast bench score", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="folder of the trace corpora (default: ../shared/data/traces)")
    parser.add_argument("--traces", type=int, default=6, help="traces of 100+ sentences for methods (b), (c)")
    parser.add_argument("--per-sentence-traces", type=int, default=1, help="traces for method (a) (slow)")
    parser.add_argument("--max-chars", type=int, default=9000, help="longest response used")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=list(MODELS))
    parser.add_argument("--k", type=int, default=8, help="responses per prompt for the sharing benchmark")
    parser.add_argument("--share-tokens", type=int, default=384, help="prompt and response length (tokens)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1: stable on a shared machine; 0: as is)",
    )
    parser.add_argument("--out", default=str(RESULTS_DIR), help="results folder")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.threads:
        torch.set_num_threads(args.threads)
    from rdpt_fast.scoring.tiny import random_model

    records, tok = corpus_and_tokenizer(args.data, 4096)
    traces = long_traces(records, args.traces, 100, args.max_chars)
    if not traces:
        raise ValueError(f"no trace of {CORPUS} has 100+ sentences within --max-chars {args.max_chars}")
    results = run_header("score", argv)
    results["config"] = {
        "tokenizer": "byte-level BPE, 4096 tokens, trained on the skythought traces",
        "dtype": "float32",
        "torch_threads": torch.get_num_threads(),
        "corpus": CORPUS,
        "traces": "first traces with 100+ sentences, distinct prompts, raw mode (prompt + response)",
    }
    results["models"] = {}
    for name in args.models:
        hidden, layers, vocab = MODELS[name]
        model = random_model("qwen2", vocab, hidden_size=hidden, num_layers=layers, max_positions=32768)
        entry = {"config": f"Qwen2, hidden {hidden}, {layers} layers, vocab {vocab}, random init"}
        entry["methods"] = run_methods(model, tok, traces, args.per_sentence_traces, args.repeats)
        entry["sharing"] = sharing(model, tok, records, args.k, args.share_tokens, args.repeats)
        results["models"][name] = entry
        m, sh = entry["methods"], entry["sharing"]
        print(f"== {name}: {entry['config']}")
        for row in m["rows"]:
            print(f"{row['method']:<20} {row['tokens_per_s']:>10,.0f} tokens/s  ({row['tokens']} tokens)")
        print(
            f"rdpt vs per-sentence: {m['speedup_vs_per_sentence']:.1f}x; "
            f"vs naive full logits: {m['speedup_vs_naive']:.2f}x"
        )
        print(
            f"K={sh['k']} sharing: {sh['speedup']:.2f}x of ideal {sh['ideal_speedup']:.2f}x "
            f"({100 * sh['fraction_of_ideal']:.0f}%); max |diff| {sh['max_abs_diff']:.2e}"
        )
    path = save_results(results, Path(args.out), "score-cpu")
    print(f"saved {path}")
    return 0
