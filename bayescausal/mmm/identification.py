"""What each channel's spend design can identify, before and after fitting (issue #29).

A marketing-mix model learns a channel's effect from how its spend moves on its own: moves that no other
channel, no trend and no season share. Two numbers per channel come from the user's spend alone:

* variation: the coefficient of variation of its weekly spend (near-constant spend says nothing about a
  response curve, whatever the sampler does);
* independent share: the share of that variation left after regressing it on the other channels, a trend
  and yearly Fourier terms (1 - R^2; a channel that moves in lockstep with another has none).

After fitting, the prior-to-posterior contraction of its ROAS (1 - posterior variance / prior variance) says
how much the sales data actually taught. The label combines them:

    identified         the design moves it independently and the data contracted its ROAS
    weakly identified  it moves, but largely with others or the data taught little
    not identified     its spend barely varies, or every move it makes is another channel's too
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

LABELS = ("identified", "weakly identified", "not identified")
MIN_VARIATION = 0.05  # coefficient of variation below this: near-constant spend
MIN_INDEPENDENT = 0.05  # below this share of independent variation: lockstep with other channels
GOOD_VARIATION = 0.2
GOOD_INDEPENDENT = 0.3
GOOD_CONTRACTION = 0.5


@dataclass(frozen=True)
class ChannelDesign:
    channel: str
    variation: float  # coefficient of variation of weekly spend
    independent_share: float  # 1 - R^2 on the other channels, trend and season
    contraction: float | None = None  # 1 - posterior var / prior var of the ROAS (after fitting)

    @property
    def label(self) -> str:
        if self.variation < MIN_VARIATION or self.independent_share < MIN_INDEPENDENT:
            return "not identified"
        strong = self.variation >= GOOD_VARIATION and self.independent_share >= GOOD_INDEPENDENT
        if strong and (self.contraction is None or self.contraction >= GOOD_CONTRACTION):
            return "identified"
        return "weakly identified"

    @property
    def reason(self) -> str:
        if self.variation < MIN_VARIATION:
            return f"its spend barely varies (coefficient of variation {self.variation:.3f})"
        if self.independent_share < MIN_INDEPENDENT:
            return f"{1 - self.independent_share:.0%} of its spend's variation is shared with other channels or season"
        if self.label == "identified":
            return "its spend moves on its own and the sales data narrowed its ROAS"
        parts = []
        if self.variation < GOOD_VARIATION:
            parts.append(f"its spend varies little (coefficient of variation {self.variation:.2f})")
        if self.independent_share < GOOD_INDEPENDENT:
            parts.append(f"only {self.independent_share:.0%} of its variation is its own")
        if self.contraction is not None and self.contraction < GOOD_CONTRACTION:
            parts.append(f"the data narrowed its ROAS by only {self.contraction:.0%} from the prior")
        return "; ".join(parts)

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "reason": self.reason,
            "variation": self.variation,
            "independent_share": self.independent_share,
            "contraction": self.contraction,
        }


def _season(dates: pd.Series, modes: int = 2) -> np.ndarray:
    """A trend and yearly Fourier terms on the weeks' dates."""
    days = (pd.to_datetime(dates) - pd.to_datetime(dates).min()).dt.days.to_numpy(float)
    columns = [np.ones_like(days), days / max(days.max(), 1.0)]
    for k in range(1, modes + 1):
        columns += [np.sin(2 * np.pi * k * days / 365.25), np.cos(2 * np.pi * k * days / 365.25)]
    return np.column_stack(columns)


def spend_design(spend: pd.DataFrame, dates: pd.Series, *, modes: int = 2) -> list[ChannelDesign]:
    """Per channel: how much its weekly spend varies and how much of that is its own (see the docstring)."""
    x = spend.to_numpy(float)
    base = _season(dates, modes)
    out = []
    for j, channel in enumerate(spend.columns):
        own = x[:, j]
        mean = own.mean()
        variation = float(own.std() / mean) if mean > 0 else 0.0
        centred = own - mean
        if not centred.any():
            out.append(ChannelDesign(channel, 0.0, 0.0))
            continue
        others = np.column_stack([base, np.delete(x, j, axis=1)])
        fitted = others @ np.linalg.lstsq(others, own, rcond=None)[0]
        independent = float(((own - fitted) ** 2).sum() / (centred**2).sum())
        out.append(ChannelDesign(channel, variation, min(max(independent, 0.0), 1.0)))
    return out


def contraction(prior: np.ndarray, posterior: np.ndarray) -> float:
    """1 - posterior variance / prior variance (0: the data taught nothing; 1: they pinned it)."""
    prior_var = float(np.var(prior))
    return float(1.0 - np.var(posterior) / prior_var) if prior_var > 0 else 0.0


def table(designs: list[ChannelDesign]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "channel": d.channel,
                "identification": d.label,
                "spend variation (CV)": d.variation,
                "independent share": d.independent_share,
                "prior-to-posterior contraction": d.contraction,
                "why": d.reason,
            }
            for d in designs
        ]
    )
