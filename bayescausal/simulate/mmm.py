"""Ground truth for marketing-mix models: weekly sales from a known baseline, trend, yearly seasonality,
special-sale events and channel effects with known adstock, saturation and ROAS.

The channel response follows pymc-marketing's own components (normalised geometric adstock, logistic
saturation on spend scaled by its maximum), so a correctly specified fit can recover the truth. Channel
names and spend levels mimic DT-Mart (crores per week, 9 channels, bursty Sponsorship, near-empty Radio).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DTMART_CHANNELS = [
    "TV",
    "Digital",
    "Sponsorship",
    "ContentMarketing",
    "OnlineMarketing",
    "Affiliates",
    "SEM",
    "Radio",
    "Other",
]
# mean weekly spend (crores) and burstiness, roughly DT-Mart's
_SPEND = {
    "TV": (0.6, 0.5),
    "Digital": (0.6, 0.8),
    "Sponsorship": (10.0, 0.6),
    "ContentMarketing": (0.2, 0.9),
    "OnlineMarketing": (3.6, 0.5),
    "Affiliates": (1.1, 0.5),
    "SEM": (1.5, 0.6),
    "Radio": (0.2, 1.2),
    "Other": (0.6, 1.2),
}


@dataclass
class MMMTruth:
    channels: list[str]
    adstock_alpha: dict[str, float]
    saturation_lam: dict[str, float]
    beta: dict[str, float]  # contribution at full saturation (sales units)
    channel_max: dict[str, float]  # the spend scale the saturation sees
    contribution: pd.DataFrame  # weekly contribution per channel (same units as sales)
    roas: dict[str, float]  # total contribution / total spend
    share: dict[str, float]  # channel's share of all media contribution
    l_max: int


def geometric_adstock(x: np.ndarray, alpha: float, l_max: int) -> np.ndarray:
    """Normalised geometric adstock (weights alpha^k / sum), as pymc-marketing's GeometricAdstock."""
    w = alpha ** np.arange(l_max)
    w = w / w.sum()
    out = np.zeros_like(x, dtype=float)
    for k in range(l_max):
        out[k:] += w[k] * x[: len(x) - k]
    return out


def logistic_saturation(x: np.ndarray, lam: float) -> np.ndarray:
    return (1 - np.exp(-lam * x)) / (1 + np.exp(-lam * x))


def monthly_steps(weekly: np.ndarray, weeks_per_step: int = 4) -> np.ndarray:
    """Spend that only changes every few weeks: what monthly budgets spread to weeks look like."""
    steps = np.repeat(weekly[::weeks_per_step], weeks_per_step)[: len(weekly)]
    return steps


def simulate_spend(weeks: int, channels: list[str], *, seed: int = 0, monthly: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols = {}
    for c in channels:
        mean, burst = _SPEND.get(c, (1.0, 0.6))
        x = mean * rng.lognormal(-(burst**2) / 2, burst, weeks)
        x[rng.random(weeks) < (0.5 if c in ("Radio", "Other") else 0.05)] = 0.0
        cols[c] = monthly_steps(x) if monthly else x
    return pd.DataFrame(cols)


def simulate(
    weeks: int = 104,
    *,
    channels: list[str] | None = None,
    roas: dict[str, float] | None = None,
    spend: pd.DataFrame | None = None,
    noise: float = 0.05,
    l_max: int = 4,
    seed: int = 0,
    start: str = "2015-06-28",
) -> tuple[pd.DataFrame, MMMTruth]:
    """Weekly sales (crores) = baseline x (trend + seasonality) + events + channel effects + noise.

    `roas` fixes each channel's true ROAS (default: 0.5 to 4); `spend` may be the user's own spend matrix
    (for the identifiability check), else DT-Mart-like spend is drawn. Noise sd is `noise` x baseline."""
    channels = channels or (list(spend.columns) if spend is not None else DTMART_CHANNELS)
    rng = np.random.default_rng(seed)
    spend = simulate_spend(weeks, channels, seed=seed + 1) if spend is None else spend[channels].reset_index(drop=True)
    weeks = len(spend)
    roas = roas or dict(zip(channels, np.round(rng.uniform(0.5, 4.0, len(channels)), 2), strict=True))
    alpha = dict(zip(channels, np.round(rng.uniform(0.1, 0.7, len(channels)), 2), strict=True))
    lam = dict(zip(channels, np.round(rng.uniform(0.8, 3.0, len(channels)), 2), strict=True))
    contribution, betas, scales = {}, {}, {}
    for c in channels:
        x = spend[c].to_numpy(float)
        scale = x.max() if x.max() > 0 else 1.0
        shape = logistic_saturation(geometric_adstock(x / scale, alpha[c], l_max), lam[c])
        # beta chosen so that total contribution / total spend equals the target ROAS
        beta = roas[c] * x.sum() / shape.sum() if shape.sum() > 0 else 0.0
        contribution[c] = beta * shape
        betas[c], scales[c] = float(beta), float(scale)
    contribution = pd.DataFrame(contribution)
    dates = pd.date_range(start, periods=weeks, freq="7D")
    t = np.arange(weeks)
    baseline = 60.0
    season = 0.15 * np.sin(2 * np.pi * t / 52.18) + 0.08 * np.cos(4 * np.pi * t / 52.18)
    trend = 0.002 * t
    event = (rng.random(weeks) < 0.12).astype(float)
    sales = baseline * (1 + trend + season) + 25.0 * event + contribution.sum(1).to_numpy()
    sales = sales + rng.normal(0, noise * baseline, weeks)
    frame = pd.DataFrame(
        {"date": dates, "gmv": sales, **{c: spend[c].to_numpy() for c in channels}, "sale_event": event}
    )
    frame["trend"] = t / weeks
    totals = contribution.sum()
    truth = MMMTruth(
        channels=channels,
        adstock_alpha=alpha,
        saturation_lam=lam,
        beta=betas,
        channel_max=scales,
        contribution=contribution.set_index(dates),
        roas={c: float(totals[c] / spend[c].sum()) if spend[c].sum() > 0 else float("nan") for c in channels},
        share={c: float(totals[c] / totals.sum()) for c in channels},
        l_max=l_max,
    )
    return frame, truth


def true_lift(truth: MMMTruth, channel: str, x: float, delta_x: float) -> float:
    """Weekly sales lift of raising a channel's steady weekly spend from x to x + delta_x: what a
    perfect lift test would measure (pymc-marketing's lift-test likelihood compares the same quantity)."""
    lam, beta, scale = truth.saturation_lam[channel], truth.beta[channel], truth.channel_max[channel]
    return beta * (
        logistic_saturation(np.array((x + delta_x) / scale), lam) - logistic_saturation(np.array(x / scale), lam)
    )
