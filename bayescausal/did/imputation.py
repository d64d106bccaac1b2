"""The imputation estimator (Borusyak, Jaravel & Spiess 2024) on a cell design: the frequentist reference the
hierarchical model is compared with, on the same cells.

Unit and period effects are fitted by least squares on the untreated cells only; each treated cell's effect is
its outcome minus the imputed a_i + g_t, and the ATT is their mean. Sparse least squares (LSQR) on the cells,
so a household x week panel never becomes a dense dummy matrix.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import lsqr

from bayescausal.did.cells import CellDesign


def _two_way(design: CellDesign):
    """Least-squares unit and period effects on the untreated cells: a function giving a + g for any cells,
    and the untreated cells' residuals."""
    base = design.effect < 0
    units, u = np.unique(design.unit, return_inverse=True)
    periods, t = np.unique(design.period, return_inverse=True)
    rows = np.flatnonzero(base)
    n = len(rows)
    ones = np.ones(n)
    x = sp.hstack(
        [
            sp.csr_matrix((ones, (np.arange(n), u[rows])), shape=(n, len(units))),
            sp.csr_matrix((ones, (np.arange(n), t[rows])), shape=(n, len(periods))),
        ]
    ).tocsr()
    centre = design.y[rows].mean()
    coef = lsqr(x, design.y[rows] - centre, atol=1e-12, btol=1e-12, iter_lim=50_000)[0]

    def fitted(cells: np.ndarray) -> np.ndarray:
        return centre + coef[u[cells]] + coef[len(units) + t[cells]]

    return fitted, design.y[rows] - fitted(rows)


def imputation_effects(design: CellDesign) -> np.ndarray:
    """Each used treated cell's imputed effect y_it - a_i - g_t (in the design's treated-cell order)."""
    fitted, _ = _two_way(design)
    treated = np.flatnonzero(design.effect >= 0)
    return design.y[treated] - fitted(treated)


def residual_sd(design: CellDesign) -> float:
    """The untreated cells' sd around their unit and period effects: the noise scale the hierarchical model's
    priors are stated in (the outcome's own sd would mix in how much units differ in level)."""
    _, residuals = _two_way(design)
    units, periods = len(np.unique(design.unit)), len(np.unique(design.period))
    dof = max(len(residuals) - units - periods + 1, 1)
    return float(np.sqrt((residuals**2).sum() / dof))


def imputation_att(design: CellDesign) -> float:
    """The ATT over the used treated cells, each weighted equally (as the hierarchical model's ATT is)."""
    return float(imputation_effects(design).mean())
