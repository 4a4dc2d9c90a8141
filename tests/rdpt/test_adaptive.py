"""Adaptive beta: Otsu's threshold on |d_TS| against a brute-force between-class variance."""

from __future__ import annotations

import numpy as np
import pytest

from rdpt_fast.rdpt.adaptive import abs_dts_histogram, adaptive_beta


def brute_force_otsu(values: np.ndarray, bins: int, lo: float, hi: float) -> float:
    """For every candidate edge t in [lo, hi], split the binned values into < t and >= t and compute
    w0 * w1 * (mu0 - mu1)^2 over bin centres with plain loops; the best t (first on ties)."""
    centres = [(np.floor(min(abs(v) * bins, bins - 1)) + 0.5) / bins for v in values]
    best, best_t = -1.0, None
    for k in range(1, bins):
        t = k / bins
        if not (lo - 1e-12 <= t <= hi + 1e-12):
            continue
        low = [c for c in centres if c < t]
        high = [c for c in centres if c >= t]
        if not low or not high:
            score = 0.0
        else:
            w0, w1 = len(low) / len(centres), len(high) / len(centres)
            score = w0 * w1 * (sum(low) / len(low) - sum(high) / len(high)) ** 2
        if score > best + 1e-15:
            best, best_t = score, t
    return best_t


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    centre = rng.normal(0, 0.02, 300)
    tails = rng.uniform(0.25, 0.9, 60) * rng.choice([-1, 1], 60)
    d = np.clip(np.concatenate([centre, tails]), -1, 1)
    got = adaptive_beta(d, bins=100)
    assert got.beta == pytest.approx(brute_force_otsu(d, 100, 0.02, 0.5))
    assert not got.degenerate
    # the threshold lies between the central mass and the tails
    assert 0.05 < got.beta < 0.5
    assert got.thresholds.size == got.objective.size and got.objective.max() > 0


def test_bounded_to_the_range():
    d = np.concatenate([np.zeros(100), np.full(100, 0.95)])  # the best split would be near 0.5..0.95
    got = adaptive_beta(d, bins=100, lo=0.02, hi=0.3)
    assert 0.02 <= got.beta <= 0.3
    assert got.thresholds.min() >= 0.02 - 1e-12 and got.thresholds.max() <= 0.3 + 1e-12


def test_degenerate_and_empty():
    got = adaptive_beta(np.zeros(50), bins=100)
    assert got.degenerate and got.beta == pytest.approx(0.1)
    with pytest.raises(ValueError, match="no scored sentence"):
        adaptive_beta(np.asarray([np.nan, np.nan]))
    with pytest.raises(ValueError, match="exactly one"):
        adaptive_beta()
    with pytest.raises(ValueError, match="lo < hi"):
        adaptive_beta(np.zeros(3), lo=0.5, hi=0.1)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        abs_dts_histogram(np.asarray([1.5]))


def test_histograms_of_chunks_add_up():
    rng = np.random.default_rng(7)
    d = rng.uniform(-1, 1, 1000)
    d[::17] = np.nan
    whole = abs_dts_histogram(d, 50)
    parts = abs_dts_histogram(d[:300], 50) + abs_dts_histogram(d[300:], 50)
    assert np.array_equal(whole, parts) and whole.sum() == np.count_nonzero(~np.isnan(d))
    assert adaptive_beta(counts=parts).beta == adaptive_beta(d, bins=50).beta
