"""`rdpt-fast select`: teacher + student (or precomputed teacher log-probs) over candidates -> selection."""

from __future__ import annotations

import argparse
import sys

from rdpt_fast.cli.options import add_precomputed_options, add_run_options, run_config
from rdpt_fast.cli.summary import exit_status, print_rejects, print_summary


def add_parser(sub: argparse._SubParsersAction) -> None:
    from rdpt_fast.rdpt.ranking import STRATEGIES

    p = sub.add_parser(
        "select",
        help="teacher-guided data selection: keep the best candidate(s) per question",
        description="Labels every sentence of every candidate Common / Teacher / Student from "
        "d_TS = p_T - p_S, ranks the candidates of each question_id by the strategy and keeps the best K. "
        "Writes OUTPUT/ "
        "selected.jsonl and selected.parquet (all original fields + rdpt_selection), questions.parquet "
        "(every candidate's counts and rank) and the run folder of docs/outputs.md. Rerunning resumes. "
        "--executor ray runs the models on a Ray cluster (docs/scaling.md).",
    )
    p.add_argument(
        "--teacher",
        required=True,
        help="teacher model directory (or its tokenizer's, with --teacher-logprobs)",
    )
    p.add_argument("--student", required=True, help="student model directory (or hub id)")
    p.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default=STRATEGIES[0],
        help=f"how candidates are ranked (default: {STRATEGIES[0]})",
    )
    p.add_argument(
        "--keep", type=int, default=1, metavar="K", help="candidates kept per question (default: 1)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random strategy (default: 0)")
    add_run_options(p, labels=("beta", "include_markers"))
    add_precomputed_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rdpt_fast.rdpt.select import select

    result = select(
        args.teacher,
        args.student,
        args.input,
        args.output,
        strategy=args.strategy,
        keep=args.keep,
        seed=args.seed,
        teacher_logprobs=args.teacher_logprobs,
        token_ids_field=args.token_ids_field,
        config=run_config(args, ["rdpt-fast", *sys.argv[1:]]),
    )
    print_rejects(result.run, "select")
    print_summary(result.run, "select")
    print(
        f"rdpt-fast select: {result.num_selected} selected of {result.selection.table.num_rows} candidates "
        f"({result.selection.num_questions} questions, {result.strategy}, keep {result.keep})",
        file=sys.stderr,
    )
    if result.parquet_problem:
        print(f"rdpt-fast select: warning: {result.parquet_problem}", file=sys.stderr)
    return exit_status(result.run)
