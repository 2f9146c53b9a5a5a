"""The demo CRM world (`churn simulate`): a multi-table customer base with planted churn drivers
and planted effects of retention calls."""

from churn.simulate.app import write_demo_world
from churn.simulate.run import simulate_world

__all__ = ["simulate_world", "write_demo_world"]
