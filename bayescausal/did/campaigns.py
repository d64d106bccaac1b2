"""Many Complete Journey campaigns at once: per-campaign DiD contrasts, partially pooled within and across
campaign types (A / B / C) in PyMC.

Staggered timing is handled by construction: a campaign's controls are households never treated by any
campaign, or not treated yet (their first campaign starts after this campaign ends), so no already-treated
household ever serves as a control and the two-way-fixed-effects bias under staggered adoption cannot
arise. Each campaign contributes the posterior of its own effect (treated minus control mean of the
household post-minus-pre contrasts); the hierarchy then shrinks campaign effects toward their type's
mean, and type means toward the overall mean, with learned spreads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayescausal.data.complete_journey import campaign_weeks
from bayescausal.data.transactions import spend_panel
from bayescausal.sampling import SamplerSettings, sample


def campaign_contrasts(
    tables: dict[str, pd.DataFrame], *, pre_weeks: int = 8, min_pre_weeks: int = 4, min_controls: int = 30
) -> pd.DataFrame:
    """One row per campaign: the difference of mean household contrasts, its standard error, and the counts.

    The pre-period is up to `pre_weeks` weeks before the start (at least `min_pre_weeks`); a window running past
    the end of the data is truncated to the observed weeks. Campaigns without enough pre-period or clean
    controls are kept with a reason and no estimate.
    """
    households, weeks, spend = spend_panel(tables["transactions"])
    membership = tables["campaigns"]
    desc = tables["campaign_descriptions"]
    windows = {int(c): campaign_weeks(tables, int(c)) for c in desc["campaign_id"]}
    first_start = membership.assign(start=membership["campaign_id"].map(lambda c: windows[int(c)][0]))
    first_start = first_start.groupby("household_id")["start"].min()
    first = first_start.reindex(households).to_numpy(dtype=float)  # NaN: never in any campaign
    rows = []
    for campaign, (start, end, kind) in sorted(windows.items()):
        row = {"campaign": campaign, "type": kind.replace("Type ", ""), "start_week": start, "end_week": end}
        pre_lo = max(start - pre_weeks, weeks[0])
        end = min(end, weeks[-1])  # observed part of a window that runs past the data
        if start - pre_lo < min_pre_weeks or start > weeks[-1]:
            rows.append(row | {"skipped": f"fewer than {min_pre_weeks} pre-period weeks in the data"})
            continue
        treated = np.isin(households, membership.loc[membership["campaign_id"] == campaign, "household_id"])
        control = np.isnan(first) | (first > end)
        if control.sum() < min_controls:
            rows.append(row | {"skipped": f"only {int(control.sum())} never- or not-yet-treated controls"})
            continue
        post = spend[:, start - weeks[0] : end - weeks[0] + 1].mean(axis=1)
        pre = spend[:, pre_lo - weeks[0] : start - weeks[0]].mean(axis=1)
        z = post - pre
        zt, zc = z[treated], z[control]
        se = np.sqrt(zt.var(ddof=1) / len(zt) + zc.var(ddof=1) / len(zc))
        rows.append(
            row
            | {
                "treated": int(treated.sum()),
                "controls": int(control.sum()),
                "estimate": zt.mean() - zc.mean(),
                "se": se,
                "observed_end_week": end,
                "pre_weeks": start - pre_lo,
                "treated_pre_mean": float(pre[treated].mean()),
                "treated_unit_periods": int(treated.sum()) * (end - start + 1),
                "skipped": "",
            }
        )
    return pd.DataFrame(rows)


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
