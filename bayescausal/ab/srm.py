"""The sample-ratio-mismatch alarm of `ab analyze` and `ab check`: its level, the planned split by arm, and the
chi-square p-value of the observed split. Kept apart so the options can name the level without importing the
sequential machinery (which imports them back)."""

from __future__ import annotations

import numpy as np

from bayescausal.errors import SpecError

SRM_ALPHA = 0.001  # the sample-ratio-mismatch alarm level, for `ab analyze` and `ab check` alike


def planned_split(arms: list[str], allocation: tuple[float, ...] | None) -> dict[str, float]:
    """The planned share of each arm by name (control first, as the shares are given), so a report never shows
    shares without saying whose they are."""
    shares = [1 / len(arms)] * len(arms) if allocation is None else list(allocation)
    if len(shares) != len(arms):
        raise SpecError(
            f"allocation has {len(shares)} shares for {len(arms)} arms ({', '.join(arms)}, control first); give one "
            "share per arm in that order"
        )
    return dict(zip(arms, map(float, shares), strict=True))


def srm_pvalue(visitors: np.ndarray, allocation: tuple[float, ...] | None) -> float:
    """Chi-square goodness-of-fit p-value of the observed split against the planned allocation."""
    visitors = np.asarray(visitors, dtype=float)
    shares = np.full(visitors.size, 1 / visitors.size) if allocation is None else np.asarray(allocation)
    if shares.size != visitors.size:
        raise SpecError(f"allocation has {shares.size} shares for {visitors.size} arms")
    expected = shares * visitors.sum()
    from scipy import stats  # scipy is heavy; the options that name SRM_ALPHA do not need it

    return float(stats.chisquare(visitors, expected).pvalue)
