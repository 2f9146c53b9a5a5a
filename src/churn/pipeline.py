"""One sklearn Pipeline per model: preprocessing for the model's kind, then the estimator.

The estimator comes from the model config's `_target_`; `preprocess` says what it needs:
`tree` keeps missing values (XGBoost learns where they go) and one-hot encodes categories;
`linear` imputes with a missing-indicator, scales, and one-hot encodes, so the logistic baseline
is a fair one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from hydra.utils import instantiate
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

PREPROCESSING = ("tree", "linear")


def one_hot() -> OneHotEncoder:
    """Unseen categories at scoring time become all-zero columns instead of an error; rare ones
    and all but the 30 most frequent of a many-valued column (a service area, a handset model)
    share one 'infrequent' column, so a real table does not become hundreds of columns."""
    return OneHotEncoder(
        handle_unknown="ignore", min_frequency=20, max_categories=30, sparse_output=False
    )


def build_preprocessor(numeric: Sequence[str], categorical: Sequence[str], kind: str):
    if kind not in PREPROCESSING:
        raise ValueError(f"model.preprocess={kind!r} is unknown: use {' or '.join(PREPROCESSING)}")
    if kind == "tree":
        num = "passthrough"
    else:
        num = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler())
    cat = make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"), one_hot())
    return ColumnTransformer(
        [("numeric", num, list(numeric)), ("categorical", cat, list(categorical))],
        verbose_feature_names_out=False,
    )


def build_pipeline(
    model_cfg: Mapping, numeric: Sequence[str], categorical: Sequence[str]
) -> Pipeline:
    """Preprocessing plus the estimator named by `model_cfg.estimator._target_`."""
    estimator = instantiate(model_cfg["estimator"])
    return Pipeline(
        [
            ("preprocess", build_preprocessor(numeric, categorical, model_cfg["preprocess"])),
            ("model", estimator),
        ]
    )


def model_inputs(frame: pd.DataFrame, features: list[dict]) -> pd.DataFrame:
    """The declared feature columns in model types: floats for numbers (a missing count can never
    break the model signature), strings for categories. Training and scoring both go through it."""
    numeric = [f["name"] for f in features if f["kind"] == "numeric"]
    categorical = [f["name"] for f in features if f["kind"] == "categorical"]
    out = frame[numeric + categorical].copy()
    out[numeric] = out[numeric].astype("float64")
    out[categorical] = out[categorical].astype("object")
    return out
