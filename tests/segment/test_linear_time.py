"""The segmenter runs in linear time on adversarial input. The C++ core counts its work (every code
point and bitmap word its scans read, `_core.scan_steps`): it must stay within a constant per
character, the same at every size, which a quadratic scan cannot (it reads ~n/2 characters per
character). Wall-clock time is only a loose guard: a linear scan takes milliseconds, a quadratic one
minutes."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from rdpt_fast import _core, segment
from rdpt_fast.segmentation import DEFAULT_MARKERS, resolve_rules

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
    "dotted_parts": lambda n: "ab.cd." * (n // 6) + " B",
    "long_digits_line": lambda n: "1" * (n - 3) + ". B",
    "long_indent": lambda n: " " * (n - 3) + ". B",
    "markers": lambda n: "<think>" * (n // 7),
    "partial_markers": lambda n: "<thin" * (n // 5),
    "newlines": lambda n: "\n" * n,
    "cjk_stops": lambda n: "。" * n,
    "closers": lambda n: "." + ")" * n,
    # version 2
    "spaced_dollars": lambda n: "$ " * (n // 2),
    "money": lambda n: "$5 and " * (n // 7),
    "unclosed_dollar_words": lambda n: "$a " * (n // 3),
    "dollar_then_digit": lambda n: "$a$1" * (n // 4),
    "bold_runs": lambda n: "**" * (n // 2),
    "bold_list_numbers": lambda n: "**3. " * (n // 5),
    "markdown_closers": lambda n: "." + "*_`" * (n // 3) + " B",
    "spaced_dots": lambda n: ". " * (n // 2),
    "spaced_dots_then_word": lambda n: "a . . . " * (n // 8) + "B",
    "hashes": lambda n: "#" * (n - 6) + " 1. B",
    "etc_runs": lambda n: "etc. " * (n // 5),
    "bracketed_ellipses": lambda n: "[...] (…) " * (n // 10),
    "openers_before_word": lambda n: "(" * (n - 5) + "Dr. X",
    "cjk_closers": lambda n: "。」" * (n // 2),
}
RULES = ["reasoning", "reasoning-v1", "simple"]
SMALL, LARGE = 20_000, 320_000
STEPS_PER_CHAR = 16  # measured: at most 11 on these inputs (runs of backticks); a quadratic scan: ~SMALL / 2
WALL_LIMIT_S = 2.0  # the LARGE inputs take milliseconds when linear


def steps(text: str, rules: str) -> int:
    return _core.scan_steps(text, resolve_rules(rules), list(DEFAULT_MARKERS), 0)


@pytest.mark.parametrize("rules", RULES)
@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_work_per_character_is_bounded(name: str, rules: str) -> None:
    small, large = ADVERSARIAL[name](SMALL), ADVERSARIAL[name](LARGE)
    per_char = [steps(t, rules) / len(t) for t in (small, large)]
    assert max(per_char) <= STEPS_PER_CHAR, f"{name}: {per_char} steps per character"
    # linear: the same work per character at 16x the size (quadratic would be 16x more)
    assert per_char[1] <= 1.1 * per_char[0] + 0.01, f"{name}: {per_char} steps per character"


@pytest.mark.parametrize("rules", RULES)
@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_backends_agree_on_adversarial_input(name: str, rules: str) -> None:
    text = ADVERSARIAL[name](2_000)
    assert segment(text, rules=rules) == segment(text, rules=rules, backend="reference")


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_wall_clock_guard(name: str) -> None:
    text = ADVERSARIAL[name](1_000_000)
    t0 = time.perf_counter()
    segment(text)
    elapsed = time.perf_counter() - t0
    assert elapsed < WALL_LIMIT_S, f"{name}: 1M characters took {elapsed:.1f}s"


def test_one_100_mb_line() -> None:
    text = "word, and $x$ then \\( y " * 4_200_000  # ~100 MB, no line break, no sentence end
    t0 = time.perf_counter()
    segs = segment(text)
    elapsed = time.perf_counter() - t0
    assert len(segs) == 1 and segs.ends[0] == len(text)
    assert elapsed < 30, f"a 100 MB line took {elapsed:.1f}s"
