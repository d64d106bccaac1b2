"""Put a time column in its true order: numbers, dates in any common format, or numbered labels.

Sorting time labels as text is a silent wrong answer ("week10" < "week2"; "01/13/2020" < "02/01/2019"),
so a label's order is used only when it is known: numeric values, datetimes, text that parses as dates or
months under exactly one format, ISO year-weeks (2020-W03), quarters (2020Q1, Q1 2020), fiscal periods (FY24
W01, FY24-P1, FY2024 P13), or text labels that share a prefix and differ by a number ("week1" ... "week12").
Anything else is refused with a message naming the column and the fix.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from bayescausal.errors import DataError

# the formats a retail export actually uses; US and day-first are told apart by the data, or refused
DATE_FORMATS = {
    "%Y-%m-%d": "ISO (2020-01-13)",
    "%Y/%m/%d": "2020/01/13",
    "%Y%m%d": "20200113",
    "%m/%d/%Y": "US month-first (01/13/2020)",
    "%d/%m/%Y": "day-first (13/01/2020)",
    "%d.%m.%Y": "day-first (13.01.2020)",
    "%m-%d-%Y": "US month-first (01-13-2020)",
    "%d-%m-%Y": "day-first (13-01-2020)",
    "%d %b %Y": "06 Jan 2020",
    "%d %B %Y": "06 January 2020",
    "%b %d %Y": "Jan 06 2020",
    "%b %d, %Y": "Jan 06, 2020",
    "%B %d, %Y": "January 06, 2020",
    "%d-%b-%Y": "06-Jan-2020",
    "%Y-%m-%d %H:%M:%S": "2020-01-13 00:00:00",
    # months, as the first day of the month
    "%Y-%m": "month (2020-01)",
    "%Y/%m": "month (2020/01)",
    "%m/%Y": "month (01/2020)",
    "%b %Y": "month (Jan 2020)",
    "%B %Y": "month (January 2020)",
    "%b-%Y": "month (Jan-2020)",
}
_OFFSET = re.compile(r"\d[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})$")
_NUMBERED = re.compile(r"^(\D*?)(\d+)(\D*)$")
_YEAR_WEEK = re.compile(r"^(\d{4})[-_ ]?[Ww](\d{1,2})$")
_QUARTER = (re.compile(r"^(\d{4})\s*[-_ ]?\s*[Qq]([1-4])$"), re.compile(r"^[Qq]([1-4])\s*[-_ /]?\s*(\d{4})$"))
_FISCAL = re.compile(r"^FY\s*[-_ ]?\s*(\d{2}|\d{4})\s*[-_ ]?\s*([A-Z]{1,2})\s*[-_ ]?\s*(\d{1,2})$", re.IGNORECASE)


def order_key(values: pd.Series, *, column: str, time_format: str | None = None) -> pd.Series:
    """A sortable key for each value (numbers or datetimes), or a DataError saying why the order is unknown.

    `time_format`: a strftime format that settles an ambiguous date column (e.g. "%d/%m/%Y")."""
    if pd.api.types.is_bool_dtype(values):
        raise DataError(f"time column '{column}' holds True/False values; it needs periods (numbers or dates).")
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return values
    text = values.astype(str).str.strip()
    if time_format is not None:
        parsed = _in_utc(text, time_format) if "%z" in time_format else None
        parsed = pd.to_datetime(text, format=time_format, errors="coerce") if parsed is None else parsed
        if parsed.isna().any():
            bad = text[parsed.isna()].unique()[:3].tolist()
            raise DataError(f"time column '{column}': values {bad} do not match time_format '{time_format}'.")
        return parsed
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().all():
        return numbers
    for key in (_offset_times, _dates, _year_weeks, _quarters, _fiscal, _numbered):
        found = key(text, column)
        if found is not None:
            return found
    examples = ", ".join(repr(x) for x in text.unique()[:4])
    raise DataError(
        f"time column '{column}': cannot tell the order of its values ({examples}); sorting them as text would "
        "mix up the periods. Give integer periods, dates (e.g. 2020-01-13), months (2020-01, Jan 2020), quarters "
        "(2020Q1), fiscal periods (FY24 W01, FY24-P1), or labels numbered in order (week1, week2, ...); for dates "
        "in another format set time_format (e.g. --time-format '%d/%m/%Y')."
    )


def _in_utc(text: pd.Series, fmt: str = "ISO8601") -> pd.Series | None:
    """Times with UTC offsets, as naive UTC. Offsets change at a daylight-saving switch, so one column holds
    several; read in UTC they keep their true order. None when some value does not parse."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(text, format=fmt, utc=True, errors="coerce")
    return None if parsed.isna().any() else parsed.dt.tz_localize(None)


def _offset_times(text: pd.Series, column: str) -> pd.Series | None:
    """ISO-8601 times with a UTC offset or Z ("2021-03-28T09:00:00+01:00"), converted to UTC."""
    if not text.str.contains(_OFFSET).all():
        return None
    return _in_utc(text)


def _dates(text: pd.Series, column: str) -> pd.Series | None:
    """Dates under the one format that parses every value; two formats that disagree are refused."""
    matches = {}
    distinct = pd.Series(text.unique())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fmt in DATE_FORMATS:
            parsed = pd.to_datetime(distinct, format=fmt, errors="coerce")
            if parsed.notna().all():
                matches[fmt] = parsed
    if not matches:
        return None
    first, *others = matches.items()
    conflicting = [fmt for fmt, parsed in others if not parsed.equals(first[1])]
    if conflicting:
        names = " or ".join(DATE_FORMATS[f] for f in (first[0], *conflicting))
        raise DataError(
            f"time column '{column}': the dates read as {names}, and these give different dates. Set time_format "
            f"to say which (e.g. --time-format '{first[0]}' or '{conflicting[0]}')."
        )
    lookup = dict(zip(distinct, first[1], strict=True))
    return text.map(lookup)


def _year_weeks(text: pd.Series, column: str) -> pd.Series | None:
    """ISO-style year-week labels ("2020-W03", "2020W3"): ordered by year, then week."""
    parts = text.str.extract(_YEAR_WEEK)
    if parts.isna().any().any():
        return None
    return parts[0].astype(int) * 100 + parts[1].astype(int)


def _quarters(text: pd.Series, column: str) -> pd.Series | None:
    """Calendar quarters ("2019Q1", "2019-Q1", "Q1 2019"), as the first day of the quarter."""
    for pattern, year_first in zip(_QUARTER, (True, False), strict=True):
        parts = text.str.extract(pattern)
        if parts.notna().all().all():
            year, quarter = (parts[0], parts[1]) if year_first else (parts[1], parts[0])
            months = (quarter.astype(int) - 1) * 3 + 1
            return pd.to_datetime(pd.DataFrame({"year": year.astype(int), "month": months, "day": 1}))
    return None


def _fiscal(text: pd.Series, column: str) -> pd.Series | None:
    """Fiscal weeks, periods or months ("FY24 W01", "FY24-P1", "FY2024 P13"): ordered by fiscal year, then
    number. One kind of period per column: weeks and periods mixed have no single order."""
    parts = text.str.extract(_FISCAL)
    if parts.isna().any().any():
        return None
    if parts[1].str.upper().nunique() != 1:
        kinds = sorted(parts[1].str.upper().unique())
        raise DataError(
            f"time column '{column}': fiscal labels of different kinds ({', '.join(kinds)}) have no single order; "
            "use one kind of period per column"
        )
    year = parts[0].astype(int)
    year = year.where(year >= 100, 2000 + year)
    return year * 100 + parts[2].astype(int)


def _numbered(text: pd.Series, column: str) -> pd.Series | None:
    """Labels that share a prefix and suffix and differ by a number ("week1" ... "week12", "P01")."""
    parts = text.str.extract(_NUMBERED)
    if parts.isna().any().any() or parts[0].nunique() != 1 or parts[2].nunique() != 1:
        return None
    return parts[1].astype(np.int64)
