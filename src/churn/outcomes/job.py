"""`churn outcomes`: each published list whose label window has closed, measured.

Realized churn comes from the same label definition training used, for the customers on the
list, from the warehouse; a list whose window is still open is skipped and said so, so nothing
after the data's last day is ever read as an outcome. Results go to
`<paths.outcomes_dir>/as_of=.../outcomes.json`, the warehouse `outcomes` table and the scoring
model's MLflow run.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from churn.dataset.build import data_end_date, warehouse_tables
from churn.dataset.labels import LabelWindow, attach_labels
from churn.errors import ChurnError
from churn.features import Context
from churn.outcomes.measure import flat_metrics, measure_list
from churn.scoring.publish import insert_slices
from churn.store import outcomes_file, parts_of, scores_partitions, write_json_atomically

log = logging.getLogger(__name__)
LIST_COLUMNS = [
    "customer_id",
    "churn_probability",
    "risk_band",
    "clv",
    "treatment_group",
    "model_name",
    "model_version",
    "run_id",
]


def read_list(folder: Path) -> pd.DataFrame:
    """One published list: who was scored, at what risk and value, in which arm."""
    parts = parts_of(folder)
    if not parts:
        raise ChurnError(f"{folder}: a scores partition without parquet parts")
    frames = [pq.ParquetFile(p).read(columns=LIST_COLUMNS).to_pandas() for p in parts]
    return pd.concat(frames, ignore_index=True)


def realized_churn(
    tables, ids: pd.Series, window: LabelWindow, data_end: dt.date, lcfg: Mapping
) -> np.ndarray:
    """The churn label of each listed customer over the list's window, as training defines it."""
    ctx = Context(tables=dict(tables), cutoffs=(window.cutoff,))
    spine = ibis.memtable(pd.DataFrame({"customer_id": ids.to_numpy()}))
    spine = spine.mutate(cutoff=ibis.date(window.cutoff))
    labelled = attach_labels(
        ctx,
        spine,
        window.lead_days,
        window.horizon_days,
        data_end,
        lcfg["definition"],
        lcfg["plan_order"],
    ).select("customer_id", "churn")
    frame = labelled.to_pandas().set_index("customer_id")["churn"]
    return frame.reindex(ids.to_numpy()).to_numpy()


def measured_lists(cfg: Mapping, con) -> list[dict]:
    """Every closed list measured, oldest first; open ones logged and left for later."""
    lcfg = cfg["labels"]
    tables = warehouse_tables(con)
    data_end = data_end_date(tables, cfg["data"].get("load_date"))
    results = []
    for as_of, folder in scores_partitions(cfg["paths"]["scores_dir"]):
        window = LabelWindow(as_of, lcfg["lead_days"], lcfg["horizon_days"])
        if not window.is_labelled(data_end):
            log.info(
                "outcomes: the list of %s waits for its label window to close (%s; data ends %s)",
                as_of,
                window.end,
                data_end,
            )
            continue
        rows = read_list(folder)
        rows["churned"] = realized_churn(tables, rows["customer_id"], window, data_end, lcfg)
        result = measure_list(rows, list(cfg["risk"]["labels"]), backtest_of(cfg, rows))
        result.update(
            as_of=as_of.isoformat(),
            window=[window.start.isoformat(), window.end.isoformat()],
            data_end=data_end.isoformat(),
            model={**result["model"], **model_of(rows)},
        )
        results.append(result)
    return results


def model_of(rows: pd.DataFrame) -> dict:
    first = rows.iloc[0]
    return {k: str(first[k]) for k in ("model_name", "model_version", "run_id")}


def backtest_of(cfg: Mapping, rows: pd.DataFrame) -> dict:
    """The scoring model's backtest figures from its MLflow run (empty when it cannot be read)."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        run = MlflowClient(cfg["mlflow"]["tracking_uri"]).get_run(str(rows["run_id"].iloc[0]))
    except MlflowException as err:
        log.warning("outcomes: the model's run cannot be read (%s)", err)
        return {}
    metrics = run.data.metrics  # the out-of-time backtest's mean over its folds
    return {"roc_auc": metrics.get("roc_auc_mean", metrics.get("roc_auc"))}


def log_to_run(cfg: Mapping, result: Mapping) -> None:
    """outcome_* metrics on the scoring model's run, stepped by the list's date (YYYYMMDD)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(cfg["mlflow"]["tracking_uri"])
    step = int(result["as_of"].replace("-", ""))
    run_id = result["model"]["run_id"]
    for key, value in flat_metrics(result).items():
        client.log_metric(run_id, key, value, step=step)
    client.log_dict(run_id, dict(result), f"outcomes/as_of={result['as_of']}.json")


def outcome_rows(result: Mapping) -> pd.DataFrame:
    """The warehouse `outcomes` rows of one list: one per treatment group."""
    effect = result["effect"]
    ci = effect.get("churn_reduction_ci") or [None, None]
    frame = pd.DataFrame(result["arms"])
    return frame.assign(
        as_of=pd.Timestamp(result["as_of"]).date(),
        churn_reduction=effect.get("churn_reduction"),
        churn_reduction_ci_low=ci[0],
        churn_reduction_ci_high=ci[1],
        saved_customers=effect.get("saved_customers"),
        saved_value=effect.get("saved_value"),
        roc_auc=result["model"].get("roc_auc"),
        model_version=result["model"]["model_version"],
    ).astype({"churn_reduction": float, "saved_customers": float, "saved_value": float})


def publish_outcomes(con, results: list[dict]) -> None:
    """Replace the measured lists' slices of the `outcomes` table in one transaction."""
    if con.name != "duckdb":
        log.warning("outcomes table: written on DuckDB warehouses, not %s", con.name)
        return
    frame = pd.concat([outcome_rows(r) for r in results], ignore_index=True)
    raw, view = con.con, f"_incoming_outcomes_{uuid.uuid4().hex[:8]}"
    raw.register(view, frame)
    try:
        days = [dt.date.fromisoformat(r["as_of"]) for r in results]
        insert_slices(raw, {"outcomes": view}, days)
    finally:
        raw.unregister(view)


def run_outcomes(cfg) -> list[dict]:
    """`churn outcomes`: measure every closed list, then write all results (none half-written)."""
    from omegaconf import OmegaConf

    from churn.warehouse import connection

    plain = OmegaConf.to_container(cfg, resolve=True)
    opts = plain["outcomes"]
    with connection(plain["warehouse"]) as con:
        results = measured_lists(plain, con)
        if not results:
            log.info("outcomes: no published list has a closed label window yet")
            return []
        if opts["publish_table"]:
            publish_outcomes(con, results)
    for result in results:
        day = dt.date.fromisoformat(result["as_of"])
        write_json_atomically(result, outcomes_file(plain["paths"]["outcomes_dir"], day))
        if opts["log_to_mlflow"]:
            log_to_run(plain, result)
        say_result(result)
    return results


def say_result(result: Mapping) -> None:
    effect = result["effect"]
    if not effect.get("measured"):
        log.info("outcomes %s: %s", result["as_of"], effect["why"])
        return
    low, high = effect["churn_reduction_ci"]
    log.info(
        "outcomes %s: calls cut churn by %.1f points (95%% CI %.1f to %.1f) over %d called: "
        "%.0f customers and %.0f of CLV saved; production ROC-AUC %s",
        result["as_of"],
        100 * effect["churn_reduction"],
        100 * low,
        100 * high,
        effect["called"],
        effect["saved_customers"],
        effect["saved_value"],
        "n/a" if result["model"]["roc_auc"] is None else f"{result['model']['roc_auc']:.3f}",
    )
