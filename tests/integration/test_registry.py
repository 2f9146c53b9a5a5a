"""A training killed at any point: runs and the exported champion are put right next time."""

from __future__ import annotations

import subprocess
import sys

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LogisticRegression

from churn.registry.repair import export_version, fail_dead_runs, repair_export


@pytest.fixture
def registry(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    experiment = mlflow.create_experiment("t", artifact_location=(tmp_path / "mlruns").as_uri())
    yield MlflowClient(uri), experiment
    mlflow.set_tracking_uri(None)


def register(name: str, experiment: str) -> str:
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    with mlflow.start_run(experiment_id=experiment):
        info = mlflow.sklearn.log_model(
            LogisticRegression().fit(X, [0, 0, 1, 1]),
            name="model",
            serialization_format="skops",
            registered_model_name=name,
        )
    return str(info.registered_model_version)


def test_a_run_left_running_by_a_dead_process_is_marked_failed(registry):
    client, experiment = registry
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    gone = client.create_run(
        experiment, tags={"churn.pid": dead.stdout.strip(), "churn.started": "1.0"}
    )
    other = client.create_run(experiment)  # not ours: left alone
    fail_dead_runs(client, experiment)
    assert client.get_run(gone.info.run_id).info.status == "FAILED"
    assert client.get_run(other.info.run_id).info.status == "RUNNING"


def test_an_export_left_behind_the_champion_alias_is_repaired(registry, tmp_path):
    client, experiment = registry
    first, second = register("m-churn", experiment), register("m-churn", experiment)
    models = tmp_path / "models"
    export_version("m-churn", first, models)
    client.set_registered_model_alias("m-churn", "champion", second)  # killed before re-export
    repair_export(client, "m-churn", models)
    assert (models / "m-churn" / "registered_version.txt").read_text().strip() == second
    assert (models / "m-churn" / "MLmodel").exists()
    assert not list(models.glob(".m-churn.*"))  # no staging left beside it
