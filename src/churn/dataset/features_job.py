"""`churn features` on CRM tables: every configured cutoff written from the warehouse, skipped
when the warehouse load, the configs and the feature code are as last time."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from churn.dataset.build import write_snapshots
from churn.fingerprint import code_state, file_state, fingerprint, unchanged
from churn.store import catalog_path, features_folder, read_catalog

log = logging.getLogger(__name__)


def features_inputs(plain: dict, data_dir: Path) -> str:
    """What the snapshots depend on: the loaded warehouse, the configs and the feature code."""
    import churn.dataset.build
    import churn.dataset.cutoffs
    import churn.dataset.labels
    import churn.features

    report = data_dir / "validation_report.json"
    loaded = json.loads(report.read_text()).get("inputs") if report.exists() else None
    return fingerprint(
        warehouse=loaded or file_state([plain["warehouse"]["path"]]),
        configs={k: plain[k] for k in ("features", "labels", "cutoffs", "warehouse")},
        baseline=plain["data"].get("baseline"),
        load_date=plain["data"].get("load_date"),
        code=code_state(
            [
                churn.features,
                churn.dataset.labels,
                churn.dataset.cutoffs,
                churn.dataset.build,
                sys.modules[__name__],
            ]
        ),
    )


def run_event_features(cfg) -> dict:
    """`churn features`: snapshots for every configured cutoff from the warehouse.

    Skipped, with a log line, when the warehouse load, the configs and the code are as last time.
    """
    from omegaconf import OmegaConf

    from churn.warehouse import connection

    plain = OmegaConf.to_container(cfg, resolve=True)
    out_dir = features_folder(cfg.paths.data_dir)
    inputs = features_inputs(plain, Path(cfg.paths.data_dir))
    if not cfg.force and unchanged(catalog_path(out_dir), "inputs", inputs, "features"):
        return read_catalog(out_dir)
    with connection(plain["warehouse"]) as con:
        meta = write_snapshots(
            con,
            out_dir,
            plain["features"],
            plain["labels"],
            plain["cutoffs"],
            plain["data"].get("load_date"),
            extra_meta={"inputs": inputs},
            baseline=plain["data"].get("baseline"),
        )
    total = sum(meta["rows"].values())
    log.info(
        "wrote %s snapshot rows over %d cutoffs (%d labelled) with %d features to %s",
        f"{total:,}",
        len(meta["cutoffs"]),
        len(meta["labelled_cutoffs"]),
        len(meta["features"]),
        out_dir,
    )
    return meta
