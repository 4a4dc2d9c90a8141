"""Figures of `rdpt-fast report`, drawn headless on matplotlib's Agg canvas (no pyplot, no display) and
returned as PNG bytes. Each figure draws the same arrays as its table in report_tables."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rdpt_fast.rdpt.report_tables import Distribution, PositionShares

LABEL_COLORS = {
    "shared": "#2ca02c",
    "common": "#2ca02c",
    "teacher": "#d62728",
    "student": "#1f77b4",
    "boosted": "#ff7f0e",
    "unscored": "#7f7f7f",
}
GROUP_STYLES = {  # group -> (color, line style)
    "all": ("#1f77b4", "-"),
    "correct": ("#2ca02c", "-"),
    "incorrect": ("#d62728", "--"),
    "chosen": ("#9467bd", "-"),
    "not chosen": ("#7f7f7f", "--"),
}


def _figure(width: float = 8.0, height: float = 4.5, panels: int = 1) -> tuple[Figure, list[Any]]:
    fig = Figure(figsize=(width * panels, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, [fig.add_subplot(1, panels, i + 1) for i in range(panels)]


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def positions(p: PositionShares, scored_labels: list[str]) -> bytes:
    """Label shares (and the unscored share, grey) against relative position; one line style per group."""
    fig, (ax,) = _figure()
    centers = (p.edges[:-1] + p.edges[1:]) / 2
    for g, group in enumerate(p.groups):
        style = GROUP_STYLES[group][1]
        for k, name in enumerate(scored_labels):
            color = LABEL_COLORS[name]
            ax.plot(
                centers, p.shares[g, :, k], style, color=color, marker="o", ms=3, label=f"{name} ({group})"
            )
        ax.plot(
            centers, p.unscored[g], style, color=LABEL_COLORS["unscored"], label=f"unscored, of all ({group})"
        )
    split = "solid: correct, dashed: incorrect" if "correct" in p.groups else "all responses"
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="relative position in the response", ylabel="share")
    ax.set_title(f"Label shares by relative position ({split})")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _png(fig)


def dts_histogram(edges: np.ndarray, counts: np.ndarray, alpha: float | None, beta: float) -> bytes:
    """Histogram of d_TS with ±alpha (trace) and ±beta marked."""
    fig, (ax,) = _figure()
    ax.stairs(counts, edges, fill=True, color="#1f77b4", alpha=0.6)
    marks = [("beta", beta, "#d62728", "--")] + (
        [("alpha", alpha, "#2ca02c", ":")] if alpha is not None else []
    )
    for name, x, color, style in marks:
        ax.axvline(x, color=color, linestyle=style, label=f"±{name} = {x:g}")
        ax.axvline(-x, color=color, linestyle=style)
    ax.set(xlim=(-1, 1), xlabel="d_TS = p_T - p_S", ylabel="sentences", title="d_TS of the counted sentences")
    ax.legend(fontsize=8)
    return _png(fig)


def adaptive_curve(curve: dict[str, Any]) -> bytes:
    """The adaptive-beta objective against the candidate thresholds, the chosen beta marked."""
    fig, (ax,) = _figure()
    ax.plot(curve["thresholds"], curve["objective"], color="#1f77b4")
    if "beta" in curve:
        ax.axvline(curve["beta"], color="#d62728", linestyle="--", label=f"beta = {curve['beta']:g}")
        ax.legend(fontsize=8)
    ax.set(xlabel="threshold on |d_TS|", ylabel="objective", title=f"Adaptive beta ({curve.get('rule', '')})")
    return _png(fig)


def distributions(panels: list[Distribution]) -> bytes:
    """One panel per distribution: the fraction of each group's records per bin."""
    fig, axes = _figure(width=6.0, panels=len(panels))
    for ax, d in zip(axes, panels):
        for group, values in d.values.items():
            color, style = GROUP_STYLES[group]
            fractions = d.counts(group) / max(values.size, 1)
            ax.stairs(fractions, d.edges, color=color, linestyle=style, label=f"{group} ({values.size})")
        ax.set(xlabel=d.name, ylabel="fraction of records", title=d.name)
        ax.legend(fontsize=8)
    return _png(fig)
