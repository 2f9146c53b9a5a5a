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
    tie_break = np.random.default_rng(0).random(len(score))
    return np.lexsort((tie_break, -score))


def qini_curve(score: np.ndarray, called: np.ndarray, churned: np.ndarray, points: int = 101):
    """(share of customers targeted, churners saved per customer of the test) at `points`
    shares, best-scored first."""
    order = ranking(score)
    t = np.asarray(called, dtype=bool)[order]
    y = np.asarray(churned, dtype=float)[order]
    n_t, n_c = np.cumsum(t), np.cumsum(~t)
    y_t, y_c = np.cumsum(y * t), np.cumsum(y * ~t)
    scaled = np.divide(y_c * n_t, n_c, out=np.zeros_like(y_c), where=n_c > 0)
    saved = (scaled - y_t) / len(y)
    share = np.arange(1, len(y) + 1) / len(y)
    at = np.linspace(0.0, 1.0, points)
    return at, np.interp(at, np.concatenate([[0.0], share]), np.concatenate([[0.0], saved]))


def qini_coefficient(score: np.ndarray, called: np.ndarray, churned: np.ndarray) -> float:
    """Area between the ranking's Qini curve and the random line (trapezoids over 101 shares)."""
    at, saved = qini_curve(score, called, churned)
    gain = saved - at * saved[-1]
    return float(np.sum((gain[1:] + gain[:-1]) / 2 * np.diff(at)))


def uplift_at(score: np.ndarray, called: np.ndarray, churned: np.ndarray, share: float) -> float:
    """Among the `share` of customers ranked first: the held-out churn rate minus the called
    churn rate, the churn a contact prevents there per customer (NaN when an arm is absent)."""
    order = ranking(score)
    top = order[: max(1, int(np.ceil(share * len(order))))]
    t = np.asarray(called, dtype=bool)[top]
    y = np.asarray(churned, dtype=float)[top]
    if t.all() or not t.any():
        return float("nan")
    return float(y[~t].mean() - y[t].mean())


def auuc(score: np.ndarray, called: np.ndarray, churned: np.ndarray) -> float:
    """Area under the Qini curve itself (not above the random line): the churners saved per
    customer, averaged over every share targeted."""
    at, saved = qini_curve(score, called, churned)
    return float(np.sum((saved[1:] + saved[:-1]) / 2 * np.diff(at)))


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
