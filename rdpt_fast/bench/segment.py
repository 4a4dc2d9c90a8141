"""Segmentation benchmark on the real trace corpora: throughput (MB/s of UTF-8 response text) and the
boundaries each segmenter puts inside math and inside code fences.

Races rdpt-fast (C++ version 2 on 1 thread and on all threads, C++ version 1, the Python reference)
against the installed peers (rdpt_fast.bench.segment_peers): blingfire through its C entry point and
through `text_to_sentences_and_offsets`, sentencex, nupunkt, spaCy's rule-based sentencizer and pysbd.
Fast segmenters are timed on a large sample, slow ones on the first megabytes of it. Every timed run
segments fresh copies of the strings, so the UTF-8 form CPython caches inside a str is never reused.
The boundary counts come from one fixed sample of traces (rdpt_fast.bench.segment_quality).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rdpt_fast.bench.common import (
    CORPORA,
    RESULTS_DIR,
    find_data_dir,
    load_corpus,
    run_header,
    run_seconds,
    save_results,
    summarize,
)
from rdpt_fast.bench.segment_peers import ours, peers
from rdpt_fast.bench.segment_quality import QualitySample


def load_texts(data_dir: Path) -> list[str]:
    """Every response of both corpora, in file order."""
    return [r["response"] for name in CORPORA for r in load_corpus(data_dir / name)]


def thin(texts: list[str], max_mb: float) -> list[str]:
    """Every k-th text, k chosen to keep about `max_mb` MB (0: everything)."""
    step = max(1, round(megabytes(texts) / max_mb)) if max_mb > 0 else 1
    return texts[::step]


def megabytes(texts: list[str]) -> float:
    return sum(len(t.encode()) for t in texts) / 1e6


def first_megabytes(texts: list[str], mb: float) -> list[str]:
    """The shortest prefix of `texts` holding at least `mb` MB (at least one text)."""
    total = 0.0
    for i, t in enumerate(texts):
        total += len(t.encode()) / 1e6
        if total >= mb:
            return texts[: i + 1]
    return texts


def quality_texts(texts: list[str], evenly: int) -> list[str]:
    """The fixed sample for the boundary counts: `evenly` traces spaced evenly through the corpora, plus
    every other trace with three backticks in it (code fences are rare: without them the sample would
    hold almost none)."""
    step = max(1, len(texts) // max(1, evenly))
    chosen = set(range(0, len(texts), step)[:evenly])
    chosen |= {i for i, t in enumerate(texts) if "```" in t}
    return [texts[i] for i in sorted(chosen)]


def time_on_fresh_copies(fn: Callable[[list[str]], Any], texts: list[str], repeats: int) -> list[float]:
    """Seconds per call of `fn` on new copies of `texts` (CPython caches a str's UTF-8 form)."""
    fresh: list[list[str]] = []
    return run_seconds(
        lambda: fn(fresh.pop()), repeats, setup=lambda: fresh.append([t.encode().decode() for t in texts])
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="rdpt-fast bench segment", description=__doc__)
    p.add_argument("--data", help="folder with the trace corpora (default: ../shared/data/traces)")
    p.add_argument(
        "--max-mb", type=float, default=16.0, help="sample for the fast segmenters (0: everything)"
    )
    p.add_argument(
        "--slow-mb", type=float, default=2.0, help="sample for the slow ones (reference, most peers)"
    )
    p.add_argument("--slowest-mb", type=float, default=0.5, help="sample for spaCy and pysbd")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--slow-repeats", type=int, default=3, help="repeats on the slow and slowest samples")
    p.add_argument(
        "--quality-traces",
        type=int,
        default=200,
        help="evenly spaced traces in the boundary-count sample (every trace with ``` is added)",
    )
    p.add_argument("--note", default="", help="recorded with the results (e.g. the load on the machine)")
    p.add_argument("--out", default=str(RESULTS_DIR), help="results folder")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    header = run_header("segment", argv)
    load_before = os.getloadavg()
    texts = load_texts(find_data_dir(args.data))
    sample = thin(texts, args.max_mb)
    samples = {
        "fast": sample,
        "slow": first_megabytes(sample, args.slow_mb),
        "slowest": first_megabytes(sample, args.slowest_mb),
    }
    quality = QualitySample(quality_texts(texts, args.quality_traces))
    threads = os.cpu_count() or 1
    rows = []
    for entry in [*ours(threads), *peers()]:
        chosen = samples[entry.tier]
        repeats = args.repeats if entry.tier == "fast" else args.slow_repeats
        entry.run(chosen[:8])  # warm-up, untimed: imports, lazy tables, caches
        stats = summarize(time_on_fresh_copies(entry.run, chosen, repeats))
        mb = megabytes(chosen)
        row = {"impl": entry.name, "tier": entry.tier, "texts": len(chosen), "mb": round(mb, 3), **stats}
        row["mb_per_s"] = mb / stats["median_s"]
        row.update(quality.count(entry.starts))
        rows.append(row)
        print(
            f"{entry.name:42s} {mb:7.2f} MB {row['mb_per_s']:9.2f} MB/s  "
            f"boundaries in math {row['in_math']:5d}, in code {row['in_code']:5d}",
            flush=True,
        )
    results = {
        **header,
        "note": args.note,
        "load_average_1m": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
        "corpus": {"files": list(CORPORA), **{f"{k}_mb": round(megabytes(v), 3) for k, v in samples.items()}},
        "quality": quality.summary(),
        "rows": rows,
    }
    path = save_results(results, Path(args.out), f"segment-{header['machine']['device']}")
    print(f"saved {path}")
    return 0
