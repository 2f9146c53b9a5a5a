"""One column of a customer table as a feature: its kind, driver family, whether a retention
team can act on it, and the sentence a reason code says; what the user declared wins."""

from __future__ import annotations

from collections.abc import Mapping

from churn.errors import ConfigError
from churn.snapshot.vocabulary import ACTIONABLE_FAMILIES, describe, driver_family_of
from churn.vocabulary import DRIVER_FAMILIES

KINDS = ("numeric", "categorical", "date")
BLANK_RULES = ("missing", "zero", "reject")


def feature_spec(name: str, facts: Mapping, declared: Mapping) -> dict:
    """Declared keys win; the rest from the values and the name."""
    family = declared.get("driver_family") or driver_family_of(name)
    kind = declared.get("kind") or facts["kind"]
    kind = "categorical" if kind == "binary" else kind
    if kind == "date":  # the days from the date to the table's date: a tenure-like number
        return date_spec(name, declared)
    description = declared.get("description") or describe(name)
    if kind == "numeric" and facts.get("yes_no"):  # a 0/1 flag reads as no or yes, never 0 or 1
        template = f"{description}: no|{description}: yes"
    elif kind == "numeric":
        template = "{value:,.0f}" if facts["integers"] else "{value:,.2f}"
    else:
        template = "{value}"
    spec = {
        "kind": kind,
        "driver_family": family,
        "actionable": bool(declared.get("actionable", family in ACTIONABLE_FAMILIES)),
        "description": description,
        "template": declared.get("template")
        or (template if "|" in template else f"{description}: {template}"),
        "blank": declared.get("blank", "missing"),
    }
    words = declared.get("missing_tokens", list(facts["words"]) if kind == "numeric" else [])
    if words:
        spec["missing_tokens"] = [str(w) for w in words]
    return spec


def date_spec(name: str, declared: Mapping) -> dict:
    """A date column as days before the table's date."""
    family = declared.get("driver_family") or driver_family_of(name)
    what = describe(name)
    description = declared.get("description") or f"days since {what}"
    return {
        "kind": "numeric",
        "date": True,
        "driver_family": family,
        "actionable": bool(declared.get("actionable", family in ACTIONABLE_FAMILIES)),
        "description": description,
        "template": declared.get("template")
        or f"{what} today|{what} 1 day ago|{what} {{value:,.0f}} days ago",
        "blank": declared.get("blank", "missing"),
    }


def check_declared(name: str, spec: Mapping) -> None:
    if spec["kind"] not in KINDS:
        raise ConfigError(
            f"data.snapshot.features.{name}.kind={spec['kind']!r}: use one of {', '.join(KINDS)} "
            "(binary columns are categorical)"
        )
    if spec["driver_family"] not in DRIVER_FAMILIES:
        raise ConfigError(
            f"data.snapshot.features.{name}.driver_family={spec['driver_family']!r} is unknown: "
            f"use one of {', '.join(DRIVER_FAMILIES)}"
        )
    if spec["blank"] not in BLANK_RULES:
        raise ConfigError(
            f"data.snapshot.features.{name}.blank={spec['blank']!r}: use one of {BLANK_RULES}"
        )


def feature_line(name: str, spec: Mapping, facts: Mapping, rows: int) -> str:
    """`HandsetPrice: numeric, price (actionable); 'Unknown' in 28,982 rows (56.8%) is missing`"""
    acting = "actionable" if spec["actionable"] else "not actionable"
    line = f"{name}: {spec['kind']}, {spec['driver_family']} ({acting})"
    words = [w for w in spec.get("missing_tokens", []) if w in facts["words"]]
    if words:
        said = ", ".join(
            f"{w!r} in {facts['words'][w]:,} rows ({facts['words'][w] / rows:.1%})" for w in words
        )
        line += f"; {said} read as missing"
    elif facts["missing"]:
        line += f"; {facts['missing']:,} missing"
    return line
