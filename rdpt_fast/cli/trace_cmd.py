"""`rdpt-fast trace`: teacher + student + distilled over distilled outputs -> labelled sentences."""

from __future__ import annotations

import argparse
import sys

from rdpt_fast.cli.options import add_run_options, beta_arg, run_kwargs


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "trace",
        help="label every sentence Shared / Teacher / Student / Boosted (RDPT)",
        description="Scores every sentence of every response under the teacher, the student and the "
        "distilled model (one model at a time, one per device, or on a Ray cluster with --executor ray: "
        "docs/scaling.md), labels it by the RDPT rules and writes "
        "OUTPUT/ "
        "(sentences/, records/, scores/, run.json, rejects.jsonl; see docs/outputs.md). Rerunning the same "
        "command resumes.",
    )
    p.add_argument("--teacher", required=True, help="teacher model directory (or hub id)")
    p.add_argument("--student", required=True, help="original student model directory (or hub id)")
    p.add_argument("--distilled", required=True, help="distilled student model directory (or hub id)")
    p.add_argument("--alpha", type=float, default=0.1, help="Shared threshold on |d_SD|, |d_TD|, |d_TS|")
    p.add_argument("--beta", type=beta_arg, default=0.1, help="Teacher/Student threshold on d_TS, or 'auto'")
    add_run_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rdpt_fast.rdpt.run import print_summary
    from rdpt_fast.rdpt.trace import trace

    result = trace(
        args.teacher,
        args.student,
        args.distilled,
        args.input,
        args.output,
        alpha=args.alpha,
        beta=args.beta,
        **run_kwargs(args, ["rdpt-fast", *sys.argv[1:]]),
    )
    print_summary(result)
    return 0
