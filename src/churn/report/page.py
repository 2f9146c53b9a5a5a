"""`churn report`: one static HTML page for retention teams — who is at risk, why, who to call.

The champion model scores the latest cutoff; exact SHAP gives driver families, segment views and
reason codes; the backtest metrics and plots come from the model's MLflow run. The page embeds its
plots, opens from disk with no server or network, and is logged back to that run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from churn.columns import TIER_ORDER
from churn.dataset.build import load_model_table
from churn.explain.explainer import (
    driver_families,
    segment_drivers,
)
from churn.fingerprint import fingerprint
from churn.registry.models import load_registered, run_artifacts
from churn.report.changes import changes_view
from churn.report.outcomes import outcomes_view
from churn.report.uplift import uplift_view
from churn.report.words import data_checks, quality_words, top_driver_readings
from churn.scoring.latest import Scored, score_latest
from churn.store import features_folder, read_catalog, write_text_atomically
from churn.training.evaluate import with_economics
from churn.vocabulary import DRIVER_FAMILIES

log = logging.getLogger(__name__)


def headline(scored: Scored, base_rate: float, at_risk_band: str) -> dict[str, Any]:
    at_risk = scored.frame["risk_band"] == at_risk_band
    return {
        "customers": int(len(scored.frame)),
        "base_rate": base_rate,
        "at_risk": int(at_risk.sum()),
        "at_risk_share": float(at_risk.mean()),
        "value_at_stake": float(scored.frame.loc[at_risk, "expected_loss"].sum()),
        "expected_loss_total": float(scored.frame["expected_loss"].sum()),
        "expected_leavers": float(scored.frame["probability"].sum()),
    }


def risk_value_matrix(frame: pd.DataFrame, bands: Sequence[str]) -> dict[str, Any]:
    """Risk bands (riskiest first) x value tiers: counts and expected loss in each cell."""
    tiers = [t for t in TIER_ORDER if t in set(frame["value_tier"])] or sorted(
        frame["value_tier"].astype(str).unique()
    )
    grouped = frame.groupby(["risk_band", "value_tier"], observed=True)
    counts = grouped.size()
    loss = grouped["expected_loss"].sum()
    most = float(loss.max()) if len(loss) else 0.0
    rows = []
    for band in reversed(list(bands)):
        cells = []
        for tier in tiers:
            n = int(counts.get((band, tier), 0))
            at_stake = float(loss.get((band, tier), 0.0))
            cells.append({"n": n, "loss": at_stake, "heat": at_stake / most if most else 0.0})
        rows.append({"band": band, "cells": cells})
    return {"tiers": tiers, "rows": rows}


def driver_views(scored: Scored, catalog: Sequence[dict], segment: str | None) -> dict[str, Any]:
    """Driver families overall, per value tier and per segment, in probability points."""
    points = scored.explanation.points * 100
    families = driver_families(points, catalog).abs().mean().sort_values(ascending=False)
    tiers = segment_drivers(scored.explanation.shap, catalog, scored.frame["value_tier"])
    tiers = tiers.reindex([t for t in TIER_ORDER if t in tiers.index] or list(tiers.index))
    views = {"families": families, "tiers": tiers, "segments": None}
    if segment and segment in scored.X:
        views["segments"] = segment_drivers(
            scored.explanation.shap, catalog, scored.X[segment].fillna("unknown")
        )
    return views


def call_list(scored: Scored, rows: int) -> list[dict[str, Any]]:
    """The customers with the most expected loss (the most risk when value is unknown), with
    their reasons."""
    known = scored.frame["expected_loss"].notna().any()
    top = scored.frame.nlargest(rows, "expected_loss" if known else "probability")
    out = []
    for i, row in top.iterrows():
        reasons = [scored.reasons.at[i, f"reason_{k}"] for k in (1, 2, 3)]
        out.append({**row.to_dict(), "reasons": [r for r in reasons if r]})
    return out


def observed_base_rate(data_dir: Path, target: str) -> tuple[float, str]:
    """The observed rate at the latest labelled cutoff."""
    meta = read_catalog(features_folder(data_dir))
    if not meta["labelled_cutoffs"]:
        return float("nan"), "none"
    cutoff = meta["labelled_cutoffs"][-1]
    table = load_model_table(features_folder(data_dir), [cutoff])
    return float(table[target].mean()), cutoff


def build_context(cfg: Mapping) -> dict[str, Any]:
    """Everything the template shows, computed from the registered model and the features."""
    import mlflow

    from churn.report import plots

    data_dir = Path(cfg["paths"]["data_dir"])
    registered = load_registered(cfg["report"]["model_uri"], cfg["mlflow"]["tracking_uri"])
    log.info("report for %s v%s (run %s)", registered.name, registered.version, registered.run_id)
    meta = read_catalog(features_folder(data_dir))
    cfg = with_economics(cfg, meta.get("inferred"))
    target, opts, risk = cfg["target"]["name"], cfg["report"], cfg["risk"]
    catalog = meta["features"]
    snapshot = meta.get("mode") == "snapshot"
    inferred = meta.get("inferred") or {}
    scored = score_latest(
        registered.model,
        data_dir,
        risk,
        opts["min_reason_points"],
        cfg["costs"],
        registered,
        cfg["value"],
    )
    base_rate, base_cutoff = observed_base_rate(data_dir, target)
    run = mlflow.get_run(registered.run_id)
    artifacts = run_artifacts(
        registered.run_id,
        ["plots/calibration.png", "plots/profit.png", "config.json", "value_backtest.json"],
    )
    views = driver_views(scored, catalog, opts["segment_column"])
    actionable = {f["driver_family"] for f in catalog if f["actionable"]}
    sample = scored.X.sample(min(opts["beeswarm_rows"], len(scored.X)), random_state=0).index
    drivers = top_driver_readings(scored, catalog, opts["top_drivers"])
    for driver in drivers:
        driver["plot"] = plots.to_data_uri(
            plots.plot_dependence(
                driver["values"].loc[sample],
                driver["points"].loc[sample],
                driver["label"],
                driver["categorical"],
            )
        )
    names = DRIVER_FAMILIES
    figures = {
        "families": plots.plot_family_bars(views["families"], names, actionable),
        "tiers": plots.plot_segment_families(views["tiers"], names, "drivers per value tier"),
        "beeswarm": plots.plot_beeswarm(
            scored.explanation.points.loc[sample], scored.X.loc[sample]
        ),
    }
    backtest = artifacts.get("value_backtest.json") or {}
    if backtest.get("deciles"):
        figures["value"] = plots.plot_value_deciles(backtest["deciles"], backtest["cutoff"])
    if views["segments"] is not None:
        figures["segments"] = plots.plot_segment_families(
            views["segments"], names, f"drivers per {opts['segment_column']}"
        )
    config = artifacts.get("config.json", {})
    return {
        "title": f"Retention report — {scored.cutoff}",
        "cutoff": scored.cutoff,
        "horizon_days": cfg["labels"]["horizon_days"],
        "headline": headline(scored, base_rate, risk["at_risk"]),
        "base_cutoff": base_cutoff,
        "at_risk_band": risk["at_risk"],
        "bands": list(zip(risk["labels"], [0.0, *risk["edges"]], strict=True)),
        "matrix": risk_value_matrix(scored.frame, risk["labels"]),
        "value": value_view(scored.frame, backtest),
        "families": [
            {"name": names[f], "pts": v, "actionable": f in actionable}
            for f, v in views["families"].items()
        ],
        "images": {k: plots.to_data_uri(v) for k, v in figures.items()},
        "drivers": drivers,
        "call_list": call_list(scored, opts["call_list_rows"]),
        "changes": changes_view(Path(cfg["paths"]["scores_dir"]), cfg.get("playbook") or {}),
        "outcomes": outcomes_view(Path(cfg["paths"]["outcomes_dir"])),
        "uplift": uplift_view(data_dir, inferred.get("label_meaning", "churned")),
        "quality": quality_words(run.data.metrics, snapshot, cfg["costs"]),
        "snapshot": snapshot,
        "label_meaning": inferred.get("label_meaning", "churned"),
        "value_known": not snapshot or bool(inferred.get("value_column")),
        "value_column": inferred.get("value_column"),
        "checks": data_checks(meta.get("checks") or {}),
        "quality_images": [
            artifacts[k] for k in ("plots/calibration.png", "plots/profit.png") if k in artifacts
        ],
        "lineage": {
            "model": registered.name,
            "version": registered.version,
            "run_id": registered.run_id,
            "model_uri": registered.uri,
            "data_cutoff": scored.cutoff,
            "trained_to_cutoff": run.data.params.get("data.cutoff_last", "unknown"),
            "config_hash": fingerprint(config=config) if config else "unknown",
            "feature_set_hash": meta["feature_set_hash"],
            "git_commit": run.data.tags.get("git_commit", "unknown"),
        },
        "run_id": registered.run_id,
    }


SEGMENT_WORDS = {
    "high_performance": "keep at all costs",
    "high_potential": "develop with cross-sell and upsell",
    "core": "serve as usual",
    "below_zero": "margin does not cover the cost to serve",
}


def value_view(frame: pd.DataFrame, backtest: Mapping) -> dict[str, Any]:
    """Value segments (customers, CLV, expected loss) and the value backtest's headline; `clv`
    is False for a model trained before CLV."""
    if frame["clv"].isna().all():
        return {"clv": False}
    grouped = frame.groupby("value_segment")
    rows = [
        {
            "segment": name.replace("_", " "),
            "meaning": SEGMENT_WORDS.get(name, ""),
            "customers": int(len(group)),
            "clv": float(group["clv"].sum()),
            "loss": float(group["expected_loss"].sum()),
        }
        for name, group in grouped
    ]
    metrics = {k.removeprefix("value_"): v for k, v in backtest.items() if k.startswith("value_")}
    return {
        "clv": True,
        "segments": sorted(rows, key=lambda r: -r["clv"]),
        "backtest": metrics,
        "cutoff": backtest.get("cutoff"),
    }


def render_report(context: Mapping[str, Any]) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("churn.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    return env.get_template("retention_report.html.j2").render(**context)


def build_report(cfg: Mapping) -> Path:
    """Render the report, write it, and log it with the model's run."""
    context = build_context(cfg)
    path = write_text_atomically(render_report(context), Path(cfg["report"]["path"]))
    if cfg["report"]["log_to_mlflow"]:
        from mlflow.tracking import MlflowClient

        MlflowClient().log_artifact(context["run_id"], str(path), "report")
    head = context["headline"]
    log.info(
        "report %s: %s customers, %s at risk, %.0f value at stake",
        path,
        f"{head['customers']:,}",
        f"{head['at_risk']:,}",
        head["value_at_stake"],
    )
    return path


def run_report(cfg) -> Path:
    """Hydra entry."""
    from omegaconf import OmegaConf

    return build_report(OmegaConf.to_container(cfg, resolve=True))
