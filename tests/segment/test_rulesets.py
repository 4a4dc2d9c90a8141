"""Ruleset names: "reasoning" is the latest version, and a run records the versioned name."""

import pytest

from rdpt_fast import segment
from rdpt_fast.segmentation import RULESETS, resolve_rules

from .helpers import BACKENDS


@pytest.mark.parametrize(
    ("name", "versioned"),
    [
        ("reasoning", "reasoning-v2"),
        ("reasoning-v2", "reasoning-v2"),
        ("reasoning-v1", "reasoning-v1"),
        ("simple", "simple"),
    ],
)
def test_resolve_rules(name: str, versioned: str) -> None:
    assert resolve_rules(name) == versioned
    assert resolve_rules(versioned) == versioned  # a recorded name resolves to itself


@pytest.mark.parametrize("bad", ["reasoning-v3", "Reasoning", "", None, 2])
def test_resolve_rules_rejects_unknown_names(bad) -> None:
    with pytest.raises(ValueError, match="rules must be one of 'reasoning', 'reasoning-v1'"):
        resolve_rules(bad)


def test_every_accepted_name_is_listed() -> None:
    assert set(RULESETS) == {"reasoning", "reasoning-v1", "reasoning-v2", "simple"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_default_is_version_2(backend: str) -> None:
    text = "It costs $1.50. Then we pay $2 more."  # SEGMENTATION.md: money is not math in version 2
    assert segment(text, backend=backend).texts(text) == ["It costs $1.50. ", "Then we pay $2 more."]
    assert segment(text, rules="reasoning-v1", backend=backend).texts(text) == [text]
