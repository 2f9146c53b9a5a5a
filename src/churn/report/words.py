"""The report's sentences: each top driver read in one line, the backtest in plain words, and
what the data checks found. Pure functions of the scored base and the run's metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from churn.explain.drivers import global_drivers
from churn.explain.explainer import dependence_direction, say
from churn.vocabulary import DRIVER_FAMILIES


def top_driver_readings(scored, catalog: Sequence[dict], k: int) -> list[dict[str, Any]]:
    """The strongest actionable drivers, each with a one-line reading of its dependence."""
    by_name = {f["name"]: f for f in catalog}
    per_feature, _ = global_drivers(scored.explanation.shap, catalog, actionable_only=True)
    out = []
    for name in per_feature.index[:k]:
        spec = by_name[name]
        values = scored.X[name]
        points = scored.explanation.points[name] * 100
        categorical = spec["kind"] == "categorical"
        if categorical:
            means = points.groupby(values.fillna("missing")).mean().sort_values()
            reading = (
                f"{spec['description']}: '{means.index[-1]}' carries the most risk "
                f"({means.iloc[-1]:+.1f} pts on average), '{means.index[0]}' the least "
                f"({means.iloc[0]:+.1f} pts)."
            )
        elif values.nunique() <= 2:
            means = points.groupby(values).mean()
            reading = (
                "; ".join(
                    f"customers {say(spec['template'], v)} carry {m:+.1f} pts"
                    for v, m in means.items()
                )
                + " on average."
            )
        else:
            rho = dependence_direction(values, points)
            verb = "rises" if rho > 0 else "falls"
            top = points[values >= values.quantile(0.9)].mean()
            reading = (
                f"Risk {verb} as {spec['description']} goes up; the top tenth of customers on "
                f"it carry {top:+.1f} pts on average."
            )
        out.append(
            {
                "name": name,
                "family": DRIVER_FAMILIES[spec["driver_family"]],
                "mean_abs_pts": float(points.abs().mean()),
                "reading": reading,
                "values": values,
                "points": points / 100,
                "categorical": categorical,
                "label": spec["description"],
            }
        )
    return out


TOO_GOOD = 0.995


def quality_words(
    metrics: Mapping[str, float], snapshot: bool = False, costs: Mapping | None = None
) -> list[str]:
    """The backtest in sentences a retention manager can repeat."""
    how = "Cross-validated" if snapshot else "Out of time"
    lines = [
        f"{how}, the model ranks a customer who leaves above one who stays "
        f"{100 * metrics['roc_auc_mean']:.0f}% of the time "
        f"(ROC-AUC {metrics['roc_auc_mean']:.3f} ± {metrics.get('roc_auc_std', 0):.3f}).",
        f"Calling the riskiest 10% reaches {metrics['lift_10_mean']:.1f} times as many leavers "
        "as calling 10% at random.",
        f"Its probabilities are off by {100 * metrics['ece_mean']:.1f} points on average "
        "(expected calibration error), so they can be read as chances.",
    ]
    if metrics["roc_auc_mean"] >= TOO_GOOD:
        lines.insert(
            0,
            f"Too good to be true: a ROC-AUC of {metrics['roc_auc_mean']:.4f} almost always means "
            "a column records the outcome itself (a cancellation reason, a final bill). Check "
            "the strongest single columns below before trusting any of this page.",
        )
    if "best_profit_fraction" in metrics:
        priced = (
            f" ({costs['contact_cost']:,.2f} a contact, {costs['incentive_cost']:,.2f} an offer, "
            f"{100 * costs['acceptance_rate']:.0f}% accepting)"
            if costs
            else ""
        )
        lines.append(
            f"With the configured contact cost, incentive and acceptance rate{priced}, profit "
            f"peaks when contacting the riskiest {100 * metrics['best_profit_fraction']:.0f}% of "
            "customers."
        )
    return lines


def data_checks(checks: Mapping) -> dict[str, Any]:
    """What validation found: duplicates, dropped columns, the strongest single columns."""
    return {
        "duplicates": int(checks.get("duplicate_rows_kept_once", 0)),
        "excluded": dict(checks.get("excluded") or {}),
        "strongest": list((checks.get("column_roc_auc") or {}).items())[:5],
        "experiment": checks.get("experiment"),
        "identical": int(checks.get("identical_rows_kept", 0)),
        "copies": checks.get("copies_but_id") or {"rows": 0, "sets": 0, "examples": []},
    }
