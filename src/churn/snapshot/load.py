"""Read a customer table as text, type it by the resolved spec, and load it all or nothing.

Every column is read as text so that missing tokens and odd values can be judged rather than
guessed. Missing tokens become missing values; a value that is not a number, or not a finite one
('inf', '1e400'), is a reject quoting the raw value; exact duplicate rows follow
`data.snapshot.duplicates`. Rejected rows go to `rejects_snapshot` with their reason.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import uuid
from collections.abc import Mapping
from pathlib import Path

import ibis
import numpy as np
import pandas as pd

from churn.columns import ARM_COLUMN, VALUE_COLUMN
from churn.errors import ConfigError, ValidationError
from churn.snapshot.checks import check_leakage, copies_found, find_duplicates
from churn.snapshot.dates import days_before, parse_dates
from churn.snapshot.money import value_columns
from churn.snapshot.numbers import parse_numbers
from churn.snapshot.vocabulary import normal_label
from churn.validate import TableResult, stale_tables
from churn.validate.contracts import SNAPSHOT_TABLE
from churn.warehouse import swap_tables

log = logging.getLogger(__name__)
TABLE = SNAPSHOT_TABLE
KEPT_ONCE = "exact duplicate of an earlier row (kept once; data.snapshot.duplicates)"
COPY_KEPT_ONCE = "identical to an earlier row but the id (kept once; data.snapshot.duplicates)"


def read_source(snapshot: Mapping) -> pd.DataFrame:
    """Every column as text (parquet values too), with the config key named on failure."""
    path = Path(snapshot["path"])
    if not path.is_file():
        raise ConfigError(f"data.snapshot.path: {path} does not exist or is not a file")
    parquet = path.suffix.lower() == ".parquet"
    try:
        if parquet:
            frame = pd.read_parquet(path)
            return frame.astype(object).where(frame.notna(), None)
        options = {"sep": None, "engine": "python"} if path.suffix.lower() == ".txt" else {}
        options.update(csv_options(snapshot))
        text = without_nul_bytes(path)
        header = pd.read_csv(io.BytesIO(text), dtype=str, header=None, nrows=1, **options)
        check_unique_names([str(n) for n in header.iloc[0].fillna("")], path)
        return pd.read_csv(io.BytesIO(text), dtype=str, keep_default_na=False, **options)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
        kind = "parquet" if parquet else "CSV"
        raise ConfigError(
            f"data.snapshot.path: {path} cannot be read as {kind} ({type(err).__name__}: "
            f"{str(err)[:200]}); check the file, or data.snapshot.csv_options"
        ) from err


def without_nul_bytes(path: Path) -> bytes:
    """The file's bytes; NUL bytes (which cut a value short in the CSV reader: 'Fe\\x00male'
    read as 'Fe') are stripped and counted in the log."""
    raw = path.read_bytes()
    nul = raw.count(b"\x00")
    if nul:
        log.warning("%s: %d NUL bytes stripped (a damaged export; values kept whole)", path, nul)
        raw = raw.replace(b"\x00", b"")
    return raw


def check_unique_names(names: list[str], path: Path) -> None:
    """Two columns with one name would become `name` and `name.1`, the second a feature nobody
    asked for: the load stops, naming them."""
    seen = pd.Series(names)
    twice = sorted(set(seen[seen.duplicated()]))
    if twice:
        raise ConfigError(
            f"data.snapshot.path: {path} has more than one column named "
            f"{', '.join(repr(n) for n in twice)}; rename them so each column has its own name"
        )


def number_style(spec: Mapping) -> dict:
    """The decimal mark and thousands separator the spec found (a spec written before them:
    a point and a comma)."""
    return {"decimal": spec.get("decimal") or ".", "thousands": spec.get("thousands") or ","}


def csv_options(snapshot: Mapping) -> dict:
    """The read_csv options a snapshot config sets (unset ones left to pandas)."""
    return {k: v for k, v in (snapshot.get("csv_options") or {}).items() if v is not None}


def check_mapping(frame: pd.DataFrame, snapshot: Mapping) -> None:
    """Start-up errors in the user's own column names, naming the config key to fix."""
    label = (snapshot.get("label") or {}).get("column")
    if not label:
        raise ConfigError("data.snapshot.label.column: name the column that says who churned")
    wanted = {"data.snapshot.label.column": label}
    if snapshot.get("id"):
        wanted["data.snapshot.id"] = snapshot["id"]
    value = snapshot.get("value")
    if isinstance(value, Mapping) and value.get("column") not in (None, "none"):
        wanted["data.snapshot.value.column"] = value["column"]
    if isinstance(value, Mapping):
        wanted.update({f"data.snapshot.value.columns.{c}": c for c in value.get("columns") or []})
    for key in ("features", "allow_leaky"):
        names = snapshot.get(key) or []
        wanted.update({f"data.snapshot.{key}.{name}": name for name in names})
    missing = {key: col for key, col in wanted.items() if col not in frame.columns}
    if missing:
        listed = ", ".join(f"{col!r} ({key})" for key, col in missing.items())
        raise ConfigError(
            f"{snapshot['path']}: no column {listed}; the file has: {', '.join(frame.columns)}"
        )


def note(reasons: pd.Series, mask: pd.Series, reason) -> None:
    """A row keeps its first reason."""
    fresh = mask & (reasons == "")
    reasons[fresh] = reason[fresh] if isinstance(reason, pd.Series) else reason


def read_numbers(
    column: pd.Series, name: str, tokens, rule: str, reasons: pd.Series, fmt=None
) -> pd.Series:
    """Finite floats (as the table writes them); missing tokens follow the blank rule; anything
    else is a reject."""
    text = column.astype(str).str.strip()
    blank = column.isna() | text.isin(set(tokens))
    number = parse_numbers(text.where(~blank), fmt)
    quoted = text.map(repr)
    note(reasons, number.isna() & ~blank, f"{name} is not a number: " + quoted)
    infinite = number.notna() & ~np.isfinite(number)
    note(reasons, infinite, f"{name} is not a finite number: " + quoted)
    number[infinite] = np.nan
    if rule == "zero":
        number[blank] = 0.0
    elif rule == "reject":
        note(reasons, blank, f"{name} is blank (data.snapshot.features.{name}.blank=reject)")
    return number


def read_dates(column: pd.Series, name: str, tokens, reasons: pd.Series, spec: Mapping):
    """Days from each date to the table's date; text that is no date is a reject, quoted."""
    text = column.astype(str).str.strip()
    blank = column.isna() | text.isin(set(tokens))
    dates = parse_dates(text.where(~blank, ""))
    note(reasons, dates.isna() & ~blank, f"{name} is not a date: " + text.map(repr))
    as_of = dt.date.fromisoformat(str(spec["as_of"])) if spec.get("as_of") else dt.date.today()
    return days_before(dates, as_of)


def customer_ids(frame: pd.DataFrame, spec: Mapping, reasons: pd.Series) -> pd.Series:
    """The id column, or the row's line number in the file when there is none."""
    if spec["id"] is None:
        return pd.Series((frame.index + 1).astype(str), index=frame.index)
    ids = frame[spec["id"]].astype(str).str.strip()
    note(
        reasons,
        ids.isin(set(spec["missing_tokens"])) | frame[spec["id"]].isna(),
        "blank customer id",
    )
    kept = reasons == ""  # copies of an exact duplicate row are already accounted for
    clash = ids.where(kept).duplicated(keep=False) & kept
    note(reasons, clash, "duplicate customer id")
    return ids


def clean(frame: pd.DataFrame, spec: Mapping) -> tuple[pd.DataFrame, pd.DataFrame, int, dict]:
    """Typed rows, rejected rows (with a reason each), how many duplicate copies were kept once
    (those copies are in the rejects too, so nothing is lost), and the copies but the id kept."""
    drop, reject, copies = find_duplicates(frame, spec["duplicates"], spec["id"])
    reasons = pd.Series("", index=frame.index, dtype=object)
    note(reasons, drop & frame.duplicated(), KEPT_ONCE)
    note(reasons, drop & ~frame.duplicated(), COPY_KEPT_ONCE)
    note(reasons, reject, "duplicate row, or a copy but the id (data.snapshot.duplicates=reject)")
    out = pd.DataFrame({"customer_id": customer_ids(frame, spec, reasons)})
    tokens = list(spec["missing_tokens"])
    for name, feature in spec["features"].items():
        if feature.get("date"):
            out[name] = read_dates(frame[name], name, tokens, reasons, spec)
        elif feature["kind"] == "numeric":
            own = tokens + list(feature.get("missing_tokens", []))
            out[name] = read_numbers(
                frame[name], name, own, feature["blank"], reasons, number_style(spec)
            )
        else:
            text = frame[name].astype(str).str.strip()
            out[name] = text.where(~(frame[name].isna() | text.isin(set(tokens))), None)
    label = spec["label"]
    text = frame[label["column"]].astype(str).str.strip()
    note(
        reasons,
        frame[label["column"]].isna() | text.isin(set(tokens)),
        f"label {label['column']} is missing",
    )
    out["churn"] = (text.map(normal_label) == normal_label(label["positive"])).astype("float64")
    out[VALUE_COLUMN] = value_of(frame, spec, out, reasons)
    if spec.get("treatment"):
        out[ARM_COLUMN] = arms_of(frame, spec, reasons)
    rejected = reasons != ""
    rejects = frame[rejected].assign(reject_reason=reasons[rejected])
    facts = copies_found(frame, copies & ~rejected, spec["id"])
    kept = out[~rejected].reset_index(drop=True)
    return kept, rejects.reset_index(drop=True), int(drop.sum()), facts


def arms_of(frame: pd.DataFrame, spec: Mapping, reasons: pd.Series) -> pd.Series:
    """Each customer's arm in the randomized test, as text; a blank arm is a reject (nobody
    knows whether that customer was contacted)."""
    column = spec["treatment"]["column"]
    text = frame[column].astype(str).str.strip()
    tokens = set(spec["missing_tokens"]) - {str(spec["treatment"]["control"]).strip()}
    blank = frame[column].isna() | text.isin(tokens)  # a control named "none" is no blank
    note(reasons, blank, f"arm {column} is blank (data.snapshot.treatment.column)")
    return text.where(~blank, None)


def value_of(frame, spec: Mapping, out: pd.DataFrame, reasons: pd.Series) -> pd.Series:
    """Yearly value: the value column (or the sum of one bill's parts) times its multiplier;
    unknown (null) without one, or where a part is missing."""
    value = spec.get("value")
    if not value:
        return pd.Series(np.nan, index=frame.index)
    total = pd.Series(0.0, index=frame.index)
    for name in value_columns(value):
        if name in out:
            total = total + out[name]
        else:
            total = total + read_numbers(
                frame[name], name, spec["missing_tokens"], "missing", reasons, number_style(spec)
            )
    return total * float(value.get("multiplier", 1.0))


def load_snapshot(con, spec: Mapping, frame: pd.DataFrame, max_reject_fraction: float):
    """Clean, check and publish the snapshot table and its rejects, all or nothing."""
    rows, rejects, kept_once, copies = clean(frame, spec)
    kinds = (
        rejects["reject_reason"].str.replace(r": '.*'$", "", regex=True) if len(rejects) else None
    )
    by_reason = kinds.value_counts().to_dict() if kinds is not None else {}
    result = TableResult(
        TABLE, len(frame), len(rows), by_reason, rejects.head(5) if len(rejects) else None
    )
    bad = result.rejected - kept_once
    if len(frame) and bad / len(frame) > max_reject_fraction:
        raise ValidationError(
            reject_message(result, rejects, bad, max_reject_fraction), table=TABLE
        )
    if rows.empty:
        raise ValidationError(f"table {TABLE!r}: no row left to load from {spec['path']}")
    strength = check_leakage(rows, spec)
    tag = uuid.uuid4().hex[:8]
    staged = {TABLE: f"_stg_{TABLE}_{tag}", f"rejects_{TABLE}": f"_stg_rejects_{TABLE}_{tag}"}
    con.create_table(staged[TABLE], rows, overwrite=True)
    if len(rejects):
        con.create_table(staged[f"rejects_{TABLE}"], rejects.astype(str), overwrite=True)
    else:  # an empty frame has no types to infer: every column is text, as it was read
        schema = ibis.schema({str(c): "string" for c in rejects.columns})
        con.create_table(staged[f"rejects_{TABLE}"], schema=schema, overwrite=True)
    swap_tables(con, staged, drop=stale_tables(con, {TABLE}))
    checks = {
        "duplicate_rows_kept_once": kept_once,
        "copies_but_id": copies,
        "identical_rows_kept": int(frame.duplicated().sum())
        if spec["duplicates"] == "keep_all"
        else 0,
        "column_roc_auc": {k: round(v, 4) for k, v in list(strength.items())[:10]},
        "excluded": spec.get("excluded", {}),
    }
    return result, checks


def reject_message(result: TableResult, rejects: pd.DataFrame, bad: int, limit: float) -> str:
    """Counts by reason, examples, and the setting that fits each kind of reason."""
    hints = []
    reasons = " ".join(result.rejects_by_reason)
    if "is not a number" in reasons:
        hints.append(
            "words that mean 'not known' in a numeric column can be listed in "
            "data.snapshot.missing_tokens (or, in the data config, snapshot.features.<column>."
            "missing_tokens)"
        )
    if "is blank" in reasons:
        hints.append("data.snapshot.features.<column>.blank: missing keeps blanks as missing")
    hints.append(f"validate.max_reject_fraction={limit} allows more rejects")
    shown = rejects.head(5).to_string(index=False, max_colwidth=40)
    return (
        f"table {TABLE!r}: {bad:,} of {result.rows_in:,} rows rejected "
        f"({result.rejects_by_reason}); nothing loaded. {'; '.join(hints)}. Examples:\n{shown}"
    )
