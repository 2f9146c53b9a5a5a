"""The model search on a panel of cutoffs: it reads only the first fold's training cutoffs."""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pandas as pd

from churn.training.out_of_time import run_rolling
from churn.training.train import TrainingData
from tests.unit.test_crossval import MODEL, config


def panel(customers: int = 250, months: int = 8, seed: int = 0) -> TrainingData:
    """Monthly snapshots of the same customers; churn from complaints and price."""
    rng = np.random.default_rng(seed)
    parts = []
    for m in range(months):
        complaints = rng.poisson(1.0, customers).astype(float)
        price = rng.normal(50, 10, customers)
        logit = -1.5 + 0.9 * complaints + 0.03 * (price - 50)
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": [f"c{i}" for i in range(customers)],
                    "cutoff": dt.date(2024, 1 + m, 1),
                    "complaints": complaints,
                    "price": price,
                    "plan": rng.choice(["basic", "premium"], customers).astype(object),
                    "revenue_12m": price * 12,
                    "churn": (rng.random(customers) < 1 / (1 + np.exp(-logit))).astype(float),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    return TrainingData(frame, ["complaints", "price"], ["plan"], {"mode": "events"})


def panel_config() -> dict:
    cfg = config()
    model = copy.deepcopy(MODEL)
    model["search"]["on_panel"] = True
    cfg["model"] = model
    cfg["labels"] = {"horizon_days": 30}
    cfg["split"] = {
        **cfg["split"],
        "kind": "rolling",
        "n_folds": 2,
        "min_fit_cutoffs": 3,
        "calibration": "auto",
    }
    return cfg


def test_the_panel_search_never_reads_a_calibration_or_test_cutoff():
    data = panel()
    result, folds = run_rolling(data, panel_config())
    assert [t["kind"] for t in result.trials] == ["xgboost", "lightgbm"]
    assert result.params["_target_"]
    assert result.calibration["method"] in ("sigmoid", "isotonic")
    # scramble every row the search must not see: its trials come out the same
    later = ~data.frame["cutoff"].isin(set(folds[0].fit))
    changed = panel()
    rng = np.random.default_rng(9)
    changed.frame.loc[later, "churn"] = rng.permutation(changed.frame.loc[later, "churn"].values)
    changed.frame.loc[later, "complaints"] = 0.0
    again, _ = run_rolling(changed, panel_config())

    def figures(trials):
        return [{k: v for k, v in t.items() if k != "seconds"} for t in trials]

    assert figures(again.trials) == figures(result.trials) and again.params == result.params
    assert again.summary["roc_auc_mean"] != result.summary["roc_auc_mean"]
