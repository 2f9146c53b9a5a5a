"""`churn validate`: check raw tables against their contracts and load them into the warehouse.

Fatal problems (a missing table or column, a type that cannot be read) stop the load with a
message naming the table and column. Bad rows go to `rejects_<table>` with their reasons and the
load goes on, unless a table's reject fraction passes `validate.max_reject_fraction`. Everything
is built in staging tables and swapped in at the end, so a failed load leaves the previous
warehouse exactly as it was.
"""

from __future__ import annotations

import datetime as dt_
import glob
import json
import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ibis
import pandera.ibis as pa
from ibis.backends import BaseBackend
from omegaconf import DictConfig, OmegaConf

from churn.errors import ConfigError, ValidationError
from churn.fingerprint import code_state, file_state, fingerprint, unchanged
from churn.validate import contracts, duplicates, rules, signup
from churn.validate.contracts import CONTRACT_BY_NAME, CONTRACTS, RAW_TABLES, TableContract
from churn.validate.results import TableResult, describe_overflow, log_results, summarize
from churn.validate.rules import (
    REASON,
    pandera_schema,
    split_tagged,
    tag_rejects,
)
from churn.validate.signup import mark_before_signup
from churn.warehouse import connection, drop_tables, read_source, swap_tables

log = logging.getLogger(__name__)
# what decides a load, beside this module: a change to any of them loads the tables again
RULE_MODULES = (contracts, duplicates, rules, signup)


def resolve_load_date(value: str | None) -> dt_.date:
    return dt_.date.fromisoformat(str(value)) if value else dt_.date.today()


DERIVATIONS = ("first_purchase",)


def check_table_config(tables: Mapping[str, Any]) -> None:
    unknown = sorted(set(tables) - set(CONTRACT_BY_NAME))
    if unknown:
        raise ConfigError(
            f"data.tables has unknown table(s) {', '.join(unknown)}; "
            f"known tables: {', '.join(CONTRACT_BY_NAME)}"
        )
    for contract in CONTRACTS:
        if contract.required and contract.name not in tables:
            raise ValidationError(
                f"table {contract.name!r} is required: add data.tables.{contract.name}.path",
                table=contract.name,
            )
    for name, source in tables.items():
        derive = source.get("derive")
        if derive is None and not source.get("path"):
            raise ConfigError(f"data.tables.{name}.path is missing")
        if derive is not None and (name != "customers" or derive not in DERIVATIONS):
            raise ConfigError(
                f"data.tables.{name}.derive={derive!r}: only customers can be derived, "
                f"from {' or '.join(DERIVATIONS)}"
            )
        if derive == "first_purchase" and "transactions" not in tables:
            raise ConfigError(
                "data.tables.customers.derive=first_purchase needs data.tables.transactions"
            )


def staging_order(tables: Mapping[str, Any]) -> list[TableContract]:
    """Contract order, except that derived customers come after the transactions they come from."""
    contracts = [c for c in CONTRACTS if c.name in tables]
    if tables["customers"].get("derive") == "first_purchase":
        tx = CONTRACT_BY_NAME["transactions"]
        contracts.remove(tx)
        contracts.insert(0, tx)
    return contracts


def stage_table(
    con: BaseBackend,
    contract: TableContract,
    source: Mapping[str, Any],
    load_date: dt_.date,
    example_rows: int,
    parents: Mapping[str, Any] | None = None,
    before_signup: str = "reject",
) -> TableResult:
    """Write `_stg_<table>` and `_stg_rejects_<table>`; return the counts.

    `parents` are the tables staged earlier in this load that references are checked against.
    """
    if source.get("derive"):
        return stage_derived_customers(con, contract)
    raw = read_source(con, contract.name, source)
    tagged = tag_rejects(
        contract,
        raw,
        dict(parents or {}),
        load_date,
        source.get("formats"),
        source.get("duplicates") or "keep_one",
    )
    tagged = mark_before_signup(tagged, contract, dict(parents or {}), before_signup)
    clean, rejects = split_tagged(contract, tagged)
    con.create_table(f"_stg_{contract.name}", clean, overwrite=True)
    staged_rejects = con.create_table(f"_stg_rejects_{contract.name}", rejects, overwrite=True)
    kind = staged_rejects[REASON].re_replace(r": '[^']*'", "")  # counted by kind, not by value
    by_reason = (
        staged_rejects.mutate(**{REASON: kind}).group_by(REASON).agg(n=ibis._.count()).execute()
    )
    return TableResult(
        table=contract.name,
        rows_in=int(raw.count().execute()),
        rows_loaded=int(con.table(f"_stg_{contract.name}").count().execute()),
        rejects_by_reason={r[REASON]: int(r["n"]) for r in by_reason.to_dict("records")},
        examples=staged_rejects.limit(example_rows).execute() if len(by_reason) else None,
    )


def stage_derived_customers(con: BaseBackend, contract: TableContract) -> TableResult:
    """Customers of a transactions-only log: everyone who bought, signed up on the first purchase.

    Built from the already checked transactions, so it has no rejects of its own; the columns a
    log cannot know (region, segment, ...) are absent, and their features are skipped.
    """
    tx = con.table("_stg_transactions")
    customers = tx.group_by("customer_id").agg(signup_date=tx.ts.min().date())
    con.create_table(f"_stg_{contract.name}", customers, overwrite=True)
    rejects = customers.limit(0).mutate(**{REASON: ibis.literal("")})
    con.create_table(f"_stg_rejects_{contract.name}", rejects, overwrite=True)
    rows = int(con.table(f"_stg_{contract.name}").count().execute())
    log.info("customers derived from the first purchase of each buyer: %s", f"{rows:,}")
    return TableResult(table=contract.name, rows_in=rows, rows_loaded=rows)


def guard_schema(con: BaseBackend, contract: TableContract) -> None:
    """pandera checks the staged table inside the warehouse before it is published."""
    staged = con.table(f"_stg_{contract.name}")
    if staged.count().execute() == 0:  # pandera.ibis would call every column of no rows null
        log.info(
            "table %s is empty: valid input; its features read as for customers without "
            "such events",
            contract.name,
        )
        return
    try:
        pandera_schema(contract, staged).validate(staged, lazy=True)
    except (pa.errors.SchemaErrors, pa.errors.SchemaError) as err:
        raise ValidationError(
            f"table {contract.name!r}: loaded rows break the contract:\n{err}", table=contract.name
        ) from err


def load_warehouse(
    con: BaseBackend,
    tables: Mapping[str, Any],
    load_date: dt_.date,
    max_reject_fraction: float,
    example_rows: int = 5,
    before_signup: str = "reject",
) -> list[TableResult]:
    """Stage, check and publish every configured table; all or nothing."""
    check_table_config(tables)
    contracts = staging_order(tables)
    staged = {}
    try:
        results = []
        for contract in contracts:
            # only this load's staged customers: a killed earlier run may have left some behind
            parents = {"customers": con.table("_stg_customers")} if "customers" in staged else {}
            staged[contract.name] = f"_stg_{contract.name}"
            staged[f"rejects_{contract.name}"] = f"_stg_rejects_{contract.name}"
            results.append(
                stage_table(
                    con,
                    contract,
                    tables[contract.name],
                    load_date,
                    example_rows,
                    parents,
                    before_signup,
                )
            )
        too_many = [r for r in results if r.reject_fraction > max_reject_fraction]
        if too_many:
            raise ValidationError(
                describe_overflow(results, max_reject_fraction), table=too_many[0].table
            )
        for contract in contracts:
            guard_schema(con, contract)
        swap_tables(con, staged, drop=stale_tables(con, set(tables)))
    except BaseException:
        drop_tables(con, [s for s in staged.values() if s in set(con.list_tables())])
        raise
    return results


def stale_tables(con: BaseBackend, loaded: set[str]) -> list[str]:
    """Raw tables (and their rejects) that this load does not define: one load defines the whole
    set, so a table dropped from the data config stops feeding features and scores."""
    present = set(con.list_tables())
    stale = [t for t in RAW_TABLES if t not in loaded and t in present]
    stale += [f"rejects_{t}" for t in RAW_TABLES if t not in loaded and f"rejects_{t}" in present]
    for name in stale:
        log.info("dropping %s: not in this load's data config", name)
    return stale


def source_files(tables: Mapping[str, Any]) -> list[str]:
    return sorted(f for t in tables.values() if t.get("path") for f in glob.glob(str(t["path"])))


def run_validate_events(cfg: DictConfig) -> list[TableResult]:
    """Load the configured raw tables into the warehouse and write validation_report.json.

    Skipped, with a log line, when the files, the config and the contracts are as last time.
    """
    tables = OmegaConf.to_container(cfg.data.tables, resolve=True)
    load_date = resolve_load_date(cfg.data.load_date)
    warehouse = OmegaConf.to_container(cfg.warehouse, resolve=True)
    report = Path(cfg.paths.data_dir) / "validation_report.json"
    inputs = fingerprint(
        files=file_state(source_files(tables)),
        tables=tables,
        load_date=load_date,
        options=OmegaConf.to_container(cfg.validate),
        warehouse=warehouse,
        code=code_state([sys.modules[__name__], *RULE_MODULES]),
    )
    on_file = warehouse["backend"] == "duckdb" and Path(warehouse["path"]).exists()
    if not cfg.force and on_file and unchanged(report, "inputs", inputs, "validate"):
        return []
    with connection(warehouse) as con:
        opts = cfg.validate
        results = load_warehouse(
            con, tables, load_date, opts.max_reject_fraction, opts.example_rows, opts.before_signup
        )
    log_results(results)
    summary = {"load_date": str(load_date), "inputs": inputs, "tables": summarize(results)}
    report.write_text(json.dumps(summary, indent=2) + "\n")
    log.info("warehouse ready (%s); report in %s", warehouse["backend"], report)
    return results
