"""Hyperparameter search with Optuna, called directly: every trial is an out-of-time backtest."""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)


def suggest(trial, space: Mapping[str, Mapping]) -> dict[str, Any]:
    """Draw one value per parameter from its declared range."""
    params = {}
    for name, spec in space.items():
        if spec["type"] == "int":
            params[name] = trial.suggest_int(name, spec["low"], spec["high"])
        elif spec["type"] == "float":
            params[name] = trial.suggest_float(
                name, spec["low"], spec["high"], log=spec.get("log", False)
            )
        else:
            raise ValueError(f"hparams_search.space.{name}.type must be int or float")
    return params


def with_params(cfg: Mapping, params: Mapping[str, Any]) -> dict:
    """The config with the estimator's parameters replaced; the input is left untouched."""
    out = copy.deepcopy(dict(cfg))
    out["model"]["estimator"].update(params)
    return out


def run_search(data, cfg: Mapping, backtest) -> tuple[dict[str, Any], list[dict], Any]:
    """Optimise the configured metric; returns the best parameters, every trial, and the best
    trial's backtest (so it is not run again)."""
    import optuna

    search = cfg["hparams_search"]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=cfg["seed"])
    )
    trials: list[dict] = []
    backtests: dict[int, Any] = {}

    def objective(trial) -> float:
        params = suggest(trial, search["space"])
        backtests[trial.number] = backtest(data, with_params(cfg, params))
        summary = backtests[trial.number][0].summary
        trials.append({"number": trial.number, "params": params, "metrics": summary})
        log.info(
            "trial %d/%d: %s = %.4f with %s",
            trial.number + 1,
            search["n_trials"],
            search["metric"],
            summary[search["metric"]],
            params,
        )
        return summary[search["metric"]]

    study.optimize(objective, n_trials=search["n_trials"])
    log.info(
        "best trial %d: %s = %.4f", study.best_trial.number, search["metric"], study.best_value
    )
    return study.best_params, trials, backtests[study.best_trial.number]
