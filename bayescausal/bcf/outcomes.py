"""Which outcome model the stochtree forests fit: Gaussian, probit for 0/1 outcomes, or the two-part hurdle
for zero-inflated spend.

`auto` reads the outcome once. A 0/1 outcome gets the probit. A non-negative outcome with a share of exact
zeros of at least ZERO_SHARE gets the hurdle: a Gaussian model puts no mass on exact zeros, so its posterior
predictive check would flag the share of zeros (p = 0) on any such outcome, and its CATEs average a spike
at zero with a long right tail, which ranks customers badly out of sample (benchmarks/bcf.py, Hillstrom).
"""

from __future__ import annotations

import numpy as np

from bayescausal.bcf.forests import KINDS as STOCHTREE
from bayescausal.errors import DataError, SpecError

ZERO_SHARE = 0.10  # share of exact zeros from which `auto` fits the two-part model
MIN_BUYERS = 10  # purchasers per arm the log-spend forest needs


def zero_inflated(y: np.ndarray) -> bool:
    return bool((y >= 0).all() and np.mean(y == 0) >= ZERO_SHARE and not np.isin(y, (0.0, 1.0)).all())


def outcome_model(y: np.ndarray, arm: np.ndarray, likelihood: str) -> str:
    """The stochtree outcome model for `likelihood` (auto resolved here), checked against the data."""
    if likelihood == "auto":
        binary = np.isin(y, (0.0, 1.0)).all()
        kind = "probit" if binary else "hurdle" if zero_inflated(y) and _buyers_ok(y, arm) else "gaussian"
    elif likelihood in STOCHTREE:
        kind = likelihood
    else:
        raise SpecError(
            f"likelihood '{likelihood}' needs backend = 'pymc' (stochtree fits {', '.join(STOCHTREE)} or auto)"
        )
    if kind == "probit" and not np.isin(y, (0.0, 1.0)).all():
        raise DataError("likelihood 'probit' needs a 0/1 outcome; use gaussian or hurdle for amounts")
    if kind == "hurdle":
        _require_hurdle(y, arm)
    return kind


def _buyers_ok(y: np.ndarray, arm: np.ndarray) -> bool:
    return all(((arm == a) & (y > 0)).sum() >= MIN_BUYERS for a in np.unique(arm))


def _require_hurdle(y: np.ndarray, arm: np.ndarray) -> None:
    if (y < 0).any():
        raise DataError(
            f"the hurdle model needs a non-negative outcome (spend); {int((y < 0).sum())} value(s) are negative: "
            "net refunds out, or use likelihood = 'gaussian'"
        )
    if not _buyers_ok(y, arm):
        counts = {int(a): int(((arm == a) & (y > 0)).sum()) for a in np.unique(arm)}
        raise DataError(
            f"the hurdle model needs at least {MIN_BUYERS} customers with a positive outcome in every arm "
            f"(found {counts} by arm): too few purchasers to learn how much they spend; use likelihood = "
            "'gaussian' or more data"
        )
