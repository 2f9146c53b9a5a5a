"""Which column is what a customer is worth, on hand-made customer tables: money by name and by
values, a band, a duration, the parts of one bill summed, a column named for the value, none."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn.columns import VALUE_COLUMN
from churn.errors import ConfigError
from churn.snapshot import check_mapping, clean
from churn.snapshot.infer import infer_spec

N = 60


def customers(seed: int = 0, **columns) -> pd.DataFrame:
    """An id, a churn flag and a plain feature, as the text a CSV reader gives; then `columns`."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "CustomerID": [f"C{i:03d}" for i in range(N)],
            "Tenure": rng.integers(1, 72, N).astype(str),
            "Churn": np.where(rng.random(N) < 0.3, "Yes", "No"),
        }
    )
    for name, values in columns.items():
        frame[name] = [str(v) for v in values]
    return frame


def money(seed: int, low: float = 10, high: float = 120) -> np.ndarray:
    return np.round(np.random.default_rng(seed).uniform(low, high, N), 2)


def infer(frame: pd.DataFrame, **declared) -> tuple[dict | None, list[str]]:
    spec, lines = infer_spec(frame, {"path": "t.csv", "label": {"column": "Churn"}, **declared})
    return spec["value"], [line for line in lines if line.startswith("value")]


def test_a_charge_band_is_refused_and_a_column_named_for_the_customers_value_is_taken():
    band = np.random.default_rng(1).integers(0, 10, N)  # a 0-9 charge band, not money
    value, lines = infer(customers(**{"Charge Amount": band, "Customer Value": money(2, 0, 2000)}))
    assert value == {"column": "Customer Value", "multiplier": 1.0}
    assert any("Charge Amount refused (a band of" in line for line in lines)


def test_hours_on_the_app_are_a_duration_not_money():
    hours = np.round(np.random.default_rng(3).uniform(0, 5, N), 1)
    value, lines = infer(customers(HourSpendOnApp=hours))
    assert value is None
    assert any("HourSpendOnApp refused (a duration or a count (hour))" in line for line in lines)
    assert any("value is unknown" in line for line in lines)


def test_the_charges_that_make_up_one_bill_are_summed():
    parts = {
        f"Total {p} charge": money(i, 1, 40) for i, p in enumerate(["day", "eve", "night", "intl"])
    }
    minutes = {f"Total {p} minutes": money(9 + i, 50, 300) for i, p in enumerate(["day", "eve"])}
    frame = customers(**parts, **minutes)
    value, lines = infer(frame)
    assert value == {"columns": list(parts), "multiplier": 1.0}
    assert any("the parts of one bill, summed" in line for line in lines)
    spec, _ = infer_spec(frame, {"path": "t.csv", "label": {"column": "Churn"}})
    rows, _, _, _ = clean(frame, spec)
    expected = sum(frame[c].astype(float) for c in parts)
    np.testing.assert_allclose(rows[VALUE_COLUMN], expected)


def test_a_monthly_amount_wins_over_a_running_total_and_is_annualised():
    monthly = money(4, 20, 110)
    value, lines = infer(customers(MonthlyCharges=monthly, TotalCharges=monthly * 30))
    assert value == {"column": "MonthlyCharges", "multiplier": 12.0}
    assert any("TotalCharges not taken" in line for line in lines)


def test_no_money_column_leaves_value_unknown():
    value, lines = infer(customers(Balance=money(5, 0, 90_000), NumOfProducts=np.ones(N, int)))
    assert value is None and lines[-1].startswith("value: no column reads and looks like money")


def test_a_declared_bill_in_parts_is_summed_and_a_missing_part_is_named():
    frame = customers(day_fee=money(6), night_fee=money(7))
    value, _ = infer(frame, value={"columns": ["day_fee", "night_fee"], "multiplier": 12})
    assert value == {"columns": ["day_fee", "night_fee"], "multiplier": 12}
    with pytest.raises(ConfigError, match="'eve_fee' .data.snapshot.value.columns.eve_fee."):
        check_mapping(
            frame,
            {"path": "t.csv", "label": {"column": "Churn"}, "value": {"columns": ["eve_fee"]}},
        )


def test_numbers_in_everyday_formats_are_numbers_and_money_is_still_found():
    rng = np.random.default_rng(8)
    total = rng.uniform(100, 9000, N).round(1)
    frame = customers(
        TotalCharges=[f"{v:,.1f}" for v in total],  # 1,889.5
        MonthlyCharges=[f"${v:.2f}" for v in money(9, 20, 110)],  # $29.85
        Discount=[f"{v}%" for v in rng.integers(0, 40, N)],  # 12%
    )
    spec, lines = infer_spec(frame, {"path": "t.csv", "label": {"column": "Churn"}})
    kinds = {n: spec["features"][n]["kind"] for n in ("TotalCharges", "MonthlyCharges", "Discount")}
    assert kinds == {"TotalCharges": "numeric", "MonthlyCharges": "numeric", "Discount": "numeric"}
    assert spec["value"] == {"column": "MonthlyCharges", "multiplier": 12.0}
    assert (spec["decimal"], spec["thousands"]) == (".", ",")
    assert any(line.startswith("numbers: '.' is the decimal mark") for line in lines)
    rows, rejects, _, _ = clean(frame, spec)
    assert rejects.empty
    np.testing.assert_allclose(rows["TotalCharges"], total)
    assert rows["Discount"].max() < 40 and rows["Discount"].min() >= 0


def test_a_comma_decimal_export_is_read_as_such_and_the_choice_can_be_declared():
    values = money(10, 1000, 5000)
    written = [f"{v:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".") for v in values]
    frame = customers(Umsatz=written)  # 1.889,50
    spec, lines = infer_spec(frame, {"path": "t.csv", "label": {"column": "Churn"}})
    assert (spec["decimal"], spec["thousands"]) == (",", ".")
    rows, rejects, _, _ = clean(frame, spec)
    assert rejects.empty and np.allclose(rows["Umsatz"], values)
    declared = {"path": "t.csv", "label": {"column": "Churn"}, "decimal": ".", "thousands": ","}
    spec, lines = infer_spec(frame, declared)
    # declared the other way round, the same text is no number: the user's word wins
    assert (spec["features"].get("Umsatz") or {"kind": "dropped"})["kind"] != "numeric"
    assert "(declared)" in [line for line in lines if line.startswith("numbers")][0]


def test_unique_measurements_are_kept_and_a_row_number_is_not():
    rng = np.random.default_rng(11)
    frame = customers(Balance=rng.permutation(N) * 37 + 1000, RowNumber=np.arange(1, N + 1))
    spec, _ = infer_spec(frame, {"path": "t.csv", "label": {"column": "Churn"}})
    assert "Balance" in spec["features"] and "RowNumber" in spec["excluded"]


def test_a_date_column_becomes_days_before_the_tables_date():
    rng = np.random.default_rng(12)
    days = rng.integers(10, 2000, N)
    signup = [
        (pd.Timestamp("2024-06-30") - pd.Timedelta(days=int(d))).date().isoformat() for d in days
    ]
    signup[5] = "2024-13-45"  # no such date: a reject, quoted
    frame = customers(SignupDate=signup)
    spec, lines = infer_spec(frame, {"path": "t.csv", "label": {"column": "Churn"}})
    feature = spec["features"]["SignupDate"]
    assert feature["kind"] == "numeric" and feature["date"] and "SignupDate" not in spec["excluded"]
    spec["as_of"] = "2024-06-30"
    rows, rejects, _, _ = clean(frame, spec)
    assert rejects["reject_reason"].tolist() == ["SignupDate is not a date: '2024-13-45'"]
    kept = np.delete(days, 5).astype(float)
    np.testing.assert_allclose(rows["SignupDate"], kept)
