"""What every feature declares once, and the point-in-time context families build from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

import ibis
import ibis.expr.types as ir
import pandas as pd

from churn.columns import KEY_COLUMNS, MONEY_UNITS
from churn.vocabulary import DRIVER_FAMILIES

DAY_S = 86_400.0


def in_money_units(value: ibis.Value) -> ibis.Value:
    return (value * MONEY_UNITS).round().cast("int64")


def from_money_units(total: ibis.Value) -> ibis.Value:
    return total.cast("float64") / MONEY_UNITS


@dataclass(frozen=True)
class Feature:
    """One model input: where it comes from, which churn cause it speaks to, how to say it."""

    name: str
    family: str
    driver_family: str
    actionable: bool
    description: str
    template: str  # reason-code sentence, formatted with value=
    kind: str = "numeric"  # numeric | categorical
    zero_when_absent: bool = True  # a count is 0 without events; "days since" stays null
    # sources it is built from, "table" or "table.column"; absent ones skip the feature
    needs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.driver_family not in DRIVER_FAMILIES:
            raise ValueError(
                f"feature {self.name}: unknown driver family {self.driver_family!r}; use one of "
                f"{', '.join(DRIVER_FAMILIES)}"
            )


# `features.windows` sets the spans of the windowed counts (frequency_, monetary_, complaints_,
# contacts_, ... _<w>d): their names follow it. A few features have a span of their own, named in
# the feature (365-day shares and severity, the 90-day usage trend and price rise); those spans
# are these constants, always in the digest and never changed by the setting.
YEAR = 365
QUARTER = 90
FIXED_SPANS = (QUARTER, 2 * QUARTER, YEAR)


KEYS = KEY_COLUMNS  # what every family groups by and joins on


@dataclass(frozen=True)
class Context:
    """Every cutoff at once. A table is seen only through `before`, which pairs each row with the
    cutoffs strictly after it, so nothing dated at or after a cutoff reaches that cutoff's
    features; families group by (customer_id, cutoff) and one query serves all cutoffs."""

    tables: dict[str, ibis.Table]
    cutoffs: tuple[dt.date, ...]
    windows: tuple[int, ...] = (30, 90, 180, 365)
    own_channels: tuple[str, ...] = ("store", "web", "app")
    digital_channels: tuple[str, ...] = ("web", "app")
    digests: dict = field(default_factory=dict)  # event table -> churn.features.digest.Digest

    @cached_property
    def cuts(self) -> ibis.Table:
        """One row per cutoff: the date, its midnight, and where each digest window starts."""
        frame = pd.DataFrame({"cutoff": list(self.cutoffs)})
        schema = {"cutoff": "date"}
        boundaries = {d.boundaries for d in self.digests.values()}
        if len(boundaries) > 1:
            raise ValueError("the digests of one context must share their buckets")
        if boundaries:
            digest = next(iter(self.digests.values()))
            for days in digest.offsets:
                frame[bucket_column(days)] = [
                    digest.index(c - dt.timedelta(days=days)) for c in self.cutoffs
                ]
                schema[bucket_column(days)] = "int32"
        cuts = ibis.memtable(frame, schema=schema)
        return cuts.mutate(_cut_ts=cuts.cutoff.cast("timestamp"), _cut_s=epoch_s(cuts.cutoff))

    def has(self, table: str) -> bool:
        return table in self.tables

    def before(self, table: str, col: str, days: int | None = None) -> ibis.Table:
        """Rows of `table` paired with each cutoff their `col` is strictly before (and, with
        `days`, within that many days of)."""
        t, cuts = self.tables[table], self.cuts
        is_date = t[col].type().is_date()
        edge = cuts.cutoff if is_date else cuts._cut_ts
        cond = [t[col] < edge]
        if days is not None:
            cond.append(t[col] >= edge - ibis.interval(days=days))
        return t.join(cuts, cond)

    def at_cutoffs(self, table: str) -> ibis.Table:
        """Every row of a table without dates (customers) at every cutoff."""
        return self.tables[table].cross_join(self.cuts)

    def digest_before(self, table: str) -> ibis.Table:
        """The digest buckets of `table` wholly before each cutoff, paired with that cutoff."""
        digest, cuts = self.digests[table].table, self.cuts
        return digest.join(cuts, digest.bucket < cuts[bucket_column(0)])


def bucket_column(days: int) -> str:
    """The column of `Context.cuts` holding the first digest bucket of the last `days` days."""
    return f"_bucket_{days}d"


def since(rows: ibis.Table, days: int) -> ibis.Value:
    """Digest rows (paired with a cutoff) in the window [cutoff - days, cutoff)."""
    return rows.bucket >= rows[bucket_column(days)]


def between(rows: ibis.Table, older: int, newer: int) -> ibis.Value:
    """Digest rows in [cutoff - older, cutoff - newer)."""
    return (rows.bucket >= rows[bucket_column(older)]) & (rows.bucket < rows[bucket_column(newer)])


def days_ago(rows: ibis.Table, days: int) -> ibis.Value:
    """Midnight `days` days before each row's cutoff."""
    return rows._cut_ts - ibis.interval(days=days)


def date_ago(rows: ibis.Table, days: int) -> ibis.Value:
    return rows.cutoff - ibis.interval(days=days)


def days_since(rows: ibis.Table, value: ibis.Value) -> ibis.Value:
    """Days from a date or timestamp to the row's cutoff, as a float; an aggregate (the last
    purchase) is measured from its group's cutoff."""
    cut = rows._cut_s.max() if isinstance(value, ir.Scalar) else rows._cut_s
    return (cut - epoch_s(value)) / DAY_S


def has_source(tables, need: str) -> bool:
    """A table ("transactions") or a column of one ("customers.birth_year") is loaded."""
    table, _, column = need.partition(".")
    if table not in tables:
        return False
    return not column or column in tables[table].columns


def buildable(feature: Feature, tables) -> bool:
    return all(has_source(tables, n) for n in feature.needs)


def epoch_s(col: ibis.Value) -> ibis.Value:
    """Whole seconds since 1970: Spark has no fractions here, so neither do we."""
    if col.type().is_date():
        col = col.cast("timestamp")
    return col.epoch_seconds().floor().cast("float64")


def join_on_keys(left: ibis.Table, right: ibis.Table) -> ibis.Table:
    """Left join on (customer_id, cutoff), keeping one copy of each key."""
    return left.left_join(right, list(KEYS)).drop(*[f"{k}_right" for k in KEYS])


def merge_on_keys(parts: list[ibis.Table], keys=KEYS) -> ibis.Table:
    """Full outer merge of per-(customer, cutoff) tables: a key in any part is in the result."""
    out = parts[0]
    for part in parts[1:]:
        out = out.outer_join(part, list(keys))
        out = out.mutate(**{k: out[k].fill_null(out[f"{k}_right"]) for k in keys}).drop(
            *[f"{k}_right" for k in keys]
        )
    return out


def windowed(name: str, windows, **kw) -> list[Feature]:
    """The same feature over each window; `{w}` in name, description and template is the window."""
    return [
        Feature(
            name=name.format(w=w),
            description=kw["description"].format(w=w),
            template=kw["template"].replace("{w}", str(w)),
            **{k: v for k, v in kw.items() if k not in {"description", "template"}},
        )
        for w in windows
    ]
