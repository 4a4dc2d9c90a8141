"""lm-eval on a local multiple-choice task through three backends, per model:

* ``hf``: lm-eval's own Hugging Face model (full logits, each choice runs its whole context);
* ``rdpt-fast``: the `rdpt-fast` lm-eval model (a question's context runs once, no logits);
* ``local-completions -> serve``: lm-eval's OpenAI-style client against `rdpt-fast serve` (a child
  process), prompts as token ids, `batch_size` prompts per request, `num_concurrent` requests in
  flight (lm-eval orders requests by length, so a question's choices meet in the server's batching
  window rather than in one request).

Per backend, over interleaved repeats: median and minimum wall time of `simple_evaluate` (model loading
and server start excluded), token positions
fed to the model (padding included; a forward pre-hook for hf, the scorer's counters otherwise), and
the largest per-choice log-likelihood difference from hf. Models have random weights (no downloads);
the tokenizer is a byte-level BPE trained on the task's text.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from rdpt_fast.bench.common import RESULTS_DIR, run_header, save_results
from rdpt_fast.bench.mc_task import synthetic_questions, write_mc_task

TASK = "rdpt_mc_bench"
#: name -> Qwen2 config keywords of a random-weight model.
MODELS: dict[str, dict[str, Any]] = {
    "tiny": dict(hidden_size=64, num_layers=2, num_heads=4, num_kv_heads=2),
    "small": dict(hidden_size=384, num_layers=6, num_heads=6, num_kv_heads=2),
}
BACKENDS = ("hf", "rdpt-fast", "local-completions")


def build_model(name: str, folder: Path, texts: list[str], vocab: int) -> tuple[Path, int]:
    """A random-weight Qwen2 `name` with a tokenizer trained on `texts`, saved in folder/name; (its
    folder, its parameter count)."""
    from rdpt_fast.scoring.tiny import random_model, train_tokenizer

    tok = train_tokenizer(texts, vocab)
    model = random_model("qwen2", len(tok), tie_word_embeddings=True, **MODELS[name])
    path = folder / name
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path, sum(p.numel() for p in model.parameters())


def per_sample(model: Any, task_dir: Path, **kwargs: Any) -> tuple[list[list[float]], float, float]:
    """(log-likelihoods per question and choice, accuracy, seconds) of one simple_evaluate run."""
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    tasks = TaskManager(include_path=str(task_dir), include_defaults=False)
    t0 = time.perf_counter()
    out = simple_evaluate(model=model, tasks=[TASK], task_manager=tasks, log_samples=True, **kwargs)
    seconds = time.perf_counter() - t0
    samples = sorted(out["samples"][TASK], key=lambda s: s["doc_id"])
    return [[float(r[0][0]) for r in s["resps"]] for s in samples], out["results"][TASK]["acc,none"], seconds


def run_hf(path: Path, task_dir: Path, batch_size: int) -> dict[str, Any]:
    from lm_eval.models.huggingface import HFLM

    lm = HFLM(pretrained=str(path), dtype="float32", device="cpu", batch_size=batch_size)
    fed = [0]
    lm.model.register_forward_pre_hook(
        lambda _, args, kw: fed.__setitem__(0, fed[0] + _ids(args, kw).numel()), with_kwargs=True
    )
    lls, acc, seconds = per_sample(lm, task_dir)
    return {"lls": lls, "acc": acc, "wall_s": seconds, "tokens_forwarded": fed[0]}


def _ids(args: tuple, kwargs: dict) -> torch.Tensor:
    return kwargs["input_ids"] if "input_ids" in kwargs else args[0]


def run_rdpt(path: Path, task_dir: Path, max_batch_tokens: int) -> dict[str, Any]:
    from rdpt_fast.integrations.lm_eval import RdptLM

    lm = RdptLM(str(path), dtype="float32", device="cpu", max_batch_tokens=max_batch_tokens)
    lls, acc, seconds = per_sample(lm, task_dir)
    return {
        "lls": lls,
        "acc": acc,
        "wall_s": seconds,
        "tokens_forwarded": lm.scorer.stats.tokens_forwarded,
        "paths": lm.scorer.stats.paths,
    }


def run_served(path: Path, task_dir: Path, args: argparse.Namespace, log: Path) -> dict[str, Any]:
    import httpx

    from rdpt_fast.serve.process import start_server

    server = start_server(
        path,
        log,
        "--served-model-name",
        "bench",
        "--device",
        "cpu",
        "--dtype",
        "float32",
        "--max-batch-tokens",
        str(args.max_batch_tokens),
        "--batch-window-ms",
        str(args.batch_window_ms),
    )
    try:
        client = (
            f"model=bench,base_url={server.url}/v1/completions,num_concurrent={args.num_concurrent},"
            "tokenized_requests=True"
        )
        lls, acc, seconds = per_sample(
            "local-completions", task_dir, model_args=client, batch_size=args.batch_size
        )
        stats = httpx.get(f"{server.url}/stats").json()
    finally:
        server.stop()
    return {
        "lls": lls,
        "acc": acc,
        "wall_s": seconds,
        "tokens_forwarded": stats["tokens_forwarded"],
        "server_batches": stats["batches"],
    }


def record(runs: dict[str, dict[str, Any]], name: str, run: dict[str, Any]) -> None:
    """Keep the first run of `name` (its log-likelihoods and counters are the same every time) and every
    run's wall time (`runs_s`; `wall_s` becomes their median, `min_s` their minimum)."""
    entry = runs.setdefault(name, {**run, "runs_s": []})
    entry["runs_s"].append(run["wall_s"])
    entry["wall_s"] = statistics.median(entry["runs_s"])
    entry["min_s"] = min(entry["runs_s"])


def summarize(runs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per backend: wall time, tokens, ratios to hf, largest |log-likelihood - hf's|, accuracy."""
    hf = runs["hf"]
    out = {}
    for name, r in runs.items():
        diff = max(abs(a - b) for qa, qb in zip(r["lls"], hf["lls"]) for a, b in zip(qa, qb))
        out[name] = {k: v for k, v in r.items() if k != "lls"}
        out[name].update(
            hf_time_over_this=hf["wall_s"] / r["wall_s"],
            hf_min_over_this_min=hf["min_s"] / r["min_s"],
            tokens_vs_hf=r["tokens_forwarded"] / hf["tokens_forwarded"],
            max_abs_diff_vs_hf=diff,
        )
    return out


def serve_table(results: dict[str, Any]) -> str:
    """The README table of one results file."""
    m, cfg = results["machine"], results["config"]
    lines = [
        f"lm-eval, {m['device_name']}, {results['date'][:10]}, `{results['command']}`; {cfg['questions']} "
        f"questions x {cfg['choices']} choices, float32, {cfg['torch_threads']} torch thread(s), random "
        f"weights; {cfg['repeats']} interleaved runs per backend"
        + (f"; {cfg['note']}" if cfg.get("note") else ""),
        "",
        "| model | backend | median s | min s | hf / this (median) | hf / this (min) | tokens forwarded "
        "| tokens vs hf | max abs diff vs hf |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for model, entry in results["models"].items():
        for name, r in entry["backends"].items():
            cells = [
                f"{model}: {entry['params'] / 1e6:.1f}M params",
                name,
                f"{r['wall_s']:.1f}",
                f"{r['min_s']:.1f}",
                f"{r['hf_time_over_this']:.2f}x",
                f"{r['hf_min_over_this_min']:.2f}x",
                f"{r['tokens_forwarded']:,}",
                f"{r['tokens_vs_hf']:.2f}",
                f"{r['max_abs_diff_vs_hf']:.1e}",
            ]
            lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rdpt-fast bench serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs per backend")
    parser.add_argument("--choices", type=int, default=4)
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=list(MODELS))
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--batch-size", type=int, default=16, help="hf batch size; prompts per request")
    parser.add_argument("--max-batch-tokens", type=int, default=4096)
    parser.add_argument("--num-concurrent", type=int, default=8, help="local-completions requests in flight")
    parser.add_argument("--batch-window-ms", type=float, default=20.0, help="the server's batching window")
    parser.add_argument("--vocab", type=int, default=4096, help="tokenizer vocabulary (BPE on the task text)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--note", default="", help="how the machine was when this ran (recorded, shown)")
    parser.add_argument("--out", default=str(RESULTS_DIR))
    args = parser.parse_args(argv)
    if "hf" not in args.backends:
        parser.error("--backends must include hf (the reference the others are compared with)")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    if args.threads:
        torch.set_num_threads(args.threads)
    questions = synthetic_questions(args.questions, args.choices)
    texts = [q["question"] + " " + " ".join(q["choices"]) for q in questions]
    results = run_header("serve", argv)
    results["config"] = {
        "questions": args.questions,
        "repeats": args.repeats,
        "choices": args.choices,
        "batch_size": args.batch_size,
        "max_batch_tokens": args.max_batch_tokens,
        "num_concurrent": args.num_concurrent,
        "batch_window_ms": args.batch_window_ms,
        "torch_threads": torch.get_num_threads(),
        "note": args.note,
    }
    results["models"] = {}
    with tempfile.TemporaryDirectory() as tmp:
        task_dir = write_mc_task(Path(tmp) / "task", TASK, questions)
        for name in args.models:
            path, params = build_model(name, Path(tmp), texts, args.vocab)
            runs: dict[str, dict[str, Any]] = {}
            for _ in range(args.repeats):  # interleaved, so that a change in the machine's load hits all
                record(runs, "hf", run_hf(path, task_dir, args.batch_size))
                if "rdpt-fast" in args.backends:
                    record(runs, "rdpt-fast", run_rdpt(path, task_dir, args.max_batch_tokens))
                if "local-completions" in args.backends:
                    served = run_served(path, task_dir, args, Path(tmp) / f"serve-{name}.log")
                    record(runs, "local-completions -> serve", served)
            results["models"][name] = {"config": MODELS[name], "params": params, "backends": summarize(runs)}
            for backend, r in results["models"][name]["backends"].items():
                print(
                    f"{name:<5} {backend:<28} {r['wall_s']:7.1f} s  {r['tokens_forwarded']:>9,} tokens  "
                    f"hf/this {r['hf_time_over_this']:.2f}x  max|diff| {r['max_abs_diff_vs_hf']:.1e}"
                )
            path_out = save_results(results, Path(args.out), "serve-cpu")
            print(f"saved {path_out}")
    return 0
