"""Guardrails: metrics a launch must not make worse (refund rate, latency, unsubscribes), each with its own
threshold on the expected loss of shipping.

A guardrail is "METRIC:DIRECTION:THRESHOLD": DIRECTION says which way is better (`lower` for a refund rate,
`higher` for a retention rate), THRESHOLD is the largest expected worsening, in the metric's own units per
user, that the team accepts. From per-arm sums of the metric (and of its square), the per-user mean has an
exact posterior: Beta for a 0/1 metric, else the reference Normal-Inverse-Gamma (a Student-t). The check
gates: a breached guardrail blocks an otherwise winning test, and is named in the verdict's `blocking`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from bayescausal.errors import DataError, SpecError
from bayescausal.result import Check

DIRECTIONS = ("lower", "higher")


@dataclass(frozen=True)
class Guardrail:
    metric: str
    better: Literal["lower", "higher"]
    threshold: float

    @classmethod
    def parse(cls, text: str) -> Guardrail:
        parts = [p.strip() for p in text.split(":")]
        if len(parts) != 3 or not parts[0] or parts[1] not in DIRECTIONS:
            raise SpecError(
                f"guardrail '{text}': expected METRIC:lower|higher:THRESHOLD, e.g. refund_rate:lower:0.002 "
                "(lower: a rise is the harm; the threshold is the largest expected worsening per user you accept)"
            )
        try:
            threshold = float(parts[2])
        except ValueError:
            raise SpecError(f"guardrail '{text}': the threshold '{parts[2]}' is not a number") from None
        if not threshold >= 0:
            raise SpecError(f"guardrail '{text}': the threshold must be >= 0")
        return cls(parts[0], parts[1], threshold)


def mean_draws(totals: pd.DataFrame, metric: str, draws: int, rng: np.random.Generator) -> np.ndarray:
    """(draws, arms) posterior draws of each arm's per-user mean of `metric` from its sums."""
    n = totals["visitors"].to_numpy(float)
    s1 = totals[metric].to_numpy(float)
    s2 = totals[f"{metric}_sq"].to_numpy(float)
    if np.allclose(s1, s2) and (s1 <= n).all():  # 0/1 per user: the sum of squares is the sum
        return rng.beta(1 + s1, 1 + n - s1, size=(draws, len(n)))
    if (n < 2).any():
        raise DataError(f"guardrail '{metric}': every arm needs at least 2 users")
    mean = s1 / n
    ss = np.maximum(s2 - n * mean**2, 0.0)
    sigma2 = ss / rng.chisquare(n - 1, size=(draws, len(n)))
    return mean + np.sqrt(sigma2 / n) * rng.standard_normal((draws, len(n)))


def guardrail_check(
    guard: Guardrail, totals: pd.DataFrame, arms: list[str], shipped: int | None, *, draws: int, seed: int
) -> Check:
    """Gating: the expected worsening of the guardrail if `shipped` (an arm index) goes live, against its
    threshold. When the rule ships nothing there is nothing to guard, and the check says so."""
    name = f"guardrail {guard.metric} ({guard.better} is better)"
    if shipped is None:
        return Check(name, True, "the rule ships no arm: nothing to guard", {"metric": guard.metric}, gating=True)
    means = mean_draws(totals, guard.metric, draws, np.random.default_rng(seed + 31))
    change = means[:, shipped] - means[:, 0]
    harm = change if guard.better == "lower" else -change
    loss = float(np.maximum(harm, 0).mean())
    mcse = float(np.maximum(harm, 0).std() / np.sqrt(draws))
    ok = loss <= guard.threshold
    return Check(
        name,
        ok,
        f"shipping {arms[shipped]} changes {guard.metric} per user by {change.mean():+.4g} (94% interval "
        f"{np.quantile(change, 0.03):+.4g} to {np.quantile(change, 0.97):+.4g}); expected worsening {loss:.4g} "
        f"(± {mcse:.1g}) against the threshold {guard.threshold:g}" + ("" if ok else ": the guardrail is BREACHED"),
        {
            "metric": guard.metric,
            "expected_worsening": loss,
            "threshold": guard.threshold,
            "mean_change": float(change.mean()),
        },
        gating=True,
        next_step=f"do not ship {arms[shipped]} as it is: find why {guard.metric} gets worse, or run longer if the "
        "interval is wide (the expected worsening falls as it narrows)",
    )
