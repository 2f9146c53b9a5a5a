"""What a randomized test says about a response model, in the figures a retention team reads.

Per action, on the customers who got it or nothing: the Qini coefficient, AUUC and the uplift in
the top 10, 20 and 30%, each with a bootstrap 95% interval, for the model's ranking, a random one
and ranking by risk without contact; the Qini curves with their band, the uplift by decile of
predicted effect and the share predicted to be harmed. With several actions, the policy of giving
each customer their best action (or none) is measured on the same held-out predictions against
each single action.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from churn.uplift.actions import best_of
from churn.uplift.intervals import SHARES, resamples, summarize, with_intervals
from churn.uplift.qini import qini_curve, ranking

POINTS = 51  # shares on a stored Qini curve


def action_evidence(effect, risk, called, churned, draws: int, seed: int) -> dict:
    """Every figure for one action's test, for the model, random and risk rankings."""
    called = np.asarray(called, dtype=bool)
    churned = np.asarray(churned, dtype=float)
    out = with_intervals(effect, called, churned, draws, seed)
    out["random"] = with_intervals(None, called, churned, draws, seed)
    out["risk"] = with_intervals(risk, called, churned, draws, seed)
    out.update(
        rows=int(len(called)),
        treated=int(called.sum()),
        control=int((~called).sum()),
        ate=float(churned[~called].mean() - churned[called].mean()),
        harmed_share=float(np.mean(np.asarray(effect) < 0)),
        curves=curves(effect, risk, called, churned, draws, seed),
        deciles=deciles(effect, called, churned),
    )
    return out


def curves(effect, risk, called, churned, draws: int, seed: int) -> dict:
    """Qini curves (churners saved per 1 customer of the test, by share targeted) of the model
    with its 95% band, of risk, and of random with the band random rankings fall in."""
    share, model = qini_curve(effect, called, churned, POINTS)
    band, noise = [], []
    for rows, rng in resamples(called, draws, seed):
        band.append(qini_curve(np.asarray(effect)[rows], called[rows], churned[rows], POINTS)[1])
        noise.append(qini_curve(rng.random(len(rows)), called[rows], churned[rows], POINTS)[1])
    return {
        "share": share.round(4).tolist(),
        "model": model.tolist(),
        "model_low": np.percentile(band, 2.5, axis=0).tolist(),
        "model_high": np.percentile(band, 97.5, axis=0).tolist(),
        "risk": qini_curve(risk, called, churned, POINTS)[1].tolist(),
        "random": (share * model[-1]).tolist(),
        "random_low": np.percentile(noise, 2.5, axis=0).tolist(),
        "random_high": np.percentile(noise, 97.5, axis=0).tolist(),
    }


def deciles(effect, called, churned) -> list[dict]:
    """Mean predicted and observed uplift in each tenth of customers, highest predicted first."""
    order = ranking(effect)
    out = []
    for i, rows in enumerate(np.array_split(order, 10)):
        t, y = called[rows], churned[rows]
        observed = y[~t].mean() - y[t].mean() if t.any() and (~t).any() else float("nan")
        out.append(
            {
                "decile": i + 1,
                "predicted": float(np.mean(np.asarray(effect)[rows])),
                "observed": float(observed),
                "rows": int(len(rows)),
            }
        )
    return out


def policy_uplift(score, recommended, arm, churned, control: str, share: float, order=None):
    """Among the `share` ranked first by `score`: the churn each customer's recommended action
    prevents, measured within each recommended action (control churn minus the churn of those
    who got it) and weighted by how many it was recommended to; `None` prevents nothing."""
    order = ranking(score) if order is None else order
    top = order[: max(1, int(np.ceil(share * len(order))))]
    rec, got, y = recommended[top], arm[top], churned[top]
    total = 0.0
    for action in pd.unique(rec[pd.notna(rec)]):
        mine = rec == action
        held, given = y[mine & (got == control)], y[mine & (got == action)]
        if not len(held) or not len(given):
            return float("nan")
        total += mine.mean() * (held.mean() - given.mean())
    return float(total)


def best_action_evidence(
    effects: np.ndarray, actions: Sequence[str], arm, churned, control: str, draws, seed
) -> dict:
    """Best action per customer (or none) in the top 10/20/30%, against each single action
    ranked by its own effect, on the same customers and resamples."""
    arm = np.asarray(arm, dtype=object)
    churned = np.asarray(churned, dtype=float)
    best = best_of(effects, list(actions))
    rankings = {"best": (effects.max(axis=1), best)}
    for j, action in enumerate(actions):
        rankings[action] = (effects[:, j], np.full(len(arm), action, dtype=object))

    def figures(rows):  # "<ranking>\x1fuplift_at_<share>": no action name holds \x1f
        out = {}
        for name, (score, rec) in rankings.items():
            order = ranking(score[rows])
            for s in SHARES:
                out[f"{name}\x1fuplift_at_{round(s * 100)}"] = policy_uplift(
                    score[rows], rec[rows], arm[rows], churned[rows], control, s, order
                )
        return out

    drawn: dict[str, list[float]] = {}
    for rows, _ in resamples(arm, draws, seed):
        for key, value in figures(rows).items():
            drawn.setdefault(key, []).append(value)
    out: dict = {"shares": {str(a): float(np.mean(best == a)) for a in actions}, "single": {}}
    out["shares"]["none"] = float(np.mean(best == None))  # noqa: E711 (an object array)
    for key, value in summarize(drawn, figures(np.arange(len(arm)))).items():
        name, figure = key.split("\x1f", 1)
        (out if name == "best" else out["single"].setdefault(name, {}))[figure] = value
    return out
