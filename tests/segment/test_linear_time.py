"""The C++ segmenter runs in linear time on adversarial input: doubling the input must not more
than ~2.2x the time. Timings are the best of several runs (this checks scaling, not speed)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from rdpt_fast import segment

ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "dots": lambda n: "." * n,
    "dollars": lambda n: "$" * n,
    "escaped_dollars": lambda n: "\\$" * (n // 2),
    "backticks": lambda n: "`" * n,
    "fence_lines": lambda n: "```\n" * (n // 4),
    "unclosed_fence_then_text": lambda n: "```\n" + "x. Y\n" * (n // 5),
    "brackets": lambda n: "\\[" * (n // 2),
    "parens_one_line": lambda n: "\\(" * (n // 2),
    "unclosed_mix": lambda n: "$$ \\[ \\( ``` $ " * (n // 15),
    "abbreviations": lambda n: "Dr. a.b. e.g. 1. x. " * (n // 20),
    "dotted_word": lambda n: "a." * (n // 2) + " B",
    "long_digits_line": lambda n: "1" * (n - 3) + ". B",
    "long_indent": lambda n: " " * (n - 3) + ". B",
    "markers": lambda n: "<think>" * (n // 7),
    "partial_markers": lambda n: "<thin" * (n // 5),
    "newlines": lambda n: "\n" * n,
    "cjk_stops": lambda n: "。" * n,
    "closers": lambda n: "." + ")" * n,
}


LIMIT_S = 2.0  # a linear scan of these inputs takes milliseconds; a quadratic one takes minutes


def best_time(text: str, repeats: int = 7) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        segment(text)
        elapsed = time.perf_counter() - t0
        if elapsed > LIMIT_S:
            pytest.fail(f"{len(text):,} characters took {elapsed:.1f}s: not linear")
        best = min(best, elapsed)
    return best


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_doubling_input_at_most_doubles_time(name: str) -> None:
    make = ADVERSARIAL[name]
    small, large = make(300_000), make(600_000)
    ratios = []
    for _ in range(3):  # a shared machine is noisy: a quadratic scan fails every attempt
        ratio = best_time(large) / best_time(small)
        ratios.append(ratio)
        if ratio <= 2.2:
            return
    pytest.fail(f"{name}: doubling the input took {min(ratios):.2f}x the time (ratios {ratios})")


def test_one_100_mb_line() -> None:
    text = "word, and $x$ then \\( y " * 4_200_000  # ~100 MB, no line break, no sentence end
    t0 = time.perf_counter()
    segs = segment(text)
    elapsed = time.perf_counter() - t0
    assert len(segs) == 1 and segs.ends[0] == len(text)
    assert elapsed < 30, f"a 100 MB line took {elapsed:.1f}s"
