"""MLflow: one parent run per training with a child run per fold, the model in the registry.

The tracking URI comes from config: MLFLOW_TRACKING_URI when set, else `paths.mlflow_uri`
(`sqlite:///mlflow.db`). Models are saved with skops and an explicit list of trusted types, never
as a blind pickle.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from churn.backtest import cross_validated
from churn.champion import decide
from churn.errors import ChurnError
from churn.plots import log_backtest_plots
from churn.reference import reference_distributions
from churn.registry import export_version, fail_dead_runs, repair_export
from churn.store import INFERRED_SPEC, this_process
from churn.trust import check_trusted, load_trusted

log = logging.getLogger(__name__)


def ensure_experiment(name: str, artifact_location: str) -> str:
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    return mlflow.create_experiment(
        name, artifact_location=Path(artifact_location).resolve().as_uri()
    )


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def flatten(config: Mapping, prefix: str = "") -> dict[str, str]:
    out = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = str(value)[:500]
    return out


def track_training(cfg: Mapping, metrics: Mapping[str, float], objects: Mapping[str, Any]) -> dict:
    """Log the parent run, the folds, the artifacts and the model; decide champion or challenger."""
    mlcfg, target = cfg["mlflow"], cfg["target"]["name"]
    # the config resolved MLFLOW_TRACKING_URI at start-up; MLflow itself rewrites that variable
    uri = mlcfg["tracking_uri"]
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    experiment_id = ensure_experiment(mlcfg["experiment"], mlcfg["artifact_location"])
    mlflow.set_experiment(experiment_id=experiment_id)  # nested fold runs land beside the parent
    client = MlflowClient()
    fail_dead_runs(client, experiment_id)
    name = f"{mlcfg['model_prefix']}-{target}"
    repair_export(client, name, Path(cfg["paths"]["models_dir"]))
    me = this_process()
    tags = {
        "churn.pid": str(me["pid"]),
        "churn.started": repr(me["started"]),
        "data": cfg["data"]["name"],
        "target": target,
        "git_commit": git_commit(),
        "model": cfg["model"].get("name", "model"),
    }
    data, backtest = objects["data"], objects["backtest"]
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=f"{target}-{tags['model']}", tags=tags
    ) as run:
        log_params(flatten(cfg))
        log_params(
            {f"data.{k}": v for k, v in objects["fingerprint"].items() if k != "rate_by_cutoff"}
        )
        mlflow.log_dict(objects["fingerprint"], "data_fingerprint.json")
        mlflow.log_dict(cfg, "config.json")
        log_data_checks(data.meta, Path(cfg["paths"]["data_dir"]))
        value = objects.get("value") or {}
        mlflow.log_dict(
            {
                **{
                    k: data.meta.get(k)
                    for k in ("features", "value_tiers", "feature_set_hash", "inferred", "checks")
                },
                "clv": value.get("clv"),
            },
            "feature_catalog.json",
        )
        if value:
            mlflow.log_dict(value, "value_backtest.json")
        log_folds(objects["folds"], backtest.folds, tags)
        log_trials(objects.get("trials", []), tags)
        mlflow.log_metrics(dict(metrics))
        if objects.get("baseline"):
            mlflow.log_dict(objects["baseline"], "baseline_comparison.json")
        log_backtest_plots(backtest.predictions, cfg["costs"])
        mlflow.log_dict(
            reference_distributions(data.frame, data.numeric, data.categorical), "reference.json"
        )
        registered = log_and_register(
            cfg, objects["model"], data, backtest, objects["folds"], objects["backtest_fn"]
        )
    return {"run_id": run.info.run_id, **registered}


def log_data_checks(meta: Mapping, data_dir: Path) -> None:
    """What validation inferred and found (inferred.yaml, duplicates, leak strengths)."""
    inferred = data_dir / INFERRED_SPEC
    if inferred.exists():
        mlflow.log_artifact(str(inferred))
    checks = meta.get("checks")
    if checks:
        mlflow.log_dict(checks, "data_checks.json")
        mlflow.log_metric(
            "data_duplicate_rows_kept_once", checks.get("duplicate_rows_kept_once", 0)
        )
        strongest = max((checks.get("column_roc_auc") or {}).values(), default=None)
        if strongest is not None:
            mlflow.log_metric("data_strongest_column_roc_auc", strongest)


def log_folds(folds, fold_metrics: list[dict], tags: Mapping[str, str]) -> None:
    """One child run per fold (out of time, or cross-validation), with its description."""
    for i, (fold, metrics) in enumerate(zip(folds, fold_metrics, strict=True), 1):
        with mlflow.start_run(run_name=f"fold-{i}", nested=True, tags={**tags, "kind": "fold"}):
            mlflow.log_params({"fold": i, **fold.describe()})
            mlflow.log_metrics(metrics)


def log_trials(trials: list[dict], tags: Mapping[str, str]) -> None:
    """One child run per search trial, with its parameters and backtest metrics."""
    for trial in trials:
        with mlflow.start_run(
            run_name=f"trial-{trial['number']}", nested=True, tags={**tags, "kind": "search_trial"}
        ):
            mlflow.log_params(trial["params"])
            mlflow.log_metrics(trial["metrics"])


def log_params(params: Mapping[str, Any]) -> None:
    items = list(params.items())
    for start in range(0, len(items), 100):
        mlflow.log_params(dict(items[start : start + 100]))


# what a logged model needs to load, pinned to the installed versions. Given, not inferred: MLflow
# infers them by importing the model in a subprocess (9 s a model here) and picks up test tools.
MODEL_LIBRARIES = ("mlflow", "numpy", "pandas", "scipy", "sklearn", "skops", "xgboost")


def model_requirements(*modules: str) -> list[str]:
    """`dist==version` for the distributions that provide these importable modules."""
    provided = importlib.metadata.packages_distributions()
    pins = set()
    for module in modules:
        dists = provided.get(module, [])
        for dist in [d for d in dists if d == module] or dists:
            pins.add(f"{dist}=={importlib.metadata.version(dist)}")
    return sorted(pins)


def log_and_register(cfg: Mapping, model, data, backtest, folds, backtest_fn) -> dict:
    """Register as challenger; promote to champion only if it beats it (churn.champion), and
    move the alias only once the export is complete."""
    name = f"{cfg['mlflow']['model_prefix']}-{cfg['target']['name']}"
    example = data.frame[data.features].head(5)
    signature = infer_signature(example, model.predict_proba(example))
    info = mlflow.sklearn.log_model(
        model,
        name="model",
        serialization_format="skops",
        skops_trusted_types=check_trusted(model),
        signature=signature,
        input_example=example,
        pyfunc_predict_fn="predict_proba",
        pip_requirements=model_requirements(*MODEL_LIBRARIES),
        registered_model_name=name,
    )
    client = MlflowClient()
    version = str(info.registered_model_version)
    client.set_registered_model_alias(name, "challenger", version)
    if cfg["mlflow"]["primary_metric"] != "roc_auc":
        raise ChurnError("mlflow.primary_metric: only roc_auc is supported for now")
    decision = decide(
        client, name, data, cfg, backtest, folds, backtest_fn, cross_validated(data, cfg["split"])
    )
    decision["message"] = f"{name} v{version} {decision['message']}"
    mlflow.log_metrics(
        {k: v for k, v in decision.items() if isinstance(v, float) and not isinstance(v, bool)}
    )
    mlflow.set_tag("champion_decision", decision["message"])
    mlflow.set_tag("champion_compared_on", decision["compared_on"])
    if decision["promote"]:  # the export is complete before the alias moves to it
        export_version(name, version, Path(cfg["paths"]["models_dir"]))
        client.set_registered_model_alias(name, "champion", version)
    return {"model_name": name, "model_version": version, "registry_message": decision["message"]}


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
