"""Choosing the method for a ranking of Beta arms: the compiled closed form for two arms, spectral integration
for batches of K arms, quadrature otherwise. The methods live in `beta` (quadrature), `kernels` (closed forms)
and `spectral` (batches); this module only dispatches, so none of them imports another's dispatcher."""

from __future__ import annotations

import numpy as np

from bayescausal.ab import spectral
from bayescausal.ab.beta import quadrature_ranking


def rank_arms(alpha, beta, *, lower_is_better: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """P(each arm is best) and the expected loss of choosing each arm, for independent Betas.

    Expected loss of arm k = E[max_j p_j - p_k] (or E[p_k - min_j p_j] when lower is better), in
    rate units. Shapes (..., K) in, (..., K) out. Exact up to quadrature error (~1e-12).
    """
    alpha = np.asarray(alpha, dtype=float)
    beta = np.asarray(beta, dtype=float)
    if alpha.shape[-1] == 2:
        closed = _two_arms_closed(alpha, beta, lower_is_better)
        if closed is not None:
            return closed
    if spectral.applicable(alpha, beta):  # K arms in batches: CDFs by spectral integration, ~10x faster
        a, b = (beta, alpha) if lower_is_better else (alpha, beta)  # lower is better: rank 1 - rate
        prob, loss = spectral.rank_batch(a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1]))
        return prob.reshape(alpha.shape), loss.reshape(alpha.shape)
    return quadrature_ranking(alpha, beta, lower_is_better=lower_is_better)


def _two_arms_closed(alpha: np.ndarray, beta: np.ndarray, lower_is_better: bool):
    """The compiled closed form (bayescausal.ab.kernels) for a batch of two-arm rankings, or None when some
    row has no integer parameter (those go to quadrature with the rest)."""
    from bayescausal.ab.kernels import two_arms_batch

    if lower_is_better:  # a lower rate is better <=> a higher (1 - rate) is better
        alpha, beta = beta, alpha
    flat_a = np.ascontiguousarray(alpha.reshape(-1, 2))
    p, loss_0, loss_1 = two_arms_batch(flat_a, np.ascontiguousarray(beta.reshape(-1, 2)))
    if np.isnan(p).any():
        return None
    prob_best = np.stack([1.0 - p, p], axis=-1).reshape(alpha.shape)
    return prob_best, np.stack([loss_0, loss_1], axis=-1).reshape(alpha.shape)


def expected_losses_two_arms(a_a: float, b_a: float, a_b: float, b_b: float) -> tuple[float, float]:
    """(loss of choosing A, loss of choosing B) = (E[max(p_B - p_A, 0)], E[max(p_A - p_B, 0)]).

    Stucchio's identity: E[p_B 1{p_B > p_A}] = E[p_B] P(B' > A) with B' ~ Beta(a_B + 1, b_B)."""
    _, loss = exact_ranking(np.array([a_a, a_b], dtype=float), np.array([b_a, b_b], dtype=float))
    return float(loss[0]), float(loss[1])


def exact_ranking(alpha: np.ndarray, beta: np.ndarray, *, lower_is_better: bool = False):
    """P(best) and expected loss per arm: the compiled closed form for two arms, quadrature for more."""
    alpha = np.asarray(alpha, dtype=float)
    beta = np.asarray(beta, dtype=float)
    if alpha.shape == (2,):
        from bayescausal.ab.kernels import two_arms

        a, b = (beta, alpha) if lower_is_better else (alpha, beta)  # lower is better: rank 1 - rate
        p, loss_a, loss_b = two_arms(a[0], b[0], a[1], b[1])
        if not np.isnan(p):
            return np.array([1.0 - p, p]), np.array([loss_a, loss_b])
    return rank_arms(alpha, beta, lower_is_better=lower_is_better)
