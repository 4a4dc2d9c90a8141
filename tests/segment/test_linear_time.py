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


SIZE = 32_000  # to 1M characters: the buffers stay within the same level of the memory hierarchy
LIMIT_S = 2.0  # a linear scan of these inputs takes milliseconds; a quadratic one takes hours


def best_time(text: str, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        segment(text)
        elapsed = time.perf_counter() - t0
        if elapsed > LIMIT_S:
            pytest.fail(f"{len(text):,} characters took {elapsed:.1f}s: not linear")
        best = min(best, elapsed)
    return best


def growth_per_doubling(make: Callable[[int], str]) -> float:
    """Time growth per doubling of the input, averaged over five doublings (n to 32n). The sizes are
    timed in increasing order and a clearly superlinear scan (over 3x per doubling from the second
    doubling on) is reported at once, before the larger inputs would take minutes."""
    base = best_time(make(SIZE))
    for k in range(1, 6):
        factor = (best_time(make(SIZE << k)) / base) ** (1 / k)
        if k >= 2 and factor > 3.0:
            return factor
    return factor


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_doubling_input_at_most_doubles_time(name: str) -> None:
    """Averaged over five doublings: the cost per character steps up and down as buffers outgrow a
    cache or the allocator changes strategy, which one doubling alone would mistake for growth. A
    quadratic scan (4x per doubling) fails every attempt."""
    factors = []
    for _ in range(3):  # a shared machine is noisy
        factors.append(growth_per_doubling(ADVERSARIAL[name]))
        if factors[-1] <= 2.2:
            return
    pytest.fail(f"{name}: doubling the input took {min(factors):.2f}x the time (per doubling: {factors})")


def test_one_100_mb_line() -> None:
    text = "word, and $x$ then \\( y " * 4_200_000  # ~100 MB, no line break, no sentence end
    t0 = time.perf_counter()
    segs = segment(text)
    elapsed = time.perf_counter() - t0
    assert len(segs) == 1 and segs.ends[0] == len(text)
    assert elapsed < 30, f"a 100 MB line took {elapsed:.1f}s"
