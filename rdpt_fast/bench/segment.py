"""Segmentation throughput (MB/s of UTF-8 response text) on the real trace corpora.

Compares the C++ segmenter (1 thread and all threads), the pure-Python reference, blingfire's
`text_to_sentences_and_offsets` and pysbd (on a smaller sample: it is slow). Every run segments
fresh copies of the strings, so the UTF-8 view CPython caches inside a str is never reused.
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
from rdpt_fast.segmentation import segment_batch


def load_sample(data_dir: Path, max_mb: float) -> list[str]:
    """Every response of both corpora, thinned evenly (every k-th) to about `max_mb` MB."""
    texts = [r["response"] for name in CORPORA for r in load_corpus(data_dir / name)]
    total = sum(len(t.encode()) for t in texts) / 1e6
    step = max(1, round(total / max_mb)) if max_mb > 0 else 1
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


def time_on_fresh_copies(fn: Callable[[list[str]], Any], texts: list[str], repeats: int) -> list[float]:
    """Seconds per call of `fn` on new copies of `texts` (CPython caches a str's UTF-8 form)."""
    fresh: list[list[str]] = []
    return run_seconds(
        lambda: fn(fresh.pop()), repeats, setup=lambda: fresh.append([t.encode().decode() for t in texts])
    )


def implementations(threads: int) -> dict[str, Callable[[list[str]], Any]]:
    impls: dict[str, Callable[[list[str]], Any]] = {
        "rdpt-fast C++ (1 thread)": lambda ts: segment_batch(ts, num_threads=1),
        f"rdpt-fast C++ ({threads} threads)": lambda ts: segment_batch(ts, num_threads=threads),
        "rdpt-fast reference (Python)": lambda ts: segment_batch(ts, backend="reference"),
    }
    try:
        import blingfire

        impls["blingfire text_to_sentences_and_offsets"] = lambda ts: [
            blingfire.text_to_sentences_and_offsets(t) for t in ts
        ]
    except ImportError:
        pass
    try:
        import pysbd

        seg = pysbd.Segmenter(language="en", clean=False, char_span=True)
        impls["pysbd (char_span)"] = lambda ts: [seg.segment(t) for t in ts]
    except ImportError:
        pass
    return impls


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="rdpt-fast bench segment", description=__doc__)
    p.add_argument("--data", help="folder with the trace corpora (default: ../shared/data/traces)")
    p.add_argument("--max-mb", type=float, default=16.0, help="sample size for all but pysbd (0: everything)")
    p.add_argument("--pysbd-mb", type=float, default=0.5, help="sample size for pysbd")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--slow-repeats", type=int, default=3, help="repeats for the reference and pysbd")
    p.add_argument("--out", default=str(RESULTS_DIR), help="results folder")
    args = p.parse_args(argv)

    header = run_header("segment", argv)
    data_dir = find_data_dir(args.data)
    sample = load_sample(data_dir, args.max_mb)
    small = first_megabytes(sample, args.pysbd_mb)
    threads = os.cpu_count() or 1
    rows = []
    for name, fn in implementations(threads).items():
        texts = small if name.startswith("pysbd") else sample
        slow = "reference" in name or name.startswith("pysbd")
        times = time_on_fresh_copies(fn, texts, args.slow_repeats if slow else args.repeats)
        mb = megabytes(texts)
        stats = summarize(times)
        rows.append(
            {
                "impl": name,
                "texts": len(texts),
                "mb": round(mb, 3),
                **stats,
                "mb_per_s": mb / stats["median_s"],
            }
        )
        print(f"{name:45s} {mb:7.2f} MB  {mb / stats['median_s']:9.2f} MB/s", flush=True)
    corpus = {"files": list(CORPORA), "sample_mb": round(megabytes(sample), 3)}
    results = {**header, "corpus": corpus, "rows": rows}
    path = save_results(results, Path(args.out), f"segment-{header['machine']['device']}")
    print(f"saved {path}")
    return 0
