"""Numbers as people write them in exported customer tables: `1,889.50`, `$29.85`, `12%`,
`1.889,50` in a comma-decimal export. The table's convention (which mark is the decimal point,
which the thousands separator) is found once from its values, said in the log, and
`data.snapshot.decimal` / `data.snapshot.thousands` override it. Currency signs and a trailing
percent sign are dropped: `12%` is 12, as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

CURRENCY = "$€£¥₹"
POINT = {"decimal": ".", "thousands": ","}
COMMA = {"decimal": ",", "thousands": "."}
SAMPLE = 2000  # values looked at per column to find the convention


def parse_numbers(text: pd.Series, fmt: Mapping | None = None) -> pd.Series:
    """Floats where the text is a number (inf included, judged later: '1e400' overflows to inf
    as Python reads it, where pandas gives up), NaN elsewhere."""
    fmt = fmt or POINT
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    if fmt["decimal"] != ".":  # '1.5' is not one and a half in a comma-decimal table
        numbers[text.astype(str).str.contains(".", regex=False)] = float("nan")
    retry = numbers.isna() & text.notna()
    if retry.any():
        decimal, thousands = fmt["decimal"], fmt["thousands"]
        numbers[retry] = text[retry].map(lambda t: everyday_float(t, decimal, thousands))
    return numbers


def everyday_float(text, decimal: str = ".", thousands: str = ",") -> float:
    """One number as written: sign, currency, thousands separators, decimal mark, percent."""
    body = str(text).strip()
    sign = ""
    if body[:1] in "+-":
        sign, body = body[0], body[1:].strip()
    body = body.strip(CURRENCY).strip()
    if body[:1] in "+-" and not sign:
        sign, body = body[0], body[1:].strip()
    body = body.removesuffix("%").strip()
    grouped = rf"\d{{1,3}}({re.escape(thousands)}\d{{3}})+({re.escape(decimal)}\d*)?"
    if thousands and re.fullmatch(grouped, body):
        body = body.replace(thousands, "")
    if decimal != "." and body.count(decimal) == 1:
        body = body.replace(decimal, ".")
    return python_float(sign + body)


def python_float(text) -> float:
    try:
        return float(str(text).strip())
    except ValueError:
        return float("nan")


def number_format(frame: pd.DataFrame, declared: Mapping, lines: list[str]) -> dict:
    """The table's decimal mark and thousands separator: declared, else what its values use."""
    if declared.get("decimal") or declared.get("thousands"):
        decimal = declared.get("decimal") or ("," if declared.get("thousands") == "." else ".")
        fmt = {
            "decimal": decimal,
            "thousands": declared.get("thousands") or ("." if decimal == "," else ","),
        }
        lines.append(f"numbers: {said(fmt)} (declared)")
        return fmt
    comma_decimal = point_grouped = 0
    decimal_comma = r"[+-]?\d+,\d{1,2}|[+-]?\d{1,3}(\.\d{3})+,\d+"
    thousands_comma = r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?"
    for name in frame.columns:
        text = frame[name].dropna().astype(str).str.strip().head(SAMPLE)
        text = text.str.strip(CURRENCY).str.removesuffix("%")
        comma_decimal += int(text.str.fullmatch(decimal_comma).sum())
        point_grouped += int(text.str.fullmatch(thousands_comma).sum())
    fmt = COMMA if comma_decimal > point_grouped else POINT
    lines.append(
        f"numbers: {said(fmt)} ({comma_decimal:,} values read with a decimal comma, "
        f"{point_grouped:,} with a thousands comma; data.snapshot.decimal and "
        "data.snapshot.thousands to change)"
    )
    return dict(fmt)


def said(fmt: Mapping) -> str:
    return f"{fmt['decimal']!r} is the decimal mark, {fmt['thousands']!r} groups thousands"
