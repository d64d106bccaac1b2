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
class Patterns:
    """Groups of units with the same cells (periods, effect groups, gaps, arm), stacked into (P, K) arrays
    padded to the longest pattern: padded cells are masked out of every sum. Stacking keeps the model's graph
    the same size whatever the number of patterns (a compiled graph per pattern took minutes to compile on
    a staggered household panel), and each pattern needs only its units' count, outcome sums and Gram."""

    period_index: np.ndarray  # (P, K) index into the model's period effects (0 where padded)
    effect: np.ndarray  # (P, K) effect group, -1 untreated or padded
    gap: np.ndarray  # (P, K) periods since the previous cell, 0 for the first and padded
    mask: np.ndarray  # (P, K) True for a real cell
    units: np.ndarray  # (P,) units sharing the pattern
    arm: np.ndarray  # (P,) 0: never treated, 1: treated (which noise scale)
    total: np.ndarray  # (P, K) sum of y over the units (or the model's data container holding it)
    gram: np.ndarray  # (P, K, K) sum of y y'

    def __len__(self) -> int:
        return len(self.units)


def split(design, y: np.ndarray, period_index: np.ndarray, arm: np.ndarray, min_shared: int = MIN_SHARED):
    """Patterns shared by at least `min_shared` units (None if none is), and a mask of the cells left to the
    per-cell sums."""
    ends = design.unit_ends()
    starts = np.r_[0, ends[:-1] + 1]
    keys = {}
    for i, (lo, hi) in enumerate(zip(starts, ends + 1, strict=True)):
        key = (design.period[lo:hi].tobytes(), design.effect[lo:hi].tobytes(), int(arm[lo]))
        keys.setdefault(key, []).append(i)
    shared = [members for members in keys.values() if len(members) >= min_shared]
    per_cell = np.ones(len(y), dtype=bool)
    if not shared:
        return None, per_cell
    width = max(ends[m[0]] + 1 - starts[m[0]] for m in shared)
    batch = Patterns(
        *(np.zeros((len(shared), width), int) for _ in range(3)),
        np.zeros((len(shared), width), bool),
        np.array([len(m) for m in shared]),
        np.array([int(arm[starts[m[0]]]) for m in shared]),
        np.zeros((len(shared), width)),
        np.zeros((len(shared), width, width)),
    )
    batch.effect[:] = -1
    for p, members in enumerate(shared):
        lo, hi = starts[members[0]], ends[members[0]] + 1
        k = hi - lo
        rows = np.stack([y[starts[i] : ends[i] + 1] for i in members])
        for i in members:
            per_cell[starts[i] : ends[i] + 1] = False
        batch.period_index[p, :k], batch.effect[p, :k] = period_index[lo:hi], design.effect[lo:hi]
        batch.gap[p, :k], batch.mask[p, :k] = design.gap[lo:hi], True
        batch.total[p, :k], batch.gram[p, :k, :k] = rows.sum(0), rows.T @ rows
    return batch, per_cell


def cell_sums(pt, r, d, first, prev, gap, ends, rho, sigma, omega):
    """The log-likelihood summed over units, one cell at a time (segment sums over each unit's cells); `sigma`
    one noise scale, or one per unit."""
    phi = pt.where(first, 0.0, rho**gap)
    root = pt.sqrt(1.0 - phi**2)

    def whiten(x):
        return (x - phi * x[prev]) / root

    u, w, wd = whiten(r), (1.0 - phi) / root, whiten(pt.as_tensor(d))
    a, b1, bd, c11, c1d, cdd = (_segment_sums(pt, x, ends) for x in (u * u, w * u, wd * u, w * w, w * wd, wd * wd))
    det, explained = _woodbury(c11, c1d, cdd, b1**2, b1 * bd, bd**2, omega**2 / sigma**2)
    n = np.diff(np.r_[-1, ends])
    quad = ((a - explained) / sigma**2).sum()
    logdet = ((n - 1) * 2 * pt.log(sigma)).sum() + 2 * pt.log(root).sum() + pt.log(det).sum()
    return -0.5 * (quad + logdet)


def pattern_sum(pt, p: Patterns, m, rho, sigma, omega):
    """The log-likelihood summed over the units of every pattern, from their sufficient statistics. `m`:
    (P, K) means per pattern cell (zero where padded); `sigma`: one noise scale, or one per pattern."""
    mask = p.mask.astype(float)
    has_prev = p.mask & (np.arange(p.mask.shape[1]) > 0)
    phi = pt.where(has_prev, rho ** np.maximum(p.gap, 1).astype(float), 0.0)
    root = pt.sqrt(1.0 - phi**2)
    d = (p.effect >= 0).astype(float)
    w = mask * (1.0 - phi) / root
    wd = (d - phi * _lag(np, d)) / root
    n, s, g = p.units[:, None].astype(float), pt.as_tensor(p.total), pt.as_tensor(p.gram)
    diag = pt.diagonal(g, axis1=1, axis2=2) - 2 * s * m + n * m**2
    below = _lag(pt, pt.diagonal(g, offset=-1, axis1=1, axis2=2), pad_to=p.mask.shape[1])
    sub = below - s * _lag(pt, m) - m * _lag(pt, s) + n * m * _lag(pt, m)
    whitened_ss = ((diag - 2 * phi * sub + phi**2 * _lag(pt, diag)) / root**2).sum(axis=1)

    def transpose_whiten(x):  # W'x, row by row
        h = x / root
        return h - pt.concatenate([phi[:, 1:] * h[:, 1:], pt.zeros((h.shape[0], 1))], axis=1)

    v = pt.stack([transpose_whiten(w), transpose_whiten(wd)], axis=2)  # (P, K, 2)
    a, b = (s[:, :, None] * v).sum(axis=1), (m[:, :, None] * v).sum(axis=1)  # (P, 2)
    vgv = pt.matmul(v.transpose(0, 2, 1), pt.matmul(g, v))  # (P, 2, 2)
    bb = vgv - _outer(a, b) - _outer(b, a) + n[:, :, None] * _outer(b, b)
    c11, c1d, cdd = (w * w).sum(axis=1), (w * wd).sum(axis=1), (wd * wd).sum(axis=1)
    det, explained = _woodbury(c11, c1d, cdd, bb[:, 0, 0], bb[:, 0, 1], bb[:, 1, 1], omega**2 / sigma**2)
    k = p.mask.sum(axis=1)
    logdet = (k - 1) * 2 * pt.log(sigma) + 2 * pt.log(root).sum(axis=1) + pt.log(det)
    return -0.5 * ((whitened_ss - explained) / sigma**2 + p.units * logdet).sum()


def _woodbury(c11, c1d, cdd, b11, b1d, bdd, lam):
    """det(M) / kappa and B'M^-1 B for M = [[c11, c1d], [c1d, cdd + kappa]], kappa = 1 / lam (the noise's
    variance over the deviation's), written in lam so that lam = 0 (no unit deviations) is exact: then the
    unit level alone is integrated out (det -> c11, B'M^-1 B -> b1^2 / c11). `b11, b1d, bdd`: the entries of
    B B' (b1^2, b1 bd, bd^2 for one unit; their sums over a pattern's units)."""
    det = c11 * (cdd * lam + 1.0) - c1d**2 * lam
    return det, (b11 * (cdd * lam + 1.0) - 2 * b1d * c1d * lam + bdd * c11 * lam) / det


def _lag(xp, x, pad_to: int | None = None):
    """(P, K) -> each row shifted one cell later with a 0 first (`pad_to`: the width after the shift)."""
    width = (pad_to or x.shape[1]) - 1
    return xp.concatenate([xp.zeros((x.shape[0], 1)), x[:, :width]], axis=1)


def _outer(a, b):
    """Row-wise outer products of (P, 2) arrays: (P, 2, 2)."""
    return a[:, :, None] * b[:, None, :]


def _segment_sums(pt, x, ends: np.ndarray):
    """Sums of x over consecutive segments ending at `ends` (each unit's cells)."""
    total = pt.cumsum(x)[ends]
    return pt.concatenate([total[:1], total[1:] - total[:-1]])
