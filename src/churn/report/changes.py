"""The report's "What changed this week": the latest published scores' alerts (risk jumps, bands
up, critical points) and the recovery guidelines front-line staff follow."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from churn.columns import TIER_ORDER
from churn.scoring.alerts import ALERTS_FILE
from churn.scoring.playbook import playbook_table
from churn.store import previous_partition
from churn.vocabulary import DRIVER_FAMILIES


def changes_view(scores_dir: Path, playbook: Mapping, top: int = 10) -> dict[str, Any]:
    """Alert counts, the biggest risk jumps with their reason and next action, and the playbook
    table; `published` is False until `churn score` has written a partition with alerts."""
    table = playbook_table(playbook, list(DRIVER_FAMILIES), TIER_ORDER)
    for row in table:
        row["label"] = DRIVER_FAMILIES[row["family"]]
    view: dict[str, Any] = {"published": False, "playbook": table, "tiers": list(TIER_ORDER)}
    latest = previous_partition(scores_dir, dt.date.max)
    if latest is None or not (latest[1] / ALERTS_FILE).exists():
        return view
    as_of, folder = latest
    alerts = pd.read_parquet(folder / ALERTS_FILE)
    summary = json.loads((folder / "summary.json").read_text())
    jumps = alerts[alerts["alert"] == "risk_jump"]
    if "risk_change_pts" in jumps:  # alerts written before the column have no order to show
        jumps = jumps.nlargest(top, "risk_change_pts")
    else:
        jumps = jumps.head(0)
    columns = ["customer_id", "sentence", "churn_probability", "value_tier", "next_action"]
    counts = summary.get("alerts") or {}
    if "status" in alerts:  # tracked alerts: the team's list is what is new this week
        jumps = jumps[jumps["status"] == "new"] if len(jumps) else jumps
    return {
        **view,
        "published": True,
        "as_of": str(as_of),
        "since": summary.get("compared_with"),
        "counts": counts.get("new_by_kind", counts),
        "tracked": {k: counts[k] for k in ("new", "ongoing", "over_budget") if k in counts},
        "budget": counts.get("max_per_week"),
        "plan": summary.get("call_list"),
        "calls": summary.get("calls"),
        "jumps": jumps[[*columns, "max_compensation"]].to_dict("records"),
    }
