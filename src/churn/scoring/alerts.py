"""The week's alerts written: alerts.parquet (every alert with its status, for the warehouse
`alerts` table) and alerts.csv (what is new this week, within `alerts.max_per_week`;
spreadsheet-safe), against the previous partition of the scores folder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from churn.scoring.weekly import (
    ALERT_COLUMNS,
    ALERT_KEY,
    ALERT_KINDS,
    NEW_ALERT,
    NOW_COLUMNS,
    POINT_COLUMNS,
    PREVIOUS,
    STATUSES,
    compare_weeks,
    track_alerts,
    weekly_alerts,
)
from churn.store import neutralise_cells, parts_of, previous_partition

ALERTS_FILE = "alerts.parquet"
# the types of what an alert adds to a score row
ALERT_FIELDS = {
    "alert": pa.field("alert", pa.string()),
    "name": pa.field("name", pa.string()),
    "sentence": pa.field("sentence", pa.string()),
    "risk_change_pts": pa.field("risk_change_pts", pa.float64()),
    "status": pa.field("status", pa.string()),
    "first_seen": pa.field("first_seen", pa.date32()),
    "weeks_open": pa.field("weeks_open", pa.int64()),
}


def write_alerts(staging: Path, cfg: Mapping, as_of: dt.date) -> dict:
    """This week's alerts against the previous partition of the scores folder, each new or
    ongoing since the week it was first seen: alerts.parquet (all of them, with their status, for
    the warehouse) and alerts.csv (what is new this week, within the budget; spreadsheet-safe).
    Returns the counts."""
    parts = [str(p) for p in parts_of(staging)]
    schema = pq.ParquetFile(parts[0]).schema_arrow
    now = pq.read_table(
        parts, columns=[*NOW_COLUMNS, *POINT_COLUMNS], partitioning=None
    ).to_pandas()
    opts = cfg.get("alerts") or {}
    changes, since, before = None, None, None
    previous = previous_partition(Path(cfg["paths"]["scores_dir"]), as_of)
    if previous is not None:
        since, folder = previous
        last_week = read_previous(folder)
        changes = (
            compare_weeks(now, last_week, cfg["risk"]["labels"]) if last_week is not None else None
        )
        before = previous_alerts(folder, since)
    alerts = weekly_alerts(now, changes, since, opts)
    alerts = track_alerts(alerts, before, as_of, opts.get("max_per_week"))
    fields = [schema.field(c) if c in schema.names else ALERT_FIELDS[c] for c in ALERT_COLUMNS]
    table = pa.Table.from_pandas(alerts, schema=pa.schema(fields), preserve_index=False)
    pq.write_table(table, staging / ALERTS_FILE)
    fresh = table.filter(pc.equal(table.column("status"), NEW_ALERT))
    pacsv.write_csv(neutralise_cells(fresh), staging / "alerts.csv")
    status = alerts["status"].value_counts()
    kinds = alerts.loc[alerts["status"] == NEW_ALERT, "alert"].value_counts()
    compared = int((changes["comparison"] == "compared").sum()) if changes is not None else 0
    return {
        "alerts": {
            **{s: int(status.get(s, 0)) for s in STATUSES},
            "new_by_kind": {kind: int(kinds.get(kind, 0)) for kind in ALERT_KINDS},
            "max_per_week": opts.get("max_per_week"),
        },
        "compared_with": str(since) if since else None,
        "compared_customers": compared,
    }


def previous_alerts(folder: Path, as_of: dt.date) -> pd.DataFrame | None:
    """Last week's alerts with their first week and status (a partition written before alerts
    were tracked: each first seen that week, and shown)."""
    path = folder / ALERTS_FILE
    if not path.exists():
        return None
    file = pq.ParquetFile(path)  # read as a file: its folder's name is no partition
    have = set(file.schema_arrow.names)
    columns = [c for c in (*ALERT_KEY, "first_seen", "status") if c in have]
    frame = file.read(columns=columns).to_pandas()
    if "first_seen" not in frame:
        frame["first_seen"] = as_of
    if "status" not in frame:
        frame["status"] = NEW_ALERT
    return frame


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
