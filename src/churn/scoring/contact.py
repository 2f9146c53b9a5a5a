"""Contact rules for the call list (configs/contact): nobody is called again within
`contact.cooldown_days` of their last contact, nor more than `contact.max_contacts_365d` times in a
year, nor at all when they asked not to be (`contact.do_not_contact`). Past contacts are read from
the lists this job published (treatment_group call) and from the campaigns log (retention offers
that were not a held-out control), strictly before as_of.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from churn.columns import TREATMENT
from churn.errors import ConfigError
from churn.store import parts_of, scores_partitions

log = logging.getLogger(__name__)
DO_NOT_CONTACT, COOLDOWN, YEARLY_CAP = "do_not_contact", "cooldown", "yearly_cap"
RULES = (DO_NOT_CONTACT, COOLDOWN, YEARLY_CAP)  # the first that holds is the one named
YEAR = 365


@dataclass
class ContactRules:
    """Customer ids (as text) each rule keeps off this run's call list."""

    barred: dict[str, set[str]] = field(default_factory=dict)
    rejects: pd.DataFrame | None = None  # do-not-contact rows that could not be read

    def rule_for(self, customer_ids) -> np.ndarray:
        """The rule keeping each customer out (None where none does)."""
        ids = pd.Series(np.asarray(customer_ids)).astype(str)
        out = np.full(len(ids), None, dtype=object)
        for rule in reversed(RULES):  # the first rule listed wins
            if self.barred.get(rule):
                out[ids.isin(self.barred[rule]).to_numpy()] = rule
        return out


def check_contact(opts: Mapping) -> None:
    """Rules that cannot work stop the job before any scoring, naming the key."""
    for key in ("cooldown_days", "max_contacts_365d"):
        value = opts.get(key)
        if value is not None and (not isinstance(value, int) or value < 0):
            raise ConfigError(f"contact.{key}={value!r}: a whole number, 0 or more (null: off)")
    source = opts.get("do_not_contact") or {}
    if source.get("path") and source.get("table"):
        raise ConfigError(
            "contact.do_not_contact: give a path or a table, not both "
            f"(path={source['path']!r}, table={source['table']!r})"
        )


def apply_contact_rules(scored: pd.DataFrame, rules: ContactRules) -> pd.DataFrame:
    """The scored chunk with contact rules named and their customers taken off the ranking."""
    rule = rules.rule_for(scored["customer_id"])
    barred = pd.notna(rule)
    if not barred.any():
        return scored
    out = scored.copy()
    out.loc[barred, "contact_rule"] = rule[barred]
    out.loc[barred, "call_priority"] = np.nan
    return out


def load_contact_rules(con, opts: Mapping, scores_dir: Path, as_of: dt.date) -> ContactRules:
    """Who each rule bars this run, from the published lists, the campaigns log and the
    do-not-contact source."""
    check_contact(opts)
    history = past_contacts(con, scores_dir, as_of)
    barred: dict[str, set[str]] = {}
    cooldown, cap = opts.get("cooldown_days"), opts.get("max_contacts_365d")
    if cooldown:
        recent = history[history["day"] >= as_of - dt.timedelta(days=cooldown)]
        barred[COOLDOWN] = set(recent["customer_id"])
    if cap is not None:
        counts = history.groupby("customer_id")["day"].nunique()
        barred[YEARLY_CAP] = set(counts[counts >= cap].index)
    ids, rejects = do_not_contact(con, opts.get("do_not_contact") or {})
    barred[DO_NOT_CONTACT] = ids
    log.info(
        "contact rules: %s contacted in the last %s days, %s at %s contacts this year, %s asked "
        "not to be contacted",
        f"{len(barred.get(COOLDOWN, ())):,}",
        cooldown,
        f"{len(barred.get(YEARLY_CAP, ())):,}",
        cap,
        f"{len(ids):,}",
    )
    return ContactRules(barred, rejects)


def past_contacts(con, scores_dir: Path, as_of: dt.date) -> pd.DataFrame:
    """(customer_id as text, day) of every contact in the year before as_of."""
    since = as_of - dt.timedelta(days=YEAR)
    frames = []
    for day, folder in scores_partitions(scores_dir):
        if not since <= day < as_of or not parts_of(folder):
            continue
        table = pq.read_table(
            [str(p) for p in parts_of(folder)],
            columns=["customer_id", "treatment_group"],
            filters=[("treatment_group", "==", TREATMENT[0])],
            partitioning=None,
        )
        ids = table.column("customer_id").to_pandas()
        frames.append(pd.DataFrame({"customer_id": ids.astype(str), "day": day}))
    if "campaigns" in con.list_tables():
        frames.append(campaign_contacts(con.table("campaigns"), since, as_of))
    if not frames:
        return pd.DataFrame({"customer_id": pd.Series(dtype=str), "day": pd.Series(dtype=object)})
    return pd.concat(frames, ignore_index=True).drop_duplicates()


def campaign_contacts(campaigns, since: dt.date, as_of: dt.date) -> pd.DataFrame:
    """Retention offers sent in [since, as_of) that reached the customer (not a control)."""
    sent = campaigns.sent_at.cast("date")
    rows = campaigns.filter(
        (campaigns.offer_type == "retention") & (sent >= since) & (sent < as_of)
    )
    if "treatment_group" in campaigns.columns:
        arm = rows.treatment_group
        rows = rows.filter(arm.isnull() | (arm != TREATMENT[1]))
    frame = rows.select(customer_id=rows.customer_id, day=rows.sent_at.cast("date")).to_pandas()
    frame["customer_id"] = frame["customer_id"].astype(str)
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame


def do_not_contact(con, source: Mapping) -> tuple[set[str], pd.DataFrame | None]:
    """The ids of customers who asked not to be contacted, from a file or a warehouse table;
    rows without an id are rejects (counted, kept with their reason), never guessed."""
    column = source.get("column") or "customer_id"
    if source.get("path"):
        where, frame = f"contact.do_not_contact.path ({source['path']})", read_ids(source["path"])
    elif source.get("table"):
        if source["table"] not in con.list_tables():
            raise ConfigError(
                f"contact.do_not_contact.table={source['table']!r}: the warehouse has no such "
                f"table (it has {', '.join(sorted(con.list_tables()))})"
            )
        where = f"contact.do_not_contact.table ({source['table']})"
        frame = con.table(source["table"]).to_pandas().astype(str)
    else:
        return set(), None
    if column not in frame.columns:
        raise ConfigError(
            f"{where}: no column {column!r} (contact.do_not_contact.column); it has "
            f"{', '.join(map(str, frame.columns))}"
        )
    ids = frame[column].astype(str).str.strip()
    bad = frame[column].isna() | ids.isin(["", "nan", "None", "NaN"])
    rejects = frame[bad].assign(reject_reason=f"{column} is missing") if bad.any() else None
    if rejects is not None:
        log.warning(
            "%s: %d of %d rows have no %s and bar nobody (kept in do_not_contact_rejects.csv); "
            "e.g. rows %s",
            where,
            len(rejects),
            len(frame),
            column,
            list(rejects.index[:5]),
        )
    return set(ids[~bad]), rejects


def read_ids(path: str) -> pd.DataFrame:
    """A CSV or parquet file, every column as text."""
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"contact.do_not_contact.path: no file at {file}")
    if not file.is_file():  # a pipe would be read for ever
        raise ConfigError(f"contact.do_not_contact.path: {file} is not a regular file")
    try:
        if file.suffix.lower() == ".parquet":
            return pd.read_parquet(file).astype(object).astype(str)
        return pd.read_csv(file, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise ConfigError(
            f"contact.do_not_contact.path: {file} cannot be read ({type(err).__name__}: "
            f"{str(err)[:200]})"
        ) from err
