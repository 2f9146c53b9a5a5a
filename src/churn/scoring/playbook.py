"""Recovery guidelines: what front-line staff do for a customer, and the most they may offer,
from the nature of the problem (the top reason's driver family) and the customer's value tier.
Pure: the table comes from configs/playbook."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from churn.errors import ConfigError


def check_playbook(playbook: Mapping) -> None:
    """Every entry has an action and a non-negative maximum compensation."""
    entries = [("default", playbook.get("default"))]
    for family, by_tier in (playbook.get("actions") or {}).items():
        entries += [(f"actions.{family}.{tier}", entry) for tier, entry in by_tier.items()]
    for key, entry in entries:
        if not isinstance(entry, Mapping) or not entry.get("action"):
            raise ConfigError(f"playbook.{key} needs an action")
        try:
            money = float(entry.get("max_compensation", 0))
        except (TypeError, ValueError):
            money = float("nan")
        if not money >= 0:  # NaN too
            raise ConfigError(f"playbook.{key}.max_compensation must be a number, 0 or more")


def guideline(playbook: Mapping, family: str | None, tier: str | None) -> Mapping:
    """The family x tier entry, else the family's `any`, else the default."""
    by_tier = (playbook.get("actions") or {}).get(family) or {}
    return by_tier.get(tier) or by_tier.get("any") or playbook.get("default") or {}


def next_actions(families, tiers, playbook: Mapping) -> tuple[np.ndarray, np.ndarray]:
    """`next_action` and `max_compensation` per customer; each distinct pair is looked up once."""
    families = np.asarray(families, dtype=object)
    tiers = np.asarray(tiers, dtype=object)
    actions = np.full(len(families), None, dtype=object)
    money = np.zeros(len(families))
    if not playbook:
        return actions, np.full(len(families), np.nan)
    pairs = {(f, t) for f, t in zip(families, tiers, strict=True)}
    for family, tier in pairs:
        who = (families == family) & (tiers == tier)
        entry = guideline(playbook, family, tier)
        actions[who] = entry.get("action")
        money[who] = float(entry.get("max_compensation", 0.0))
    return actions, money


def playbook_table(playbook: Mapping, families, tiers) -> list[dict]:
    """The guideline for every family x tier, as rows for the report: family, then per tier
    the action and the maximum compensation."""
    return [
        {
            "family": family,
            "cells": [
                {
                    "action": guideline(playbook, family, tier).get("action"),
                    "max_compensation": float(
                        guideline(playbook, family, tier).get("max_compensation", 0)
                    ),
                }
                for tier in tiers
            ],
        }
        for family in families
        if family in (playbook.get("actions") or {})
    ]
