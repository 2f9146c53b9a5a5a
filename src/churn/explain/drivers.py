"""SHAP values summed into driver families (the names live in churn.vocabulary): per customer,
per feature and family over the base, and per segment."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from churn.vocabulary import DRIVER_FAMILIES


def family_matrix(catalog: Sequence[dict], features: Sequence[str]) -> pd.DataFrame:
    """0/1 matrix, features x driver families, from the declared catalogue (only the families
    the catalogue uses, in their declared order)."""
    family_of = {f["name"]: f["driver_family"] for f in catalog}
    used = set(family_of.values())
    families = [f for f in DRIVER_FAMILIES if f in used]
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


def segment_drivers(
    shap: pd.DataFrame, catalog: Sequence[dict], by: pd.Series, actionable_only: bool = False
) -> pd.DataFrame:
    """Each segment's mean |SHAP| per driver family, as shares of that segment's total."""
    keep = actionable_columns(catalog, shap.columns) if actionable_only else list(shap.columns)
    families = driver_families(shap[keep], catalog).abs()
    per_segment = families.groupby(by.to_numpy(), observed=True).mean()
    return per_segment.div(per_segment.sum(axis=1), axis=0).fillna(0.0)


def actionable_columns(catalog: Sequence[dict], columns) -> list[str]:
    actionable = {f["name"] for f in catalog if f["actionable"]}
    return [c for c in columns if c in actionable]
