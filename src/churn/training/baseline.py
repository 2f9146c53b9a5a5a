"""A published baseline fitted in the same run as our model, on the same customers and cutoff.

For a non-contractual business (a purchase log such as CDNOW) the reference is BG/NBD (Fader,
Hardie & Lee 2005): it sees only each buyer's RFM(T) summary of the calibration period (repeat
purchase days, age at the last purchase, age) and ranks buyers by the probability that they are
still "alive". We fit it with `lifetimes` on exactly the purchases before the baseline cutoff, and
fit our model on the cutoffs whose label windows had closed by then, so neither sees the holdout.
Both rankings are scored against the same holdout label: no purchase in the baseline's horizon.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from churn.dataset.build import load_model_table
from churn.errors import ChurnError, ConfigError
from churn.store import cutoff_part
from churn.training.pipeline import build_pipeline, model_inputs
from churn.value.bgnbd import WEEK, fit_bgnbd, rfmt_summary

log = logging.getLogger(__name__)

KINDS = ("bgnbd",)
RANKINGS = ("expected_purchases", "p_alive")
RFMT_FEATURES = ("purchase_days", "first_purchase_days", "recency_days")


def check_baseline(baseline: Mapping, feature_names) -> None:
    """A baseline config that cannot run stops at start-up, naming the key to fix."""
    if baseline["kind"] not in KINDS:
        raise ConfigError(f"data.baseline.kind={baseline['kind']!r}: use {', '.join(KINDS)}")
    if baseline.get("rank_by", "expected_purchases") not in RANKINGS:
        raise ConfigError(
            f"data.baseline.rank_by={baseline['rank_by']!r}: use {' or '.join(RANKINGS)}"
        )
    missing = [f for f in RFMT_FEATURES if f not in set(feature_names)]
    if missing:
        raise ConfigError(
            f"data.baseline: BG/NBD needs the RFM(T) features {', '.join(missing)}, which come "
            "from a transactions table with customer_id and ts"
        )


def bgnbd_churn_score(model, summary: pd.DataFrame, rank_by: str, horizon_days: int) -> np.ndarray:
    """Higher means more likely to buy nothing in the horizon: 1 - P(alive), or minus the
    expected number of purchases over the horizon."""
    f, r, t = summary["frequency"], summary["recency"], summary["T"]
    if rank_by == "p_alive":
        return 1.0 - np.asarray(model.conditional_probability_alive(f, r, t), dtype=float)
    expected = model.conditional_expected_number_of_purchases_up_to_time(
        horizon_days / WEEK, f, r, t
    )
    return -np.asarray(expected, dtype=float)


def comparison_fit_cutoffs(cutoffs, horizon_days: int, baseline_cutoff: dt.date) -> list[dt.date]:
    """Training cutoffs whose label windows had closed by the baseline cutoff."""
    closed = [c for c in cutoffs if c + dt.timedelta(days=horizon_days) <= baseline_cutoff]
    if not closed:
        raise ChurnError(
            f"no training cutoff has a label window closed by the baseline cutoff "
            f"{baseline_cutoff} with labels.horizon_days={horizon_days}: start the cutoffs earlier "
            "or shorten the horizon"
        )
    return closed


def load_holdout(features_dir: Path, baseline: Mapping) -> pd.DataFrame:
    """Features at the baseline cutoff joined to the holdout label written by `churn features`."""
    cutoff = str(baseline["cutoff"])
    path = cutoff_part(features_dir / "baseline", cutoff, "labels.parquet")
    if not path.exists():
        raise ChurnError(
            f"no baseline labels at {path}: run `churn features` with this data config"
        )
    labels = pd.read_parquet(path).rename(columns={"churn": "holdout_churn"})
    frame = load_model_table(features_dir, [cutoff])
    return frame.merge(labels, on="customer_id", how="inner", validate="one_to_one")


def compare_with_baseline(data, cfg: Mapping, features_dir: Path) -> tuple[dict, dict]:
    """Our ranking and BG/NBD's on the same customers at the baseline cutoff; (metrics, details).

    Metrics: `roc_auc` (ours), `bgnbd_roc_auc`, their difference, and PR-AUC for both.
    """
    baseline = cfg["data"]["baseline"]
    check_baseline(baseline, data.features)
    cutoff = dt.date.fromisoformat(str(baseline["cutoff"]))
    target = cfg["target"]["name"]
    fit_cutoffs = comparison_fit_cutoffs(
        sorted(data.frame["cutoff"].unique()), cfg["labels"]["horizon_days"], cutoff
    )
    fit_rows = data.frame[data.frame["cutoff"].isin(set(fit_cutoffs))]
    pipe = build_pipeline(cfg["model"], data.numeric, data.categorical)
    pipe.fit(fit_rows[data.features], fit_rows[target].astype(int))

    holdout = load_holdout(features_dir, baseline)
    X = model_inputs(holdout, data.meta["features"])
    ours = pipe.predict_proba(X[data.features])[:, 1]
    summary = rfmt_summary(holdout)
    bgnbd = fit_bgnbd(summary, float(baseline.get("penalizer", 0.0)))
    rank_by = baseline.get("rank_by", "expected_purchases")
    rankings = {
        name: bgnbd_churn_score(bgnbd, summary, name, int(baseline["horizon_days"]))
        for name in RANKINGS
    }
    theirs = rankings[rank_by]
    y = holdout["holdout_churn"].astype(int).to_numpy()
    metrics = {
        "roc_auc": float(roc_auc_score(y, ours)),
        "bgnbd_roc_auc": float(roc_auc_score(y, theirs)),
        "pr_auc": float(average_precision_score(y, ours)),
        "bgnbd_pr_auc": float(average_precision_score(y, theirs)),
        **{f"bgnbd_{name}_roc_auc": float(roc_auc_score(y, s)) for name, s in rankings.items()},
    }
    metrics["roc_auc_minus_bgnbd"] = metrics["roc_auc"] - metrics["bgnbd_roc_auc"]
    metrics.update({f"bgnbd_{k}": float(v) for k, v in bgnbd.params_.items()})
    details = {
        "kind": baseline["kind"],
        "cutoff": str(cutoff),
        "horizon_days": int(baseline["horizon_days"]),
        "rank_by": rank_by,
        "customers": int(len(holdout)),
        "holdout_churn_rate": float(y.mean()),
        "our_fit_cutoffs": [str(c) for c in fit_cutoffs],
        "our_label_horizon_days": int(cfg["labels"]["horizon_days"]),
        "bgnbd_params": {k: float(v) for k, v in bgnbd.params_.items()},
        **metrics,
    }
    log.info(
        "baseline at %s, %s customers, churn = no purchase in %d days (rate %.1f%%): "
        "our roc_auc %.4f vs BG/NBD %.4f (%+.4f); BG/NBD r=%.3f alpha=%.3f a=%.3f b=%.3f",
        cutoff,
        f"{len(holdout):,}",
        details["horizon_days"],
        100 * details["holdout_churn_rate"],
        metrics["roc_auc"],
        metrics["bgnbd_roc_auc"],
        metrics["roc_auc_minus_bgnbd"],
        *[details["bgnbd_params"][k] for k in ("r", "alpha", "a", "b")],
    )
    return metrics, details
