"""`churn uplift`: fit the response model on past randomized calls, check it out of time, register.

The latest `uplift.test_cutoffs` cutoffs with tests are held out: the model fitted on the earlier
ones ranks them, and its Qini coefficient is set against ranking by the churn champion's risk.
The model refitted on every test is registered as `<prefix>-retention_uplift`; it becomes the
champion when its out-of-time Qini beats the current champion's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import mlflow
import pandas as pd

from churn.dataset.build import warehouse_tables
from churn.errors import ChurnError
from churn.registry.models import (
    load_registered,
)
from churn.store import features_folder, read_catalog
from churn.training.pipeline import model_inputs
from churn.uplift.arms import attach_cutoffs, read_arms, tested_rows
from churn.uplift.model import build_uplift_model
from churn.uplift.qini import plot_qini, qini_coefficient, qini_curve
from churn.uplift.register import register, uplift_run
from churn.uplift.table_job import train_uplift_from_table

log = logging.getLogger(__name__)


def split_out_of_time(rows: pd.DataFrame, test_cutoffs: int, min_rows: int):
    """Earlier cutoffs to fit, the latest `test_cutoffs` to check; each needs both arms."""
    cutoffs = sorted(rows["cutoff"].unique())
    if len(cutoffs) <= test_cutoffs:
        raise ChurnError(
            f"uplift: retention tests at {len(cutoffs)} cutoff(s); the out-of-time check needs "
            f"more than uplift.test_cutoffs={test_cutoffs}"
        )
    late = rows["cutoff"].isin(cutoffs[-test_cutoffs:])
    fit, check = rows[~late], rows[late]
    for name, part in (("fitting", fit), ("checking", check)):
        arms = part["treated"].value_counts()
        if arms.get(1, 0) < min_rows or arms.get(0, 0) < min_rows:
            raise ChurnError(
                f"uplift: the {name} cutoffs hold {arms.get(1, 0)} called and {arms.get(0, 0)} "
                f"held-out customers; each arm needs uplift.min_arm_rows={min_rows}"
            )
    return fit.reset_index(drop=True), check.reset_index(drop=True)


def check_out_of_time(cfg: Mapping, features, fit, check) -> tuple[dict, dict]:
    """Qini of the response model and of the churn champion's risk on the held-out cutoffs."""
    model = build_uplift_model(cfg["uplift"], features).fit(
        model_inputs(fit, features), fit["churn"], fit["treated"]
    )
    X = model_inputs(check, features)
    scores = {"uplift": model.predict(X)}
    try:
        churn_model = load_registered(
            cfg["uplift"]["risk_model_uri"], cfg["mlflow"]["tracking_uri"]
        )
        scores["risk"] = churn_model.model.predict_proba(X)[:, 1]
    except ChurnError as err:
        log.warning("uplift: no churn champion to compare with (%s)", err)
    called, churned = check["treated"].to_numpy() == 1, check["churn"].to_numpy()
    metrics = {f"qini_{k}": qini_coefficient(v, called, churned) for k, v in scores.items()}
    metrics.update(
        fit_rows=float(len(fit)),
        check_rows=float(len(check)),
        check_ate=float(churned[~called].mean() - churned[called].mean()),
        check_mean_predicted_uplift=float(scores["uplift"][called].mean()),
        check_negative_share=float((scores["uplift"] < 0).mean()),
    )
    curves = {k: qini_curve(v, called, churned) for k, v in scores.items()}
    return metrics, curves


def train_uplift(cfg: Mapping) -> dict | None:
    """Fit, check and register; None (with a log line) when the data holds no retention test."""
    from churn.warehouse import connection

    opts = cfg["uplift"]
    features_dir = features_folder(cfg["paths"]["data_dir"])
    meta = read_catalog(features_dir)
    if meta.get("mode") == "snapshot":  # a customer table: its own randomized test, if any
        return train_uplift_from_table(cfg, meta)
    with connection(cfg["warehouse"]) as con:
        arms = read_arms(warehouse_tables(con))
    if arms is None:
        log.info("uplift: campaigns record no retention test (treatment_group call/control)")
        return None
    until = pd.Timestamp(opts["until"]).date() if opts.get("until") else None
    labelled = [pd.Timestamp(c).date() for c in meta["labelled_cutoffs"]]
    labelled = [c for c in labelled if until is None or c < until]
    cutoffs = [pd.Timestamp(c).date() for c in meta["cutoffs"]]
    arms = attach_cutoffs(arms, cutoffs, opts["max_days_after_cutoff"])
    rows = tested_rows(features_dir, arms, labelled)
    features = meta["features"]
    fit, check = split_out_of_time(rows, opts["test_cutoffs"], opts["min_arm_rows"])
    with uplift_run(cfg):
        metrics, curves = check_out_of_time(cfg, features, fit, check)
        mlflow.log_metrics(metrics)
        mlflow.log_param("feature_set_hash", meta["feature_set_hash"])  # scoring checks it
        mlflow.log_params(
            {"learner": opts["learner"]["_target_"], "test_cutoffs": opts["test_cutoffs"]}
        )
        mlflow.log_figure(plot_qini(curves), "plots/qini.png")
        model = build_uplift_model(opts, features).fit(
            model_inputs(rows, features), rows["churn"], rows["treated"]
        )
        out = {**metrics, **register(cfg, model, rows, features, metrics)}
    log.info(
        "uplift: Qini %.4f out of time (risk ranking %s) on %d tested customers; %s v%s%s",
        metrics["qini_uplift"],
        f"{metrics['qini_risk']:.4f}" if "qini_risk" in metrics else "n/a",
        len(check),
        out["model_name"],
        out["model_version"],
        " is the champion" if out["champion"] else " kept as a challenger",
    )
    return out


def run_uplift(cfg) -> dict | None:
    from omegaconf import OmegaConf

    return train_uplift(OmegaConf.to_container(cfg, resolve=True))
