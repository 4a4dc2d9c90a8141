"""Hand-worked cases for each rule and exception of SEGMENTATION.md, under both backends. Cases where
version 2 of the "reasoning" ruleset differs from version 1 are in test_rules_v2.py."""

import re

import pytest

from rdpt_fast import segment

from .helpers import BACKENDS, bars, check_partition

# (expected with `|` at boundaries, options)
CASES = [
    # 1. markers
    ("<think>|Hi.|</think>", {}),
    ("\n\n<think>\n|Ab. |Cd.", {}),
    ("[STEP] |one. |[STEP] |two.", {"markers": ["[STEP]"]}),
    ("x|<a>b|y", {"markers": ["<a>", "<a>b"]}),
    ("<think>Hi. |There.", {"markers": []}),
    ("```\n|</think>\n|```\n", {}),
    ("  \n ", {}),
    # 2. protected regions
    ("$$\na. B\n$$ Next.", {}),
    ("\\[ x. Y \\] Then. |Go", {}),
    ("\\[ x.\n\nY \\] Then. |Go", {}),
    ("\\(a. B\\) c. |D", {}),
    ("\\(a.\n|B\\) c.", {}),
    ("It costs $5. |Then more.", {}),
    ("a \\$5. |B \\$6. |C", {}),
    ("$a.\n|B$ c", {}),
    ("```\n|A.\n|B.", {}),
    ("x\n   |```\na. B\n```\n|y", {}),
    ("x\n    |```\n|a\n|```\n|y", {}),
    ("Intro.\n|```\nfirst\n\nsecond\n``` trailing\n\n|After.", {}),
    ("$$ a $$ and $$ b. C $$ end. |Next", {}),
    ("\\[ one \\[ two. Three \\] four. |Five", {}),
    # 3. line breaks
    ("a\n\n  |b", {}),
    ("first line\n|second", {}),
    ("A.\r\n|B.\r|C.", {}),
    ("A\u2028B", {}),
    # 4. sentence ends
    ("(Really?) |Yes.", {}),
    ("She said “Stop.” |Then", {}),
    ("What?!? |Yes", {}),
    ("Wow‽ |ok", {}),
    ("See Fig. 3 for details.", {}),
    ("Dr. Smith came. |He sat.", {}),
    ("It was 5 p.m. Then", {}),
    ("Approx. Ten", {}),
    ("I like cats. |Dogs too.", {}),
    ("x. y", {}),
    ("ax. |Éa", {}),
    ("x. ñ", {}),
    ("  b. item", {}),
    ("Step 1. |Then", {}),
    ("10. Ten", {}),
    ("iv. Four", {}),
    ("IV. Four", {}),
    ("xiii. |Thirteen", {}),
    ("ab. |Cd", {}),
    ("1.. |Next", {}),
    ("a.B", {}),
    ("你好！|再见？|好", {}),
    ("他说“好。”|然后", {}),
    ("好。 |然后", {}),
    ("Wait… |Go", {}),
    ("Wait… go", {}),
    ("a, b; c: d — e - f", {}),
    ("Done.)] |Next", {}),
    # "simple"
    ("e.g. |this. |Then", {"rules": "simple"}),
    ("$x. |y$ z", {"rules": "simple"}),
    ("Is it? |yes", {"rules": "simple"}),
    ("A…B. |C\n|D", {"rules": "simple"}),
    ("<think>|a. |b", {"rules": "simple"}),
    # min_chars
    ("Ok. Sure. |This is long. X.", {"min_chars": 5}),
    ("<think>\n|Ok.|</think>", {"min_chars": 5}),
    ("A.\n|```\nx\n```\n|B. C.", {"min_chars": 3}),
    ("Hi. There.", {"min_chars": 100}),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("expected", "options"), CASES)
def test_rule(expected: str, options: dict, backend: str) -> None:
    text = expected.replace("|", "")
    segs = segment(text, backend=backend, **options)
    check_partition(text, segs)
    assert bars(text, segs) == expected


def test_pipe_free_markers() -> None:
    # the table above strips every `|`, so markers containing one are checked here
    text = "<|begin_of_thought|>\n\nPlan. <|end_of_thought|>\n<|begin_of_solution|>42<|end_of_solution|>"
    for backend in BACKENDS:
        assert segment(text, backend=backend).texts(text) == [
            "<|begin_of_thought|>\n\n",
            "Plan. ",
            "<|end_of_thought|>\n",
            "<|begin_of_solution|>",
            "42",
            "<|end_of_solution|>",
        ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_kinds(backend: str) -> None:
    text = "<think>\nIntro.\n```py\nx = 1\n```\nDone.</think>"
    segs = segment(text, backend=backend)
    assert segs.kind_names == ["marker", "text", "code", "text", "marker"]
    assert segment("\n```\nx\n```\n", backend=backend).kind_names == ["code"]
    assert segment("```\nunclosed", backend=backend).kind_names == ["text", "text"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_custom_pattern(backend: str) -> None:
    text = "a; b;c\n d"
    segs = segment(text, rules=re.compile(";"), backend=backend)
    assert bars(text, segs) == "a; |b;|c\n d"


def test_empty_and_whitespace() -> None:
    for backend in BACKENDS:
        assert len(segment("", backend=backend)) == 0
        assert segment(" \n\t", backend=backend).texts(" \n\t") == [" \n\t"]
