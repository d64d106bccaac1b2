"""Bayesian A/B tests: exact Beta-Bernoulli conversion, revenue per user, segment pooling, sequential
checks and Thompson allocation.

    import bayescausal.ab as ab
    result = ab.analyze("my_test.csv", control="A", margin_rate=0.3, cost=5000)
    result.summary(); result.plot(); result.write_report("reports/my_test")

Importing this package is cheap: the family's declaration only, no PyMC.
"""

from __future__ import annotations

from bayescausal.ab import commands as _c
from bayescausal.ab.data import AB_COLUMNS
from bayescausal.ab.options import (
    ABOptions,
    AllocateOptions,
    CheckOptions,
    EventInputs,
    NoInputs,
    PlanOptions,
    SimulateOptions,
    TableInputs,
)
from bayescausal.api import entry_point
from bayescausal.family import Command, Family

FAMILY = Family(
    kind="ab",
    help="A/B tests",
    description="Bayesian A/B tests: exact Beta-Bernoulli conversion, revenue per user, segment pooling, "
    "sequential checks and Thompson allocation.",
    formats=("aggregated", "events"),
    columns=AB_COLUMNS,
    demo=("ab_checkout.toml", "ab_daily_check.toml", "ab_operating_characteristics.toml"),
    examples=(
        "bayescausal ab analyze ab.csv --control A --margin 0.3 --cost 5000",
        "bayescausal ab check daily.csv --control A --min-days 7",
    ),
    commands=(
        Command(
            "analyze",
            "analyse one test: P(best), expected loss, lifts, ROI. DATA has one row per arm (optionally per "
            "segment): arm, visitors, conversions [, revenue, revenue_sq, purchasers, segment]; with --events one "
            "row per user: arm, converted (0/1) [, revenue, user, segment]",
            "bayescausal ab analyze users.parquet --events --control 'No E-Mail' --margin 0.3 --cost 5000",
            options=ABOptions,
            inputs=EventInputs,
            load=_c.load,
            analyze=_c.analyze,
        ),
        Command(
            "check",
            "daily sequential decision check: replay every look in DATA (cumulative counts per arm per day: day, "
            "arm, visitors, conversions) and decide at the latest: ship, keep control, or continue",
            "bayescausal ab check daily.csv --control A --threshold 0.01 --min-days 7",
            options=CheckOptions,
            inputs=TableInputs,
            load=_c.load_daily,
            analyze=_c.check,
            exit_code=_c.check_exit_code,
            samples=False,
            looks=True,
        ),
        Command(
            "simulate",
            "operating characteristics of the stopping rule: wrong-decision rate, realised loss and duration "
            "against a fixed-horizon test, on simulated experiments",
            "bayescausal ab simulate --baseline 0.05 --lifts=-0.05,0,0.05,0.1 --daily-visitors 2000",
            options=SimulateOptions,
            inputs=NoInputs,
            analyze=_c.simulate,
            samples=False,
        ),
        Command(
            "plan",
            "plan a test before it starts: expected duration, P(wrong ship) and the traffic a decision needs, by "
            "simulating the stopping rule at the minimum effect of interest",
            "bayescausal ab plan --baseline 0.04 --min-effect 0.05 --daily-visitors 3000 --days 42",
            options=PlanOptions,
            inputs=NoInputs,
            analyze=_c.plan,
            samples=False,
        ),
        Command(
            "allocate",
            "Thompson-sampling traffic weights for the next period: exact P(best) with an exploration floor",
            "bayescausal ab allocate arms.csv --floor 0.05 --regret-periods 30",
            options=AllocateOptions,
            inputs=TableInputs,
            load=_c.load,
            analyze=_c.allocate,
            samples=False,
        ),
    ),
)

analyze = entry_point(FAMILY, "analyze")
check = entry_point(FAMILY, "check")
simulate = entry_point(FAMILY, "simulate")
plan = entry_point(FAMILY, "plan")
allocate = entry_point(FAMILY, "allocate")

__all__ = ["ABOptions", "FAMILY", "allocate", "analyze", "check", "plan", "simulate"]
