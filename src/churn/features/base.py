"""What every feature declares once, and the point-in-time context families build from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis

from churn.drivers import DRIVER_FAMILIES

DAY_S = 86_400.0
# money is summed in whole ten-thousandths: integer sums are exact in any order, so the same
# input gives the same bits however the warehouse splits the work across threads
MONEY_UNITS = 10_000


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


@dataclass(frozen=True)
class Context:
    """One cutoff: every table is seen only through `before`, which hides the cutoff and after."""

    tables: dict[str, ibis.Table]
    cutoff: dt.date
    windows: tuple[int, ...] = (30, 90, 180, 365)
    own_channels: tuple[str, ...] = ("store", "web", "app")
    digital_channels: tuple[str, ...] = ("web", "app")
    digests: dict = field(default_factory=dict)  # event table -> churn.features.digest.Digest

    @property
    def ts(self) -> ibis.Scalar:
        return ibis.timestamp(dt.datetime.combine(self.cutoff, dt.time()))

    @property
    def date(self) -> ibis.Scalar:
        return ibis.date(self.cutoff)

    def ts_minus(self, days: int) -> ibis.Scalar:
        return ibis.timestamp(dt.datetime.combine(self.cutoff - dt.timedelta(days=days), dt.time()))

    def has(self, table: str) -> bool:
        return table in self.tables

    def before(self, table: str, col: str, days: int | None = None) -> ibis.Table:
        """Rows of `table` with `col` strictly before the cutoff (and within `days` of it)."""
        t = self.tables[table]
        cond = t[col] < (self.date if t[col].type().is_date() else self.ts)
        if days is not None:
            start = self.cutoff - dt.timedelta(days=days)
            lower = ibis.date(start) if t[col].type().is_date() else self.ts_minus(days)
            cond &= t[col] >= lower
        return t.filter(cond)

    def days_since(self, col: ibis.Value) -> ibis.Value:
        """Days from a date or timestamp to the cutoff, as a float."""
        return (epoch_s(self.ts) - epoch_s(col)) / DAY_S


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


def merge_on_customer(parts: list[ibis.Table]) -> ibis.Table:
    """Full outer merge of per-customer tables: a customer in any part is in the result."""
    out = parts[0]
    for part in parts[1:]:
        out = out.outer_join(part, "customer_id")
        out = out.mutate(customer_id=out.customer_id.fill_null(out.customer_id_right)).drop(
            "customer_id_right"
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
