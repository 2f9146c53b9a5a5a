"""Randomized retention tests as the response model learns from them.

A test arm is a `campaigns` row with offer_type `retention` and a `treatment_group` of call or
control. It belongs to the latest feature cutoff on or before the day it was sent, when it was
sent within `uplift.max_days_after_cutoff` of it: the features then know nothing of the call,
and the cutoff's churn label is what the call could change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from churn.dataset.build import load_model_table

ARMS = {"call": 1, "control": 0}


def read_arms(tables: Mapping) -> pd.DataFrame | None:
    """customer_id, sent day and arm (1 call, 0 control) of every retention test row; None when
    the campaigns table records no test."""
    campaigns = tables.get("campaigns")
    if campaigns is None or "treatment_group" not in campaigns.columns:
        return None
    rows = campaigns.filter(
        (campaigns.offer_type == "retention") & campaigns.treatment_group.isin(list(ARMS))
    ).select("customer_id", sent=campaigns.sent_at.date(), arm=campaigns.treatment_group)
    frame = rows.to_pandas()
    if frame.empty:
        return None
    frame["treated"] = frame.pop("arm").map(ARMS).astype("int8")
    frame["sent"] = pd.to_datetime(frame["sent"]).dt.date
    return frame


def attach_cutoffs(arms: pd.DataFrame, cutoffs: Sequence[dt.date], max_days: int) -> pd.DataFrame:
    """Each arm on the latest cutoff at or before its day, if close enough; a customer tested
    twice for one cutoff keeps the first."""
    days = np.array(sorted(cutoffs), dtype="datetime64[D]")
    sent = np.array(arms["sent"].to_numpy(), dtype="datetime64[D]")
    at = np.searchsorted(days, sent, side="right") - 1
    ok = (at >= 0) & ((sent - days[np.maximum(at, 0)]).astype(int) <= max_days)
    out = arms[ok].assign(cutoff=pd.to_datetime(days[at[ok]]).date)
    out = out.sort_values(["cutoff", "customer_id", "sent"], kind="stable")
    return out.drop_duplicates(["cutoff", "customer_id"]).reset_index(drop=True)


def tested_rows(features_dir: Path, arms: pd.DataFrame, cutoffs: Sequence[dt.date]) -> pd.DataFrame:
    """The snapshot rows of tested customers at the labelled cutoffs, with their arm."""
    wanted = sorted({c for c in arms["cutoff"] if c in set(cutoffs)})
    if not wanted:
        return pd.DataFrame()
    table = load_model_table(features_dir, [c.isoformat() for c in wanted])
    table["cutoff"] = pd.to_datetime(table["cutoff"]).dt.date
    keyed = arms[["customer_id", "cutoff", "treated"]]
    out = table.merge(keyed, on=["customer_id", "cutoff"], how="inner")
    return out[out["churn"].notna()].reset_index(drop=True)
