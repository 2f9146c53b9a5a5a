"""The champion rule: a challenger takes the alias only by beating the champion on data that
neither model was fitted or calibrated on; an identical model ties and the champion stays.

Out of time, the fair ground is the challenger's test cutoffs that come after everything the
champion was trained on. Where there are none (the same data retrained) and always for a table
without a time axis, the champion's own configuration is refitted in the challenger's folds, so
both are graded the same way on the same rows. The cutoffs or folds used are logged.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from sklearn.metrics import roc_auc_score

from churn.registry.trust import load_trusted

log = logging.getLogger(__name__)


def decide(
    client, name: str, data, cfg: Mapping, backtest, folds, backtest_fn: Callable, cv: bool
) -> dict[str, Any]:
    """{'promote': bool, 'message': str, 'compared_on': str, and both ROC-AUCs when compared}."""
    try:
        current = client.get_model_version_by_alias(name, "champion")
    except MlflowException:
        current = None
    if current is None:
        return {"promote": True, "message": "is champion (first model)", "compared_on": "none"}
    run = client.get_run(current.run_id).data
    if run.params.get("data.feature_set_hash") != str(data.meta["feature_set_hash"]):
        return {
            "promote": True,
            "message": f"replaces champion v{current.version}, which was trained on other "
            "features and cannot score today's",
            "compared_on": "none",
        }
    unseen = [] if cv else unseen_folds(folds, run.params.get("data.cutoff_last"))
    if unseen:
        champion, challenger, where = on_unseen_cutoffs(current, data, cfg, backtest, folds, unseen)
    else:
        champion, challenger, where = refitted(run, current, data, cfg, backtest, backtest_fn)
    verb = (
        "replaces"
        if challenger > champion
        else "ties"
        if challenger == champion
        else ("does not beat")
    )
    return {
        "promote": challenger > champion,
        "challenger_roc_auc": challenger,
        "champion_roc_auc": champion,
        "compared_on": where,
        "message": f"{verb} champion v{current.version} on {where} "
        f"(roc_auc {challenger:.4f} vs {champion:.4f})",
    }


def unseen_folds(folds, champion_last: str | None) -> list[int]:
    """Indices of the folds whose test cutoff comes after every cutoff the champion saw."""
    if not champion_last or champion_last == "None":
        return []
    last = dt.date.fromisoformat(champion_last)
    return [i for i, fold in enumerate(folds) if fold.test > last]


def on_unseen_cutoffs(current, data, cfg, backtest, folds, unseen) -> tuple[float, float, str]:
    """Both models scored on the same rows of cutoffs neither was fitted or calibrated on."""
    target = cfg["target"]["name"]
    challenger = pd.concat([backtest.predictions[i] for i in unseen], ignore_index=True)
    rows = challenger[["customer_id", "cutoff", "y"]].merge(
        data.frame, on=["customer_id", "cutoff"]
    )
    model = load_trusted(f"models:/{current.name}/{current.version}")
    p = model.predict_proba(rows[data.features])[:, 1]
    cutoffs = ", ".join(str(folds[i].test) for i in unseen)
    y = rows[target].astype(int).to_numpy()
    champion = float(roc_auc_score(y, p))
    return champion, float(roc_auc_score(challenger["y"], challenger["p"])), f"cutoffs {cutoffs}"


def refitted(run, current, data, cfg, backtest, backtest_fn) -> tuple[float, float, str]:
    """The champion's configuration refitted in the challenger's folds (or, when it is the very
    same configuration on the very same data, the challenger's own result: a tie)."""
    champion_cfg = mlflow.artifacts.load_dict(f"runs:/{current.run_id}/config.json")
    model_cfg = copy.deepcopy(champion_cfg["model"])
    for key in ("search", "tune"):  # its search already chose; refit what it shipped
        model_cfg.pop(key, None)
    mine = copy.deepcopy(cfg["model"])
    mine.pop("search", None)
    challenger = float(backtest.summary["roc_auc_mean"])
    where = "the challenger's folds"
    same_data = run.params.get("data.rows") == str(len(data.frame))
    if model_cfg == mine and same_data and champion_cfg.get("seed") == cfg.get("seed"):
        return challenger, challenger, f"{where} (the same configuration: a tie)"
    log.info("refitting champion v%s's configuration in the challenger's folds", current.version)
    refit_cfg = {
        **cfg,
        "model": model_cfg,
        "hparams_search": {**cfg["hparams_search"], "n_trials": 0},
    }
    result, _ = backtest_fn(data, refit_cfg)
    return float(np.mean([f["roc_auc"] for f in result.folds])), challenger, where
