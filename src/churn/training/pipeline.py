"""One sklearn Pipeline per model: preprocessing for the model's kind, then the estimator.

The estimator comes from the model config's `_target_`; `preprocess` says what it needs:
`tree` keeps missing values (XGBoost learns where they go) and codes each category feature in
one column (on the demo world's backtest: ROC-AUC 0.7687 against 0.7702 with one-hot, the
booster's whole pipeline 1.6x faster to score, training faster too);
`linear` imputes with a missing-indicator, scales, and one-hot encodes, so the logistic baseline
is a fair one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from hydra.utils import instantiate
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from churn.errors import ChurnError

PREPROCESSING = ("tree", "linear")


def one_hot() -> OneHotEncoder:
    """Unseen categories at scoring time become all-zero columns instead of an error; rare ones
    and all but the 30 most frequent of a many-valued column (a service area, a handset model)
    share one 'infrequent' column, so a real table does not become hundreds of columns."""
    return OneHotEncoder(
        handle_unknown="ignore", min_frequency=20, max_categories=30, sparse_output=False
    )


def ordinal() -> OrdinalEncoder:
    """One float column per category feature for trees: a split on codes isolates categories as
    well as one-hot columns do, without allocating a dense column per category (the one-hot frame
    cost more than the booster at scoring). Missing and unseen categories stay missing (XGBoost
    routes them); rare ones share one code, as in `one_hot`."""
    return OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=np.nan,
        encoded_missing_value=np.nan,
        min_frequency=20,
        max_categories=30,
        dtype=np.float64,
    )


def build_preprocessor(numeric: Sequence[str], categorical: Sequence[str], kind: str):
    if kind not in PREPROCESSING:
        raise ValueError(f"model.preprocess={kind!r} is unknown: use {' or '.join(PREPROCESSING)}")
    if kind == "tree":
        num, cat = "passthrough", ordinal()
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


def model_inputs(frame: pd.DataFrame, features: Sequence[dict]) -> pd.DataFrame:
    """The declared feature columns, numbers then categories (the order the model is fitted in),
    in the model's types: floats for numbers (a missing count can never break the model
    signature), strings for categories. Training, the report and scoring all go through it; a
    value that is not a number is an error that names the column and example customers."""
    numeric = [f["name"] for f in features if f["kind"] == "numeric"]
    categorical = [f["name"] for f in features if f["kind"] != "numeric"]
    try:  # one float block, so the model's column selection is a slice, not a gather
        block = frame[numeric].to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as err:
        raise not_numbers(frame, numeric) from err
    out = pd.DataFrame(block, columns=numeric, index=frame.index)
    for name in categorical:
        out[name] = frame[name].astype("object")
    return out


def not_numbers(frame: pd.DataFrame, numeric: Sequence[str]) -> Exception:
    """The first numeric column holding text, with example customers."""
    for name in numeric:
        bad = pd.to_numeric(frame[name], errors="coerce").isna() & frame[name].notna()
        if bad.any():
            keys = [c for c in ("customer_id", name) if c in frame]
            examples = frame.loc[bad, keys].head(5).to_dict("records")
            return ChurnError(f"column {name} has values that are not numbers, e.g. {examples}")
    return ChurnError(f"the numeric columns {', '.join(numeric)} cannot be read as numbers")
