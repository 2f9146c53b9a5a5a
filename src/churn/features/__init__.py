"""Point-in-time relationship features: one Ibis definition per family, for any backend.

Every family reads the warehouse only through `Context.before`, so nothing dated at or after the
cutoff can reach a feature. Families whose tables are absent are skipped with one log line.
"""

from __future__ import annotations

import logging
from types import ModuleType

import ibis

from churn.features import (
    campaigns,
    channels,
    complaints,
    engagement,
    loyalty,
    products,
    tenure_rfm,
    value,
)
from churn.features.base import Context, Feature

log = logging.getLogger(__name__)

FAMILIES: dict[str, ModuleType] = {
    "tenure_rfm": tenure_rfm,
    "engagement": engagement,
    "complaints": complaints,
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
    "channels": {"any": ("interactions", "transactions")},
    "products": {"all": ("subscriptions",)},
    "loyalty": {"any": ("loyalty_members", "loyalty_points", "referrals")},
    "campaigns": {"all": ("campaigns",)},
    "value": {"all": ("subscriptions",)},
}


def available_families(tables, wanted=None, announce: bool = False) -> list[str]:
    """The wanted families whose tables exist; say once why each other one is skipped."""
    out = []
    for name in wanted or FAMILIES:
        need = NEEDS[name]
        missing = [t for t in need.get("all", ()) if t not in tables]
        if need.get("any") and not any(t in tables for t in need["any"]):
            missing.append(" or ".join(need["any"]))
        if missing:
            if announce:
                log.info("features: skipping family %s (no %s table)", name, ", ".join(missing))
            continue
        out.append(name)
    return out


def catalog(families, windows) -> list[Feature]:
    """The declared features of the given families, in a stable order."""
    return [f for name in families for f in FAMILIES[name].features(windows)]


def build_features(ctx: Context, spine: ibis.Table, families: list[str]) -> ibis.Table:
    """Spine rows with every feature of the families; counts are 0 when there were no events."""
    out = spine
    for name in families:
        part = FAMILIES[name].build(ctx)
        out = out.left_join(part, "customer_id").drop("customer_id_right")
    fills = {}
    for feature in catalog(families, ctx.windows):
        if feature.name not in out.columns:
            raise KeyError(f"family {feature.family} declares {feature.name} but does not build it")
        if feature.zero_when_absent:
            fills[feature.name] = out[feature.name].fill_null(0)
    return out.mutate(**fills)


__all__ = ["FAMILIES", "Context", "Feature", "available_families", "build_features", "catalog"]
