"""Unit x period sums where the rows live: one GROUP BY (unit, period) in the engine, streamed into dense
arrays. Transaction lines become a household x week spend panel this way, and a long panel's rows its
cells, without the rows entering Python; only the sums travel (at most units x periods numbers).

Memory: the dense arrays (8 bytes per unit-period each) plus one streamed batch; DuckDB's GROUP BY runs
under bayescausal.data.engine.DUCKDB_MEMORY and spills to disk beyond it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayescausal.data import engine_checks as q
from bayescausal.data import validate as v
from bayescausal.data.engine import Scan, exact_sum
from bayescausal.data.periods import order_key
from bayescausal.errors import DataError


@dataclass
class Cells:
    """sums[name][i, t]: the sum of a column over the rows of unit i in period t (zero where none), with
    `count` rows in each cell; units sorted, periods in their true order (bayescausal.data.periods)."""

    units: np.ndarray
    periods: np.ndarray
    sums: dict[str, np.ndarray]
    count: np.ndarray
    rows: int


def unit_period_sums(
    scan: Scan,
    *,
    unit: str,
    time: str,
    values: dict[str, object],
    what: str,
    hint: str,
    time_format: str | None = None,
    where=None,
    units: np.ndarray | None = None,
) -> Cells:
    """`values`: name -> a column name, or a function of the table giving a numeric expression (already
    checked by the caller); every named column is checked in the engine (present, numeric, finite).
    `where`: a predicate on the table, for the rows to sum; `units`: the sorted units of the grid, when the
    caller knows more than the summed rows show (households with no line in the rows kept)."""
    t = scan.table if where is None else scan.table.filter(where)
    columns = [c for c in values.values() if isinstance(c, str)]
    v.require_columns(scan, [unit, time, *columns], what=what, hint=hint)
    q.require_numeric(scan, columns, what=what)
    rules = [q.finite(c, scan) for c in columns] + [q.representable(c) for c in columns]
    flags = {"rows": t.count(), "largest": q.largest(t, columns)} | {
        f"missing_{col}": t[col].isnull().cast("int64").sum() for col in (unit, time)
    }
    found = q.enforce(scan, rules, what=what, keys=[unit, time], also=flags, table=t)
    for col in (unit, time):
        if n := int(found[f"missing_{col}"] or 0):
            raise DataError(f"{what}: column '{col}' has missing values ({n} rows). Fill or drop them.")
    rows, largest = int(found["rows"]), float(found["largest"] or 1.0)
    scan.rows = rows
    units = _distinct(scan, t, unit) if units is None else units
    raw_periods = _distinct(scan, t, time)
    keys = order_key(pd.Series(raw_periods), column=time, time_format=time_format).to_numpy()
    ordered, first, position = np.unique(keys, return_index=True, return_inverse=True)
    total = exact_sum(rows, scan.location.engine_name)
    exprs = {name: total(_expr(t, col), largest) for name, col in values.items()}
    cells = t.group_by(_u=t[unit], _t=t[time]).agg(_n=t.count(), **exprs)
    shape = (len(units), len(ordered))
    sums = {name: np.zeros(shape) for name in values}
    count = np.zeros(shape, dtype=np.int32)  # rows per cell: 0, 1 or more is all the checks need
    merged = len(ordered) < len(raw_periods)  # labels with one period key (' week1', 'week1') share a column
    for batch in scan.batches(cells, "summing rows per unit and period"):
        flat = _positions(units, batch["_u"]) * shape[1] + position[np.searchsorted(raw_periods, batch["_t"])]
        for name, target in (("_n", count), *((name, sums[name]) for name in values)):
            if merged:
                np.add.at(target.reshape(-1), flat, batch[name])
            else:
                target.reshape(-1)[flat] = batch[name]
    return Cells(units, raw_periods[first], sums, count, rows)


def _positions(sorted_values: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Where each value sits in `sorted_values`: an offset for a run of consecutive integer ids (household
    numbers usually are), a binary search otherwise."""
    first, last = sorted_values[0], sorted_values[-1]
    if sorted_values.dtype.kind in "iu" and last - first + 1 == len(sorted_values):
        return values - first
    return np.searchsorted(sorted_values, values)


def _expr(t, col):
    return t[col].cast("float64") if isinstance(col, str) else col(t)


def _distinct(scan: Scan, t, col: str) -> np.ndarray:
    """Sorted here, not in the engine: numpy's order is the one `searchsorted` needs, whatever the collation."""
    return np.unique(scan.column(t.select(col).distinct(), col, f"listing the distinct {col} values"))
