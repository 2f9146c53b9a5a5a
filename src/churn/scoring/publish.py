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
from churn.scoring.policy import select_calls
from churn.store import neutralise_cells, parts_of

log = logging.getLogger(__name__)
CALL, CONTROL, NONE = TREATMENT

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
    "cross_sell_propensity",
    "upsell_propensity",
    "treatment_group",
    "reason_1",
    "reason_2",
    "reason_3",
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


def finish_parts(staging: Path, calls: set, controls: set) -> int:
    """One pass over the staged parts: mark who is called and who is control, and append each
    part to scores.csv (the documented columns, for CRM import). Returns the rows."""
    writer, rows = None, 0
    for part in parts_of(staging):
        table = pq.ParquetFile(part).read()
        ids = table.column("customer_id").to_pandas()
        group = np.where(ids.isin(calls), CALL, np.where(ids.isin(controls), CONTROL, NONE))
        index = table.schema.get_field_index("treatment_group")
        table = table.set_column(index, "treatment_group", pa.array(group, pa.string()))
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
    calls, controls = select_calls(
        pool["expected_net_value"].to_numpy(), pool["holdout"].to_numpy(), opts["capacity"]
    )
    rows = finish_parts(
        staging, set(pool["customer_id"].iloc[calls]), set(pool["customer_id"].iloc[controls])
    )
    call_list = pool.iloc[calls].assign(treatment_group=CALL, rank=np.arange(1, len(calls) + 1))
    neutralise_cells(call_list[["rank", *CSV_COLUMNS]]).to_csv(
        staging / "call_list.csv", index=False
    )
    return {"calls": len(calls), "controls": len(controls), "rows": rows}


def publish_table(con, staging: Path, as_of: dt.date) -> None:
    """Replace the as_of slice of the warehouse `scores` table in one transaction."""
    if con.name != "duckdb":  # Spark's table is written by scoring.spark
        log.warning("scores table: DuckDB and Spark warehouses get one, not %s", con.name)
        return
    raw = con.con
    # the path reaches DuckDB as a value of its relational API, never pasted into SQL text
    incoming = raw.read_parquet(str(staging / "part-*.parquet"))
    view = f"_incoming_scores_{uuid.uuid4().hex[:8]}"
    raw.register(view, incoming)
    try:
        insert_scores(raw, view, as_of)
    finally:
        raw.unregister(view)


def insert_scores(raw, view: str, as_of: dt.date) -> None:
    """Add new columns, replace the as_of slice, all in one transaction."""
    raw.execute(f'CREATE TABLE IF NOT EXISTS scores AS SELECT * FROM "{view}" LIMIT 0')
    have = {r[0] for r in raw.execute("DESCRIBE scores").fetchall()}
    incoming = raw.execute(f'DESCRIBE SELECT * FROM "{view}"').fetchall()
    raw.execute("BEGIN TRANSACTION")
    try:
        for name, kind, *_ in incoming:
            if name not in have:
                quoted = name.replace('"', '""')
                raw.execute(f'ALTER TABLE scores ADD COLUMN "{quoted}" {kind}')
        raw.execute("DELETE FROM scores WHERE as_of = ?", [as_of])
        raw.execute(f'INSERT INTO scores BY NAME SELECT * FROM "{view}"')
        raw.execute("COMMIT")
    except Exception:
        raw.execute("ROLLBACK")
        raise
