"""The treated units' own deviations from the average effect, drawn after sampling, so that the hierarchical
model reports the effect on the units that were treated (the sample ATT, as the exact model and the imputation
estimator do) rather than the average effect of a population they were drawn from.

The likelihood integrates each unit's level a_i (flat) and deviation b_i ~ N(0, omega^2) out (did.likelihood).
Given one posterior draw of everything else, (a_i, b_i) is Gaussian: with the unit's AR(1)-whitened residuals
u, w = W1, wd = Wd and M = [[w'w, w'wd], [w'wd, wd'wd + kappa]],

    b_i | rest ~ N( [M^-1 B]_2, sigma^2 [M^-1]_22 ),   B = [w'u, wd'u]

so each effect group's sample effect is tau_g plus the mean of b_i over its cells. With one treated unit the
data pin tau + b (its observed shift) far better than tau alone (b's prior scale is learned from that one
unit), which is why the population effect's interval over-covered the treated unit's effect (100 of 100
simulations in benchmarks/did_coverage.py). Units sharing their cells share M, so a pattern of n units is one
pseudo-unit: the mean of their residuals, a deviation with 1/n of the variance, counted n times.
"""

from __future__ import annotations

import numpy as np

from bayescausal.did.cells import CellDesign
from bayescausal.did.likelihood import split

CHUNK_CELLS = 2_000_000  # draws x cells per vectorised pass


def sample_effects(idata, design: CellDesign, y: np.ndarray, scale: float, seed: int) -> np.ndarray:
    """(chain, draw, group) draws of each effect group's effect on its own treated cells, in outcome units:
    the model's `effect` plus the mean over the group's cells of the units' deviations. `y`: the standardised
    outcome per cell (the model's); `scale` turns standardised units back into the outcome's."""
    post = idata["posterior"]
    effect = post["effect"].transpose("chain", "draw", "group").values
    chains, draws, n_groups = effect.shape
    flat = {
        "g": post["period_effect"].values.reshape(chains * draws, -1),
        "tau": effect.reshape(chains * draws, n_groups) / scale,
        "rho": post["rho"].values.reshape(-1),
        "sigma": _treated_sigma(post["sigma"].values, chains * draws),
        "omega": post["unit_effect_sd"].values.reshape(-1),
    }
    cells = _pseudo_units(design, y)
    rng = np.random.default_rng([seed, 20_241])
    step = max(1, CHUNK_CELLS // max(len(cells["y"]), 1))
    deviation = np.concatenate(
        [_group_deviation(cells, {k: v[lo : lo + step] for k, v in flat.items()}, n_groups, rng)
         for lo in range(0, chains * draws, step)]
    )  # fmt: skip
    return effect + scale * deviation.reshape(chains, draws, n_groups)


def _treated_sigma(sigma: np.ndarray, n: int) -> np.ndarray:
    """The treated units' noise scale per draw (the last of the per-arm scales, or the shared one)."""
    return sigma.reshape(n, -1)[:, -1]


def _pseudo_units(design: CellDesign, y: np.ndarray) -> dict[str, np.ndarray]:
    """The cells of every treated unit, a pattern of units sharing their cells counted once with their mean
    outcome: per cell its pseudo-unit, period index, effect group, gap, and per pseudo-unit its unit count."""
    period_index = np.unique(design.period, return_inverse=True)[1]
    arm = design.ever_treated[design.unit].astype(int)
    patterns, per_cell = split(design, y, period_index, arm)
    own = per_cell & (arm == 1)
    parts = {"y": [y[own]], "period": [period_index[own]], "effect": [design.effect[own]], "gap": [design.gap[own]]}
    unit = [np.unique(design.unit[own], return_inverse=True)[1]]
    counts = [np.ones(unit[0].max() + 1 if own.any() else 0)]
    if patterns is not None:
        for p in np.flatnonzero((patterns.arm == 1) & (patterns.effect >= 0).any(axis=1)):
            k = patterns.mask[p]
            parts["y"].append(patterns.total[p, k] / patterns.units[p])
            for name, source in (("period", patterns.period_index), ("effect", patterns.effect), ("gap", patterns.gap)):
                parts[name].append(source[p, k])
            unit.append(np.full(k.sum(), len(np.concatenate(counts))))
            counts.append(np.array([patterns.units[p]], float))
    out = {name: np.concatenate(values) for name, values in parts.items()}
    return out | {"unit": np.concatenate(unit).astype(int), "units": np.concatenate(counts)}


def _group_deviation(cells, draws, n_groups: int, rng: np.random.Generator) -> np.ndarray:
    """(draws, groups): the mean deviation over each group's cells, for a chunk of posterior draws."""
    if not len(cells["y"]):
        return np.zeros((len(draws["rho"]), n_groups))
    tau = np.concatenate([draws["tau"], np.zeros((len(draws["tau"]), 1))], axis=1)  # group -1 reads zero
    r = cells["y"] - draws["g"][:, cells["period"]] - tau[:, cells["effect"]]
    first = np.r_[True, cells["unit"][1:] != cells["unit"][:-1]]
    phi = np.where(first, 0.0, draws["rho"][:, None] ** np.maximum(cells["gap"], 1))
    root = np.sqrt(1.0 - phi**2)
    prev = np.where(first, 0, np.arange(len(first)) - 1)
    d = (cells["effect"] >= 0).astype(float)
    u, w, wd = (r - phi * r[:, prev]) / root, (1.0 - phi) / root, (d - phi * d[prev]) / root

    def per_unit(x):  # sums over each pseudo-unit's cells: (draws, units)
        out = np.zeros((x.shape[0], len(cells["units"])))
        np.add.at(out.T, cells["unit"], x.T)
        return out

    b1, b2, c11, c1d, cdd = (per_unit(x) for x in (w * u, wd * u, w * w, w * wd, wd * wd))
    sigma = draws["sigma"][:, None]
    det = c11 * (cdd + (sigma / draws["omega"][:, None]) ** 2) - c1d**2
    mean, var = (c11 * b2 - c1d * b1) / det, sigma**2 * c11 / det / cells["units"]
    b = mean + np.sqrt(var) * rng.standard_normal(mean.shape)  # each pseudo-unit's mean deviation
    treated = d > 0
    totals = np.zeros((b.shape[0], n_groups))
    weight = cells["units"][cells["unit"][treated]]  # a pattern's cell stands for its n units' cells
    np.add.at(totals.T, cells["effect"][treated], (b[:, cells["unit"][treated]] * weight).T)
    counts = np.bincount(cells["effect"][treated], weights=weight, minlength=n_groups)
    return totals / np.maximum(counts, 1)
