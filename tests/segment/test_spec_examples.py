"""Every example of SEGMENTATION.md (version 2 of the "reasoning" ruleset), under both backends
(`|` marks a boundary)."""

import pytest

from rdpt_fast import segment

from .helpers import BACKENDS, bars, check_partition

SPEC_EXAMPLES = [
    "<think>\n|Okay, so the answer is 3.14. |Next step.",
    "We use e.g. a table. |Then we stop.",
    "1. First item\n|2. Second item",
    'He said "Stop." |Then left.',
    "The value is $x = 1.$ Then we continue.",
    "Here:\n|```python\nx = 1.\ny = 2\n```\n|Done.",
    "我们知道。|然后继续。",
    "Is it 5? |yes it is.",
    "Wait... |Let me check.",
    "Hmm... so maybe not.",
    "done.|</think>\n\n|The answer is 42.",
    "It costs $1.50. |Then we pay $2 more.",
    "**Case 1: no blue vertices.** |There is one way.",
    "**3. Title**\n|Next.",
    "See p. 55 and Mt. Fuji, etc. |They agree.",
    "Write to jane.doe@example.com. |I will reply.",
    "He paused. . . |Then he left.",
    "Add the 1st. |Then the 2nd.",
    "The sides are AB and CA. |Two circles meet.",
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("rules", ["reasoning", "reasoning-v2"])
@pytest.mark.parametrize("expected", SPEC_EXAMPLES)
def test_spec_example(expected: str, rules: str, backend: str) -> None:
    text = expected.replace("|", "")
    segs = segment(text, rules=rules, backend=backend)
    check_partition(text, segs)
    assert bars(text, segs) == expected


@pytest.mark.parametrize("backend", BACKENDS)
def test_spec_example_kinds(backend: str) -> None:
    text = "Here:\n```python\nx = 1.\ny = 2\n```\nDone."
    assert segment(text, backend=backend).kind_names == ["text", "code", "text"]
    text = "done.</think>\n\nThe answer is 42."
    assert segment(text, backend=backend).kind_names == ["text", "marker", "text"]
