"""Small validators for the data boundary. Each raises DataError naming the problem and the fix."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from bayescausal.errors import DataError


def _show(values: Iterable, limit: int = 5) -> str:
    values = list(values)
    text = ", ".join(map(repr, values[:limit]))
    return text + (f" ... ({len(values)} in all)" if len(values) > limit else "")


ROWS_ARE = "rows_are"  # frame.attrs key: "csv" (index i is file line i + 2) or "parquet" (row i + 1)


def rows(frame: pd.DataFrame, mask) -> str:
    """Where the flagged rows are, in the user's terms: file lines of a CSV (the header is line 1), 1-based
    rows of a Parquet file, or index labels of a DataFrame."""
    index = frame.index[np.asarray(mask, dtype=bool)]
    kind = frame.attrs.get(ROWS_ARE)
    if kind == "csv" and pd.api.types.is_integer_dtype(index):
        return f"file lines {_show(int(i) + 2 for i in index)}"
    if kind == "parquet" and pd.api.types.is_integer_dtype(index):
        return f"rows {_show(int(i) + 1 for i in index)} of the file (1-based)"
    return f"index labels {_show(index)}"


def require_columns(
    frame: pd.DataFrame,
    required: Iterable[str],
    *,
    what: str = "data",
    hint: str = "rename the columns, or map them in the spec's [columns] table",
) -> None:
    """`hint`: how this family maps columns (its flags), named in the message."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(
            f"{what}: missing column(s) {_show(missing)}. Expected {_show(list(required), 20)}; "
            f"found {_show(list(frame.columns), 20)}. To fix: {hint}."
        )


def require_numeric(frame: pd.DataFrame, columns: Iterable[str], *, what: str = "data") -> None:
    for col in columns:
        if not pd.api.types.is_numeric_dtype(frame[col]) or pd.api.types.is_bool_dtype(frame[col]):
            bad = pd.to_numeric(frame[col], errors="coerce").isna() & frame[col].notna()
            example = _show(frame.loc[bad, col].unique()) if bad.any() else str(frame[col].dtype)
            raise DataError(f"{what}: column '{col}' must be numeric, found {example}. Clean or convert it.")


# One wording per problem, whether the rows are in memory (the validators below) or counted by an engine's
# query (bayescausal.data.engine_checks): {where} is file lines there, and example keys here.
PROBLEMS = {
    "finite": "{what}: column '{col}' has {n} missing or infinite value(s) ({where}). "
    "Fill or drop them before the analysis.",
    "nonnegative": "{what}: column '{col}' has {n} negative value(s) ({where}); counts and amounts must be >= 0.",
    "integer": "{what}: column '{col}' holds counts but has non-integer values {where}.",
    "at_most": "{what}: '{col}' exceeds '{large}' in {n} row(s) ({where}); {col} must be <= {large}. "
    "Check for swapped columns or double-counted {col}.",
    "representable": "{what}: '{col}' has {n} value(s) above {limit:.0e} in absolute value ({where}); variances "
    "of such numbers overflow. Rescale the column (e.g. to millions) or fix the export.",
}


def problem(kind: str, **fields) -> DataError:
    return DataError(PROBLEMS[kind].format(**fields))


def require_finite(frame: pd.DataFrame, columns: Iterable[str], *, what: str = "data") -> None:
    for col in columns:
        values = frame[col].to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            raise problem("finite", what=what, col=col, n=bad.sum(), where=rows(frame, bad))


def require_nonnegative(frame: pd.DataFrame, columns: Iterable[str], *, what: str = "data") -> None:
    for col in columns:
        bad = frame[col].to_numpy(dtype=float) < 0
        if bad.any():
            raise problem("nonnegative", what=what, col=col, n=bad.sum(), where=rows(frame, bad))


def require_integer(frame: pd.DataFrame, columns: Iterable[str], *, what: str = "data") -> None:
    for col in columns:
        values = frame[col].to_numpy(dtype=float)
        bad = values != np.round(values)
        if bad.any():
            raise problem("integer", what=what, col=col, where=_show(frame.loc[bad, col]))


def require_at_most(frame: pd.DataFrame, small: str, large: str, *, what: str = "data") -> None:
    bad = frame[small].to_numpy(dtype=float) > frame[large].to_numpy(dtype=float)
    if bad.any():
        raise problem("at_most", what=what, col=small, large=large, n=bad.sum(), where=rows(frame, bad))


def require_unique(frame: pd.DataFrame, keys: list[str], *, what: str = "data") -> None:
    dup = frame.duplicated(keys, keep=False)
    if dup.any():
        example = frame.loc[dup, keys].drop_duplicates().head(3).to_dict("records")
        raise DataError(f"{what}: duplicated rows for key {keys}: {example}. Aggregate or remove duplicates.")


def require_numeric_counts(frame: pd.DataFrame, columns: list[str], *, what: str = "data") -> None:
    """Counts: numeric, finite, non-negative integers."""
    require_numeric(frame, columns, what=what)
    require_finite(frame, columns, what=what)
    require_nonnegative(frame, columns, what=what)
    require_integer(frame, columns, what=what)


MAX_ABS = 1e100  # squares of larger numbers overflow double precision (variances, sums of squares)


def require_representable(frame: pd.DataFrame, columns: Iterable[str], *, what: str = "data") -> None:
    """Values whose squares overflow would turn every variance into inf: say so, and how to rescale."""
    for col in columns:
        big = np.abs(frame[col].to_numpy(dtype=float)) > MAX_ABS
        if big.any():
            raise problem("representable", what=what, col=col, n=big.sum(), limit=MAX_ABS, where=rows(frame, big))
