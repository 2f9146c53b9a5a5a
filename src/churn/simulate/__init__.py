"""The demo CRM world (`churn simulate`): a multi-table customer base with planted churn drivers."""

from churn.simulate.output import build_ground_truth, build_tables, write_world
from churn.simulate.run import simulate_world

__all__ = ["build_ground_truth", "build_tables", "simulate_world", "write_world"]
