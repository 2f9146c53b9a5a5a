"""Features and labels become the model table: one row per (customer_id, cutoff).

`churn features` writes `<paths.data_dir>/features/cutoff=YYYY-MM-DD/part-0.parquet` for every
cutoff, plus `catalog.json`: every feature's family, driver family and template, the cutoffs, and
the value-tier thresholds fitted on the labelled cutoffs only.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

import ibis
import pandas as pd
import pyarrow.parquet as pq
from ibis.backends import BaseBackend
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from churn.columns import KEY_COLUMNS, VALUE_COLUMN
from churn.config import FeaturesOptions
from churn.dataset.cutoffs import build_spine, cutoff_dates
from churn.dataset.labels import (
    FUTURE_VALUE,
    TARGETS,
    LabelWindow,
    attach_future_value,
    attach_labels,
)
from churn.errors import ChurnError, ConfigError
from churn.features import (
    FAMILIES,
    Context,
    announce_skipped_features,
    available_families,
    catalog,
    feature_set_hash,
    join_families,
)
from churn.features.base import join_on_keys
from churn.features.digest import build_digests, drop_digests, materialize_digests
from churn.features.value import ValueTiers
from churn.store import (
    catalog_path,
    cutoff_part,
    read_catalog,
    staging_dir,
    swap_dir,
    write_json_atomically,
)
from churn.validate.contracts import CONTRACT_BY_NAME

log = logging.getLogger(__name__)

EVENT_COLUMNS = {
    "transactions": "ts",
    "interactions": "ts",
    "subscriptions": "start_date",
    "complaints": "opened_at",
    "surveys": "ts",
    "campaigns": "sent_at",
    "loyalty_points": "ts",
}


def warehouse_tables(con: BaseBackend) -> dict[str, ibis.Table]:
    """The loaded raw tables (not rejects or staging)."""
    present = set(con.list_tables())
    return {name: con.table(name) for name in CONTRACT_BY_NAME if name in present}


def data_end_date(tables: Mapping[str, ibis.Table], declared: str | None = None) -> dt.date:
    """The last day with data: the declared load date, else the latest event in the warehouse."""
    if declared:
        return dt.date.fromisoformat(str(declared))
    latest = [tables[t][c].max().execute() for t, c in EVENT_COLUMNS.items() if t in tables]
    latest = [pd.Timestamp(x).date() for x in latest if x is not None and not pd.isna(x)]
    return max(latest)


def make_context(tables, cutoffs, fcfg: Mapping, digests=None) -> Context:
    """The cutoffs' view of the warehouse; digests shared by several batches may be passed in."""
    cutoffs = tuple(cutoffs)
    if digests is None:
        digests = build_digests(tables, cutoffs, fcfg["windows"])
    return Context(
        tables=dict(tables),
        cutoffs=cutoffs,
        windows=tuple(fcfg["windows"]),
        own_channels=tuple(fcfg["own_channels"]),
        digital_channels=tuple(fcfg["digital_channels"]),
        digests=digests,
    )


def build_snapshots(
    tables,
    cutoffs,
    fcfg: Mapping,
    lcfg: Mapping,
    ccfg: Mapping,
    data_end: dt.date,
    families: list[str],
    digests=None,
) -> ibis.Table:
    """Spines at the cutoffs, their features from before each, their labels from the window
    after each: one query for all the cutoffs, one row per (customer_id, cutoff).

    Planning one query per cutoff cost more than running it on small worlds (2.2 s to compile a
    cutoff's nested query on the demo world, 0.9 s to run it); with the cutoff a column, the
    families are planned once however many cutoffs there are.
    """
    ctx = make_context(tables, cutoffs, fcfg, digests)
    spine = build_spine(ctx, ccfg["spine"], ccfg["lookback_days"])
    parts = {name: FAMILIES[name].build(ctx) for name in families}
    labels = attach_labels(
        ctx,
        spine,
        lcfg["lead_days"],
        lcfg["horizon_days"],
        data_end,
        lcfg["definition"],
        lcfg["plan_order"],
    )
    labels = attach_future_value(ctx, labels, lcfg.get("value_horizon_months", 12), data_end)
    labels = labels.select(*KEY_COLUMNS, *TARGETS, FUTURE_VALUE)
    table = join_families(ctx, spine, parts)
    table = join_on_keys(table, labels)
    names = [f.name for f in catalog(families, ctx.windows, tables)]
    return table.select(*KEY_COLUMNS, *names, *TARGETS, FUTURE_VALUE)


def build_snapshot(
    tables,
    cutoff: dt.date,
    fcfg: Mapping,
    lcfg: Mapping,
    ccfg: Mapping,
    data_end: dt.date,
    families: list[str],
    digests=None,
) -> ibis.Table:
    """One cutoff's snapshot, ordered by customer (scoring and tests)."""
    table = build_snapshots(tables, [cutoff], fcfg, lcfg, ccfg, data_end, families, digests)
    return table.order_by("customer_id")


def rows_per_query(fcfg: Mapping) -> int:
    return int(fcfg.get("rows_per_query") or FeaturesOptions().rows_per_query)


def cutoff_batches(cutoffs: list[dt.date], n_customers: int, rows_per_query: int):
    """Cutoffs in batches of at most `rows_per_query` customer-cutoff rows (at least one
    cutoff each), so a large base is not aggregated all at once."""
    size = max(1, rows_per_query // max(n_customers, 1))
    return [cutoffs[i : i + size] for i in range(0, len(cutoffs), size)]


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
    )


def write_snapshots(
    con: BaseBackend,
    out_dir: Path,
    fcfg,
    lcfg,
    ccfg,
    declared_end: str | None = None,
    extra_meta: dict | None = None,
    baseline: Mapping | None = None,
) -> dict:
    """Build every cutoff into a fresh folder and swap it in; returns a summary."""
    tables = warehouse_tables(con)
    if "customers" not in tables:
        raise ChurnError("the warehouse has no customers table: run `churn validate` first")
    families = available_families(tables, list(fcfg["families"]) or None, announce=True)
    announce_skipped_features(tables, families, tuple(fcfg["windows"]))
    data_end = data_end_date(tables, declared_end)
    cutoffs = cutoff_dates(ccfg["freq"], ccfg["start"], ccfg["end"])
    tmp = staging_dir(out_dir)
    rows = {}
    digests = {}
    try:
        digests = materialize_digests(con, build_digests(tables, cutoffs, fcfg["windows"]))
        n_customers = int(tables["customers"].count().execute())
        batches = cutoff_batches(cutoffs, n_customers, rows_per_query(fcfg))
        with progress_bar() as bar:
            task = bar.add_task("features per cutoff", total=len(cutoffs))
            for batch in batches:
                expr = build_snapshots(tables, batch, fcfg, lcfg, ccfg, data_end, families, digests)
                with expr.cache() as built:
                    for cutoff in batch:
                        part = cutoff_part(tmp, cutoff)
                        part.parent.mkdir(parents=True)
                        one = built.filter(built.cutoff == ibis.date(cutoff))
                        con.to_parquet(one.order_by("customer_id"), part)
                        rows[cutoff.isoformat()] = pq.ParquetFile(part).metadata.num_rows
                        bar.advance(task)
        if baseline:
            write_baseline_labels(
                con, tmp, tables, baseline, cutoffs, data_end, digests, fcfg, ccfg
            )
        features = catalog(families, tuple(fcfg["windows"]), tables)
        labelled = [
            c
            for c in cutoffs
            if LabelWindow(c, lcfg["lead_days"], lcfg["horizon_days"]).is_labelled(data_end)
        ]
        tiers = (
            fit_value_tiers(tmp, labelled, fcfg["value_tier_quantiles"])
            if "value" in families
            else None
        )
        meta = {
            "families": families,
            "data_end": data_end.isoformat(),
            "cutoffs": [c.isoformat() for c in cutoffs],
            "labelled_cutoffs": [c.isoformat() for c in labelled],
            "rows": rows,
            "feature_set_hash": feature_set_hash(features),
            "value_tiers": tiers.to_dict() if tiers else None,
            "features": [asdict(f) for f in features],
            "baseline": baseline,
            **(extra_meta or {}),
        }
        write_json_atomically(meta, catalog_path(tmp))
        swap_dir(tmp, out_dir)
    finally:
        drop_digests(con, digests)
        shutil.rmtree(tmp, ignore_errors=True)
    return meta


def write_baseline_labels(
    con: BaseBackend, out: Path, tables, baseline: Mapping, cutoffs, data_end, digests, fcfg, ccfg
) -> None:
    """The holdout label of a published baseline (data.baseline): behavioural churn over its own
    horizon at its cutoff, for the same spine as the features written for that cutoff."""
    cutoff = dt.date.fromisoformat(str(baseline["cutoff"]))
    if cutoff not in cutoffs:
        raise ConfigError(
            f"data.baseline.cutoff={cutoff} is not one of the cutoffs "
            f"({cutoffs[0]}..{cutoffs[-1]}, {ccfg['freq']}): move it onto one"
        )
    window = LabelWindow(cutoff, 0, int(baseline["horizon_days"]))
    if not window.is_labelled(data_end):
        raise ConfigError(
            f"data.baseline: the holdout window {window.start}..{window.end} runs past the data "
            f"(last day {data_end}); shorten data.baseline.horizon_days"
        )
    ctx = make_context(tables, [cutoff], fcfg, digests)
    spine = build_spine(ctx, ccfg["spine"], ccfg["lookback_days"])
    labels = attach_labels(ctx, spine, 0, window.horizon_days, data_end, "behavioural")
    part = cutoff_part(out / "baseline", cutoff, "labels.parquet")
    part.parent.mkdir(parents=True)
    con.to_parquet(labels.select("customer_id", "churn").order_by("customer_id"), part)


def fit_value_tiers(folder: Path, labelled: list[dt.date], quantiles) -> ValueTiers | None:
    """Tier thresholds from trailing value on the training (labelled) cutoffs only."""
    files = [cutoff_part(folder, c) for c in labelled]
    if not files:
        return None
    values = pd.concat([pd.read_parquet(f, columns=[VALUE_COLUMN]) for f in files])
    return ValueTiers(tuple(quantiles)).fit(values[[VALUE_COLUMN]])


def load_model_table(features_dir: Path, cutoffs: list[str] | None = None) -> pd.DataFrame:
    """The written snapshots as one frame, with value_tier from the stored thresholds."""
    meta = read_catalog(features_dir)
    wanted = cutoffs or meta["cutoffs"]
    frames = [pd.read_parquet(cutoff_part(features_dir, c)) for c in wanted]
    table = pd.concat(frames, ignore_index=True)
    if meta["value_tiers"]:
        tiers = ValueTiers.from_dict(meta["value_tiers"])
        table["value_tier"] = tiers.transform(table[[VALUE_COLUMN]]).ravel()
    return table
