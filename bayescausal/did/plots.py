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
