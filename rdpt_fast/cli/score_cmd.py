"""`rdpt-fast score`: one model over a corpus -> per-sentence scores (a one-role run folder), resumable."""

from __future__ import annotations

import argparse
import sys

from rdpt_fast.cli.options import add_run_options, run_config
from rdpt_fast.cli.summary import exit_status, print_rejects, print_score_summary


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score",
        help="score every sentence of a corpus under one model (Parquet)",
        description="Per-sentence log-probs of every record's response under one causal LM, one forward pass "
        "per trace. Writes the run folder OUTPUT/ (docs/outputs.md): sentences/part-NNNNN.parquet with one "
        "row per (record, sentence) (id, sentence, start, end, kind, text, sum_logprob, num_tokens, prob, "
        "model), rejects.jsonl, run.json. Rerunning the same command resumes; another model or other "
        "settings in the same folder are refused. --executor ray scores on a Ray cluster (docs/scaling.md).",
    )
    p.add_argument("--model", required=True, help="local model directory (or hub id where a network exists)")
    p.add_argument("--name", help="model name (default: the model folder's name); matches logprobs_model")
    add_run_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rdpt_fast.engine.score import score

    result = score(
        args.model,
        args.input,
        args.output,
        name=args.name,
        config=run_config(args, ["rdpt-fast", *sys.argv[1:]]),
    )
    print_rejects(result, "score")
    print_score_summary(result)
    return exit_status(result)
