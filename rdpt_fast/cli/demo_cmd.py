"""`rdpt-fast demo`: the whole pipeline on a miniature distillation lab, on the CPU, with no downloads.

The lab (`rdpt_fast.demo`) trains a teacher, a student, a distilled model (the student fine-tuned on
teacher samples) and a control (the student fine-tuned on its own samples), so the answer is known by
construction: the distilled model's sentences come from the teacher, the control's do not. The demo then
runs `trace` on the held-out outputs of both, `select` (max-teacher-count) on candidate teacher responses
whose teacher-typicality is known, writes the reports and prints a summary.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The output folder's name inside the cache (the demo never writes into the current directory unasked).
DEFAULT_OUT = "demo-output"
TRACE_LABELS = ("teacher", "student", "shared", "boosted")


@dataclass(frozen=True)
class DemoSummary:
    """What the demo found.

    shares: "distilled" / "control" -> label -> share of labelled sentences (trace).
    sentences: "distilled" / "control" -> labelled sentences.
    questions / picked_best: held-out questions, and those where select kept a candidate with the most
        teacher-worded steps. steps_selected / steps_all: mean teacher-worded steps (0-5) of the kept
        candidates and of all candidates (what a random pick gets on average).
    seconds: "lab", "trace", "select", "report", "total". lab_cached: the lab came from the cache.
    reports: "distilled" / "control" / "select" -> report.html. lab_root: the lab's cache directory.
    """

    preset: str
    seed: int
    shares: dict[str, dict[str, float]]
    sentences: dict[str, int]
    questions: int
    picked_best: int
    steps_selected: float
    steps_all: float
    seconds: dict[str, float]
    lab_cached: bool
    reports: dict[str, Path]
    lab_root: Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="the whole pipeline on a miniature distillation lab (CPU, no downloads)",
        description="Builds a small lab whose answer is known by construction: synthetic word problems "
        "solved in a teacher style and a student style, tiny Qwen2 models trained on the CPU (teacher, "
        "student, distilled = student fine-tuned on teacher samples, control = student fine-tuned on its "
        "own samples). Then traces the held-out outputs of the distilled model and of the control, selects "
        "among candidate teacher responses with max-teacher-count, writes the reports and prints a summary. "
        "The trained lab is cached ($RDPT_FAST_CACHE, else $XDG_CACHE_HOME/rdpt-fast, else "
        "~/.cache/rdpt-fast); a second run reuses it. About 5 minutes on a 2-core CPU the first time "
        "(--quick: about 1 minute).",
    )
    p.add_argument(
        "--output",
        "-o",
        "--out",
        dest="out",
        metavar="DIR",
        help=f"output folder: trace-distilled/, trace-control/, select/, each with report/ (default: "
        f"{DEFAULT_OUT}/ in the cache folder, printed; these three are replaced)",
    )
    p.add_argument("--quick", action="store_true", help="a smaller, faster lab (for tests and a first look)")
    p.add_argument("--seed", type=int, default=0, help="seed of the corpus, the training and the sampling")
    p.add_argument(
        "--device", default="auto", help="scoring device of trace and select: auto, cpu, cuda (default: auto)"
    )
    p.set_defaults(run=run)


def run_demo(
    quick: bool,
    seed: int,
    out: Path,
    *,
    device: str = "auto",
    command: Sequence[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Build (or reuse) the lab, then trace, select and report into `out`; returns the summary."""
    from rdpt_fast.demo import LabSettings, read_jsonl, run_lab
    from rdpt_fast.rdpt.report import report
    from rdpt_fast.rdpt.select import select
    from rdpt_fast.rdpt.trace import trace

    say = log or (lambda _msg: None)
    start = time.perf_counter()
    lab = run_lab(LabSettings.quick() if quick else LabSettings.full(), seed, log=say)
    seconds = {"lab": time.perf_counter() - start}
    models, corpora = lab.models, lab.corpora
    options: dict[str, Any] = {"devices": device, "overwrite": True, "quiet": True, "command": command}

    t0 = time.perf_counter()
    shares, sentences, folders = {}, {}, {}
    for name in ("distilled", "control"):
        say(f"trace: teacher, student and {name} model over the {name} model's held-out outputs")
        folders[name] = out / f"trace-{name}"
        result = trace(
            models["teacher"], models["student"], models[name], corpora[f"{name}_outputs"], folders[name],
            **options,
        )  # fmt: skip
        shares[name] = result.label_shares
        sentences[name] = sum(n for label, n in result.label_counts.items() if label != "unscored")
    seconds["trace"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    say("select: max-teacher-count over the candidate teacher responses of each held-out question")
    folders["select"] = out / "select"
    chosen = select(
        models["teacher"], models["student"], corpora["candidates"], folders["select"], seed=seed, **options
    ).selection.selected_ids
    candidates = read_jsonl(corpora["candidates"])
    best: dict[str, int] = {}
    for c in candidates:
        best[c["question_id"]] = max(best.get(c["question_id"], 0), c["teacher_steps"])
    kept = [c for c in candidates if c["id"] in chosen]
    seconds["select"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    say("report: plots and summaries")
    reports = {name: report(folder) / "report.html" for name, folder in folders.items()}
    seconds["report"] = time.perf_counter() - t0
    seconds["total"] = time.perf_counter() - start
    return DemoSummary(
        preset="quick" if quick else "full",
        seed=seed,
        shares=shares,
        sentences=sentences,
        questions=len(best),
        picked_best=sum(c["teacher_steps"] == best[c["question_id"]] for c in kept),
        steps_selected=sum(c["teacher_steps"] for c in kept) / max(1, len(kept)),
        steps_all=sum(c["teacher_steps"] for c in candidates) / max(1, len(candidates)),
        seconds=seconds,
        lab_cached=lab.cached,
        reports=reports,
        lab_root=lab.root,
    )


def format_summary(s: DemoSummary) -> str:
    """The summary table printed by `rdpt-fast demo`."""
    head = f"{'held-out outputs of':<22}{'sentences':>10}" + "".join(f"{k:>9}" for k in TRACE_LABELS)
    lines = [
        f"rdpt-fast demo ({s.preset} preset, seed {s.seed})",
        "",
        "trace: label shares (Teacher = the teacher finds the sentence likelier than the student does)",
        head,
        "-" * len(head),
    ]
    for name, label in (("distilled", "distilled model"), ("control", "control (own samples)")):
        cells = "".join(f"{100 * s.shares[name].get(k, 0.0):>8.1f}%" for k in TRACE_LABELS)
        lines.append(f"{label:<22}{s.sentences[name]:>10}{cells}")
    lines += [
        "",
        f"select (max-teacher-count): kept the most teacher-typical candidate for {s.picked_best} of "
        f"{s.questions} questions; teacher-worded steps per kept response {s.steps_selected:.1f} of 5 "
        f"(random pick: {s.steps_all:.1f})",
        "",
        f"time: lab {s.seconds['lab']:.0f} s ({'cached' if s.lab_cached else 'trained'}), "
        + ", ".join(f"{k} {s.seconds[k]:.0f} s" for k in ("trace", "select", "report", "total")),
        f"lab (models and corpora): {s.lab_root}",
        f"report: {s.reports['distilled']}",
        f"        {s.reports['control']}",
        f"        {s.reports['select']}",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from transformers.utils import logging

    logging.disable_progress_bar()  # checkpoint loading bars would drown the demo's own lines
    if args.out is None:
        from rdpt_fast.demo.train import cache_root

        args.out = cache_root() / DEFAULT_OUT
        print(f"rdpt-fast demo: output in {args.out}", file=sys.stderr)
    summary = run_demo(
        args.quick,
        args.seed,
        Path(args.out),
        device=args.device,
        command=["rdpt-fast", *sys.argv[1:]],
        log=lambda msg: print(f"rdpt-fast demo: {msg}", file=sys.stderr, flush=True),
    )
    print(format_summary(summary))
    return 0
