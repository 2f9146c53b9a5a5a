"""Customer value: takes the churn hazard and purchases and gives CLV (`clv`, with expected
purchases from BG/NBD in `purchases`, `bgnbd`), value tiers and segments (`segments`) and the
measures a CLV backtest reports (`metrics`)."""
