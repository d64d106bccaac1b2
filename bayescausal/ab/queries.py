"""A/B sufficient statistics computed where the rows live (bayescausal.data.engine): one GROUP BY over arm
(x segment x day) gives exactly the table `aggregate_events` builds from a DataFrame, and the boundary
checks run as counting queries with the same messages. 100M event rows never enter Python."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayescausal.ab.data import (
    COLUMN_HINT,
    CONSISTENCY,
    COUNTS,
    WHAT,
    _cells,
    labels,
    missing_labels,
    missing_metrics,
    mixed_users,
    not_binary,
    repeated_users,
)
from bayescausal.data import engine_checks as q
from bayescausal.data import validate as v
from bayescausal.data.engine import Scan, exact_sum
from bayescausal.errors import DataError

EVENTS = "A/B events"
LOG_BOUND = 100.0  # |log(order value)| for any amount between 1e-43 and 1e43
ORDER_SAMPLE = 100_000  # rows read in the engine's scan order to find which arm appears first (the default control)


def event_statistics(
    scan: Scan,
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
    """The per-cell sums of `aggregate_events`, from one query in the engine (same arguments, same table)."""
    if covariate:
        metrics = (*metrics, covariate)
    _booleans_as_counts(scan, converted)
    given = (arm, converted, revenue, segment, timestamp, metrics)
    one_pass = _in_one_pass(scan, *given)
    rows, largest, refunds, counts = one_pass or (*_check_events(scan, *given), {})
    if user:
        _check_users(scan, user, arm)
    t = scan.table
    total, squared = exact_sum(rows, scan.location.engine_name), largest * largest
    keys = (
        {"arm": _label(t, arm)}
        | ({"segment": _label(t, segment)} if segment else {})
        | ({"day": _day(t, timestamp)} if timestamp else {})
    )
    conv = t[converted].cast("float64")
    sums = {"visitors": t.count(), "conversions": conv.cast("int64").sum()}
    if revenue:
        sums |= _revenue_sums(t[revenue].cast("float64"), conv, total, largest, refunds=refunds)
    crossed = [(a, b, f"{a}*{b}") for a, b in products]
    if covariate:
        crossed += [(covariate, converted, f"{covariate}*conversions")]
        crossed += [(covariate, revenue, f"{covariate}*revenue")] if revenue else []
    for metric in metrics:
        value = t[metric].cast("float64")
        sums |= {metric: total(value, largest), f"{metric}_sq": total(value * value, squared)}
    for a, b, name in crossed:
        sums[name] = total(t[a].cast("float64") * t[b].cast("float64"), squared)
    cells = scan.fetch(t.group_by(**keys).agg(**sums, **counts), "summing events per arm")
    if counts and cells[list(counts)].to_numpy().sum():  # a check failed: the checking pass names it as usual
        _check_events(scan, *given)
    cells = cells.drop(columns=list(counts))
    return _to_grid(cells, list(keys), _arm_order(scan, arm), cumulative=bool(timestamp))


def _booleans_as_counts(scan: Scan, converted: str) -> None:
    """A true/false (or yes/no, which CSV readers type as BOOLEAN) `converted` column is 1/0, as in Parquet."""
    t = scan.table
    if converted in t.columns and t.schema()[converted].is_boolean():
        import ibis

        flag = t[converted]  # not a cast, which DuckDB pushes into its CSV reader; a missing value stays missing
        scan.table = t.mutate(**{converted: ibis.cases((flag, 1), (~flag, 0))})


def _label(t, column: str):
    """Text labels stripped in the engine, as `labels` strips them: "A " and "A" are one cell of exact sums
    there, not two cells whose rounded sums would be added again here."""
    return t[column].strip() if t.schema()[column].is_string() else t[column]


def _day(t, timestamp: str):
    return t[timestamp].cast("timestamp").truncate("D")


def _revenue_sums(value, conv, total, largest: float, *, refunds: bool) -> dict:
    """The sums `aggregate_events` keeps for the revenue model, as engine expressions; the refund statistics
    only when the check pass counted refunds (as `aggregate_events` keeps them only then)."""
    bought = value > 0
    log_value = bought.ifelse(value.log(), 0.0)
    sums = {
        "revenue": total(value, largest),
        "revenue_sq": total(value * value, largest**2),
        "purchasers": bought.cast("int64").sum(),
        "log_revenue": total(log_value, LOG_BOUND),
        "log_revenue_sq": total(log_value * log_value, LOG_BOUND**2),
        CONSISTENCY: (bought & (conv == 0)).cast("int64").sum(),
    }
    if not refunds:
        return sums
    refunded = value < 0
    size = refunded.ifelse(-value, 0.0)
    log_size = refunded.ifelse(size.log(), 0.0)
    return sums | {
        "refunders": refunded.cast("int64").sum(),
        "refund": total(size, largest),
        "refund_sq": total(size * size, largest**2),
        "log_refund": total(log_size, LOG_BOUND),
        "log_refund_sq": total(log_size * log_size, LOG_BOUND**2),
    }


def _to_grid(cells: pd.DataFrame, keys: list[str], arms: list, *, cumulative: bool) -> pd.DataFrame:
    """The engine's non-empty cells on the full key grid (empty cells are zeros), keyed like `_cells`."""
    grid, sizes = {}, []
    for key in keys:
        values = cells[key]
        if values.isna().any():
            raise missing_labels(key, int(values.isna().sum()))
        if key == "day":
            names = np.sort(pd.to_datetime(values).unique())
            codes = np.searchsorted(names, pd.to_datetime(values).to_numpy())
        else:
            clean = labels(values, key)
            first = [a for a in dict.fromkeys(arms) if a in set(clean)] if key == "arm" else []
            names = np.asarray(first + sorted(set(clean) - set(first)), dtype=object)
            codes = pd.Index(names).get_indexer(clean)
        grid[key] = (codes, names)
        sizes.append(len(names))
    flat = np.ravel_multi_index([c for c, _ in grid.values()], sizes)
    summed = cells.drop(columns=keys).groupby(flat).sum()  # labels the engine could not merge (rare)
    if summed.isna().any().any():
        raise DataError(f"{EVENTS}: a sum overflowed in the engine; rescale the metric columns (e.g. to thousands)")
    stats = {}
    for column in summed.columns:
        stats[column] = np.zeros(int(np.prod(sizes)))
        stats[column][summed.index] = summed[column].astype(float)
    return _cells(grid, sizes, stats, cumulative=cumulative)


def _arm_order(scan: Scan, arm: str) -> list:
    """Arms in the order the table's first rows show them: the default control is the first arm, as it is
    for a DataFrame. (A warehouse table has no row order: name --control there.)"""
    head = scan.fetch(scan.table.select(arm).limit(ORDER_SAMPLE), "reading the arm order")[arm]
    return list(labels(head.dropna(), "arm").unique())


def _check_events(scan: Scan, arm, converted, revenue, segment, timestamp, metrics) -> tuple[int, float, bool]:
    """Every per-row check of `aggregate_events`, counted in the engine in one pass, in the same order; returns
    the rows, the largest |value| (which fixes the exact sums' scale) and whether any revenue is negative."""
    rules, flags = _row_checks(scan, arm, converted, revenue, segment, timestamp, metrics)
    t = scan.table
    numeric = [c for c in (converted, revenue, *metrics) if c]
    flags |= {
        "rows": t.count(),
        "largest": q.largest(t, numeric),
    }
    if revenue:
        flags["refunds"] = (t[revenue].cast("float64") < 0).cast("int64").sum()
    found = q.enforce(scan, rules, what=EVENTS, keys=[arm], also=flags)
    _raise_flags(found, converted, arm, segment, timestamp)
    return int(found["rows"]), float(found["largest"]), bool(found.get("refunds"))


def _row_checks(scan: Scan, arm, converted, revenue, segment, timestamp, metrics) -> tuple[list, dict]:
    """The schema checks (no rows read), and the per-row rules and flags to count."""
    given = [c for c in (arm, converted, revenue, segment, timestamp) if c]
    if missing := [m for m in metrics if m not in scan.columns]:
        raise missing_metrics(missing, list(scan.columns))
    v.require_columns(scan, given, what=EVENTS, hint=COLUMN_HINT)
    numeric = [converted] + ([revenue] if revenue else [])
    q.require_numeric(scan, numeric + list(metrics), what=EVENTS, booleans=(converted,))
    rules = [q.finite(c, scan) for c in (*numeric, *metrics)] + [q.representable(c) for c in (*numeric, *metrics)]
    rules.append(q.nonnegative(converted))
    t = scan.table
    flags = {
        "binary": (~t[converted].cast("float64").isin([0.0, 1.0])).cast("int64").sum(),
        "arm": t[arm].isnull().cast("int64").sum(),
    }
    if segment:
        flags["segment"] = t[segment].isnull().cast("int64").sum()
    if timestamp:
        flags["timestamp"] = (t[timestamp].try_cast("timestamp").isnull()).cast("int64").sum()
    return rules, flags


def _raise_flags(found: dict, converted, arm, segment, timestamp) -> None:
    if found["binary"]:
        raise not_binary(converted)
    for key, column in (("arm", arm), ("segment", segment)):
        if found.get(key):
            raise missing_labels(column, int(found[key]))
    if found.get("timestamp"):
        raise DataError(f"{EVENTS}: '{timestamp}' has unparseable timestamps ({int(found['timestamp'])} rows).")


def _in_one_pass(scan: Scan, arm, converted, revenue, segment, timestamp, metrics):
    """With Parquet footers to give the row count and each column's range and missing values
    (bayescausal.data.footer), the checks the footers cannot settle ride along in the GROUP BY as per-cell
    counts: one scan of the rows instead of two. Returns (rows, largest, refunds, counts to verify), or None
    when the footers cannot say (a CSV, a warehouse, no statistics)."""
    from bayescausal.data.footer import parquet_ranges

    numeric = [c for c in (converted, revenue, *metrics) if c]
    ranges = parquet_ranges(scan, numeric, tuple(c for c in (arm, segment) if c))
    if ranges is None:
        return None
    rules, flags = _row_checks(scan, arm, converted, revenue, segment, timestamp, metrics)
    t = scan.table
    counts = {r.name: r.bad(t).fill_null(False).cast("int64").sum() for r in rules if not _settled(r, ranges, t)}
    whole = not t.schema()[converted].is_floating()
    settled = {"arm": not ranges.nulls[arm], "segment": segment and not ranges.nulls[segment]}
    settled["binary"] = whole and ranges.columns[converted][0] >= 0 and ranges.columns[converted][1] <= 1
    counts |= {f"problem_{k}": flag for k, flag in flags.items() if not settled.get(k)}  # not named like a key
    largest = max([1.0] + [max(abs(lo), abs(hi)) for lo, hi in ranges.columns.values()])
    refunds = bool(revenue) and ranges.columns[revenue][0] < 0
    return ranges.rows, largest, refunds, counts


def _settled(rule, ranges, t) -> bool:
    """Whether the footers alone show that no row breaks `rule`."""
    lo, hi = ranges.columns[rule.col]
    if rule.kind == "representable":
        return max(abs(lo), abs(hi)) <= rule.fields["limit"]
    if rule.kind == "nonnegative":
        return lo >= 0
    if rule.kind == "finite":  # NaN is in no footer's range: only a whole-number column is settled by it
        return not ranges.nulls[rule.col] and not t.schema()[rule.col].is_floating()
    return False


def _check_users(scan: Scan, user: str, arm: str) -> None:
    """Every user in one arm and one row. As many distinct users as rows settles it (one hash pass, 5x cheaper
    than grouping, while the distinct users fit in the engine's memory: DuckDB's COUNT DISTINCT cannot spill);
    otherwise one GROUP BY user, which spills to disk, counts the users that break either rule, and names some."""
    t = scan.table
    try:
        seen = scan.one_row(t.agg(rows=t.count(), users=t[user].nunique()), "checking one row per user")
    except Exception as exc:  # noqa: BLE001 (each engine has its own out-of-memory error)
        if "memory" not in str(exc).lower():
            raise
        scan.progress("too many users to count in memory: grouping by user instead (spills to disk)")
        seen = {"rows": 0, "users": -1}
    if seen["rows"] == seen["users"]:  # distinct users exclude missing ones: equal means none is missing either
        return
    per_user = t.group_by(user).agg(rows=t.count(), first=t[arm].min(), last=t[arm].max())  # min/max: spillable
    mixed = per_user["first"] != per_user["last"]
    found = scan.one_row(
        per_user.agg(mixed=mixed.cast("int64").sum(), repeated=(per_user.rows > 1).cast("int64").sum()),
        "checking one row per user",
    )
    for kind, bad, error in (
        ("mixed", mixed, mixed_users),
        ("repeated", per_user.rows > 1, repeated_users),
    ):
        if found[kind]:
            first = scan.fetch(per_user.filter(bad).select(user).order_by(user).limit(3), "examples")[user]
            raise error(int(found[kind]), list(first))


def aggregated_rows(scan: Scan, columns: dict[str, str] | None) -> pd.DataFrame:
    """Aggregated A/B rows (one per arm, segment, day): the count checks run in the engine, then the rows (few by
    nature) come back for `validate_aggregated`."""
    t = scan.table
    mapping = {canon: yours for canon, yours in (columns or {}).items() if yours in t.columns and canon != yours}
    if mapping:
        scan.table = t = t.rename(mapping)
    v.require_columns(scan, ["arm", *COUNTS], what=WHAT, hint=COLUMN_HINT)
    q.require_numeric(scan, COUNTS, what=WHAT)
    keys = [k for k in ("arm", "segment", "day") if k in t.columns]
    rules = [rule for c in COUNTS for rule in q.counts(c, scan)] + [q.at_most("conversions", "visitors")]
    q.enforce(scan, rules, what=WHAT, keys=keys)
    return scan.fetch(t, "reading the aggregated rows")


def require_ratio_in_engine(scan: Scan, ratio) -> None:
    """`require_ratio_rows`, counted in the engine."""
    from bayescausal.ab.ratio import ratio_rows_check

    def orphaned(t):
        return (t[ratio.denominator] == 0) & (t[ratio.numerator] != 0)

    t = scan.table
    negative = (t[ratio.denominator] < 0).cast("int64").sum()
    found = scan.one_row(t.agg(negative=negative, orphans=orphaned(t).cast("int64").sum()), "ratio")
    where = q.examples(scan, orphaned, list(scan.columns[:1]))
    ratio_rows_check(ratio, int(found["negative"] or 0), int(found["orphans"] or 0), where.removeprefix("e.g. "))
