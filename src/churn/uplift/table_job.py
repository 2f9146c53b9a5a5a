"""`churn uplift` on a customer table that records a randomized test (data.snapshot.treatment).

The churn model was trained on the control group (risk without contact); here the response
model learns, per action, whom that action moves. Its evidence is cross-validated on the test
itself (`churn.uplift.crossfit`), measured with intervals against random and risk rankings
(`churn.uplift.evidence`), logged to MLflow and written to `uplift_report.json` in
`paths.data_dir`, where the report reads it. The model refitted on the whole test, with the
learner the training folds chose most often per action, is registered as
`<prefix>-retention_uplift`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from churn.dataset.build import load_model_table
from churn.errors import ChurnError
from churn.store import UPLIFT_REPORT, features_folder, write_json_atomically
from churn.training.pipeline import model_inputs
from churn.uplift.actions import ActionUplift
from churn.uplift.crossfit import candidates, cross_fit
from churn.uplift.evidence import action_evidence, best_action_evidence
from churn.uplift.plots import plot_test_qini
from churn.uplift.register import register, uplift_run

log = logging.getLogger(__name__)
FIGURES = ("qini", "auuc", "uplift_at_10", "uplift_at_20", "uplift_at_30")


def slug(name: str) -> str:
    """An action's name as an MLflow metric key: `Womens E-Mail` -> `womens_e_mail`."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_") or "action"


def tested_rows(features_dir: Path, meta: Mapping, min_rows: int) -> pd.DataFrame:
    """The labelled customers of the test; every action and the control need `min_rows`."""
    test = meta["treatment"]
    rows = load_model_table(features_dir, meta["labelled_cutoffs"])
    rows = rows[rows["churn"].notna() & rows[test["arm_column"]].notna()].reset_index(drop=True)
    counts = rows[test["arm_column"]].value_counts()
    short = {a: int(counts.get(a, 0)) for a in [test["control"], *test["actions"]]}
    short = {a: n for a, n in short.items() if n < min_rows}
    if short:
        raise ChurnError(
            f"uplift: arm(s) {short} of {test['source_column']!r} are too small to learn from; "
            f"each needs uplift.min_arm_rows={min_rows}"
        )
    return rows


def measure(rows: pd.DataFrame, features, test: Mapping, opts: Mapping) -> tuple[dict, dict]:
    """The evidence per action (and for the best action), and the learner chosen per action."""
    X = model_inputs(rows, features)
    y = rows["churn"].to_numpy(dtype=int)
    arm = rows[test["arm_column"]].to_numpy(dtype=object)
    control, actions = test["control"], list(test["actions"])
    fitted = cross_fit(X, y, arm, control, actions, opts, features)
    report: dict = {"actions": {}}
    chosen = {}
    for j, action in enumerate(actions):
        mine = (arm == action) | (arm == control)
        evidence = action_evidence(
            fitted.effects[mine, j],
            fitted.risk[mine],
            arm[mine] == action,
            y[mine],
            opts["bootstrap"],
            opts["seed"],
        )
        chosen[action] = fitted.chosen[action].most_common(1)[0][0]
        evidence["learner"] = chosen[action]
        evidence["learner_choices"] = dict(fitted.chosen[action])
        evidence["inner_qini"] = {
            k: float(np.mean(v)) for k, v in fitted.inner_qini[action].items() if v
        }
        report["actions"][action] = evidence
    if len(actions) > 1:
        report["best_action"] = best_action_evidence(
            fitted.effects, actions, arm, y, control, opts["bootstrap"], opts["seed"]
        )
    return report, chosen


def flat_metrics(report: Mapping) -> dict[str, float]:
    """MLflow metrics: per action and ranking; `qini_uplift` and `qini_risk` (means over the
    actions) are what score.policy=auto and the champion rule weigh."""
    out = {}
    for action, evidence in report["actions"].items():
        key = slug(action)
        for figure in FIGURES:
            for tail in ("", "_ci_low", "_ci_high"):
                out[f"{key}_{figure}{tail}"] = evidence[figure + tail]
                for ranking in ("random", "risk"):
                    out[f"{key}_{ranking}_{figure}{tail}"] = evidence[ranking][figure + tail]
        out[f"{key}_harmed_share"] = evidence["harmed_share"]
        out[f"{key}_ate"] = evidence["ate"]
    if "best_action" in report:
        out["best_action_uplift_at_30"] = report["best_action"]["uplift_at_30"]
    actions = report["actions"].values()
    out["qini_uplift"] = float(np.mean([e["qini"] for e in actions]))
    out["qini_risk"] = float(np.mean([e["risk"]["qini"] for e in actions]))
    return {k: float(v) for k, v in out.items() if v is not None and np.isfinite(v)}


def train_uplift_from_table(cfg: Mapping, meta: Mapping) -> dict | None:
    """Measure, log, write uplift_report.json and register; None when the table records no
    test."""
    test = meta.get("treatment")
    if not test:
        log.info("uplift: the customer table records no randomized test (data.snapshot.treatment)")
        return None
    opts, data_dir = cfg["uplift"], Path(cfg["paths"]["data_dir"])
    features = meta["features"]
    rows = tested_rows(features_folder(data_dir), meta, opts["min_arm_rows"])
    with uplift_run(cfg):
        report, chosen = measure(rows, features, test, opts)
        report.update(
            label_meaning=meta.get("inferred", {}).get("label_meaning", "churned"),
            test={k: test[k] for k in ("source_column", "control", "actions", "arms")},
            sample_ratio=(meta.get("checks", {}).get("experiment") or {}).get("sample_ratio"),
            folds=opts["folds"],
            repeats=opts["repeats"],
            bootstrap=opts["bootstrap"],
        )
        metrics = flat_metrics(report)
        mlflow.log_metrics(metrics)
        mlflow.log_param("feature_set_hash", meta["feature_set_hash"])  # scoring checks it
        mlflow.log_params({f"learner_{slug(a)}": n for a, n in chosen.items()})
        for action, evidence in report["actions"].items():
            mlflow.log_figure(plot_test_qini(action, evidence), f"plots/qini_{slug(action)}.png")
        mlflow.log_dict(report, UPLIFT_REPORT)
        pool = candidates(opts, features)
        model = ActionUplift({a: pool[chosen[a]] for a in chosen}, test["control"]).fit(
            model_inputs(rows, features), rows["churn"], rows[test["arm_column"]]
        )
        out = register(cfg, model, rows, features, metrics)
    write_json_atomically(report, data_dir / UPLIFT_REPORT)
    for action, e in report["actions"].items():
        log.info(
            "uplift: %s: Qini %.4f [%.4f, %.4f] (random %.4f, risk %.4f); top 30%%: %.1f more "
            "per 1,000 kept than at random (%s learner)",
            action,
            e["qini"],
            e["qini_ci_low"],
            e["qini_ci_high"],
            e["random"]["qini"],
            e["risk"]["qini"],
            1000 * (e["uplift_at_30"] - e["random"]["uplift_at_30"]),
            e["learner"],
        )
    log.info(
        "uplift: %s v%s%s",
        out["model_name"],
        out["model_version"],
        " is the champion" if out["champion"] else " kept as a challenger",
    )
    return {**metrics, **out}
