"""Channel mix: where the customer deals with us. Phone-only or single-channel means friction."""

from __future__ import annotations

import ibis

from churn.features.base import (
    KEYS,
    QUARTER,
    YEAR,
    Context,
    Feature,
    between,
    bucket_column,
    since,
)
from churn.features.digest import CONTACT_CHANNELS

FAMILY = "channels"
CHANNELS = CONTACT_CHANNELS
WINDOW = YEAR
SHIFT = QUARTER


def features(windows) -> list[Feature]:
    kw = dict(
        family=FAMILY, driver_family="channel_friction", actionable=True, zero_when_absent=False
    )
    return [
        *[
            Feature(
                f"share_{ch}_365d",
                description=f"share of contacts and purchases via {ch} in the last 365 days",
                template=f"{{value:.0%}} of contacts via {ch}",
                **kw,
            )
            for ch in CHANNELS
        ],
        Feature(
            "channel_entropy_365d",
            description="entropy of the channel mix (0 = one channel)",
            template="a narrow channel mix (entropy {value:.2f})",
            **kw,
        ),
        Feature(
            "channels_used_365d",
            family=FAMILY,
            driver_family="channel_friction",
            actionable=True,
            description="distinct channels used in the last 365 days",
            template="uses no channel|uses only 1 channel|uses only {value:.0f} channels",
        ),
        Feature(
            "digital_share_365d",
            description="share of contacts via digital channels",
            template="{value:.0%} digital contacts",
            **kw,
        ),
        Feature(
            "own_channel_share_365d",
            description="share via our own channels (config "
            "features.own_channels) rather than alternatives",
            template="{value:.0%} of contacts via our own channels",
            **kw,
        ),
        Feature(
            "digital_shift_90d",
            description="digital share in the last 90 days minus the 90 before (percentage points)",
            template="digital share moved {value:+.0%} in 90 days",
            **kw,
        ),
    ]


def contacts(ctx: Context) -> ibis.Table:
    """Purchases and service contacts per bucket and cutoff (email opens are marketing reads,
    not service)."""
    counts = [f"n_{ch}" for ch in CHANNELS]
    edges = [bucket_column(d) for d in (WINDOW, SHIFT, 2 * SHIFT)]
    parts = [
        ctx.digest_before(t).select("customer_id", "cutoff", "bucket", *counts, *edges)
        for t in ("interactions", "transactions")
        if t in ctx.digests and set(counts) <= set(ctx.digests[t].table.columns)
    ]
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


def build(ctx: Context) -> ibis.Table:
    ev = contacts(ctx)
    year, last, prev = since(ev, WINDOW), since(ev, SHIFT), between(ev, 2 * SHIFT, SHIFT)
    total = sum(ev[f"n_{ch}"] for ch in CHANNELS)
    digital = sum(ev[f"n_{ch}"] for ch in CHANNELS if ch in ctx.digital_channels)
    own = sum(ev[f"n_{ch}"] for ch in CHANNELS if ch in ctx.own_channels)
    aggs = {f"_n_{ch}": ev[f"n_{ch}"].sum(where=year) for ch in CHANNELS}
    aggs.update(
        _n=total.sum(where=year),
        _own=own.sum(where=year),
        _digital=digital.sum(where=year),
        _d_last=digital.sum(where=last),
        _n_last=total.sum(where=last),
        _d_prev=digital.sum(where=prev),
        _n_prev=total.sum(where=prev),
    )
    g = ev.group_by(*KEYS).agg(**aggs)
    n = g._n.fill_null(0).cast("float64").nullif(0)
    counts = {ch: g[f"_n_{ch}"].fill_null(0) for ch in CHANNELS}
    shares = {f"share_{ch}_365d": counts[ch] / n for ch in CHANNELS}
    entropy = ibis.literal(0.0)
    for share in shares.values():
        entropy = entropy - ibis.ifelse(share > 0, share * share.ln(), 0.0)
    used = sum((counts[ch] > 0).cast("int64") for ch in CHANNELS)
    return g.mutate(
        **shares,
        channel_entropy_365d=ibis.ifelse(n.isnull(), ibis.null("float64"), entropy),
        channels_used_365d=used,
        digital_share_365d=g._digital / n,
        own_channel_share_365d=g._own / n,
        digital_shift_90d=g._d_last / g._n_last.nullif(0) - g._d_prev / g._n_prev.nullif(0),
    ).select(
        *KEYS,
        *shares,
        "channel_entropy_365d",
        "channels_used_365d",
        "digital_share_365d",
        "own_channel_share_365d",
        "digital_shift_90d",
    )
