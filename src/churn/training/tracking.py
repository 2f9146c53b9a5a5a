"""The training run in MLflow: one parent run per training with a child run per fold and per
search trial, the data checks, backtest plots and drift references, then the model registered as
challenger and promoted by the champion rule (churn.training.champion).
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mlflow
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from churn.errors import ChurnError
from churn.registry.models import MODEL_LIBRARIES, ensure_experiment, model_requirements
from churn.registry.repair import export_version, fail_dead_runs, repair_export
from churn.registry.trust import check_trusted
from churn.store import INFERRED_SPEC, this_process
from churn.training.backtest import cross_validated
from churn.training.champion import decide
from churn.training.plots import log_backtest_plots
from churn.training.reference import reference_distributions

log = logging.getLogger(__name__)


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
        copies = checks.get("copies_but_id") or {}
        mlflow.log_metric("data_copies_but_id_rows", copies.get("rows", 0))
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


def log_and_register(cfg: Mapping, model, data, backtest, folds, backtest_fn) -> dict:
    """Register as challenger; promote to champion only if it beats it (churn.training.champion),
    and move the alias only once the export is complete."""
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
