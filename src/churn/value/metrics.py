"""How well a value forecast ranks and sizes what customers really brought. Pure."""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr


def top_capture(predicted: np.ndarray, realized: np.ndarray, share: float) -> float:
    """Share of all realized value brought by the top `share` of customers by forecast."""
    predicted, realized = np.asarray(predicted, float), np.asarray(realized, float)
    total = realized.sum()
    if total <= 0 or len(predicted) == 0:
        return float("nan")
    k = max(int(round(share * len(predicted))), 1)
    order = np.argsort(-predicted, kind="stable")[:k]
    return float(realized[order].sum() / total)


def normalized_gini(predicted: np.ndarray, realized: np.ndarray) -> float:
    """Gini of realized value ordered by forecast, over the Gini of the perfect order: 1 is a
    perfect ranking, 0 a random one."""

    def gini(order_by: np.ndarray) -> float:
        order = np.argsort(-np.asarray(order_by, float), kind="stable")
        cumulative = np.cumsum(np.asarray(realized, float)[order]) / max(np.sum(realized), 1e-12)
        n = len(cumulative)
        return float(cumulative.sum() / n - (n + 1) / (2 * n))

    best = gini(realized)
    return gini(predicted) / best if best > 0 else float("nan")


def value_metrics(predicted: np.ndarray, realized: np.ndarray) -> dict[str, float]:
    """Spearman, normalized Gini, top-10%/20% capture and aggregate error (sum ratio - 1)."""
    predicted, realized = np.asarray(predicted, float), np.asarray(realized, float)
    total = realized.sum()
    return {
        "spearman": float(spearmanr(predicted, realized).statistic),
        "gini": normalized_gini(predicted, realized),
        "top10_capture": top_capture(predicted, realized, 0.10),
        "top20_capture": top_capture(predicted, realized, 0.20),
        "aggregate_error": float(predicted.sum() / total - 1.0) if total > 0 else float("nan"),
    }
