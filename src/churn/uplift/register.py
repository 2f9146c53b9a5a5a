"""Log and register a response model; it becomes the champion when its Qini beats the current
champion's (`qini_uplift` in the run's metrics)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from churn.registry.models import MODEL_LIBRARIES, ensure_experiment, model_requirements
from churn.registry.repair import export_version
from churn.registry.trust import check_trusted
from churn.training.pipeline import model_inputs

MODEL = "retention_uplift"


@contextmanager
def uplift_run(cfg: Mapping) -> Iterator:
    """An MLflow run in `<data name>-retention_uplift`, with tracking and registry set."""
    mlcfg = cfg["mlflow"]
    mlflow.set_tracking_uri(mlcfg["tracking_uri"])
    mlflow.set_registry_uri(mlcfg["tracking_uri"])
    experiment = ensure_experiment(f"{cfg['data']['name']}-{MODEL}", mlcfg["artifact_location"])
    with mlflow.start_run(experiment_id=experiment, run_name=MODEL) as run:
        yield run


def register(cfg: Mapping, model, rows: pd.DataFrame, features, metrics: Mapping) -> dict:
    """Log and register the refitted model; promote it over a champion with a lower Qini."""
    name = f"{cfg['mlflow']['model_prefix']}-{MODEL}"
    example = model_inputs(rows.head(5), features)
    info = mlflow.sklearn.log_model(
        model,
        name="model",
        serialization_format="skops",
        skops_trusted_types=check_trusted(model),
        signature=infer_signature(example, model.predict(example)),
        input_example=example,
        pyfunc_predict_fn="predict",
        pip_requirements=model_requirements(*MODEL_LIBRARIES, "econml"),
        registered_model_name=name,
    )
    client, version = MlflowClient(), str(info.registered_model_version)
    try:
        current = client.get_model_version_by_alias(name, "champion")
        best = client.get_run(current.run_id).data.metrics.get("qini_uplift", -np.inf)
    except mlflow.exceptions.MlflowException:
        best = -np.inf
    promote = metrics["qini_uplift"] > best
    if promote:
        export_version(name, version, Path(cfg["paths"]["models_dir"]))
        client.set_registered_model_alias(name, "champion", version)
    return {"model_name": name, "model_version": version, "champion": promote}
