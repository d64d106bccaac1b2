"""Unit x period panels (outcome and a 0/1 treatment on the same grid), from any long table. A cell with no
row is missing (NaN outcome, untreated), never zero-filled: the exact DiD model needs a balanced panel, the
hierarchical one (bayescausal.did.hierarchical) uses the cells each unit has.

The Complete Journey builder (bayescausal.data.complete_journey) produces the same type.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayescausal.data import engine_checks as q
from bayescausal.data import validate as v
from bayescausal.data.periods import order_key
from bayescausal.errors import DataError

WHAT = "DiD panel"
COLUMN_HINT = "name your columns with --unit, --time, --outcome and --treated (in a spec: [columns] unit = ...)"


@dataclass
class Panel:
    """outcome[i, t] for unit i and period t (NaN where the panel has no row), and the 0/1 treatment
    indicator on the same grid."""

    outcome: np.ndarray
    treated: np.ndarray
    units: np.ndarray
    periods: np.ndarray
    outcome_name: str = "outcome"

    @property
    def shape(self) -> tuple[int, int]:
        return self.outcome.shape

    @property
    def missing_cells(self) -> int:
        return int(np.isnan(self.outcome).sum())

    @property
    def balanced(self) -> bool:
        return self.missing_cells == 0

    def fingerprint(self) -> str:
        """The cells' content hash (bayescausal.data.io.array_fingerprint): the same from memory or any engine."""
        from bayescausal.data.io import array_fingerprint

        return array_fingerprint(self.outcome, self.treated, self.units, self.periods)

    def pre_period_covariates(self, start: int) -> pd.DataFrame:
        """Per unit, summaries of the outcome before period index `start` (targeting and balance checks)."""
        pre = self.outcome[:, :start]
        seen = ~np.isnan(pre)
        last = np.where(seen.any(axis=1), start - 1 - seen[:, ::-1].argmax(axis=1), 0)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a unit with no pre-period cell: NaN, said so below
            return pd.DataFrame(
                {
                    "pre_mean": np.nanmean(pre, axis=1),
                    "pre_sd": np.nanstd(pre, axis=1),
                    "pre_share_zero": (pre == 0).sum(axis=1) / seen.sum(axis=1),
                    "pre_last": np.where(seen.any(axis=1), pre[np.arange(len(pre)), last], np.nan),
                },
                index=pd.Index(self.units, name="unit"),
            )

    def to_long(self) -> pd.DataFrame:
        """One row per cell the panel has (missing cells have no row)."""
        n_units, n_periods = self.shape
        frame = pd.DataFrame(
            {
                "unit": np.repeat(self.units, n_periods),
                "period": np.tile(self.periods, n_units),
                self.outcome_name: self.outcome.ravel(),
                "treated": self.treated.ravel().astype(int),
            }
        )
        return frame[~np.isnan(self.outcome.ravel())].reset_index(drop=True)


def from_long(
    frame: pd.DataFrame, *, unit: str, time: str, outcome: str, treated: str, time_format: str | None = None
) -> Panel:
    """A panel from long rows (at most one per unit and period; a missing row is a missing cell), validated at
    the boundary. Periods are put
    in their true order (numbers, dates, numbered labels: bayescausal.data.periods), never sorted as text."""
    v.require_columns(frame, [unit, time, outcome, treated], what=WHAT, hint=COLUMN_HINT)
    for col in (unit, time):
        if frame[col].isna().any():
            raise DataError(f"{WHAT}: column '{col}' has missing values ({v.rows(frame, frame[col].isna())}).")
    d = _indicator(frame, treated)
    v.require_numeric(frame, [outcome], what=WHAT)
    v.require_finite(frame, [outcome], what=WHAT)
    v.require_representable(frame, [outcome], what=WHAT)
    v.require_unique(frame, [unit, time], what=WHAT)
    units, u_idx = np.unique(_unit_labels(frame, unit), return_inverse=True)
    key = order_key(frame[time], column=time, time_format=time_format)
    _, first_row, t_idx = np.unique(key.to_numpy(), return_index=True, return_inverse=True)
    periods = frame[time].to_numpy()[first_row]
    y = np.full((len(units), len(periods)), np.nan)
    y[u_idx, t_idx] = frame[outcome].to_numpy(float)
    dmat = np.zeros((len(units), len(periods)), dtype=bool)
    dmat[u_idx, t_idx] = d > 0
    panel = Panel(y, dmat, units, periods, outcome)
    require_design(panel)
    return panel


def require_balanced(panel: Panel, *, why: str) -> None:
    """For what needs every cell (the exact model's unit contrasts): refuse a panel with gaps, naming the fix."""
    if panel.balanced:
        return
    missing, cells = panel.missing_cells, panel.outcome.size
    raise DataError(
        f"{WHAT}: the panel is unbalanced ({missing} unit-period cells missing of {cells}) and {why}; use the "
        "hierarchical model (--model hierarchical, or --model auto), which uses the cells each unit has. Do not "
        "zero-fill: a missing week is not a week without spend unless you know it is."
    )


def _unit_labels(frame: pd.DataFrame, unit: str) -> np.ndarray:
    """Unit ids as they are, or as text when numbers and text are mixed (store 7 and store "S12" are both
    units); refused only when two ids become one as text (7 and "7"), naming their rows."""
    ids = frame[unit]
    kinds = ids.map(lambda x: isinstance(x, str))
    if kinds.all() or not kinds.any():
        return ids.to_numpy()
    text = ids.astype(str).str.strip()
    pairs = pd.DataFrame({"id": ids, "text": text}).drop_duplicates()
    clash = pairs["text"].duplicated(keep=False)
    if clash.any():
        rows = v.rows(frame, text.isin(pairs.loc[clash, "text"]))
        raise DataError(
            f"{WHAT}: unit ids in '{unit}' mix numbers and text, and {sorted(pairs.loc[clash, 'text'].unique())[:3]} "
            f"occur as both ({rows}); make each unit's id one value (all text or all numbers)"
        )
    return text.to_numpy()


def from_scan(scan, *, unit: str, time: str, outcome: str, treated: str, time_format: str | None = None) -> Panel:
    """The same panel from a table where it lives (bayescausal.data.engine): the cells come from one GROUP BY,
    with the checks of `from_long` run in the engine (bayescausal.data.cells)."""
    from bayescausal.data.cells import unit_period_sums

    v.require_columns(scan, [unit, time, outcome, treated], what=WHAT, hint=COLUMN_HINT)
    indicator = _engine_indicator(scan, treated)
    cells = unit_period_sums(
        scan,
        unit=unit,
        time=time,
        values={"outcome": outcome, "treated": indicator},
        what=WHAT,
        hint=COLUMN_HINT,
        time_format=time_format,
    )
    if (cells.count > 1).any():
        t = scan.table
        dup = t.group_by([unit, time]).agg(_n=t.count()).filter(lambda g: g._n > 1).select(unit, time)
        example = scan.fetch(dup.order_by([unit, time]).limit(3), "examples").to_dict("records")
        raise DataError(f"{WHAT}: duplicated rows for key {[unit, time]}: {example}. Aggregate or remove duplicates.")
    outcome_sums = np.where(cells.count == 0, np.nan, cells.sums["outcome"])
    panel = Panel(outcome_sums, cells.sums["treated"] > 0, cells.units, cells.periods, outcome)
    require_design(panel)
    return panel


def _engine_indicator(scan, treated: str):
    """The treatment as a 0/1 engine expression, with `_indicator`'s checks counted in the engine."""
    t = scan.table
    kind = t.schema()[treated]
    if kind.is_boolean():
        return lambda t: t[treated].cast("float64")
    if kind.is_string():
        text = t[treated].strip().lower()
        bad = t.filter(~text.isin(["true", "false"]))
        if scan.one_row(bad.agg(n=bad.count()), "checking the treatment column")["n"]:
            values = scan.fetch(bad.select(treated).distinct().order_by(treated).limit(5), "examples")[treated]
            raise _not_indicator(treated, list(values), "text other than true/false")
        return lambda t: (t[treated].strip().lower() == "true").cast("float64")
    q.require_numeric(scan, [treated], what=WHAT)
    value = t[treated].cast("float64")
    bad = t.filter(value.notnull() & ~value.isnan() & ~value.isin([0.0, 1.0]))  # missing: the finite check
    if scan.one_row(bad.agg(n=bad.count()), "checking the treatment column")["n"]:
        values = scan.fetch(bad.select(treated).distinct().order_by(treated).limit(5), "examples")[treated]
        raise _not_indicator(treated, [float(x) for x in values], "in the engine's rows")
    return treated


def _not_indicator(treated: str, found: list, where: str) -> DataError:
    return DataError(
        f"{WHAT}: '{treated}' must be a 0/1 (or True/False) treatment indicator per unit and period; found "
        f"{found} ({where})."
    )


def _indicator(frame: pd.DataFrame, treated: str) -> np.ndarray:
    """The treatment as 0/1 floats: numbers 0/1 or True/False (as values or as text)."""
    col = frame[treated]
    if col.dtype == object:
        lowered = col.astype(str).str.strip().str.lower()
        if lowered.isin(["true", "false"]).all():
            col = lowered == "true"
    if pd.api.types.is_bool_dtype(col):
        return col.to_numpy(float)
    v.require_numeric(frame, [treated], what=WHAT)
    v.require_finite(frame, [treated], what=WHAT)
    d = col.to_numpy(float)
    if not np.isin(d, (0.0, 1.0)).all():
        bad = ~np.isin(d, (0.0, 1.0))
        raise _not_indicator(treated, sorted(set(d[bad].tolist()))[:5], v.rows(frame, bad))
    return d


def require_design(panel: Panel) -> None:
    """The checks every DiD design needs: treatment varies, and some treated unit has a pre-period (an
    untreated cell before its treatment). A design only the exact model cannot handle is `require_exact`'s."""
    observed = ~np.isnan(panel.outcome)
    d = panel.treated & observed
    if not d.any():
        raise DataError(f"{WHAT}: no unit is ever treated; there is no effect to estimate.")
    ever = d.any(axis=1)
    first = np.where(ever, d.argmax(axis=1), -1)
    if ever.all() and len(set(first.tolist())) == 1:
        raise DataError(
            f"{WHAT}: every unit is treated, all from the same period, so no unit shows the trend without "
            "treatment; add control units (never treated, or treated later) so the counterfactual can be learned."
        )
    if not _pre_period(panel, first)[ever].any():
        raise DataError(
            f"{WHAT}: every treated unit is treated from its first period in the panel: no pre-period to compare "
            "with. Extend the panel backwards (untreated periods before treatment)."
        )


def _pre_period(panel: Panel, first: np.ndarray) -> np.ndarray:
    """Per unit: an untreated, observed cell before its first treated one."""
    observed = ~np.isnan(panel.outcome)
    before = np.arange(panel.shape[1])[None, :] < first[:, None]
    return (observed & ~panel.treated & before).any(axis=1)


def require_exact(panel: Panel) -> None:
    """What the exact model's unit contrasts need beyond `require_design`: every cell, and a pre-period for
    every treated unit."""
    require_balanced(panel, why="the exact model's unit contrasts need every cell")
    d = panel.treated
    ever = d.any(axis=1)
    first = np.where(ever, d.argmax(axis=1), -1)
    if (first[ever] == 0).any():
        n = int((first[ever] == 0).sum())
        raise DataError(
            f"{WHAT}: {n} treated unit(s) are treated from the first period: no pre-period to compare "
            "with. Drop them, extend the panel backwards, or use --model hierarchical, which leaves them out "
            "and says so."
        )
