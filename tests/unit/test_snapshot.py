"""Snapshot mode on hand-made customer tables: inference, blank rules, rejects and data checks."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from churn.errors import ConfigError
from churn.snapshot import check_mapping, clean, snapshot_features
from churn.snapshot.checks import check_leakage
from churn.snapshot.infer import infer_spec
from churn.snapshot.vocabulary import ACTIONABLE_FAMILIES, driver_family_of

DECLARED = {
    "path": "table.csv",
    "id": "cust",
    "label": {"column": "Left", "positive": "Yes", "negative": "No"},
    "value": {"column": "Fee", "multiplier": 12},
    "features": {
        "Fee": {"kind": "numeric", "driver_family": "price", "actionable": True},
        "Total": {"kind": "numeric", "driver_family": "value_fixed", "blank": "zero"},
        "Age": {"kind": "numeric", "driver_family": "value_fixed", "blank": "reject"},
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


def resolved(frame: pd.DataFrame, declared=None) -> dict:
    spec, _ = infer_spec(frame, declared or DECLARED)
    return spec


def test_declared_blank_rules_and_rejects_with_reasons():
    frame = table()
    rows, rejects, kept_once, _ = clean(frame, resolved(frame))
    # Total's blank follows its declared rule (zero); Age's is reject, and 'x' is not a number
    assert list(rows["customer_id"]) == ["a", "b"] and kept_once == 0
    assert rows.loc[1, "Total"] == 0.0 and rows.loc[1, "Plan"] is None
    assert list(rows["churn"]) == [1.0, 0.0] and list(rows["revenue_12m"]) == [120.0, 246.0]
    assert dict(zip(rejects["cust"], rejects["reject_reason"], strict=True)) == {
        "c": "Age is blank (data.snapshot.features.Age.blank=reject)",
        "d": "Age is not a number: 'x'",
    }


def test_a_missing_column_is_named_with_its_config_key():
    with pytest.raises(ConfigError, match=r"'Plan' \(data.snapshot.features.Plan\)"):
        check_mapping(table().drop(columns="Plan"), DECLARED)


def test_label_values_other_than_the_declared_two_are_refused():
    with pytest.raises(ConfigError, match=r"'Churned': 1.*data.snapshot.label.positive"):
        resolved(table(Left=["Yes", "No", "Churned", "No"]))


def test_declared_columns_become_features_with_their_driver_families():
    features = snapshot_features(resolved(table()))
    assert [f.name for f in features] == ["Fee", "Total", "Age", "Plan"]
    assert features[3].kind == "categorical" and features[3].actionable


def test_an_unknown_driver_family_names_the_valid_ones():
    declared = {**DECLARED, "features": {"Fee": {"driver_family": "vibes"}}}
    with pytest.raises(ConfigError, match=r"features.Fee.driver_family='vibes'.*complaints, "):
        resolved(table(), declared)


def test_binary_kind_is_read_as_categorical_and_other_kinds_are_refused():
    declared = {**DECLARED, "features": {"Plan": {"kind": "binary"}}}
    assert resolved(table(), declared)["features"]["Plan"]["kind"] == "categorical"
    declared = {**DECLARED, "features": {"Plan": {"kind": "ordinal"}}}
    with pytest.raises(ConfigError, match="kind='ordinal': use one of numeric, categorical"):
        resolved(table(), declared)


# --- two lines of config: everything else inferred -------------------------------------------


def wide(n: int = 40, seed: int = 0) -> pd.DataFrame:
    """A hand-checkable customer table in the shape real exports come in."""
    rng = np.random.default_rng(seed)
    churned = np.arange(n) % 4 == 0
    price = rng.integers(20, 120, n).astype(str).astype(object)
    price[: n // 2] = "Unknown"
    minutes = rng.normal(300, 50, n).round(1).astype(str).astype(object)
    minutes[3] = "NA"
    return pd.DataFrame(
        {
            "Region": rng.choice(["north", "south"], n),
            "CustomerID": [f"C{i:04d}" for i in range(n)],
            "MonthlyRevenue": rng.normal(50, 10, n).round(2).astype(str),
            "MonthlyMinutes": minutes,
            "CustomerCareCalls": rng.integers(0, 5, n).astype(str),
            "HandsetPrice": price,
            "Colour": rng.choice(["red", "blue", "green"], n),
            "Country": ["US"] * n,
            "Email": [f"c{i}@example.com" for i in range(n)],
            "Churn": np.where(churned, "1.0", "0.0"),
        }
    )


TWO_LINES = {"path": "mine.csv", "label": {"column": "Churn"}}


def test_two_lines_infer_id_kinds_label_families_and_value(caplog):
    with caplog.at_level(logging.INFO):
        spec, lines = infer_spec(wide(), TWO_LINES)
    assert spec["id"] == "CustomerID"
    assert spec["label"]["positive"] == "1.0" and spec["label"]["base_rate"] == 0.25
    features = spec["features"]
    assert features["MonthlyMinutes"]["kind"] == "numeric"
    assert features["HandsetPrice"]["kind"] == "numeric"
    assert features["HandsetPrice"]["missing_tokens"] == ["Unknown"]
    assert features["Region"]["kind"] == "categorical"
    assert features["CustomerCareCalls"]["driver_family"] == "complaints"
    assert features["CustomerCareCalls"]["actionable"]
    assert features["MonthlyMinutes"]["driver_family"] == "drifting_away"
    assert features["Colour"]["driver_family"] == "unassigned"
    assert not features["Colour"]["actionable"]  # never a reason to act on until assigned
    assert spec["value"] == {"column": "MonthlyRevenue", "multiplier": 12.0}
    assert set(spec["excluded"]) == {"Country", "Email"}
    assert spec["excluded"]["Country"].startswith("constant")
    assert spec["excluded"]["Email"].startswith("unique per row")
    assert spec["risk_edges"] == [0.25, 0.5]
    assert any("'Unknown' in 20 rows (50.0%) read as missing" in line for line in lines)


def test_missing_tokens_and_text_words_in_numbers_are_missing_never_rejects():
    frame = wide()
    spec = resolved(frame, TWO_LINES)
    rows, rejects, _, _ = clean(frame, spec)
    assert rejects.empty and len(rows) == len(frame)
    assert rows["HandsetPrice"].isna().sum() == 20
    assert np.isnan(rows.loc[3, "MonthlyMinutes"])


@pytest.mark.parametrize("positive", ["1", "1.0", "true", "Yes", "YES"])
def test_label_positive_is_found_whatever_its_spelling(positive):
    negative = {"1": "0", "1.0": "0.0", "true": "false", "Yes": "No", "YES": "NO"}[positive]
    frame = wide().assign(Churn=[positive if i % 4 == 0 else negative for i in range(40)])
    spec = resolved(frame, TWO_LINES)
    rows, _, _, _ = clean(frame, spec)
    assert rows["churn"].sum() == 10


def test_a_declared_numeric_label_matches_its_float_spelling():
    declared = {**TWO_LINES, "label": {"column": "Churn", "positive": 1, "negative": 0}}
    rows, _, _, _ = clean(wide(), resolved(wide(), declared))
    assert rows["churn"].sum() == 10


def test_without_a_churn_word_the_minority_value_is_positive():
    frame = wide().assign(Churn=["gone" if i % 4 == 0 else "here" for i in range(40)])
    assert resolved(frame, TWO_LINES)["label"]["positive"] == "gone"


def test_an_id_less_table_is_numbered_by_row_with_a_warning():
    frame = wide().drop(columns="CustomerID")
    spec, lines = infer_spec(frame, TWO_LINES)
    assert spec["id"] is None
    assert any("numbered by row" in line for line in lines)
    rows, _, _, _ = clean(frame, spec)
    assert list(rows["customer_id"][:3]) == ["1", "2", "3"]


def test_non_finite_numbers_are_rejects_quoting_the_raw_value():
    frame = wide()
    frame.loc[5, "MonthlyMinutes"] = "inf"
    frame.loc[6, "MonthlyMinutes"] = "1e400"
    frame.loc[7, "MonthlyRevenue"] = "-Infinity"
    rows, rejects, _, _ = clean(frame, resolved(frame, TWO_LINES))
    assert np.isfinite(rows["MonthlyMinutes"].dropna()).all()
    reasons = dict(zip(rejects["CustomerID"], rejects["reject_reason"], strict=True))
    assert reasons == {
        "C0005": "MonthlyMinutes is not a finite number: 'inf'",
        "C0006": "MonthlyMinutes is not a finite number: '1e400'",
        "C0007": "MonthlyRevenue is not a finite number: '-Infinity'",
    }


# --- data checks -------------------------------------------------------------------------------


def test_exact_duplicate_rows_are_kept_once_by_default_and_go_to_the_rejects():
    frame = wide().drop(columns="CustomerID")
    frame = pd.concat([frame, frame.iloc[:6]], ignore_index=True)
    rows, rejects, kept_once, _ = clean(frame, resolved(frame, TWO_LINES))
    assert kept_once == 6 and len(rows) == 40 and len(rejects) == 6
    assert rejects["reject_reason"].str.startswith("exact duplicate of an earlier row").all()


def test_duplicate_rows_can_be_rejected_or_kept_all():
    frame = wide().drop(columns="CustomerID")
    frame = pd.concat([frame, frame.iloc[:6]], ignore_index=True)
    rows, rejects, _, _ = clean(frame, resolved(frame, {**TWO_LINES, "duplicates": "reject"}))
    assert len(rows) == 34 and len(rejects) == 12
    rows, rejects, _, _ = clean(frame, resolved(frame, {**TWO_LINES, "duplicates": "keep_all"}))
    assert len(rows) == 46 and rejects.empty
    with pytest.raises(ConfigError, match="duplicates='twice'"):
        clean(frame, resolved(frame, {**TWO_LINES, "duplicates": "twice"}))


def with_copies(n: int = 5) -> pd.DataFrame:
    """wide() plus copies of its first n rows that differ only in the customer id."""
    frame = wide()
    twins = frame.iloc[:n].assign(CustomerID=[f"T{i:04d}" for i in range(n)])
    return pd.concat([frame, twins], ignore_index=True)


def test_copies_but_the_id_are_kept_counted_and_named_by_default(caplog):
    frame = with_copies()
    spec = resolved(frame, TWO_LINES)
    assert spec["duplicates"] == "group"
    with caplog.at_level(logging.WARNING):
        rows, rejects, kept_once, copies = clean(frame, spec)
    assert len(rows) == 45 and rejects.empty and kept_once == 0
    assert copies["rows"] == 10 and copies["sets"] == 5
    assert copies["examples"][0] == ["C0000", "T0000"]
    assert "identical to another in every column but the id CustomerID" in caplog.text


def test_copies_but_the_id_follow_the_duplicates_rule():
    frame = with_copies()
    rows, rejects, kept_once, copies = clean(
        frame, resolved(frame, {**TWO_LINES, "duplicates": "keep_one"})
    )
    assert len(rows) == 40 and kept_once == 5 and copies["rows"] == 0
    assert set(rejects["CustomerID"]) == {f"T{i:04d}" for i in range(5)}
    assert rejects["reject_reason"].str.startswith("identical to an earlier row but the id").all()
    rows, rejects, _, _ = clean(frame, resolved(frame, {**TWO_LINES, "duplicates": "reject"}))
    assert len(rows) == 35 and len(rejects) == 10
    rows, rejects, _, copies = clean(
        frame, resolved(frame, {**TWO_LINES, "duplicates": "keep_all"})
    )
    assert len(rows) == 45 and rejects.empty and copies["sets"] == 5


def test_a_column_that_encodes_the_label_stops_with_the_keys_to_fix():
    frame = wide().assign(Reason=lambda f: np.where(f["Churn"] == "1.0", "moved", "none"))
    spec = resolved(frame, TWO_LINES)
    rows, _, _, _ = clean(frame, spec)
    with pytest.raises(ConfigError, match=r"Reason \(ROC-AUC 1.0000.*exclude: \[Reason\]"):
        check_leakage(rows, spec)
    allowed = resolved(frame, {**TWO_LINES, "allow_leaky": ["Reason"]})
    assert check_leakage(rows, allowed)["Reason"] == 1.0
    excluded = resolved(frame, {**TWO_LINES, "exclude": ["Reason"]})
    assert "Reason" not in excluded["features"]


def test_a_column_present_only_for_leavers_leaks_through_its_presence():
    gone = wide()["Churn"] == "1.0"
    frame = wide().assign(DaysSinceCancel=np.where(gone, "12", "NA"))
    frame.loc[gone[gone].index[:3], "DaysSinceCancel"] = ["3", "40", "7"]
    spec = resolved(frame, TWO_LINES)
    rows, _, _, _ = clean(frame, spec)
    with pytest.raises(ConfigError, match="DaysSinceCancel"):
        check_leakage(rows, spec)


def test_ordinary_columns_pass_the_leakage_check():
    frame = wide()
    spec = resolved(frame, TWO_LINES)
    rows, _, _, _ = clean(frame, spec)
    assert max(check_leakage(rows, spec).values()) < 0.98


def test_exact_duplicate_rows_do_not_hide_the_id_and_clashing_ids_are_rejects():
    frame = pd.concat([wide(), wide().iloc[:6]], ignore_index=True)
    spec, lines = infer_spec(frame, TWO_LINES)
    assert spec["id"] == "CustomerID"
    rows, rejects, kept_once, _ = clean(frame, spec)
    assert kept_once == 6 and rows["customer_id"].is_unique and len(rows) == 40
    frame = wide(200)
    frame.loc[1, "CustomerID"] = "C0000"  # a different customer under the same id
    spec, lines = infer_spec(frame, TWO_LINES)
    assert spec["id"] == "CustomerID" and any("2 rows share an id" in line for line in lines)
    rows, rejects, _, _ = clean(frame, spec)
    assert set(rejects["reject_reason"]) == {"duplicate customer id"} and len(rows) == 198


HOSTILE_NAMES = [
    "Plan\nsnapshot:\n  id: injected",
    "Notes # not a comment",
    "key: value",
    "- item",
    "line\u2028separator",
    "tab\tand\rreturn",
]


def test_inferred_yaml_round_trips_every_column_name_and_nothing_escapes_its_comment(tmp_path):
    import yaml

    from churn.snapshot.publish import write_inferred

    rng = np.random.default_rng(4)
    frame = wide()
    for i, name in enumerate(HOSTILE_NAMES):
        frame[name] = rng.normal(i, 1, len(frame)).round(2).astype(str)
    spec, lines = infer_spec(frame, TWO_LINES)
    path = tmp_path / "inferred.yaml"
    write_inferred(spec, lines, path)
    text = path.read_text()
    loaded = yaml.safe_load(text)
    assert list(loaded) == ["snapshot"]  # no key injected at the top
    assert loaded["snapshot"]["id"] == "CustomerID"
    assert set(HOSTILE_NAMES) <= set(loaded["snapshot"]["features"])
    for line in text.splitlines():  # every comment line is still one comment line
        assert not line.strip() or line.startswith(("#", "snapshot:", " "))


def test_a_repeated_column_name_stops_the_load_naming_it(tmp_path):
    from churn.snapshot import read_source

    path = tmp_path / "t.csv"
    path.write_text("id,gender,gender,Churn\n1,F,M,Yes\n2,M,F,No\n")
    with pytest.raises(ConfigError, match="more than one column named 'gender'"):
        read_source({"path": str(path)})


def test_nul_bytes_are_stripped_and_counted_never_cut_a_value(tmp_path, caplog):
    from churn.snapshot import read_source

    path = tmp_path / "t.csv"
    path.write_bytes(b"id,gender,Churn\n1,Fe\x00male,Yes\n2,Male,No\n")
    with caplog.at_level(logging.WARNING):
        frame = read_source({"path": str(path)})
    assert list(frame["gender"]) == ["Female", "Male"]
    assert "1 NUL bytes stripped" in caplog.text


@pytest.mark.parametrize(
    ("column", "family"),
    [
        ("SatisfactionScore", "dissatisfaction"),
        ("nps_last", "dissatisfaction"),
        ("CSAT", "dissatisfaction"),
        ("survey_score_90d", "dissatisfaction"),
        ("RetentionCalls", "competition"),
        ("MadeCallToRetentionTeam", "competition"),
        ("port_out_requests", "competition"),
        ("CompetitorOfferMentioned", "competition"),
        ("CreditScore", "value_fixed"),  # a score, but not the customer's voice
        ("CustomerCareCalls", "complaints"),
    ],
)
def test_the_voice_of_the_customer_and_competitor_signals_have_their_families(column, family):
    assert driver_family_of(column) == family
    if family in ("dissatisfaction", "competition"):
        assert family in ACTIONABLE_FAMILIES
