"""The `churn outcomes` config schema, a leaf the config store registers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class OutcomesOptions:
    n_boot: int = 2000  # bootstrap resamples for the 95% intervals
    seed: int = 0
    publish_table: bool = True  # replace each list's slice of the warehouse `outcomes` table
    log_to_mlflow: bool = True  # outcome_* metrics on the scoring model's run
