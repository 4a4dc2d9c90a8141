"""Adaptive beta: a training-free threshold on |d_TS| chosen from the data (our rule, not the paper's).

The paper's Algorithm 1 is not public. Our rule is Otsu's method on the histogram of |d_TS| = |p_T - p_S|
over all scored sentences: beta is the bin edge that maximises the between-class variance
w0 * w1 * (mu0 - mu1)^2 of the two classes |d_TS| < beta ("the models agree": the central mass of d_TS)
and |d_TS| >= beta (the tails, where one model clearly prefers the sentence). Candidates are limited to
[lo, hi] (default 0.02..0.5) so that a degenerate corpus cannot produce a threshold that labels nothing
or everything. The histogram has fixed bins on [0, 1], so it is accumulated in one streaming pass with
constant memory; the curve that was maximised is returned for the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rdpt_fast.rdpt.labels import DEFAULT_BETA

DEFAULT_BINS = 1000
DEFAULT_RANGE = (0.02, 0.5)
RULE = "otsu-abs-dts"


def abs_dts_histogram(d_ts: np.ndarray, bins: int = DEFAULT_BINS) -> np.ndarray:
    """Counts of |d_TS| in `bins` equal bins on [0, 1] (NaN = unscored, ignored). Sum the counts of
    several chunks to get the histogram of their union."""
    x = np.abs(np.asarray(d_ts, dtype=np.float64))
    x = x[~np.isnan(x)]
    if x.size and x.max() > 1.0:
        raise ValueError("d_TS is a difference of probabilities and must lie in [-1, 1]")
    idx = np.minimum((x * bins).astype(np.int64), bins - 1)
    return np.bincount(idx, minlength=bins).astype(np.int64)


@dataclass(frozen=True)
class AdaptiveBeta:
    """The chosen beta, the candidates it was chosen from and the objective at each (the curve)."""

    beta: float
    thresholds: np.ndarray = field(repr=False)  # candidate betas (bin edges inside [lo, hi])
    objective: np.ndarray = field(repr=False)  # between-class variance of |d_TS| split at each candidate
    counts: np.ndarray = field(repr=False)  # the |d_TS| histogram (bins on [0, 1])
    degenerate: bool  # True when the objective was flat (then beta = DEFAULT_BETA clipped to the range)
    rule: str = RULE

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "beta": self.beta,
            "degenerate": self.degenerate,
            "thresholds": self.thresholds.tolist(),
            "objective": self.objective.tolist(),
            "histogram": self.counts.tolist(),
        }


def adaptive_beta(
    d_ts: np.ndarray | None = None,
    *,
    counts: np.ndarray | None = None,
    bins: int = DEFAULT_BINS,
    lo: float = DEFAULT_RANGE[0],
    hi: float = DEFAULT_RANGE[1],
) -> AdaptiveBeta:
    """Otsu threshold on |d_TS|, from the values `d_ts` or from a histogram `counts` (abs_dts_histogram)."""
    if (d_ts is None) == (counts is None):
        raise ValueError("give exactly one of d_ts and counts")
    if not (0.0 < lo < hi < 1.0):
        raise ValueError(f"need 0 < lo < hi < 1, got lo={lo}, hi={hi}")
    hist = abs_dts_histogram(d_ts, bins) if counts is None else np.asarray(counts, dtype=np.int64)
    bins = hist.size
    total = int(hist.sum())
    if total == 0:
        raise ValueError("no scored sentence: adaptive beta needs at least one finite d_TS")
    edges = np.arange(bins + 1) / bins
    centers = (edges[:-1] + edges[1:]) / 2
    # class 0 = bins [0, k), class 1 = bins [k, bins): threshold edges[k], k = 1..bins-1
    w0 = np.cumsum(hist)[:-1] / total
    m0 = np.cumsum(hist * centers)[:-1] / total
    mu_total = float((hist * centers).sum() / total)
    w1 = 1.0 - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = np.where((w0 > 0) & (w1 > 0), (mu_total * w0 - m0) ** 2 / (w0 * w1), 0.0)
    thresholds = edges[1:-1]
    keep = (thresholds >= lo - 1e-12) & (thresholds <= hi + 1e-12)
    thresholds, objective = thresholds[keep], between[keep]
    if objective.size == 0 or not np.any(objective > 0):
        return AdaptiveBeta(float(np.clip(DEFAULT_BETA, lo, hi)), thresholds, objective, hist, True)
    return AdaptiveBeta(float(thresholds[int(np.argmax(objective))]), thresholds, objective, hist, False)
