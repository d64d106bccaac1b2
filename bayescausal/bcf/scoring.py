"""Scoring new customers with the fitted forests: this month's list with last month's campaign. New rows are
encoded exactly as the training rows were (the same indicator columns for the same levels); a missing
covariate or an unseen category is an error naming it, because a forest cannot place a customer on a split it
never saw. Numeric values outside the training range are scored (trees predict the effect at the nearest edge
of the data) and the report counts them. Their propensity comes from the fit's `data.Propensity`. Each new row
gets its CATE's posterior mean and 94% HDI and, with a margin and a cost, the profit rule's verdict: expected
profit, P(profit > 0) and treat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayescausal.bcf import targeting as tg
from bayescausal.bcf.data import BCFData, encode_covariates
from bayescausal.data.validate import require_finite
from bayescausal.errors import DataError


@dataclass(frozen=True)
class Encoding:
    """How the fit encoded its covariates: the columns of X, and each numeric covariate's training range."""

    covariates: tuple[str, ...]
    names: tuple[str, ...]
    ranges: dict[str, tuple[float, float]]

    @classmethod
    def of(cls, data: BCFData, covariates) -> Encoding:
        numeric = [c for c in covariates if c in data.names]
        ranges = {c: (float(data.covariates[c].min()), float(data.covariates[c].max())) for c in numeric}
        return cls(tuple(covariates), tuple(data.names), ranges)

    def levels(self, col: str) -> list[str] | None:
        found = [n.split("=", 1)[1] for n in self.names if n.startswith(f"{col}=")]
        return found or None


def encode_like(new: pd.DataFrame, encoding: Encoding) -> tuple[np.ndarray, list[str]]:
    """The training encoding applied to new rows; returns X and notes on values outside the training range."""
    missing = [c for c in encoding.covariates if c not in new.columns]
    if missing:
        raise DataError(f"the customers to score lack covariate(s) {missing}; they need every covariate of the fit")
    notes = []
    for col in encoding.covariates:
        if col in encoding.ranges:  # numeric in training
            if not pd.api.types.is_numeric_dtype(new[col]):
                raise DataError(f"covariate '{col}' was numeric in the fit but is not numeric in the rows to score")
            require_finite(new, [col], what="customers to score")
            lo, hi = encoding.ranges[col]
            outside = int(((new[col] < lo) | (new[col] > hi)).sum())
            if outside:
                notes.append(f"{outside} row(s) have {col} outside the fit's range [{lo:g}, {hi:g}]")
            continue
        levels = set(encoding.levels(col) or ())
        seen = set(new[col].astype(str).str.strip().unique())
        if new[col].isna().any():
            raise DataError(f"covariate '{col}' has missing values in the rows to score; fill or drop them")
        if unknown := sorted(seen - levels):
            raise DataError(
                f"covariate '{col}' has level(s) {unknown[:5]} that the fit never saw (levels: {sorted(levels)[:10]}); "
                "a forest cannot score them: map them to a known level or refit with them"
            )
    covariates = list(encoding.covariates)
    X, names = encode_covariates(new, covariates, levels={c: encoding.levels(c) for c in covariates})
    assert tuple(names) == encoding.names  # same columns, same order
    return X, notes


@dataclass(frozen=True)
class NewRows:
    """Customers to score, encoded like the fit's rows, with their propensity, cost and ids."""

    X: np.ndarray
    pi: np.ndarray
    cost: np.ndarray
    ids: np.ndarray
    notes: list[str]


def new_rows(new: pd.DataFrame, encoding: Encoding, propensity, business: dict) -> NewRows:
    """`propensity`: the fit's `data.Propensity`, or None when the fit read a propensity column (named in
    `business["propensity_column"]`, which the new rows must then carry too)."""
    X, notes = encode_like(new, encoding)
    column = business.get("propensity_column")
    if propensity is None:
        if column not in new.columns:
            raise DataError(f"the rows to score lack the propensity column '{column}' that the fit read")
        pi = new[column].to_numpy(dtype=float)
        if not np.all((pi > 0) & (pi < 1)):
            raise DataError("the propensity column must lie strictly between 0 and 1")
    else:
        pi = propensity.predict(X)
    id_column = business.get("id")
    ids = new[id_column].to_numpy() if id_column and id_column in new.columns else np.arange(len(new))
    notes = [f"scoring: {n}; trees score them at the nearest edge of the data" for n in notes]
    return NewRows(X, pi, costs(new, business["cost_per_treated"], business.get("cost_column")), ids, notes)


def costs(frame: pd.DataFrame, cost_per_treated: float, cost_column: str | None) -> np.ndarray:
    """The cost of treating each row: a per-customer column, or one cost for all."""
    if cost_column is None:
        return np.full(len(frame), float(cost_per_treated))
    if cost_column not in frame.columns:
        raise DataError(f"cost column '{cost_column}' is not in the data")
    cost = pd.to_numeric(frame[cost_column], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(cost)) or (cost < 0).any():
        raise DataError(f"cost column '{cost_column}' must be finite and >= 0")
    return cost


def business_of(opt) -> dict:
    """The fit's options that scoring needs (and a saved model keeps as its defaults)."""
    keys = ("margin_rate", "cost_per_treated", "cost_column", "min_prob_profit", "hdi_prob", "id", "propensity_column")
    return {k: getattr(opt, k) for k in keys}


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
    tau: np.ndarray,
    ids: np.ndarray,
    *,
    margin: float,
    cost: np.ndarray,
    min_prob: float,
    hdi_prob: float,
    confidence: float = 0.0,
) -> tuple[pd.DataFrame, tg.Policy]:
    """One row per customer, in input order: CATE mean and HDI; expected profit, P(profit > 0) and treat
    (the profit rule, or the simple policy where targeting is not `confidence`-probably better)."""
    low, high = hdi_columns(tau, hdi_prob)
    policy = tg.optimal_policy(tg.profit_draws(tau, margin, cost), min_prob=min_prob, confidence=confidence)
    table = pd.DataFrame(
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
    return table, policy


def fallback_note(policy: tg.Policy, whom: str) -> str | None:
    """Words for a policy that kept treat-all / treat-none because targeting was not probably better."""
    if policy.fallback is None:
        return None
    return (
        f"{whom}: targeting by CATE beats {policy.fallback} with posterior probability only "
        f"{policy.prob_beats_uniform:.2f}, so the recommendation is {policy.fallback} (the forest's ranking "
        "is not sure enough to leave anyone out)"
    )
