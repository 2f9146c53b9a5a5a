"""The contract of every raw table: columns, types, allowed values, keys and references.

One declaration per table; the row checks (rejects with reasons) and the pandera schema that
guards the loaded tables are both derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from churn import vocabulary as C
from churn.columns import MAX_MONEY


@dataclass(frozen=True)
class ColumnRule:
    name: str
    dtype: str  # int | float | string | date | timestamp
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None
    not_before: str | None = None  # another column of the row this one may not precede
    references: str | None = None  # "table.column" the value must exist in
    not_future: bool = False  # may not be after the load date
    optional: bool = False  # may be absent from the source; then it is not loaded at all
    # (other column, ((its value, low, high), ...)): the range this one must lie in, by the other
    range_by: tuple[str, tuple[tuple[str, float, float], ...]] | None = None


@dataclass(frozen=True)
class TableContract:
    name: str
    columns: tuple[ColumnRule, ...]
    key: tuple[str, ...] = ()
    required: bool = False

    def column(self, name: str) -> ColumnRule:
        return next(c for c in self.columns if c.name == name)

    def present(self, columns) -> tuple[ColumnRule, ...]:
        """The rules that apply to a source with these columns: optional ones only if there."""
        have = set(columns)
        return tuple(c for c in self.columns if c.name in have or not c.optional)


def customer_ref(name: str = "customer_id") -> ColumnRule:
    return ColumnRule(name, "int", references="customers.customer_id")


def when(name: str, dtype: str = "timestamp", nullable: bool = False, **kw) -> ColumnRule:
    return ColumnRule(name, dtype, nullable=nullable, not_future=True, **kw)


CONTRACTS: tuple[TableContract, ...] = (
    TableContract(
        "customers",
        (
            ColumnRule("customer_id", "int"),
            when("signup_date", "date"),
            ColumnRule("region", "string", nullable=True, optional=True),
            ColumnRule("segment", "string", allowed=C.SEGMENTS, optional=True),
            ColumnRule("acquisition_channel", "string", nullable=True, optional=True),
            ColumnRule(
                "birth_year", "int", nullable=True, min_value=1900, max_value=2025, optional=True
            ),
        ),
        key=("customer_id",),
        required=True,
    ),
    TableContract(
        "subscriptions",
        (
            ColumnRule("subscription_id", "int"),
            customer_ref(),
            ColumnRule("product", "string"),
            ColumnRule("plan", "string", nullable=True),
            ColumnRule("monthly_fee", "float", min_value=0, max_value=MAX_MONEY),
            when("start_date", "date"),
            when("end_date", "date", nullable=True, not_before="start_date"),
            ColumnRule("previous_subscription_id", "int", nullable=True),
            ColumnRule("change_reason", "string", nullable=True, allowed=C.CHANGE_REASONS),
            # the end of a minimum term, known when the contract is signed (null: none); it may
            # lie after the load date, unlike every event
            ColumnRule(
                "commitment_end", "date", nullable=True, not_before="start_date", optional=True
            ),
        ),
        key=("subscription_id",),
    ),
    TableContract(
        "transactions",
        (
            ColumnRule("transaction_id", "int", optional=True),
            customer_ref(),
            when("ts"),
            ColumnRule("channel", "string", allowed=C.SALES_CHANNELS, optional=True),
            ColumnRule("product", "string", nullable=True, optional=True),
            ColumnRule("amount", "float", min_value=0, max_value=MAX_MONEY),
        ),
        key=("transaction_id",),
    ),
    TableContract(
        "interactions",
        (
            customer_ref(),
            when("ts"),
            ColumnRule("channel", "string", allowed=C.INTERACTION_CHANNELS),
            ColumnRule("kind", "string", allowed=C.INTERACTION_KINDS),
        ),
    ),
    TableContract(
        "complaints",
        (
            ColumnRule("complaint_id", "int"),
            customer_ref(),
            when("opened_at"),
            when("resolved_at", nullable=True, not_before="opened_at"),
            ColumnRule("category", "string"),
            ColumnRule("severity", "int", min_value=1, max_value=5),
        ),
        key=("complaint_id",),
    ),
    TableContract(
        "surveys",
        (
            customer_ref(),
            when("ts"),
            ColumnRule("type", "string", allowed=C.SURVEY_TYPES),
            ColumnRule("scale", "string", allowed=tuple(C.SURVEY_SCALES)),
            # null: sent, never answered; NPS 0-10, CSAT 1-5 (a CSAT of 7 is a reject)
            ColumnRule(
                "score",
                "float",
                nullable=True,
                range_by=("scale", tuple((s, *r) for s, r in C.SURVEY_SCALES.items())),
            ),
            ColumnRule("verbatim", "string", nullable=True, optional=True),
        ),
    ),
    TableContract(
        "campaigns",
        (
            customer_ref(),
            when("sent_at"),
            ColumnRule("offer_type", "string", allowed=C.OFFER_TYPES),
            ColumnRule("channel", "string", allowed=C.CAMPAIGN_CHANNELS),
            when("responded_at", nullable=True, not_before="sent_at"),
            # a retention test's arm: call, or control (picked, held out, never contacted)
            ColumnRule(
                "treatment_group", "string", nullable=True, allowed=C.TEST_ARMS, optional=True
            ),
        ),
    ),
    TableContract(
        "loyalty_members",
        (
            customer_ref(),
            when("joined_at", "date"),
        ),
        key=("customer_id",),
    ),
    TableContract(
        "loyalty_points",
        (
            customer_ref(),
            when("ts"),
            ColumnRule("kind", "string", allowed=C.POINT_KINDS),
            ColumnRule("points", "float", min_value=0, max_value=MAX_MONEY),
        ),
    ),
    TableContract(
        "referrals",
        (
            customer_ref("referrer_id"),
            customer_ref("referred_id"),
            when("ts"),
        ),
    ),
)

CONTRACT_BY_NAME = {c.name: c for c in CONTRACTS}

# a customer table with a churn flag is loaded as this one raw table (snapshot mode)
SNAPSHOT_TABLE = "snapshot"
RAW_TABLES = (*CONTRACT_BY_NAME, SNAPSHOT_TABLE)
