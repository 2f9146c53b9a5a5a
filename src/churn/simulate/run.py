"""Advance the world month by month."""

from __future__ import annotations

from rich.progress import Progress

from churn.simulate.activity import (
    step_campaigns,
    step_complaints,
    step_interactions,
    step_loyalty,
    step_transactions,
)
from churn.simulate.options import HazardConfig, RetentionProgram
from churn.simulate.products import close_churners, step_engagement, step_products
from churn.simulate.steps import present_window, step_hazard, step_signups
from churn.simulate.world import World, month_windows


def simulate_world(
    n_customers: int,
    start: str,
    end: str,
    seed: int,
    existing_fraction: float = 0.5,
    hazard: HazardConfig | None = None,
    progress: bool = True,
    retention: RetentionProgram | None = None,
    call_lists: dict | None = None,
    sink=None,
) -> World:
    """Run the world from start to end, its events going to `sink` (`simulate.sink.TableSink`)
    month by month; the same arguments always give the same world."""
    w = World(
        n_customers,
        start,
        end,
        seed,
        existing_fraction,
        hazard or HazardConfig(),
        retention,
        call_lists,
        sink,
    )
    months = month_windows(start, end)
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("simulating months", total=len(months))
        for m in months:
            step_signups(w, m)
            step_hazard(w, m)
            who, lo, hi, exposure = present_window(w, m)
            step_interactions(w, m, who, lo, hi, exposure)
            spend = step_transactions(w, who, lo, hi, exposure)
            step_complaints(w, m, who, lo, hi, exposure)
            step_campaigns(w, who, lo, hi, exposure)
            step_loyalty(w, m, who, lo, hi, spend)
            step_products(w, m, who, lo, hi)
            close_churners(w, m)
            step_engagement(w, m)
            bar.advance(task)
    return w
