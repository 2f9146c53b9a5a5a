"""`churn train` end to end on a small simulated world: MLflow run, registry, champion rule."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from churn.errors import ChurnError
from churn.training.pipeline import model_inputs
from churn.training.train import train
from tests.conftest import train_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(small_trained_world):
    """The shared small world's features (1,500 customers, 18 monthly cutoffs); every test here
    trains into a registry of its own."""
    return Path(small_trained_world["data"])


def config(data, tmp_path, *overrides):
    return train_config(data, tmp_path, "model.estimator.n_estimators=60", *overrides)


def new_rows(data) -> pd.DataFrame:
    frame = pd.read_parquet(data / "features" / "cutoff=2025-06-01" / "part-0.parquet").head(20)
    meta = json.loads((data / "features" / "catalog.json").read_text())
    return model_inputs(frame, meta["features"])


def test_train_tracks_registers_and_keeps_the_better_champion(world, tmp_path):
    metrics, objects = train(config(world, tmp_path))
    for key in (
        "roc_auc_mean",
        "roc_auc_std",
        "pr_auc_mean",
        "brier_mean",
        "ece_mean",
        "lift_10_mean",
        "best_profit_fraction",
        "oracle_roc_auc",
        "oracle_auc_fraction",
    ):
        assert np.isfinite(metrics[key]), key
    assert 0.6 < metrics["roc_auc_mean"] <= 1.0

    client = MlflowClient()
    run = client.get_run(objects["run_id"])
    assert run.data.tags["data"] == "synthetic" and run.data.tags["target"] == "churn"
    assert "git_commit" in run.data.tags and "roc_auc_mean" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(objects["run_id"])}
    assert {"config.json", "feature_catalog.json", "reference.json", "plots"} <= artifacts
    plots = {a.path for a in client.list_artifacts(objects["run_id"], "plots")}
    assert {
        "plots/roc.png",
        "plots/pr.png",
        "plots/calibration.png",
        "plots/gains.png",
        "plots/profit.png",
    } == plots
    children = client.search_runs(
        [run.info.experiment_id], f"tags.mlflow.parentRunId = '{objects['run_id']}'"
    )
    assert len(children) == 3

    model = mlflow.pyfunc.load_model("models:/churn-churn@champion")
    proba = np.asarray(model.predict(new_rows(world)))
    assert proba.shape == (20, 2) and np.allclose(proba.sum(axis=1), 1)
    exported = mlflow.pyfunc.load_model(str(tmp_path / "models" / "churn-churn"))
    assert np.allclose(np.asarray(exported.predict(new_rows(world))), proba)

    # the same configuration on the same data ties: the champion keeps the alias
    _, same = train(config(world, tmp_path))
    assert "ties champion v1" in same["registry_message"], same["registry_message"]

    # a much weaker challenger is registered but does not take the champion alias
    _, weak = train(
        config(world, tmp_path, "model.estimator.n_estimators=1", "model.estimator.max_depth=1")
    )
    champion = client.get_model_version_by_alias("churn-churn", "champion")
    challenger = client.get_model_version_by_alias("churn-churn", "challenger")
    assert (str(champion.version), str(challenger.version)) == ("1", "3")
    assert "does not beat champion v1" in weak["registry_message"]
    decision = client.get_run(weak["run_id"]).data
    assert decision.metrics["champion_roc_auc"] > decision.metrics["challenger_roc_auc"]
    assert decision.tags["champion_compared_on"] == "the challenger's folds"


def test_propensity_targets_get_their_own_models(world, tmp_path):
    _, objects = train(config(world, tmp_path, "target=cross_sell"))
    assert objects["model_name"] == "churn-cross_sell"
    assert MlflowClient().get_model_version_by_alias("churn-cross_sell", "champion")


def test_bad_training_inputs_say_what_to_change(world, tmp_path):
    with pytest.raises(ChurnError, match="too few labelled cutoffs"):
        train(config(world, tmp_path, "split.n_folds=20"))
    with pytest.raises(ChurnError, match="run `churn features`"):
        train(config(tmp_path / "nowhere", tmp_path))
    with pytest.raises(ChurnError, match="one class only"):
        train(config(broken_copy(world, tmp_path / "a", churn=0), tmp_path))
    with pytest.raises(ChurnError, match="monthly_fee are null in every snapshot"):
        train(config(broken_copy(world, tmp_path / "b", monthly_fee=np.nan), tmp_path))


def broken_copy(world, where, **columns):
    shutil.copytree(world / "features", where / "features")
    for part in (where / "features").glob("cutoff=*/part-0.parquet"):
        pd.read_parquet(part).assign(**columns).to_parquet(part)
    return where


def test_optuna_search_logs_each_trial_as_a_child_run(world, tmp_path):
    metrics, objects = train(
        config(world, tmp_path, "hparams_search=optuna", "hparams_search.n_trials=2")
    )
    assert len(objects["trials"]) == 2
    best = max(objects["trials"], key=lambda t: t["metrics"]["roc_auc_mean"])
    assert objects["config"]["model"]["estimator"]["max_depth"] == best["params"]["max_depth"]
    client = MlflowClient()
    run = client.get_run(objects["run_id"])
    trials = client.search_runs(
        [run.info.experiment_id],
        f"tags.mlflow.parentRunId = '{objects['run_id']}' and tags.kind = 'search_trial'",
    )
    assert len(trials) == 2


def test_same_seed_and_data_give_identical_metrics(world, tmp_path):
    first, _ = train(config(world, tmp_path / "a"))
    second, _ = train(config(world, tmp_path / "b"))
    assert first == second
