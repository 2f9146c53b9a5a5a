"""`churn validate` and `churn features` for a customer table with a churn flag.

Validate infers what the data config leaves out (`infer.py`), writes it to
`<paths.data_dir>/inferred.yaml` for the user to read, copy and edit, checks the table
(`checks.py`) and loads it (`load.py`). The resolved spec is kept in `validation_report.json`;
features and scoring read it from there, so every later step uses what was loaded.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

import ibis
import yaml

from churn.columns import ARM_COLUMN, VALUE_COLUMN
from churn.errors import ChurnError, ConfigError
from churn.features import feature_set_hash
from churn.features.base import Feature
from churn.features.value import ValueTiers
from churn.snapshot.experiment import read_test
from churn.snapshot.infer import infer_spec
from churn.snapshot.load import TABLE, check_mapping, load_snapshot, read_source
from churn.snapshot.money import value_columns
from churn.snapshot.vocabulary import MISSING_TOKENS
from churn.store import (
    INFERRED_SPEC,
    VALIDATION_REPORT,
    catalog_path,
    cutoff_part,
    features_folder,
    staging_dir,
    swap_dir,
    write_json_atomically,
    write_text_atomically,
)

log = logging.getLogger(__name__)
FAMILY = "snapshot"


def snapshot_features(spec: Mapping) -> list[Feature]:
    """The resolved spec's columns as features, in file order."""
    out = []
    for name, feature in spec["features"].items():
        try:
            out.append(
                Feature(
                    name=name,
                    family=FAMILY,
                    driver_family=feature["driver_family"],
                    actionable=bool(feature.get("actionable", False)),
                    description=feature.get("description") or name,
                    template=feature.get("template") or f"{name}: {{value}}",
                    kind=feature.get("kind", "numeric"),
                    zero_when_absent=False,
                )
            )
        except (KeyError, ValueError) as err:
            raise ConfigError(f"data.snapshot.features.{name}: {err}") from err
    return out


def resolved_spec(data_dir: Path) -> dict:
    """The spec the last successful `churn validate` loaded the table with."""
    import json

    report = data_dir / VALIDATION_REPORT
    spec = json.loads(report.read_text()).get("snapshot") if report.exists() else None
    if not spec:
        raise ChurnError(
            f"no loaded customer table in {data_dir}: run `churn validate` (make validate) first"
        )
    return spec


def as_of_date(data: Mapping) -> dt.date:
    """The date the table describes: declared, else the day it was validated."""
    return (
        dt.date.fromisoformat(str(data["load_date"])) if data.get("load_date") else dt.date.today()
    )


# every character YAML or a reader may take as the end of a line, or that a terminal hides
LINE_BREAKS = {chr(c): f"\\x{c:02x}" for c in range(32) if chr(c) != "\t"}
LINE_BREAKS.update({"\x7f": "\\x7f", "\x85": "\\x85", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def comment_safe(text: str) -> str:
    """A column name inside a `#` comment stays on its line: breaks and control characters are
    written as escapes, so no name can end the comment and add a key."""
    return text.translate(str.maketrans(LINE_BREAKS))


def write_inferred(spec: Mapping, lines: list[str], path: Path) -> None:
    """The resolved spec as a data config section, with every inference as a comment."""
    header = [
        "# Written by `churn validate`: what was inferred about your table. Copy what you want to",
        "# change into your data config under `snapshot:` (what you declare there always wins).",
        "#",
        *[f"#   {comment_safe(line)}" for line in lines],
        "",
    ]
    facts = {"rows", "excluded", "risk_edges", "costs", "value_median", "as_of"}
    body = {k: v for k, v in spec.items() if k not in facts}  # only keys a data config takes
    body["label"] = {k: v for k, v in spec["label"].items() if k != "base_rate"}
    if spec.get("excluded"):
        header.insert(
            -1,
            "# Left out: "
            + comment_safe("; ".join(f"{k} ({v})" for k, v in spec["excluded"].items())),
        )
    text = "\n".join(header) + yaml.safe_dump({"snapshot": body}, sort_keys=False, width=100)
    write_text_atomically(text, path)


def run_validate_snapshot(cfg) -> list:
    """Infer, check and load the table; write inferred.yaml and validation_report.json."""
    from omegaconf import OmegaConf

    from churn.validate import log_results, summarize
    from churn.warehouse import connection

    data = OmegaConf.to_container(cfg.data, resolve=True)
    declared = data.get("snapshot") or {}
    if not declared.get("path"):
        raise ConfigError("data.snapshot.path: point it at your customer table (CSV or parquet)")
    frame = read_source(declared)
    check_mapping(frame, declared)
    tokens = [str(t) for t in declared.get("missing_tokens") or MISSING_TOKENS]
    test, left_out = read_test(frame, declared, tokens) or (None, {})
    if test:
        left_out[test["column"]] = "the test's arm (data.snapshot.treatment.column)"
    spec, lines = infer_spec(frame, declared, left_out)
    spec["as_of"] = as_of_date(data).isoformat()
    for line in lines:
        log.info("inferred %s", line)
    data_dir = Path(cfg.paths.data_dir)
    with connection(OmegaConf.to_container(cfg.warehouse, resolve=True)) as con:
        result, checks = load_snapshot(con, spec, frame, cfg.validate.max_reject_fraction)
    log_results([result])
    write_inferred(spec, lines, data_dir / INFERRED_SPEC)
    log.info("wrote %s: every inference above, to read and edit", data_dir / INFERRED_SPEC)
    summary = {
        "load_date": spec["as_of"],
        "tables": summarize([result]),
        "checks": {**checks, **({"experiment": test} if test else {})},
        "snapshot": spec,
    }
    write_json_atomically(summary, data_dir / VALIDATION_REPORT)
    return [result]


def run_snapshot_features(cfg) -> dict:
    """`churn features` for a customer table: its one cutoff, from the warehouse."""
    from omegaconf import OmegaConf

    from churn.warehouse import connection

    plain = OmegaConf.to_container(cfg, resolve=True)
    data_dir = Path(plain["paths"]["data_dir"])
    with connection(plain["warehouse"]) as con:
        return write_snapshot_features(con, features_folder(data_dir), data_dir, plain["features"])


def write_snapshot_features(con, out_dir: Path, data_dir: Path, fcfg: Mapping) -> dict:
    """One 'cutoff' (the table's date) in the same layout and catalogue as event features."""
    import json

    if TABLE not in con.list_tables():
        raise ChurnError("the warehouse has no snapshot table: run `churn validate` first")
    spec = resolved_spec(data_dir)
    report = json.loads((data_dir / VALIDATION_REPORT).read_text())
    features = snapshot_features(spec)
    cutoff = dt.date.fromisoformat(spec["as_of"])
    frame = con.table(TABLE).to_pandas()
    frame.insert(1, "cutoff", cutoff)
    tmp = staging_dir(out_dir)
    part = cutoff_part(tmp, cutoff).parent
    part.mkdir(parents=True)
    test = report.get("checks", {}).get("experiment")
    arm = [ARM_COLUMN] if test else []
    columns = ["customer_id", "cutoff", *[f.name for f in features], VALUE_COLUMN, "churn", *arm]
    frame[columns].to_parquet(part / "part-0.parquet", index=False)
    tiers = None
    if frame[VALUE_COLUMN].notna().any():
        tiers = ValueTiers(tuple(fcfg["value_tier_quantiles"])).fit(frame[[VALUE_COLUMN]])
    meta = {
        "mode": "snapshot",
        "families": [FAMILY],
        "data_end": cutoff.isoformat(),
        "cutoffs": [cutoff.isoformat()],
        "labelled_cutoffs": [cutoff.isoformat()],
        "rows": {cutoff.isoformat(): len(frame)},
        "feature_set_hash": feature_set_hash(features),
        "value_tiers": tiers.to_dict() if tiers else None,
        "features": [asdict(f) for f in features],
        "inferred": inferred_facts(spec),
        "checks": report.get("checks", {}),
        "treatment": experiment_facts(test),
    }
    write_json_atomically(meta, catalog_path(tmp))
    swap_dir(tmp, out_dir)
    log.info("wrote %s snapshot rows with %d features", f"{len(frame):,}", len(features))
    return meta


def inferred_facts(spec: Mapping) -> dict:
    """What report and scoring need from the table: the label's meaning, bands and costs."""
    return {
        "label_meaning": spec["label"].get("meaning", "churned"),
        "base_rate": spec["label"].get("base_rate"),
        "value_column": " + ".join(value_columns(spec.get("value"))) or None,
        "risk_edges": spec.get("risk_edges"),
        "costs": spec.get("costs"),
    }


def experiment_facts(test: Mapping | None) -> dict | None:
    """What training, uplift and scoring need of a randomized test: the arm column, the control
    group and the actions."""
    if not test:
        return None
    return {
        "arm_column": ARM_COLUMN,
        "source_column": test["column"],
        "control": test["control"],
        "actions": list(test["actions"]),
        "arms": dict(test["arms"]),
    }


def scoring_table(con, as_of: dt.date):
    """The loaded snapshot, as the features to score (the same columns training read)."""
    if TABLE not in con.list_tables():
        raise ChurnError("the warehouse has no snapshot table: run `churn validate` first")
    return con.table(TABLE).mutate(cutoff=ibis.date(as_of))
