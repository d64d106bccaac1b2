"""MMM figures: ROAS, contributions over time, response curves, the budget plan, fit and calibration."""

from __future__ import annotations

import numpy as np

from bayescausal.style import new_figure


def _interval(values):
    v = np.asarray(values).ravel()
    return v.mean(), *np.quantile(v, [0.03, 0.97])


def roas_forest(roas, mroas, labels: dict | None = None):
    """`labels`: channel -> identification label, shown beside each channel's name."""
    fig, ax = new_figure(height=max(3.0, 0.4 * roas.sizes["channel"] + 1.2))
    _paired(ax, roas, mroas, "ROAS (94%)", "marginal ROAS (94%)")
    if labels:
        channels = list(roas["channel"].values)
        ax.set_yticks(ax.get_yticks(), [f"{c}\n({labels[c]})" for c in channels], fontsize=7)
    ax.axvline(1, color="black", ls="--", lw=1, label="break-even (1)")
    ax.set(xlabel="return per unit of spend")
    ax.legend(fontsize=8)
    return fig


def contributions_over_time(contrib, data):
    fig, ax = new_figure(width=9)
    mean = contrib.mean(("chain", "draw")).transpose("date", "channel")
    dates = mean["date"].values
    ax.stackplot(dates, mean.values.T, labels=list(mean["channel"].values), alpha=0.85)
    total = data.frame.groupby("date")[data.target].sum()
    ax.plot(total.index, total.values, color="black", lw=1, label=f"observed {data.target}")
    ax.set(ylabel=data.target, title="Media contributions (stacked) against observed sales")
    ax.legend(fontsize=7, ncol=3)
    return fig


def response_curves(curves, spend_totals):
    channels = list(curves["channel"].values)
    cols = 3
    rows = int(np.ceil(len(channels) / cols))
    fig, axes = new_figure(rows, cols, width=10, height=2.4 * rows)
    for ax, c in zip(np.ravel(axes), channels, strict=False):
        draws = curves.sel(channel=c).transpose(..., "multiplier").values.reshape(-1, curves.sizes["multiplier"])
        x = curves["multiplier"].values * float(spend_totals[c])
        lo, mid, hi = np.quantile(draws, [0.03, 0.5, 0.97], axis=0)
        ax.fill_between(x, lo, hi, alpha=0.3)
        ax.plot(x, mid)
        ax.axvline(float(spend_totals[c]), color="grey", ls=":")
        ax.set_title(c, fontsize=9)
    for ax in np.ravel(axes)[len(channels) :]:
        ax.set_visible(False)
    fig.supxlabel("total spend over the period (dotted: actual)")
    fig.supylabel("contribution")
    return fig


def plan_bars(table, gain):
    fig, (ax, ax2) = new_figure(1, 2, width=10)
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["current per week"], 0.4, label="current")
    ax.bar(x + 0.2, table["optimised per week"], 0.4, label="optimised")
    ax.set_xticks(x, table["channel"], rotation=45, ha="right", fontsize=8)
    ax.set(ylabel="spend per week")
    ax.legend(fontsize=8)
    ax2.hist(gain, bins=40, color="C2", alpha=0.7)
    ax2.axvline(0, color="black", lw=1)
    ax2.set(
        xlabel="incremental revenue of the optimised plan",
        title=f"P(optimised beats current) = {np.mean(gain > 0):.2f}",
    )
    return fig


def fit_band(ppc):
    fig, ax = new_figure(width=9)
    lo, mid, hi = ppc["band"]
    x = np.arange(len(ppc["y"]))
    ax.fill_between(x, lo, hi, alpha=0.3, label="94% posterior predictive")
    ax.plot(x, mid, label="median")
    ax.plot(x, ppc["y"], "k.", ms=3, label="observed")
    ax.set(xlabel="row (week x group)", ylabel="target")
    ax.legend(fontsize=8)
    return fig


def holdout(hold):
    fig, ax = new_figure()
    lo, mid, hi = hold["band"]
    x = np.arange(len(hold["y"]))
    ax.fill_between(x, lo, hi, alpha=0.3, label="94% predictive interval")
    ax.plot(x, mid, label="median")
    ax.plot(x, hold["y"], "ko", ms=4, label="observed (held out)")
    ax.set(xlabel="held-out row", title=f"coverage {hold['coverage']:.0%}, MAPE {hold['mape']:.1%}")
    ax.legend(fontsize=8)
    return fig


def _paired(ax, a, b, label_a, label_b):
    channels = list(a["channel"].values)
    y = np.arange(len(channels))[::-1]
    for offset, da, colour, label in ((0.15, a, "C0", label_a), (-0.15, b, "C3", label_b)):
        stats = np.array([_interval(da.sel(channel=c).values) for c in channels])
        ax.errorbar(
            stats[:, 0],
            y + offset,
            xerr=[stats[:, 0] - stats[:, 1], stats[:, 2] - stats[:, 0]],
            fmt="o",
            color=colour,
            label=label,
            capsize=2,
        )
    ax.set_yticks(y, channels)
    ax.set(xlabel="ROAS (94% interval)")
    ax.legend(fontsize=8)


def calibration(before, after):
    fig, ax = new_figure(height=max(3.0, 0.4 * before.sizes["channel"] + 1.2))
    _paired(ax, before, after, "without lift tests", "with lift tests")
    return fig


def sensitivity(a, b, name_a, name_b):
    fig, ax = new_figure(height=max(3.0, 0.4 * a.sizes["channel"] + 1.2))
    _paired(ax, a, b, f"spread: {name_a}", f"spread: {name_b}")
    return fig
