"""Named posterior quantities: one `Estimate` per quantity, from draws or from an exact distribution.

An estimate always carries the mean, median, sd, a highest-density interval (a real HDI, never a
percentile interval under that name), an equal-tailed interval, and P(> 0) where it makes sense:
never a point estimate alone.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Literal, Protocol

import numpy as np

HDI_PROB = 0.94
Method = Literal["exact", "mcmc", "monte-carlo"]


@dataclass(frozen=True)
class Estimate:
    mean: float
    median: float
    sd: float
    hdi_low: float
    hdi_high: float
    hdi_prob: float
    eti_low: float
    eti_high: float
    prob_positive: float | None
    method: Method
    mcse_mean: float | None = None

    def to_dict(self) -> dict[str, float | str | None]:
        return {k: _json_number(v) for k, v in asdict(self).items()}

    @property
    def centre(self) -> float:
        """The mean where it exists, else the median: the number to carry into another calculation."""
        return self.mean if math.isfinite(self.mean) else self.median

    @property
    def spread(self) -> float:
        """The sd where it exists, else the Normal-equivalent sd of the equal-tailed interval (its width over
        2 z), which is stable across seeds when the sd itself is not."""
        if math.isfinite(self.sd):
            return self.sd
        z = NormalDist().inv_cdf(0.5 + self.hdi_prob / 2)
        return (self.eti_high - self.eti_low) / (2 * z)

    def interval_text(self, fmt: str = "{:.4g}") -> str:
        return f"[{fmt.format(self.hdi_low)}, {fmt.format(self.hdi_high)}]"


def _json_number(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def hdi_from_draws(draws: np.ndarray, prob: float = HDI_PROB) -> tuple[float, float]:
    """Shortest interval holding `prob` of the draws (unimodal HDI), as ArviZ computes it."""
    x = np.sort(np.asarray(draws, dtype=float).ravel())
    n = x.size
    k = int(math.floor(prob * n))
    if k < 1 or k >= n:
        return float(x[0]), float(x[-1])
    widths = x[k:] - x[: n - k]
    i = int(np.argmin(widths))
    return float(x[i]), float(x[i + k])


def from_draws(
    draws: np.ndarray,
    *,
    method: Method = "mcmc",
    hdi_prob: float = HDI_PROB,
    signed: bool = True,
    ess: float | None = None,
    finite_moments: int = 2,
) -> Estimate:
    """Summarise posterior draws of one scalar quantity (all chains pooled).

    The Monte-Carlo standard error of the mean uses `ess` if given; else, for MCMC draws shaped
    (chain, draw), the bulk ESS computed here; else the number of (independent) draws.

    `finite_moments`: how many moments the posterior has, when the model knows it (a Student-t posterior with
    nu degrees of freedom has those below nu). The mean of draws from a posterior without a mean is a different
    random number for every seed, so it is published as undefined (NaN, null in JSON), and so is the sd without
    a variance; the median and the intervals are the centre and spread to read then."""
    arr = np.asarray(draws, dtype=float)
    if ess is None and method == "mcmc" and arr.ndim == 2 and arr.shape[0] > 1:
        import arviz_stats as azs

        ess = float(azs.ess(arr, method="bulk", chain_axis=0, draw_axis=1))
    x = arr.ravel()
    low, high = hdi_from_draws(x, hdi_prob)
    tail = (1 - hdi_prob) / 2
    eti = np.quantile(x, [tail, 1 - tail])
    sd = float(x.std(ddof=1)) if x.size > 1 and finite_moments >= 2 else (0.0 if x.size <= 1 else math.nan)
    n_eff = float(ess) if ess is not None else float(x.size)
    return Estimate(
        mean=float(x.mean()) if finite_moments >= 1 else math.nan,
        median=float(np.median(x)),
        sd=sd,
        hdi_low=low,
        hdi_high=high,
        hdi_prob=hdi_prob,
        eti_low=float(eti[0]),
        eti_high=float(eti[1]),
        prob_positive=float(np.mean(x > 0)) if signed else None,
        method=method,
        mcse_mean=sd / math.sqrt(n_eff) if n_eff > 0 and math.isfinite(sd) else None,
    )


class ExactDistribution(Protocol):
    """What an exact (closed-form or quadrature) posterior must offer to become an Estimate."""

    def mean(self) -> float: ...
    def sd(self) -> float: ...
    def cdf(self, x: float) -> float: ...
    def ppf(self, q: float) -> float: ...
    def hdi(self, prob: float) -> tuple[float, float]: ...


def from_distribution(dist: ExactDistribution, *, hdi_prob: float = HDI_PROB, signed: bool = True) -> Estimate:
    """Summarise an exact posterior: no sampling error at all."""
    tail = (1 - hdi_prob) / 2
    low, high = dist.hdi(hdi_prob)
    return Estimate(
        mean=dist.mean(),
        median=dist.ppf(0.5),
        sd=dist.sd(),
        hdi_low=low,
        hdi_high=high,
        hdi_prob=hdi_prob,
        eti_low=dist.ppf(tail),
        eti_high=dist.ppf(1 - tail),
        prob_positive=1.0 - float(np.squeeze(dist.cdf(0.0))) if signed else None,
        method="exact",
    )
