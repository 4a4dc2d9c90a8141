"""The RDPT label rules on hand-made probability triples: every branch, every tie, unscored."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rdpt_fast.rdpt.labels import (
    SELECT_LABELS,
    TRACE_LABELS,
    classify,
    classify_selection,
    label_codes,
    label_names,
)

NAN = math.nan

# (p_T, p_S, p_D), expected label with alpha = 0.1, beta = 0.2 (ties: test_exact_ties_in_binary)
TRACE_CASES = [
    ((0.5, 0.5, 0.5), "shared"),  # all equal
    ((0.55, 0.5, 0.5), "shared"),  # within alpha everywhere
    ((0.625, 0.5, 0.5625), "boosted"),  # |d_TS| = 0.125 > alpha, d_TS <= beta, so not teacher
    ((0.75, 0.5, 0.5), "teacher"),  # d_TS = 0.25 > beta
    ((0.5, 0.75, 0.5), "student"),  # -d_TS = 0.25 > beta
    ((0.68, 0.5, 0.5), "boosted"),  # alpha < d_TS < beta: neither shared nor teacher
    ((0.5, 0.5, 0.8), "boosted"),  # T and S agree, the distilled model moved
    ((0.5, 0.5, 0.2), "boosted"),  # moved down
    ((0.9, 0.9, 0.95), "shared"),  # |d_SD| = |d_TD| = 0.05
    ((NAN, 0.5, 0.5), "unscored"),
    ((0.5, NAN, 0.5), "unscored"),
    ((0.5, 0.5, NAN), "unscored"),
    ((1.0, 0.0, 0.5), "teacher"),  # extremes
    ((0.0, 1.0, 0.5), "student"),
]


def reference_label(pt: float, ps: float, pd: float, alpha: float, beta: float) -> str:
    """DESIGN.md's rules written out literally, for one sentence."""
    if math.isnan(pt) or math.isnan(ps) or math.isnan(pd):
        return "unscored"
    d_sd, d_td, d_ts = ps - pd, pt - pd, pt - ps
    if abs(d_sd) <= alpha and abs(d_td) <= alpha and abs(d_ts) <= alpha:
        return "shared"
    if d_ts > beta:
        return "teacher"
    if -d_ts > beta:
        return "student"
    return "boosted"


def test_hand_made_triples():
    probs = np.asarray([c[0] for c in TRACE_CASES])
    got = label_names(classify(probs[:, 0], probs[:, 1], probs[:, 2], alpha=0.1, beta=0.2), TRACE_LABELS)
    for (triple, expected), label in zip(TRACE_CASES, got):
        assert label == expected == reference_label(*triple, 0.1, 0.2), triple


def test_exact_ties_in_binary():
    # thresholds and differences exactly representable: d_TS == beta is not teacher, |d| == alpha is shared
    alpha, beta = 0.125, 0.25
    cases = {
        (0.625, 0.5, 0.5): "shared",  # |d_TS| = |d_TD| = alpha exactly
        (0.75, 0.5, 0.5): "boosted",  # d_TS = beta exactly: not teacher
        (0.5, 0.75, 0.5): "boosted",  # -d_TS = beta exactly: not student
        (0.875, 0.5, 0.5): "teacher",
        (0.5, 0.875, 0.5): "student",
        (0.5, 0.5, 0.625): "shared",  # |d_SD| = |d_TD| = alpha
        (0.5, 0.5, 0.75): "boosted",
    }
    p = np.asarray(list(cases))
    got = label_names(classify(p[:, 0], p[:, 1], p[:, 2], alpha=alpha, beta=beta), TRACE_LABELS)
    assert got == list(cases.values())


def test_random_triples_follow_the_literal_rules():
    rng = np.random.default_rng(3)
    p = rng.choice(np.linspace(0, 1, 17), size=(4000, 3))  # a coarse grid makes ties frequent
    p[rng.random(p.shape) < 0.03] = np.nan
    for alpha, beta in ((0.1, 0.1), (0.0625, 0.25), (0.0, 0.0), (1.0, 1.0)):
        got = label_names(classify(p[:, 0], p[:, 1], p[:, 2], alpha=alpha, beta=beta), TRACE_LABELS)
        assert got == [reference_label(*row, alpha, beta) for row in p.tolist()]


def test_selection_labels():
    pt = np.asarray([0.5, 0.875, 0.5, 0.75, 0.5, NAN, 0.5])
    ps = np.asarray([0.5, 0.5, 0.875, 0.5, 0.75, 0.5, NAN])
    got = label_names(classify_selection(pt, ps, beta=0.25), SELECT_LABELS)
    assert got == ["common", "teacher", "student", "common", "common", "unscored", "unscored"]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="alpha"):
        classify([0.5], [0.5], [0.5], alpha=1.5)
    with pytest.raises(ValueError, match="beta"):
        classify_selection([0.5], [0.5], beta=-0.1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        classify([1.5], [0.5], [0.5])
    with pytest.raises(ValueError, match="one shape"):
        classify([0.5, 0.5], [0.5], [0.5])
    with pytest.raises(ValueError, match="unknown label 'x'"):
        label_codes(["shared", "x"], TRACE_LABELS)
    assert label_codes(["boosted", "shared"], TRACE_LABELS).tolist() == [3, 0]
