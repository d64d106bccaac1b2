"""A/B inputs: sufficient statistics per arm (and segment, day), from aggregated rows or events.

Canonical columns: `arm, visitors, conversions`, optionally `revenue` (sum), `revenue_sq` (sum of
squares), `purchasers` (orders with revenue > 0), `log_revenue` / `log_revenue_sq` (sums of log order
values, for the lognormal order-value model), `segment`, `day`. Daily rows are cumulative counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayescausal.data import validate as v
from bayescausal.data.periods import order_key
from bayescausal.errors import DataError

COUNTS = ["visitors", "conversions"]
REVENUE_STATS = ["revenue", "revenue_sq", "purchasers", "log_revenue", "log_revenue_sq"]
REFUND_STATS = ["refunders", "refund", "refund_sq", "log_refund", "log_refund_sq"]  # users with net revenue < 0
CONSISTENCY = "revenue_unconverted"  # users with revenue > 0 but converted = 0 (a count, like every statistic)
WHAT = "A/B data"
EVENT_COLUMNS = ("user", "arm", "converted", "revenue", "timestamp", "segment")
AB_COLUMNS = tuple(dict.fromkeys(("arm", *COUNTS, *REVENUE_STATS, *REFUND_STATS, "segment", "day", *EVENT_COLUMNS)))
COLUMN_HINT = 'map them with --col CANONICAL=YOURS, e.g. --col arm=variant (in a spec: [columns] arm = "variant")'


def validate_aggregated(
    frame: pd.DataFrame,
    columns: dict[str, str] | None = None,
    *,
    metrics: tuple[str, ...] = (),
    products: tuple[tuple[str, str], ...] = (),
    counts: str | None = None,
) -> pd.DataFrame:
    """Check and normalise aggregated A/B rows; returns a clean copy (the input is not modified).

    `columns` maps canonical names to the user's column names, e.g. {"arm": "variant"}; `metrics` are further
    per-user metrics (guardrails), each given as its sum `<metric>` and sum of squares `<metric>_sq`.
    `counts`: how rows with a day read, "cumulative" (totals to date) or "daily" (each day's own counts, summed
    here to date); the frame's `attrs["counts"]` declares it for tables bayescausal built itself.
    """
    counts = counts or frame.attrs.get("counts")
    mapping = {user: canon for canon, user in (columns or {}).items()}
    df = frame.rename(columns=mapping).copy()
    v.require_columns(df, ["arm", *COUNTS], what=WHAT, hint=COLUMN_HINT)
    keys = ["arm"] + [k for k in ("segment", "day") if k in df.columns]
    if df["arm"].isna().any():
        raise DataError(f"{WHAT}: column 'arm' has missing values; every row needs an arm name.")
    df["arm"] = labels(df["arm"], "arm")
    if "segment" in df.columns:
        if df["segment"].isna().any():
            raise DataError(f"{WHAT}: column 'segment' has missing values; label them (e.g. 'unknown').")
        df["segment"] = labels(df["segment"], "segment")
    v.require_numeric_counts(df, COUNTS, what=WHAT)
    v.require_at_most(df, "conversions", "visitors", what=WHAT)
    _require_revenue_stats(df)
    _require_metric_sums(df, metrics, products)
    arms = df["arm"].unique()
    if len(arms) < 2:
        raise DataError(f"{WHAT}: only one arm ({_names(arms)}); an A/B test needs at least two arms to compare.")
    _require_unique_cells(df, keys)
    notes: list[str | None] = []
    totals = df.groupby("arm", sort=False)["visitors"].sum()
    empty = totals.index[totals == 0]
    if len(empty):
        raise DataError(f"{WHAT}: arm(s) {_names(empty)} have no visitors; remove them or check the data export.")
    if "day" in df.columns:
        if df["day"].isna().any():
            raise DataError(f"{WHAT}: column 'day' has missing values ({v.rows(df, df['day'].isna())}).")
        df["day"] = order_key(df["day"], column="day")  # dates in any format, in their true order
        df, note = _to_date(df, counts)
        notes.append(note)
        df, note = _carry_forward(df)
        notes.append(note)
    if "segment" in df.columns:
        df, note = _shared_segments(df)
        notes.append(note)
    df = df.reset_index(drop=True)
    df.attrs["notes"] = [n for n in notes if n]
    return df


TIME_NAMES = {"date", "day", "dt", "ds", "week", "period", "time", "timestamp", "month"}


def _require_unique_cells(df: pd.DataFrame, keys: list[str]) -> None:
    """One row per cell. Several rows per arm in a daily file whose day column has another name ('date') must
    not read as rows to aggregate: summing cumulative counts over days inflates them. Name the column."""
    if "day" not in df.columns and df.duplicated(keys).any() and (column := _day_like_column(df, keys)):
        raise DataError(
            f"{WHAT}: several rows per {' and '.join(keys)}, and column '{column}' holds dates: if each row is "
            f'one day, map it with --col day={column} (in a spec: [columns] day = "{column}") and say how the '
            "counts read (--counts cumulative or --counts daily). Summing the rows would count cumulative totals "
            "once per day."
        )
    v.require_unique(df, keys, what=WHAT)


def _day_like_column(df: pd.DataFrame, keys: list[str]) -> str | None:
    """A column other than the keys and statistics whose values are dates or periods in a known order and
    differ within each cell: the day column under another name."""
    for column in df.columns:
        if column in keys or column in AB_COLUMNS or pd.api.types.is_float_dtype(df[column]):
            continue
        if pd.api.types.is_numeric_dtype(df[column]) and str(column).casefold() not in TIME_NAMES:
            continue  # a number is a period only under a name that says so
        try:
            order_key(df[column], column=column)
        except DataError:
            continue
        if not df.duplicated([*keys, column]).any():
            return column
    return None


def _require_revenue_stats(df: pd.DataFrame) -> None:
    """Revenue sums are consistent: squares beside sums, purchasers <= visitors, refunds stated explicitly."""
    present = [c for c in [*REVENUE_STATS, *REFUND_STATS, CONSISTENCY] if c in df.columns]
    if not present:
        return
    v.require_numeric(df, present, what=WHAT)
    v.require_finite(df, present, what=WHAT)
    refunds = "refunders" in df.columns
    signed = {"log_revenue", "log_refund"} | ({"revenue"} if refunds else set())
    if "revenue" in df.columns and not refunds and (df["revenue"] < 0).any():
        raise DataError(
            f"{WHAT}: 'revenue' is negative in {(df['revenue'] < 0).sum()} row(s) "
            f"({v.rows(df, df['revenue'] < 0)}). Net revenue with refunds needs the refund statistics beside it "
            "(refunders, refund, refund_sq: users with net revenue < 0); give one row per user (--events) and they "
            "are computed for you."
        )
    v.require_nonnegative(df, [c for c in present if c not in signed], what=WHAT)
    if "revenue" in df.columns and "revenue_sq" not in df.columns:
        raise DataError(
            f"{WHAT}: 'revenue' needs 'revenue_sq' (sum of squared order values) beside it, "
            "or give event-level rows and let bayescausal aggregate them."
        )
    if refunds and not {"refund", "refund_sq"} <= set(df.columns):
        raise DataError(f"{WHAT}: 'refunders' needs 'refund' and 'refund_sq' (sums of refund sizes) beside it.")
    if "revenue" in df.columns and "purchasers" not in df.columns:
        df["purchasers"] = df["conversions"]
    for counted in ("purchasers", "refunders"):
        if counted in df.columns:
            v.require_integer(df, [counted], what=WHAT)
            v.require_at_most(df, counted, "visitors", what=WHAT)
    if "revenue" in df.columns and not refunds and ((df["revenue"] > 0) & (df["purchasers"] == 0)).any():
        raise DataError(f"{WHAT}: rows with revenue > 0 but 0 purchasers; purchasers counts orders with revenue > 0.")


def _require_metric_sums(df: pd.DataFrame, metrics: tuple[str, ...], products=()) -> None:
    sums = [c for m in metrics for c in (m, f"{m}_sq")] + [f"{a}*{b}" for a, b in products]
    missing = [c for c in sums if c not in df.columns]
    if missing:
        raise DataError(
            f"{WHAT}: metric column(s) {_names(missing)} are missing. Give one row per user (--events) with the "
            "metric as a column, or per-arm sums '<metric>', sums of squares '<metric>_sq' (and, for a ratio, the "
            "sum of products '<numerator>*<denominator>')."
        )
    v.require_numeric(df, sums, what=WHAT)
    v.require_finite(df, sums, what=WHAT)


def labels(values: pd.Series, column: str) -> pd.Series:
    """Group labels as clean text: surrounding spaces stripped ("A " is "A"); labels that then differ only by
    case ("control" and "Control") are refused, since they are almost always one group typed two ways."""
    text = values.astype(str).str.strip()
    distinct = pd.Series(text.unique())
    folded = distinct.str.casefold()
    clash = distinct[folded.duplicated(keep=False)]
    if len(clash):
        raise DataError(
            f"{WHAT}: {column} labels {_names(sorted(clash))} differ only by upper/lower case; they would be "
            f"analysed as separate {column}s. Make them identical in the data (or map them) and rerun."
        )
    return text


def _names(values) -> str:
    return ", ".join(f"'{x}'" for x in values)


COUNTS_FIX = "declare how they read: --counts cumulative or --counts daily (in a spec: [data] counts = ...)"


def _to_date(df: pd.DataFrame, counts: str | None) -> tuple[pd.DataFrame, str | None]:
    """Rows with a day as counts to date. A file of each day's own counts whose traffic never falls looks
    exactly like a cumulative one, and reading it as cumulative would keep the last day only: so the reading
    is declared, or the file must rule one out (counts that fall cannot be cumulative)."""
    cells = _cell_keys(df)
    ordered = df.sort_values([*cells, "day"], kind="stable")  # the file's own row order is kept: arms by appearance
    falls = (ordered.groupby(cells, sort=False)[COUNTS].diff() < 0).any(axis=1).reindex(df.index)
    if counts is None and df["day"].nunique() > 1:
        first = v.rows(df, falls) if falls.any() else None
        raise DataError(
            f"{WHAT}: the rows have a day, and their counts "
            + (
                f"fall from one day to the next ({first}), so they cannot be cumulative totals; "
                if first
                else "never fall, so they read as cumulative totals to date or as each day's own counts alike; "
            )
            + COUNTS_FIX
        )
    if counts == "daily":
        statistics = [c for c in df.columns if c not in (*cells, "day")]
        df[statistics] = ordered.groupby(cells, sort=False)[statistics].cumsum()  # aligned on the index
        return df, "counts: each day's own counts (declared), summed to date per arm" + (
            " and segment" if "segment" in cells else ""
        )
    if falls.any():
        raise DataError(
            f"{WHAT}: counts declared cumulative fall from one day to the next ({v.rows(df, falls)}); "
            "cumulative totals never fall. If each row holds that day's own counts, declare --counts daily."
        )
    if counts is None:  # a single day: both readings agree
        return df, None
    return df, "counts: cumulative totals to date (declared); the last day holds the totals"


def _cell_keys(df: pd.DataFrame) -> list[str]:
    """The columns that name a cell of counts, besides the day."""
    return ["arm"] + (["segment"] if "segment" in df.columns else [])


def _carry_forward(df: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """Complete a cumulative daily file: a (segment, arm) cell with no row on a later day had no new data that
    day, so its last cumulative counts hold. Without this, a cell missing from the last day would lose its
    whole history. An arm with no row at all on the last day is refused: the decision would rest on a stale
    count that the export may have cut off."""
    cells = _cell_keys(df)
    last_day = df["day"].max()
    absent = sorted(set(df["arm"]) - set(df.loc[df["day"] == last_day, "arm"]))
    if absent:
        raise DataError(
            f"{WHAT}: arm(s) {_names(absent)} have no row on the last day ({_day_text(last_day)}), though other arms "
            "do; cumulative counts need every arm on every day. Re-export that day, or drop it from the file to "
            "analyse up to the day before."
        )
    days = pd.Index(np.sort(df["day"].unique()), name="day")
    first = df.groupby(cells, sort=False)["day"].min()
    grid = pd.DataFrame(
        [(*((key,) if len(cells) == 1 else key), day) for key, start in first.items() for day in days[days >= start]],
        columns=[*cells, "day"],
    )
    full = grid.merge(df, on=[*cells, "day"], how="left", indicator=True)  # cells by first appearance, days in order
    filled = full["_merge"] == "left_only"
    if not filled.any():
        return df, None
    statistics = [c for c in df.columns if c not in (*cells, "day")]
    full[statistics] = full.groupby(cells, sort=False)[statistics].ffill()
    missing = full.loc[filled, [*cells, "day"]]
    shown = ", ".join(
        "(" + ", ".join(str(r[c]) for c in reversed(cells)) + f") on {_day_text(r['day'])}"
        for _, r in missing.head(3).iterrows()
    )
    more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
    note = (
        f"{len(missing)} ({', '.join(reversed(cells))}) row(s) were missing on later days of the cumulative file and "
        f"were read as no new data that day (the last cumulative counts carried forward): {shown}{more}"
    )
    for column in statistics:
        full[column] = full[column].astype(df[column].dtype)
    return full.drop(columns="_merge")[list(df.columns)], note


def _shared_segments(df: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """Arms are compared on the segments every arm has. A segment that only some arms reach (an app only the
    control could open, a country one arm never launched in) would otherwise weigh on those arms' totals alone
    and bias the comparison by the segments' different rates; and it has no data for a per-segment lift."""
    latest = df[df["day"] == df["day"].max()] if "day" in df.columns else df
    visitors = latest.pivot_table(index="segment", columns="arm", values="visitors", aggfunc="sum", fill_value=0)
    visitors = visitors.reindex(columns=list(dict.fromkeys(df["arm"])), fill_value=0)
    partial = visitors[(visitors == 0).any(axis=1)]
    if partial.empty:
        return df, None
    if len(partial) == len(visitors):
        raise DataError(
            f"{WHAT}: no segment has visitors in every arm ({_segment_arms(partial)}), so no segment compares the "
            "arms like with like. Check the segment labels, or drop the segment column to compare the arm totals."
        )
    kept = df[~df["segment"].isin(partial.index)]
    note = (
        f"arms compared on the {len(visitors) - len(partial)} segment(s) every arm has; left out "
        f"{_segment_arms(partial)}: a segment only some arms have would weigh on those arms alone"
    )
    return kept, note


def _segment_arms(partial: pd.DataFrame) -> str:
    """'ios' (only in control: 1,234 visitors), ... for segments that some arms lack."""
    described = []
    for segment, row in partial.head(5).iterrows():
        present = row[row > 0]
        where = ", ".join(f"{arm}: {int(n):,} visitors" for arm, n in present.items()) or "no visitors"
        described.append(f"'{segment}' (only in {where})" if len(present) else f"'{segment}' ({where})")
    more = f" and {len(partial) - 5} more" if len(partial) > 5 else ""
    return ", ".join(described) + more


def _day_text(day) -> str:
    return day.strftime("%Y-%m-%d") if hasattr(day, "strftime") else str(day)


def arm_totals(df: pd.DataFrame) -> pd.DataFrame:
    """One row per arm (in order of first appearance): the latest cumulative day, summed over segments."""
    if "day" in df.columns:
        df = df[df["day"] == df["day"].max()]
    return df.groupby("arm", sort=False)[_statistics(df)].sum()


def _statistics(df: pd.DataFrame) -> list[str]:
    """Every summable column: the counts and sums of each statistic (not the keys)."""
    return [c for c in df.columns if c not in ("arm", "segment", "day") and pd.api.types.is_numeric_dtype(df[c])]


def segment_totals(df: pd.DataFrame) -> pd.DataFrame:
    """Rows per (segment, arm) at the latest day."""
    if "segment" not in df.columns:
        raise DataError(f"{WHAT}: no 'segment' column; segment pooling needs one (e.g. device or country).")
    if "day" in df.columns:
        df = df[df["day"] == df["day"].max()]
    return df.groupby(["segment", "arm"], sort=False)[_statistics(df)].sum().reset_index()


def aggregate_events(
    events: pd.DataFrame,
    *,
    arm: str = "arm",
    converted: str = "converted",
    revenue: str | None = None,
    user: str | None = None,
    timestamp: str | None = None,
    segment: str | None = None,
    metrics: tuple[str, ...] = (),
    covariate: str | None = None,
    products: tuple[tuple[str, str], ...] = (),
) -> pd.DataFrame:
    """Event rows (one per user) -> aggregated sufficient statistics, vectorised (1M rows in ~0.1 s).

    With `timestamp`, rows are per day and cumulative, ready for `ab check`. `metrics`: further per-user
    columns (guardrails), summed with their squares. `covariate`: a pre-treatment column for regression
    adjustment, summed with its square and its products with converted and revenue.
    """
    if covariate:
        metrics = (*metrics, covariate)
    _require_metric_columns(events, metrics)
    v.require_columns(
        events,
        [c for c in (arm, converted, revenue, user, timestamp, segment) if c],
        what="A/B events",
        hint=COLUMN_HINT,
    )
    numeric = [converted] + ([revenue] if revenue else [])
    if pd.api.types.is_bool_dtype(events[converted]):  # True/False is a 0/1 conversion
        events = events.assign(**{converted: events[converted].astype(np.int8)})
    v.require_numeric(events, numeric, what="A/B events")
    v.require_finite(events, numeric, what="A/B events")
    v.require_representable(events, numeric, what="A/B events")
    v.require_nonnegative(events, [converted], what="A/B events")  # revenue may be net of refunds: signed
    conv = events[converted].to_numpy(dtype=float)
    if not np.isin(conv, (0.0, 1.0)).all():
        raise not_binary(converted)
    keys = _grouping(events, arm=arm, user=user, segment=segment, timestamp=timestamp)
    sizes = [len(names) for _, names in keys.values()]
    flat = np.ravel_multi_index([codes for codes, _ in keys.values()], sizes)
    n_cells = int(np.prod(sizes))

    def total(values=None):
        return np.bincount(flat, values, n_cells)

    stats = {"visitors": total(), "conversions": total(conv)}
    if revenue:
        stats |= _revenue_sums(events[revenue].to_numpy(dtype=float), conv, total)
    crossed = [(a, b, f"{a}*{b}") for a, b in products]  # named by the canonical statistic they pair with
    if covariate:
        crossed += [(covariate, converted, f"{covariate}*conversions")]
        crossed += [(covariate, revenue, f"{covariate}*revenue")] if revenue else []
    stats |= _metric_sums(events, metrics, crossed, total)
    return _cells(keys, sizes, stats, cumulative=bool(timestamp))


def _require_metric_columns(events: pd.DataFrame, metrics: tuple[str, ...]) -> None:
    if missing := [m for m in metrics if m not in events.columns]:
        raise missing_metrics(missing, list(events.columns))
    what = "A/B events (guardrails, covariate)"
    v.require_numeric(events, list(metrics), what=what)
    v.require_finite(events, list(metrics), what=what)
    v.require_representable(events, list(metrics), what=what)


def _timestamps(values: pd.Series) -> pd.Series:
    """Event times; times with UTC offsets (which change at a daylight-saving switch) are read in UTC."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.tz_convert("UTC").dt.tz_localize(None) if values.dt.tz is not None else values
    # utc=True: offsets are converted (mixed ones no longer raise), times without one are kept as they are
    return pd.to_datetime(values.astype(str).str.strip(), errors="coerce", utc=True).dt.tz_localize(None)


def _grouping(events: pd.DataFrame, *, arm: str, user, segment, timestamp) -> dict:
    """Integer codes and labels of each grouping key: arm, and segment and day where given."""
    arm_codes, arm_names = _codes(events[arm], column=arm)
    if user:
        _require_one_arm_per_user(events[user], arm_codes)
    keys = {"arm": (arm_codes, arm_names)}
    if segment:
        keys["segment"] = _codes(events[segment], column=segment, sort=True)
    if timestamp:
        days = _timestamps(events[timestamp])
        if days.isna().any():
            raise DataError(f"A/B events: '{timestamp}' has unparseable timestamps ({days.isna().sum()} rows).")
        keys["day"] = pd.factorize(days.dt.normalize(), sort=True)
    return keys


def _metric_sums(events: pd.DataFrame, metrics, crossed, total) -> dict[str, np.ndarray]:
    """Sum and sum of squares of each metric, and the sum of products of each crossed (a, b, name) pair."""
    stats = {}
    for metric in metrics:
        value = events[metric].to_numpy(dtype=float)
        stats |= {metric: total(value), f"{metric}_sq": total(value**2)}
    for a, b, name in crossed:
        stats[name] = total(events[a].to_numpy(dtype=float) * events[b].to_numpy(dtype=float))
    return stats


def _cells(keys: dict, sizes: list[int], stats: dict, *, cumulative: bool) -> pd.DataFrame:
    """One row per cell of the key grid, counts as integers; with days, cumulative within each group."""
    grid = np.unravel_index(np.arange(int(np.prod(sizes))), sizes)
    out = pd.DataFrame(
        {name: np.asarray(names)[idx] for (name, (_, names)), idx in zip(keys.items(), grid, strict=True)}
    )
    for name, values in stats.items():
        out[name] = values
    for count in ("visitors", "conversions", "purchasers", "refunders", CONSISTENCY):
        if count in out.columns:
            out[count] = out[count].astype(np.int64)
    if cumulative:
        group = [k for k in keys if k != "day"]
        out = out.sort_values([*group, "day"]).reset_index(drop=True)
        out[list(stats)] = out.groupby(group, sort=False)[list(stats)].cumsum()
        out.attrs["counts"] = "cumulative"  # summed to date here, so the reading is known
    return out


def _revenue_sums(value: np.ndarray, conv: np.ndarray, total) -> dict[str, np.ndarray]:
    """Per-cell sums for the revenue model: purchases (value > 0) with their log sums; refunds (value < 0: net
    revenue below zero), only when there are any; and the users with revenue but converted = 0."""
    bought, refunded = value > 0, value < 0
    log_value = np.log(np.where(bought, value, 1.0))
    stats = {
        "revenue": total(value),
        "revenue_sq": total(value**2),
        "purchasers": total(bought),
        "log_revenue": total(log_value),
        "log_revenue_sq": total(log_value**2),
        CONSISTENCY: total(bought & (conv == 0)),
    }
    if refunded.any():
        size = np.where(refunded, -value, 0.0)
        log_size = np.log(np.where(refunded, size, 1.0))
        stats |= {
            "refunders": total(refunded),
            "refund": total(size),
            "refund_sq": total(size**2),
            "log_refund": total(log_size),
            "log_refund_sq": total(log_size**2),
        }
    return stats


def _codes(values: pd.Series, *, column: str, sort: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and labels of a grouping column (free for categoricals)."""
    if values.isna().any():
        raise missing_labels(column, int(values.isna().sum()))
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, names = values.cat.codes.to_numpy(), values.cat.categories.to_numpy()
    else:
        codes, names = pd.factorize(values)
    # clean the distinct labels only (cheap at any row count), then merge those that became equal
    merged, clean = pd.factorize(labels(pd.Series(names), column), sort=sort)
    return merged[codes], np.asarray(clean)


def _require_one_arm_per_user(users: pd.Series, arm_codes: np.ndarray) -> None:
    """Every user in exactly one arm and one row (checked in O(n) with bincount: arm code variance per user)."""
    values = users.to_numpy()
    if values.dtype.kind in "iu" and values.size and values.min() >= 0 and values.max() < 4 * values.size:
        user_codes, user_names = values, np.arange(values.max() + 1)  # dense integer ids: no hashing needed
    else:
        user_codes, user_names = pd.factorize(users)
    a = arm_codes.astype(float)
    n = np.bincount(user_codes)
    s = np.bincount(user_codes, a)
    ss = np.bincount(user_codes, a * a)
    mixed = np.flatnonzero(n * ss - s * s > 0.5)  # zero for users seen in one arm only (or never)
    if mixed.size:
        raise mixed_users(mixed.size, sorted(user_names[mixed])[:3])
    repeated = np.flatnonzero(n > 1)
    if repeated.size:
        raise repeated_users(repeated.size, sorted(user_names[repeated])[:3])


# The event-level errors, worded once for the in-memory path here and the engine path (bayescausal.ab.queries).
def missing_metrics(missing: list[str], columns: list[str]) -> DataError:
    return DataError(
        f"A/B events: guardrail or covariate column(s) {_names(missing)} are not columns of the data "
        f"(columns: {_names(columns[:20])}); name a per-user column, e.g. --guardrail refunds:lower:0.01"
    )


def missing_labels(column: str, n: int) -> DataError:
    return DataError(f"A/B events: column '{column}' has {n} missing values; label or drop them.")


def not_binary(converted: str) -> DataError:
    return DataError(f"A/B events: '{converted}' must be 0/1 (or True/False) per user.")


def mixed_users(n: int, first: list) -> DataError:
    return DataError(
        f"A/B events: {n} user(s) appear in more than one arm (e.g. {_names(_plain(first))}); "
        "exposure is contaminated. Drop those users or keep each user's first assignment."
    )


def repeated_users(n: int, first: list) -> DataError:
    return DataError(
        f"A/B events: {n} user(s) have more than one row (e.g. {_names(_plain(first))}); events need one row per "
        "user, or each would count as several users. Sum each user's rows first (revenue summed, converted = 1 if "
        "any row converted)."
    )


def _plain(values: list) -> list:
    """numpy scalars as Python values: the same text whichever engine found them."""
    return [x.item() if hasattr(x, "item") else x for x in values]


def spread_over_days(events: pd.DataFrame, *, days: int, seed: int = 0) -> pd.Series:
    """Assign each row a random day 1..days (in a seeded random arrival order): lets a finished
    experiment without timestamps be replayed look by look with `ab check`."""
    if days < 1:
        raise DataError(f"days must be >= 1, got {days}")
    order = np.random.default_rng(seed).permutation(len(events))
    day = np.empty(len(events), dtype=np.int64)
    day[order] = 1 + (np.arange(len(events)) * days) // max(len(events), 1)
    return pd.Series(pd.Timestamp("2000-01-01") + pd.to_timedelta(day - 1, unit="D"), index=events.index, name="day")
