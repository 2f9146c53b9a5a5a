"""Point-in-time relationship features: one Ibis definition per family, for any backend.

Every family reads the warehouse only through `Context.before` (or a digest's buckets before the
cutoff), so nothing dated at or after a cutoff can reach its features. A family builds every
cutoff in one query, grouped by (customer_id, cutoff). Families whose tables are absent are
skipped with one log line.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from types import ModuleType

import ibis

from churn.features import (
    campaigns,
    channels,
    complaints,
    engagement,
    loyalty,
    products,
    satisfaction,
    tenure_rfm,
    value,
)
from churn.features.base import Context, Feature, buildable, has_source, join_on_keys
from churn.fingerprint import fingerprint

log = logging.getLogger(__name__)

FAMILIES: dict[str, ModuleType] = {
    "tenure_rfm": tenure_rfm,
    "engagement": engagement,
    "complaints": complaints,
    "satisfaction": satisfaction,
    "channels": channels,
    "products": products,
    "loyalty": loyalty,
    "campaigns": campaigns,
    "value": value,
}
# a family runs when all of `all` and at least one of `any` are present
NEEDS: dict[str, dict[str, tuple[str, ...]]] = {
    "tenure_rfm": {"all": ("customers",)},
    "engagement": {"all": ("interactions",)},
    "complaints": {"all": ("complaints",)},
    "satisfaction": {"all": ("surveys",)},
    "channels": {"any": ("interactions", "transactions.channel")},
    "products": {"all": ("subscriptions",)},
    "loyalty": {"any": ("loyalty_members", "loyalty_points", "referrals")},
    "campaigns": {"all": ("campaigns",)},
    "value": {"any": ("subscriptions", "transactions")},
}


def say_source(need: str) -> str:
    table, _, column = need.partition(".")
    return f"{column} column in {table}" if column else f"{table} table"


def available_families(tables, wanted=None, announce: bool = False) -> list[str]:
    """The wanted families whose sources exist; say once why each other one is skipped.

    Nothing is filled in for a skipped family: a log without complaints has no complaint
    features, rather than complaint counts of zero that would read as "no complaints".
    """
    out = []
    for name in wanted or FAMILIES:
        need = NEEDS[name]
        missing = [say_source(t) for t in need.get("all", ()) if not has_source(tables, t)]
        if need.get("any") and not any(has_source(tables, t) for t in need["any"]):
            missing.append(" or ".join(say_source(t) for t in need["any"]))
        if missing:
            if announce:
                log.info("features: skipping family %s (no %s)", name, ", ".join(missing))
            continue
        out.append(name)
    return out


def announce_skipped_features(tables, families, windows) -> None:
    """One line per family that runs without some of its features (a source column is absent)."""
    for name in families:
        skipped = [f for f in FAMILIES[name].features(windows) if not buildable(f, tables)]
        if not skipped:
            continue
        absent: dict[str, list[str]] = {}
        for need in sorted({n for f in skipped for n in f.needs if not has_source(tables, n)}):
            table, _, column = need.partition(".")
            absent.setdefault(table, []).append(column)
        said = "; ".join(
            f"no {', '.join(c for c in cols if c) or table} "
            f"{'column(s) in ' + table if any(cols) else 'table'}"
            for table, cols in absent.items()
        )
        log.info(
            "features: family %s without %s (%s)", name, ", ".join(f.name for f in skipped), said
        )


def feature_set_hash(features) -> str:
    """Identifies the feature definitions a model was trained on."""
    return fingerprint(features=[asdict(f) for f in features])


def catalog(families, windows, tables=None) -> list[Feature]:
    """The declared features of the given families, in a stable order; with `tables`, only
    those whose sources are loaded."""
    return [
        f
        for name in families
        for f in FAMILIES[name].features(windows)
        if tables is None or buildable(f, tables)
    ]


def build_features(ctx: Context, spine: ibis.Table, families: list[str]) -> ibis.Table:
    """Spine rows (customer_id, cutoff) with every feature of the families; counts are 0 when
    there were no events."""
    return join_families(ctx, spine, {name: FAMILIES[name].build(ctx) for name in families})


def join_families(ctx: Context, spine: ibis.Table, parts: dict[str, ibis.Table]) -> ibis.Table:
    """Spine rows joined with each family's per-(customer, cutoff) table."""
    out = spine
    for part in parts.values():
        out = join_on_keys(out, part)
    fills = {}
    for feature in catalog(list(parts), ctx.windows, ctx.tables):
        if feature.name not in out.columns:
            raise KeyError(f"family {feature.family} declares {feature.name} but does not build it")
        if feature.zero_when_absent:
            fills[feature.name] = out[feature.name].fill_null(0)
    return out.mutate(**fills)


__all__ = [
    "FAMILIES",
    "Context",
    "Feature",
    "announce_skipped_features",
    "available_families",
    "build_features",
    "catalog",
    "join_families",
]
