"""The `churn uplift` config schema, a leaf the config store registers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class UpliftOptions:
    learner: dict[str, Any] = field(default_factory=dict)  # econml meta-learner, by _target_
    # the candidate learners by name (S, T, X and DR); a customer table's test chooses among
    # `choose_from` by out-of-fold Qini inside each training fold
    learners: dict[str, Any] = field(default_factory=dict)
    choose_from: list[str] = field(default_factory=lambda: ["s", "t", "x", "dr"])
    risk_model: dict[str, Any] = field(default_factory=dict)  # risk without contact, same folds
    folds: int = 5  # a customer table: stratified on arm x label ...
    repeats: int = 2  # ... and repeated
    inner_folds: int = 3  # inside each training part, to choose the learner
    bootstrap: int = 200  # resamples for every 95% interval
    seed: int = 0
    test_cutoffs: int = 6  # the latest cutoffs with tests, held out for the Qini check
    max_days_after_cutoff: int = 7  # a test sent later than this after a cutoff is not used
    min_arm_rows: int = 50  # called and held out, each, in the fitting and checking cutoffs
    until: str | None = None  # YYYY-MM-DD: only tests at earlier cutoffs (a backtest as of then)
    risk_model_uri: str = "models:/${mlflow.model_prefix}-churn@champion"
