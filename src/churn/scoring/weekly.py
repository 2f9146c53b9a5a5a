"""What changed this week: each customer's new score against the previous partition of the same
model, and the alerts a retention team reads (risk jumps, a band up, critical points), each
tracked from the week it was first seen, new or ongoing, within a weekly budget. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from churn.vocabulary import DRIVER_FAMILIES, NOT_ACTIONABLE

POINTS = "points_"  # per driver family: risk points in this week's explanation
FAMILIES = tuple(f for f in DRIVER_FAMILIES if f not in NOT_ACTIONABLE)
POINT_COLUMNS = tuple(f"{POINTS}{f}" for f in FAMILIES)
ALERT_KINDS = RISK_JUMP, BAND_UP, CRITICAL_POINT = ("risk_jump", "band_up", "critical_point")
COMPARED, NEW, OTHER_FEATURES, OTHER_MODEL = "compared", "new", "other_feature_set", "other_model"
PREVIOUS = ["customer_id", "churn_probability", "risk_band", "model_name", "feature_set_hash"]
ALERT_COLUMNS = [
    "customer_id",
    "as_of",
    "alert",
    "name",
    "sentence",
    "risk_change_pts",
    "churn_probability",
    "risk_band",
    "value",
    "clv",
    "value_tier",
    "expected_loss",
    "next_action",
    "max_compensation",
    "status",
    "first_seen",
    "weeks_open",
]
# what an alert adds to a score row
SAID = ("alert", "name", "sentence", "risk_change_pts", "status", "first_seen", "weeks_open")
STATUSES = NEW_ALERT, ONGOING, OVER_BUDGET = ("new", "ongoing", "over_budget")
ALERT_KEY = ["customer_id", "alert", "name"]
NOW_COLUMNS = [
    *(c for c in ALERT_COLUMNS if c not in SAID),
    "model_name",
    "feature_set_hash",
    "critical_points",
]


def compare_weeks(now: pd.DataFrame, before: pd.DataFrame, bands: Sequence[str]) -> pd.DataFrame:
    """Per customer now: how they were compared, the change in risk (points), whether the band
    went up, and the driver family whose risk points rose most. A customer new to the base, or
    last scored by another model or feature set, is marked as such and not compared."""
    keep = [c for c in (*PREVIOUS, *POINT_COLUMNS) if c in before]
    merged = now.merge(
        before[keep], on="customer_id", how="left", suffixes=("", "_prev"), indicator=True
    )
    status = np.select(
        [
            merged["_merge"].eq("left_only"),
            merged["model_name"].ne(merged["model_name_prev"]),
            merged["feature_set_hash"].ne(merged["feature_set_hash_prev"]),
        ],
        [NEW, OTHER_MODEL, OTHER_FEATURES],
        default=COMPARED,
    )
    compared = status == COMPARED
    rank = {band: i for i, band in enumerate(bands)}
    band_now = merged["risk_band"].map(rank).to_numpy(float)
    band_before = merged["risk_band_prev"].map(rank).to_numpy(float)
    out = pd.DataFrame(
        {
            "customer_id": merged["customer_id"].to_numpy(),
            "comparison": status,
            "risk_change_pts": np.where(
                compared,
                100 * (merged["churn_probability"] - merged["churn_probability_prev"]),
                np.nan,
            ),
            "band_up": compared & (band_now > band_before),
            "risk_band_prev": merged["risk_band_prev"].where(compared, None).to_numpy(),
        }
    )
    return out.join(rising_driver(merged, compared))


def rising_driver(merged: pd.DataFrame, compared: np.ndarray) -> pd.DataFrame:
    """The driver family whose risk points rose most since the previous partition."""
    pairs = [c for c in POINT_COLUMNS if c in merged and f"{c}_prev" in merged]
    n = len(merged)
    if not pairs:
        return pd.DataFrame({"rising_driver": [None] * n, "rising_pts": np.nan}, index=merged.index)
    rise = np.column_stack(
        [merged[c].to_numpy(float) - merged[f"{c}_prev"].to_numpy(float) for c in pairs]
    )
    known = compared & ~np.isnan(rise).all(axis=1)
    best = np.argmax(np.nan_to_num(rise, nan=-np.inf), axis=1)
    top = rise[np.arange(n), best]
    known &= top > 0
    families = np.asarray([c.removeprefix(POINTS) for c in pairs], dtype=object)
    return pd.DataFrame(
        {
            "rising_driver": np.where(known, families[best], None),
            "rising_pts": np.where(known, top, np.nan),
        },
        index=merged.index,
    )


def weekly_alerts(
    now: pd.DataFrame,
    changes: pd.DataFrame | None,
    since: dt.date | None,
    opts: Mapping,
) -> pd.DataFrame:
    """One row per alert: a risk jump of at least `alerts.risk_jump_points`, a band up, and each
    critical point that fired, with the sentence a retention team reads."""
    frames = []
    if changes is not None and len(changes):
        merged = now.merge(changes, on="customer_id", how="left")
        jump = merged["risk_change_pts"] >= float(opts.get("risk_jump_points", 10))
        frames.append(with_sentence(merged[jump], RISK_JUMP, jump_sentences(merged[jump], since)))
        up = merged["band_up"].fillna(False).astype(bool)
        band = merged[up]
        said = [
            f"moved from {b} to {a} risk since {since}"
            for a, b in zip(band["risk_band"], band["risk_band_prev"], strict=True)
        ]
        frames.append(with_sentence(band, BAND_UP, said))
    frames.append(
        critical_alerts(now, opts.get("critical_points") or []).assign(risk_change_pts=np.nan)
    )
    frames = [f for f in frames if len(f)]
    if not frames:  # no alert: the columns keep this week's types (a date stays a date)
        frames = [with_sentence(now.iloc[:0], "none", []).assign(risk_change_pts=np.nan)]
    out = pd.concat(frames, ignore_index=True)
    out = out.assign(status=None, first_seen=None, weeks_open=np.nan)[ALERT_COLUMNS]
    return out.sort_values(ALERT_KEY, kind="stable").reset_index(drop=True)


def track_alerts(
    alerts: pd.DataFrame, before: pd.DataFrame | None, as_of: dt.date, budget: int | None
) -> pd.DataFrame:
    """Each alert's first_seen, weeks_open and status: ongoing when last week's list already
    showed it (its condition still holds), else new; new ones beyond `alerts.max_per_week`, by
    expected loss (risk when value is unknown), are over budget: counted and kept, not listed."""
    out = alerts.copy()
    first = pd.Series(as_of, index=out.index, dtype=object)
    shown = np.zeros(len(out), dtype=bool)
    if before is not None and len(before) and len(out):
        prev = before.drop_duplicates(ALERT_KEY).set_index(ALERT_KEY)
        key = pd.MultiIndex.from_frame(out[ALERT_KEY])
        found = key.isin(prev.index)
        seen = prev["first_seen"].reindex(key).to_numpy(dtype=object)
        first = pd.Series(np.where(found, seen, as_of), index=out.index, dtype=object)
        shown = found & prev["status"].reindex(key).isin([NEW_ALERT, ONGOING]).to_numpy()
    out["first_seen"] = pd.to_datetime(first).dt.date
    out["weeks_open"] = [(as_of - d).days // 7 for d in out["first_seen"]]
    status = np.where(shown, ONGOING, NEW_ALERT).astype(object)
    fresh = np.flatnonzero(~shown)
    if budget is not None and len(fresh) > budget:
        worth = out["expected_loss"].to_numpy(dtype=float)
        if np.isnan(worth).all():
            worth = out["churn_probability"].to_numpy(dtype=float)
        order = fresh[np.argsort(-np.nan_to_num(worth[fresh], nan=-np.inf), kind="stable")]
        status[order[budget:]] = OVER_BUDGET
    out["status"] = status
    return out


def jump_sentences(rows: pd.DataFrame, since: dt.date | None) -> list[str]:
    out = []
    for change, driver, pts in zip(
        rows["risk_change_pts"], rows["rising_driver"], rows["rising_pts"], strict=True
    ):
        text = f"risk {change:+.0f} pts since {since}"
        if isinstance(driver, str):
            text += f" ({DRIVER_FAMILIES[driver]} {pts:+.0f} pts)"
        out.append(text)
    return out


def with_sentence(rows: pd.DataFrame, alert: str, sentences: Sequence[str], names=None):
    return rows.assign(
        alert=alert, name=alert if names is None else names, sentence=list(sentences)
    )


def critical_alerts(now: pd.DataFrame, points: Sequence[Mapping]) -> pd.DataFrame:
    """A row per customer and critical point that fired this week."""
    if "critical_points" not in now or now["critical_points"].isna().all():
        return now.iloc[:0]
    said = {p["name"]: p.get("sentence") or p["name"] for p in points}
    fired = now[now["critical_points"].notna()]
    names = fired["critical_points"].str.split("; ")
    rows = fired.loc[fired.index.repeat(names.str.len())]
    flat = [n for group in names for n in group]
    return with_sentence(rows, CRITICAL_POINT, [said.get(n, n) for n in flat], flat)
