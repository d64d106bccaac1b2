"""The cells a two-way DiD model can use, from a panel that may have gaps (bayescausal.did.hierarchical).

Imputation logic (Borusyak, Jaravel & Spiess 2024): untreated cells identify unit and period effects, treated
cells identify the effects. So a cell is used when it is untreated, or treated in a period some untreated cell
also covers, of a unit with an untreated cell before its treatment. What is left out, and why, is counted for
the report; nothing is zero-filled.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from bayescausal.data.panel import Panel
from bayescausal.errors import DataError


@dataclass
class CellDesign:
    """Used cells sorted by unit, then period, with what each cell's mean is made of.

    effect[k] is the (cohort, event time) group of a treated cell, -1 for an untreated one; gap[k] is the
    number of periods since the unit's previous used cell (0 for a unit's first cell), which the AR(1) errors
    need where cells are missing."""

    y: np.ndarray
    unit: np.ndarray  # unit index per cell (rows of the panel), non-decreasing
    period: np.ndarray  # panel period index per cell
    effect: np.ndarray
    gap: np.ndarray
    groups: pd.DataFrame  # one row per effect group: cohort, start, event_time, cells
    cohorts: pd.DataFrame  # one row per cohort: label, start, end, treated units, treated cells
    notes: list[str] = field(default_factory=list)
    ever_treated: np.ndarray | None = None  # per panel unit: treated at some point (its noise scale's group)
    first_treated: np.ndarray | None = None  # per panel unit: its first treated period (-1: never treated)

    @property
    def n_cells(self) -> int:
        return len(self.y)

    def unit_ends(self) -> np.ndarray:
        """Index of each used unit's last cell (cells are sorted by unit)."""
        return np.flatnonzero(np.r_[self.unit[1:] != self.unit[:-1], True])


def treatment_windows(panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's first and last treated period among its observed cells (-1 if never treated), refusing a
    treatment that switches off and on again: such a unit has no single before and after."""
    observed = ~np.isnan(panel.outcome)
    d = panel.treated  # where a missing cell's treatment is known, it still dates the start
    ever = (d & observed).any(axis=1)
    first = np.where(ever, d.argmax(axis=1), -1)
    last = np.where(ever, d.shape[1] - 1 - d[:, ::-1].argmax(axis=1), -1)
    t = np.arange(d.shape[1])
    inside = (t >= first[:, None]) & (t <= last[:, None]) & ever[:, None]
    broken = (inside & observed & ~d).any(axis=1)
    if broken.any():
        units = panel.units[broken][:5].tolist()
        raise DataError(
            f"DiD panel: the treatment of {int(broken.sum())} unit(s) switches off and on again (e.g. units "
            f"{units}); a difference-in-differences needs one treated window per unit. Analyse each window as "
            "its own design (e.g. one campaign at a time, as did fit --campaign does), or code treatment as "
            "'first exposure onwards'."
        )
    return first, last


def cell_design(panel: Panel) -> CellDesign:
    """The used cells of `panel` and the notes on what was left out (see the module docstring)."""
    observed = ~np.isnan(panel.outcome)
    first, last = treatment_windows(panel)
    ever = first >= 0
    t = np.arange(panel.shape[1])
    treated = panel.treated & observed
    untreated = observed & ~panel.treated
    before = untreated & (t < first[:, None])
    no_pre = ever & ~before.any(axis=1)
    after_window = ever[:, None] & (t > last[:, None]) & observed
    use_untreated = untreated & ~after_window & ~no_pre[:, None]
    covered = use_untreated.any(axis=0)  # periods with an untreated cell: their period effect is identified
    use_treated = treated & ~no_pre[:, None] & covered[None, :]
    notes = _left_out_notes(panel, no_pre, after_window, treated & ~no_pre[:, None] & ~covered[None, :])
    if unsure := int((ever & ~no_pre & ~observed[np.arange(len(first)), np.maximum(first - 1, 0)]).sum()):
        notes.append(
            f"{unsure} treated unit(s) have no cell just before their first treated one, so their treatment may "
            "have started earlier than it appears: their event times count from the first treated cell seen"
        )
    use = use_untreated | use_treated
    if not use_treated.any():
        raise DataError(
            "DiD panel: no treated cell has a comparison: "
            + (notes[0] if notes else "every treated unit lacks an untreated cell before its treatment")
            + ". Add untreated periods before treatment, or units untreated in the treated periods."
        )
    unit, period = np.nonzero(use)  # row-major: sorted by unit, then period
    gap = _gaps(unit, period)
    is_treated = use_treated[unit, period]
    start = first[unit]
    groups, effect = _effect_groups(start[is_treated], (period - start)[is_treated])
    effect_all = np.full(len(unit), -1)
    effect_all[is_treated] = effect
    cohorts = _cohorts(panel, unit[is_treated], start[is_treated], period[is_treated])
    y = panel.outcome[unit, period]
    return CellDesign(y, unit, period, effect_all, gap, groups, cohorts, notes, ever, first)


def _effect_groups(start: np.ndarray, event_time: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    keys = pd.DataFrame({"start": start, "event_time": event_time})
    uniq, index = np.unique(keys.to_numpy(), axis=0, return_inverse=True)
    groups = pd.DataFrame(uniq, columns=["start", "event_time"])
    groups["cells"] = np.bincount(index.ravel(), minlength=len(groups))
    groups["cohort"] = pd.factorize(groups["start"], sort=True)[0]
    return groups, index.ravel()


def _cohorts(panel: Panel, unit, start, period) -> pd.DataFrame:
    frame = pd.DataFrame({"unit": unit, "start": start, "period": period})
    rows = []
    for s, g in frame.groupby("start", sort=True):
        end = int(g["period"].max())
        rows.append(
            {
                "label": f"{panel.periods[s]}-{panel.periods[end]}",
                "start": int(s),
                "end": end,
                "treated units": int(g["unit"].nunique()),
                "treated cells": len(g),
            }
        )
    return pd.DataFrame(rows)


def _left_out_notes(panel: Panel, no_pre, after_window, uncovered) -> list[str]:
    notes = []
    if no_pre.any():
        notes.append(
            f"{int(no_pre.sum())} treated unit(s) have no untreated cell before their treatment, so nothing shows "
            "their level without treatment: they are left out of the effect"
        )
    if after_window.any():
        notes.append(
            f"{int(after_window.sum())} cell(s) after a unit's treatment window ended are left out (they may "
            "carry the treatment's after-effects, so they are neither treated nor a clean comparison)"
        )
    if uncovered.any():
        periods = np.flatnonzero(uncovered.any(axis=0))
        names = ", ".join(str(p) for p in panel.periods[periods[:3]]) + (" ..." if len(periods) > 3 else "")
        notes.append(
            f"{int(uncovered.sum())} treated cell(s) in {len(periods)} period(s) where every unit is treated "
            f"({names}) have no comparison and are not estimated: no unit shows those periods without treatment"
        )
    return notes


def lead_design(design: CellDesign, panel: Panel, leads: int) -> CellDesign | None:
    """The untreated cells only, with the treated units' last `leads` pre-period cells as effect groups
    (cohort x lead): the pre-trend test of Borusyak, Jaravel & Spiess (2024), fitted by the same model. A
    lead should be zero; each cohort keeps at least one earlier pre-period cell as the baseline its leads are
    measured against. None when no cohort has room for a lead."""
    keep = design.effect < 0
    unit, period = design.unit[keep], design.period[keep]
    start = design.first_treated[unit]
    event_time = period - start
    earliest = pd.Series(period[start >= 0]).groupby(start[start >= 0]).min()  # each cohort's first pre cell
    room = (start >= 0) & (start - earliest.reindex(start).to_numpy() > 1)  # a baseline cell besides the leads
    lead = room & (event_time < 0) & (event_time >= -leads)
    lead &= event_time > earliest.reindex(start).to_numpy() - start  # never the cohort's earliest pre cell
    if not lead.any():
        return None
    groups, index = _effect_groups(start[lead], event_time[lead])
    effect = np.full(len(unit), -1)
    effect[lead] = index
    return replace(
        design,
        y=design.y[keep],
        unit=unit,
        period=period,
        effect=effect,
        gap=_gaps(unit, period),
        groups=groups,
        notes=[],
    )


def _gaps(unit: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Periods since the unit's previous cell; 0 for each unit's first cell."""
    gap = np.r_[0, np.diff(period)]
    gap[np.r_[True, unit[1:] != unit[:-1]]] = 0
    return gap
