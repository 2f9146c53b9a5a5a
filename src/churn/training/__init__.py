"""Training: takes the model table and gives a calibrated pipeline with its out-of-time backtest
(or honest cross-validation), the hyper-parameter search, the CLV backtest and a published
baseline, logged to MLflow and registered under the champion rule (`train` wires them)."""
