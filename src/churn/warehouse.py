"""The warehouse: an Ibis connection from config, and raw sources read through column mappings.

DuckDB (a file under paths.data_dir) is the default; `warehouse.backend=pyspark` runs the same
expressions on Spark, and `warehouse.backend=url warehouse.url=...` on any Ibis backend.
"""

from __future__ import annotations

import contextlib
import glob
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import ibis
from ibis.backends import BaseBackend

from churn.errors import ChurnError, ConfigError, ValidationError


def connect(warehouse: Mapping[str, Any]) -> BaseBackend:
    """Open the configured backend; nothing is created until a connection is asked for."""
    backend = warehouse["backend"]
    if backend == "duckdb":
        path = Path(warehouse["path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        return connect_duckdb(path, warehouse.get("memory_limit"))
    if backend == "pyspark":
        return ibis.pyspark.connect(spark_session(warehouse))
    if backend == "url":
        if not warehouse.get("url"):
            raise ConfigError("warehouse.backend=url needs warehouse.url=<ibis connection string>")
        return ibis.connect(warehouse["url"])
    raise ConfigError(f"warehouse.backend={backend!r} is unknown: use duckdb, pyspark or url")


def connect_duckdb(path: Path, memory_limit: str | None = None) -> BaseBackend:
    """DuckDB allows one writing process: say which one holds the file, not a driver error.
    `memory_limit` (e.g. "1GB") bounds DuckDB's own memory; bigger queries spill to disk."""
    import re

    import duckdb

    settings = {"memory_limit": str(memory_limit)} if memory_limit else {}
    try:
        con = ibis.duckdb.connect(str(path), **settings)
        # in UTC, as Spark: a timestamp with an offset means the same instant on any machine
        con.raw_sql("SET TimeZone = 'UTC'")
        return con
    except (duckdb.InvalidInputException, duckdb.ParserException) as err:
        raise ConfigError(f"warehouse.memory_limit={memory_limit!r}: {err}") from err
    except duckdb.IOException as err:
        held = re.search(r"PID (\d+)", str(err))
        if "lock" not in str(err).lower():
            raise ChurnError(f"warehouse.path={path} cannot be opened: {err}") from err
        who = f"another churn process (pid {held.group(1)})" if held else "another process"
        raise ChurnError(
            f"{who} holds {path} (warehouse.path); wait for it to finish and run again"
        ) from err


def spark_session(warehouse: Mapping[str, Any]):
    """A Spark session in UTC, so timestamps mean the same on Spark as on DuckDB."""
    from pyspark.sql import SparkSession

    master = warehouse.get("spark_master", "local[2]")
    builder = SparkSession.builder.master(master)
    if master.startswith("local"):  # Python UDF workers run this interpreter, with its packages
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        builder.appName("churn")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(Path(warehouse["spark_warehouse_dir"]).resolve()))
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextlib.contextmanager
def connection(warehouse: Mapping[str, Any]) -> Iterator[BaseBackend]:
    con = connect(warehouse)
    try:
        yield con
    finally:
        if warehouse["backend"] != "pyspark":  # the Spark session outlives one step
            con.disconnect()


def infer_format(path: str, declared: str) -> str:
    if declared != "auto":
        return declared
    suffix = path.lower().rsplit(".", 1)[-1]
    if suffix in {"csv", "tsv", "txt"}:
        return "csv"
    return "parquet"


def read_whitespace(path: str) -> ibis.Table:
    """A text file whose columns are separated by runs of spaces (CDNOW_master.txt, many exports
    of fixed-width reports): read as text, typed later by the contract like any other source.

    An in-memory table, not a named one: Spark resolves a name to an older temporary view first.
    """
    import pandas as pd

    frame = pd.concat(
        pd.read_csv(p, sep=r"\s+", dtype=str, keep_default_na=False, na_values=[""])
        for p in sorted(glob.glob(path))
    )
    return ibis.memtable(frame)


def read_as(con: BaseBackend, table: str, path: str, fmt: str, source: Mapping) -> ibis.Table:
    name = f"_src_{table}"
    if fmt == "whitespace":
        return read_whitespace(path)
    if fmt == "csv":
        return con.read_csv(path, table_name=name, **dict(source.get("csv_options") or {}))
    return con.read_parquet(path, table_name=name)


def read_source(con: BaseBackend, table: str, source: Mapping[str, Any]) -> ibis.Table:
    """Read one raw file and rename the user's columns to ours (ours: theirs in the config)."""
    path = str(source["path"])
    found = glob.glob(path)
    if not found:
        raise ValidationError(
            f"table {table!r}: file {path} does not exist; fix data.tables.{table}.path",
            table=table,
        )
    odd = [p for p in found if not (os.path.isfile(p) or os.path.isdir(p))]
    if odd:  # a pipe or a device would be read for ever, holding the warehouse's lock
        raise ValidationError(
            f"table {table!r}: {odd[0]} is not a regular file or folder (a pipe or a device); "
            f"fix data.tables.{table}.path",
            table=table,
        )
    fmt = infer_format(path, source.get("format", "auto"))
    try:
        raw = read_as(con, table, path, fmt, source)
        raw.schema()  # a file that is not what its name says fails here, not mid-load
    except Exception as err:  # noqa: BLE001 - every backend raises its own error types
        if isinstance(err, ValidationError):
            raise
        raise ValidationError(
            f"table {table!r}: {path} cannot be read as {fmt} ({type(err).__name__}: "
            f"{str(err).splitlines()[0][:200]}); is it a {fmt} file, and whole? Fix "
            f"data.tables.{table}.path or data.tables.{table}.format",
            table=table,
        ) from err
    mapping = dict(source.get("columns") or {})
    missing = [
        f"{ours} (your column {theirs!r})"
        for ours, theirs in mapping.items()
        if theirs not in raw.columns
    ]
    if missing:
        raise ValidationError(
            f"table {table!r}: mapped columns not found in {path}: {', '.join(missing)}; "
            f"fix data.tables.{table}.columns (the file has: {', '.join(raw.columns)})",
            table=table,
            column=missing[0].split(" ")[0],
        )
    return raw.rename({ours: theirs for ours, theirs in mapping.items() if ours != theirs})


def table_names(con: BaseBackend) -> set[str]:
    return set(con.list_tables())


def swap_tables(con: BaseBackend, staged: Mapping[str, str], drop: Sequence[str] = ()) -> None:
    """Replace each target by its staged table, and drop the tables this load no longer
    defines, in one step; DuckDB does it in one transaction."""
    if con.name == "duckdb":
        raw = con.con
        raw.execute("BEGIN TRANSACTION")
        try:
            for name in drop:
                raw.execute(f'DROP TABLE IF EXISTS "{name}"')
            for target, stage in staged.items():
                raw.execute(f'DROP TABLE IF EXISTS "{target}"')
                raw.execute(f'ALTER TABLE "{stage}" RENAME TO "{target}"')
            raw.execute("COMMIT")
        except Exception:
            raw.execute("ROLLBACK")
            raise
        return
    for name in drop:
        con.drop_table(name, force=True)
    for target, stage in staged.items():
        con.drop_table(target, force=True)
        con.rename_table(stage, target)


def drop_tables(con: BaseBackend, names: list[str]) -> None:
    for name in names:
        con.drop_table(name, force=True)
