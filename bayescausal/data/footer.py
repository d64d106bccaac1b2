"""What Parquet footers say without reading a row: the row count and each column's range.

A family that needs the largest |value| before it sums (bayescausal.data.engine.exact_sum fixes its scale from
it) would otherwise read the rows twice. Footers hold every row group's min and max, so for Parquet files the
checks can ride along in the one GROUP BY instead (bayescausal.ab.queries). Anything a footer cannot vouch
for (a CSV, a warehouse table, a column without statistics, a hive partition column) returns None, and the
caller makes its checking pass as before.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

from bayescausal.data.engine import PARQUET, Scan


@dataclass(frozen=True)
class Ranges:
    rows: int
    columns: dict[str, tuple[float, float]]  # (min, max) over every row group, of the numeric columns asked for
    nulls: dict[str, int]  # missing values, of every column asked for


def parquet_files(scan: Scan) -> list[Path] | None:
    """The Parquet files behind an unmodified scan of a file, folder or glob (None for anything else)."""
    where = scan.location
    if where.table or where.url or not where.path or scan.table is not scan.opened:
        return None
    path = Path(where.path)
    if "*" in where.path:
        files = [Path(f) for f in sorted(glob.glob(where.path, recursive=True))]
    elif path.is_dir():
        files = sorted(path.rglob("*.parquet"))
    else:
        files = [path]
    return files if files and all(f.suffix.lower() in PARQUET for f in files) else None


def parquet_ranges(scan: Scan, numeric: list[str], labels: tuple[str, ...] = ()) -> Ranges | None:
    """Rows, (min, max) of the `numeric` columns and the missing values of those and the `labels`, from the
    footers; None when any footer cannot say (NaN never enters a footer's range: a float column still needs
    its rows counted for NaN)."""
    files = parquet_files(scan)
    if files is None:
        return None
    import pyarrow.parquet as pq

    rows, ranges, nulls = 0, {}, dict.fromkeys((*numeric, *labels), 0)
    try:
        for file in files:
            meta = pq.ParquetFile(file).metadata
            rows += meta.num_rows
            index = {meta.schema.column(i).path: i for i in range(meta.num_columns)}
            if any(c not in index for c in nulls):
                return None
            for group in range(meta.num_row_groups):
                for col in nulls:
                    stats = meta.row_group(group).column(index[col]).statistics
                    if stats is None or not stats.has_null_count or (col in numeric and not stats.has_min_max):
                        return None
                    nulls[col] += stats.null_count
                    if col in numeric:
                        lo, hi = ranges.get(col, (float("inf"), float("-inf")))
                        ranges[col] = (min(lo, float(stats.min)), max(hi, float(stats.max)))
    except (OSError, ValueError, TypeError):  # unreadable footers, non-numeric statistics: make the pass
        return None
    return Ranges(rows, ranges, nulls) if rows else None
