"""The data a spec names, read once at the boundary: a shipped dataset, a CSV/Parquet file, or a DataFrame
handed to the Python API. Every family's loader starts here, so provenance is described the same way."""

from __future__ import annotations

import pandas as pd

from bayescausal.data.engine import Location, Scan, open_scan
from bayescausal.data.io import fingerprint, read_table
from bayescausal.family import Progress, quiet
from bayescausal.result import Source


def read_source(
    spec, frame: pd.DataFrame | None = None, *, in_engine: bool = False, progress: Progress = quiet
) -> tuple[pd.DataFrame | Scan, Source]:
    """The spec's table and where it came from (description, content fingerprint, rows).

    `in_engine`: the family aggregates in the engine, so a file, folder, glob or engine table comes back as a
    Scan to query (its provenance is `Scan.source(...)` once the statistics are in); DataFrames and shipped
    datasets stay in memory."""
    if in_engine and frame is None and "dataset" not in spec.data:
        location = Location.from_data(spec.data)
        return open_scan(location, progress=progress), Source(location.describe())
    if frame is not None:
        if not isinstance(frame, pd.DataFrame):
            from bayescausal.errors import DataError

            raise DataError(f"data must be a pandas DataFrame or a path to a CSV/Parquet file, got {type(frame)}")
        description = f"a DataFrame passed to the Python API ({len(frame):,} rows)"
    elif "dataset" in spec.data:
        from bayescausal.datasets import load_dataset

        frame, text = load_dataset(spec.data["dataset"])
        description = f"dataset '{spec.data['dataset']}': {text}"
    else:
        path = spec.data_path()
        frame, description = read_table(path), str(path)
    return frame, Source(description, fingerprint(frame), len(frame))


def describe(description: str, frame: pd.DataFrame) -> Source:
    """A Source for a table a family built itself (a panel, a household table)."""
    return Source(description, fingerprint(frame), len(frame))
