"""The report's "Did last month's calls work?": the latest list `churn outcomes` measured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from churn.store import latest_outcomes


def outcomes_view(outcomes_dir: Path) -> dict[str, Any]:
    """The latest measured list with its two pictures; `measured` is False before the first."""
    from churn.report import plots

    latest = latest_outcomes(outcomes_dir)
    if latest is None:
        return {"measured": False}
    result = json.loads(latest.read_text())
    images = {"arms": plots.plot_outcome_arms(result["arms"], result["effect"])}
    if result["calibration"]:
        images["calibration"] = plots.plot_production_calibration(result["calibration"])
    return {
        "measured": True,
        **result,
        "arm_rows": {a["treatment_group"]: a for a in result["arms"]},
        "images": {k: plots.to_data_uri(v) for k, v in images.items()},
    }
