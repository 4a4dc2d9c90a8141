"""`rdpt-fast classify`: relabel a trace or select folder with other thresholds, without any model."""

from __future__ import annotations

import argparse

from rdpt_fast.cli.options import beta_arg


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "classify",
        help="relabel a trace/select folder with other alpha/beta (no model is run)",
        description="Recomputes the labels of every sentence and the per-record counts of a complete "
        "trace or select folder from its stored probabilities, in place. Unset options keep the folder's "
        "values.",
    )
    p.add_argument("folder", help="a trace or select output folder")
    p.add_argument("--alpha", type=float, help="Shared threshold (trace)")
    p.add_argument("--beta", type=beta_arg, help="threshold on d_TS, or 'auto'")
    markers = p.add_mutually_exclusive_group()
    markers.add_argument(
        "--include-markers",
        dest="include_markers",
        action="store_true",
        default=None,
        help="count marker sentences in label statistics (default: as the folder was made)",
    )
    markers.add_argument(
        "--exclude-markers", dest="include_markers", action="store_false", help="leave marker sentences out"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rdpt_fast.cli.summary import print_summary
    from rdpt_fast.engine.relabel import classify_folder

    result = classify_folder(
        args.folder, alpha=args.alpha, beta=args.beta, include_markers=args.include_markers
    )
    print_summary(result, "classify")
    return 0
