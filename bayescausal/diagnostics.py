"""The diagnostics gate: one verdict per fit, from ArviZ (rank-normalised R-hat, bulk/tail ESS, E-BFMI).

Thresholds follow Vehtari et al. (2021): R-hat <= 1.01, ESS >= 400, and no divergences. A failing
verdict is never silent: it travels in the result to the summary JSON, the report banner and the
exit code of `bayescausal run`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from bayescausal.options import option


@dataclass(frozen=True)
class Thresholds:
    max_rhat: float = option(1.01, "largest rank-normalised R-hat that passes", section="diagnostics", cli=False)
    min_ess: float = option(400.0, "smallest bulk and tail ESS that pass", section="diagnostics", cli=False)
    max_divergences: int = option(0, "divergent transitions allowed", section="diagnostics", cli=False)
    min_bfmi: float = option(0.3, "smallest E-BFMI that passes", section="diagnostics", cli=False)
    max_treedepth_fraction: float = option(
        0.01, "largest share of draws at the maximum tree depth", section="diagnostics", cli=False
    )


@dataclass
class Diagnostics:
    """The verdict. `method` says how the posterior was obtained; exact posteriors pass trivially."""

    method: str
    passed: bool
    max_rhat: float | None = None
    min_ess_bulk: float | None = None
    min_ess_tail: float | None = None
    divergences: int | None = None
    bfmi: list[float] = field(default_factory=list)
    treedepth_fraction: float | None = None
    problems: list[str] = field(default_factory=list)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    thresholds: Thresholds = field(default_factory=Thresholds)

    def to_dict(self) -> dict:
        def num(v):
            return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v

        return {
            "passed": self.passed,
            "method": self.method,
            "max_rhat": num(self.max_rhat),
            "min_ess_bulk": num(self.min_ess_bulk),
            "min_ess_tail": num(self.min_ess_tail),
            "divergences": self.divergences,
            "min_bfmi": num(min(self.bfmi)) if self.bfmi else None,
            "treedepth_fraction": num(self.treedepth_fraction),
            "problems": list(self.problems),
            "thresholds": vars(self.thresholds).copy(),
        }


CONSTANT = "the same value in every draw: nothing to converge, not gated"


def exact(method: str = "exact (conjugate closed form)") -> Diagnostics:
    """Verdict for posteriors computed without MCMC: nothing to converge."""
    return Diagnostics(method=method, passed=True)


def _flat_draws(da: xr.DataArray) -> tuple[np.ndarray, list[str]]:
    """(chain, draw, k) array and a label per flattened element."""
    extra = [d for d in da.dims if d not in ("chain", "draw")]
    da = da.transpose("chain", "draw", *extra)
    values = da.values.reshape(da.sizes["chain"], da.sizes["draw"], -1)
    if not extra:
        return values, [str(da.name)]
    index = pd.MultiIndex.from_product([da[d].values for d in extra]) if len(extra) > 1 else da[extra[0]].values
    labels = [f"{da.name}[{', '.join(map(str, i)) if isinstance(i, tuple) else i}]" for i in index]
    return values, labels


def _sampler_stats(idata: xr.DataTree) -> tuple[int | None, list[float] | None, float | None]:
    """Divergences, E-BFMI per chain and the share of draws at the maximum tree depth, where recorded."""
    import arviz_stats as azs

    divergences = bfmi = depth_fraction = None
    if "sample_stats" in idata.children:
        stats = idata["sample_stats"].to_dataset()
        if "diverging" in stats:
            divergences = int(stats["diverging"].values.sum())
        if "energy" in stats:
            bfmi = [float(v) for v in np.atleast_1d(azs.bfmi(idata)["energy"].values)]
        for flag in ("maxdepth_reached", "reached_max_treedepth"):
            if flag in stats:
                depth_fraction = float(stats[flag].values.mean())
                break
    return divergences, bfmi, depth_fraction


def diagnose(
    idata: xr.DataTree,
    var_names: list[str] | None = None,
    thresholds: Thresholds | None = None,
    method: str = "nuts",
) -> Diagnostics:
    """Rank-normalised R-hat and bulk/tail ESS for every element of `var_names`, plus sampler checks."""
    import arviz_stats as azs

    thresholds = thresholds or Thresholds()
    posterior = idata["posterior"].to_dataset()
    names = var_names or list(posterior.data_vars)
    rows = []
    for name in names:
        values, labels = _flat_draws(posterior[name])
        with np.errstate(invalid="ignore", divide="ignore"):  # a constant's R-hat is 0/0: shown, never gated
            rhat = np.atleast_1d(azs.rhat(values, chain_axis=0, draw_axis=1))
            bulk = np.atleast_1d(azs.ess(values, method="bulk", chain_axis=0, draw_axis=1))
            tail = np.atleast_1d(azs.ess(values, method="tail", prob=0.05, chain_axis=0, draw_axis=1))
        constant = np.ptp(values.reshape(-1, values.shape[-1]), axis=0) == 0
        rows += [
            {
                "parameter": lab,
                "mean": float(values[..., i].mean()),
                "sd": float(values[..., i].std()),
                "r_hat": np.nan if constant[i] else float(rhat[i]),
                "ess_bulk": np.nan if constant[i] else float(bulk[i]),
                "ess_tail": np.nan if constant[i] else float(tail[i]),
                "gates": not constant[i],
                "note": CONSTANT if constant[i] else "",
            }
            for i, lab in enumerate(labels)
        ]
    table = pd.DataFrame(rows, columns=["parameter", "mean", "sd", "r_hat", "ess_bulk", "ess_tail", "gates", "note"])
    n_chains = posterior.sizes["chain"]
    gating = table[table["gates"]]

    divergences, bfmi, depth_fraction = _sampler_stats(idata)

    def finite_or_nan(series: pd.Series, fn) -> float:
        s = series.replace([np.inf, -np.inf], np.nan)
        return float(fn(s)) if len(s) else float("nan")

    max_rhat = finite_or_nan(gating["r_hat"], lambda s: s.max(skipna=False)) if n_chains > 1 else float("nan")
    min_bulk = finite_or_nan(gating["ess_bulk"], lambda s: s.min(skipna=False))
    min_tail = finite_or_nan(gating["ess_tail"], lambda s: s.min(skipna=False))
    sampled = len(gating) > 0  # only constants: nothing moved, so there is nothing to converge

    problems = []
    if n_chains < 2:
        problems.append("only one chain: R-hat cannot detect non-convergence; run at least 2 chains")
    elif sampled and not max_rhat <= thresholds.max_rhat:
        worst = gating.loc[gating["r_hat"].idxmax(), "parameter"] if gating["r_hat"].notna().any() else "?"
        problems.append(f"max R-hat {max_rhat:.3f} > {thresholds.max_rhat} (worst: {worst})")
    if sampled and not min_bulk >= thresholds.min_ess:
        problems.append(f"min bulk ESS {min_bulk:.0f} < {thresholds.min_ess:.0f}")
    if sampled and not min_tail >= thresholds.min_ess:
        problems.append(f"min tail ESS {min_tail:.0f} < {thresholds.min_ess:.0f}")
    if divergences is not None and divergences > thresholds.max_divergences:
        problems.append(f"{divergences} divergent transitions (allowed {thresholds.max_divergences})")
    if bfmi and min(bfmi) < thresholds.min_bfmi:
        problems.append(f"E-BFMI {min(bfmi):.2f} < {thresholds.min_bfmi} in some chain: poor energy exploration")
    if depth_fraction is not None and depth_fraction > thresholds.max_treedepth_fraction:
        problems.append(f"{depth_fraction:.1%} of draws hit the maximum tree depth")
    return Diagnostics(
        method=method,
        passed=not problems,
        max_rhat=max_rhat,
        min_ess_bulk=min_bulk,
        min_ess_tail=min_tail,
        divergences=divergences,
        bfmi=bfmi or [],
        treedepth_fraction=depth_fraction,
        problems=problems,
        table=table,
        thresholds=thresholds,
    )


def combine(main: Diagnostics, other: Diagnostics, label: str) -> Diagnostics:
    """One verdict for two fits behind one result (e.g. an effect fit and its pre-trend fit): the worst of each
    statistic, and `other`'s parameters and problems labelled."""

    def worst(fn, a, b):
        values = [v for v in (a, b) if v is not None and np.isfinite(v)]
        return fn(values) if values else None

    table = other.table.assign(parameter=f"{label}: " + other.table["parameter"].astype(str))
    return Diagnostics(
        method=main.method,
        passed=main.passed and other.passed,
        max_rhat=worst(max, main.max_rhat, other.max_rhat),
        min_ess_bulk=worst(min, main.min_ess_bulk, other.min_ess_bulk),
        min_ess_tail=worst(min, main.min_ess_tail, other.min_ess_tail),
        divergences=None if main.divergences is None else main.divergences + (other.divergences or 0),
        bfmi=main.bfmi + other.bfmi,
        treedepth_fraction=worst(max, main.treedepth_fraction, other.treedepth_fraction),
        problems=main.problems + [f"{label}: {p}" for p in other.problems],
        table=pd.concat([main.table, table], ignore_index=True),
        thresholds=main.thresholds,
    )


def ppc_pvalues(observed: dict[str, float], replicated: dict[str, np.ndarray]) -> dict[str, float]:
    """Posterior predictive mid-p-values P(T(y_rep) > T(y)) + P(T(y_rep) = T(y)) / 2 for named statistics T.
    Ties count half, so a discrete statistic the model reproduces exactly (the median of a mostly-zero
    outcome: 0 in every replication) scores 0.5, not an "extreme" 1.0; continuous statistics never tie."""
    out = {}
    for k, v in observed.items():
        rep = np.asarray(replicated[k])
        out[k] = float(np.mean(rep > v) + 0.5 * np.mean(rep == v))
    return out


def ppc_flagged(pvalues: dict[str, float], alpha: float = 0.01) -> list[str]:
    """Statistics whose observed value is extreme under the model (two-sided)."""
    return [k for k, p in pvalues.items() if p < alpha / 2 or p > 1 - alpha / 2]
