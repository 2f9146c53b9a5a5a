"""The model registry as the later stages read it: which experiment a run lands in, what a logged
model needs to load, a registered model by alias or version (loaded only through
churn.registry.trust), and the plots and documents its run logged.

The tracking URI comes from config: MLFLOW_TRACKING_URI when set, else `paths.mlflow_uri`
(`sqlite:///mlflow.db`). Models are saved with skops and an explicit list of trusted types, never
as a blind pickle.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from churn.errors import ChurnError
from churn.registry.trust import load_trusted

log = logging.getLogger(__name__)


def ensure_experiment(name: str, artifact_location: str) -> str:
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    return mlflow.create_experiment(
        name, artifact_location=Path(artifact_location).resolve().as_uri()
    )


# what a logged model needs to load, pinned to the installed versions. Given, not inferred: MLflow
# infers them by importing the model in a subprocess (9 s a model here) and picks up test tools.
MODEL_LIBRARIES = (
    "mlflow",
    "numpy",
    "pandas",
    "scipy",
    "sklearn",
    "skops",
    "xgboost",
    "lightgbm",
    "catboost",
)


def model_requirements(*modules: str) -> list[str]:
    """`dist==version` for the distributions that provide these importable modules."""
    provided = importlib.metadata.packages_distributions()
    pins = set()
    for module in modules:
        dists = provided.get(module, [])
        for dist in [d for d in dists if d == module] or dists:
            pins.add(f"{dist}=={importlib.metadata.version(dist)}")
    return sorted(pins)


def run_artifacts(run_id: str, names: Sequence[str]) -> dict[str, Any]:
    """Plots (as data URIs) and JSON documents logged with the training run; absent ones skipped."""
    import base64

    import mlflow

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            try:
                local = Path(
                    mlflow.artifacts.download_artifacts(
                        run_id=run_id, artifact_path=name, dst_path=tmp
                    )
                )
            except Exception as err:  # noqa: BLE001 - an old run may lack a plot; say so, go on
                log.warning("run %s has no artifact %s (%s)", run_id, name, type(err).__name__)
                continue
            if name.endswith(".json"):
                out[name] = json.loads(local.read_text())
            else:
                out[name] = "data:image/png;base64," + base64.b64encode(local.read_bytes()).decode()
    return out


@dataclass
class RegisteredModel:
    """A model from the registry with the lineage people need to trust its output."""

    model: Any
    name: str
    version: str
    run_id: str
    uri: str


def load_registered(uri: str, tracking_uri: str) -> RegisteredModel:
    """`models:/<name>@<alias>` or `models:/<name>/<version>`, with a clear error when absent."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    if not uri.startswith("models:/"):
        raise ChurnError(f"model uri {uri!r} must look like models:/<name>@<alias>")
    ref = uri.removeprefix("models:/")
    client = MlflowClient()
    try:
        if "@" in ref:
            name, alias = ref.split("@", 1)
            version = client.get_model_version_by_alias(name, alias)
        else:
            name, number = ref.rsplit("/", 1)
            version = client.get_model_version(name, number)
    except MlflowException as err:
        raise ChurnError(
            f"no registered model at {uri} in {tracking_uri}: train one first (make train)"
        ) from err
    model = load_trusted(f"models:/{name}/{version.version}")
    return RegisteredModel(model, name, str(version.version), version.run_id, uri)
