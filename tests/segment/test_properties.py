"""Property tests: texts assembled from the pieces that stress the rules. Invariants of a partition
hold, and the C++ segmenter agrees with the reference on every generated text and option."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rdpt_fast import segment, segment_batch

from .helpers import check_partition

PIECES = [
    "<think>", "</think>", "<|begin_of_thought|>", "<|end_of_solution|>",
    "$", "$$", "\\$", "\\[", "\\]", "\\(", "\\)", "```", "```python\n", "\n```\n", "   ```",
    ".", "...", "…", "?", "!", "?!", "‽", "。", "！", "？", "．",
    ")", "]", "\"", "'", "”", "’", "»",
    " ", "  ", "\t", "\n", "\n\n", "\r\n", "\r", "\u00a0", "\u2028", "\u3000", "\x0b",
    "e.g.", "i.e.", "etc.", "Dr.", "U.S.", "a.m.", "Fig.", "vs.",
    "1.", "12.", "b.", "iv.", "XII.", "xiii.",
    "word", "Word", "x", "éclair", "Ärger", "ß", "ǅ", "我们", "数学", "😀", "𝔸", "3.14", "x = 1", "-", ",",
    # version 2: money and math, markdown, spaced and bracketed ellipses, delimited words
    "$ ", " $", "$1", "$x", "x$", "\\$", "**", "__", "*", "_", "`", ". . .", " . ", "[...]", "(…)", "[", "(",
    "etc.", "Etc.", "ETC.", "No.", "nos.", "p.", "P.", "Mt.", "ft.", "1st.", "CA.", "Ph.D.", "example.com.",
    "- ", "# ", "### ", "> ", "+ ", "**3.", "」", "》", "（", "「", "“", "‘", "«", "5", "A", "Then", "É",
]  # fmt: skip

texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
any_texts = st.one_of(texts, st.text(max_size=60))
marker_sets = st.one_of(
    st.none(),
    st.just(()),
    st.lists(st.sampled_from(["<think>", "</think>", "$", "\n#", "##", "😀", "ab", "a"]), max_size=3),
)


@settings(max_examples=1500, deadline=None)
@given(text=any_texts)
def test_reasoning_cpp_matches_reference(text: str) -> None:
    cpp = segment(text)
    check_partition(text, cpp)
    assert cpp == segment(text, backend="reference")


@settings(max_examples=500, deadline=None)
@given(text=any_texts)
def test_reasoning_v1_cpp_matches_reference(text: str) -> None:
    cpp = segment(text, rules="reasoning-v1")
    check_partition(text, cpp)
    assert cpp == segment(text, rules="reasoning-v1", backend="reference")


@settings(max_examples=500, deadline=None)
@given(text=any_texts)
def test_simple_cpp_matches_reference(text: str) -> None:
    cpp = segment(text, rules="simple")
    check_partition(text, cpp)
    assert cpp == segment(text, rules="simple", backend="reference")


@settings(max_examples=800, deadline=None)
@given(
    text=any_texts,
    markers=marker_sets,
    min_chars=st.integers(0, 12),
    rules=st.sampled_from(["reasoning", "reasoning-v1", "simple"]),
)
def test_options_cpp_matches_reference(text: str, markers, min_chars: int, rules: str) -> None:
    cpp = segment(text, rules=rules, markers=markers, min_chars=min_chars)
    ref = segment(text, rules=rules, markers=markers, min_chars=min_chars, backend="reference")
    assert cpp == ref
    if min_chars == 0:
        check_partition(text, cpp)
    else:  # merging keeps a partition in order
        if text:
            assert cpp.starts[0] == 0 and cpp.ends[-1] == len(text)
            assert (cpp.starts[1:] == cpp.ends[:-1]).all()


@settings(max_examples=100, deadline=None)
@given(batch=st.lists(any_texts, max_size=12), threads=st.integers(0, 3))
def test_batch_matches_single(batch: list[str], threads: int) -> None:
    assert segment_batch(batch, num_threads=threads) == [segment(t) for t in batch]
