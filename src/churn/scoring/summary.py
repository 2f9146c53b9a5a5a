"""What a weekly run says in its log: the calls, the control group, who the contact rules kept
out, which policy ranked the list and why, why a list came out empty, and the alerts."""

from __future__ import annotations

import logging
from collections.abc import Mapping

log = logging.getLogger(__name__)


def say_summary(summary: Mapping, as_of) -> None:
    """The week in the log: calls, control, who the rules kept out, why a list is empty, alerts."""
    plan = summary["call_list"]
    log.info(
        "scored %s customers as of %s: %s to call, %s held out as control (policy %s, ranked by "
        "%s); kept out: %s",
        f"{summary['rows']:,}",
        as_of,
        f"{summary['calls']:,}",
        f"{summary['controls']:,}",
        plan["policy"],
        plan["ranked_by"],
        ", ".join(f"{k} {v:,}" for k, v in plan["kept_out"].items()) or "nobody",
    )
    if not plan["value_known"]:
        log.info(
            "call list: value is unknown, so it is ranked by %s and shows no money",
            plan["ranked_by"],
        )
    if plan.get("short_because"):
        say_short(plan["short_because"], plan["capacity"])
    alerts = summary["alerts"]
    log.info(
        "alerts: %s new this week (%s over alerts.max_per_week left out of alerts.csv), %s ongoing",
        f"{alerts['new']:,}",
        f"{alerts['over_budget']:,}",
        f"{alerts['ongoing']:,}",
    )


def say_short(why: Mapping, capacity: int) -> None:
    """Why the list holds fewer calls than the capacity: a warning when it is empty."""
    said = log.warning if why["calls"] == 0 else log.info
    head = (
        "call list is empty"
        if why["calls"] == 0
        else f"call list holds {why['calls']:,} of {capacity:,}"
    )
    if "best_expected_saved_value" not in why:
        said("%s: %s", head, why["reason"])
        return
    said(
        "%s: %s. The best customer not called would save %.2f in expectation against a contact "
        "cost of %.2f and an expected offer cost of %.2f; to change it, set %s",
        head,
        why["reason"],
        why["best_expected_saved_value"],
        why["its_contact_cost"],
        why["its_offer_cost"],
        ", ".join(why["keys"]),
    )
