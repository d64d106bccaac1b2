"""The A/B family's options, declared once: spec keys, CLI flags, defaults and help all come from here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bayescausal.ab.srm import SRM_ALPHA
from bayescausal.api import stem
from bayescausal.diagnostics import Thresholds
from bayescausal.errors import SpecError
from bayescausal.options import component, option, where_data
from bayescausal.roi import Business, DecisionRule
from bayescausal.sampling import SamplerSettings


def _positive_prior(alpha: float, beta: float) -> None:
    if alpha <= 0 or beta <= 0:
        raise SpecError(f"Beta prior parameters must be > 0, got ({alpha}, {beta})")


@dataclass(frozen=True)
class ABOptions:
    """Model and decision options of an A/B analysis (all have sensible defaults)."""

    control: str | None = option(None, "name of the control arm (default: the first arm in the data)")
    prior_alpha: float = option(1.0, "Beta prior alpha for every arm")
    prior_beta: float = option(1.0, "Beta prior beta for every arm")
    metric: Literal["auto", "conversion", "revenue", "ratio"] = option(
        "auto", "decision metric (auto: revenue per user when revenue is present; ratio: the --ratio metric)"
    )
    ratio: str | None = option(
        None,
        "a ratio of per-user columns, NUMERATOR/DENOMINATOR, e.g. revenue/sessions: the user stays the unit (--events)",
        metavar="NUM/DEN",
    )
    segments: Literal["logit-normal", "beta-binomial", "none"] = option(
        "logit-normal", "partial pooling over the segment column, if present"
    )
    allocation: tuple[float, ...] | None = option(
        None,
        "planned traffic split for the SRM check, control first, then the other arms in the order they first "
        "appear, e.g. 0.5,0.5 (default: equal); the report names each share's arm",
    )
    srm_alpha: float = option(SRM_ALPHA, "sample ratio mismatch alarm when the chi-square p is below this")
    covariate: str | None = option(
        None,
        "a pre-treatment column (e.g. last month's spend) that adjusts the effects (Bayesian CUPED; --events)",
        metavar="COLUMN",
    )
    guardrails: tuple[str, ...] = option(
        (),
        "a metric that must not get worse, METRIC:lower|higher:THRESHOLD (lower/higher: which way is better; "
        "threshold: the largest expected worsening per user you accept), e.g. refund_rate:lower:0.002 (repeatable)",
        flag="guardrail",
        repeat=True,
        metavar="METRIC:DIR:T",
    )
    monte_carlo_draws: int = option(20_000, "independent posterior draws for revenue and ROI", cli=False)
    monte_carlo_check: bool = option(False, "also report Monte-Carlo P(best) / expected loss with MC errors")
    hdi_prob: float = option(0.94, "probability mass of the highest-density intervals", cli=False)
    threshold: float = option(
        0.01, "threshold of caring on the expected loss, relative to the control's mean", section="business"
    )
    absolute_threshold: bool = option(False, "read threshold in the metric's own units", section="business")
    traffic: float | None = option(
        None, "users the decision will reach (default: the experiment's own visitors)", section="business"
    )
    value_per_conversion: float | None = option(
        None, "revenue per conversion, for revenue impact when the data has no revenue", section="business"
    )
    business: Business = component(Business)
    rule: DecisionRule = component(DecisionRule)
    thresholds: Thresholds = component(Thresholds)
    sampler: SamplerSettings = component(SamplerSettings)

    def __post_init__(self):
        _positive_prior(self.prior_alpha, self.prior_beta)
        self.guards  # noqa: B018 -- parse now: a malformed guardrail is an error before any data is read
        if self.metric == "ratio" and self.ratio is None:
            raise SpecError("metric 'ratio' needs the ratio itself: --ratio NUMERATOR/DENOMINATOR")
        self.ratio_metric  # noqa: B018
        if self.threshold <= 0:
            raise SpecError(f"threshold of caring must be > 0, got {self.threshold}")
        if self.traffic is not None and self.traffic <= 0:
            raise SpecError(f"traffic must be > 0 users, got {self.traffic}")

    @property
    def threshold_relative(self) -> bool:
        return not self.absolute_threshold

    @property
    def ratio_metric(self):
        from bayescausal.ab.ratio import Ratio

        return Ratio.parse(self.ratio) if self.ratio else None

    @property
    def guards(self):
        from bayescausal.ab.guardrails import Guardrail

        return tuple(Guardrail.parse(text) for text in self.guardrails)


@dataclass(frozen=True)
class CheckOptions:
    """The daily sequential check: the stopping rule and its guards."""

    control: str | None = option(None, "control arm (default: the first arm)")
    prior_alpha: float = option(1.0, "Beta prior alpha for every arm")
    prior_beta: float = option(1.0, "Beta prior beta for every arm")
    threshold: float = option(0.01, "threshold of caring on the expected loss, relative to the control's rate")
    absolute_threshold: bool = option(False, "read threshold in rate units")
    min_days: int = option(7, "no decision before this many looks")
    min_visitors: int = option(1000, "no decision before every arm has this many visitors")
    min_prob_positive: float = option(0.9, "ship only when P(arm beats control) is at least this", flag="min-prob")
    allocation: tuple[float, ...] | None = option(
        None,
        "planned split for the SRM check, control first, then the other arms in the order they first appear "
        "(e.g. 0.5,0.5); the report names each share's arm",
    )
    srm_alpha: float = option(SRM_ALPHA, "SRM alarm when the chi-square p is below this")

    def __post_init__(self):
        _positive_prior(self.prior_alpha, self.prior_beta)

    def rule(self):
        from bayescausal.ab.sequential import StoppingRule

        return StoppingRule(
            threshold=self.threshold,
            relative=not self.absolute_threshold,
            min_prob_positive=self.min_prob_positive,
            min_visitors_per_arm=self.min_visitors,
            min_days=self.min_days,
            srm_alpha=self.srm_alpha,
            allocation=self.allocation,
        )


@dataclass(frozen=True)
class SimulateOptions:
    """Operating characteristics of the stopping rule on simulated experiments."""

    baseline: float = option(0.05, "control conversion rate")
    lifts: tuple[float, ...] = option((-0.05, 0.0, 0.02, 0.05, 0.1), "true relative lifts, comma-separated")
    daily_visitors: int = option(2000, "visitors per arm per day")
    days: int = option(28, "maximum duration (the fixed horizon)")
    threshold: float = option(0.01, "threshold of caring, relative to the baseline")
    min_days: int = option(7, "no decision before this many looks")
    sims: int = option(1000, "experiments per true lift")
    seed: int = option(0, "random seed: same seed, same numbers", section="sampler")

    def __post_init__(self):
        if not 0 < self.baseline < 1:
            raise SpecError(f"baseline must be a rate in (0, 1), got {self.baseline}")
        if self.sims < 1 or self.days < 1 or self.daily_visitors < 1:
            raise SpecError("sims, days and daily_visitors must be positive integers")


@dataclass(frozen=True)
class PlanOptions:
    """Before the test: the stopping rule simulated at the planned traffic and the minimum effect of interest."""

    baseline: float = option(0.05, "control conversion rate you expect")
    min_effect: float = option(0.05, "smallest relative lift worth detecting (0.05 = +5%)")
    daily_visitors: int = option(2000, "visitors per arm per day")
    days: int = option(56, "longest you can run the test, in days")
    threshold: float = option(0.01, "threshold of caring on the expected loss, relative to the baseline")
    min_days: int = option(7, "no decision before this many days")
    min_visitors: int = option(1000, "no decision before every arm has this many visitors")
    min_prob_positive: float = option(0.9, "ship only when P(arm beats control) is at least this", flag="min-prob")
    power: float = option(0.8, "the probability of reaching a decision the plan asks for")
    sims: int = option(500, "simulated tests per scenario (Monte-Carlo s.e. of a probability <= 0.022)")
    seed: int = option(0, "random seed: same seed, same numbers", section="sampler")

    def __post_init__(self):
        if not 0 < self.baseline < 1 or not 0 < self.baseline * (1 + self.min_effect) < 1:
            raise SpecError(f"baseline {self.baseline} and min_effect {self.min_effect} must keep rates in (0, 1)")
        if self.min_effect <= 0:
            raise SpecError(f"min_effect must be > 0 (a relative lift), got {self.min_effect}")
        if not 0 < self.power < 1:
            raise SpecError(f"power must be a probability in (0, 1), got {self.power}")
        if self.days < 1 or self.daily_visitors < 1 or self.sims < 10:
            raise SpecError("days and daily_visitors must be >= 1 and sims >= 10")

    def rule(self):
        from bayescausal.ab.sequential import StoppingRule

        return StoppingRule(
            threshold=self.threshold,
            min_prob_positive=self.min_prob_positive,
            min_visitors_per_arm=self.min_visitors,
            min_days=self.min_days,
        )


@dataclass(frozen=True)
class AllocateOptions:
    """Thompson-sampling weights for the next period."""

    floor: float = option(0.01, "minimum share per arm")
    lower_is_better: bool = option(False, "the metric is bad (e.g. churn, bounce)")
    regret_periods: int = option(0, "also simulate regret vs an equal split over this many periods")
    prior_alpha: float = option(1.0, "Beta prior alpha for every arm")
    prior_beta: float = option(1.0, "Beta prior beta for every arm")
    seed: int = option(0, "random seed: same seed, same numbers", section="sampler")

    def __post_init__(self):
        _positive_prior(self.prior_alpha, self.prior_beta)


def parse_columns(pairs: tuple[str, ...]) -> dict[str, str]:
    """--col CANONICAL=YOURS pairs as the spec's [columns] table."""
    out = {}
    for pair in pairs:
        canonical, sep, yours = pair.partition("=")
        if not sep or not canonical or not yours:
            raise SpecError(f"--col expects CANONICAL=YOURS (e.g. arm=variant), got '{pair}'")
        out[canonical] = yours
    return out


@dataclass(frozen=True)
class TableInputs:
    """A table of per-arm counts (optionally per segment or per day), or one row per user with --events."""

    data: str = option(
        None,
        "CSV or Parquet file, folder or glob of Parquet files, DuckDB database file, or an engine URL "
        "(postgres://..., bigquery://...): the sums are computed there",
        section="data",
        positional=True,
    )
    table: str | None = option(None, "the table to read, in a DuckDB database file or at an engine URL", section="data")
    engine: Literal["duckdb", "spark"] = option(
        "duckdb",
        "the engine that reads DATA: DuckDB in-process, or Apache Spark (SPARK_MASTER, else local)",
        section="data",
    )
    col: tuple[str, ...] = option(
        (),
        "map a column, e.g. --col arm=variant --col visitors=users (repeatable)",
        section="columns",
        repeat=True,
        metavar="CANONICAL=YOURS",
    )
    counts: Literal["cumulative", "daily"] | None = option(
        None,
        "rows with a day: 'cumulative' totals to date, or each day's own counts ('daily'), summed to date here; "
        "required when the file fits both",
        section="data",
    )

    def name(self) -> str:
        return stem(self.data)

    def sections(self, typed: dict) -> dict:
        data = where_data(self.data, self.table, self.engine) | ({"counts": self.counts} if self.counts else {})
        return {"data": data, "columns": parse_columns(self.col)}


@dataclass(frozen=True)
class EventInputs(TableInputs):
    events: bool = option(
        False, "DATA holds one row per user (arm, converted, revenue, ...): aggregated for you", section="data"
    )

    def sections(self, typed: dict) -> dict:
        out = super().sections(typed)
        out["data"]["format"] = "events" if self.events else "aggregated"
        return out


@dataclass(frozen=True)
class NoInputs:
    """A command that reads no data."""

    def name(self) -> str:
        return ""

    def sections(self, typed: dict) -> dict:
        return {}
