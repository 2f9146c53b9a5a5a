"""Critical points in a relationship, declared in configs/alerts: conditions on the features at
as_of (a complaint left open, a price rise, usage falling away). Pure."""

from __future__ import annotations

import logging
import operator
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from churn.errors import ConfigError

log = logging.getLogger(__name__)
OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
OPS.update({"==": operator.eq, "!=": operator.ne})


def usable_points(points: Sequence[Mapping], columns, buildable=()) -> list[Mapping]:
    """The declared points whose features the data has. A point naming a feature that no family
    builds (nor the model reads) can never fire: refused, naming it. One whose family does not
    run on this data is named once in the log and skipped."""
    usable = []
    known = set(columns) | set(buildable)
    for point in points:
        for key in ("name", "when"):
            if not point.get(key):
                raise ConfigError(f"alerts.critical_points: every point needs a {key}: {point}")
        for condition in point["when"]:
            check_condition(point["name"], condition)
        never = [c["feature"] for c in point["when"] if c["feature"] not in known]
        if never:
            raise ConfigError(
                f"alerts.critical_points.{point['name']}: no feature family builds "
                f"{', '.join(never)}, so the point could never fire; fix its feature or remove it"
            )
        lacking = [c["feature"] for c in point["when"] if c["feature"] not in columns]
        if lacking:
            log.info(
                "critical point %s skipped: the features lack %s", point["name"], ", ".join(lacking)
            )
            continue
        usable.append(point)
    return usable


def check_condition(name: str, condition) -> None:
    """A condition names a feature, one of the operators and a number."""
    where = f"alerts.critical_points.{name}"
    if not isinstance(condition, Mapping) or not isinstance(condition.get("feature"), str):
        raise ConfigError(f"{where}: every condition needs a feature, e.g. {{feature: x, ...}}")
    if condition.get("op") not in OPS:
        raise ConfigError(f"{where}: op {condition.get('op')!r} is not one of {' '.join(OPS)}")
    try:
        float(condition.get("value"))
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: value {condition.get('value')!r} is not a number") from None


def critical_points(frame: pd.DataFrame, points: Sequence[Mapping]) -> np.ndarray:
    """Per customer, the names of the points that fired, joined by '; ' (None when none did).
    A missing feature value never fires a condition."""
    fired = np.full(len(frame), "", dtype=object)
    for point in points:
        hit = np.ones(len(frame), dtype=bool)
        for condition in point["when"]:
            values = pd.to_numeric(frame[condition["feature"]], errors="coerce").to_numpy(float)
            compare = OPS[condition["op"]]
            hit &= ~np.isnan(values) & compare(values, float(condition["value"]))
        fired[hit] = np.where(fired[hit] == "", point["name"], fired[hit] + "; " + point["name"])
    return np.where(fired == "", None, fired)
