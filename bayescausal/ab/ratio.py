"""Ratio metrics: revenue per session, items per order, clicks per view.

The unit of randomisation is the user, not the session, so sessions of one user are not independent: a
session-level interval treats them as if they were and is too narrow. The ratio of two per-user means keeps
the user as the unit: each user contributes a pair (numerator, denominator), the pair's mean vector gets the
exact Normal-Inverse-Wishart posterior (reference prior) from per-arm sums alone (n, both sums, both sums of
squares and the sum of products), and the ratio is taken draw by draw. This is the Bayesian counterpart of
the delta method, with the dependence of numerator and denominator within users carried through.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from bayescausal.ab.beta import rank_draws
from bayescausal.errors import DataError, SpecError


@dataclass(frozen=True)
class Ratio:
    numerator: str
    denominator: str

    @classmethod
    def parse(cls, text: str) -> Ratio:
        num, sep, den = (part.strip() for part in text.partition("/"))
        if not sep or not num or not den or num == den:
            raise SpecError(
                f"ratio '{text}': expected NUMERATOR/DENOMINATOR, two per-user columns, e.g. revenue/sessions"
            )
        return cls(num, den)

    @property
    def name(self) -> str:
        return f"{self.numerator}_per_{self.denominator}"

    @property
    def product(self) -> str:
        return f"{self.numerator}*{self.denominator}"


@dataclass
class RatioPosterior:
    ratio: Ratio
    per_user: np.ndarray  # (draws, arms): the ratio of means, draw by draw (named per_user for the ranking code)

    def ranking(self) -> dict[str, np.ndarray]:
        return rank_draws(self.per_user)


def require_ratio_rows(events: pd.DataFrame, ratio: Ratio) -> None:
    """A numerator without a denominator (revenue with no session) is an export error, not a ratio."""
    num, den = events[ratio.numerator].to_numpy(float), events[ratio.denominator].to_numpy(float)
    orphan = (den == 0) & (num != 0)
    ratio_rows_check(ratio, int((den < 0).sum()), int(orphan.sum()), f"rows {list(np.flatnonzero(orphan)[:3])}")


def ratio_rows_check(ratio: Ratio, negative: int, orphans: int, where: str) -> None:
    """The ratio's row checks from their counts (in memory or counted by an engine): one wording."""
    if negative:
        raise DataError(f"ratio {ratio.name}: '{ratio.denominator}' has negative values; it must count something")
    if orphans:
        raise DataError(
            f"ratio {ratio.name}: {orphans} user(s) have {ratio.numerator} != 0 but {ratio.denominator} = 0 "
            f"(e.g. {where}); a {ratio.numerator} needs a {ratio.denominator}. "
            "Fix the export (sessions lost in a join?)"
        )


def ratio_posterior(totals: pd.DataFrame, ratio: Ratio, *, draws: int, seed: int) -> RatioPosterior:
    """Exact posterior draws of mean(numerator) / mean(denominator) per arm."""
    rng = np.random.default_rng(seed + 53)
    out = np.empty((draws, len(totals)))
    for k, (arm, row) in enumerate(totals.iterrows()):
        n = float(row["visitors"])
        if row[ratio.denominator] <= 0:
            raise DataError(f"ratio {ratio.name}: '{ratio.denominator}' sums to zero in arm '{arm}'; no ratio exists")
        if n < 3:
            raise DataError(f"ratio {ratio.name}: arm '{arm}' needs at least 3 users")
        mean = np.array([row[ratio.numerator], row[ratio.denominator]]) / n
        second = np.array(
            [
                [row[f"{ratio.numerator}_sq"], row[ratio.product]],
                [row[ratio.product], row[f"{ratio.denominator}_sq"]],
            ]
        )
        scatter = second - n * np.outer(mean, mean) + 1e-12 * np.eye(2)
        sigma = stats.invwishart.rvs(df=n - 1, scale=scatter, size=draws, random_state=rng).reshape(draws, 2, 2)
        mu = mean + np.einsum("dij,dj->di", np.linalg.cholesky(sigma / n), rng.standard_normal((draws, 2)))
        out[:, k] = mu[:, 0] / mu[:, 1]
    return RatioPosterior(ratio, out)
