"""A/B figures: posteriors people would rather look at than read."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayescausal.ab.beta import BetaPosterior, LiftDistribution
from bayescausal.style import new_figure


def rate_posteriors(arms: list[str], posts: list[BetaPosterior]):
    fig, ax = new_figure()
    lo = min(p.ppf(1e-4) for p in posts)
    hi = max(p.ppf(1 - 1e-4) for p in posts)
    x = np.linspace(lo, hi, 600)
    for arm, p in zip(arms, posts, strict=True):
        ax.plot(x, p.dist.pdf(x), label=f"{arm} (mean {p.mean():.4g})")
        ax.fill_between(x, p.dist.pdf(x), alpha=0.15)
    ax.set(xlabel="conversion rate", ylabel="posterior density", title="Conversion rate posteriors (exact)")
    ax.legend()
    return fig


def lift_posteriors(arms: list[str], posts: list[BetaPosterior]):
    fig, ax = new_figure()
    for k, arm in enumerate(arms[1:], start=1):
        lift = LiftDistribution(posts[0], posts[k])
        lo, hi = lift.ppf(1e-4), lift.ppf(1 - 1e-4)
        x = np.linspace(lo, hi, 600)
        pdf = np.gradient(lift.cdf(x), x)
        line = ax.plot(x, pdf, label=f"{arm} - {arms[0]}")[0]
        h_lo, h_hi = lift.hdi(0.94)
        inside = (x >= h_lo) & (x <= h_hi)
        ax.fill_between(x[inside], pdf[inside], alpha=0.2, color=line.get_color())
    ax.axvline(0, color="black", lw=1, ls="--")
    ax.set(
        xlabel="absolute lift in conversion rate",
        ylabel="posterior density",
        title="Lift over control (shaded: 94% HDI)",
    )
    ax.legend()
    return fig


def draw_densities(arms: list[str], draws: np.ndarray, label: str):
    fig, ax = new_figure()
    for k, arm in enumerate(arms):
        ax.hist(draws[:, k], bins=120, density=True, histtype="stepfilled", alpha=0.35, label=arm)
    ax.set(xlabel=label, ylabel="posterior density", title=f"Posterior of {label}")
    ax.legend()
    return fig


def segment_forest(table: pd.DataFrame):
    """Raw (unpooled) vs pooled lift per segment: shrinkage at a glance."""
    rows = table.reset_index(drop=True)
    fig, ax = new_figure(height=max(3.0, 0.35 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    if "raw_hdi_low" in rows:
        ax.errorbar(
            rows["raw_lift"],
            y + 0.15,
            xerr=[rows["raw_lift"] - rows["raw_hdi_low"], rows["raw_hdi_high"] - rows["raw_lift"]],
            fmt="o",
            color="grey",
            label="raw (unpooled)",
        )
    else:
        ax.plot(rows["raw_lift"], y + 0.15, "o", color="grey", label="raw (unpooled)")
    ax.errorbar(
        rows["pooled_lift"],
        y - 0.15,
        xerr=[rows["pooled_lift"] - rows["pooled_hdi_low"], rows["pooled_hdi_high"] - rows["pooled_lift"]],
        fmt="o",
        color="C0",
        label="pooled (94% HDI)",
    )
    ax.axvline(0, color="black", lw=1, ls="--")
    ax.set_yticks(y, [f"{s} · {a}" for s, a in zip(rows["segment"], rows["arm"], strict=True)])
    ax.set(xlabel="absolute lift in conversion rate", title="Segment lifts: raw vs partially pooled")
    ax.legend()
    return fig


def trajectory(check_table: pd.DataFrame, arms: list[str]):
    """P(best) and expected loss by day, with the threshold of caring."""
    fig, (top, bottom) = new_figure(nrows=2, height=6.0)
    x = check_table["look"]
    for arm in arms:
        top.plot(x, check_table[f"prob_best[{arm}]"], marker="o", ms=3, label=arm)
        bottom.plot(x, check_table[f"expected_loss[{arm}]"], marker="o", ms=3, label=arm)
    bottom.plot(x, check_table["threshold"], color="black", ls="--", label="threshold of caring")
    bottom.set_yscale("log")
    top.set(ylabel="P(best)", ylim=(-0.02, 1.02), title="Sequential check: every look")
    bottom.set(xlabel="look (day)", ylabel="expected loss (rate)")
    top.legend()
    bottom.legend()
    return fig


def operating_characteristics(oc: pd.DataFrame):
    fig, (left, right) = new_figure(ncols=2, width=10.0)
    for name, grp in oc.groupby("procedure"):
        left.plot(grp["true_lift"], grp["ship_rate"], marker="o", label=name)
        right.plot(grp["true_lift"], grp["mean_days"], marker="o", label=name)
    left.set(xlabel="true relative lift", ylabel="P(ship treatment)", title="Ship rate by true lift")
    right.set(xlabel="true relative lift", ylabel="mean duration (days)", title="Duration")
    left.legend()
    right.legend()
    return fig


def regret(curves: pd.DataFrame):
    fig, ax = new_figure()
    for name, grp in curves.groupby("policy"):
        ax.plot(grp["period"], grp["cumulative_regret"], label=name)
    ax.set(xlabel="period", ylabel="cumulative regret (conversions lost)", title="Thompson sampling vs equal split")
    ax.legend()
    return fig


def segment_ppc(ppc: pd.DataFrame):
    """Observed conversions per cell against the 94% posterior predictive interval."""
    fig, ax = new_figure(height=max(3.0, 0.25 * len(ppc) + 1.2))
    y = np.arange(len(ppc))[::-1]
    ax.hlines(y, ppc["predicted_low"], ppc["predicted_high"], color="C0", lw=3, alpha=0.5, label="94% predictive")
    ax.plot(ppc["observed"], y, "o", color="black", ms=4, label="observed")
    ax.set_yticks(y, [f"{s} · {a}" for s, a in zip(ppc["segment"], ppc["arm"], strict=True)], fontsize=7)
    ax.set(xlabel="conversions", title="Posterior predictive check: conversions per segment and arm")
    ax.legend()
    return fig


def order_value_ppc(ppc_draws: dict[str, dict[str, np.ndarray]], observed: dict[str, dict[str, float]]):
    """Replicated mean order value per arm against the observed one."""
    arms = list(ppc_draws)
    fig, axes = new_figure(ncols=len(arms), width=3.4 * len(arms), height=3.0)
    for ax, arm in zip(np.atleast_1d(axes), arms, strict=True):
        ax.hist(ppc_draws[arm]["mean"], bins=50, color="C0", alpha=0.6, density=True)
        ax.axvline(observed[arm]["mean"], color="black", lw=2, label="observed")
        ax.set(title=arm, xlabel="mean order value (replicated)")
    np.atleast_1d(axes)[0].legend()
    fig.suptitle("Posterior predictive check: lognormal order values")
    return fig
