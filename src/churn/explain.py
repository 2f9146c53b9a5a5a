"""Why customers leave: exact TreeSHAP per feature, summed into driver families, as reason codes.

SHAP values come from XGBoost's own `pred_contribs` (exact TreeSHAP, multithreaded) in log-odds of
the fitted model; one-hot columns are summed back to the feature they encode. For people they are
converted to probability points of the calibrated churn probability, scaled so that a customer's
points add up to their probability minus the average one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.pipeline import Pipeline

from churn.drivers import DRIVER_FAMILIES


@dataclass
class Explanation:
    """Per-customer SHAP (log-odds) and probability points, one column per model feature."""

    shap: pd.DataFrame
    points: pd.DataFrame
    base_margin: float
    probability: np.ndarray


def fitted_pipeline(model) -> Pipeline:
    """The fitted Pipeline inside a calibrated model (or the Pipeline itself)."""
    if isinstance(model, Pipeline):
        return model
    inner = model.calibrated_classifiers_[0].estimator
    return getattr(inner, "estimator", inner)


def column_owners(preprocess, features: Sequence[str]) -> np.ndarray:
    """For each column the preprocessor outputs, the index of the input feature it came from."""
    names = list(preprocess.get_feature_names_out())
    owners = []
    for name in names:
        if name in features:
            owners.append(features.index(name))
            continue
        # one-hot columns are "<feature>_<category>"; the longest matching feature wins
        match = max((f for f in features if name.startswith(f"{f}_")), key=len, default=None)
        if match is None:
            raise ValueError(f"cannot trace encoded column {name!r} back to a feature")
        owners.append(features.index(match))
    return np.asarray(owners)


def tree_shap(model, X: pd.DataFrame) -> Explanation:
    """Exact TreeSHAP for every row, by feature, with probability points."""
    pipe = fitted_pipeline(model)
    features = list(X.columns)
    encoded = np.asarray(pipe[:-1].transform(X), dtype=np.float32)
    booster = pipe[-1].get_booster()
    contribs = booster.predict(xgb.DMatrix(encoded), pred_contribs=True)
    owners = column_owners(pipe[:-1], features)
    by_feature = np.zeros((len(X), len(features)), dtype=np.float64)
    np.add.at(by_feature.T, owners, contribs[:, :-1].T)
    base = float(contribs[0, -1])
    raw = 1.0 / (1.0 + np.exp(-contribs.sum(axis=1, dtype=np.float64)))
    probability = calibrated(model, raw)
    points = to_probability_points(by_feature, probability)
    index = X.index
    return Explanation(
        pd.DataFrame(by_feature, index=index, columns=features),
        pd.DataFrame(points, index=index, columns=features),
        base,
        probability,
    )


def calibrated(model, raw: np.ndarray) -> np.ndarray:
    """The calibrated probability from the model's raw one, without re-running the pipeline."""
    if isinstance(model, Pipeline):
        return raw
    (calibrator,) = model.calibrated_classifiers_[0].calibrators
    return np.clip(calibrator.predict(raw), 0.0, 1.0)


def to_probability_points(shap: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """Share each customer's gap to the average probability out in proportion to their SHAP."""
    margin = shap.sum(axis=1, keepdims=True)
    gap = (probability - probability.mean())[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(np.abs(margin) > 1e-12, gap / margin, 0.0)
    return shap * scale


def family_matrix(catalog: Sequence[dict], features: Sequence[str]) -> pd.DataFrame:
    """0/1 matrix, features x driver families, from the declared catalogue."""
    family_of = {f["name"]: f["driver_family"] for f in catalog}
    families = list(DRIVER_FAMILIES)
    out = pd.DataFrame(0.0, index=list(features), columns=families)
    for name in features:
        out.loc[name, family_of[name]] = 1.0
    return out


def driver_families(values: pd.DataFrame, catalog: Sequence[dict]) -> pd.DataFrame:
    """Per-customer contributions summed within each driver family."""
    return values @ family_matrix(catalog, list(values.columns))


def global_drivers(shap: pd.DataFrame, catalog: Sequence[dict], actionable_only: bool = False):
    """Mean |SHAP| per feature and per driver family, largest first."""
    keep = actionable_columns(catalog, shap.columns) if actionable_only else list(shap.columns)
    per_feature = shap[keep].abs().mean().sort_values(ascending=False)
    per_family = driver_families(shap[keep], catalog).abs().mean().sort_values(ascending=False)
    return per_feature, per_family


def actionable_columns(catalog: Sequence[dict], columns) -> list[str]:
    actionable = {f["name"] for f in catalog if f["actionable"]}
    return [c for c in columns if c in actionable]


def reason_codes(
    explanation: Explanation, X: pd.DataFrame, catalog: Sequence[dict], top: int = 3
) -> pd.DataFrame:
    """The top actionable drivers raising each customer's risk, as sentences and structure."""
    by_name = {f["name"]: f for f in catalog}
    cols = actionable_columns(catalog, explanation.shap.columns)
    shap = explanation.shap.loc[X.index, cols].to_numpy()
    points = explanation.points.loc[X.index, cols].to_numpy() * 100
    values = X[cols].to_numpy(dtype=object)
    names = np.asarray(cols, dtype=object)
    order = np.argsort(-shap, axis=1, kind="stable")[:, :top]
    rows = np.arange(len(X))
    out = {}
    for rank in range(top):
        j = order[:, min(rank, order.shape[1] - 1)]
        raises = (shap[rows, j] > 0) & (rank < order.shape[1])  # fewer actionable features: none
        feature = np.where(raises, names[j], None)
        out[f"reason_{rank + 1}"] = [
            f"{say(by_name[f]['template'], v)} ({p:+.0f} pts risk)" if f is not None else None
            for f, v, p in zip(feature, values[rows, j], points[rows, j], strict=True)
        ]
        out[f"reason_{rank + 1}_feature"] = feature
        out[f"reason_{rank + 1}_value"] = np.where(raises, values[rows, j], None)
        out[f"reason_{rank + 1}_shap"] = np.where(raises, shap[rows, j], np.nan)
        out[f"reason_{rank + 1}_family"] = [
            by_name[f]["driver_family"] if f is not None else None for f in feature
        ]
    return pd.DataFrame(out, index=X.index)


def say(template: str, value) -> str:
    """The feature's sentence; a missing value is said as unknown, never as a number."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return template.split("{")[0].strip() + " unknown"
    try:
        return template.format(value=value)
    except (ValueError, TypeError):
        return template.format(value=str(value))
