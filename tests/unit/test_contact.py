"""Contact rules across weekly runs, on hand-made published lists and a campaigns log: the
cooldown, the yearly cap and do-not-contact each keep their customers off the list, counted."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from churn.errors import ConfigError
from churn.scoring.contact import (
    COOLDOWN,
    DO_NOT_CONTACT,
    YEARLY_CAP,
    apply_contact_rules,
    load_contact_rules,
)
from churn.scoring.policy import plan_calls
from churn.store import scores_partition

RULES = {"cooldown_days": 30, "max_contacts_365d": 3, "do_not_contact": {}}


def publish(scores_dir, as_of: dt.date, called: list[int]) -> None:
    """A published week: the called customers and one who was scored but not called."""
    folder = scores_partition(scores_dir, as_of)
    folder.mkdir(parents=True)
    ids = [*called, 999]
    groups = ["call"] * len(called) + ["none"]
    table = pa.table({"customer_id": pa.array(ids, pa.int64()), "treatment_group": groups})
    pq.write_table(table, folder / "part-00000.parquet")


def base(n: int = 20) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "as_of": dt.date(2025, 6, 30),
            "call_priority": np.linspace(100, 5, n),  # customer 1 is the most worth calling
            "contact_rule": None,
            "holdout": False,
        }
    )


@pytest.fixture
def con():
    return ibis.duckdb.connect()


def test_a_customer_called_last_week_is_not_called_this_week(tmp_path, con):
    week1, week2 = dt.date(2025, 6, 23), dt.date(2025, 6, 30)
    opts = {"capacity": 3, "policy": "expected_loss", "holdout_salt": ""}
    first = base()
    calls, _, _ = plan_calls(
        apply_contact_rules(first, load_contact_rules(con, RULES, tmp_path, week1)), opts
    )
    called = list(first.customer_id.iloc[calls])
    assert called == [1, 2, 3]
    publish(tmp_path, week1, called)
    rules = load_contact_rules(con, RULES, tmp_path, week2)
    second = apply_contact_rules(base(), rules)
    calls, _, _ = plan_calls(second, opts)
    assert list(second.customer_id.iloc[calls]) == [4, 5, 6]
    assert list(second.contact_rule.iloc[:3]) == [COOLDOWN] * 3
    # past the cooldown they may be called again; the week being re-run does not count itself
    later = load_contact_rules(con, RULES, tmp_path, week1 + dt.timedelta(days=31))
    assert later.rule_for([1, 4]).tolist() == [None, None]
    assert load_contact_rules(con, RULES, tmp_path, week1).rule_for([1]).tolist() == [None]


def test_the_yearly_cap_counts_lists_and_retention_offers_in_the_campaigns_log(tmp_path, con):
    as_of = dt.date(2025, 6, 30)
    for months in (2, 5, 9, 14):  # the 14-month-old call is outside the year
        publish(tmp_path, as_of - dt.timedelta(days=30 * months), [7, 8])
    con.create_table(
        "campaigns",
        pd.DataFrame(
            {
                "customer_id": [8, 9, 9, 9, 9],
                "sent_at": pd.to_datetime(
                    ["2025-03-01", "2025-01-05", "2025-02-05", "2025-03-05", "2025-04-05"]
                ),
                "offer_type": ["retention", "retention", "retention", "retention", "loyalty"],
                "treatment_group": ["call", "call", "control", None, None],
            }
        ),
    )
    rules = load_contact_rules(con, {**RULES, "cooldown_days": None}, tmp_path, as_of)
    # 7: three lists in the year; 8: three lists and a logged call; 9: two retention contacts
    # (a held-out control and a loyalty offer are not retention contacts)
    assert rules.rule_for([7, 8, 9]).tolist() == [YEARLY_CAP, YEARLY_CAP, None]
    off = load_contact_rules(con, {**RULES, "max_contacts_365d": None}, tmp_path, as_of)
    assert off.rule_for([7, 8]).tolist() == [None, None]


def test_do_not_contact_bars_its_ids_first_and_keeps_rows_without_an_id_as_rejects(tmp_path, con):
    publish(tmp_path, dt.date(2025, 6, 23), [1, 2])
    path = tmp_path / "dnc.csv"
    path.write_text("customer_id,asked_on\n2,2025-01-01\n5,2025-02-01\n,2025-03-01\n")
    opts = {**RULES, "do_not_contact": {"path": str(path), "column": "customer_id"}}
    rules = load_contact_rules(con, opts, tmp_path, dt.date(2025, 6, 30))
    assert rules.rule_for([1, 2, 5, 6]).tolist() == [COOLDOWN, DO_NOT_CONTACT, DO_NOT_CONTACT, None]
    assert (
        len(rules.rejects) == 1
        and rules.rejects["reject_reason"].iloc[0] == "customer_id is missing"
    )
    con.create_table("dnc", pd.DataFrame({"id": ["5"]}))
    table = load_contact_rules(
        con,
        {**RULES, "do_not_contact": {"table": "dnc", "column": "id"}},
        tmp_path,
        dt.date(2025, 6, 30),
    )
    assert table.rule_for([5]).tolist() == [DO_NOT_CONTACT]


@pytest.mark.parametrize(
    "opts, message",
    [
        (
            {"do_not_contact": {"path": "nowhere.csv"}},
            "contact.do_not_contact.path: no file at nowhere.csv",
        ),
        ({"do_not_contact": {"table": "nope"}}, "contact.do_not_contact.table='nope'"),
        ({"cooldown_days": -3}, "contact.cooldown_days=-3"),
        ({"do_not_contact": {"path": "a.csv", "table": "b"}}, "give a path or a table, not both"),
    ],
)
def test_a_contact_rule_that_cannot_work_names_its_key(tmp_path, con, opts, message):
    with pytest.raises(ConfigError, match=message):
        load_contact_rules(con, {**RULES, **opts}, tmp_path, dt.date(2025, 6, 30))


def test_a_do_not_contact_file_without_the_id_column_names_the_key_and_its_columns(tmp_path, con):
    path = tmp_path / "dnc.csv"
    path.write_text("id\n1\n")
    with pytest.raises(
        ConfigError, match="no column 'customer_id' .contact.do_not_contact.column.; it has id"
    ):
        load_contact_rules(
            con, {**RULES, "do_not_contact": {"path": str(path)}}, tmp_path, dt.date(2025, 6, 30)
        )
