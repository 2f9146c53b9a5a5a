"""Everything a scoring run writes: parquet parts, the CRM CSVs (spreadsheet-safe), the
warehouse `scores` slice in one transaction. Staging and the final swap live in `store`."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from churn.columns import TREATMENT
from churn.scoring.alerts import ALERTS_FILE
from churn.scoring.economics import why_short
from churn.scoring.policy import plan_calls
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
    "expected_saved_value",
    "offer_cost",
    "expected_net_value",
    "uplift",
    "uplift_action",
    "policy",
    "cross_sell_propensity",
    "upsell_propensity",
    "treatment_group",
    "contact_rule",
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
# money a call list does not show when value is unknown (a customer table without a money column)
MONEY_COLUMNS = (
    "value",
    "clv",
    "net_value",
    "expected_loss",
    "expected_saved_value",
    "offer_cost",
    "expected_net_value",
    "max_compensation",
)


def write_part(frame: pd.DataFrame, schema: pa.Schema, path: Path) -> None:
    pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), path)


def read_part(path: Path) -> pd.DataFrame:
    """One staged file (no partition columns taken from its folder's name)."""
    return pq.ParquetFile(path).read().to_pandas()


def finish_parts(
    staging: Path, calls: set, controls: set, explored: set, rules
) -> tuple[int, Counter]:
    """One pass over the staged parts: mark who is called, who is control, who was drawn by
    exploration and which contact rule keeps a customer out, and append each part to scores.csv
    (the documented columns, for CRM import). Returns the rows and the customers per rule."""
    writer, rows, kept_out = None, 0, Counter()
    for part in parts_of(staging):
        table = pq.ParquetFile(part).read()
        ids = table.column("customer_id").to_pandas()
        group = np.where(ids.isin(calls), CALL, np.where(ids.isin(controls), CONTROL, NONE))
        barred = rules.rule_for(ids)
        rule = table.column("contact_rule").to_pandas().to_numpy(dtype=object)
        rule = np.where(pd.notna(barred), barred, rule)
        for name, column in (
            ("treatment_group", pa.array(group, pa.string())),
            ("explore", pa.array(ids.isin(explored), pa.bool_())),
            ("contact_rule", pa.array(rule, pa.string())),
        ):
            table = table.set_column(table.schema.get_field_index(name), name, column)
        pq.write_table(table, part)
        csv_table = neutralise_cells(table.select(CSV_COLUMNS))
        if writer is None:
            writer = pacsv.CSVWriter(staging / "scores.csv", csv_table.schema)
        writer.write_table(csv_table)
        rows += table.num_rows
        kept_out.update(rule[pd.notna(rule)])
    if writer is not None:
        writer.close()
    return rows, kept_out


def write_call_list(
    staging: Path, candidates: list[pd.DataFrame], cfg: Mapping, decision, rules
) -> dict:
    """Rank the candidates, then one pass over the parts marks call, control and the rules and
    writes the CSVs; the summary says how the list was made and, when empty, why."""
    opts = cfg["score"]
    pool = pd.concat(candidates, ignore_index=True)
    calls, controls, explored = plan_calls(pool, opts)
    ids = pool["customer_id"]
    rows, kept_out = finish_parts(
        staging, set(ids.iloc[calls]), set(ids.iloc[controls]), set(ids.iloc[explored]), rules
    )
    call_list = pool.iloc[calls].assign(treatment_group=CALL, rank=np.arange(1, len(calls) + 1))
    shown = [c for c in CSV_COLUMNS if decision.value_known or c not in MONEY_COLUMNS]
    neutralise_cells(call_list[["rank", *shown]]).to_csv(staging / "call_list.csv", index=False)
    plan = {
        "policy": decision.policy,
        "policy_asked": opts.get("policy_asked", opts["policy"]),
        "why": decision.why,
        "ranked_by": decision.ranked_by,
        "value_known": decision.value_known,
        "capacity": opts["capacity"],
        "kept_out": {rule: int(n) for rule, n in sorted(kept_out.items())},
    }
    if len(calls) < opts["capacity"]:
        plan["short_because"] = why_short(pool, cfg["costs"], decision, len(calls))
    return {
        "calls": len(calls),
        "controls": len(controls),
        "explored": int(np.isin(calls, explored).sum()),
        "rows": rows,
        "call_list": plan,
    }


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
