"""Dates in a customer table (`2021-03-15`, `2021/03/15`, `2021-03-15 10:30`): a column of them
becomes the days between each date and the table's date (the load date), a tenure-like number a
model can use, instead of text unique per row that would be dropped."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

DATE_TEXT = r"\d{4}[-/]\d{1,2}[-/]\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?"
MIN_SHARE = 0.95  # of the present values, for the column to be dates


def parse_dates(text: pd.Series) -> pd.Series:
    """Timestamps where the text is a date (year first), NaT elsewhere."""
    clean = text.astype(str).str.strip()
    dated = clean.str.fullmatch(DATE_TEXT)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if dated.any():
        iso = clean[dated].str.replace("/", "-", regex=False)
        out[dated] = pd.to_datetime(iso, errors="coerce", format="ISO8601")
    return out


def looks_like_dates(present: pd.Series) -> bool:
    """Most present values are dates a person would recognise (year first)."""
    if present.empty:
        return False
    return bool(parse_dates(present).notna().mean() >= MIN_SHARE)


def days_before(dates: pd.Series, as_of: dt.date) -> pd.Series:
    """Whole days from each date to the table's date (later dates give negative numbers)."""
    delta = pd.Timestamp(as_of) - dates.dt.normalize()
    return (delta / np.timedelta64(1, "D")).astype("float64")
