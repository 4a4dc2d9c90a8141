"""The `rdpt-fast` command: one subcommand per job."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from rdpt_fast import __version__
from rdpt_fast.cli import (
    bench_cmd,
    classify_cmd,
    demo_cmd,
    report_cmd,
    score_cmd,
    segment_cmd,
    select_cmd,
    serve_cmd,
    trace_cmd,
)

SUBCOMMANDS = (
    demo_cmd,
    segment_cmd,
    score_cmd,
    trace_cmd,
    select_cmd,
    classify_cmd,
    report_cmd,
    serve_cmd,
    bench_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rdpt-fast",
        description="Fast per-sentence scoring of reasoning traces "
        "(Reasoning Distillation Provenance Tracing).",
    )
    parser.add_argument("--version", action="version", version=f"rdpt-fast {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (FileNotFoundError, ValueError) as e:
        print(f"rdpt-fast {args.command}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as e:  # read-only folder, disk full, ...: the path and the reason, no traceback
        where = f"{e.filename}: " if e.filename else ""
        print(f"rdpt-fast {args.command}: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rdpt-fast {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
