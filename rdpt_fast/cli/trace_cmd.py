"""`rdpt-fast trace`: teacher + student + distilled over distilled outputs -> labelled sentences."""

from __future__ import annotations

import argparse
import sys

from rdpt_fast.cli.options import add_precomputed_options, add_run_options, run_config
from rdpt_fast.cli.summary import exit_status, print_rejects, print_summary


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "trace",
        help="label every sentence Shared / Teacher / Student / Boosted (RDPT)",
        description="Scores every sentence of every response under the teacher, the student and the "
        "distilled model (one model at a time, one per device, or on a Ray cluster with --executor ray: "
        "docs/scaling.md), labels it by the RDPT rules and writes OUTPUT/ (sentences/, records/, scores/, "
        "segments/, run.json, rejects.jsonl; see docs/outputs.md). Rerunning the same command resumes.",
    )
    p.add_argument("--teacher", required=True, help="teacher model directory (or hub id)")
    p.add_argument("--student", required=True, help="original student model directory (or hub id)")
    p.add_argument("--distilled", required=True, help="distilled student model directory (or hub id)")
    add_run_options(p, labels=("alpha", "beta", "include_markers"))
    add_precomputed_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rdpt_fast.rdpt.trace import trace

    result = trace(
        args.teacher,
        args.student,
        args.distilled,
        args.input,
        args.output,
        teacher_logprobs=args.teacher_logprobs,
        token_ids_field=args.token_ids_field,
        config=run_config(args, ["rdpt-fast", *sys.argv[1:]]),
    )
    print_rejects(result, "trace")
    print_summary(result, "trace")
    return exit_status(result)
