"""Week over week, critical points and recovery guidelines, on hand-made partitions."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd
import pytest

from churn.cli import compose_config
from churn.errors import ConfigError
from churn.features import FAMILIES, catalog
from churn.scoring.critical import critical_points, usable_points
from churn.scoring.playbook import check_playbook, guideline, next_actions
from churn.scoring.weekly import ALERT_COLUMNS, compare_weeks, track_alerts, weekly_alerts
from churn.snapshot.vocabulary import ACTIONABLE_FAMILIES

BANDS = ["low", "medium", "high"]
BUILT = [f.name for f in catalog(list(FAMILIES), (30, 90, 180))]
LAST_WEEK = dt.date(2025, 11, 24)


def week(rows) -> pd.DataFrame:
    columns = ["customer_id", "churn_probability", "risk_band", "model_name", "feature_set_hash"]
    frame = pd.DataFrame(rows, columns=[*columns, "points_complaints", "points_price"])
    return frame.assign(
        as_of=dt.date(2025, 12, 1),
        value=100.0,
        clv=30.0,
        value_tier="Gold",
        expected_loss=5.0,
        next_action="call",
        max_compensation=10.0,
        critical_points=None,
    )


@pytest.fixture
def weeks():
    before = week(
        [
            (1, 0.04, "low", "churn-churn", "h1", 1.0, 2.0),
            (2, 0.30, "high", "churn-churn", "h1", 9.0, 0.0),
            (4, 0.02, "low", "churn-churn", "h0", 0.0, 0.0),
            (5, 0.02, "low", "other-churn", "h1", 0.0, 0.0),
        ]
    )
    now = week(
        [
            (1, 0.19, "medium", "churn-churn", "h1", 10.0, 3.0),  # +15 pts, complaints +9
            (2, 0.25, "high", "churn-churn", "h1", 9.0, 0.0),  # down 5
            (3, 0.50, "high", "churn-churn", "h1", 20.0, 0.0),  # new to the base
            (4, 0.40, "high", "churn-churn", "h1", 20.0, 0.0),  # last scored on other features
            (5, 0.40, "high", "churn-churn", "h1", 20.0, 0.0),  # last scored by another model
        ]
    )
    return now, before


def test_risk_change_band_and_rising_driver_only_between_comparable_scores(weeks):
    now, before = weeks
    changes = compare_weeks(now, before, BANDS).set_index("customer_id")
    assert changes["comparison"].to_dict() == {
        1: "compared",
        2: "compared",
        3: "new",
        4: "other_feature_set",
        5: "other_model",
    }
    assert changes.loc[1, "risk_change_pts"] == pytest.approx(15.0)
    assert changes.loc[2, "risk_change_pts"] == pytest.approx(-5.0)
    assert changes.loc[[3, 4, 5], "risk_change_pts"].isna().all()
    assert changes["band_up"].to_dict() == {1: True, 2: False, 3: False, 4: False, 5: False}
    assert changes.loc[1, "rising_driver"] == "complaints"
    assert changes.loc[1, "rising_pts"] == pytest.approx(9.0)
    assert changes.loc[2, "rising_driver"] is None  # nothing rose


def test_alerts_say_what_changed_since_last_week(weeks):
    now, before = weeks
    now.loc[now.customer_id == 2, "critical_points"] = "complaint_open_14d; usage_down_half"
    points = compose_config("score")["alerts"]["critical_points"]
    alerts = weekly_alerts(
        now,
        compare_weeks(now, before, BANDS),
        LAST_WEEK,
        {"risk_jump_points": 10, "critical_points": points},
    )
    said = {(r.customer_id, r.name): r.sentence for r in alerts.itertuples()}
    assert said == {
        (1, "band_up"): "moved from low to medium risk since 2025-11-24",
        (1, "risk_jump"): "risk +15 pts since 2025-11-24 (complaints not followed up +9 pts)",
        (2, "complaint_open_14d"): "a complaint has been open for more than 14 days",
        (2, "usage_down_half"): "usage fell by more than half against the previous 90 days",
    }
    assert set(alerts["alert"]) == {"band_up", "risk_jump", "critical_point"}
    assert (alerts["next_action"] == "call").all()
    no_history = weekly_alerts(now.assign(critical_points=None), None, None, {})
    assert no_history.empty and list(no_history) == ALERT_COLUMNS
    assert no_history["as_of"].dtype == now["as_of"].dtype  # written with the scores' types


def test_each_default_critical_point_fires_on_its_own_condition(caplog):
    points = compose_config("score")["alerts"]["critical_points"]
    frame = pd.DataFrame(
        {
            "complaints_unresolved": [1, 1, 0, 0, 0, np.nan],
            "days_since_last_complaint": [20, 5, 20, 400, 400, 400],
            "price_increase_90d": [0, 0, 0, 1, 0, 0],
            "usage_change_90d_pct": [0, 0, 0, 0, -60, np.nan],
            "contract_days_left": [np.nan, np.nan, 10, np.nan, np.nan, 45],
        }
    )
    usable = usable_points(points, frame.columns)
    assert [p["name"] for p in usable] == [
        "complaint_open_14d",
        "price_increase_90d",
        "usage_down_half",
        "contract_ending_30d",
    ]
    with caplog.at_level(logging.INFO):  # a family that does not run on this data: skipped
        fewer = usable_points(points, frame.columns.drop("usage_change_90d_pct"), BUILT)
    assert [p["name"] for p in fewer] == [
        "complaint_open_14d",
        "price_increase_90d",
        "contract_ending_30d",
    ]
    skipped = [r.getMessage() for r in caplog.records]
    assert any("usage_down_half skipped" in m and "usage_change_90d_pct" in m for m in skipped)
    fired = critical_points(frame, usable).tolist()
    # an open complaint is only critical once it is older than 14 days; missing never fires
    assert fired == [
        "complaint_open_14d",
        None,
        "contract_ending_30d",  # 10 days left; 45 days (the last row) is not yet critical
        "price_increase_90d",
        "usage_down_half",
        None,
    ]
    both = critical_points(frame.assign(price_increase_90d=1), usable)
    assert both[0] == "complaint_open_14d; price_increase_90d"


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"feature": "a", "op": "~", "value": 1}, "op '~' is not one of"),
        ({"feature": "a", "op": ">", "value": "lots"}, "value 'lots' is not a number"),
        ({"op": ">", "value": 1}, "every condition needs a feature"),
        ("a > 1", "every condition needs a feature"),
    ],
)
def test_a_malformed_critical_point_names_it_and_what_is_wrong(condition, message):
    with pytest.raises(ConfigError, match=f"complaint_open_14d: {message}"):
        usable_points([{"name": "complaint_open_14d", "when": [condition]}], ["a"])


def test_a_critical_point_no_family_builds_is_refused_naming_it():
    defaults = compose_config("score")["alerts"]["critical_points"]
    usable_points(defaults, [], BUILT)  # every shipped point has a family that builds it
    points = {
        "name": "loyalty_points_expiring",
        "when": [{"feature": "points_expiring_30d", "op": ">", "value": 0}],
    }
    with pytest.raises(
        ConfigError, match="loyalty_points_expiring: no feature family builds points_expiring_30d"
    ):
        usable_points([*defaults, points], ["tenure_days"], BUILT)
    # a customer table's own column is built: the model reads it
    assert usable_points([points], ["points_expiring_30d"], BUILT) == [points]
    # the end of a contract's term: built by the products family where commitment_end is
    # loaded, skipped (with a line) where it is not
    (contract,) = [p for p in defaults if p["name"] == "contract_ending_30d"]
    assert usable_points([contract], ["contract_days_left"], BUILT) == [contract]
    assert usable_points([contract], ["tenure_days"], BUILT) == []


def test_alerts_are_new_then_ongoing_with_their_first_week_and_a_budget_by_expected_loss():
    week1, week2 = dt.date(2025, 12, 1), dt.date(2025, 12, 8)

    def alerts(ids, loss):
        frame = pd.DataFrame(
            {
                "customer_id": ids,
                "alert": "critical_point",
                "name": "usage_down_half",
                "expected_loss": loss,
                "churn_probability": 0.3,
            }
        )
        return frame.assign(status=None, first_seen=None, weeks_open=np.nan)

    first = track_alerts(alerts([1, 2, 3], [50.0, 10.0, 30.0]), None, week1, budget=2)
    assert dict(zip(first.customer_id, first.status, strict=True)) == {
        1: "new",
        2: "over_budget",
        3: "new",
    }
    assert (first.first_seen == week1).all() and (first.weeks_open == 0).all()
    second = track_alerts(alerts([1, 2, 3, 4], [50.0, 10.0, 30.0, 5.0]), first, week2, budget=2)
    said = second.set_index("customer_id")
    assert list(said.status) == ["ongoing", "new", "ongoing", "new"]  # 2 was never shown
    assert said.first_seen[1] == week1 and said.weeks_open[1] == 1 and said.first_seen[4] == week2
    assert said.first_seen[2] == week1  # over budget last week: first seen then all the same
    third = track_alerts(alerts([4], [5.0]), second, dt.date(2025, 12, 15), budget=None)
    assert list(third.status) == ["ongoing"] and list(third.weeks_open) == [1]


def test_playbook_looks_up_family_and_tier_then_the_familys_any_then_the_default():
    playbook = compose_config("score")["playbook"]
    check_playbook(playbook)
    assert guideline(playbook, "complaints", "Platinum") == {
        "action": "senior agent call, resolve within 48 h",
        "max_compensation": 50,
    }
    assert guideline(playbook, "complaints", "Lead")["max_compensation"] == 10  # any
    assert guideline(playbook, None, "Gold") == playbook["default"]
    # every family a customer can be called about has its own guideline, never the default
    for family in ACTIONABLE_FAMILIES:
        assert guideline(playbook, family, "Iron") != playbook["default"], family
    assert guideline(playbook, "competition", "Platinum")["max_compensation"] == 60
    actions, money = next_actions(
        ["complaints", "price", None, "complaints"],
        ["Platinum", "Iron", "Gold", "Platinum"],
        playbook,
    )
    assert money.tolist() == [50.0, 0.0, 0.0, 50.0]
    assert actions[1] == "explain the price change and the cheaper plans"
    for money in (-1, "fifty", None):
        bad = {
            **playbook,
            "actions": {"price": {"Gold": {"action": "x", "max_compensation": money}}},
        }
        with pytest.raises(ConfigError, match="playbook.actions.price.Gold.max_compensation"):
            check_playbook(bad)
