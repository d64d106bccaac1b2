"""The marketing-mix family's options, declared once: spec keys, CLI flags, defaults and help."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bayescausal.api import stem
from bayescausal.diagnostics import Thresholds
from bayescausal.errors import SpecError
from bayescausal.options import component, option
from bayescausal.roi import DecisionRule
from bayescausal.sampling import SamplerSettings

LIFT_TEST_KEYS = {"channel", "x", "delta_x", "delta_y", "sigma"}


@dataclass(frozen=True)
class MMMOptions:
    channels: tuple[str, ...] = option((), "spend columns, comma-separated (with --data)")
    controls: tuple[str, ...] = option((), "control columns, comma-separated (with --data)")
    group: str | None = option(None, "a column of product groups or regions, one series each (with --data)")
    groups: tuple[str, ...] = option((), "DT-Mart sub-categories to pool, one series each (default: total GMV)")
    to_weeks: bool = option(False, "sum daily rows into Monday-start weeks (spend and sales; controls averaged)")
    spread: Literal["days", "sale-days"] = option("days", "DT-Mart: how monthly spend is spread over weeks")
    l_max: int = option(4, "weeks of carry-over (geometric adstock)")
    yearly_seasonality: int | None = option(
        None, "Fourier modes of yearly seasonality (default: 2 with two years of data, else 0)"
    )
    pooled: bool = option(True, "with groups: partially pool channel effects across groups")
    holdout_weeks: int = option(8, "final weeks held out for the out-of-sample check (0: skip)")
    plan_weeks: int = option(8, "weeks the budget plan covers")
    budget_bounds: tuple[float, ...] = option(
        (0.5, 1.5), "per-channel bounds, multiples of current spend", flag="bounds"
    )
    total_budget: float | None = option(None, "weekly budget to allocate (default: the current total)", flag="budget")
    spread_sensitivity: bool = option(
        True, "refit under the other spreading rule when spend was monthly", flag="sensitivity"
    )
    identifiability: bool = option(False, "also fit simulated sales with known ROAS on this spend design")
    lift_tests: tuple[dict, ...] = option(
        (),
        "lift tests: channel, x, delta_x and delta_y + sigma, or summary = a summary.json whose lift_test "
        "gives the effect ([[model.lift_tests]] tables)",
        cli=False,
    )
    response_points: tuple[float, ...] = option(
        (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0), "spend multiples for the response curves", cli=False
    )
    margin_rate: float = option(1.0, "profit margin on incremental revenue", section="business", flag="margin")
    rule: DecisionRule = component(DecisionRule)
    thresholds: Thresholds = component(Thresholds)
    sampler: SamplerSettings = component(SamplerSettings, draws=1000, tune=1000)

    def __post_init__(self):
        if self.l_max < 1:
            raise SpecError(f"l_max must be >= 1 week, got {self.l_max}")
        if len(self.budget_bounds) != 2 or not 0 <= self.budget_bounds[0] <= 1 <= self.budget_bounds[1]:
            raise SpecError(
                f"budget_bounds must be (low <= 1 <= high), multiples of current spend; got {self.budget_bounds}"
            )
        if self.plan_weeks < 1 or self.holdout_weeks < 0:
            raise SpecError("plan_weeks must be >= 1 and holdout_weeks >= 0")
        if not 0 < self.margin_rate <= 1:
            raise SpecError(f"margin_rate must be in (0, 1], got {self.margin_rate}")
        for test in self.lift_tests:
            if not isinstance(test, dict):
                raise SpecError(f"[[model.lift_tests]]: each entry must be a table, got {test!r}")
            if "summary" in test:
                continue
            missing = LIFT_TEST_KEYS - set(test)
            if missing:
                raise SpecError(f"lift test {test}: missing {sorted(missing)}")
            if float(test["sigma"]) <= 0:
                raise SpecError(f"lift test for {test['channel']}: sigma must be > 0")


@dataclass(frozen=True)
class WeeklyInputs:
    """A DT-Mart-layout folder, or a weekly table with named columns."""

    data_dir: str | None = option(None, "a DT-Mart-layout folder: MediaInvestment.csv + sales files", section="data")
    data: str | None = option(None, "a weekly CSV/Parquet: date, target, one column per channel", section="data")
    date: str = option("date", "date column (with --data)", section="columns")
    target: str = option("gmv", "sales column (with --data)", section="columns")
    time_format: str | None = option(
        None, "strftime format of the date column when its dates are ambiguous (e.g. '%d/%m/%Y')", section="data"
    )

    def name(self) -> str:
        return stem(self.data_dir or self.data) if (self.data_dir or self.data) else ""

    def sections(self, typed: dict) -> dict:
        if (self.data_dir is None) == (self.data is None):
            raise SpecError("give exactly one of --data-dir (DT-Mart layout) or --data (a weekly table)")
        if self.data_dir:
            return {"data": {"path": self.data_dir, "format": "dtmart"}}
        if not typed.get("model", {}).get("channels"):
            raise SpecError("--channels is required with --data (the spend columns)")
        data = {"path": self.data} | ({"time_format": self.time_format} if self.time_format else {})
        return {"data": data, "columns": {"date": self.date, "target": self.target}}
