"""DiD figures."""

from __future__ import annotations

from bayescausal.style import new_figure


def event_study(es):
    t = es.table
    fig, ax = new_figure()
    leads = t["kind"] == "lead"
    for mask, colour, label in ((leads, "C1", "leads (pre-period)"), (~leads, "C0", "lags (treated periods)")):
        sub = t[mask]
        ax.errorbar(
            sub["event_time"],
            sub["mean"],
            yerr=[sub["mean"] - sub["hdi_low"], sub["hdi_high"] - sub["mean"]],
            fmt="o",
            color=colour,
            label=label,
            capsize=2,
        )
    ax.axhline(0, color="black", lw=1)
    if es.reference == "period -1":
        ax.axvline(-1, color="grey", ls=":", lw=1)
    if es.tolerance < float("inf"):
        ax.axhspan(
            -es.tolerance,
            es.tolerance,
            color="C1",
            alpha=0.08,
            label=f"lead tolerance: P(all leads inside) = {es.prob_leads_within_tolerance:.2f}",
        )
    ax.set(
        xlabel=f"periods relative to treatment start (reference: {es.reference})",
        ylabel="effect (94% HDI)",
        title="Event study",
    )
    ax.legend(fontsize=8)
    return fig


def campaign_forest(table):
    rows = table[table["skipped"] == ""].reset_index(drop=True)
    fig, ax = new_figure(height=max(3.0, 0.3 * len(rows) + 1.2))
    y = range(len(rows))[::-1]
    y = list(y)
    ax.errorbar(
        rows["estimate"],
        [v + 0.15 for v in y],
        xerr=1.88 * rows["se"],
        fmt="o",
        color="grey",
        label="raw (+-1.88 s.e.)",
    )
    ax.errorbar(
        rows["pooled_mean"],
        [v - 0.15 for v in y],
        xerr=[rows["pooled_mean"] - rows["pooled_hdi_low"], rows["pooled_hdi_high"] - rows["pooled_mean"]],
        fmt="o",
        color="C0",
        label="pooled (94% HDI)",
    )
    ax.axvline(0, color="black", lw=1, ls="--")
    ax.set_yticks(y, [f"{c} (type {t})" for c, t in zip(rows["campaign"], rows["type"], strict=True)], fontsize=8)
    ax.set(xlabel="effect on weekly spend per household", title="Campaign effects: raw vs partially pooled")
    ax.legend()
    return fig


def contrast_ppc(cohort):
    """Observed unit contrasts against the Gaussian model's predictive density, treated and control."""
    import numpy as np
    from scipy import stats

    fig, axes = new_figure(ncols=2, width=10.0)
    for ax, (name, z) in zip(axes, (("control", cohort.z_control), ("treated", cohort.z_treated)), strict=True):
        lo, hi = np.quantile(z, [0.005, 0.995])
        ax.hist(np.clip(z, lo, hi), bins=60, density=True, alpha=0.5, label="observed")
        x = np.linspace(lo, hi, 300)
        ax.plot(x, stats.norm.pdf(x, z.mean(), z.std()), color="C3", label="Gaussian model")
        ax.set(title=f"{name} units (cohort {cohort.label})", xlabel="post minus pre mean outcome")
        ax.legend(fontsize=8)
    return fig
