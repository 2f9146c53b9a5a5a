"""Events dated before their customer signed up: a transaction 400 days before signup is not a
late entry but a wrong one, and it would stretch the first purchase and the tenure features.
`validate.before_signup`: `reject` (the default) sends such rows to the rejects with their reason;
`keep` loads them and counts them in the log."""

from __future__ import annotations

import logging

import ibis

from churn.errors import ConfigError
from churn.validate.contracts import TableContract
from churn.validate.rules import REASON

log = logging.getLogger(__name__)
BEFORE_SIGNUP = ("reject", "keep")


def event_time(contract: TableContract, columns) -> str | None:
    """The column that dates a row of an event table (its first dated column)."""
    if contract.name == "customers" or "customer_id" not in columns:
        return None
    dated = [r.name for r in contract.columns if r.not_future and r.name in columns]
    return dated[0] if dated else None


def mark_before_signup(
    tagged: ibis.Table, contract: TableContract, parents: dict, setting: str
) -> ibis.Table:
    """The tagged rows, with those dated before their customer's signup rejected (or counted)."""
    if setting not in BEFORE_SIGNUP:
        raise ConfigError(f"validate.before_signup={setting!r}: use {' or '.join(BEFORE_SIGNUP)}")
    when = event_time(contract, [c.removeprefix("__") for c in tagged.columns])
    if when is None or "customers" not in parents:
        return tagged
    people = parents["customers"]
    signup = people.select(_cid=people.customer_id, _signup=people.signup_date)
    joined = tagged.left_join(signup, tagged["__customer_id"] == signup._cid)
    early = joined[f"__{when}"].cast("date") < joined._signup
    early = early.fill_null(False)
    if setting == "keep":
        n = int(joined.filter(early).count().execute())
        if n:
            log.warning(
                "%s: %d rows dated before their customer's signup, kept "
                "(validate.before_signup=keep)",
                contract.name,
                n,
            )
        return tagged
    text = f"{when} before the customer's signup_date"
    reason = joined[REASON]
    reason = early.ifelse(ibis.ifelse(reason == "", text, reason + "; " + text), reason)
    return joined.mutate(**{REASON: reason}).select(*tagged.columns)
