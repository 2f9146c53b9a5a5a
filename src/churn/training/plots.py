"""Backtest plots (ROC, PR, calibration, gains, profit), one line per out-of-time fold, logged
with the training run."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")  # files only; no display is ever needed
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402

from churn.columns import VALUE_COLUMN  # noqa: E402
from churn.training.evaluate import (  # noqa: E402
    RetentionCosts,
    calibration_bins,
    gains_curve,
    profit_curve,
)


def draw(kind: str, predictions, costs: RetentionCosts):
    fig, ax = plt.subplots(figsize=(5, 4), dpi=100)
    for frame in predictions:
        y, p, label = frame["y"].to_numpy(), frame["p"].to_numpy(), frame["label"].iloc[0]
        if kind == "roc":
            fpr, tpr, _ = roc_curve(y, p)
            ax.plot(fpr, tpr, label=label)
            ax.set(xlabel="false positive rate", ylabel="true positive rate")
        elif kind == "pr":
            precision, recall, _ = precision_recall_curve(y, p)
            ax.plot(recall, precision, label=label)
            ax.set(xlabel="recall", ylabel="precision")
        elif kind == "calibration":
            mean_p, rate, _ = calibration_bins(y, p)
            ax.plot(mean_p, rate, marker="o", label=label)
            ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
            ax.set(xlabel="predicted churn probability", ylabel="observed churn rate")
        elif kind == "gains":
            x, reached = gains_curve(y, p)
            ax.plot(x, reached, label=label)
            ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
            ax.set(xlabel="share of customers contacted", ylabel="share of churners reached")
        else:
            x, profit = profit_curve(y, p, frame[VALUE_COLUMN].to_numpy(), costs)
            ax.plot(x, profit, label=label)
            ax.set(xlabel="share of customers contacted", ylabel="expected profit")
    ax.set_title(kind)
    if len(predictions) <= 6:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def log_backtest_plots(predictions, costs: Mapping) -> None:
    retention = RetentionCosts(**costs)
    for kind in ("roc", "pr", "calibration", "gains", "profit"):
        fig = draw(kind, predictions, retention)
        mlflow.log_figure(fig, f"plots/{kind}.png")
        plt.close(fig)
