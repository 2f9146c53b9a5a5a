"""The `churn uplift` config schema, a leaf the config store registers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class UpliftOptions:
    learner: dict[str, Any] = field(default_factory=dict)  # econml meta-learner, by _target_
    test_cutoffs: int = 6  # the latest cutoffs with tests, held out for the Qini check
    max_days_after_cutoff: int = 7  # a test sent later than this after a cutoff is not used
    min_arm_rows: int = 50  # called and held out, each, in the fitting and checking cutoffs
    until: str | None = None  # YYYY-MM-DD: only tests at earlier cutoffs (a backtest as of then)
    risk_model_uri: str = "models:/${mlflow.model_prefix}-churn@champion"
