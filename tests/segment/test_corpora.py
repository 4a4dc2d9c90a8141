"""C++ == reference on every trace of the real corpora in ../shared/data/traces (version 2 of the
"reasoning" rules, "simple", and version 1 on a sample)."""

import pytest

from rdpt_fast import segment_batch

from .helpers import check_partition


@pytest.mark.parametrize("rules", ["reasoning", "simple"])
def test_cpp_matches_reference_on_real_traces(corpus: list[str], rules: str) -> None:
    cpp = segment_batch(corpus, rules=rules)
    ref = segment_batch(corpus, rules=rules, backend="reference")
    mismatches = [i for i, (a, b) in enumerate(zip(cpp, ref)) if a != b]
    assert not mismatches, f"{len(mismatches)} traces differ, first: {mismatches[:5]}"
    for text, segs in zip(corpus, cpp):
        check_partition(text, segs)


def test_min_chars_on_real_traces(corpus: list[str]) -> None:
    sample = corpus[::10]
    assert segment_batch(sample, min_chars=20) == segment_batch(sample, min_chars=20, backend="reference")


def test_version_1_on_real_traces(corpus: list[str]) -> None:
    """Version 1 is kept to reproduce earlier runs: both backends still agree on it (every 20th trace)."""
    sample = corpus[::20]
    cpp = segment_batch(sample, rules="reasoning-v1")
    assert cpp == segment_batch(sample, rules="reasoning-v1", backend="reference")
