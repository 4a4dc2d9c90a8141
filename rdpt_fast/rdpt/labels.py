"""RDPT label rules (DESIGN.md "The method being implemented"), vectorised over sentences.

Inputs are per-sentence probabilities p = exp(mean token log-prob) in [0, 1]; NaN marks a sentence a
model could not score (no token). Every comparison is in probability space. Labels are small integer
codes so that millions of sentences cost one byte each; `*_NAMES[code]` is the name written to files.
"""

from __future__ import annotations

import numpy as np

DEFAULT_ALPHA = 0.1
DEFAULT_BETA = 0.1

#: Trace labels (teacher, student, distilled).
SHARED, TEACHER, STUDENT, BOOSTED, UNSCORED = 0, 1, 2, 3, 4
TRACE_LABELS: tuple[str, ...] = ("shared", "teacher", "student", "boosted", "unscored")

#: Selection labels (teacher and student only).
COMMON, SEL_TEACHER, SEL_STUDENT, SEL_UNSCORED = 0, 1, 2, 3
SELECT_LABELS: tuple[str, ...] = ("common", "teacher", "student", "unscored")


def _probs(*arrays: np.ndarray) -> list[np.ndarray]:
    out = [np.asarray(a, dtype=np.float64) for a in arrays]
    shape = out[0].shape
    for a in out:
        if a.shape != shape:
            raise ValueError(f"probability arrays must have one shape, got {[x.shape for x in out]}")
        finite = a[~np.isnan(a)]
        if finite.size and (finite.min() < 0.0 or finite.max() > 1.0):
            raise ValueError("probabilities must lie in [0, 1] (NaN for an unscored sentence)")
    return out


def _check_threshold(name: str, value: float) -> None:
    if not (0.0 <= value <= 1.0):
        raise ValueError(f"{name} must lie in [0, 1] (a difference of probabilities), got {value}")


def classify(
    p_t: np.ndarray,
    p_s: np.ndarray,
    p_d: np.ndarray,
    *,
    alpha: float = DEFAULT_ALPHA,
    beta: float = DEFAULT_BETA,
) -> np.ndarray:
    """Trace labels (uint8 codes into TRACE_LABELS), checked in this order:

    1. shared   |d_SD| <= alpha and |d_TD| <= alpha and |d_TS| <= alpha
    2. teacher  d_TS > beta            (d_TS == beta is not teacher)
    3. student  -d_TS > beta
    4. boosted  otherwise
    with d_SD = p_S - p_D, d_TD = p_T - p_D, d_TS = p_T - p_S. A sentence with NaN under any model is
    unscored.
    """
    _check_threshold("alpha", alpha)
    _check_threshold("beta", beta)
    p_t, p_s, p_d = _probs(p_t, p_s, p_d)
    d_sd, d_td, d_ts = p_s - p_d, p_t - p_d, p_t - p_s
    labels = np.full(p_t.shape, BOOSTED, dtype=np.uint8)
    labels[-d_ts > beta] = STUDENT
    labels[d_ts > beta] = TEACHER
    labels[(np.abs(d_sd) <= alpha) & (np.abs(d_td) <= alpha) & (np.abs(d_ts) <= alpha)] = SHARED
    labels[np.isnan(p_t) | np.isnan(p_s) | np.isnan(p_d)] = UNSCORED
    return labels


def classify_selection(p_t: np.ndarray, p_s: np.ndarray, *, beta: float = DEFAULT_BETA) -> np.ndarray:
    """Selection labels (uint8 codes into SELECT_LABELS): common |d_TS| <= beta, teacher d_TS > beta,
    student -d_TS > beta; unscored when either probability is NaN."""
    _check_threshold("beta", beta)
    p_t, p_s = _probs(p_t, p_s)
    d_ts = p_t - p_s
    labels = np.full(p_t.shape, COMMON, dtype=np.uint8)
    labels[d_ts > beta] = SEL_TEACHER
    labels[-d_ts > beta] = SEL_STUDENT
    labels[np.isnan(p_t) | np.isnan(p_s)] = SEL_UNSCORED
    return labels


def label_names(codes: np.ndarray, names: tuple[str, ...]) -> list[str]:
    """Codes -> names, for writing."""
    return np.asarray(names, dtype=object)[np.asarray(codes, dtype=np.intp)].tolist()


def label_codes(names: list[str] | np.ndarray, table: tuple[str, ...]) -> np.ndarray:
    """Names -> codes; ValueError naming an unknown label."""
    index = {n: i for i, n in enumerate(table)}
    try:
        return np.asarray([index[n] for n in names], dtype=np.uint8)
    except KeyError as e:
        raise ValueError(f"unknown label {e.args[0]!r} (expected one of {', '.join(table)})") from None
