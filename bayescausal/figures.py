"""Figures every result gets: the decision's money posterior, and MCMC diagnostics where there was MCMC.

They live beside the result type, not in report/, so that `Result.plot()` needs no report code."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from bayescausal.style import new_figure

if TYPE_CHECKING:
    from bayescausal.result import Figure, Result

MAX_TRACE_PARAMS = 6


def standard_figures(result: Result) -> list[Figure]:
    from bayescausal.result import Figure

    figs = []
    if result.roi is not None:
        figs.append(Figure("Posterior ROI / incremental profit", partial(roi_distribution, result), "decision"))
    if result.sampled is not None and "sample_stats" in result.sampled.children:
        params = (
            list(result.diagnostics.table["parameter"].head(MAX_TRACE_PARAMS)) if len(result.diagnostics.table) else []
        )
        if params:
            figs.append(Figure("Trace and rank plots", partial(trace_rank, result.sampled, params), "diagnostics"))
        if "energy" in result.sampled["sample_stats"]:
            figs.append(Figure("Energy", partial(energy, result.sampled), "diagnostics"))
    return figs


def roi_distribution(result: Result):
    roi = result.roi
    key = "roi" if "roi" in roi.draws else "incremental_profit"
    x = roi.draws[key]
    fig, ax = new_figure()
    ax.hist(x, bins=120, density=True, color="C0", alpha=0.6)
    est = roi.roi if key == "roi" else roi.incremental_profit
    ax.axvspan(est.hdi_low, est.hdi_high, color="C0", alpha=0.08, label=f"{est.hdi_prob:.0%} HDI")
    if key == "roi":
        ax.axvline(
            roi.hurdle_roi,
            color="C3",
            ls="--",
            label=f"hurdle {roi.hurdle_roi:.0%}: P(ROI > hurdle) = {roi.prob_roi_above_hurdle:.3f}",
        )
        ax.set_xlabel("ROI = (incremental revenue x margin - cost) / cost")
    else:
        ax.axvline(0, color="C3", ls="--", label=f"P(profit > 0) = {np.mean(x > 0):.3f}")
        ax.set_xlabel("incremental profit (incremental revenue x margin)")
    ax.set(ylabel="posterior density", title=f"Verdict: {result.decision.verdict}")
    ax.legend()
    return fig


def _element(da, label: str) -> np.ndarray:
    """(chain, draw) draws of the element named like 'name[a, b]' in the diagnostics table."""
    name, _, rest = label.partition("[")
    arr = da[name]
    if rest:
        keys = [k.strip() for k in rest.rstrip("]").split(",")]
        extra = [d for d in arr.dims if d not in ("chain", "draw")]
        sel = {}
        for dim, key in zip(extra, keys, strict=True):
            values = arr[dim].values
            match = [v for v in values if str(v) == key]
            sel[dim] = match[0]
        arr = arr.sel(sel)
    return arr.transpose("chain", "draw").values


def trace_rank(idata, params: list[str]):
    post = idata["posterior"].to_dataset()
    fig, axes = new_figure(nrows=len(params), ncols=2, width=10.0, height=1.7 * len(params) + 0.6)
    axes = np.atleast_2d(axes)
    for row, label in zip(axes, params, strict=True):
        draws = _element(post, label)
        ranks = stats.rankdata(draws, axis=None).reshape(draws.shape)
        bins = np.linspace(0, draws.size, 21)
        for c in range(draws.shape[0]):
            row[0].plot(draws[c], lw=0.6, alpha=0.8)
            row[1].hist(ranks[c], bins=bins, histtype="step", lw=1.2)
        row[0].set_ylabel(label, fontsize=8)
        row[1].axhline(draws.shape[1] / 20, color="black", ls="--", lw=0.8)
    axes[0, 0].set_title("trace (each colour a chain)")
    axes[0, 1].set_title("rank histograms (flat = mixing)")
    return fig


def energy(idata):
    e = idata["sample_stats"]["energy"].values
    fig, ax = new_figure()
    centred = e - e.mean(axis=1, keepdims=True)
    ax.hist(centred.ravel(), bins=60, density=True, alpha=0.5, label="marginal energy")
    ax.hist(np.diff(e, axis=1).ravel(), bins=60, density=True, alpha=0.5, label="energy transition")
    ax.set(xlabel="energy (centred)", title="Energy: the transition should be as wide as the marginal")
    ax.legend()
    return fig
