"""The models a scoring run uses: the registered champion (through the trust check), optional
propensity models, and what was stored with them at training (catalogue, tiers, reference)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlflow.exceptions import MlflowException

from churn.errors import ChurnError
from churn.features.value import ValueTiers
from churn.registry.models import load_registered, run_artifacts
from churn.scoring.economics import Decision, check_policy, choose_policy
from churn.value.clv import ValueOptions

log = logging.getLogger(__name__)


@dataclass
class Scorer:
    """The champion, optional propensity models and what was stored with them at training."""

    churn: Any  # registry.models.RegisteredModel
    features: list[dict]
    value_tiers: ValueTiers | None
    feature_set_hash: str
    reference: dict
    propensity: dict[str, Any] = field(default_factory=dict)
    inferred: dict = field(default_factory=dict)  # a customer table's bands and costs
    clv: StoredClv | None = None  # None: a model trained before CLV; scores carry no CLV
    uplift: Any = None  # the retention response model (registry.models.RegisteredModel)
    uplift_evidence: dict | None = None  # its out-of-time Qini against ranking by risk
    decision: Decision | None = None  # the policy that ranks this run's calls, and why

    @property
    def value_known(self) -> bool:
        """Money to weigh: CLV, or value tiers from a value column (a customer table without
        one has neither)."""
        return self.clv is not None or self.value_tiers is not None


@dataclass(frozen=True)
class StoredClv:
    """CLV's options and CLV tiers as fitted with the model (`churn.training.value_backtest`)."""

    options: ValueOptions
    tiers: ValueTiers


def stored_clv(catalog: Mapping) -> StoredClv | None:
    """The CLV stored in a run's feature_catalog.json, if the model was trained with one."""
    clv = catalog.get("clv")
    if not clv:
        return None
    return StoredClv(ValueOptions(**clv["options"]), ValueTiers.from_dict(clv["tiers"]))


def load_scorer(cfg: Mapping) -> Scorer:
    """The registered champion with its feature catalogue, value tiers and reference."""
    opts, uri = cfg["score"], cfg["mlflow"]["tracking_uri"]
    champion = load_registered(opts["model_uri"], uri)
    stored = run_artifacts(champion.run_id, ["feature_catalog.json", "reference.json"])
    if "feature_catalog.json" not in stored or "reference.json" not in stored:
        raise ChurnError(f"run {champion.run_id} lacks its feature catalogue: retrain the model")
    features = stored["feature_catalog.json"]
    tiers = features.get("value_tiers")
    scorer = Scorer(
        champion,
        features["features"],
        ValueTiers.from_dict(tiers) if tiers else None,
        features.get("feature_set_hash") or "",
        stored["reference.json"],
        inferred=features.get("inferred") or {},
        clv=stored_clv(features),
    )
    prefix = cfg["mlflow"]["model_prefix"]
    scorer.uplift = load_uplift(cfg, scorer)
    scorer.decision = choose_policy(opts["policy"], scorer.uplift_evidence, scorer.value_known)
    for name in opts["propensity"]:
        try:
            scorer.propensity[name] = load_registered(f"models:/{prefix}-{name}@champion", uri)
        except ChurnError:
            log.info("no %s-%s champion registered: %s_propensity left empty", prefix, name, name)
        except MlflowException as err:
            raise ChurnError(f"could not load the {name} model: {err}") from err
    return scorer


def check_feature_set(built: str, scorer: Scorer) -> None:
    """The features built here must be the ones the model was trained on."""
    if scorer.feature_set_hash and built != scorer.feature_set_hash:
        raise ChurnError(
            f"the features configured here (hash {built}) are not the ones "
            f"{scorer.churn.name} v{scorer.churn.version} was trained on "
            f"({scorer.feature_set_hash}): score with the training run's features config"
        )


def load_uplift(cfg: Mapping, scorer: Scorer):
    """The `<prefix>-retention_uplift` champion: required by score.policy=uplift_value, else
    used when there (`uplift`, and the evidence score.policy=auto weighs). It must read the
    features the churn model reads."""
    opts, uri = cfg["score"], cfg["mlflow"]["tracking_uri"]
    check_policy(opts)
    needed = opts["policy"] == "uplift_value"
    try:
        uplift = load_registered(opts["uplift_model_uri"], uri)
    except ChurnError as err:
        if needed:
            raise ChurnError(
                f"score.policy=uplift_value needs a response model: {err} (churn uplift fits one "
                "from past randomized retention calls)"
            ) from err
        log.info("no retention response model registered: uplift left empty")
        return None
    trained_on, scorer.uplift_evidence = uplift_run(uplift.run_id)
    if trained_on != scorer.feature_set_hash:
        message = (
            f"{uplift.name} v{uplift.version} was fitted on features {trained_on}, the churn "
            f"model reads {scorer.feature_set_hash}: refit it with churn uplift"
        )
        if needed:
            raise ChurnError(message)
        log.warning("%s; uplift left empty", message)
        scorer.uplift_evidence = None
        return None
    return uplift


def uplift_run(run_id: str) -> tuple[str | None, dict]:
    """The feature set the response model read, and its out-of-time Qini (by its own ranking and
    by risk)."""
    from mlflow.tracking import MlflowClient

    data = MlflowClient().get_run(run_id).data
    qini = {k: data.metrics[k] for k in ("qini_uplift", "qini_risk") if k in data.metrics}
    return data.params.get("feature_set_hash"), qini
