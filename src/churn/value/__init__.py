"""Customer value: CLV from the churn model's hazard, cost to serve, value tiers and segments,
and the backtest that checks CLV forecasts against the revenue that came."""
