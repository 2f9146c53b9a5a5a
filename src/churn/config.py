"""Structured-config schemas for our own config groups (each command's whole config, built
from these, is in `churn.schemas`).

No paths are resolved and nothing is created here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING


@dataclass
class PathsConfig:
    data_dir: str = "data"
    reports_dir: str = "reports"
    scores_dir: str = "scores"
    outcomes_dir: str = "outcomes"
    models_dir: str = "models"
    log_dir: str = "${.data_dir}/logs"
    mlflow_uri: str = "sqlite:///mlflow.db"
    mlflow_artifacts: str = "mlruns"


@dataclass
class WarehouseConfig:
    # duckdb (a file), pyspark (a local or cluster session) or url (any Ibis backend URL)
    backend: str = "duckdb"
    path: str = "${paths.data_dir}/warehouse.duckdb"
    url: str | None = None
    spark_master: str = "local[2]"
    spark_warehouse_dir: str = "${paths.data_dir}/spark-warehouse"
    memory_limit: str | None = None  # DuckDB's memory bound, e.g. "1GB" (spills beyond it)


@dataclass
class TableSource:
    path: str | None = None  # a file or glob; not needed for a derived table
    format: str = "auto"  # auto | parquet | csv | whitespace (columns split by runs of spaces)
    # our column name -> the column name in the user's file
    columns: dict[str, str] = field(default_factory=dict)
    csv_options: dict[str, Any] = field(default_factory=dict)
    # our date/timestamp column -> its layout in strptime codes, e.g. ts: "%Y%m%d"
    formats: dict[str, str] = field(default_factory=dict)
    # customers only: first_purchase builds the table from the transactions (no customer file)
    derive: str | None = None
    # exact duplicate rows: keep_one (copies to the rejects) | keep_all (a log whose identical
    # lines are separate events, such as purchases dated to the day)
    duplicates: str = "keep_one"


@dataclass
class SnapshotLabel:
    column: str | None = None  # the column that says who churned
    positive: Any = None  # its value for a leaver; default: a churn word, else the minority
    negative: Any = None
    meaning: str | None = None  # what the positive value means, in words ("cancelled")


@dataclass
class SnapshotValue:
    """What a customer is worth a year; all null: inferred (churn.snapshot.money)."""

    column: str | None = None  # the value column; "none": no value (value unknown)
    columns: list[str] | None = None  # or the parts of one bill, summed
    multiplier: float | None = None  # to a yearly value (12 for a monthly fee); default 1


@dataclass
class SnapshotTreatment:
    """A randomized test recorded in the table: who was contacted (each treated value is an
    action), the control group's value, and the arms' shares (churn.snapshot.experiment)."""

    column: str = MISSING  # the arm of each customer
    control: Any = MISSING  # the value of the untouched control group
    shares: Any = None  # {arm: share} as declared; null: equal shares
    balance_p: float = 0.001  # a column whose arms differ below this p (Bonferroni) was recorded
    # after the contact: left out, unless named here
    keep_unbalanced: list[str] = field(default_factory=list)


@dataclass
class SnapshotFeature:
    """What a user may declare about one column; the rest is inferred (snapshot.feature_spec)."""

    kind: str | None = None  # numeric | categorical | date (binary reads as categorical)
    driver_family: str | None = None
    actionable: bool | None = None
    description: str | None = None
    template: str | None = None  # the reason's sentence; "{value}" is the customer's value
    blank: str | None = None  # missing | zero | reject
    missing_tokens: list[str] | None = None


@dataclass
class CsvOptions:
    """How pandas reads a customer table's CSV; null: pandas' own default (the separator of a
    .txt file is sniffed)."""

    sep: str | None = None
    encoding: str | None = None
    decimal: str | None = None
    thousands: str | None = None
    quotechar: str | None = None
    skiprows: int | None = None


@dataclass
class SnapshotOptions:
    """One customer table with a churn flag (configs/data/custom.yaml lists every key)."""

    path: str | None = None  # CSV (or .txt, separator sniffed) or parquet
    csv_options: CsvOptions = field(default_factory=CsvOptions)  # passed to pandas.read_csv
    decimal: str | None = None  # the decimal mark in numbers ("." or ","); null: from the values
    thousands: str | None = None  # the thousands separator ("," or "."); null: from the values
    id: str | None = None  # default: a unique column named like an id, else row numbers
    label: SnapshotLabel = field(default_factory=SnapshotLabel)
    value: SnapshotValue = field(default_factory=SnapshotValue)
    missing_tokens: list[str] | None = None  # read as missing, never rejected
    # exact duplicate rows and rows identical but the id: group | keep_one | keep_all | reject;
    # null: group (duplicates kept once, copies kept and held in one fold), or keep_all in a
    # randomized test without an id (identical rows there are different customers)
    duplicates: str | None = None
    treatment: SnapshotTreatment | None = None  # a randomized test: churn uplift learns from it
    exclude: list[str] = field(default_factory=list)  # columns that are never features
    allow_leaky: list[str] = field(default_factory=list)  # kept although they predict the label
    near_empty_fraction: float = 0.95  # columns missing this often are dropped
    features: dict[str, SnapshotFeature] = field(default_factory=dict)  # <column>: {kind, ...}


@dataclass
class DataConfig:
    name: str = MISSING  # filled from the data config's file name when left out
    # events: CRM tables | snapshot: one customer table with a churn flag | auto: snapshot when a
    # `snapshot:` section is given
    mode: str = "auto"
    model_prefix: str = "${.name}"  # registered models are <model_prefix>-<target>
    # snapshot mode: path and label.column are enough; see configs/data/custom.yaml
    snapshot: SnapshotOptions | None = None
    # what this dataset brings to other groups, read there with oc.select (e.g. labels.yaml)
    labels: dict[str, Any] = field(default_factory=dict)
    cutoffs: dict[str, Any] = field(default_factory=dict)
    risk: dict[str, Any] = field(default_factory=dict)
    costs: dict[str, Any] = field(default_factory=dict)
    # a published baseline fitted in the same run (configs/data/cdnow.yaml: BG/NBD)
    baseline: Any = None
    # timestamps after this date are impossible; null means today
    load_date: str | None = None
    tables: dict[str, TableSource] = field(default_factory=dict)


@dataclass
class ValidateOptions:
    max_reject_fraction: float = 0.01
    example_rows: int = 5
    before_signup: str = "reject"  # events dated before their customer's signup: reject | keep


@dataclass
class FeaturesOptions:
    families: list[str] = field(default_factory=list)  # empty: every family whose tables exist
    windows: list[int] = field(default_factory=lambda: [30, 90, 180, 365])
    own_channels: list[str] = field(default_factory=lambda: ["store", "web", "app"])
    digital_channels: list[str] = field(default_factory=lambda: ["web", "app"])
    value_tier_quantiles: list[float] = field(default_factory=lambda: [0.3, 0.8, 0.95])
    rows_per_query: int = 2_000_000  # customer-cutoff rows built in one query (memory bound)


@dataclass
class LabelsOptions:
    definition: str = "contractual"  # contractual | behavioural
    lead_days: int = 0
    horizon_days: int = 30
    value_horizon_months: int = 12  # the window of future_value, the truth CLV is checked against
    plan_order: list[str] = field(default_factory=lambda: ["basic", "standard", "premium"])


@dataclass
class CutoffsOptions:
    freq: str = "monthly"
    start: str = "2024-01-01"
    end: str = "2025-12-01"
    spine: str = "subscription"  # subscription | activity
    lookback_days: int = 90


@dataclass
class TargetOptions:
    name: str = "churn"  # churn | cross_sell | upsell


@dataclass
class SplitOptions:
    kind: str = "rolling"  # rolling: out-of-time folds over cutoffs
    n_folds: int = 3
    min_fit_cutoffs: int = 3
    # auto | sigmoid | isotonic, fitted on a later cutoff than the model; auto: sigmoid (keeps the
    # ranking) unless isotonic measures a lower Brier score and no lower ROC-AUC on the folds
    calibration: str = "auto"
    cv_folds: int = 5  # split.kind=cv (and snapshot tables): stratified k-fold ...
    cv_repeats: int = 3  # ... repeated
    cv_one_repeat_rows: int = 40_000  # past this many rows, one repeat is enough
    cv_calibration: str = "auto"  # on out-of-fold scores, chosen as `calibration` is
    group_copies: bool = True  # rows with identical inputs (copies) stay in one fold
    # the final model's mean probability may differ from the observed rate by this share of it
    mean_probability_tolerance: float = 0.25


@dataclass
class CostsOptions:
    # null: scaled to the customer table's value (snapshot mode), else the demo world's 5 and 20
    contact_cost: float | None = None
    incentive_cost: float | None = None
    acceptance_rate: float = 0.3


@dataclass
class MlflowOptions:
    tracking_uri: str = "${oc.env:MLFLOW_TRACKING_URI,${paths.mlflow_uri}}"
    artifact_location: str = "${paths.mlflow_artifacts}"
    experiment: str = "${data.name}-${target.name}"
    model_prefix: str = "${data.model_prefix}"
    primary_metric: str = "roc_auc"


@dataclass
class SearchOptions:
    name: str = "none"  # none | optuna
    n_trials: int = 0
    metric: str = "roc_auc_mean"
    space: dict[str, Any] = field(default_factory=dict)


@dataclass
class RiskOptions:
    """Risk bands: a band starts at its edge, so edges has one entry fewer than labels."""

    # null: from the base rate of a customer table (1x and 2x), else 0.05 and 0.15
    edges: list[float] | None = None
    labels: list[str] = field(default_factory=lambda: ["low", "medium", "high"])
    at_risk: str = "high"  # the band counted as "at risk" in headlines


@dataclass
class ReportOptions:
    model_uri: str = "models:/${mlflow.model_prefix}-${target.name}@champion"
    path: str = "${paths.reports_dir}/retention_report.html"
    segment_column: str | None = "segment"  # a categorical feature for the segment view
    top_drivers: int = 4
    call_list_rows: int = 25
    beeswarm_rows: int = 5000
    min_reason_points: float = 0.5  # reasons adding fewer probability points are not listed
    log_to_mlflow: bool = True


@dataclass
class DoNotContactSource:
    path: str | None = None  # a CSV or parquet file of customer ids
    table: str | None = None  # or a warehouse table
    column: str = "customer_id"


@dataclass
class ContactOptions:
    """Contact rules for the call list (churn.scoring.contact); null turns a rule off."""

    cooldown_days: int | None = 30  # not called again within this many days of a contact
    max_contacts_365d: int | None = 4  # at most this many contacts in a year
    do_not_contact: DoNotContactSource = field(default_factory=DoNotContactSource)


@dataclass
class ScoreOptions:
    model_uri: str = "models:/${mlflow.model_prefix}-churn@champion"
    propensity: list[str] = field(default_factory=lambda: ["cross_sell", "upsell"])
    as_of: str | None = None  # default: the day after the warehouse's latest event
    engine: str = "duckdb"  # duckdb | spark
    chunk_rows: int = 100_000
    with_reasons: bool = True
    min_reason_points: float = 0.5  # reasons adding fewer probability points are not listed
    capacity: int = 500
    policy: str = "auto"  # auto | expected_loss | uplift_value (churn.scoring.economics)
    explore_fraction: float = 0.05  # uplift_value: share of the capacity called at random
    uplift_model_uri: str = "models:/${mlflow.model_prefix}-retention_uplift@champion"
    holdout_fraction: float = 0.1
    holdout_salt: str = "churn-retention-holdout"
    psi_threshold: float = 0.25
    fail_on_drift: bool = False
    publish_table: bool = True
