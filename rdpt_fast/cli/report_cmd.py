"""`rdpt-fast report`: plots and an HTML / Markdown summary of a trace or select output folder."""

from __future__ import annotations

import argparse
from pathlib import Path


def beta_or_auto(value: str) -> float | str:
    """--beta: a number in [0, 1] or 'auto'."""
    return value if value == "auto" else float(value)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="plots and an HTML / Markdown summary of a trace or select folder",
        description="Reads DIR/run.json and DIR/sentences (only the columns it needs, shard by shard) "
        "and writes PNG plots, report.html (self-contained) and report.md into DIR/report: label shares "
        "by relative position (correct vs. incorrect), the d_TS histogram with alpha and beta, the "
        "adaptive-beta curve, teacher share per record and, for select, chosen vs. not chosen; each with "
        "its numbers. --alpha / --beta relabel from the stored probabilities for the report only (no "
        "model is run, no shard rewritten). Prints the path of each report file.",
    )
    p.add_argument("folder", metavar="DIR", help="output folder of rdpt-fast trace or select")
    p.add_argument("--alpha", type=float, help="relabel with this alpha (trace only; default: the run's)")
    p.add_argument(
        "--beta",
        type=beta_or_auto,
        help="relabel with this beta, or 'auto' for adaptive beta (default: the run's)",
    )
    p.add_argument(
        "--include-markers", action="store_true", help="count marker sentences in the label statistics"
    )
    p.add_argument("--format", default="html,md", help="comma-separated: html, md (default: both)")
    p.add_argument("--bins", type=int, default=10, help="relative-position bins (default 10)")
    p.add_argument("--output", "-o", metavar="DIR", help="report folder (default: DIR/report)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rdpt_fast.rdpt.report import report

    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    out = report(
        Path(args.folder),
        alpha=args.alpha,
        beta=args.beta,
        include_markers=args.include_markers,
        formats=formats,
        position_bins=args.bins,
        output=args.output,
    )
    for fmt in formats:
        print(out / f"report.{fmt}")
    return 0
