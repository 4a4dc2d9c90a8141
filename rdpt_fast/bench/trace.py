"""End-to-end `trace` on real traces against the scoring floor, CPU, tiny random-weight models.

What a trace run costs beyond scoring: the floor is the three models' `Scorer.score` over the same records
in memory (models loaded from disk, as in a run); `trace` adds reading and validating the input three
times (plus once for the join), writing per-model score shards, the join, labels, records and rejects.
Also timed: rerunning the command on the finished folder (resume: no model is loaded), `classify`
(relabelling without models) and `report`.

Models: a teacher and a student (Qwen2, one tokenizer) and a distilled model (Llama, its own tokenizer),
saved with `save_pretrained` and loaded back by path, as real checkpoints are.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from rdpt_fast.bench.common import RESULTS_DIR, find_data_dir, load_corpus, run_header, save_results, timed

CORPUS = "skythought_aime24.jsonl.gz"
#: role -> (architecture, hidden, layers, vocab, seed, tokenizer group)
MODELS = {
    "teacher": ("qwen2", 128, 2, 4096, 0, "qwen"),
    "student": ("qwen2", 128, 2, 4096, 1, "qwen"),
    "distilled": ("llama", 128, 2, 2048, 2, "llama"),
}


def build_models(root: Path, texts: list[str]) -> dict[str, Path]:
    """The three models, saved into `root`/<role> (tokenizers trained on `texts`)."""
    from rdpt_fast.scoring.tiny import random_model, train_tokenizer

    tokenizers: dict[str, Any] = {}
    paths = {}
    for role, (arch, hidden, layers, vocab, seed, group) in MODELS.items():
        if group not in tokenizers:
            tokenizers[group] = train_tokenizer(texts, vocab, bos=arch == "llama")
        tok = tokenizers[group]
        model = random_model(
            arch, len(tok), hidden_size=hidden, num_layers=layers, seed=seed, max_positions=32768
        )
        paths[role] = root / role
        model.save_pretrained(paths[role])
        tok.save_pretrained(paths[role])
    return paths


def scoring_floor(paths: dict[str, Path], records: list[dict]) -> int:
    """Score the records under the three models in memory; returns the tokens scored."""
    from rdpt_fast.scoring import Scorer

    tokens = 0
    for path in paths.values():
        scorer = Scorer(path, template=None, device="cpu")
        for _ in scorer.score(records):
            pass
        tokens += scorer.stats.scored_tokens
    return tokens


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rdpt-fast bench trace", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="folder of the trace corpora (default: ../shared/data/traces)")
    parser.add_argument("--traces", type=int, default=120, help="real traces traced")
    parser.add_argument("--max-chars", type=int, default=3000, help="responses are cut to this length")
    parser.add_argument("--chunk-records", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: as is)")
    parser.add_argument("--out", default=str(RESULTS_DIR), help="results folder")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.threads:
        torch.set_num_threads(args.threads)
    import rdpt_fast

    data = find_data_dir(args.data, (CORPUS,))
    corpus = load_corpus(data / CORPUS)
    records = [{**r, "response": r["response"][: args.max_chars]} for r in corpus[: args.traces]]
    results = run_header("trace", argv)
    results["config"] = {
        "corpus": CORPUS,
        "traces": len(records),
        "max_chars": args.max_chars,
        "chunk_records": args.chunk_records,
        "torch_threads": torch.get_num_threads(),
        "models": {
            role: f"{a} hidden {h}, {n} layers, vocab {v}" for role, (a, h, n, v, _, _) in MODELS.items()
        },
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = build_models(root / "models", [r["response"] for r in corpus[-200:]])
        inp = root / "in.jsonl"
        inp.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        out = root / "out"

        def run_trace(overwrite: bool = True) -> Any:
            return rdpt_fast.trace(
                paths["teacher"],
                paths["student"],
                paths["distilled"],
                inp,
                out,
                template=None,
                devices="cpu",
                chunk_records=args.chunk_records,
                overwrite=overwrite,
                quiet=True,
            )

        t_floor, tokens = timed(lambda: scoring_floor(paths, records), args.repeats, warmup=False)
        t_trace, result = timed(run_trace, args.repeats, warmup=False)
        timings = json.loads((out / "run.json").read_text())["timings"]
        passes = sum(p["seconds"] for p in timings["passes"].values())
        t_resume, _ = timed(lambda: run_trace(overwrite=False), args.repeats, warmup=False)
        t_classify, _ = timed(lambda: rdpt_fast.classify_folder(out, beta="auto"), args.repeats, warmup=False)
        t_report, _ = timed(lambda: rdpt_fast.report(out), args.repeats, warmup=False)
    results["tokens"] = tokens
    results["sentences"] = result.sentences
    results["rows"] = [
        {"step": "scoring floor: Scorer.score x 3 models", "seconds": t_floor},
        {"step": "rdpt-fast trace, end to end", "seconds": t_trace},
        {"step": "  of which forward passes (Scorer)", "seconds": passes},
        {"step": "  of which the join", "seconds": timings["join_seconds"]},
        {"step": "rerun on the finished folder (resume)", "seconds": t_resume},
        {"step": "classify --beta auto (no model)", "seconds": t_classify},
        {"step": "report (plots + html + md)", "seconds": t_report},
    ]
    for row in results["rows"]:
        row["vs_floor"] = row["seconds"] / t_floor
        print(f"{row['step']:<42} {row['seconds']:8.2f} s  {row['vs_floor']:6.2f}x floor")
    print(
        f"{tokens:,} tokens ({tokens / t_floor:,.0f} tokens/s at the floor), {result.sentences:,} sentences"
    )
    path = save_results(results, Path(args.out), "trace-cpu")
    print(f"saved {path}")
    return 0
