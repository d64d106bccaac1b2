"""The hierarchical DiD model's likelihood: each unit's cells with its level and its own effect deviation
integrated out, from per-cell segment sums or, for units sharing the same cells, from their sufficient statistics.

A unit's residuals r = y - m (m: period effect + cohort x event-time effect per cell) have AR(1) covariance
sigma^2 R(rho) over the unit's periods, plus a_i 1 (flat prior) and b_i d (d: the unit's treated cells,
b_i ~ N(0, omega^2)). With W the AR(1) whitening (rows (x_j - phi_j x_{j-1}) / root_j, phi_j = rho^gap_j,
root_j = sqrt(1 - phi_j^2)), integrating a_i and b_i out (Woodbury) leaves

    -1/2 [ (|Wr|^2 - B' M^-1 B) / sigma^2 + (k - 1) log sigma^2 + sum_j log root_j^2 + log det M - log kappa ]

with B = [w, wd]' W r, M = [[w'w, w'wd], [w'wd, wd'wd + kappa]], w = W1, wd = Wd, kappa = sigma^2 / omega^2.

Units whose cells are the same periods with the same treated groups (every control unit of a balanced panel,
every unit of a cohort) share m, W, w and wd, so the sum of this over them needs only their count n, the sum of
their outcome vectors s and their Gram matrix G = sum y y' (k x k): sum |W(y - m)|^2 uses the diagonal and
first off-diagonal of G - s m' - m s' + n m m', and sum B B' = V'(G - s m' - m s' + n m m')V with V = W'[w, wd].
A household x week panel then costs a few k x 2 products per gradient instead of a pass over every cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_SHARED = 4  # units sharing cells below this are cheaper one cell at a time


@dataclass
class Pattern:
    """Units with the same cells: their periods' and effect groups' indices, gaps, and sufficient statistics."""

    period_index: np.ndarray  # (k,) index into the model's period effects
    effect: np.ndarray  # (k,) effect group, -1 untreated
    gap: np.ndarray  # (k,) periods since the previous cell, 0 for the first
    units: int
    arm: int  # 0: never treated, 1: treated (which noise scale)
    total: np.ndarray  # (k,) sum of y over the units (or the model's data container holding it)
    gram: np.ndarray  # (k, k) sum of y y'


def split(design, y: np.ndarray, period_index: np.ndarray, arm: np.ndarray, min_shared: int = MIN_SHARED):
    """Patterns shared by at least `min_shared` units, and a mask of the cells left to the per-cell sums."""
    ends = design.unit_ends()
    starts = np.r_[0, ends[:-1] + 1]
    keys = {}
    for i, (lo, hi) in enumerate(zip(starts, ends + 1, strict=True)):
        key = (design.period[lo:hi].tobytes(), design.effect[lo:hi].tobytes(), int(arm[lo]))
        keys.setdefault(key, []).append(i)
    patterns, per_cell = [], np.ones(len(y), dtype=bool)
    for members in keys.values():
        if len(members) < min_shared:
            continue
        lo, hi = starts[members[0]], ends[members[0]] + 1
        rows = np.stack([y[starts[i] : ends[i] + 1] for i in members])
        for i in members:
            per_cell[starts[i] : ends[i] + 1] = False
        shape = (period_index[lo:hi], design.effect[lo:hi], design.gap[lo:hi])
        patterns.append(Pattern(*shape, len(members), int(arm[lo]), rows.sum(0), rows.T @ rows))
    return patterns, per_cell


def cell_sums(pt, r, d, first, prev, gap, ends, rho, sigma, omega):
    """The log-likelihood summed over units, one cell at a time (segment sums over each unit's cells); `sigma`
    one noise scale, or one per unit."""
    phi = pt.where(first, 0.0, rho**gap)
    root = pt.sqrt(1.0 - phi**2)

    def whiten(x):
        return (x - phi * x[prev]) / root

    u, w, wd = whiten(r), (1.0 - phi) / root, whiten(pt.as_tensor(d))
    a, b1, bd, c11, c1d, cdd = (_segment_sums(pt, x, ends) for x in (u * u, w * u, wd * u, w * w, w * wd, wd * wd))
    kappa = sigma**2 / omega**2  # the prior precision of b_i, relative to the noise's
    det = c11 * (cdd + kappa) - c1d**2
    explained = (b1**2 * (cdd + kappa) - 2 * b1 * bd * c1d + bd**2 * c11) / det
    n = np.diff(np.r_[-1, ends])
    quad = ((a - explained) / sigma**2).sum()
    logdet = ((n - 1) * 2 * pt.log(sigma)).sum() + 2 * pt.log(root).sum() + (pt.log(det) - pt.log(kappa)).sum()
    return -0.5 * (quad + logdet)


def pattern_sum(pt, p: Pattern, m, rho, sigma, omega):
    """The log-likelihood summed over the units of one pattern, from their sufficient statistics."""
    k = len(p.gap)
    first = np.arange(k) == 0
    phi = pt.where(first, 0.0, rho ** np.maximum(p.gap, 1).astype(float))
    root = pt.sqrt(1.0 - phi**2)
    d = (p.effect >= 0).astype(float)
    d_prev = np.r_[0.0, d[:-1]]
    w = (1.0 - phi) / root
    wd = (d - phi * d_prev) / root
    n, s, g = p.units, pt.as_tensor(p.total), pt.as_tensor(p.gram)

    def lagged(x):  # x shifted one cell later, 0 first
        return pt.concatenate([pt.zeros(1), x[:-1]])

    diag = pt.diagonal(g) - 2 * s * m + n * m**2
    m_prev, s_prev = lagged(m), lagged(s)
    sub = pt.concatenate([pt.zeros(1), pt.diagonal(g, offset=-1)]) - s * m_prev - m * s_prev + n * m * m_prev
    diag_prev = lagged(diag)
    whitened_ss = ((diag - 2 * phi * sub + phi**2 * diag_prev) / root**2).sum()

    def transpose_whiten(v):  # W'v
        h = v / root
        return h - pt.concatenate([phi[1:] * h[1:], pt.zeros(1)])

    v = pt.stack([transpose_whiten(w), transpose_whiten(wd)], axis=1)  # (k, 2)
    a, b = pt.dot(s, v), pt.dot(m, v)
    bb = pt.dot(v.T, pt.dot(g, v)) - pt.outer(a, b) - pt.outer(b, a) + n * pt.outer(b, b)
    kappa = sigma**2 / omega**2
    c11, c1d, cdd = (w * w).sum(), (w * wd).sum(), (wd * wd).sum()
    det = c11 * (cdd + kappa) - c1d**2
    explained = (bb[0, 0] * (cdd + kappa) - 2 * bb[0, 1] * c1d + bb[1, 1] * c11) / det
    logdet = (k - 1) * 2 * pt.log(sigma) + 2 * pt.log(root).sum() + pt.log(det) - pt.log(kappa)
    return -0.5 * ((whitened_ss - explained) / sigma**2 + n * logdet)


def _segment_sums(pt, x, ends: np.ndarray):
    """Sums of x over consecutive segments ending at `ends` (each unit's cells)."""
    total = pt.cumsum(x)[ends]
    return pt.concatenate([total[:1], total[1:] - total[:-1]])
