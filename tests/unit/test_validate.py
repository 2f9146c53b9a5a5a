"""Each class of bad input, on tiny hand-written tables."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from churn.errors import ConfigError, ValidationError
from churn.validate import load_warehouse
from churn.warehouse import connection

LOAD_DATE = dt.date(2024, 6, 30)


def customers(n=4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": range(1, n + 1),
            "signup_date": pd.to_datetime(["2023-01-05"] * n).date,
            "region": ["north"] * n,
            "segment": ["consumer"] * n,
            "acquisition_channel": ["web"] * n,
            "birth_year": [1980] * n,
        }
    )


def transactions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "transaction_id": [1, 2, 3, 4, 5, 6, 6],
            "customer_id": [1, 2, 3, 99, 1, 2, 2],
            "ts": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-02-01",
                    "2024-03-01",
                    "2024-03-02",
                    "2025-01-01",
                    "2024-03-03",
                    "2024-03-04",
                ]
            ),
            "channel": ["web", "fax", "app", "web", "web", "store", "store"],
            "product": ["tv"] * 7,
            "amount": [10.0, 5.0, -1.0, 3.0, 4.0, 2.0, 2.0],
        }
    )


def write(tmp_path, frames: dict[str, pd.DataFrame], fmt="parquet") -> dict:
    tables = {}
    for name, frame in frames.items():
        path = tmp_path / f"{name}.{fmt}"
        if fmt == "csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path)
        tables[name] = {"path": str(path)}
    return tables


def load(tmp_path, tables, max_fraction=1.0):
    warehouse = {"backend": "duckdb", "path": str(tmp_path / "w.duckdb")}
    with connection(warehouse) as con:
        return {r.table: r for r in load_warehouse(con, tables, LOAD_DATE, max_fraction)}


def read(tmp_path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        return con.execute(sql).df()


def test_bad_rows_go_to_rejects_with_reasons_and_nothing_is_lost(tmp_path):
    tables = write(tmp_path, {"customers": customers(), "transactions": transactions()})
    results = load(tmp_path, tables)
    tx = results["transactions"]
    assert (tx.rows_in, tx.rows_loaded, tx.rejected) == (7, 2, 5)
    rejects = read(
        tmp_path,
        "select transaction_id, reject_reason from rejects_transactions "
        "order by transaction_id, ts",
    ).set_index("transaction_id")
    assert rejects.loc[2, "reject_reason"] == "channel not one of store/web/app/phone"
    assert rejects.loc[3, "reject_reason"] == "amount below 0"
    assert rejects.loc[4, "reject_reason"] == "customer_id not in customers"
    assert rejects.loc[5, "reject_reason"] == "ts after the load date 2024-06-30"
    # transaction 6 twice with other values: the first (its earlier time) is kept
    assert rejects.loc[6, "reject_reason"] == (
        "transaction_id repeats an earlier row with other values (the first is kept): '6'"
    )
    loaded = read(tmp_path, "select transaction_id, ts from transactions order by 1")
    assert loaded["transaction_id"].tolist() == [1, 6]
    assert str(loaded["ts"].iloc[1].date()) == "2024-03-03"


def test_exact_duplicate_events_and_customers_are_kept_once_and_lose_nothing(tmp_path):
    people = pd.concat([customers(), customers().iloc[:2]], ignore_index=True)  # 1 and 2 twice
    tx = transactions().iloc[[0, 1]].assign(channel="web", amount=[10.0, 5.0])
    tx = pd.concat([tx, tx], ignore_index=True)  # every purchase twice
    visits = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "ts": pd.to_datetime(["2024-01-02", "2024-01-02", "2024-01-03"]),
            "channel": "web",
            "kind": "login",
        }
    )
    tables = write(tmp_path, {"customers": people, "transactions": tx, "interactions": visits})
    results = load(tmp_path, tables, max_fraction=0.01)  # copies are not bad rows
    assert {t: (r.rows_in, r.rows_loaded) for t, r in results.items()} == {
        "customers": (6, 4),
        "transactions": (4, 2),
        "interactions": (3, 2),
    }
    spend = read(tmp_path, "select customer_id, sum(amount) s from transactions group by 1")
    assert dict(zip(spend.customer_id, spend.s, strict=True)) == {1: 10.0, 2: 5.0}
    reasons = read(tmp_path, "select reject_reason from rejects_interactions")["reject_reason"]
    assert reasons.tolist() == ["exact duplicate of an earlier row (kept once)"]


def test_a_log_of_identical_purchases_can_keep_them_all(tmp_path):
    tx = transactions().iloc[[0]].drop(columns="transaction_id").assign(channel="web")
    tables = write(tmp_path, {"customers": customers(), "transactions": pd.concat([tx, tx])})
    tables["transactions"]["duplicates"] = "keep_all"
    assert load(tmp_path, tables)["transactions"].rows_loaded == 2
    tables["transactions"]["duplicates"] = "keep_some"
    with pytest.raises(ConfigError, match="data.tables.transactions.duplicates='keep_some'"):
        load(tmp_path, tables)


def test_complaint_resolved_before_opened_and_subscription_end_before_start(tmp_path):
    complaints = pd.DataFrame(
        {
            "complaint_id": [1, 2],
            "customer_id": [1, 2],
            "opened_at": pd.to_datetime(["2024-01-10", "2024-01-10"]),
            "resolved_at": pd.to_datetime(["2024-01-12", "2024-01-09"]),
            "category": ["billing", "network"],
            "severity": [1, 2],
        }
    )
    subs = pd.DataFrame(
        {
            "subscription_id": [1, 2],
            "customer_id": [1, 2],
            "product": ["tv", "tv"],
            "plan": ["basic", "basic"],
            "monthly_fee": [10.0, 10.0],
            "start_date": pd.to_datetime(["2024-01-01", "2024-01-01"]).date,
            "end_date": [None, pd.Timestamp("2023-12-01").date()],
            "previous_subscription_id": pd.array([None, None], dtype="Int64"),
            "change_reason": ["new", "new"],
        }
    )
    tables = write(
        tmp_path, {"customers": customers(), "complaints": complaints, "subscriptions": subs}
    )
    load(tmp_path, tables)
    assert read(
        tmp_path, "select complaint_id, reject_reason from rejects_complaints"
    ).values.tolist() == [[2, "resolved_at before opened_at"]]
    assert read(
        tmp_path, "select subscription_id, reject_reason from rejects_subscriptions"
    ).values.tolist() == [[2, "end_date before start_date"]]


def test_survey_scores_are_read_on_their_own_scale(tmp_path):
    surveys = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 3, 3],
            "ts": pd.to_datetime(["2024-01-10"] * 6),
            "type": ["relationship", "after_complaint", "relationship", "survey", "relationship"]
            + ["after_purchase"],
            "scale": ["nps", "csat", "csat", "nps", "nps", "stars"],
            "score": [10.0, 5.0, 7.0, 3.0, None, 4.0],
        }
    )
    tables = write(tmp_path, {"customers": customers(), "surveys": surveys})
    results = load(tmp_path, tables)
    assert results["surveys"].rows_loaded == 3  # an unanswered survey (null score) is kept
    rejects = read(tmp_path, "select customer_id, scale, reject_reason from rejects_surveys")
    assert sorted(rejects["reject_reason"]) == [
        "scale not one of nps/csat",
        "score outside 1-5 on the csat scale",
        "type not one of relationship/after_complaint/after_purchase",
    ]


def test_unparseable_strings_are_rejected_not_dropped(tmp_path):
    frame = customers(3).astype({"signup_date": str, "birth_year": str})
    frame.loc[1, "signup_date"] = "not a date"
    frame.loc[2, "birth_year"] = "nineteen"
    tables = write(tmp_path, {"customers": frame}, fmt="csv")
    results = load(tmp_path, tables)
    assert results["customers"].rejects_by_reason == {
        "signup_date is not a valid date": 1,
        "birth_year is not a valid int": 1,
    }
    assert read(tmp_path, "select count(*) n from customers")["n"].item() == 1


def test_missing_column_is_fatal_and_names_table_column_and_config_key(tmp_path):
    tables = write(tmp_path, {"customers": customers().drop(columns=["signup_date"])})
    with pytest.raises(ValidationError) as err:
        load(tmp_path, tables)
    assert err.value.table == "customers" and err.value.column == "signup_date"
    assert "data.tables.customers.columns.signup_date" in str(err.value)
    assert "First rows" in str(err.value)


def test_optional_columns_may_be_absent_and_are_not_invented(tmp_path):
    """A purchase log without channel, product or transaction id, customers without attributes."""
    people = customers()[["customer_id", "signup_date"]]
    tx = transactions().drop(columns=["channel", "product", "transaction_id"])
    results = load(tmp_path, write(tmp_path, {"customers": people, "transactions": tx}))
    assert results["customers"].rows_loaded == 4
    # without a transaction id there is no key to duplicate: rows 6 and 7 are two purchases
    assert results["transactions"].rejects_by_reason == {
        "customer_id not in customers": 1,
        "ts after the load date 2024-06-30": 1,
        "amount below 0": 1,
    }
    columns = read(tmp_path, "select * from transactions limit 0").columns
    assert list(columns) == ["customer_id", "ts", "amount"]
    assert list(read(tmp_path, "select * from customers limit 0").columns) == [
        "customer_id",
        "signup_date",
    ]


def whitespace_log(tmp_path) -> dict:
    """CDNOW's layout: runs of spaces, zero-padded ids, dates as YYYYMMDD."""
    path = tmp_path / "log.txt"
    path.write_text(
        " customer_id  date number_of_cds  dollar_value\n"
        " 00001 19970101  1   11.77\n"
        " 00002 19970112  1   12.00\n"
        " 00002 19970112  5   77.00\n"
        " 00003 19971301  2   20.76\n"  # month 13: a reject, not a failed load
        " 00002 19970301  1   9.99\n"
    )
    return {
        "customers": {"derive": "first_purchase"},
        "transactions": {
            "path": str(path),
            "format": "whitespace",
            "columns": {"ts": "date", "amount": "dollar_value"},
            "formats": {"ts": "%Y%m%d"},
        },
    }


def test_purchase_log_with_date_layout_and_customers_from_first_purchase(tmp_path):
    results = load(tmp_path, whitespace_log(tmp_path))
    assert results["transactions"].rows_in == 5 and results["transactions"].rows_loaded == 4
    assert results["transactions"].rejects_by_reason == {
        "ts is not a valid timestamp in the layout %Y%m%d": 1
    }
    rejected = read(tmp_path, "select * from rejects_transactions")
    assert rejected["ts"].tolist() == ["19971301"]  # the raw value, as it came
    people = read(tmp_path, "select * from customers order by customer_id")
    assert people["customer_id"].tolist() == [1, 2]  # customer 3 bought only on a bad date
    assert [str(d.date()) for d in people["signup_date"]] == ["1997-01-01", "1997-01-12"]
    tx = read(tmp_path, "select * from transactions order by ts")
    assert str(tx["ts"].iloc[-1]) == "1997-03-01 00:00:00"
    assert tx["amount"].sum() == pytest.approx(11.77 + 12 + 77 + 9.99)


def test_staging_left_by_a_killed_run_is_not_taken_for_this_loads_customers(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create table _stg_customers as select 999 as customer_id")
    results = load(tmp_path, whitespace_log(tmp_path))
    assert results["transactions"].rows_loaded == 4  # not checked against the stale customers
    assert read(tmp_path, "select count(*) n from customers")["n"].item() == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"customers": {"derive": "signup_form"}}, "only customers can be derived"),
        ({"transactions": None}, "derive=first_purchase needs data.tables.transactions"),
        ({"formats": {"amount": "%Y"}}, "only date and timestamp columns take a layout"),
        ({"formats": {"ts": "%d/%b/%Y"}}, "use %Y \\(required\\)"),
        ({"formats": {"when": "%Y"}}, "formats: when is not a column of transactions"),
    ],
)
def test_wrong_derivation_or_layout_is_a_config_error(tmp_path, change, message):
    tables = whitespace_log(tmp_path)
    if "formats" in change:
        tables["transactions"]["formats"] = change["formats"]
    elif change.get("transactions", "keep") is None:
        del tables["transactions"]
    else:
        tables.update(change)
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, tables)


def test_type_that_cannot_be_cast_is_fatal(tmp_path):
    tx = transactions()
    tx["ts"] = 12345  # a number where a timestamp belongs
    tables = write(tmp_path, {"customers": customers(), "transactions": tx})
    with pytest.raises(
        ValidationError, match="column 'ts' is int64 and cannot be read as timestamp"
    ):
        load(tmp_path, tables)


def test_column_mapping_renames_user_columns_and_names_bad_keys(tmp_path):
    frame = customers().rename(columns={"customer_id": "CustNo"})
    tables = write(tmp_path, {"customers": frame})
    tables["customers"]["columns"] = {"customer_id": "CustNo"}
    assert load(tmp_path, tables)["customers"].rows_loaded == 4
    tables["customers"]["columns"] = {"customer_id": "CustomerNumber"}
    with pytest.raises(ValidationError, match="data.tables.customers.columns"):
        load(tmp_path, tables)


def test_a_failed_load_names_the_upstream_table_that_caused_it_first(tmp_path):
    people = customers(40)
    people.loc[38:, "signup_date"] = dt.date(2025, 1, 1)  # 2 after the load date: 5%, under 10%
    tx = pd.concat([transactions().iloc[[0]]] * 40, ignore_index=True)
    tx = tx.assign(transaction_id=range(1, 41), customer_id=[39] * 20 + list(range(1, 21)))
    tables = write(tmp_path, {"customers": people, "transactions": tx})
    with pytest.raises(ValidationError, match="too many rejected rows") as err:
        load(tmp_path, tables, max_fraction=0.1)
    said = str(err.value)
    assert said.index("table 'customers'") < said.index("table 'transactions'")
    assert "2 of 40 rows rejected (5.0% counted, under the limit)" in said
    assert "20 x customer_id not in customers" in said


def test_money_beyond_what_sums_hold_exactly_is_a_reject_with_its_value(tmp_path):
    tx = transactions().iloc[[0, 1]].assign(channel="web", amount=[1e300, 5e11])
    results = load(tmp_path, write(tmp_path, {"customers": customers(), "transactions": tx}))
    assert (results["transactions"].rows_loaded, results["transactions"].rejected) == (1, 1)
    rejects = read(tmp_path, "select amount, reject_reason from rejects_transactions")
    assert rejects["reject_reason"].tolist() == ["amount above 1e+12"]
    assert rejects["amount"].tolist() == [1e300]


@pytest.mark.parametrize("setting", ["reject", "keep"])
def test_events_before_their_customers_signup_are_rejects_unless_kept(tmp_path, setting):
    tx = transactions().iloc[[0, 1]].assign(channel="web", amount=[10.0, 5.0])
    tx.loc[0, "ts"] = pd.Timestamp("2021-12-01")  # 400 days before customer 1 signed up
    tables = write(tmp_path, {"customers": customers(), "transactions": tx})
    warehouse = {"backend": "duckdb", "path": str(tmp_path / "w.duckdb")}
    with connection(warehouse) as con:
        results = {r.table: r for r in load_warehouse(con, tables, LOAD_DATE, 1.0, 5, setting)}
    loaded = results["transactions"].rows_loaded
    if setting == "reject":
        assert loaded == 1 and results["transactions"].rejects_by_reason == {
            "ts before the customer's signup_date": 1
        }
    else:
        assert loaded == 2


@pytest.mark.parametrize("bad_row", [False, True], ids=["timestamps", "text_with_a_bad_value"])
def test_offsets_in_text_timestamps_are_honoured_to_utc(tmp_path, bad_row):
    times = ["2024-03-01 10:00:00+01:00", "2024-03-01 10:00:00+02:00", "2024-03-01 10:00:00"]
    if bad_row:  # the column is then read as text and typed by the contract
        times.append("soon")
    tx = pd.concat([transactions().iloc[[0]]] * len(times), ignore_index=True)
    tx = tx.assign(transaction_id=range(1, len(times) + 1), ts=times, channel="web")
    tables = write(tmp_path, {"customers": customers(), "transactions": tx}, fmt="csv")
    tables["customers"] = write(tmp_path, {"customers": customers()})["customers"]
    load(tmp_path, tables)
    loaded = read(tmp_path, "select transaction_id, ts::varchar t from transactions order by 1")
    assert loaded["t"].tolist() == [
        "2024-03-01 09:00:00",
        "2024-03-01 08:00:00",
        "2024-03-01 10:00:00",
    ]


def test_unknown_table_in_config_is_a_config_error(tmp_path):
    tables = write(tmp_path, {"customers": customers()})
    tables["custmers"] = tables["customers"]
    with pytest.raises(ConfigError, match="custmers"):
        load(tmp_path, tables)


def test_reject_fraction_over_limit_fails_and_keeps_previous_warehouse(tmp_path):
    (tmp_path / "good").mkdir()
    good = write(tmp_path / "good", {"customers": customers(), "transactions": transactions()[:1]})
    load(tmp_path, good, max_fraction=0.01)
    before = read(tmp_path, "select * from transactions")
    bad = write(tmp_path, {"customers": customers(), "transactions": transactions()})
    with pytest.raises(ValidationError, match="too many rejected rows") as err:
        load(tmp_path, bad, max_fraction=0.01)
    assert "5 of 7 rows rejected" in str(err.value) and "amount below 0" in str(err.value)
    pd.testing.assert_frame_equal(read(tmp_path, "select * from transactions"), before)
    tables = set(read(tmp_path, "select table_name from information_schema.tables")["table_name"])
    assert not any(t.startswith("_stg") for t in tables)
    assert read(tmp_path, "select count(*) n from rejects_transactions")["n"].item() == 0


def test_missing_file_names_the_config_key(tmp_path):
    with pytest.raises(ValidationError, match="data.tables.customers.path"):
        load(tmp_path, {"customers": {"path": str(tmp_path / "nope.parquet")}})


def test_a_pipe_as_a_table_path_is_refused_at_once_never_read_for_ever(tmp_path):
    import os

    fifo = tmp_path / "customers.csv"
    os.mkfifo(fifo)
    with pytest.raises(ValidationError, match="not a regular file or folder .*customers.path"):
        load(tmp_path, {"customers": {"path": str(fifo)}})


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_non_finite_amounts_are_rejects_quoting_the_raw_value(tmp_path, fmt):
    tx = transactions().iloc[[0, 0, 0, 0]].assign(transaction_id=[1, 2, 3, 4])
    tx["amount"] = [10.0, float("nan"), float("inf"), float("-inf")]
    if fmt == "csv":
        tx = tx.astype({"amount": str})
        tx["amount"] = ["10.0", "NaN", "inf", "1e400"]
    tables = write(tmp_path, {"customers": customers(), "transactions": tx}, fmt=fmt)
    if fmt == "parquet":  # NaN stored as NaN, not as null
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(tx, preserve_index=False)
        amount = pa.array([10.0, float("nan"), float("inf"), float("-inf")], from_pandas=False)
        table = table.set_column(table.schema.get_field_index("amount"), "amount", amount)
        pq.write_table(table, tables["transactions"]["path"])
    results = load(tmp_path, tables)
    assert results["transactions"].rows_loaded == 1
    reasons = results["transactions"].rejects_by_reason
    assert sum(n for r, n in reasons.items() if "amount is not a finite number" in r) == 3
    reasons = read(tmp_path, "select reject_reason from rejects_transactions")["reject_reason"]
    assert any(r.startswith("amount is not a finite number: '") for r in reasons)
    if fmt == "csv":
        assert "amount is not a finite number: 'inf'" in set(reasons)


def test_ids_that_are_not_whole_numbers_are_rejects_not_rounded(tmp_path):
    tx = transactions().iloc[[0, 0, 0]].assign(transaction_id=[1, 2, 3])
    tx["customer_id"] = [1.0, 2.5, 3.7]
    tables = write(tmp_path, {"customers": customers(), "transactions": tx})
    results = load(tmp_path, tables)
    assert results["transactions"].rows_loaded == 1
    rejects = read(tmp_path, "select reject_reason from rejects_transactions")["reject_reason"]
    assert sorted(rejects) == [
        "customer_id is not a whole number: '2.5'",
        "customer_id is not a whole number: '3.7'",
    ]
    assert read(tmp_path, "select customer_id from transactions")["customer_id"].tolist() == [1]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_an_empty_table_is_valid_input(tmp_path, fmt):
    tables = write(
        tmp_path, {"customers": customers(), "transactions": transactions().iloc[:0]}, fmt
    )
    results = load(tmp_path, tables)
    assert (results["transactions"].rows_in, results["transactions"].rows_loaded) == (0, 0)
    assert read(tmp_path, "select count(*) n from transactions")["n"].item() == 0


def test_a_table_dropped_from_the_config_leaves_the_warehouse_in_the_same_load(tmp_path):
    tables = write(tmp_path, {"customers": customers(), "transactions": transactions()})
    load(tmp_path, tables)
    load(tmp_path, {"customers": tables["customers"]})
    names = set(read(tmp_path, "select table_name from information_schema.tables")["table_name"])
    assert "customers" in names
    assert not names & {"transactions", "rejects_transactions"}


@pytest.mark.parametrize("damage", ["csv_named_parquet", "truncated_parquet"])
def test_a_file_that_is_not_what_its_name_says_names_table_path_and_key(tmp_path, damage):
    tables = write(tmp_path, {"customers": customers(), "transactions": transactions()})
    path = tmp_path / "transactions.parquet"
    if damage == "csv_named_parquet":
        transactions().to_csv(path, index=False)
    else:
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(
        ValidationError,
        match=r"'transactions'.*cannot be read as parquet.*"
        r"data.tables.transactions.path",
    ):
        load(tmp_path, tables)


def test_a_warehouse_held_by_another_process_is_named_with_its_pid(tmp_path):
    import subprocess
    import sys

    from churn.errors import ChurnError

    path = tmp_path / "w.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); "
            "print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(ChurnError, match=rf"another churn process \(pid {holder.pid}\) holds"):
            with connection({"backend": "duckdb", "path": str(path)}):
                pass
    finally:
        holder.kill()
        holder.wait()


def test_an_optional_column_with_no_value_at_all_loads_and_a_wrong_value_is_still_rejected(
    tmp_path,
):
    """A campaigns log from a business with no retention tests: treatment_group is there but
    empty. The warehouse's all-of-nothing is null, which must not read as a broken contract."""
    people = customers()[["customer_id", "signup_date"]]
    sent = pd.Timestamp("2024-03-01 10:00")
    campaigns = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "sent_at": [sent] * 3,
            "offer_type": ["retention"] * 3,
            "channel": ["phone"] * 3,
            "responded_at": [pd.NaT] * 3,
            "treatment_group": [None, None, None],
        }
    )
    results = load(tmp_path, write(tmp_path, {"customers": people, "campaigns": campaigns}))
    assert results["campaigns"].rows_loaded == 3
    wrong = campaigns.assign(treatment_group=[None, "called", None])
    results = load(tmp_path, write(tmp_path, {"customers": people, "campaigns": wrong}))
    assert results["campaigns"].rejects_by_reason == {"treatment_group not one of call/control": 1}
