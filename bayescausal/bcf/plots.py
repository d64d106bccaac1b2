"""BCF figures: overlap, uplift curves with posterior bands, profit by depth, policies, CATEs, leaves."""

from __future__ import annotations

import numpy as np

from bayescausal.style import new_figure


def _band(ax, x, draws, colour, label):
    lo, mid, hi = np.nanquantile(draws, [0.03, 0.5, 0.97], axis=0)
    ax.fill_between(x, lo, hi, color=colour, alpha=0.25, lw=0)
    ax.plot(x, mid, color=colour, label=label)


def overlap(pi, z):
    fig, ax = new_figure()
    bins = np.linspace(0, 1, 41)
    ax.hist(pi[z == 0], bins=bins, alpha=0.6, label="control", density=True)
    ax.hist(pi[z == 1], bins=bins, alpha=0.6, label="treated", density=True)
    for edge in (0.05, 0.95):
        ax.axvline(edge, color="grey", ls=":")
    ax.set(xlabel="estimated propensity pi_hat(x)", ylabel="density", title="Overlap of treated and control")
    ax.legend()
    return fig


def gain_curves(c):
    fig, ax = new_figure()
    frac = c["depths"] / c["depths"][-1]
    _band(ax, frac, c["model_gain"], "C0", "model: posterior gain (94% band)")
    _band(ax, frac, c["pseudo_gain_draws"], "C1", "data: doubly robust gain (ranking band)")
    ax.plot(frac, c["observed_gain"], color="C2", lw=1, label="data: (mean_T - mean_C) x k")
    ax.plot([0, 1], [0, c["pseudo_gain"][-1]], color="grey", ls="--", label="random targeting")
    ax.set(xlabel="share of customers targeted (highest CATE first)", ylabel="cumulative incremental outcome")
    ax.legend(fontsize=8)
    return fig


def qini_curve(c):
    fig, ax = new_figure()
    frac = c["depths"] / c["depths"][-1]
    _band(ax, frac, c["qini_draws"], "C0", "Qini (band: rankings from posterior draws)")
    ax.plot(frac, c["qini"], color="black", lw=1, label="Qini, posterior-mean ranking")
    ax.plot([0, 1], [0, c["qini"][-1]], color="grey", ls="--", label="random")
    ax.set(xlabel="share of customers targeted", ylabel="Qini: Y_T - Y_C x N_T / N_C")
    ax.legend(fontsize=8)
    return fig


def elasticity_curve(c):
    fig, ax = new_figure()
    d = c["depths"][1:]
    _band(ax, d / c["depths"][-1], c["model_gain"][:, 1:] / d, "C0", "average CATE among the top k (94% band)")
    ax.axhline(0, color="black", lw=1)
    ax.set(xlabel="share of customers targeted", ylabel="average effect")
    ax.legend(fontsize=8)
    return fig


def profit_depth(profit, policy, hdi_prob):
    fig, (ax, ax2) = new_figure(1, 2, width=10)
    n = profit.shape[1]
    cum = np.concatenate([np.zeros((profit.shape[0], 1)), np.cumsum(profit[:, policy.order], axis=1)], axis=1)
    depths = np.unique(np.linspace(0, n, min(201, n + 1)).astype(int))
    _band(ax, depths / n, cum[:, depths], "C0", "campaign profit (94% band)")
    ax.axvline(policy.treat.mean(), color="C3", ls="--", label=f"chosen policy ({policy.treat.mean():.0%})")
    ax.axhline(0, color="black", lw=1)
    ax.set(xlabel="share targeted (highest expected profit first)", ylabel="incremental profit")
    ax.legend(fontsize=8)
    ax2.hist(policy.best_depth / n, bins=30, color="C0", alpha=0.7)
    ax2.set(xlabel="profit-maximising share (per posterior draw)", ylabel="draws", title="Best targeting depth")
    return fig


def policy_profit(profits: dict):
    fig, ax = new_figure()
    names = [k for k in profits if k != "treat none"]
    data = [profits[k] for k in names]
    ax.violinplot(data, vert=False, showmedians=True)
    ax.set_yticks(range(1, len(names) + 1), names)
    ax.axvline(0, color="black", lw=1, ls="--", label="treat none")
    ax.set(xlabel="campaign incremental profit (posterior)")
    ax.legend(fontsize=8)
    return fig


def cate_caterpillar(tau_flat):
    fig, ax = new_figure()
    mean = tau_flat.mean(0)
    order = np.argsort(mean)
    idx = order[np.unique(np.linspace(0, len(order) - 1, min(400, len(order))).astype(int))]
    lo, hi = np.quantile(tau_flat[:, idx], [0.03, 0.97], axis=0)
    x = np.arange(len(idx))
    ax.fill_between(x, lo, hi, color="C0", alpha=0.25, lw=0, label="94% interval")
    ax.plot(x, mean[idx], color="C0", label="posterior mean")
    ax.axhline(0, color="black", lw=1)
    ax.set(xlabel="customers, sorted by posterior mean CATE", ylabel="CATE")
    ax.legend(fontsize=8)
    return fig


def leaf_effects(leaves):
    fig, ax = new_figure(height=max(2.5, 0.45 * len(leaves) + 1.2))
    y = np.arange(len(leaves))[::-1]
    ax.errorbar(
        leaves["mean"],
        y,
        xerr=[leaves["mean"] - leaves["eti_3%"], leaves["eti_97%"] - leaves["mean"]],
        fmt="o",
        capsize=3,
    )
    ax.set_yticks(y, [f"{r} (n={k})" for r, k in zip(leaves["rule"], leaves["n"], strict=True)], fontsize=8)
    ax.axvline(0, color="black", lw=1, ls="--")
    ax.set(xlabel="average CATE in the leaf (94% interval)")
    return fig


def offer_gains(curves: dict):
    fig, ax = new_figure()
    for k, (offer, c) in enumerate(curves.items()):
        frac = c["depths"] / c["depths"][-1]
        _band(ax, frac, c["model_gain"], f"C{k}", f"{offer}: model (94% band)")
        ax.plot(frac, c["pseudo_gain"], color=f"C{k}", ls=":", lw=1, label=f"{offer}: data (IPW)")
    ax.axhline(0, color="black", lw=1)
    ax.set(xlabel="share of the offer's and control's customers targeted", ylabel="cumulative incremental outcome")
    ax.legend(fontsize=8)
    return fig


def prob_best(prob: np.ndarray, offers: list[str]):
    fig, ax = new_figure()
    bins = np.linspace(0, 1, 26)
    for k, name in enumerate(["no offer", *offers]):
        ax.hist(prob[:, k], bins=bins, alpha=0.5, label=name)
    ax.set(xlabel="P(arm is the most profitable) per customer", ylabel="customers")
    ax.legend(fontsize=8)
    return fig
