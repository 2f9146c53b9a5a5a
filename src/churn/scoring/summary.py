"""What a weekly run says in its log: the calls, the control group, who the contact rules kept
out, which policy ranked the list and why, why a list came out empty, and the alerts."""

from __future__ import annotations

import logging
from collections.abc import Mapping

log = logging.getLogger("churn.scoring.job")


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
    if summary["calls"] == 0 and plan.get("empty_because"):
        why = plan["empty_because"]
        if "best_expected_saved_value" in why:
            log.warning(
                "call list is empty: %s. The best customer's expected saved value is %.2f against "
                "a contact cost of %.2f and an expected offer cost of %.2f; to change it, set %s",
                why["reason"],
                why["best_expected_saved_value"],
                why["its_contact_cost"],
                why["its_offer_cost"],
                ", ".join(why["keys"]),
            )
        else:
            log.warning("call list is empty: %s", why["reason"])
    alerts = summary["alerts"]
    log.info(
        "alerts: %s new this week (%s over alerts.max_per_week left out of alerts.csv), %s ongoing",
        f"{alerts['new']:,}",
        f"{alerts['over_budget']:,}",
        f"{alerts['ongoing']:,}",
    )
