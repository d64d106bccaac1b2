"""Bayesian difference-in-differences on unit x period panels: exact posteriors on unit contrasts,
event studies, staggered timing, refutations, and all Complete Journey campaigns pooled by type.

    import bayescausal.did as did
    result = did.fit("panel.csv", unit="store", time="week", outcome="sales", treated="promo")
    result = did.fit(campaign=18, mailer_cost_per_household=1.0, margin_rate=0.3)

Importing this package is cheap: the family's declaration only, no PyMC.
"""

from __future__ import annotations

from bayescausal.api import entry_point
from bayescausal.did import commands as _c
from bayescausal.did.options import CampaignsInputs, DiDOptions, PanelInputs
from bayescausal.family import Command, Family

FAMILY = Family(
    kind="did",
    help="difference-in-differences",
    description="Bayesian difference-in-differences on unit x period panels: a long CSV/Parquet panel "
    "(staggered timing allowed) or a Complete Journey campaign.",
    formats=("complete-journey-kaggle",),
    demo=("did_campaign18.toml", "did_all_campaigns.toml"),
    examples=(
        "bayescausal did fit --campaign 18 --mailer-cost 1.0 --margin 0.3",
        "bayescausal did fit --data panel.csv --unit store --time wave --outcome fte --treated nj_after --json",
        "bayescausal did campaigns --mailer-cost 0.5 --margin 0.3",
    ),
    commands=(
        Command(
            "fit",
            "estimate the average effect on the treated (ATT), with the event study, refutations and ROI",
            "bayescausal did fit --data panel.csv --unit u --time t --outcome y --treated d",
            options=DiDOptions,
            inputs=PanelInputs,
            load=_c.load_for,
            analyze=_c.analyze,
        ),
        Command(
            "event-study",
            "the same fit, printing the effect by period relative to treatment",
            "bayescausal did event-study --campaign 18",
            options=DiDOptions,
            inputs=PanelInputs,
            load=_c.load,
            analyze=_c.analyze,
            after=_c.print_event_study,
        ),
        Command(
            "campaigns",
            "all Complete Journey campaigns at once, partially pooled by campaign type",
            "bayescausal did campaigns --mailer-cost 0.5 --margin 0.3",
            options=DiDOptions,
            inputs=CampaignsInputs,
            load=_c.load_campaigns,
            analyze=_c.campaigns,
        ),
    ),
)

fit = entry_point(FAMILY, "fit")
event_study = entry_point(FAMILY, "event-study")
campaigns = entry_point(FAMILY, "campaigns")

__all__ = ["DiDOptions", "FAMILY", "campaigns", "event_study", "fit"]
