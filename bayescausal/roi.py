"""Posterior ROI and decisions, shared by every family.

Money flows draw by draw: incremental revenue draws -> profit draws -> ROI draws, so every interval
and probability comes from the joint posterior. A decision is an explicit, configurable rule over
posterior probabilities and expected losses, never a point estimate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from bayescausal.errors import SpecError
from bayescausal.estimates import Estimate, from_draws
from bayescausal.options import option

VERDICTS = ("act", "do not act", "continue", "inconclusive")
MC_Z = 3.0  # a criterion within 3 Monte-Carlo standard errors of its cutoff could flip on another seed


@dataclass(frozen=True)
class DecisionRule:
    """Defaults: reject when P(effect > 0) < 0.9 or P(ROI > 5%) < 0.5; ship when the expected loss
    of shipping is under the threshold of caring (in the effect's own units)."""

    min_prob_positive: float = option(
        0.9, "act only when P(effect > 0) is at least this", section="business", flag="min-prob"
    )
    hurdle_roi: float = option(
        0.05, "hurdle ROI: act only when P(ROI > hurdle) is large enough", section="business", flag="hurdle"
    )
    min_prob_roi: float = option(0.5, "act only when P(ROI > hurdle) is at least this", section="business")
    threshold_of_caring: float = 0.0  # set by the family in the effect's own units (derived, not declared)

    def __post_init__(self):
        for name in ("min_prob_positive", "min_prob_roi"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise SpecError(f"decision rule: {name} must be a probability in [0, 1], got {value}")
        if self.threshold_of_caring < 0:
            raise SpecError(f"decision rule: threshold_of_caring must be >= 0, got {self.threshold_of_caring}")


@dataclass(frozen=True)
class Business:
    """What the decision is worth: margin on incremental revenue, total cost of the action."""

    margin_rate: float = option(
        1.0, "profit margin on incremental revenue, in (0, 1]", section="business", flag="margin"
    )
    cost: float | None = option(None, "total cost of the action, same currency (enables ROI)", section="business")

    def __post_init__(self):
        if not 0.0 < self.margin_rate <= 1.0:
            raise SpecError(f"margin_rate must be in (0, 1], got {self.margin_rate}")
        if self.cost is not None and self.cost <= 0:
            raise SpecError(f"cost must be > 0 (or omitted when there is no cost), got {self.cost}")


@dataclass(frozen=True)
class NextStep:
    """What would settle an inconclusive verdict: a sentence for readers and structured fields for tools."""

    text: str
    fields: dict = field(default_factory=dict)


@dataclass
class Decision:
    """The rule's action in words, and its `verdict`: act, do not act, continue (more data can come) or
    inconclusive (a gating check or the diagnostics failed: `blocking` says which, `next_step` what to do)."""

    action: str
    reason: str
    criteria: dict[str, float] = field(default_factory=dict)
    verdict: str = "do not act"
    blocking: list[dict] = field(default_factory=list)
    next_step: NextStep | None = None

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    def monte_carlo_text(self) -> str:
        """The Monte-Carlo error of each criterion estimated from draws, in words ('' when exact)."""
        shown = [
            f"{CRITERIA_NAMES.get(k, k)} {self.criteria[k]:.4g} ± {self.criteria[f'mcse_{k}']:.2g}"
            for k in CRITERIA_NAMES
            if f"mcse_{k}" in self.criteria and self.criteria.get(k) is not None
        ]
        return "Monte-Carlo standard errors: " + "; ".join(shown) if shown else ""


CRITERIA_NAMES = {
    "prob_positive": "P(effect > 0)",
    "prob_roi_above_hurdle": "P(ROI > hurdle)",
    "expected_loss_ship": "expected loss of acting",
    "expected_loss_reject": "expected loss of not acting",
}


def roi_draws(incremental_revenue: np.ndarray, business: Business) -> np.ndarray:
    """ROI = (incremental revenue x margin - cost) / cost, draw by draw."""
    if business.cost is None:
        raise SpecError("ROI needs a cost: set business.cost (total cost of the action, same currency)")
    return (np.asarray(incremental_revenue) * business.margin_rate - business.cost) / business.cost


def expected_losses(value_draws: np.ndarray) -> tuple[float, float]:
    """(loss of acting, loss of not acting) = (E[max(-v, 0)], E[max(v, 0)]) for the action's value v."""
    v = np.asarray(value_draws, dtype=float)
    return float(np.maximum(-v, 0).mean()), float(np.maximum(v, 0).mean())


@dataclass
class RoiSummary:
    """Incremental revenue, profit and ROI posteriors of one action, with the hurdle probability."""

    incremental_revenue: Estimate
    incremental_profit: Estimate
    roi: Estimate | None
    prob_roi_above_hurdle: float | None
    hurdle_roi: float
    margin_rate: float
    cost: float | None
    draws: dict[str, np.ndarray] = field(repr=False, default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "incremental_revenue": self.incremental_revenue.to_dict(),
            "incremental_profit": self.incremental_profit.to_dict(),
            "roi": self.roi.to_dict() if self.roi else None,
            "prob_roi_above_hurdle": self.prob_roi_above_hurdle,
            "hurdle_roi": self.hurdle_roi,
            "margin_rate": self.margin_rate,
            "cost": self.cost,
        }


def summarise_roi(
    incremental_revenue: np.ndarray,
    business: Business,
    rule: DecisionRule,
    method: str = "mcmc",
    *,
    finite_moments: int = 2,
) -> RoiSummary:
    """`finite_moments`: as in `estimates.from_draws`, for posteriors the model knows to lack a mean or sd."""
    revenue = np.asarray(incremental_revenue, dtype=float).ravel()
    profit = revenue * business.margin_rate - (business.cost or 0.0)
    draws = {"incremental_revenue": revenue, "incremental_profit": profit}
    roi = prob = None
    if business.cost is not None:
        draws["roi"] = roi_draws(revenue, business)
        roi = from_draws(draws["roi"], method=method)
        prob = float(np.mean(draws["roi"] > rule.hurdle_roi))
    return RoiSummary(
        incremental_revenue=from_draws(revenue, method=method, finite_moments=finite_moments),
        incremental_profit=from_draws(profit, method=method, finite_moments=finite_moments),
        roi=roi,
        prob_roi_above_hurdle=prob,
        hurdle_roi=rule.hurdle_roi,
        margin_rate=business.margin_rate,
        cost=business.cost,
        draws=draws,
    )


def decide(
    *,
    prob_positive: float,
    loss_ship: float,
    loss_reject: float,
    rule: DecisionRule,
    prob_roi: float | None = None,
    can_continue: bool = False,
    ship_label: str = "ship",
    reject_label: str = "reject",
    units: str = "",
    mcse: dict[str, float] | None = None,
    quantity: str = "effect",
) -> Decision:
    """Apply the rule. With `can_continue` (more data can come), an undecided case says `continue`
    instead of rejecting until the expected loss of rejecting is itself under the threshold.

    `mcse`: the Monte-Carlo standard error of each criterion estimated from draws (keys as in `criteria`);
    the decision lists in `criteria["monte_carlo_fragile"]` those within MC_Z errors of their cutoff."""
    inputs = {
        "prob_positive": prob_positive,
        "expected_loss_ship": loss_ship,
        "expected_loss_reject": loss_reject,
        "prob_roi_above_hurdle": prob_roi,
    }

    def verdict_at(values: dict) -> Decision:
        return _apply_rule(
            values["prob_positive"],
            values["expected_loss_ship"],
            values["expected_loss_reject"],
            rule,
            values["prob_roi_above_hurdle"],
            can_continue,
            ship_label,
            reject_label,
            units,
            quantity,
        )

    decision = verdict_at(inputs)
    if mcse:
        decision.criteria |= {f"mcse_{k}": v for k, v in mcse.items()}
        decision.criteria["monte_carlo_fragile"] = [
            key
            for key, error in mcse.items()
            if inputs.get(key) is not None
            and error > 0
            and any(
                verdict_at(inputs | {key: inputs[key] + sign * MC_Z * error}).verdict != decision.verdict
                for sign in (-1, 1)
            )
        ]
    return decision


def _apply_rule(
    prob_positive, loss_ship, loss_reject, rule, prob_roi, can_continue, ship_label, reject_label, units, quantity
):
    eps = rule.threshold_of_caring
    criteria = {
        "prob_positive": prob_positive,
        "expected_loss_ship": loss_ship,
        "expected_loss_reject": loss_reject,
        "threshold_of_caring": eps,
        "min_prob_positive": rule.min_prob_positive,
    }
    if prob_roi is not None:
        criteria |= {
            "prob_roi_above_hurdle": prob_roi,
            "hurdle_roi": rule.hurdle_roi,
            "min_prob_roi": rule.min_prob_roi,
        }
    ok_effect = prob_positive >= rule.min_prob_positive
    ok_roi = prob_roi is None or prob_roi >= rule.min_prob_roi
    ok_loss = loss_ship <= eps
    if ok_effect and ok_roi and ok_loss:
        roi_text = f", P(ROI > {rule.hurdle_roi:.0%}) = {prob_roi:.3f}" if prob_roi is not None else ""
        return Decision(
            ship_label,
            verdict="act",
            reason=f"P({quantity} > 0) = {prob_positive:.3f} >= {rule.min_prob_positive}{roi_text}, and the "
            f"expected loss of shipping {loss_ship:.3g}{units} is under the threshold of caring {eps:.3g}{units}",
            criteria=criteria,
        )
    failed = []
    if not ok_effect:
        failed.append(f"P({quantity} > 0) = {prob_positive:.3f} < {rule.min_prob_positive}")
    if not ok_roi:
        failed.append(f"P(ROI > {rule.hurdle_roi:.0%}) = {prob_roi:.3f} < {rule.min_prob_roi}")
    if not ok_loss:
        failed.append(f"expected loss of shipping {loss_ship:.3g}{units} > threshold {eps:.3g}{units}")
    if can_continue and loss_reject > eps:
        return Decision(
            "continue",
            "no decision yet: " + "; ".join(failed) + f"; and stopping now risks an expected loss of "
            f"{loss_reject:.3g}{units} (> {eps:.3g}{units})",
            criteria,
            verdict="continue",
        )
    return Decision(reject_label, "; ".join(failed), criteria, verdict="do not act")


def decide_from_draws(
    effect_draws: np.ndarray,
    rule: DecisionRule,
    *,
    prob_roi: float | None = None,
    roi_draws: np.ndarray | None = None,
    **labels,
) -> Decision:
    """`decide` with P(effect > 0) and both expected losses taken from posterior draws of the effect, each
    with its Monte-Carlo error. Draws shaped (chain, draw) are MCMC: their errors use the effective sample
    size; flat draws are independent. `roi_draws` (same shape) gives P(ROI > hurdle) its error."""
    effect = np.asarray(effect_draws, dtype=float)
    values = {  # per draw: the criterion is the mean, its Monte-Carlo error that of the mean
        "prob_positive": effect > 0,
        "expected_loss_ship": np.maximum(-effect, 0),
        "expected_loss_reject": np.maximum(effect, 0),
    }
    if roi_draws is not None:
        values["prob_roi_above_hurdle"] = np.asarray(roi_draws, dtype=float).reshape(effect.shape) > rule.hurdle_roi
    return decide(
        prob_positive=float(values["prob_positive"].mean()),
        loss_ship=float(values["expected_loss_ship"].mean()),
        loss_reject=float(values["expected_loss_reject"].mean()),
        rule=rule,
        prob_roi=prob_roi,
        mcse={k: mcse_of_mean(v) for k, v in values.items()},
        **labels,
    )


def mcse_of_mean(values: np.ndarray) -> float:
    """Monte-Carlo standard error of a mean over draws: sd / sqrt(n) for independent draws, sd / sqrt(ESS) for
    (chain, draw) MCMC draws."""
    x = np.asarray(values, dtype=float)
    sd = float(x.std())
    if sd == 0.0:
        return 0.0
    n_eff = float(x.size)
    if x.ndim == 2 and x.shape[0] > 1:
        import arviz_stats as azs

        n_eff = float(azs.ess(x, method="mean", chain_axis=0, draw_axis=1))
    return sd / np.sqrt(max(n_eff, 1.0))
