"""Pure metric functions for churn models: ranking, calibration, lift and retention profit.

Every function takes plain arrays (labels, probabilities, values) and returns numbers or curves,
so each can be checked against a hand-computed case.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from churn.errors import ChurnError

LIFT_FRACTIONS = (0.05, 0.10, 0.20)


def as_arrays(y, p) -> tuple[np.ndarray, np.ndarray]:
    y, p = np.asarray(y, dtype=float).ravel(), np.asarray(p, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError(f"{y.size} labels but {p.size} scores")
    return y, p


def ranking_order(p: np.ndarray) -> np.ndarray:
    """Highest score first; ties keep their input order so results are reproducible."""
    return np.argsort(-p, kind="stable")


def lift_at(y, p, fraction: float) -> float:
    """Churn rate among the top `fraction` by score, over the base rate."""
    y, p = as_arrays(y, p)
    k = max(1, math.ceil(fraction * y.size))
    base = y.mean()
    return float(y[ranking_order(p)[:k]].mean() / base) if base > 0 else float("nan")


def gains_curve(y, p) -> tuple[np.ndarray, np.ndarray]:
    """Share of customers contacted (by score) against share of all churners reached."""
    y, p = as_arrays(y, p)
    hits = np.cumsum(y[ranking_order(p)])
    contacted = np.arange(1, y.size + 1) / y.size
    return np.r_[0.0, contacted], np.r_[0.0, hits / max(hits[-1], 1.0)]


def calibration_bins(y, p, bins: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean score, observed rate and count per equal-width score bin (empty bins dropped)."""
    y, p = as_arrays(y, p)
    which = np.minimum((p * bins).astype(int), bins - 1)
    counts = np.bincount(which, minlength=bins)
    mean_p = np.bincount(which, weights=p, minlength=bins)
    mean_y = np.bincount(which, weights=y, minlength=bins)
    keep = counts > 0
    return mean_p[keep] / counts[keep], mean_y[keep] / counts[keep], counts[keep]


def expected_calibration_error(y, p, bins: int = 10) -> float:
    """Count-weighted gap between mean score and observed rate over the score bins."""
    mean_p, mean_y, counts = calibration_bins(y, p, bins)
    return float(np.sum(counts * np.abs(mean_p - mean_y)) / counts.sum())


@dataclass(frozen=True)
class RetentionCosts:
    """What a retention contact costs and how often a would-be churner accepts the offer."""

    contact_cost: float = 5.0
    incentive_cost: float = 20.0
    acceptance_rate: float = 0.3


def contact_profit(y, value, costs: RetentionCosts) -> np.ndarray:
    """Expected profit of contacting each customer, knowing whether they would churn.

    A would-be churner accepts with the acceptance rate and is kept (their value, less the
    incentive); a customer who would have stayed takes the incentive anyway. Both cost a contact.
    (The maximum-profit churn model of Verbraken et al., with per-customer value.)
    """
    y, value = as_arrays(y, value)
    value = np.nan_to_num(
        value, nan=0.0
    )  # an unknown value saves nothing, it does not void the sum
    saved = costs.acceptance_rate * (value - costs.incentive_cost)
    return y * saved - (1 - y) * costs.incentive_cost - costs.contact_cost


def profit_curve(y, p, value, costs: RetentionCosts) -> tuple[np.ndarray, np.ndarray]:
    """Total expected profit of contacting the top-k customers by score, for every k."""
    y, p = as_arrays(y, p)
    per_customer = contact_profit(y, value, costs)[ranking_order(p)]
    fractions = np.arange(0, y.size + 1) / y.size
    return fractions, np.r_[0.0, np.cumsum(per_customer)]


def best_contact_fraction(y, p, value, costs: RetentionCosts) -> tuple[float, float]:
    """The share of customers to contact that maximises expected profit, and that profit."""
    fractions, profit = profit_curve(y, p, value, costs)
    best = int(np.argmax(profit))
    return float(fractions[best]), float(profit[best])


def score_fold(y, p, value=None, costs: RetentionCosts | None = None) -> dict[str, float]:
    """Every headline metric of one out-of-time fold."""
    y, p = as_arrays(y, p)
    if np.unique(y).size < 2:
        raise ValueError("a fold needs both churners and stayers to be scored")
    clipped = np.clip(p, 1e-7, 1 - 1e-7)
    metrics = {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, clipped, labels=[0, 1])),
        "ece": expected_calibration_error(y, p),
        "base_rate": float(y.mean()),
        "n": int(y.size),
    }
    for fraction in LIFT_FRACTIONS:
        metrics[f"lift_{round(fraction * 100)}"] = lift_at(y, p, fraction)
    if value is not None:
        fraction, profit = best_contact_fraction(y, p, value, costs or RetentionCosts())
        metrics.update(best_profit_fraction=fraction, best_profit=profit)
    return metrics


def summarize_folds(folds: list[dict[str, float]]) -> dict[str, float]:
    """Mean and standard deviation of every metric across folds."""
    out = {}
    for key in folds[0]:
        values = np.array([f[key] for f in folds], dtype=float)
        out[f"{key}_mean"] = float(values.mean())
        out[f"{key}_std"] = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return out


DEFAULT_RISK_EDGES = [0.05, 0.15]
DEFAULT_COSTS = {"contact_cost": 5.0, "incentive_cost": 20.0}


def with_economics(cfg: Mapping, inferred: Mapping | None) -> dict:
    """Risk edges and contact costs left null in config: a customer table's own (its base rate,
    its value's scale, inferred at validation), else the demo world's defaults."""
    out, inferred = dict(cfg), inferred or {}
    if "costs" in out:
        costs = dict(out["costs"])
        for key, default in DEFAULT_COSTS.items():
            if costs.get(key) is None:
                costs[key] = float((inferred.get("costs") or {}).get(key, default))
        out["costs"] = costs
    if "risk" in out and not out["risk"].get("edges"):
        out["risk"] = {
            **out["risk"],
            "edges": list(inferred.get("risk_edges") or DEFAULT_RISK_EDGES),
        }
    return out


def assign_risk_bands(p: np.ndarray, edges: Sequence[float], labels: Sequence[str]) -> np.ndarray:
    """The band whose edge each probability has reached (a band starts at its edge)."""
    if len(labels) != len(edges) + 1 or list(edges) != sorted(edges):
        raise ChurnError(
            f"risk.edges {list(edges)} must be increasing with one fewer entry than "
            f"risk.labels {list(labels)}"
        )
    return np.asarray(labels, dtype=object)[np.searchsorted(edges, p, side="right")]
