"""Pictures of what a randomized test says: Qini curves with their bands, uplift by decile."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")  # files only; no display is ever needed
import matplotlib.pyplot as plt  # noqa: E402


def plot_test_qini(action: str, evidence: Mapping):
    """Churners kept per 1,000 tested as more are contacted: the model's ranking with its 95%
    band, ranking by risk, and where random rankings fall."""
    c = evidence["curves"]
    share = [100 * s for s in c["share"]]

    def per_1000(key):
        return [1000 * v for v in c[key]]

    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    ax.fill_between(
        share,
        per_1000("random_low"),
        per_1000("random_high"),
        color="#bdc3c7",
        alpha=0.5,
        label="random rankings (95%)",
    )
    ax.fill_between(
        share, per_1000("model_low"), per_1000("model_high"), color="#27ae60", alpha=0.25
    )
    ax.plot(share, per_1000("model"), color="#27ae60", label="response model (95% band)")
    ax.plot(share, per_1000("risk"), color="#c0392b", linestyle="--", label="by risk")
    ax.plot(share, per_1000("random"), color="#7f8c8d", linestyle=":", label="at random")
    ax.set_xlabel("% of customers contacted, best first")
    ax.set_ylabel("kept per 1,000 tested")
    ax.set_title(f"{action}: who does a contact move?")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def plot_uplift_deciles(action: str, evidence: Mapping):
    """Observed against predicted uplift in each tenth, highest predicted first."""
    deciles = evidence["deciles"]
    x = [d["decile"] for d in deciles]
    fig, ax = plt.subplots(figsize=(5.2, 3.0))
    ax.bar(x, [1000 * d["observed"] for d in deciles], color="#2c7fb8", label="observed")
    ax.plot(
        x, [1000 * d["predicted"] for d in deciles], color="#e67e22", marker="o", label="predicted"
    )
    ax.axhline(0, color="#7f8c8d", linewidth=0.8)
    ax.set_xlabel("tenth of customers by predicted effect (1 = most moved)")
    ax.set_ylabel("kept per 1,000 contacted")
    ax.set_title(f"{action}: uplift by decile")
    ax.set_xticks(x)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
