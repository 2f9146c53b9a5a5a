"""Contract rules as Ibis expressions: typed columns, and a reject reason for every bad row."""

from __future__ import annotations

import datetime as dt_

import ibis
import ibis.expr.datatypes as dt
import pandera.ibis as pa

from churn.errors import ValidationError
from churn.validate.contracts import ColumnRule, TableContract

DTYPES = {
    "int": dt.int64,
    "float": dt.float64,
    "string": dt.string,
    "date": dt.date,
    "timestamp": dt.Timestamp(scale=6),
}
REASON = "reject_reason"


def preview(table: ibis.Table, columns: list[str] | None = None, n: int = 3) -> str:
    """A few rows of a table as text, for error messages."""
    sel = table.select(*columns) if columns else table
    return sel.limit(n).execute().to_string(index=False, max_colwidth=40)


def check_columns(contract: TableContract, raw: ibis.Table) -> None:
    """A missing column is fatal: say which, what the file has, and which config key maps it."""
    missing = [c.name for c in contract.columns if c.name not in raw.columns]
    if missing:
        name = contract.name
        raise ValidationError(
            f"table {name!r}: missing column(s) {', '.join(missing)}. The file has: "
            f"{', '.join(raw.columns)}. Map yours with data.tables.{name}.columns.{missing[0]}: "
            f"<your column>.\nFirst rows:\n{preview(raw)}",
            table=name,
            column=missing[0],
        )


def cast_mode(source: dt.DataType, target: str) -> str | None:
    """cast (always works), try (strings parse row by row) or None (cannot be read)."""
    if target == "string" or source.is_string():
        return "cast" if target == "string" else "try"
    if target in {"int", "float"}:
        return "cast" if source.is_numeric() or source.is_boolean() else None
    return "cast" if source.is_temporal() else None


def typed_column(contract: TableContract, raw: ibis.Table, rule: ColumnRule):
    """The column in our type, plus the condition of rows whose value could not be parsed."""
    col = raw[rule.name]
    mode = cast_mode(col.type(), rule.dtype)
    if mode is None:
        raise ValidationError(
            f"table {contract.name!r}: column {rule.name!r} is {col.type()} and cannot be read as "
            f"{rule.dtype}; fix the source or map another column with "
            f"data.tables.{contract.name}.columns.{rule.name}.\nExample values:\n"
            f"{preview(raw, [rule.name])}",
            table=contract.name,
            column=rule.name,
        )
    if mode == "cast":
        return col.cast(DTYPES[rule.dtype]), None
    typed = col.try_cast(DTYPES[rule.dtype])
    return typed, col.notnull() & typed.isnull()


def rule_reasons(rule: ColumnRule, raw: ibis.Table, row: dict, load_date: dt_.date) -> list[tuple]:
    """(condition, reason) pairs for one column; a true condition rejects the row."""
    col, out = row[rule.name], []
    if not rule.nullable:  # a value that failed to parse is reported as such, not as missing
        out.append((raw[rule.name].isnull(), f"{rule.name} is missing"))
    if rule.allowed is not None:
        out.append(
            (
                col.notnull() & ~col.isin(list(rule.allowed)),
                f"{rule.name} not one of {'/'.join(rule.allowed)}",
            )
        )
    if rule.min_value is not None:
        out.append((col < rule.min_value, f"{rule.name} below {rule.min_value:g}"))
    if rule.max_value is not None:
        out.append((col > rule.max_value, f"{rule.name} above {rule.max_value:g}"))
    if rule.not_before is not None:
        out.append((col < row[rule.not_before], f"{rule.name} before {rule.not_before}"))
    if rule.not_future:
        limit = load_date + dt_.timedelta(days=1)
        bound = ibis.date(limit) if rule.dtype == "date" else ibis.timestamp(limit.isoformat())
        out.append((col >= bound, f"{rule.name} after the load date {load_date}"))
    return out


def tag_rejects(
    contract: TableContract, raw: ibis.Table, parents: dict[str, ibis.Table], load_date: dt_.date
) -> ibis.Table:
    """The raw rows with our typed columns (prefixed `__`) and a `reject_reason` ('' if good)."""
    check_columns(contract, raw)
    typed, conditions = {}, []
    for rule in contract.columns:
        typed[rule.name], parse_failed = typed_column(contract, raw, rule)
        if parse_failed is not None:
            conditions.append((parse_failed, f"{rule.name} is not a valid {rule.dtype}"))
    for rule in contract.columns:
        conditions += rule_reasons(rule, raw, typed, load_date)
        if rule.references:
            parent_table, parent_col = rule.references.split(".")
            known = parents[parent_table][parent_col]
            conditions.append(
                (
                    typed[rule.name].notnull() & ~typed[rule.name].isin(known),
                    f"{rule.name} not in {parent_table}",
                )
            )
    for key in contract.key:
        dupes = raw.select(k=typed[key]).group_by("k").agg(n=ibis._.count()).filter(ibis._.n > 1)
        conditions.append((typed[key].isin(dupes.k), f"duplicate {key}"))
    reason = ibis.literal("")
    for cond, text in conditions:
        reason = reason + cond.ifelse(text + "; ", "")
    return raw.mutate(
        **{f"__{k}": v for k, v in typed.items()}, **{REASON: reason.re_replace(r"; $", "")}
    )


def split_tagged(contract: TableContract, tagged: ibis.Table) -> tuple[ibis.Table, ibis.Table]:
    """Good rows in our columns and types; bad rows as they came, with their reasons."""
    names = [c.name for c in contract.columns]
    clean = tagged.filter(tagged[REASON] == "").select(**{n: tagged[f"__{n}"] for n in names})
    rejects = tagged.filter(tagged[REASON] != "").select(*names, REASON)
    return clean, rejects


def pandera_schema(contract: TableContract, loaded: ibis.Table) -> pa.DataFrameSchema:
    """The loaded table's guarantee, checked inside the warehouse before it is published.

    Timestamps are held to the family, not the precision, which differs between backends.
    """
    columns = {}
    for rule in contract.columns:
        dtype = DTYPES[rule.dtype]
        if rule.dtype == "timestamp" and loaded[rule.name].type().is_timestamp():
            dtype = loaded[rule.name].type()
        checks = []
        if rule.allowed is not None:
            checks.append(pa.Check.isin(list(rule.allowed)))
        if rule.min_value is not None:
            checks.append(pa.Check.ge(rule.min_value))
        if rule.max_value is not None:
            checks.append(pa.Check.le(rule.max_value))
        columns[rule.name] = pa.Column(dtype, checks=checks, nullable=rule.nullable)
    return pa.DataFrameSchema(columns, name=contract.name, strict=True)
