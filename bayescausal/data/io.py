"""Read CSV and Parquet tables (never modifying the user's files) and fingerprint data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from bayescausal.data.validate import ROWS_ARE
from bayescausal.errors import DataError

READERS = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame, with an error that says what went wrong."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file not found: {path} (check the path; it is relative to where you run the command)")
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise DataError(f"cannot read {path.name}: use a .csv or .parquet file (got '{path.suffix}')")
    try:
        frame = reader(path)
    except Exception as exc:  # the reader's own message is the useful part
        raise DataError(f"could not parse {path}: {exc}") from exc
    if frame.empty:
        raise DataError(f"{path} has no rows: nothing to analyse")
    frame.attrs[ROWS_ARE] = "csv" if path.suffix.lower() == ".csv" else "parquet"  # errors name file lines
    return frame


def statistics_fingerprint(frame: pd.DataFrame) -> str:
    """A hash of sufficient statistics, floats to 12 significant digits: the same sums give the same
    fingerprint whether they were added in memory or by an engine (whose last bits may differ)."""
    rounded = frame.reset_index(drop=True).copy()
    for col in rounded.select_dtypes("float").columns:
        rounded[col] = [float(f"{x:.12g}") for x in rounded[col]]
    return fingerprint(rounded)


def array_fingerprint(*arrays: np.ndarray, block: int = 1 << 22) -> str:
    """A content hash of dense arrays (a 1M x 104 panel), a block at a time. The engines' sums are exact, so a
    panel summed by DuckDB or by Spark hashes alike; one added in memory agrees with them to the last bits
    only, and a hash cannot round 100M numbers without some landing on a rounding boundary."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.asarray(a)
        h.update(f"{a.dtype.kind}{a.shape}".encode())
        if a.dtype == object:
            h.update(repr(a.tolist()).encode())
            continue
        flat = a.reshape(-1)
        for lo in range(0, len(flat), block):
            h.update(np.ascontiguousarray(flat[lo : lo + block]).tobytes())
    return "sha256:" + h.hexdigest()[:16]


def fingerprint(frame: pd.DataFrame) -> str:
    """A stable content hash of a table (values, column names, dtypes): same data, same fingerprint."""
    h = hashlib.sha256()
    h.update(",".join(map(str, frame.columns)).encode())
    h.update(",".join(map(str, frame.dtypes)).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
    return "sha256:" + h.hexdigest()[:16]
