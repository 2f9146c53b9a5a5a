"""Contract rules as Ibis expressions: typed columns, and a reject reason for every bad row."""

from __future__ import annotations

import datetime as dt_
import re

import ibis
import ibis.expr.datatypes as dt
import pandera.ibis as pa

from churn.errors import ConfigError, ValidationError
from churn.validate.contracts import ColumnRule, TableContract
from churn.validate.duplicates import duplicate_reasons

DTYPES = {
    "int": dt.int64,
    "float": dt.float64,
    "string": dt.string,
    "date": dt.date,
    "timestamp": dt.Timestamp(scale=6),
}
REASON = "reject_reason"
# strptime codes a declared date layout may use, and the ISO part each one fills
LAYOUT_CODES = {
    "%Y": r"(\d{4})",
    "%m": r"(\d{2})",
    "%d": r"(\d{2})",
    "%H": r"(\d{2})",
    "%M": r"(\d{2})",
    "%S": r"(\d{2})",
}


def preview(table: ibis.Table, columns: list[str] | None = None, n: int = 3) -> str:
    """A few rows of a table as text, for error messages."""
    sel = table.select(*columns) if columns else table
    return sel.limit(n).execute().to_string(index=False, max_colwidth=40)


def check_columns(contract: TableContract, raw: ibis.Table) -> None:
    """A missing column is fatal: say which, what the file has, and which config key maps it."""
    missing = [c.name for c in contract.present(raw.columns) if c.name not in raw.columns]
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


def parse_layout(col: ibis.Value, layout: str, dtype: str) -> ibis.Value:
    """Dates written in a declared layout (e.g. %Y%m%d), read the same on every backend.

    The parts are cut out with a regular expression and put back together as ISO text, which
    try_cast reads: an impossible date (month 13) becomes a reject, never a failed load.
    """
    tokens = [t for t in re.split(r"(%.)", layout) if t]
    unknown = [t for t in tokens if t.startswith("%") and t not in LAYOUT_CODES]
    if unknown or "%Y" not in tokens:
        raise ConfigError(
            f"date layout {layout!r}: use %Y (required), %m, %d, %H, %M, %S and literal text"
        )
    pattern = "".join(LAYOUT_CODES.get(t, re.escape(t)) for t in tokens)
    codes = [t for t in tokens if t in LAYOUT_CODES]
    text = col.cast("string").strip()
    part = {c: text.re_extract(f"^{pattern}$", i + 1) for i, c in enumerate(codes)}

    def get(code: str, default: str) -> ibis.Value:
        return part.get(code, ibis.literal(default))

    iso = part["%Y"] + "-" + get("%m", "01") + "-" + get("%d", "01")
    if dtype == "timestamp":
        iso = iso + " " + get("%H", "00") + ":" + get("%M", "00") + ":" + get("%S", "00")
    return iso.try_cast(DTYPES[dtype])


def typed_column(
    contract: TableContract, raw: ibis.Table, rule: ColumnRule, layout: str | None = None
):
    """The column in our type, plus the condition of rows whose value could not be parsed."""
    col = raw[rule.name]
    if layout is not None:
        if rule.dtype not in {"date", "timestamp"}:
            raise ConfigError(
                f"data.tables.{contract.name}.formats.{rule.name}: only date and timestamp "
                f"columns take a layout ({rule.name} is {rule.dtype})"
            )
        typed = parse_layout(col, layout, rule.dtype)
        return typed, col.notnull() & typed.isnull()
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
    if rule.dtype == "int" and col.type().is_floating():
        # 5.5 must not be rounded onto customer 6, nor NaN fail the load: number_reasons
        # rejects both, quoting the value
        return col.try_cast(DTYPES["int"]), None
    if mode == "cast":
        return col.cast(DTYPES[rule.dtype]), None
    if rule.dtype == "timestamp":  # text: an offset (+01:00) is honoured, to UTC
        typed = col.try_cast(dt.Timestamp(timezone="UTC")).cast(DTYPES["timestamp"])
    else:
        typed = col.try_cast(DTYPES[rule.dtype])
    return typed, col.notnull() & typed.isnull()


def number_reasons(rule: ColumnRule, raw: ibis.Table) -> list[tuple]:
    """NaN and infinities are row problems, never a failed load or an infinite expected loss;
    an integer column (an id) holds whole numbers only. The reason quotes the raw value."""
    source = raw[rule.name]
    if rule.dtype not in {"int", "float"} or source.type().is_boolean():
        return []
    if source.type().is_numeric():
        number = source.cast(dt.float64)
    elif source.type().is_string():
        number = source.try_cast(dt.float64)
    else:
        return []
    quoted = "'" + source.cast(dt.string) + "'"
    infinite = number.isnan() | number.isinf()
    out = [(number.notnull() & infinite, f"{rule.name} is not a finite number: " + quoted)]
    if rule.dtype == "int":
        fraction = number.notnull() & ~infinite & (number != number.floor())
        out.append((fraction, f"{rule.name} is not a whole number: " + quoted))
    return out


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
    if rule.max_value is not None:  # a non-finite value has its own reason (number_reasons)
        finite = ~(col.isnan() | col.isinf()) if rule.dtype == "float" else True
        out.append((finite & (col > rule.max_value), f"{rule.name} above {rule.max_value:g}"))
    if rule.not_before is not None:
        out.append((col < row[rule.not_before], f"{rule.name} before {rule.not_before}"))
    if rule.range_by is not None:
        other, ranges = rule.range_by
        for value, low, high in ranges:
            outside = (row[other] == value) & ((col < low) | (col > high))
            out.append((outside, f"{rule.name} outside {low:g}-{high:g} on the {value} {other}"))
    if rule.not_future:
        limit = load_date + dt_.timedelta(days=1)
        bound = ibis.date(limit) if rule.dtype == "date" else ibis.timestamp(limit.isoformat())
        out.append((col >= bound, f"{rule.name} after the load date {load_date}"))
    return out


def tag_rejects(
    contract: TableContract,
    raw: ibis.Table,
    parents: dict[str, ibis.Table],
    load_date: dt_.date,
    layouts: dict[str, str] | None = None,
    duplicates: str = "keep_one",
) -> ibis.Table:
    """The raw rows with our typed columns (prefixed `__`) and a `reject_reason` ('' if good).

    A reference is checked against the parents given; customers derived from the transactions
    themselves are not passed, since every transaction defines its customer.
    """
    check_columns(contract, raw)
    layouts = dict(layouts or {})
    unknown = sorted(set(layouts) - {c.name for c in contract.columns})
    if unknown:
        raise ConfigError(
            f"data.tables.{contract.name}.formats: {', '.join(unknown)} is not a column of "
            f"{contract.name}"
        )
    rules = contract.present(raw.columns)
    typed, conditions = {}, []
    for rule in rules:
        layout = layouts.get(rule.name)
        typed[rule.name], parse_failed = typed_column(contract, raw, rule, layout)
        if parse_failed is not None:
            what = f"{rule.dtype} in the layout {layout}" if layout else rule.dtype
            conditions.append((parse_failed, f"{rule.name} is not a valid {what}"))
    for rule in rules:
        conditions += number_reasons(rule, raw)
        conditions += rule_reasons(rule, raw, typed, load_date)
        if rule.references and rule.references.split(".")[0] in parents:
            parent_table, parent_col = rule.references.split(".")
            known = parents[parent_table][parent_col]
            conditions.append(
                (
                    typed[rule.name].notnull() & ~typed[rule.name].isin(known),
                    f"{rule.name} not in {parent_table}",
                )
            )
    conditions += duplicate_reasons(contract, raw, typed, duplicates)
    reason = ibis.literal("")
    for cond, text in conditions:
        reason = reason + cond.ifelse(text + "; ", "")
    return raw.mutate(
        **{f"__{k}": v for k, v in typed.items()}, **{REASON: reason.re_replace(r"; $", "")}
    )


def split_tagged(contract: TableContract, tagged: ibis.Table) -> tuple[ibis.Table, ibis.Table]:
    """Good rows in our columns and types; bad rows as they came, with their reasons."""
    names = [c.name for c in contract.columns if f"__{c.name}" in tagged.columns]
    clean = tagged.filter(tagged[REASON] == "").select(**{n: tagged[f"__{n}"] for n in names})
    rejects = tagged.filter(tagged[REASON] != "").select(*names, REASON)
    return clean, rejects


def pandera_schema(contract: TableContract, loaded: ibis.Table) -> pa.DataFrameSchema:
    """The loaded table's guarantee, checked inside the warehouse before it is published.

    Timestamps are held to the family, not the precision, which differs between backends.
    A nullable column with no value at all gets no value checks: there is nothing to check, and
    the warehouse's all-of-nothing is null, which would read as a failure with no failing row.
    """
    columns = {}
    rules = contract.present(loaded.columns)
    empty = all_null_columns(loaded, [r.name for r in rules if r.nullable and has_checks(r)])
    for rule in rules:
        dtype = DTYPES[rule.dtype]
        if rule.dtype == "timestamp" and loaded[rule.name].type().is_timestamp():
            dtype = loaded[rule.name].type()
        checks = [] if rule.name in empty else value_checks(rule)
        columns[rule.name] = pa.Column(dtype, checks=checks, nullable=rule.nullable)
    return pa.DataFrameSchema(columns, name=contract.name, strict=True)


def value_checks(rule) -> list[pa.Check]:
    checks = []
    if rule.allowed is not None:
        checks.append(pa.Check.isin(list(rule.allowed)))
    if rule.min_value is not None:
        checks.append(pa.Check.ge(rule.min_value))
    if rule.max_value is not None:
        checks.append(pa.Check.le(rule.max_value))
    return checks


def has_checks(rule) -> bool:
    return bool(value_checks(rule))


def all_null_columns(loaded: ibis.Table, names: list[str]) -> set[str]:
    """The named columns without a single value, counted in one query in the warehouse."""
    if not names:
        return set()
    counts = loaded.aggregate(**{f"n{i}": loaded[n].count() for i, n in enumerate(names)})
    row = counts.to_pyarrow().to_pylist()[0]
    return {n for i, n in enumerate(names) if not row[f"n{i}"]}
