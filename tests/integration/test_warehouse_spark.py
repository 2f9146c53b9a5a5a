"""The same load and contracts on Spark (pyspark local[2]) as on DuckDB."""

from __future__ import annotations

import datetime as dt

import pytest

from churn.validate import load_warehouse
from churn.warehouse import connection

pytestmark = [pytest.mark.slow, pytest.mark.spark]

TABLES = ["customers", "subscriptions", "transactions", "complaints", "referrals"]


def sources(data_dir):
    return {t: {"path": str(data_dir / "raw" / f"{t}.parquet")} for t in TABLES}


def test_pyspark_backend_loads_the_same_rows_as_duckdb(tiny_world, tmp_path):
    pytest.importorskip("pyspark")
    load_date = dt.date(2024, 12, 31)
    with connection({"backend": "duckdb", "path": str(tmp_path / "w.duckdb")}) as con:
        duck = {
            r.table: r.rows_loaded
            for r in load_warehouse(con, sources(tiny_world), load_date, 0.01)
        }
        duck_fee = con.table("subscriptions").monthly_fee.sum().execute()
    spark_cfg = {
        "backend": "pyspark",
        "spark_master": "local[2]",
        "spark_warehouse_dir": str(tmp_path / "spark-warehouse"),
    }
    with connection(spark_cfg) as con:
        spark = {
            r.table: r.rows_loaded
            for r in load_warehouse(con, sources(tiny_world), load_date, 0.01)
        }
        spark_fee = con.table("subscriptions").monthly_fee.sum().execute()
        assert "rejects_transactions" in con.list_tables()
    assert spark == duck
    assert spark_fee == pytest.approx(duck_fee, rel=1e-12)


def test_purchase_log_with_date_layout_and_derived_customers_loads_the_same(tmp_path):
    """A whitespace text log, dates as YYYYMMDD (one impossible), customers from first purchase."""
    pytest.importorskip("pyspark")
    from tests.unit.test_validate import whitespace_log

    load_date = dt.date(1998, 6, 30)
    tables = whitespace_log(tmp_path)
    loaded = {}
    for name, cfg in {
        "duckdb": {"backend": "duckdb", "path": str(tmp_path / "w.duckdb")},
        "pyspark": {
            "backend": "pyspark",
            "spark_master": "local[2]",
            "spark_warehouse_dir": str(tmp_path / "spark-warehouse"),
        },
    }.items():
        with connection(cfg) as con:
            results = {r.table: r for r in load_warehouse(con, tables, load_date, 1.0)}
            people = con.table("customers").order_by("customer_id").execute()
            loaded[name] = (
                {t: (r.rows_loaded, r.rejects_by_reason) for t, r in results.items()},
                people["customer_id"].tolist(),
                [str(d)[:10] for d in people["signup_date"]],
                con.table("transactions").ts.max().execute(),
            )
    assert loaded["pyspark"] == loaded["duckdb"]
    assert loaded["duckdb"][0]["transactions"] == (
        4,
        {"ts is not a valid timestamp in the layout %Y%m%d": 1},
    )
