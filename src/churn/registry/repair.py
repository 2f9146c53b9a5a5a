"""The registry after a kill: the export follows the champion alias, dead runs are closed."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from churn.store import process_alive, staging_dir, swap_dir

log = logging.getLogger(__name__)


def export_version(name: str, version: str, models_dir: Path) -> Path:
    """Copy one registered version to models/<name>/ for batch jobs without registry access;
    staged beside it and swapped in, so a kill leaves the previous export whole."""
    target = models_dir / name
    models_dir.mkdir(parents=True, exist_ok=True)
    staged = staging_dir(target)
    try:
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{name}/{version}", dst_path=str(staged)
        )
        (staged / "registered_version.txt").write_text(f"{version}\n")
        swap_dir(staged, target)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return target


def repair_export(client: MlflowClient, name: str, models_dir: Path) -> None:
    """A training killed between alias and export left them apart: export the alias's version."""
    try:
        champion = client.get_model_version_by_alias(name, "champion")
    except MlflowException:
        return
    marker = models_dir / name / "registered_version.txt"
    exported = marker.read_text().strip() if marker.exists() else None
    if exported != str(champion.version):
        log.info(
            "models/%s holds v%s, the champion is v%s: exporting it",
            name,
            exported,
            champion.version,
        )
        export_version(name, str(champion.version), models_dir)


def fail_dead_runs(client: MlflowClient, experiment_id: str) -> None:
    """Runs left RUNNING by a churn process that is gone are marked FAILED."""
    for run in client.search_runs([experiment_id], filter_string="attributes.status = 'RUNNING'"):
        tags = run.data.tags
        if "churn.pid" not in tags:
            continue
        owner = {"pid": tags["churn.pid"], "started": float(tags.get("churn.started", "nan"))}
        if not process_alive(owner):
            log.info(
                "run %s was left RUNNING by pid %s, which is gone: FAILED",
                run.info.run_id,
                tags["churn.pid"],
            )
            client.set_terminated(run.info.run_id, "FAILED")
