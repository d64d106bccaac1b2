"""Many Complete Journey campaigns at once: per-campaign DiD contrasts, partially pooled within and across
campaign types (A / B / C) in PyMC.

Each campaign is analysed exactly as `did fit --campaign` analyses it (data.complete_journey's panel: its
recipients against households never treated by any campaign or not yet, so no already-treated household is
a control; the same pre-period; the same gating checks). A campaign whose own checks fail is shown but does
not enter the pooled effect, so it cannot carry the pooled verdict. The campaigns that pass contribute the
centre and spread of their own exact posterior; the hierarchy shrinks campaign effects toward their type's
mean, and type means toward the overall mean, with learned spreads.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from bayescausal.data.complete_journey import campaign_weeks, complete_journey_panel
from bayescausal.errors import DataError
from bayescausal.family import quiet
from bayescausal.sampling import SamplerSettings, sample


def campaign_analyses(tables: dict[str, pd.DataFrame], options, analyze, *, progress=quiet) -> pd.DataFrame:
    """One row per campaign, each from the very design and analysis `did fit --campaign` runs (the same panel,
    controls, pre-period and gating checks; `analyze` is that analysis, passed in by its module), so the pooled
    report and a campaign's own report cannot disagree. A campaign that cannot be analysed, or whose own
    gating checks fail, keeps its row with the reason in `skipped`, and does not enter the pooled effect."""
    own = replace(options, all_campaigns=False, mailer_cost_per_household=None)
    own = replace(own, business=replace(own.business, cost=None))  # the pooled report prices all campaigns
    rows = []
    ids = sorted(int(c) for c in tables["campaign_descriptions"]["campaign_id"])
    for k, campaign in enumerate(ids, start=1):
        start, end, kind = campaign_weeks(tables, campaign)
        row = {"campaign": campaign, "type": kind.replace("Type ", ""), "start_week": start, "end_week": end}
        progress(f"campaign {campaign} ({k} of {len(ids)}): its own design and checks")
        try:
            panel = complete_journey_panel(campaign, tables=tables, outcome=options.spend)
            result = analyze(panel, replace(own, campaign=campaign))
        except DataError as exc:
            rows.append(row | {"skipped": str(exc).removeprefix("DiD panel: ")})
            continue
        rows.append(row | _campaign_row(panel, result))
    return pd.DataFrame(rows)


def _campaign_row(panel, result) -> dict:
    """A campaign's effect (centre and spread of its exact posterior), counts and its own checks."""
    received = panel.treated.any(axis=1)
    start = int(panel.treated.any(axis=0).argmax())
    att = result.estimates["att"]
    failed = [c.name for c in result.checks if c.gating and not c.passed]
    return {
        "treated": int(received.sum()),
        "controls": int((~received).sum()),
        "estimate": att.centre,
        "se": att.spread,
        "P(effect > 0)": att.prob_positive,
        "observed_end_week": int(panel.periods[-1]),
        "pre_weeks": start,
        "treated_pre_mean": float(panel.outcome[received, :start].mean()),
        "treated_unit_periods": int(panel.treated.sum()),
        "own verdict": result.decision.verdict,
        "skipped": f"its own gating check(s) failed: {', '.join(failed)}" if failed else "",
    }


def pooled_model(contrasts: pd.DataFrame):
    """Campaign effects ~ N(type mean, sigma_campaign); type means ~ N(overall, sigma_type); non-centred."""
    import pymc as pm

    used = contrasts[contrasts["skipped"] == ""]
    types = sorted(used["type"].unique())
    type_idx = used["type"].map({t: i for i, t in enumerate(types)}).to_numpy()
    scale = float(used["se"].median())  # the typical campaign's standard error sets the scale of every prior
    coords = {"campaign": used["campaign"].astype(str).tolist(), "type": types}
    with pm.Model(coords=coords) as model:
        overall = pm.Normal("overall", 0.0, 5.0 * scale)
        sigma_type = pm.HalfNormal("sigma_type", scale)
        sigma_campaign = pm.HalfNormal("sigma_campaign", scale)
        type_z = pm.Normal("type_z", 0.0, 1.0, dims="type")
        type_mean = pm.Deterministic("type_effect", overall + sigma_type * type_z, dims="type")
        campaign_z = pm.Normal("campaign_z", 0.0, 1.0, dims="campaign")
        effect = pm.Deterministic("campaign_effect", type_mean[type_idx] + sigma_campaign * campaign_z, dims="campaign")
        pm.Normal("estimate", effect, used["se"].to_numpy(), observed=used["estimate"].to_numpy(), dims="campaign")
    return model


def fit_pooled(contrasts: pd.DataFrame, settings: SamplerSettings):
    return sample(pooled_model(contrasts), settings, default_target_accept=0.995)
