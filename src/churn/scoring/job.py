"""`churn score`: the weekly batch job that wires the scoring modules together.

Features are built at `score.as_of` by the training code, then streamed through the champion in
chunks of `score.chunk_rows` (memory stays flat as the base grows). Safe to re-run: everything is
written to a hidden staging folder owned by this process, the warehouse slice is replaced in one
transaction, and the folder is swapped in last. A crash leaves the previous output as it was."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from churn.errors import ChurnError
from churn.features import FAMILIES, catalog
from churn.scoring.alerts import write_alerts
from churn.scoring.chunk import output_schema, score_chunk
from churn.scoring.contact import (
    ContactRules,
    apply_contact_rules,
    check_contact,
    load_contact_rules,
)
from churn.scoring.critical import usable_points
from churn.scoring.drift import DriftCounter, check_drift, count_drift, keep_drift_report
from churn.scoring.inputs import check_columns, resolve_as_of, scoring_expression
from churn.scoring.model import Scorer, load_scorer
from churn.scoring.playbook import check_playbook
from churn.scoring.policy import top_candidates
from churn.scoring.publish import (
    publish_table,
    read_part,
    write_call_list,
    write_part,
)
from churn.scoring.spark import publish_spark_table, score_on_spark
from churn.scoring.summary import say_summary
from churn.store import (
    FolderLock,
    is_leftover,
    numbered_part,
    parts_of,
    scores_partition,
    scores_staging,
    stale_staging,
    swap_dir,
    write_json_atomically,
    write_owner,
)
from churn.training.evaluate import with_economics
from churn.training.pipeline import model_inputs

log = logging.getLogger(__name__)


def score_base(cfg: Mapping) -> dict[str, Any]:
    """The whole job; returns a summary. Nothing is visible until everything is written."""

    opts = cfg["score"]
    if opts["engine"] not in ("duckdb", "spark"):
        raise ChurnError(f"score.engine={opts['engine']!r}: use duckdb or spark")
    if opts["chunk_rows"] < 1:
        raise ChurnError("score.chunk_rows must be at least 1")
    check_contact(cfg.get("contact") or {})
    scorer = load_scorer(cfg)
    cfg = settle_config(cfg, scorer)
    scores_dir = Path(cfg["paths"]["scores_dir"])
    with FolderLock(scores_dir, "score"):
        for stale in stale_staging(scores_dir):
            if is_leftover(stale):  # never a live run's folder
                log.info("removing %s left by an interrupted run", stale)
                shutil.rmtree(stale, ignore_errors=True)
        return score_locked(cfg, scorer, scores_dir)


def settle_config(cfg: Mapping, scorer: Scorer) -> dict:
    """The config this run acts on: costs and bands filled in from the model's data, the critical
    points that can fire on it, and the policy `auto` resolved to (said once in the log)."""
    cfg = with_economics(cfg, scorer.inferred)
    check_playbook(cfg.get("playbook") or {})
    alerts = cfg.get("alerts") or {}
    columns = [f["name"] for f in scorer.features]
    windows = tuple((cfg.get("features") or {}).get("windows") or ())
    built = [f.name for f in catalog(list(FAMILIES), windows)]
    usable = usable_points(alerts.get("critical_points") or [], columns, built)
    decision = scorer.decision
    log.info(
        "call list: policy %s, ranked by %s (%s)", decision.policy, decision.ranked_by, decision.why
    )
    opts = cfg["score"]
    return {
        **cfg,
        "alerts": {**alerts, "critical_points": usable},
        "score": {**opts, "policy": decision.policy, "policy_asked": opts["policy"]},
    }


def score_locked(cfg: Mapping, scorer: Scorer, scores_dir: Path) -> dict[str, Any]:
    """Score into a staging folder owned by this process, publish, swap it in."""
    from churn.warehouse import connection

    opts = cfg["score"]
    started = time.perf_counter()
    with connection(cfg["warehouse"]) as con:
        as_of = resolve_as_of(con, cfg)
        staging = scores_staging(scores_dir, as_of)
        staging.mkdir(parents=True)
        write_owner(staging)
        try:
            summary = score_into(con, cfg, scorer, as_of, staging)
            if summary["drift_blocked"]:
                return summary
            if opts["publish_table"]:
                publish = publish_spark_table if con.name == "pyspark" else publish_table
                publish(con, staging, as_of)
            target = scores_partition(scores_dir, as_of)
            summary["publish_s"] = time.perf_counter() - started - summary["features_s"]
            summary["job_wall_s"] = time.perf_counter() - started
            write_json_atomically(summary, staging / "summary.json")
            swap_dir(staging, target)
            summary["path"] = str(target)
            keep_drift_report(target / "drift.json", scores_dir, as_of)  # only once published
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return summary


def score_into(con, cfg, scorer, as_of, staging: Path) -> dict:
    """Build and score the features into staging parts, then drift, call list and CSVs."""
    opts = cfg["score"]
    started = time.perf_counter()
    rules = load_contact_rules(
        con, cfg.get("contact") or {}, Path(cfg["paths"]["scores_dir"]), as_of
    )
    if rules.rejects is not None:
        rules.rejects.to_csv(staging / "do_not_contact_rejects.csv", index=False)
    if opts["engine"] == "spark":
        features_dir = score_on_spark(con, cfg, scorer, as_of, staging)
        features_s = scoring_s = time.perf_counter() - started
        drift = count_drift(features_dir, scorer, opts["chunk_rows"])
        candidates = [
            top_candidates(apply_contact_rules(read_part(p), rules), opts)
            for p in parts_of(staging)
        ]
    else:
        features_dir = staging / "_features"
        features_dir.mkdir()
        con.to_parquet(scoring_expression(con, cfg, as_of, scorer), features_dir / "part-0.parquet")
        features_s = time.perf_counter() - started
        drift = DriftCounter(scorer.reference)
        scoring_s, candidates = score_parts(features_dir, scorer, cfg, as_of, staging, drift, rules)
    summary = {
        "as_of": as_of.isoformat(),
        "engine": opts["engine"],
        "model": f"{scorer.churn.name} v{scorer.churn.version}",
        "run_id": scorer.churn.run_id,
        "features_s": features_s,
        "scoring_s": scoring_s,
    }
    summary.update(check_drift(drift, cfg, as_of, staging))
    shutil.rmtree(features_dir)
    if summary["drift_blocked"]:
        return summary
    summary.update(write_call_list(staging, candidates, cfg, scorer.decision, rules))
    summary.update(write_alerts(staging, cfg, as_of))
    say_summary(summary, as_of)
    return summary


def scoring_bar():
    """Chunks as rows done, with the rows per second scored so far."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} rows"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )


def score_parts(
    features_dir: Path, scorer, cfg, as_of, staging: Path, drift, rules: ContactRules
) -> tuple:
    """Stream the feature parquet through the model chunk by chunk into staged parts; returns
    the seconds spent and the rows that could make the call list."""
    opts = cfg["score"]
    files = [pq.ParquetFile(p) for p in parts_of(features_dir)]
    check_columns(files[0].schema_arrow, scorer.features)
    schema = output_schema(files[0].schema_arrow.field("customer_id").type)
    total = sum(f.metadata.num_rows for f in files)
    if total == 0:
        raise ChurnError(f"no active customer at {as_of}: nothing to score")
    spent, i, candidates = 0.0, 0, []
    with scoring_bar() as bar:
        task = bar.add_task(f"scoring as of {as_of}", total=total, rate="")
        for source in files:
            for batch in source.iter_batches(batch_size=opts["chunk_rows"]):
                t0 = time.perf_counter()
                chunk = batch.to_pandas()
                X = model_inputs(chunk, scorer.features)
                drift.add(X)
                scored = score_chunk(chunk, scorer, cfg, as_of, X)
                # the ranking skips whom the contact rules bar; finish_parts marks the parts
                candidates.append(top_candidates(apply_contact_rules(scored, rules), opts))
                write_part(scored, schema, numbered_part(staging, i))
                spent += time.perf_counter() - t0
                i += 1
                done = bar.tasks[task].completed + batch.num_rows
                bar.update(task, completed=done, rate=f"{done / spent:,.0f} rows/s")
    return spent, candidates


def run_score(cfg) -> dict:
    """Hydra entry: exit non-zero when the drift gate stopped publication."""
    from omegaconf import OmegaConf

    summary = score_base(OmegaConf.to_container(cfg, resolve=True))
    if summary["drift_blocked"]:
        raise ChurnError(
            f"drift over score.psi_threshold in {', '.join(summary['drifted'])}: scores for "
            f"{summary['as_of']} not published (score.fail_on_drift=true)"
        )
    return summary
