"""Fast K-arm rankings for batches (one ranking per segment): the same integrals as `beta.quadrature_ranking`,
with every Beta CDF obtained by integrating its own density on the quadrature grid instead of calling the
incomplete beta function at every node.

On a uniform grid of Gauss-Legendre panels in logit space, the integral of a density from a panel's left edge
to each of its nodes is a fixed matrix times the density at the nodes (spectral integration of the
interpolating polynomial); summing panels gives each arm's CDF at every node, to the accuracy of the rule
itself. Panels are at most PANEL_SDS of the sharpest arm's logit-scale sd wide, and the grid spans TAIL_SDS
sds beyond every arm, so a posterior of any sharpness is resolved. Used where every parameter is at least
MIN_PARAMETER (the logit-scale tails are then light enough for the span); elsewhere the caller falls back.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy import special

from bayescausal.ab.beta import exclusive_product

NODES = 16
PANEL_SDS = 2.5
TAIL_SDS = 10.0
MIN_PARAMETER = 10.0


@cache
def _rule() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [-1, 1], and S with S @ f = the integral from -1 to each node."""
    x, w = np.polynomial.legendre.leggauss(NODES)
    k = np.arange(NODES)
    vander = np.polynomial.legendre.legvander(x, NODES - 1)  # P_k(x_i)
    upper = np.polynomial.legendre.legvander(x, NODES)
    integral = np.empty((NODES, NODES))
    integral[:, 0] = x + 1.0
    integral[:, 1:] = (upper[:, 2:] - upper[:, : NODES - 1]) / (2 * k[1:] + 1)  # (P_{k+1} - P_{k-1}) / (2k+1)
    return x, w, integral @ np.linalg.inv(vander)


def applicable(alpha: np.ndarray, beta: np.ndarray) -> bool:
    return bool(np.min(alpha) >= MIN_PARAMETER and np.min(beta) >= MIN_PARAMETER)


def rank_batch(alpha: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(best) and expected loss for rows of K arms (R, K), higher is better."""
    centre = special.digamma(alpha) - special.digamma(beta)
    scale = np.sqrt(special.polygamma(1, alpha) + special.polygamma(1, beta))
    lo = (centre - TAIL_SDS * scale).min(axis=1)
    hi = (centre + TAIL_SDS * scale).max(axis=1)
    panels = np.ceil((hi - lo) / (PANEL_SDS * scale.min(axis=1))).astype(int)
    panels = 4 * np.ceil(panels / 4).astype(int)  # few distinct sizes: rows are batched by their panel count
    prob, loss = np.empty_like(alpha), np.empty_like(alpha)
    for count in np.unique(panels):
        rows = panels == count
        prob[rows], loss[rows] = _rank_rows(alpha[rows], beta[rows], lo[rows], hi[rows], int(count))
    return prob, np.maximum(loss, 0.0)


def _rank_rows(alpha, beta, lo, hi, count: int):
    x_gl, w_gl, integrate = _rule()
    half = (hi - lo) / (2 * count)  # (R,)
    mids = lo[:, None] + half[:, None] * (2 * np.arange(count) + 1)  # (R, P)
    z = mids[..., None] + half[:, None, None] * x_gl  # (R, P, n)
    log_x, log_1mx = special.log_expit(z), special.log_expit(-z)
    a, b = alpha[:, :, None, None], beta[:, :, None, None]
    log_norm = special.betaln(alpha, beta)[:, :, None, None]
    density = np.exp(a * log_x[:, None] + b * log_1mx[:, None] - log_norm)  # (R, K, P, n), in logit space
    h = half[:, None, None]
    totals = h * (density @ w_gl)  # (R, K, P)
    partial = h[..., None] * (density @ integrate.T)  # from each panel's left edge to each node
    before = np.cumsum(totals, axis=-1) - totals
    cdf = (before[..., None] + partial) / totals.sum(axis=-1)[..., None, None]
    others = exclusive_product(np.minimum(cdf, 1.0), axis=1)  # over the arms
    weights = half[:, None, None, None] * w_gl  # (R, 1, 1, n)
    mass = weights * density * others  # (R, K, P, n)
    prob = mass.sum(axis=(2, 3))
    e_max = (mass * np.exp(log_x)[:, None]).sum(axis=(1, 2, 3))
    return prob, e_max[:, None] - alpha / (alpha + beta)
