"""Behavioural tests of the trained churn model on the simulated world.

More unresolved complaints never lower the average risk; the customer id plays no part; and the
default XGBoost model beats the logistic baseline out of time.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from churn.training.pipeline import model_inputs
from churn.training.train import train
from tests.conftest import train_config

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo_world")]


def latest_rows(world) -> pd.DataFrame:
    meta = json.loads((world / "features" / "catalog.json").read_text())
    frame = pd.read_parquet(world / "features" / f"cutoff={meta['cutoffs'][-1]}" / "part-0.parquet")
    return frame, meta["features"]


def test_more_unresolved_complaints_never_lower_average_risk(world, xgb):
    _, objects = xgb
    frame, features = latest_rows(world)
    base = model_inputs(frame, features)
    risks = []
    for extra in range(4):
        X = base.assign(complaints_unresolved=base.complaints_unresolved + extra)
        risks.append(objects["model"].predict_proba(X)[:, 1].mean())
    assert all(b >= a for a, b in zip(risks, risks[1:], strict=False)), risks
    assert risks[-1] > risks[0]


def test_prediction_does_not_depend_on_customer_id(world, xgb):
    _, objects = xgb
    frame, features = latest_rows(world)
    shuffled = frame.assign(customer_id=np.random.default_rng(0).permutation(frame.customer_id))
    p1 = objects["model"].predict_proba(model_inputs(frame, features))[:, 1]
    p2 = objects["model"].predict_proba(model_inputs(shuffled, features))[:, 1]
    assert "customer_id" not in {f["name"] for f in features}
    np.testing.assert_array_equal(p1, p2)


def test_xgboost_beats_the_logistic_baseline_out_of_time(world, xgb, tmp_path):
    xgb_metrics, _ = xgb
    logreg_metrics, _ = train(train_config(world, tmp_path, "model=logreg"))
    assert xgb_metrics["roc_auc_mean"] > logreg_metrics["roc_auc_mean"]
    assert xgb_metrics["oracle_auc_fraction"] >= 0.9
