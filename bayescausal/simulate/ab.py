"""A/B experiments with known truth: per-segment conversion rates and lifts, lognormal order values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ABTruth:
    """The truth behind a simulated experiment (what a correct analysis should recover)."""

    segments: tuple[str, ...]
    arms: tuple[str, ...]
    rates: np.ndarray  # (segment, arm) conversion rates
    segment_share: np.ndarray  # traffic share of each segment
    order_log_mean: float
    order_log_sd: float

    @property
    def segment_lifts(self) -> np.ndarray:
        return self.rates[:, 1:] - self.rates[:, :1]

    @property
    def mean_order_value(self) -> float:
        return float(np.exp(self.order_log_mean + self.order_log_sd**2 / 2))


def make_truth(
    *,
    n_segments: int = 6,
    baseline: float = 0.05,
    mean_relative_lift: float = 0.08,
    lift_sd: float = 0.1,
    arms: tuple[str, ...] = ("control", "treatment"),
    seed: int = 0,
) -> ABTruth:
    """Segments whose baselines and log-odds lifts vary around common values (the pooling model's world)."""
    rng = np.random.default_rng(seed)
    logit_base = np.log(baseline / (1 - baseline)) + rng.normal(0, 0.3, n_segments)
    lifts = np.log1p(mean_relative_lift) + rng.normal(0, lift_sd, (n_segments, len(arms) - 1))
    eta = np.concatenate([logit_base[:, None], logit_base[:, None] + lifts], axis=1)
    share = rng.dirichlet(np.full(n_segments, 5.0))
    names = tuple(f"segment_{i + 1}" for i in range(n_segments))
    return ABTruth(names, tuple(arms), 1 / (1 + np.exp(-eta)), share, np.log(40.0), 0.8)


def simulate_events(
    truth: ABTruth, *, users: int, days: int = 14, seed: int = 0, allocation: np.ndarray | None = None
) -> pd.DataFrame:
    """One row per user: user, arm, segment, converted, revenue, timestamp."""
    rng = np.random.default_rng(seed)
    k = len(truth.arms)
    shares = np.full(k, 1 / k) if allocation is None else np.asarray(allocation)
    seg = rng.choice(len(truth.segments), size=users, p=truth.segment_share)
    arm = rng.choice(k, size=users, p=shares)
    converted = rng.random(users) < truth.rates[seg, arm]
    revenue = np.where(converted, rng.lognormal(truth.order_log_mean, truth.order_log_sd, users), 0.0)
    start = np.datetime64("2026-01-05T00:00")
    minutes = rng.integers(0, days * 24 * 60, size=users)
    return pd.DataFrame(
        {
            "user": np.arange(users),
            "arm": np.asarray(truth.arms)[arm],
            "segment": np.asarray(truth.segments)[seg],
            "converted": converted.astype(int),
            "revenue": np.round(revenue, 2),
            "timestamp": start + minutes.astype("timedelta64[m]"),
        }
    )
