"""DiD figures."""

from __future__ import annotations

from bayescausal.report.style import new_figure


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
    ax.axvline(-1, color="grey", ls=":", lw=1)
    if es.tolerance < float("inf"):
        ax.axhspan(
            -es.tolerance,
            es.tolerance,
            color="C1",
            alpha=0.08,
            label=f"lead tolerance: P(all leads inside) = {es.prob_leads_within_tolerance:.2f}",
        )
    ax.set(xlabel="periods relative to treatment start (reference: -1)", ylabel="effect (94% HDI)", title="Event study")
    ax.legend(fontsize=8)
    return fig
