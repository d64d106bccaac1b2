"""Scoring new customers with the fitted forests: this month's list with last month's campaign. New rows are
encoded exactly as the training rows were (the same indicator columns for the same levels); a missing
covariate or an unseen category is an error naming it, because a forest cannot place a customer on a split it
never saw. Numeric values outside the training range are scored (trees predict the effect at the nearest edge
of the data) and the report counts them. Their propensity comes from `data.propensity_scores`. Each new row
gets its CATE's posterior mean and 94% HDI and, with a margin and a cost, the profit rule's verdict: expected
profit, P(profit > 0) and treat.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayescausal.bcf import targeting as tg
from bayescausal.bcf.data import BCFData, encode_covariates
from bayescausal.data.validate import require_finite
from bayescausal.errors import DataError


def encode_like(new: pd.DataFrame, covariates: list[str], train: BCFData) -> tuple[np.ndarray, list[str]]:
    """The training encoding applied to new rows; returns X and notes on values outside the training range."""
    missing = [c for c in covariates if c not in new.columns]
    if missing:
        raise DataError(f"the customers to score lack covariate(s) {missing}; they need every covariate of the fit")
    notes = []
    for col in covariates:
        if col in train.names:  # numeric in training
            if not pd.api.types.is_numeric_dtype(new[col]):
                raise DataError(f"covariate '{col}' was numeric in the fit but is not numeric in the rows to score")
            require_finite(new, [col], what="customers to score")
            lo, hi = train.covariates[col].min(), train.covariates[col].max()
            outside = int(((new[col] < lo) | (new[col] > hi)).sum())
            if outside:
                notes.append(f"{outside} row(s) have {col} outside the fit's range [{lo:g}, {hi:g}]")
            continue
        levels = {n.split("=", 1)[1] for n in train.names if n.startswith(f"{col}=")}
        seen = set(new[col].astype(str).str.strip().unique())
        if new[col].isna().any():
            raise DataError(f"covariate '{col}' has missing values in the rows to score; fill or drop them")
        if unknown := sorted(seen - levels):
            raise DataError(
                f"covariate '{col}' has level(s) {unknown[:5]} that the fit never saw (levels: {sorted(levels)[:10]}); "
                "a forest cannot score them: map them to a known level or refit with them"
            )
    X, names = encode_covariates(new, covariates, levels={c: _levels(train, c) for c in covariates})
    assert names == train.names  # same columns, same order
    return X, notes


def _levels(train: BCFData, col: str) -> list[str] | None:
    found = [n.split("=", 1)[1] for n in train.names if n.startswith(f"{col}=")]
    return found or None


def hdi_columns(draws: np.ndarray, prob: float, chunk: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """The shortest interval holding `prob` of each column's draws (the HDI of a unimodal posterior)."""
    n = draws.shape[0]
    width = max(int(np.ceil(prob * n)), 1)
    low, high = np.empty(draws.shape[1]), np.empty(draws.shape[1])
    for start in range(0, draws.shape[1], chunk):
        part = np.sort(draws[:, start : start + chunk], axis=0)
        spans = part[width - 1 :] - part[: n - width + 1]
        best = spans.argmin(axis=0)
        cols = np.arange(part.shape[1])
        low[start : start + chunk] = part[best, cols]
        high[start : start + chunk] = part[best + width - 1, cols]
    return low, high


def score_table(
    tau: np.ndarray, ids: np.ndarray, *, margin: float, cost: np.ndarray, min_prob: float, hdi_prob: float
) -> pd.DataFrame:
    """One row per customer, in input order: CATE mean and HDI; expected profit, P(profit > 0) and treat."""
    low, high = hdi_columns(tau, hdi_prob)
    policy = tg.optimal_policy(tg.profit_draws(tau, margin, cost), min_prob=min_prob)
    return pd.DataFrame(
        {
            "id": ids,
            "cate_mean": tau.mean(0),
            "cate_hdi_low": low,
            "cate_hdi_high": high,
            "expected_profit": policy.expected_profit,
            "prob_profit": policy.prob_profitable,
            "treat": policy.treat.astype(int),
        }
    )
