"""Everything a scoring run writes: parquet parts, the CRM CSVs (spreadsheet-safe), the
warehouse `scores` slice in one transaction. Staging and the final swap live in `store`."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from churn.columns import TREATMENT
from churn.scoring.policy import plan_calls
from churn.scoring.weekly import (
    ALERT_COLUMNS,
    ALERT_KINDS,
    NOW_COLUMNS,
    POINT_COLUMNS,
    PREVIOUS,
    compare_weeks,
    weekly_alerts,
)
from churn.store import neutralise_cells, parts_of, previous_partition

log = logging.getLogger(__name__)
CALL, CONTROL, NONE = TREATMENT
ALERTS_FILE = "alerts.parquet"

CSV_COLUMNS = [
    "customer_id",
    "as_of",
    "churn_probability",
    "risk_band",
    "value",
    "clv",
    "net_value",
    "value_tier",
    "value_segment",
    "expected_loss",
    "expected_net_value",
    "uplift",
    "policy",
    "cross_sell_propensity",
    "upsell_propensity",
    "treatment_group",
    "reason_1",
    "reason_2",
    "reason_3",
    "next_action",
    "max_compensation",
    "model_name",
    "model_version",
    "run_id",
    "feature_set_hash",
]


def write_part(frame: pd.DataFrame, schema: pa.Schema, path: Path) -> None:
    pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), path)


def read_part(path: Path) -> pd.DataFrame:
    """One staged file (no partition columns taken from its folder's name)."""
    return pq.ParquetFile(path).read().to_pandas()


def finish_parts(staging: Path, calls: set, controls: set, explored: set) -> int:
    """One pass over the staged parts: mark who is called, who is control and who was drawn by
    exploration, and append each part to scores.csv (the documented columns, for CRM import).
    Returns the rows."""
    writer, rows = None, 0
    for part in parts_of(staging):
        table = pq.ParquetFile(part).read()
        ids = table.column("customer_id").to_pandas()
        group = np.where(ids.isin(calls), CALL, np.where(ids.isin(controls), CONTROL, NONE))
        index = table.schema.get_field_index("treatment_group")
        table = table.set_column(index, "treatment_group", pa.array(group, pa.string()))
        index = table.schema.get_field_index("explore")
        table = table.set_column(index, "explore", pa.array(ids.isin(explored), pa.bool_()))
        pq.write_table(table, part)
        csv_table = neutralise_cells(table.select(CSV_COLUMNS))
        if writer is None:
            writer = pacsv.CSVWriter(staging / "scores.csv", csv_table.schema)
        writer.write_table(csv_table)
        rows += table.num_rows
    if writer is not None:
        writer.close()
    return rows


def write_call_list(staging: Path, candidates: list[pd.DataFrame], opts: Mapping) -> dict:
    """Rank the candidates, then one pass over the parts marks call and control and writes the
    CSVs."""
    pool = pd.concat(candidates, ignore_index=True)
    calls, controls, explored = plan_calls(pool, opts)
    ids = pool["customer_id"]
    rows = finish_parts(
        staging, set(ids.iloc[calls]), set(ids.iloc[controls]), set(ids.iloc[explored])
    )
    call_list = pool.iloc[calls].assign(treatment_group=CALL, rank=np.arange(1, len(calls) + 1))
    neutralise_cells(call_list[["rank", *CSV_COLUMNS]]).to_csv(
        staging / "call_list.csv", index=False
    )
    n_explored = int(np.isin(calls, explored).sum())
    return {"calls": len(calls), "controls": len(controls), "explored": n_explored, "rows": rows}


def publish_table(con, staging: Path, as_of: dt.date) -> None:
    """Replace the as_of slice of the warehouse `scores` and `alerts` tables in one transaction."""
    if con.name != "duckdb":  # Spark's table is written by scoring.spark
        log.warning("scores table: DuckDB and Spark warehouses get one, not %s", con.name)
        return
    raw = con.con
    # the paths reach DuckDB as values of its relational API, never pasted into SQL text
    incoming = {
        "scores": raw.read_parquet(str(staging / "part-*.parquet")),
        "alerts": raw.read_parquet(str(staging / ALERTS_FILE)),
    }
    views = {table: f"_incoming_{table}_{uuid.uuid4().hex[:8]}" for table in incoming}
    for table, relation in incoming.items():
        raw.register(views[table], relation)
    try:
        insert_slices(raw, views, as_of)
    finally:
        for view in views.values():
            raw.unregister(view)


def insert_slices(raw, views: Mapping[str, str], as_of: dt.date | list[dt.date]) -> None:
    """Per table: add new columns and replace the as_of slice (or slices), all in one
    transaction."""
    days = as_of if isinstance(as_of, list) else [as_of]
    holes = ", ".join("?" for _ in days)
    for table, view in views.items():
        raw.execute(f'CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM "{view}" LIMIT 0')
    raw.execute("BEGIN TRANSACTION")
    try:
        for table, view in views.items():
            have = {r[0] for r in raw.execute(f"DESCRIBE {table}").fetchall()}
            for name, kind, *_ in raw.execute(f'DESCRIBE SELECT * FROM "{view}"').fetchall():
                if name not in have:
                    quoted = name.replace('"', '""')
                    raw.execute(f'ALTER TABLE {table} ADD COLUMN "{quoted}" {kind}')
            raw.execute(f"DELETE FROM {table} WHERE as_of IN ({holes})", days)
            raw.execute(f'INSERT INTO {table} BY NAME SELECT * FROM "{view}"')
        raw.execute("COMMIT")
    except Exception:
        raw.execute("ROLLBACK")
        raise


def write_alerts(staging: Path, cfg: Mapping, as_of: dt.date) -> dict:
    """This week's alerts against the previous partition of the scores folder: alerts.parquet
    and alerts.csv in staging (spreadsheet-safe); returns the counts by kind."""
    parts = [str(p) for p in parts_of(staging)]
    schema = pq.ParquetFile(parts[0]).schema_arrow
    now = pq.read_table(
        parts, columns=[*NOW_COLUMNS, *POINT_COLUMNS], partitioning=None
    ).to_pandas()
    changes, since = None, None
    previous = previous_partition(Path(cfg["paths"]["scores_dir"]), as_of)
    if previous is not None:
        since, folder = previous
        before = read_previous(folder)
        changes = compare_weeks(now, before, cfg["risk"]["labels"]) if before is not None else None
    alerts = weekly_alerts(now, changes, since, cfg.get("alerts") or {})
    fields = [
        schema.field(c)
        if c in schema.names
        else pa.field(c, pa.float64() if c == "risk_change_pts" else pa.string())
        for c in ALERT_COLUMNS
    ]
    table = pa.Table.from_pandas(alerts, schema=pa.schema(fields), preserve_index=False)
    pq.write_table(table, staging / ALERTS_FILE)
    pacsv.write_csv(neutralise_cells(table), staging / "alerts.csv")
    counts = alerts["alert"].value_counts()
    compared = int((changes["comparison"] == "compared").sum()) if changes is not None else 0
    return {
        "alerts": {kind: int(counts.get(kind, 0)) for kind in ALERT_KINDS},
        "compared_with": str(since) if since else None,
        "compared_customers": compared,
    }


def read_previous(folder: Path) -> pd.DataFrame | None:
    """The columns week over week needs from a published partition (None if it lacks them)."""
    parts = parts_of(folder)
    if not parts:
        return None
    have = set(pq.ParquetFile(parts[0]).schema_arrow.names)
    if not set(PREVIOUS) <= have:
        return None
    columns = [c for c in (*PREVIOUS, *POINT_COLUMNS) if c in have]
    return pq.read_table([str(p) for p in parts], columns=columns, partitioning=None).to_pandas()
