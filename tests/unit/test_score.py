"""Scoring rules on hand-checkable data: holdout, call list, drift, input checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from churn.errors import ChurnError
from churn.scoring.drift import DriftCounter, population_stability
from churn.scoring.inputs import check_columns
from churn.scoring.policy import in_holdout, select_calls
from churn.training.pipeline import model_inputs

FEATURES = [{"name": "tenure_days", "kind": "numeric"}, {"name": "region", "kind": "categorical"}]


def test_holdout_is_stable_salted_and_close_to_its_fraction():
    ids = np.arange(100_000)
    first = in_holdout(ids, "salt-a", 0.1)
    assert np.array_equal(first, in_holdout(ids, "salt-a", 0.1))
    assert abs(first.mean() - 0.1) < 0.005
    other = in_holdout(ids, "salt-b", 0.1)
    assert 0.005 < (first & other).mean() < 0.02  # independent draws overlap about 1%
    assert not in_holdout(ids, "salt-a", 0.0).any()


def test_call_list_respects_capacity_skips_control_and_negative_value():
    net = np.array([90.0, 80.0, 70.0, 60.0, 50.0, -5.0, 40.0])
    holdout = np.array([False, True, False, False, True, False, False])
    calls, controls = select_calls(net, holdout, capacity=3)
    assert list(calls) == [0, 2, 3]  # the three best that are not held out
    assert list(controls) == [1]  # ranked among the called; customer 4 ranks below the last call
    calls, _ = select_calls(net, np.zeros(7, dtype=bool), capacity=10)
    assert 5 not in calls  # a contact that loses money is never made


def test_psi_is_zero_for_the_reference_and_grows_with_shift():
    reference = {
        "numeric": {"x": {"edges": [0.0, 1.0, 2.0, 3.0], "shares": [1 / 3] * 3, "missing": 0.0}},
        "categorical": {"c": {"shares": {"a": 0.5, "b": 0.5}}},
    }
    same = DriftCounter(reference)
    same.add(pd.DataFrame({"x": [0.5, 1.5, 2.5] * 10, "c": ["a", "b"] * 15}))
    assert max(same.psi().values()) == pytest.approx(0.0, abs=1e-9)
    shifted = DriftCounter(reference)
    shifted.add(pd.DataFrame({"x": [2.5, 9.0] * 15, "c": ["a", "new"] * 15}))
    psi = shifted.psi()
    assert psi["x"] > 0.25 and psi["c"] > 0.25
    assert population_stability(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0.0


def test_missing_column_stops_before_scoring():
    schema = pa.schema([("customer_id", pa.int64()), ("tenure_days", pa.float64())])
    with pytest.raises(ChurnError, match="region, revenue_12m"):
        check_columns(schema, FEATURES)


def test_uncastable_value_names_the_column_and_rows():
    frame = pd.DataFrame(
        {"customer_id": [1, 2, 3], "tenure_days": [10, "ten", 30], "region": ["n", "s", None]}
    )
    with pytest.raises(ChurnError, match=r"tenure_days .*'customer_id': 2, 'tenure_days': 'ten'"):
        model_inputs(frame, FEATURES)
    ok = model_inputs(frame.assign(tenure_days=[1, 2, None]), FEATURES)
    assert ok["tenure_days"].dtype == "float64" and ok["region"].dtype == object


@pytest.mark.parametrize("gate", [False, True])
def test_a_drift_report_is_kept_beside_the_partitions_only_when_the_gate_stops_them(tmp_path, gate):
    """Published scores carry their report inside the partition, and the copy beside the
    partitions is written after the swap; a run killed before it publishes leaves none."""
    import datetime as dt

    from churn.scoring.drift import check_drift

    reference = {
        "numeric": {"x": {"edges": [0.0, 1.0, 2.0, 3.0], "shares": [1 / 3] * 3, "missing": 0.0}},
        "categorical": {},
    }
    drift = DriftCounter(reference)
    drift.add(pd.DataFrame({"x": [2.5, 9.0] * 15}))
    staging = tmp_path / "staging"
    staging.mkdir()
    cfg = {
        "score": {"psi_threshold": 0.25, "fail_on_drift": gate},
        "paths": {"scores_dir": str(tmp_path / "scores")},
    }
    out = check_drift(drift, cfg, dt.date(2025, 6, 2), staging)
    assert out["drift_blocked"] is gate and (staging / "drift.json").exists()
    assert (tmp_path / "scores" / "drift" / "as_of=2025-06-02.json").exists() is gate
