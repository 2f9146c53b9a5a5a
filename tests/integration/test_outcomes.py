"""`churn outcomes` on the closed loop: the product scores a list, the simulated world calls it
(with the planted effects), and the outcomes recover what the calls did. Only closed label
windows are read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from mlflow.tracking import MlflowClient

from churn.simulate.app import write_demo_world
from churn.simulate.options import RetentionProgram
from tests.conftest import churn

pytestmark = pytest.mark.slow
AS_OF = "2025-05-01"


@pytest.fixture(scope="module")
def called_world(small_trained_world, tmp_path_factory) -> dict:
    """The small trained world scored at AS_OF, then re-simulated with that list called in its
    month (same seed: everything before AS_OF is the world the model saw), and validated."""
    root = tmp_path_factory.mktemp("called_world")
    data = Path(small_trained_world["data"])
    scores = root / "scores"
    scores.mkdir()
    # a private copy of the tracking store: outcomes log to the model's run
    shutil.copy(Path(small_trained_world["root"]) / "mlflow.db", root / "mlflow.db")
    uri = f"sqlite:///{root}/mlflow.db"
    shutil.copy(data / "warehouse.duckdb", root / "scored.duckdb")
    out = churn(
        "score",
        f"paths.data_dir={data}",
        f"paths.scores_dir={scores}",
        f"mlflow.tracking_uri={uri}",
        f"warehouse.path={root}/scored.duckdb",
        f"score.as_of={AS_OF}",
        "score.capacity=400",
        "score.holdout_fraction=0.3",
        "score.with_reasons=false",
    )
    assert out.returncode == 0, out.stderr
    called = root / "data"
    program = RetentionProgram(call_lists=str(scores))
    _, truth = write_demo_world(
        called / "raw", 1500, "2023-01-01", "2025-06-30", 11, retention=program
    )
    assert churn("validate", f"paths.data_dir={called}").returncode == 0
    return {
        "data": called,
        "trained": data,
        "scores": scores,
        "uri": uri,
        "root": root,
        "truth": truth,
    }


def run_outcomes(world: dict, outcomes: Path, *overrides: str):
    return churn(
        "outcomes",
        f"paths.data_dir={world['data']}",
        f"paths.scores_dir={world['scores']}",
        f"paths.outcomes_dir={outcomes}",
        f"mlflow.tracking_uri={world['uri']}",
        *overrides,
    )


def test_outcomes_measure_the_called_list_against_its_control_group(called_world, tmp_path):
    out = run_outcomes(called_world, tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads((tmp_path / f"as_of={AS_OF}" / "outcomes.json").read_text())
    listed = pd.concat(
        pq.ParquetFile(p).read().to_pandas()
        for p in (called_world["scores"] / f"as_of={AS_OF}").glob("part-*")
    )
    arms = {a["treatment_group"]: a for a in result["arms"]}
    for arm in ("call", "control", "none"):
        assert arms[arm]["customers"] == (listed.treatment_group == arm).sum()
    # the truth: the world called exactly the list's call group, with the planted effects
    hz = pd.read_parquet(called_world["data"] / "raw" / "ground_truth_hazard.parquet")
    may = hz[hz.month_start == pd.Timestamp(AS_OF).date()]
    called = may[may.treatment_group == "call"]
    assert set(called.customer_id) == set(listed.customer_id[listed.treatment_group == "call"])
    planted = (called.churn_hazard_untreated - called.churn_hazard_called).mean()
    effect = result["effect"]
    low, high = effect["churn_reduction_ci"]
    assert effect["measured"] and low <= planted <= high
    assert effect["saved_customers"] == pytest.approx(
        effect["churn_reduction"] * arms["call"]["customers"]
    )
    assert [b["risk_band"] for b in result["calibration"]] == ["low", "medium", "high"]
    assert 0.5 < result["model"]["roc_auc"] <= 1.0
    assert result["model"]["backtest_roc_auc"] is not None
    with duckdb.connect(str(called_world["data"] / "warehouse.duckdb"), read_only=True) as con:
        table = con.sql("select treatment_group, customers from outcomes").df()
    assert sorted(table.treatment_group) == ["call", "control", "none"]
    run = MlflowClient(called_world["uri"]).get_run(result["model"]["run_id"])
    assert run.data.metrics["outcome_churn_reduction"] == pytest.approx(effect["churn_reduction"])


def test_outcomes_read_only_closed_windows_and_nothing_after_them(called_world, tmp_path):
    """A list whose window is still open is left for later; changing what happened after the
    measured window changes nothing."""
    world = dict(called_world)
    open_list = tmp_path / "scores-open"
    shutil.copytree(world["scores"], open_list)
    warehouse = tmp_path / "warehouse.duckdb"  # a private copy: this test rewrites June
    shutil.copy(world["data"] / "warehouse.duckdb", warehouse)
    shutil.copytree(open_list / f"as_of={AS_OF}", open_list / "as_of=2025-06-15")
    world["scores"] = open_list
    private = (f"warehouse.path={warehouse}", "outcomes.log_to_mlflow=false")
    before = run_outcomes(world, tmp_path / "a", *private)
    assert before.returncode == 0, before.stderr
    assert not (tmp_path / "a" / "as_of=2025-06-15").exists()
    assert "waits for its label window" in before.stderr + before.stdout
    # rewrite June: every subscription open after the window ends, ended on June 10th
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update subscriptions set end_date = date '2025-06-10' "
            "where end_date is null or end_date >= date '2025-06-01'"
        )
    after = run_outcomes(world, tmp_path / "b", *private)
    assert after.returncode == 0, after.stderr
    a, b = (
        json.loads((tmp_path / x / f"as_of={AS_OF}" / "outcomes.json").read_text())
        for x in ("a", "b")
    )
    assert a["arms"] == b["arms"] and a["effect"] == b["effect"]


def test_the_response_model_is_registered_and_drives_the_uplift_value_list(called_world, tmp_path):
    """churn uplift learns from the world's randomized calls, checks itself out of time and is
    registered; score.policy=uplift_value then calls only predicted-positive effects, explores
    5% of the capacity at random and keeps the holdout as control."""
    data = Path(called_world["trained"])  # the world the model saw, with its test history
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(data / "warehouse.duckdb", warehouse)
    tracked = [
        f"paths.data_dir={data}",
        f"warehouse.path={warehouse}",
        f"mlflow.tracking_uri={called_world['uri']}",
        f"paths.mlflow_artifacts={tmp_path}/mlruns",
        f"paths.models_dir={tmp_path}/models",
    ]
    out = churn("uplift", *tracked, "uplift.min_arm_rows=15", "uplift.test_cutoffs=4")
    assert out.returncode == 0, out.stderr
    client = MlflowClient(called_world["uri"], registry_uri=called_world["uri"])
    (version,) = client.search_model_versions("name='churn-retention_uplift'")
    champion = client.get_model_version_by_alias("churn-retention_uplift", "champion")
    assert champion.version == version.version  # the first one
    metrics = client.get_run(version.run_id).data.metrics
    assert {"qini_uplift", "qini_risk", "check_rows", "check_ate"} <= set(metrics)
    artifacts = [a.path for a in client.list_artifacts(version.run_id, "plots")]
    assert artifacts == ["plots/qini.png"]
    scores = tmp_path / "scores"
    out = churn(
        "score",
        f"paths.data_dir={data}",
        f"paths.scores_dir={scores}",
        f"warehouse.path={warehouse}",
        f"mlflow.tracking_uri={called_world['uri']}",
        "score.policy=uplift_value",
        "score.capacity=100",
        "score.explore_fraction=0.1",
        "score.with_reasons=false",
    )
    assert out.returncode == 0, out.stderr
    (folder,) = scores.glob("as_of=*")
    frame = pd.concat(pq.ParquetFile(p).read().to_pandas() for p in folder.glob("part-*"))
    assert (frame.policy == "uplift_value").all() and frame.uplift.notna().all()
    called = frame[frame.treatment_group == "call"]
    assert len(called) <= 100 and (called.uplift > 0).all()
    assert called.explore.sum() == 10 and not called.holdout.any()
    assert frame[frame.treatment_group == "control"].holdout.all()
    ranked = called[~called.explore]
    # the ranked calls are the best of those no contact rule keeps out (the world's own monthly
    # calls put some customers in their cooldown or at the yearly cap)
    worth = frame[~frame.holdout & ~frame.explore & (frame.uplift > 0) & frame.contact_rule.isna()]
    assert ranked.expected_net_value.min() >= worth.expected_net_value.nlargest(len(ranked)).min()
