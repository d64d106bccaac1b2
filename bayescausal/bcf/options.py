"""The causal-forest family's options, declared once: spec keys, CLI flags, defaults and help."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bayescausal.api import stem
from bayescausal.bcf.backends import ForestSettings
from bayescausal.diagnostics import Thresholds
from bayescausal.errors import SpecError
from bayescausal.options import component, option
from bayescausal.roi import DecisionRule

BACKENDS = ("stochtree", "pymc")


@dataclass(frozen=True)
class BCFOptions:
    outcome: str | None = option(None, "outcome column (sales, spend, 0/1 conversion)")
    treatment: str | None = option(None, "treatment column (0/1, or name the treated arm with treated_value)")
    covariates: tuple[str, ...] = option((), "covariate columns, comma-separated")
    treated_value: str | int | None = option(None, "value of the treatment column that means treated")
    control_value: str | int | None = option(
        None,
        "value that means control; with treated_value, rows in other arms are left out; alone, every other value "
        "is an offer and the forest chooses which offer (or none) for whom",
    )
    id: str | None = option(None, "customer id column for the per-row outputs", flag="id-col")
    propensity_column: str | None = option(
        None, "known assignment probabilities (else estimated)", flag="propensity-col"
    )
    randomised: bool = option(False, "randomised assignment: pi_hat = the treated share")
    backend: Literal["stochtree", "pymc"] = option(
        "stochtree", "BCF sampler (stochtree: faster and more accurate in benchmarks/bcf.py)"
    )
    likelihood: Literal["auto", "gaussian", "probit", "student-t", "bernoulli", "hurdle"] = option(
        "auto",
        "auto: probit for 0/1 outcomes, the two-part hurdle for spend with >= 10% zeros, else Gaussian "
        "(bcf/outcomes.py); student-t and bernoulli need backend pymc",
    )
    segments: tuple[str, ...] = option((), "covariates to report the CATE by, comma-separated")
    holdout: float = option(0.0, "share of rows held out for honest gain curves (stochtree)")
    predict: str | None = option(
        None,
        "score these customers (CSV/Parquet with the fit's covariates) with the fitted forests: CATE, its HDI, "
        "expected profit, P(profit > 0) and treat, one row per input row (--predict-out writes them; stochtree)",
        metavar="CSV",
    )
    saved_draws: int = option(
        100,
        "posterior draws per chain saved with the report, so `bcf score REPORT NEW.csv` scores new customers "
        "later without refitting (stochtree; 0: save none)",
    )
    trim: tuple[float, ...] | None = option(None, "drop rows with pi_hat outside LOW,HIGH (e.g. 0.05,0.95)")
    placebo: bool = option(True, "refit with the treatment permuted (the placebo check)")
    tree_depth: int = option(2, "depth of the summary tree", cli=False)
    heuristic: str | None = option(None, 'a simple targeting rule to compare with, e.g. "age < 40"')
    campaign: int | None = option(None, "with dataset = 'complete-journey': a Type A campaign id", cli=False)
    pre_weeks: int = option(8, "with dataset = 'complete-journey': pre-period weeks for the features", cli=False)
    hdi_prob: float = option(0.94, "probability mass of the highest-density intervals", cli=False)
    margin_rate: float = option(0.05, "profit margin on the incremental outcome", section="business", flag="margin")
    cost_per_treated: float = option(0.0, "cost of treating one customer", section="business")
    cost_column: str | None = option(None, "a per-customer cost column instead of cost_per_treated", flag="cost-col")
    min_prob_profit: float = option(0.0, "treat only where P(profit > 0) exceeds this", section="business")
    forest: ForestSettings = component(ForestSettings)
    rule: DecisionRule = component(DecisionRule)
    # BART posteriors live on tree space and mix slowly; scalar functionals are gated at R-hat 1.05 / ESS 100
    thresholds: Thresholds = component(Thresholds, max_rhat=1.05, min_ess=100)

    def __post_init__(self):
        if not 0 <= self.holdout < 0.9:
            raise SpecError(f"holdout must be a share in [0, 0.9), got {self.holdout}")
        if self.holdout and self.backend != "stochtree":
            raise SpecError("a holdout needs backend = 'stochtree' (the pymc backend gives in-sample CATEs only)")
        if self.trim is not None and (len(self.trim) != 2 or not 0 <= self.trim[0] < self.trim[1] <= 1):
            raise SpecError(f"trim must be (low, high) with 0 <= low < high <= 1, got {self.trim}")
        if not 0 < self.margin_rate <= 1:
            raise SpecError(f"margin must be in (0, 1], got {self.margin_rate}")
        if self.saved_draws < 0:
            raise SpecError(f"saved_draws must be >= 0, got {self.saved_draws}")
        if self.cost_per_treated < 0:
            raise SpecError(f"cost_per_treated must be >= 0, got {self.cost_per_treated}")

    def require_columns(self) -> None:
        for key in ("outcome", "treatment"):
            if getattr(self, key) is None:
                raise SpecError(f"[model].{key} is required for a causal forest (--{key} COLUMN)")
        if not self.covariates:
            raise SpecError("[model].covariates is required for a causal forest (--covariates a,b,c)")


@dataclass(frozen=True)
class CustomerInputs:
    """One row per customer, and where the per-customer outputs go."""

    data: str | None = option(None, "CSV/Parquet file, one row per customer", section="data")
    predict_out: str | None = option(
        None, "write each row's posterior mean CATE and its interval to this CSV", section="output", metavar="CSV"
    )

    def name(self) -> str:
        return stem(self.data) if self.data else ""

    def sections(self, typed: dict) -> dict:
        if self.data is None:
            raise SpecError("--data CUSTOMERS.csv is required (one row per customer)")
        return {"data": {"path": self.data}}


@dataclass(frozen=True)
class TargetInputs(CustomerInputs):
    targets_out: str = option(
        "targets.csv", "write who to treat (sorted by expected profit) to this CSV", section="output", metavar="CSV"
    )


@dataclass(frozen=True)
class ScoreOptions:
    """`bcf score`: the saved fit's business inputs are the defaults; any given here replace them."""

    fitted: str | None = option(None, "report folder of the bcf fit whose saved forests score the rows", cli=False)
    margin_rate: float | None = option(None, "profit margin (default: the fit's)", section="business", flag="margin")
    cost_per_treated: float | None = option(
        None, "cost of treating one customer (default: the fit's)", section="business"
    )
    cost_column: str | None = option(None, "a per-customer cost column (default: the fit's)", flag="cost-col")
    min_prob_profit: float | None = option(
        None, "treat only where P(profit > 0) exceeds this (default: the fit's)", section="business"
    )
    id: str | None = option(None, "customer id column (default: the fit's)", flag="id-col")
    rule: DecisionRule = component(DecisionRule)

    def __post_init__(self):
        if self.margin_rate is not None and not 0 < self.margin_rate <= 1:
            raise SpecError(f"margin must be in (0, 1], got {self.margin_rate}")
        if self.cost_per_treated is not None and self.cost_per_treated < 0:
            raise SpecError(f"cost_per_treated must be >= 0, got {self.cost_per_treated}")


@dataclass(frozen=True)
class ScoreInputs:
    """The report of an earlier `bcf fit` (its saved forests) and this campaign's customers."""

    fitted: str = option(
        None, "report folder of a bcf fit (holding model/forests.json.gz)", section="data", positional=True
    )
    data: str = option(None, "CSV/Parquet file of the customers to score", section="data", positional=True)
    predict_out: str | None = option(
        None, "write the scores (one row per input row, in order) to this CSV", section="output", metavar="CSV"
    )

    def name(self) -> str:
        return f"{stem(self.data)}-scores" if self.data else "scores"

    def sections(self, typed: dict) -> dict:
        if self.fitted is None or self.data is None:
            raise SpecError("bcf score needs REPORT_DIR (a bcf fit's report folder) and NEW.csv (customers to score)")
        return {"data": {"path": self.data}, "model": {"fitted": self.fitted}}
