"""The DT-Mart layout (and data like it) to a weekly panel of channel spend and GMV.

Mixed frequency is the crux: spend is monthly, sales daily or weekly. Monthly spend is spread to weeks
under a stated assumption, and the analysis can refit under another to show how much the ROAS depends
on it. Spreading rules:

* `days`: pro rata to the days of each week that fall in the month (a flat daily budget).
* `sale-days`: as `days`, but a special-sale day carries three times the weight of an ordinary day
  (budgets burst around promotions), using only the calendar, never the sales themselves.

All money is in crores (GMV is converted from rupees), so ROAS is unitless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from bayescausal.data.validate import rows
from bayescausal.errors import DataError

CRORE = 1e7
SPREADS = ("days", "sale-days")
SALE_DAY_WEIGHT = 3.0
WEEK_ONE = pd.Timestamp("2015-06-28")  # the Sunday starting week 1 of the DT-Mart weekly panel (1 July 2015)
ORDER_FILE, WEEKLY_FILE = "ConsumerElectronics.csv", "weekly_gmv_by_subcategory.csv"


@dataclass
class MMMData:
    """A weekly panel ready for the model: one row per week (and per `group` value when there is one)."""

    frame: pd.DataFrame  # date, [group], target, channels..., controls...
    channels: list[str]
    controls: list[str]
    target: str = "gmv"
    group: str | None = None
    spread: str | None = None  # how monthly spend became weekly, when it did
    notes: list[str] = field(default_factory=list)
    source: str = ""
    respread: object = None  # callable(spread) -> MMMData, for the sensitivity refit

    @cached_property
    def regional_spend(self) -> bool:
        """Each group has spend of its own (regions), rather than every group seeing the same national spend
        (product groups under national media, as in DT-Mart). This decides what a channel's total spend is."""
        if self.group is None:
            return False
        spread = self.frame.groupby("date")[self.channels].agg(lambda s: s.max() - s.min())
        return bool((spread.to_numpy() > 1e-9 * (1 + self.frame[self.channels].abs().max().max())).any())

    def spend_by_week(self) -> pd.DataFrame:
        """The channels' total spend per week (index: date): summed over regions with regional spend, once
        for national spend that every group shares."""
        if self.group is None:
            return self.frame.set_index("date")[self.channels]
        weekly = self.frame.groupby("date")[self.channels]
        return weekly.sum() if self.regional_spend else weekly.first()

    def spend_by_group(self) -> pd.DataFrame:
        """Each group's spend per channel over the whole period (index: group); the weights that turn
        per-group ROAS into the pooled one."""
        return self.frame.groupby("group")[self.channels].sum()


def _channel_name(raw: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in raw.strip().split())


def read_media(path: Path) -> pd.DataFrame:
    """MediaInvestment.csv: Year, Month, Total Investment, one column per channel (crores; blank = 0)."""
    media = pd.read_csv(path)
    media.columns = [c.strip() for c in media.columns]
    for col in ("Year", "Month"):
        if col not in media.columns:
            raise DataError(f"{path.name}: missing column '{col}' (expected Year, Month and one column per channel)")
    channels = [c for c in media.columns if c not in ("Year", "Month", "Total Investment")]
    if not channels:
        raise DataError(f"{path.name}: no channel columns besides Year, Month and Total Investment")
    out = media[channels].apply(pd.to_numeric, errors="coerce")
    bad = out.isna() & media[channels].notna() & (media[channels].astype(str).apply(lambda s: s.str.strip()) != "")
    if bad.any().any():
        raise DataError(f"{path.name}: non-numeric spend in column(s) {list(out.columns[bad.any()])}")
    out = out.fillna(0.0)
    out.columns = [_channel_name(c) for c in channels]
    if (out < 0).any().any():
        neg = list(out.columns[(out < 0).any()])
        raise DataError(f"{path.name}: negative spend in {neg}; spend must be >= 0 (refunds belong elsewhere)")
    out.index = pd.PeriodIndex.from_fields(year=media["Year"], month=media["Month"], freq="M")
    if out.index.duplicated().any():
        raise DataError(f"{path.name}: duplicated months {sorted(set(out.index[out.index.duplicated()].astype(str)))}")
    return out.sort_index()


def read_sale_days(path: Path) -> pd.DatetimeIndex:
    if not path.exists():
        return pd.DatetimeIndex([])
    sales = pd.read_csv(path)
    return pd.DatetimeIndex(pd.to_datetime(sales["Date"], format="%m/%d/%Y").unique())


def read_nps(path: Path) -> pd.Series | None:
    if not path.exists():
        return None
    nps = pd.read_csv(path)
    dates = pd.to_datetime(nps["Date"], format="%m/%d/%Y")
    return pd.Series(nps["NPS"].to_numpy(float), index=dates.dt.to_period("M"))


def weekly_spend(
    media: pd.DataFrame, weeks: pd.DatetimeIndex, spread: str, sale_days: pd.DatetimeIndex
) -> pd.DataFrame:
    """Spread monthly spend over the days of each month (weighted per `spread`), then sum by week."""
    if spread not in SPREADS:
        raise DataError(f"spread must be one of {', '.join(SPREADS)}, got '{spread}'")
    days = pd.date_range(media.index[0].start_time, media.index[-1].end_time.normalize(), freq="D")
    weight = np.ones(len(days))
    if spread == "sale-days":
        weight[days.isin(sale_days)] = SALE_DAY_WEIGHT
    month = days.to_period("M")
    share = weight / pd.Series(weight).groupby(month).transform("sum").to_numpy()
    daily = media.reindex(month).to_numpy() * share[:, None]
    week_start = days - pd.to_timedelta((days.dayofweek + 1) % 7, unit="D")  # the Sunday on or before
    by_week = pd.DataFrame(daily, columns=media.columns).groupby(week_start).sum()
    return by_week.reindex(weeks).fillna(0.0)


def _full_weeks(weeks: pd.DatetimeIndex, media: pd.DataFrame) -> pd.DatetimeIndex:
    first, last = media.index[0].start_time, media.index[-1].end_time.normalize()
    return weeks[(weeks >= first) & (weeks + pd.Timedelta(days=6) <= last)]


def _sales(folder: Path) -> tuple[pd.DataFrame, str]:
    """Weekly GMV in crores with columns date, [subcategory | category], gmv."""
    orders, weekly = _order_file(folder), folder / WEEKLY_FILE
    if orders is not None:
        frame, source = _order_weeks(orders)
    elif weekly.exists():
        raw = pd.read_csv(weekly)
        need = {"week", "product_analytic_sub_category", "gmv"}
        if missing := need - set(raw.columns):
            raise DataError(f"{WEEKLY_FILE}: missing column(s) {sorted(missing)}")
        frame = pd.DataFrame(
            {
                "date": WEEK_ONE + pd.to_timedelta(7 * (raw["week"].astype(int) - 1), unit="D"),
                "subcategory": raw["product_analytic_sub_category"],
                "gmv": pd.to_numeric(raw["gmv"], errors="coerce") / CRORE,
            }
        )
        if frame["gmv"].isna().any():
            raise DataError(f"{WEEKLY_FILE}: {int(frame['gmv'].isna().sum())} non-numeric gmv value(s)")
        source = f"{WEEKLY_FILE} (weekly GMV by sub-category)"
    else:
        raise DataError(f"{folder}: neither {ORDER_FILE} (order-level sales) nor {WEEKLY_FILE} (weekly GMV) is there")
    if (frame["gmv"] < 0).any():
        raise DataError("sales: negative gmv values; returns must be netted before the analysis")
    return frame, source


def _order_file(folder: Path) -> Path | None:
    """The order-level sales: ConsumerElectronics.csv, or the same table as Parquet (file or folder)."""
    stem = Path(ORDER_FILE).stem
    for candidate in (folder / ORDER_FILE, folder / f"{stem}.parquet", folder / stem):
        if candidate.exists():
            return candidate
    return None


def _order_weeks(path: Path, engine: str = "duckdb") -> tuple[pd.DataFrame, str]:
    """Order lines to GMV per Sunday-start week and product line, summed in the engine (DuckDB): only the
    daily totals per sub-category travel (a few tens of thousands of rows, whatever the order count)."""
    from bayescausal.data import validate as v
    from bayescausal.data.engine import Location, exact_sum, open_scan

    scan = open_scan(Location(path=str(path), engine=engine))
    columns = ["order_date", "gmv", "product_analytic_category", "product_analytic_sub_category"]
    v.require_columns(scan, columns, what=path.name, hint="export the order lines with DT-Mart's column names")
    t = scan.table
    gmv, date = t.gmv.cast("string").try_cast("float64"), t.order_date.cast("string").try_cast("timestamp")
    ok = gmv.notnull() & date.notnull()
    found = scan.one_row(t.agg(rows=t.count(), bad=(~ok).cast("int64").sum(), largest=gmv.abs().max()), "orders")
    total = exact_sum(
        int(found["rows"]), scan.location.engine_name
    )  # the same GMV to the last digit on every run and engine
    lines = t.select(
        gmv=gmv,
        day=date.truncate("D"),
        category=t.product_analytic_category,
        subcategory=t.product_analytic_sub_category,
    )
    lines = lines.filter(lines.gmv.notnull() & lines.day.notnull())
    largest = float(found["largest"] or 1.0)
    daily = lines.group_by("day", "category", "subcategory").agg(
        gmv=total(lines.gmv, largest), orders=lines.count(), negative=(lines.gmv < 0).cast("int64").sum()
    )
    frame = scan.fetch(daily, f"summing {path.name} per day")
    dropped = int(found["bad"])
    if frame["negative"].any():
        raise DataError("sales: negative gmv values; returns must be netted before the analysis")
    day = pd.to_datetime(frame["day"])
    frame["date"] = (day - pd.to_timedelta((day.dt.dayofweek + 1) % 7, unit="D")).dt.normalize()
    frame["gmv"] = frame["gmv"].astype(float) / CRORE
    orders = int(frame["orders"].sum())
    source = f"{path.name} ({orders:,} orders summed by {engine}; {dropped:,} with unreadable gmv or date left out)"
    return frame[["date", "category", "subcategory", "gmv"]], source


def _media(folder: Path) -> pd.DataFrame:
    """Monthly spend by channel, checked: the folder and file exist, no month is missing, no channel is empty."""
    if not folder.is_dir():
        raise DataError(f"DT-Mart folder not found: {folder}")
    media_path = folder / "MediaInvestment.csv"
    if not media_path.exists():
        raise DataError(f"{folder}: MediaInvestment.csv (monthly spend by channel) is missing")
    media = read_media(media_path)
    expected = pd.period_range(media.index[0], media.index[-1], freq="M")
    if len(expected) != len(media):
        gaps = sorted(set(expected.astype(str)) - set(media.index.astype(str)))
        raise DataError(
            f"MediaInvestment.csv: missing month(s) {gaps}; every month between the first and last needs a row"
        )
    zero = [c for c in media.columns if media[c].sum() == 0]
    if zero:
        raise DataError(f"channel(s) {zero} have zero spend in every month: no ROAS can be learned; drop the column(s)")
    return media


def _gmv_table(sales: pd.DataFrame, weeks, groups, group_level: str) -> pd.DataFrame:
    """Weekly GMV: one column per product group, or the total."""
    if not groups:
        return sales.groupby("date")["gmv"].sum().reindex(weeks).to_frame("total")
    if group_level not in sales.columns:
        raise DataError(f"groups by '{group_level}' need a '{group_level}' column in the sales file")
    unknown = sorted(set(groups) - set(sales[group_level]))
    if unknown:
        raise DataError(f"unknown {group_level} value(s) {unknown}; available: {sorted(sales[group_level].unique())}")
    table = sales[sales[group_level].isin(groups)].pivot_table(
        index="date", columns=group_level, values="gmv", aggfunc="sum"
    )
    return table.reindex(index=weeks, columns=groups)


def load_dtmart(
    folder: str | Path,
    *,
    spread: str = "days",
    groups: list[str] | None = None,
    group_level: str = "subcategory",
) -> MMMData:
    """A weekly panel from a DT-Mart-layout folder. `groups` (e.g. CameraAccessory, GamingAccessory,
    HomeAudio) gives one series per product group for a pooled hierarchy; without it, total GMV."""
    folder = Path(folder)
    media = _media(folder)
    sales, source = _sales(folder)
    outside = sales[
        (sales.date + pd.Timedelta(days=6) < media.index[0].start_time) | (sales.date > media.index[-1].end_time)
    ]
    if len(outside):
        raise DataError(
            f"sales weeks {sorted(outside.date.dt.date.astype(str).unique())[:5]} fall outside the media months "
            f"{media.index[0]}..{media.index[-1]}: the two files must cover the same period"
        )
    weeks = _full_weeks(pd.DatetimeIndex(sorted(sales.date.unique())), media)
    notes = [f"{len(sales.date.unique()) - len(weeks)} partial week(s) at the edges of the period left out"]
    table = _gmv_table(sales, weeks, groups, group_level)
    missing = table.isna()
    coverage = sales[sales.date.isin(weeks)].groupby("date")[group_level].nunique().reindex(weeks).fillna(0)
    gap = (coverage < 0.5 * coverage.median()).astype(float)
    if missing.any().any() or gap.any():
        notes.append(
            f"{int(gap.sum())} week(s) with fewer than half the usual product lines reporting (a data gap, e.g. "
            f"August 2015 in DT-Mart) get a 'data_gap' control; {int(missing.sum().sum())} missing group-week(s) "
            "count as zero sales"
        )
    sale_days = read_sale_days(folder / "SpecialSale.csv")
    nps = read_nps(folder / "MonthlyNPSscore.csv")

    def build(how: str) -> MMMData:
        spend = weekly_spend(media, weeks, how, sale_days)
        controls = pd.DataFrame(index=weeks)
        controls["sale_days"] = [int(sale_days.isin(pd.date_range(w, periods=7)).sum()) for w in weeks]
        if nps is not None:
            monthly = nps.reindex((weeks + pd.Timedelta(days=3)).to_period("M")).to_numpy()
            controls["nps"] = (monthly - np.nanmean(monthly)) / (np.nanstd(monthly) or 1.0)
            controls["nps"] = controls["nps"].fillna(0.0)
        controls["trend"] = np.linspace(0, 1, len(weeks))
        if gap.any():
            controls["data_gap"] = gap.to_numpy()
        long = table.fillna(0.0).rename_axis("date").reset_index().melt("date", var_name="group", value_name="gmv")
        frame = long.merge(spend.rename_axis("date").reset_index(), on="date").merge(
            controls.rename_axis("date").reset_index(), on="date"
        )
        frame = frame.sort_values(["date", "group"]).reset_index(drop=True)
        grouped = bool(groups)
        if not grouped:
            frame = frame.drop(columns="group")
        return MMMData(
            frame=frame,
            channels=list(media.columns),
            controls=list(controls.columns),
            group="group" if grouped else None,
            spread=how,
            notes=notes
            + [f"monthly spend spread to weeks by '{how}'" + (" (sale days weigh 3x)" if how == "sale-days" else "")],
            source=f"DT-Mart layout in {folder}: MediaInvestment.csv + {source}",
            respread=build,
        )

    return build(spread)


def from_frame(
    frame: pd.DataFrame,
    *,
    date: str,
    target: str,
    channels: list[str],
    controls: list[str] | None = None,
    group: str | None = None,
    to_weeks: bool = False,
    time_format: str | None = None,
) -> MMMData:
    """A weekly panel the user already has (one row per date, or per date and group). With `to_weeks`, daily
    rows are summed into weeks (spend and sales; controls averaged)."""
    controls = controls or []
    need = [date, target, *channels, *controls, *([group] if group else [])]
    if missing := [c for c in need if c not in frame.columns]:
        raise DataError(
            f"MMM data: missing column(s) {missing}; found {list(frame.columns)[:20]}. Name the columns with "
            "--date, --target, --channels and --controls"
        )
    out = frame[need].copy()
    out[date] = _dates(out[date], date, time_format)
    for col in [target, *channels, *controls]:
        values = pd.to_numeric(out[col], errors="coerce")
        if values.isna().any() or not np.isfinite(values).all():
            raise DataError(f"MMM data: column '{col}' has missing or non-numeric values; fill or drop them")
        out[col] = values
    if (negative := (out[channels] < 0).any(axis=1)).any():
        named = list(out[channels].columns[(out[channels] < 0).any()])
        raise DataError(
            f"MMM data: negative spend in {named} at {_rows(out, negative, [date, *([group] if group else [])])}; "
            "spend must be >= 0 (refunds and credits belong in a control or in the sales)"
        )
    if zero := [c for c in channels if out[c].sum() == 0]:
        raise DataError(f"channel(s) {zero} have zero spend throughout: no ROAS can be learned; drop them")
    keys = [date, group] if group else [date]
    if (dup := out.duplicated(keys, keep=False)).any():
        raise DataError(
            f"MMM data: duplicated rows for the same {' and '.join(keys)}: {_rows(out, dup, keys)}; keep one row "
            "per key, or sum daily rows into weeks with --to-weeks"
        )
    notes = []
    if to_weeks:
        out, note = _sum_to_weeks(out, date, group, [target, *channels], controls)
        notes.append(note)
    require_weekly(out[date], date)
    if group:
        _require_same_weeks(out, date, group)
    if len(out[date].unique()) < MIN_WEEKS:
        raise DataError(
            f"MMM data: only {out[date].nunique()} weeks; a marketing-mix model needs at least {MIN_WEEKS} (and 52 "
            "or more to tell media from seasonality)"
        )
    out = out.rename(columns={date: "date", **({group: "group"} if group else {})})
    return MMMData(
        frame=out.sort_values(["date", "group"] if group else ["date"]).reset_index(drop=True),
        channels=channels,
        controls=controls,
        target=target,
        group="group" if group else None,
        notes=notes,
    )


MIN_WEEKS = 20


def _rows(frame: pd.DataFrame, mask, columns: list[str], first: int = 5) -> str:
    """Where the offending rows are (`validate.rows`: file lines of a CSV, rows of a Parquet file, index labels
    of a DataFrame), then the first ones' key values."""
    index = np.flatnonzero(np.asarray(mask))
    keys = ["(" + ", ".join(f"{c}={frame[c].iloc[i]}" for c in columns) + ")" for i in index[:first]]
    return f"{rows(frame, mask)}: " + "; ".join(keys) + (" ..." if len(index) > first else "")


def _require_same_weeks(out: pd.DataFrame, date: str, group: str) -> None:
    """pymc-marketing fits groups on one shared date axis, so a group that starts late or ends early would be
    read as zero sales and zero spend: refuse before fitting, naming each group's span and the common one."""
    spans = out.groupby(group)[date].agg(["min", "max", "nunique"])
    weeks = out[date].nunique()
    if (spans["nunique"] == weeks).all():
        return
    lo, hi = spans["min"].max(), spans["max"].min()
    short = spans[spans["nunique"] < weeks]
    named = "; ".join(
        f"{g}: {r['min']:%Y-%m-%d} to {r['max']:%Y-%m-%d} ({r['nunique']} of {weeks} weeks)"
        for g, r in short.head(5).iterrows()
    )
    keep = f"keep the weeks from {lo:%Y-%m-%d} to {hi:%Y-%m-%d}, which every group has, " if lo <= hi else ""
    raise DataError(
        f"MMM data: the groups in '{group}' cover different weeks ({named}); the model fits every group on the same "
        f"weeks. Fix: {keep}or fit the groups that lack weeks separately"
    )


def _dates(values: pd.Series, column: str, time_format: str | None) -> pd.Series:
    """Dates in their true order, in any common format (bayescausal.data.periods); never guessed."""
    from bayescausal.data.periods import order_key

    key = order_key(values, column=column, time_format=time_format)
    if not pd.api.types.is_datetime64_any_dtype(key):
        raise DataError(f"MMM data: '{column}' must hold dates (e.g. 2020-01-06), found {values.iloc[0]!r}")
    return pd.to_datetime(key)


def require_weekly(dates: pd.Series, column: str) -> None:
    """The model's time step is a week: daily rows would be read as weeks and gaps would shift every adstock."""
    unique = pd.DatetimeIndex(dates.unique()).sort_values()
    steps = pd.Series(unique[1:] - unique[:-1]).dt.days
    if steps.empty:
        return
    if steps.median() < 7:
        raise DataError(
            f"MMM data: '{column}' steps by {int(steps.median())} day(s), not by weeks; the model would read each "
            "row as a week. Sum the rows into weeks with --to-weeks (spend and sales summed, controls averaged), "
            "or aggregate them yourself."
        )
    if (steps % 7 != 0).any():
        odd = unique[1:][(steps % 7 != 0).to_numpy()]
        raise DataError(
            f"MMM data: '{column}' is not a weekly sequence (irregular steps before "
            f"{list(odd.strftime('%Y-%m-%d'))[:3]}); give one row per week on the same weekday, or sum daily rows "
            "with --to-weeks"
        )
    if (steps > 7).any():
        gaps = [
            (a + pd.Timedelta(days=7)).strftime("%Y-%m-%d") for a, s in zip(unique[:-1], steps, strict=True) if s > 7
        ]
        missing = int((steps // 7 - 1).sum())
        raise DataError(
            f"MMM data: {missing} week(s) missing from the date sequence (from {', '.join(gaps[:3])}); adstock "
            "carries spend from week to week, so every week must be present. Add the missing weeks (zero spend, and "
            "the sales of those weeks) or model the span after the gap only."
        )


def _sum_to_weeks(out: pd.DataFrame, date: str, group: str | None, summed: list[str], averaged: list[str]):
    """Daily (or irregular) rows into Monday-start weeks; only full weeks are kept, so the ends do not dip."""
    week = out[date].dt.to_period("W-SUN").dt.start_time
    keys = [week.rename(date)] + ([out[group]] if group else [])
    grouped = out.groupby(keys, sort=True)
    weekly = grouped[summed].sum().join(grouped[averaged].mean()) if averaged else grouped[summed].sum()
    days = grouped[date].nunique()
    full = days[days == 7].index
    weekly = weekly.loc[full].reset_index()
    partial = int((days < 7).sum())
    note = f"daily rows summed into {weekly[date].nunique()} full weeks (Monday start); {partial} partial weeks dropped"
    return weekly, note
