"""Qini curves: how many churners a ranking saves when the top of it is called.

On a randomized test (called against held out), the customers ranked in the top k are split by
arm; the churners saved there are the held-out churners scaled to the called group's size minus
the called churners. A ranking that puts the customers a call changes first climbs fastest; a
random ranking climbs along the straight line to the same end. The Qini coefficient is the area
between the curve and that line, per customer, so it is 0 for a random ranking and does not grow
with the test's size.
"""

from __future__ import annotations

import numpy as np


def ranking(score: np.ndarray) -> np.ndarray:
    """Best-scored first; ties in a fixed random order, so that a table sorted by arm (all the
    called first) cannot tilt a curve through a block of equal scores."""
    score = np.asarray(score, dtype=float)
    shuffled = np.random.default_rng(0).permutation(len(score))
    return shuffled[np.argsort(-score[shuffled], kind="stable")]


def qini_curve(score, called, churned, points: int = 101, order: np.ndarray | None = None):
    """(share of customers targeted, churners saved per customer of the test) at `points`
    shares, best-scored first (`order`: the ranking, when the caller already has it)."""
    order = ranking(score) if order is None else order
    t = np.asarray(called, dtype=bool)[order]
    y = np.asarray(churned, dtype=float)[order]
    n_t, n_c = np.cumsum(t), np.cumsum(~t)
    y_t, y_c = np.cumsum(y * t), np.cumsum(y * ~t)
    scaled = np.divide(y_c * n_t, n_c, out=np.zeros_like(y_c), where=n_c > 0)
    saved = (scaled - y_t) / len(y)
    share = np.arange(1, len(y) + 1) / len(y)
    at = np.linspace(0.0, 1.0, points)
    return at, np.interp(at, np.concatenate([[0.0], share]), np.concatenate([[0.0], saved]))


def area(at: np.ndarray, values: np.ndarray) -> float:
    """Trapezoid area under `values` over the shares `at`."""
    return float(np.sum((values[1:] + values[:-1]) / 2 * np.diff(at)))


def qini_coefficient(score, called, churned, order: np.ndarray | None = None) -> float:
    """Area between the ranking's Qini curve and the random line (trapezoids over 101 shares)."""
    at, saved = qini_curve(score, called, churned, order=order)
    return area(at, saved - at * saved[-1])


def auuc(score, called, churned, order: np.ndarray | None = None) -> float:
    """Area under the Qini curve itself (not above the random line): the churners saved per
    customer, averaged over every share targeted."""
    return area(*qini_curve(score, called, churned, order=order))


def uplift_at(score, called, churned, share: float, order: np.ndarray | None = None) -> float:
    """Among the `share` of customers ranked first: the held-out churn rate minus the called
    churn rate, the churn a contact prevents there per customer (NaN when an arm is absent)."""
    order = ranking(score) if order is None else order
    top = order[: max(1, int(np.ceil(share * len(order))))]
    t = np.asarray(called, dtype=bool)[top]
    y = np.asarray(churned, dtype=float)[top]
    if t.all() or not t.any():
        return float("nan")
    return float(y[~t].mean() - y[t].mean())


def plot_qini(curves: dict):
    """Churners saved per customer as more of the test is called, by each ranking."""
    import matplotlib

    matplotlib.use("Agg")  # files only; no display is ever needed
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.4))
    styles = {"uplift": ("#27ae60", "-"), "risk": ("#c0392b", "--")}
    for name, (share, saved) in curves.items():
        color, line = styles.get(name, ("#2c7fb8", "-"))
        ax.plot(share, 100 * saved, color=color, linestyle=line, label=f"by {name}")
    share, saved = next(iter(curves.values()))  # every ranking ends where calling all does
    ax.plot([0, 1], [0, 100 * saved[-1]], color="#7f8c8d", linestyle=":", label="at random")
    ax.set_xlabel("share of tested customers called, best first")
    ax.set_ylabel("churners saved per 100 tested")
    ax.set_title("Qini curves, out of time")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig
