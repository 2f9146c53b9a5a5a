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
