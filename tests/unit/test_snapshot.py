"""Snapshot mode on a hand-made customer table: mapping errors, blank rules, rejects."""

from __future__ import annotations

import pandas as pd
import pytest

from churn.errors import ConfigError
from churn.snapshot import check_mapping, clean, snapshot_features

SNAPSHOT = {
    "path": "table.csv",
    "id": "cust",
    "label": {"column": "Left", "positive": "Yes", "negative": "No"},
    "value": {"column": "Fee", "multiplier": 12},
    "features": {
        "Fee": {"kind": "numeric", "driver_family": "price", "actionable": True},
        "Total": {"kind": "numeric", "driver_family": "value_fixed", "blank": "zero"},
        "Age": {"kind": "numeric", "driver_family": "value_fixed"},
        "Plan": {"kind": "categorical", "driver_family": "structural_bonds", "actionable": True},
    },
}


def table(**changes) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "cust": ["a", "b", "c", "d"],
            "Fee": ["10", "20.5", "30", "40"],
            "Total": ["100", " ", "300", "400"],
            "Age": ["30", "41", "", "x"],
            "Plan": ["basic", "", "premium", "basic"],
            "Left": ["Yes", "No", "No", "Yes"],
        }
    )
    return frame.assign(**changes)


def test_blank_rules_and_rejects_with_reasons():
    rows, rejects = clean(table(), SNAPSHOT)
    # Total's blank follows its declared rule (zero); Age has none, so blank and text are rejected
    assert list(rows["customer_id"]) == ["a", "b"]
    assert rows.loc[1, "Total"] == 0.0 and rows.loc[1, "Plan"] is None
    assert list(rows["churn"]) == [1.0, 0.0] and list(rows["revenue_12m"]) == [120.0, 246.0]
    assert dict(zip(rejects["cust"], rejects["reject_reason"], strict=True)) == {
        "c": "Age is blank",
        "d": "Age is not a number",
    }


def test_a_missing_column_is_named_with_its_config_key():
    with pytest.raises(ConfigError, match=r"'Plan' \(data.snapshot.features.Plan\)"):
        check_mapping(table().drop(columns="Plan"), SNAPSHOT)


def test_label_values_other_than_the_declared_two_are_refused():
    with pytest.raises(ConfigError, match=r"'Churned': 1.*data.snapshot.label.positive"):
        check_mapping(table(Left=["Yes", "No", "Churned", "No"]), SNAPSHOT)


def test_declared_columns_become_features_with_their_driver_families():
    features = snapshot_features(SNAPSHOT)
    assert [f.name for f in features] == ["Fee", "Total", "Age", "Plan"]
    assert features[3].kind == "categorical" and features[3].actionable
    with pytest.raises(ConfigError, match="data.snapshot.features.Bad"):
        snapshot_features({"features": {"Bad": {"driver_family": "vibes"}}})
