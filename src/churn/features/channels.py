"""Channel mix: where the customer deals with us. Phone-only or single-channel means friction."""

from __future__ import annotations

import ibis

from churn.features.base import Context, Feature

FAMILY = "channels"
CHANNELS = ("store", "web", "app", "phone")
WINDOW = 365
SHIFT = 90


def features(windows) -> list[Feature]:
    kw = dict(family=FAMILY, driver_family="channel_friction", actionable=True,
              zero_when_absent=False)
    return [
        *[Feature(f"share_{ch}_365d", description=f"share of contacts and purchases via {ch} in "
                  "the last 365 days", template=f"{{value:.0%}} of contacts via {ch}", **kw)
          for ch in CHANNELS],
        Feature("channel_entropy_365d", description="entropy of the channel mix (0 = one channel)",
                template="a narrow channel mix (entropy {value:.2f})", **kw),
        Feature("channels_used_365d", family=FAMILY, driver_family="channel_friction",
                actionable=True, description="distinct channels used in the last 365 days",
                template="uses only {value:.0f} channel(s)"),
        Feature("digital_share_365d", description="share of contacts via digital channels",
                template="{value:.0%} digital contacts", **kw),
        Feature("own_channel_share_365d", description="share via our own channels (config "
                "features.own_channels) rather than alternatives",
                template="{value:.0%} of contacts via our own channels", **kw),
        Feature("digital_shift_90d", description="digital share in the last 90 days minus the "
                "90 before (percentage points)",
                template="digital share moved {value:+.0%} in 90 days", **kw),
    ]


def contacts(ctx: Context) -> ibis.Table:
    """Purchases and service contacts (email opens are marketing reads, not a service channel)."""
    parts = []
    if ctx.has("interactions"):
        it = ctx.before("interactions", "ts", WINDOW)
        parts.append(it.filter(it.channel.isin(CHANNELS)).select("customer_id", "ts", "channel"))
    if ctx.has("transactions"):
        parts.append(ctx.before("transactions", "ts", WINDOW).select("customer_id", "ts", "channel"))
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


def build(ctx: Context) -> ibis.Table:
    ev = contacts(ctx)
    digital = ev.channel.isin(ctx.digital_channels)
    last = ev.ts >= ctx.ts_minus(SHIFT)
    prev = (ev.ts >= ctx.ts_minus(2 * SHIFT)) & ~last
    aggs = {f"_n_{ch}": (ev.channel == ch).sum() for ch in CHANNELS}
    aggs.update(
        _n=ev.count(),
        _own=ev.channel.isin(ctx.own_channels).sum(),
        _digital=digital.sum(),
        _d_last=(digital & last).sum(), _n_last=last.sum(),
        _d_prev=(digital & prev).sum(), _n_prev=prev.sum(),
    )
    g = ev.group_by("customer_id").agg(**aggs)
    n = g._n.cast("float64")
    shares = {f"share_{ch}_365d": g[f"_n_{ch}"] / n for ch in CHANNELS}
    entropy = ibis.literal(0.0)
    for share in shares.values():
        entropy = entropy - ibis.ifelse(share > 0, share * share.ln(), 0.0)
    used = sum((g[f"_n_{ch}"] > 0).cast("int64") for ch in CHANNELS)
    return g.mutate(
        **shares,
        channel_entropy_365d=entropy,
        channels_used_365d=used,
        digital_share_365d=g._digital / n,
        own_channel_share_365d=g._own / n,
        digital_shift_90d=g._d_last / g._n_last.nullif(0) - g._d_prev / g._n_prev.nullif(0),
    ).select("customer_id", *shares, "channel_entropy_365d", "channels_used_365d",
             "digital_share_365d", "own_channel_share_365d", "digital_shift_90d")
