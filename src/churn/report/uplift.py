"""The report's "Who does a contact move?": what a customer table's randomized test says about
the response model (`uplift_report.json`, written by `churn uplift`), in a retention team's words
and pictures."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from churn.store import UPLIFT_REPORT
from churn.uplift.plots import plot_test_qini, plot_uplift_deciles


def per_1000(share: float) -> str:
    return f"{1000 * share:,.0f}"


def action_words(action: str, e: Mapping, meaning: str) -> list[str]:
    """Three sentences per action: the top 30% against random and risk, how sure, the harmed."""
    gain = e["uplift_at_30"] - e["random"]["uplift_at_30"]
    lines = [
        f"{action}: contacting the 30% the model picks means {per_1000(gain)} fewer customers "
        f"{meaning} per 1,000 contacted than contacting 30% at random (the contact keeps "
        f"{per_1000(e['uplift_at_30'])} per 1,000 there, against "
        f"{per_1000(e['random']['uplift_at_30'])} at random and "
        f"{per_1000(e['risk']['uplift_at_30'])} picked by risk).",
    ]
    above = e["qini_ci_low"] > max(e["random"]["qini_ci_high"], e["risk"]["qini_ci_high"])
    beats = e["qini_ci_low"] > max(e["random"]["qini"], e["risk"]["qini"])
    lines.append(
        f"Qini {e['qini']:.4f} (95% interval {e['qini_ci_low']:.4f} to {e['qini_ci_high']:.4f}); "
        f"random {e['random']['qini']:.4f}, by risk {e['risk']['qini']:.4f}: "
        + (
            "clearly better than both."
            if above
            else "better than both, though the intervals overlap."
            if beats
            else "not clearly better than both; treat the ranking with care."
        )
    )
    lines.append(
        f"{e['harmed_share']:.1%} of customers are predicted to be pushed away by it "
        "(never contacted with it)."
    )
    return lines


def uplift_view(data_dir: Path, meaning: str) -> dict[str, Any] | None:
    """Words, figures and plots per action, and the best action's record; None without a test."""
    from churn.report.plots import to_data_uri

    path = data_dir / UPLIFT_REPORT
    if not path.exists():
        return None
    report = json.loads(path.read_text())
    actions = []
    for action, e in report["actions"].items():
        actions.append(
            {
                "name": action,
                "words": action_words(action, e, meaning),
                "learner": e["learner"],
                "qini": to_data_uri(plot_test_qini(action, e)),
                "deciles": to_data_uri(plot_uplift_deciles(action, e)),
            }
        )
    best = report.get("best_action")
    words = None
    if best:
        singles = {a: s["uplift_at_30"] for a, s in best["single"].items()}
        top = max(singles, key=singles.get)
        shares = ", ".join(f"{a} {s:.0%}" for a, s in best["shares"].items())
        words = (
            f"Giving each customer their best action brings {per_1000(best['uplift_at_30'])} per "
            f"1,000 in the top 30%, against {per_1000(singles[top])} for {top} alone (best "
            f"actions: {shares})."
        )
    return {
        "actions": actions,
        "best": words,
        "folds": report.get("folds"),
        "repeats": report.get("repeats"),
    }
