"""How sure are the uplift figures? Bootstrap intervals on a randomized test.

Customers are resampled with replacement within each arm (so every resample keeps the test's
arm sizes) and a figure is recomputed on each resample; the 2.5th and 97.5th percentiles are its
95% interval. For a random ranking each resample also draws a fresh random order, so the interval
is that of the figure a ranking that knows nothing would get.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from churn.uplift.qini import area, qini_curve, ranking, uplift_at

SHARES = (0.1, 0.2, 0.3)


def ranking_figures(score, called, churned) -> dict[str, float]:
    """qini, auuc and uplift_at_10/20/30 of one ranking on one test (sorted once)."""
    order = ranking(score)
    at, saved = qini_curve(score, called, churned, order=order)
    out = {"qini": area(at, saved - at * saved[-1]), "auuc": area(at, saved)}
    for share in SHARES:
        out[f"uplift_at_{round(share * 100)}"] = uplift_at(score, called, churned, share, order)
    return out


def resamples(arms: np.ndarray, draws: int, seed: int):
    """Row indices of `draws` resamples, each arm resampled to its own size."""
    rng = np.random.default_rng(seed)
    arms = np.asarray(arms)
    arms = [np.flatnonzero(arms == a) for a in np.unique(arms)]
    for _ in range(draws):
        yield np.concatenate([rng.choice(a, len(a)) for a in arms]), rng


def with_intervals(
    score: np.ndarray | None,
    called,
    churned,
    draws: int,
    seed: int,
    figures: Callable[..., Mapping[str, float]] = ranking_figures,
) -> dict[str, float]:
    """Every figure with `<name>_ci_low` and `<name>_ci_high`; score None is a random ranking
    (its figures are the resamples' means: what random gets on average)."""
    called = np.asarray(called, dtype=bool)
    churned = np.asarray(churned, dtype=float)
    drawn: dict[str, list[float]] = {}
    for rows, rng in resamples(called, draws, seed):
        ranked = rng.random(len(rows)) if score is None else np.asarray(score)[rows]
        for name, value in figures(ranked, called[rows], churned[rows]).items():
            drawn.setdefault(name, []).append(value)
    point = figures(score, called, churned) if score is not None else None
    return summarize(drawn, point)


def summarize(drawn: Mapping[str, list[float]], point: Mapping[str, float] | None) -> dict:
    """Each figure (the point estimate, or the resamples' mean without one) and its interval."""
    out = {}
    for name, values in drawn.items():
        values = np.asarray(values, dtype=float)
        out[name] = float(np.nanmean(values)) if point is None else float(point[name])
        out[f"{name}_ci_low"] = float(np.nanpercentile(values, 2.5))
        out[f"{name}_ci_high"] = float(np.nanpercentile(values, 97.5))
    return out
