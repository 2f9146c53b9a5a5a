"""One definition, two engines: the full feature and label table on DuckDB and on Spark agree."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pytest

from churn.warehouse import connect
from tests.conftest import load_frames, snapshot_frame

pytestmark = [pytest.mark.slow, pytest.mark.spark]

TABLES = [
    "customers",
    "subscriptions",
    "transactions",
    "interactions",
    "complaints",
    "campaigns",
    "loyalty_members",
    "loyalty_points",
    "referrals",
]
CUTOFFS = [dt.date(2024, 3, 1), dt.date(2024, 9, 1)]
DATA_END = dt.date(2024, 12, 31)


def frames(tiny_world):
    data = {t: pd.read_parquet(tiny_world / "raw" / f"{t}.parquet") for t in TABLES}
    data["surveys"] = surveys_for(data["customers"]["customer_id"].to_numpy())
    subs = data["subscriptions"]  # a 12-month term on every other contract (contract_days_left)
    term = pd.to_datetime(subs["start_date"]) + pd.DateOffset(months=12)
    subs["commitment_end"] = term.dt.date.where(subs["subscription_id"] % 2 == 0, None)
    return data


def surveys_for(customers: np.ndarray, seed: int = 3) -> pd.DataFrame:
    """Seeded surveys for the simulated customers (the demo world has none yet), so that the
    satisfaction family is built on both engines: NPS and CSAT, some never answered, each at a
    distinct second so that 'the latest answer' is one row."""
    rng = np.random.default_rng(seed)
    n = 3 * len(customers)
    scale = rng.choice(["nps", "csat"], n)
    score = np.where(scale == "nps", rng.integers(0, 11, n), rng.integers(1, 6, n)).astype(float)
    score[rng.random(n) < 0.2] = np.nan
    start = pd.Timestamp("2023-01-01")
    return pd.DataFrame(
        {
            "customer_id": rng.choice(customers, n),
            "ts": (start + pd.to_timedelta(rng.permutation(n) * 3 * 3600 + 17, unit="s")).astype(
                "datetime64[us]"
            ),
            "type": rng.choice(["relationship", "after_complaint", "after_purchase"], n),
            "scale": scale,
            "score": score,
        }
    )


def assert_same(duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    assert list(duck.index) == list(spark.index)
    assert list(duck.columns) == list(spark.columns)
    for col in duck.columns:
        a, b = duck[col], spark[col]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            np.testing.assert_allclose(
                b.astype(float), a.astype(float), rtol=1e-9, atol=0, equal_nan=True, err_msg=col
            )
        else:
            assert (a.astype(str).to_numpy() == b.astype(str).to_numpy()).all(), col


@pytest.mark.parametrize("cutoff", CUTOFFS)
def test_duckdb_and_spark_build_the_same_table(tiny_world, tmp_path, cutoff):
    data = frames(tiny_world)
    duck = ibis.duckdb.connect()
    load_frames(duck, data, tmp_path / "duck", DATA_END)
    spark = connect(
        {
            "backend": "pyspark",
            "spark_master": "local[2]",
            "spark_warehouse_dir": str(tmp_path / "spark-warehouse"),
        }
    )
    load_frames(spark, data, tmp_path / "spark", DATA_END)
    expected = snapshot_frame(duck, cutoff, DATA_END)
    got = snapshot_frame(spark, cutoff, DATA_END)
    assert len(expected) > 100 and expected.churn.notna().all()
    assert expected["satisfaction_latest"].notna().sum() > 50
    assert expected["contract_days_left"].notna().sum() > 50
    assert_same(expected, got)
