"""Coverage of the DiD models on simulated panels with known effects (issue #28's designs).

Each design fixes which cells exist and which are treated (drawn once, from the design's own seed); each of
its N simulations (seeds 0..N-1) redraws the outcomes: unit levels, AR(1) shocks and noise, simulated here
independently of the package's simulator. Coverage is therefore conditional on the design, as in a
repeated-sampling study of one panel layout, and one compiled model refits every simulation of a design
(`hierarchical.outcome_data` + nutpie's `with_data`), so the study costs sampling, not compilation.

The true ATT is the mean of the true cell effects over the cells the model uses (effects grow with event time,
so the truth depends on the design). Prints, per design: how often the hierarchical model's 94% interval
covers the truth (target 90-97%), its divergent fits, how far its posterior mean is from the imputation
estimator on the same cells (in posterior sds), and on balanced designs the exact model's coverage beside it.

    python benchmarks/did_coverage.py --simulations 100 --workers 2
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from bayescausal.data.panel import Panel
from bayescausal.did.cells import cell_design
from bayescausal.did.hierarchical import DEFAULT_TARGET_ACCEPT, build_model, outcome_data, summarise
from bayescausal.did.imputation import imputation_att
from bayescausal.did.model import cohorts, posterior_gaussian
from bayescausal.estimates import hdi_from_draws
from bayescausal.sampling import reproducible_numerics

UNITS, PERIODS = 120, 14


def _effect(event_time: np.ndarray) -> np.ndarray:
    return 1.0 + 0.1 * event_time  # grows after adoption


DESIGNS = {
    # name: (starts per unit given a generator, rho, missing share, selection on level)
    "one treated unit": (lambda rng: np.r_[9, np.full(UNITS - 1, -1)], 0.3, 0.0, 0.0),
    "singleton cohorts": (lambda rng: np.r_[6, 8, 10, np.full(UNITS - 3, -1)], 0.3, 0.0, 0.0),
    "10% cells missing": (lambda rng: rng.choice([7, 10, -1], UNITS, p=[0.3, 0.3, 0.4]), 0.3, 0.1, 0.0),
    "no never-treated unit": (lambda rng: rng.choice([6, 9, 12], UNITS), 0.3, 0.0, 0.0),
    "AR(1) rho = 0.5": (lambda rng: rng.choice([7, 10, -1], UNITS, p=[0.3, 0.3, 0.4]), 0.5, 0.0, 0.0),
    "selection on the level": (lambda rng: rng.choice([7, 10, -1], UNITS, p=[0.3, 0.3, 0.4]), 0.3, 0.0, 1.5),
}


def layout(design: str) -> tuple[np.ndarray, np.ndarray]:
    """The design's fixed part: each unit's first treated period (-1: never) and which cells are missing."""
    starts_of, _, missing, _ = DESIGNS[design]
    rng = np.random.default_rng(10_000 + list(DESIGNS).index(design))
    return starts_of(rng), rng.random((UNITS, PERIODS)) < missing


def simulate(design: str, seed: int) -> tuple[Panel, np.ndarray]:
    """A panel and its true effect per cell (0 where untreated)."""
    _, rho, _, selection = DESIGNS[design]
    start, missing = layout(design)
    rng = np.random.default_rng(seed)
    earliness = np.where(start >= 0, (PERIODS - start) / PERIODS, 0.0)  # selection: early adopters sit higher
    level = rng.normal(0, 2, UNITS) + selection * 2 * (earliness - earliness.mean())
    shocks = np.zeros((UNITS, PERIODS))
    shocks[:, 0] = rng.normal(size=UNITS)
    for t in range(1, PERIODS):
        shocks[:, t] = rho * shocks[:, t - 1] + np.sqrt(1 - rho**2) * rng.normal(size=UNITS)
    t = np.arange(PERIODS)[None, :]
    treated = (start[:, None] >= 0) & (t >= start[:, None])
    effect = np.where(treated, _effect(t - start[:, None]), 0.0)
    y = level[:, None] + np.cos(np.arange(PERIODS) / 2)[None, :] + effect + shocks
    y[missing] = np.nan
    return Panel(y, treated, np.arange(UNITS), np.arange(PERIODS)), effect


def run(args: tuple[str, list[int], int, int]) -> list[dict]:
    """One design's simulations `seeds`: compiled once, refitted on each simulation's outcomes."""
    import nutpie

    design, seeds, draws, tune = args
    reproducible_numerics()
    compiled, rows = None, []
    for seed in seeds:
        panel, effect = simulate(design, seed)
        cells = cell_design(panel)
        t = time.perf_counter()
        if compiled is None:
            compiled = nutpie.compile_pymc_model(build_model(cells))
        model = compiled.with_data(**outcome_data(cells))
        idata = nutpie.sample(
            model, draws=draws, tune=tune, chains=2, cores=1, seed=seed, progress_bar=False,
            target_accept=DEFAULT_TARGET_ACCEPT,
        )  # fmt: skip
        result = summarise(idata, cells)
        rows.append(_row(design, seed, panel, effect, cells, result, time.perf_counter() - t))
    return rows


def _row(design, seed, panel, effect, cells, result, seconds) -> dict:
    treated = cells.effect >= 0
    truth = float(effect[cells.unit[treated], cells.period[treated]].mean())
    att = result.att.ravel()
    low, high = hdi_from_draws(att, 0.94)
    row = {
        "design": design,
        "seed": seed,
        "truth": truth,
        "error": att.mean() - truth,
        "covered": low <= truth <= high,
        "divergences": int(result.idata["sample_stats"]["diverging"].sum()),
        "vs_imputation_sd": (att.mean() - imputation_att(cells)) / att.std(),
        "seconds": seconds,
    }
    if panel.balanced:  # the exact model beside it, on its own cells (its windows, its controls)
        groups = cohorts(panel)
        exact = posterior_gaussian(groups, draws=8000, seed=seed)
        weights = exact.weights / exact.weights.sum()
        exact_truth = sum(
            w * effect[c.treated_units, c.start : c.end + 1].mean() for w, c in zip(weights, groups, strict=True)
        )
        e_low, e_high = hdi_from_draws(exact.att, 0.94)
        row["exact_covered"] = e_low <= float(exact_truth) <= e_high
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--simulations", type=int, default=100, help="panels per design")
    parser.add_argument("--workers", type=int, default=2, help="processes fitting at once")
    parser.add_argument("--designs", nargs="*", default=list(DESIGNS), help="which designs (default: all)")
    parser.add_argument("--draws", type=int, default=1000, help="posterior draws per chain (2 chains)")
    parser.add_argument("--tune", type=int, default=1000, help="tuning steps per chain")
    parser.add_argument("--out", default=None, help="also write every simulation's row to this CSV")
    args = parser.parse_args()
    seeds = np.array_split(np.arange(args.simulations), args.workers)  # each worker compiles each design once
    jobs = [(d, part.tolist(), args.draws, args.tune) for d in args.designs for part in seeds if len(part)]
    with ProcessPoolExecutor(args.workers) as pool:
        rows = pd.DataFrame([row for chunk in pool.map(run, jobs) for row in chunk])
    if args.out:
        rows.to_csv(args.out, index=False)
    summary = rows.groupby("design", sort=False).agg(
        simulations=("seed", "size"),
        coverage=("covered", "mean"),
        divergent_fits=("divergences", lambda d: int((d > 0).sum())),
        median_abs_vs_imputation_sd=("vs_imputation_sd", lambda v: float(np.median(np.abs(v)))),
        share_within_quarter_sd=("vs_imputation_sd", lambda v: float((np.abs(v) <= 0.25).mean())),
        mean_error=("error", "mean"),
        seconds_per_fit=("seconds", "median"),
    )
    if "exact_covered" in rows:
        summary["exact_coverage"] = rows.groupby("design", sort=False)["exact_covered"].mean()
    print("== 94% intervals covering the true ATT (target 90-97%) ==")
    print(summary.to_string(float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
