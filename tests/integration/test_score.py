"""`churn score` end to end on a small world: outputs, idempotency, crash recovery, drift gate."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from churn.cli import compose_config
from churn.scoring.publish import CSV_COLUMNS
from tests.conftest import churn

pytestmark = pytest.mark.slow
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def trained(small_trained_world):
    """The shared small world with its churn and cross-sell champions; each test scores into its
    own folder with its own copy of the warehouse."""
    return Path(small_trained_world["data"]), small_trained_world["uri"]


def score_args(trained, scores: Path, *overrides: str) -> list[str]:
    data, uri = trained
    return [
        "score",
        f"paths.data_dir={data}",
        f"paths.scores_dir={scores}",
        f"mlflow.tracking_uri={uri}",
        f"warehouse.path={scores}/warehouse.duckdb",  # a private copy per test, see below
        "score.capacity=40",
        *overrides,
    ]


def private_warehouse(trained, scores: Path) -> None:
    scores.mkdir(parents=True, exist_ok=True)
    shutil.copy(trained[0] / "warehouse.duckdb", scores / "warehouse.duckdb")


def run_score(trained, scores: Path, *overrides: str):
    if not (scores / "warehouse.duckdb").exists():
        private_warehouse(trained, scores)
    return churn(*score_args(trained, scores, *overrides))


def read_partition(scores: Path) -> pd.DataFrame:
    (partition,) = scores.glob("as_of=*")
    parts = sorted(partition.glob("part-*.parquet"))
    frame = pd.concat(pq.ParquetFile(part).read().to_pandas() for part in parts)
    return frame.sort_values("customer_id").reset_index(drop=True)


def test_scores_carry_risk_value_reasons_lineage_and_a_call_list(trained, tmp_path):
    out = run_score(trained, tmp_path, "score.chunk_rows=400")
    assert out.returncode == 0, out.stderr
    partition = tmp_path / "as_of=2025-07-01"
    names = {p.name for p in partition.iterdir()}
    assert {"call_list.csv", "drift.json", "scores.csv"} <= names
    assert len([n for n in names if n.startswith("part-")]) >= 2  # streamed in chunks
    scores = read_partition(tmp_path)
    assert scores["customer_id"].is_unique and len(scores) > 500
    assert scores["churn_probability"].between(0, 1).all()
    assert set(scores["risk_band"]) <= {"low", "medium", "high"}
    assert set(scores["value_tier"]) <= {"Platinum", "Gold", "Iron", "Lead"}
    # the loss if a customer leaves is their CLV: margin over the horizon while they would stay
    assert (
        scores["expected_loss"] - scores["churn_probability"] * scores["clv"]
    ).abs().max() < 1e-9
    # CLV is 30% margin x the months a customer stays x one level: the riskier, the less of it
    paying = scores[scores["value"] > 0].sort_values("churn_probability")
    share = paying["clv"] / (0.3 * paying["value"])
    assert (share > 0).all() and (share.diff().dropna() <= 1e-9).all()
    assert (scores["net_value"] <= scores["clv"] + 1e-9).all()
    assert set(scores["value_segment"]) <= {
        "high_performance",
        "high_potential",
        "below_zero",
        "core",
    }
    growth = scores[["cross_sell_propensity", "upsell_propensity"]].max(axis=1)
    developing = (growth >= 0.15) & ~scores["value_tier"].isin(["Platinum", "Gold"])
    expected = developing & (scores["net_value"] >= 0)
    assert (scores.loc[expected, "value_segment"] == "high_potential").all()
    assert (
        scores.loc[scores["value_tier"] == "Platinum", "value_segment"]
        .isin(["high_performance", "below_zero"])
        .all()
    )
    # every customer at high risk has a reason; none is listed under score.min_reason_points
    assert scores.loc[scores["risk_band"] == "high", "reason_1"].notna().mean() > 0.9
    assert scores["reason_1"].dropna().str.contains(r"pts risk\)$").all()
    points = scores["reason_1"].dropna().str.extract(r"\(\+([\d.]+) pts risk\)$")[0]
    assert (points.astype(float) >= 0.5).all()
    assert scores["model_name"].eq("churn-churn").all() and scores["run_id"].nunique() == 1
    # a cross-sell champion is registered, an upsell one is not: its column exists, empty
    assert scores["cross_sell_propensity"].between(0, 1).all()
    assert scores["cross_sell_propensity"].nunique() > 1
    assert scores["upsell_propensity"].isna().all()

    calls = scores[scores["treatment_group"] == "call"]
    control = scores[scores["treatment_group"] == "control"]
    assert len(calls) == 40
    assert not control.empty and not scores.loc[control.index, "holdout"].eq(False).any()
    # the control group is drawn from the customers ranked among those called
    assert control["expected_net_value"].min() >= calls["expected_net_value"].min()
    call_list = pd.read_csv(partition / "call_list.csv")
    assert list(call_list["rank"]) == list(range(1, 41))
    assert set(call_list["customer_id"]) == set(calls["customer_id"])
    assert not set(call_list["customer_id"]) & set(control["customer_id"])
    assert call_list["expected_net_value"].is_monotonic_decreasing

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    assert con.execute("select count(*) from scores").fetchone()[0] == len(scores)


def test_csv_columns_are_exactly_the_documented_ones(trained, tmp_path):
    assert run_score(trained, tmp_path, "score.with_reasons=false").returncode == 0
    with open(tmp_path / "as_of=2025-07-01" / "scores.csv", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == CSV_COLUMNS
    documented = README.read_text().split("<!-- scores.csv columns -->")[1].split("\n## ")[0]
    assert re.findall(r"^\| `(\w+)` \|", documented, flags=re.M) == CSV_COLUMNS
    # the week re-scored with reasons lands in the same table: empty columns kept their types
    assert run_score(trained, tmp_path).returncode == 0
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    families = con.execute("select count(reason_1_family) from scores").fetchone()[0]
    assert families > 0


def test_rerunning_the_same_week_replaces_it_without_duplicates(trained, tmp_path):
    assert run_score(trained, tmp_path).returncode == 0
    first = read_partition(tmp_path)
    assert run_score(trained, tmp_path, "score.chunk_rows=333").returncode == 0
    again = read_partition(tmp_path)
    pd.testing.assert_frame_equal(first, again)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    rows, distinct = con.execute(
        "select count(*), count(distinct customer_id) from scores where as_of = '2025-07-01'"
    ).fetchone()
    assert rows == distinct == len(first)
    assert not list(tmp_path.glob(".as_of=*"))  # no staging left behind


def test_a_killed_run_leaves_nothing_visible_and_a_rerun_matches_a_clean_one(trained, tmp_path):
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    assert run_score(trained, clean).returncode == 0
    private_warehouse(trained, crashed)
    args = score_args(trained, crashed, "score.chunk_rows=25")
    job = subprocess.Popen(
        [sys.executable, "-m", "churn.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 300
    while time.time() < deadline and job.poll() is None:
        staged = list(crashed.glob(".as_of=*/part-*.parquet"))
        if len(staged) >= 10:  # about a quarter of the chunks are written
            os.killpg(job.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    assert job.wait() == -signal.SIGKILL, "the job finished before it could be killed"
    assert not (crashed / "as_of=2025-07-01").exists()  # nothing half-written is visible
    con = duckdb.connect(str(crashed / "warehouse.duckdb"), read_only=True)
    assert "scores" not in {r[0] for r in con.execute("show tables").fetchall()}
    con.close()
    assert run_score(trained, crashed, "score.chunk_rows=25").returncode == 0
    pd.testing.assert_frame_equal(read_partition(clean), read_partition(crashed))
    assert not list(crashed.glob(".as_of=*"))


def test_a_second_week_alerts_on_risk_jumps_bands_up_and_critical_points(trained, tmp_path):
    """Week over week against the previous partition: alerts.csv, the warehouse `alerts` slice,
    and a re-run of the week replaces its alerts rather than adding to them."""
    rules = ("contact.cooldown_days=45", "alerts.max_per_week=null")
    assert run_score(trained, tmp_path, "score.as_of=2025-05-01", *rules).returncode == 0
    for _ in range(2):
        out = run_score(trained, tmp_path, "score.as_of=2025-06-01", *rules)
        assert out.returncode == 0, out.stderr
    week = tmp_path / "as_of=2025-06-01"
    alerts = pd.read_csv(week / "alerts.csv")
    assert set(alerts["alert"]) == {"risk_jump", "band_up", "critical_point"}
    # alerts.csv holds what is new this week; what was already shown a week ago is ongoing
    tracked = pd.read_parquet(week / "alerts.parquet")
    before = pd.read_parquet(tmp_path / "as_of=2025-05-01" / "alerts.parquet")
    assert (alerts["status"] == "new").all() and len(alerts) == (tracked["status"] == "new").sum()
    ongoing = tracked[tracked["status"] == "ongoing"]
    assert len(ongoing) > 0 and (ongoing["first_seen"] == dt.date(2025, 5, 1)).all()
    assert (ongoing["weeks_open"] == 4).all()
    shown = before.set_index(["customer_id", "alert", "name"]).index
    assert ongoing.set_index(["customer_id", "alert", "name"]).index.isin(shown).all()
    # the customers called a month ago are still in their cooldown: nobody is called twice
    called = set(pd.read_csv(tmp_path / "as_of=2025-05-01" / "call_list.csv")["customer_id"])
    again = set(pd.read_csv(week / "call_list.csv")["customer_id"])
    assert called and not called & again
    plan = json.loads((week / "summary.json").read_text())["call_list"]
    assert plan["kept_out"]["cooldown"] >= len(called) - 5  # a few may have left the base
    jumps = alerts[alerts["alert"] == "risk_jump"]
    assert (jumps["risk_change_pts"] >= 10).all()
    assert jumps["sentence"].str.match(r"^risk \+\d+ pts since 2025-05-01").all()
    assert alerts["next_action"].notna().all() and (alerts["max_compensation"] >= 0).all()
    scores = pd.concat(pd.read_parquet(p) for p in sorted(week.glob("part-*.parquet")))
    scores = scores.set_index("customer_id")
    assert (scores.loc[jumps["customer_id"], "churn_probability"] >= 0.10).all()
    summary = (week / "summary.json").read_text()
    assert '"compared_with": "2025-05-01"' in summary
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    counts = dict(con.execute("select as_of::varchar, count(*) from alerts group by 1").fetchall())
    assert counts["2025-06-01"] == len(tracked)  # the re-run replaced the week's slice


def test_drift_gate_writes_the_report_and_publishes_nothing(trained, tmp_path):
    out = run_score(
        trained,
        tmp_path,
        "score.as_of=2025-06-15",
        "score.psi_threshold=0.0001",
        "score.fail_on_drift=true",
    )
    assert out.returncode == 2
    assert "not published" in out.stderr
    assert (tmp_path / "drift" / "as_of=2025-06-15.json").exists()
    assert not (tmp_path / "as_of=2025-06-15").exists()


def test_features_other_than_the_models_are_refused(trained, tmp_path):
    out = run_score(trained, tmp_path, "features.windows=[30,90]")
    assert out.returncode == 2
    assert "not the ones" in out.stderr and "churn-churn v1" in out.stderr
    assert not list(tmp_path.glob("as_of=*"))


@pytest.mark.spark
def test_spark_engine_gives_the_same_scores_as_duckdb(trained, tmp_path):
    """Features on Spark (Ibis pyspark), probabilities from spark_udf, the rest in mapInPandas."""
    from churn.scoring.job import score_base
    from churn.validate import load_warehouse, resolve_load_date
    from churn.warehouse import connection

    data, uri = trained
    assert run_score(trained, tmp_path / "duck").returncode == 0
    plain = compose_config(
        "score",
        f"paths.data_dir={data}",
        f"paths.scores_dir={tmp_path / 'spark'}",
        f"mlflow.tracking_uri={uri}",
        "warehouse.backend=pyspark",
        f"warehouse.spark_warehouse_dir={tmp_path / 'spark-warehouse'}",
        "score.engine=spark",
        "score.capacity=40",
    )
    with connection(plain["warehouse"]) as con:  # Spark's catalog lives as long as the session
        load_warehouse(con, plain["data"]["tables"], resolve_load_date(None), 0.01)
    summary = score_base(plain)
    assert summary["engine"] == "spark"
    duck, spark = read_partition(tmp_path / "duck"), read_partition(tmp_path / "spark")
    assert list(spark["customer_id"]) == list(duck["customer_id"])
    for column in ("churn_probability", "expected_loss", "expected_net_value", "reason_1_shap"):
        np.testing.assert_allclose(spark[column], duck[column], rtol=0, atol=1e-9, err_msg=column)
    for column in ("risk_band", "value_tier", "treatment_group", "reason_1", "reason_2"):
        assert (spark[column].astype(str) == duck[column].astype(str)).all(), column
    # the week's alerts (critical points here: no earlier week) are the same on both engines
    duck_alerts, spark_alerts = (
        pd.read_parquet(next((tmp_path / engine).glob("as_of=*")) / "alerts.parquet")
        for engine in ("duck", "spark")
    )
    assert len(duck_alerts) > 0 and set(duck_alerts["alert"]) == {"critical_point"}
    pd.testing.assert_frame_equal(spark_alerts, duck_alerts, check_exact=False, atol=1e-9)


def test_the_report_and_the_weekly_job_score_a_date_alike(trained, tmp_path):
    """One way to score the base: at the features' latest cutoff, the report's risk, band, tier,
    loss and reasons are the weekly job's, customer by customer."""
    from churn.registry.models import load_registered
    from churn.scoring.latest import score_latest

    data, uri = trained
    out = run_score(trained, tmp_path, "score.as_of=2025-06-01")
    assert out.returncode == 0, out.stderr
    job = read_partition(tmp_path).set_index("customer_id")
    cfg = compose_config("report", f"paths.data_dir={data}")
    champion = load_registered("models:/churn-churn@champion", uri)
    report = score_latest(champion.model, data, cfg["risk"], lineage=champion, value=cfg["value"])
    frame = report.frame.set_index("customer_id")
    assert report.cutoff == "2025-06-01" and sorted(frame.index) == sorted(job.index)
    job = job.loc[frame.index]
    assert np.allclose(frame["probability"], job["churn_probability"], rtol=0, atol=1e-12)
    for column in ("risk_band", "value_tier", "value_segment"):
        assert (frame[column] == job[column]).all(), column
    for column in ("expected_loss", "clv", "net_value"):
        assert np.allclose(frame[column], job[column], rtol=0, atol=1e-9), column
    reasons = report.reasons.set_index(report.frame["customer_id"]).loc[frame.index]
    assert (reasons["reason_1"].fillna("") == job["reason_1"].fillna("")).all()
