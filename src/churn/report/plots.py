"""The report's pictures: driver families, SHAP beeswarm and dependence, predicted against
realized value, and what last month's calls did; each embedded in the page as a PNG."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np

matplotlib.use("Agg")  # files only; no display is ever needed
import matplotlib.pyplot as plt  # noqa: E402


def to_data_uri(fig) -> str:
    """A figure as an embedded PNG, so the report opens from disk with no other file."""
    import base64
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def plot_family_bars(points_by_family, names: Mapping[str, str], actionable: set[str]):
    """Mean absolute risk contribution per driver family, fixed traits greyed out."""
    ordered = points_by_family.sort_values()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    colours = ["#c0392b" if f in actionable else "#95a5a6" for f in ordered.index]
    ax.barh([names.get(f, f) for f in ordered.index], ordered.to_numpy(), color=colours)
    ax.set_xlabel("average size of the family's effect on churn risk (pts)")
    ax.set_title("why customers leave (grey: fixed traits)")
    fig.tight_layout()
    return fig


def plot_segment_families(shares, names: Mapping[str, str], title: str):
    """Heatmap: segments x driver families, each row's shares adding up to 100%."""
    fig, ax = plt.subplots(figsize=(7, 1.8 + 0.4 * len(shares)))
    image = ax.imshow(shares.to_numpy() * 100, cmap="Reds", aspect="auto", vmin=0)
    ax.set_xticks(range(shares.shape[1]), [names.get(c, c) for c in shares.columns])
    ax.tick_params(axis="x", rotation=35, labelsize=7)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.set_yticks(range(len(shares)), list(shares.index))
    for i in range(shares.shape[0]):
        for j in range(shares.shape[1]):
            dark = shares.iat[i, j] > 0.6 * shares.to_numpy().max()
            ax.text(
                j,
                i,
                f"{100 * shares.iat[i, j]:.0f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if dark else "black",
            )
    fig.colorbar(image, ax=ax, label="% of the segment's drivers")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_beeswarm(points, X, max_display: int = 12):
    """SHAP beeswarm of the strongest features, in probability points, coloured by value."""
    import shap

    numeric = X.apply(lambda c: c if c.dtype.kind == "f" else c.astype("category").cat.codes)
    values = shap.Explanation(
        values=points.to_numpy() * 100,
        data=numeric.to_numpy(dtype=float),
        feature_names=list(X.columns),
    )
    fig = plt.figure()  # shap draws on the current figure: give it a fresh one
    shap.plots.beeswarm(values, max_display=max_display, show=False, plot_size=(7, 5))
    fig.axes[0].set_xlabel("effect on churn risk (pts)")
    return fig


def plot_dependence(values, points, label: str, categorical: bool):
    """How one driver moves risk: SHAP (pts) against the feature's value."""
    fig, ax = plt.subplots(figsize=(4.2, 3))
    if categorical:
        means = (points * 100).groupby(values.fillna("missing")).mean().sort_values()
        ax.barh([str(i) for i in means.index], means.to_numpy(), color="#c0392b")
        ax.set_xlabel("average effect on churn risk (pts)")
    else:
        ax.scatter(values, points * 100, s=4, alpha=0.3, color="#c0392b", linewidths=0)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_xlabel(label)
        ax.set_ylabel("effect on churn risk (pts)")
    ax.set_title(label, fontsize=9)
    fig.tight_layout()
    return fig


def plot_value_deciles(deciles: Sequence[Mapping[str, float]], cutoff: str):
    """Realized margin per decile of the CLV forecast, beside the forecast and today's value."""
    x = np.asarray([d["decile"] for d in deciles])
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.bar(x, [d["realized"] for d in deciles], color="#2c7fb8", label="realized margin")
    ax.plot(x, [d["forecast"] for d in deciles], "o-", color="#c0392b", label="CLV forecast")
    ax.plot(x, [d["trailing"] for d in deciles], "s--", color="#7f8c8d", label="today's value")
    ax.set_xticks(x)
    ax.set_xlabel("decile of the CLV forecast (1 = highest)")
    ax.set_ylabel("mean margin per customer")
    ax.set_title(f"predicted and realized value, customers at {cutoff}")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def plot_outcome_arms(arms: Sequence[Mapping], effect: Mapping):
    """Realized churn of called, control and everyone else; the whisker on the called bar is
    the 95% interval of what the call changed (control rate minus the interval)."""
    shown = [a for a in arms if a["customers"]]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    names = [a["treatment_group"] for a in shown]
    rates = [100 * a["churn_rate"] for a in shown]
    colors = {"call": "#27ae60", "control": "#c0392b", "none": "#7f8c8d"}
    ax.bar(names, rates, color=[colors.get(n, "#7f8c8d") for n in names])
    if effect.get("measured") and "call" in names and "control" in names:
        control = next(a for a in shown if a["treatment_group"] == "control")["churn_rate"]
        low, high = effect["churn_reduction_ci"]
        at = names.index("call")
        ax.errorbar(
            [at],
            [100 * (control - effect["churn_reduction"])],
            yerr=[
                [100 * (high - effect["churn_reduction"])],
                [100 * (effect["churn_reduction"] - low)],
            ],
            color="black",
            capsize=6,
        )
    ax.set_ylabel("realized churn (%)")
    ax.set_title("churn in the label window, by treatment group")
    fig.tight_layout()
    return fig


def plot_production_calibration(calibration: Sequence[Mapping]):
    """Predicted against realized churn per risk band, customers nobody called."""
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    x = np.arange(len(calibration))
    ax.bar(
        x - 0.2,
        [100 * c["predicted"] for c in calibration],
        0.4,
        label="predicted",
        color="#f39c12",
    )
    ax.bar(
        x + 0.2, [100 * c["realized"] for c in calibration], 0.4, label="realized", color="#2c7fb8"
    )
    ax.set_xticks(x, [c["risk_band"] for c in calibration])
    ax.set_ylabel("churn (%)")
    ax.set_title("risk bands in production")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig
