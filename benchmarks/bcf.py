"""BCF benchmark on the Hahn, Murray & Carvalho (2020) design (nonlinear prognostic, heterogeneous effect,
targeted selection) at n = 1,000 and 5,000 over several seeds.

Prints, per method: CPU seconds (this process and its children), wall seconds, PEHE, ATE 95% coverage,
pointwise 95% CATE coverage, AUUC of the true effect along the method's ranking, and the value of the
policy "treat where the estimated CATE exceeds a cost of 2". Methods: bayescausal's stochtree path
(chains in parallel processes), stochtree called directly (same budget, one process), bayescausal's
PyMC + pymc-bart path (n = 1,000 only: PGBART is the slow part), and as peers causalml's T- and
X-learners and EconML's CausalForestDML, run in their own environment (benchmarks/.peers/bcf312,
created on first use) because their pins clash with ours.

The real Hillstrom e-mail experiment, fitted on 10,000 customers and targeting the rest against the peers over
repeated splits, is benchmarks/hillstrom.py.

    python benchmarks/bcf.py [--seeds 3] [--sizes 1000,5000]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bayescausal.bcf import targeting as tg
from bayescausal.bcf.backends import ForestSettings, fit_pymc, fit_stochtree
from bayescausal.simulate.bcf import HAHN_COVARIATES, hahn

HERE = Path(__file__).resolve().parent
PEER_ENV = HERE / ".peers" / "bcf312"
PEER_PYTHON = PEER_ENV / "bin" / "python"
COST = 2.0


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def ensure_peer_env() -> bool:
    if PEER_PYTHON.exists():
        return True
    base = shutil.which("python3.12") or sys.executable
    print(f"creating the BCF peers' environment in {PEER_ENV} ...", file=sys.stderr)
    subprocess.run([base, "-m", "venv", str(PEER_ENV)], check=True)
    packages = ["econml", "causalml", "pandas", "scikit-learn"]
    return subprocess.run([str(PEER_PYTHON), "-m", "pip", "install", "-q", *packages]).returncode == 0


def score(sim: pd.DataFrame, cate: np.ndarray, ate_interval, cate_interval=None) -> dict:
    tau = sim.tau.to_numpy()
    order = tg.ranking(cate)
    depths = tg.depth_grid(len(tau))
    treat = cate > COST
    row = {
        "PEHE": float(np.sqrt(np.mean((cate - tau) ** 2))),
        "ATE covered": float(ate_interval[0] <= tau.mean() <= ate_interval[1]),
        "AUUC": float(tg.auuc(tg.pseudo_gain(tau, order, depths), depths)) / len(tau),
        "policy value": float(np.sum(treat * (tau - COST))) / len(tau),
    }
    if cate_interval is not None:
        row["CATE coverage"] = float(np.mean((cate_interval[0] <= tau) & (tau <= cate_interval[1])))
    return row


def bayesian_row(sim, tau_draws) -> dict:
    flat = tau_draws.reshape(-1, tau_draws.shape[-1])
    ate = flat.mean(1)
    return score(sim, flat.mean(0), np.quantile(ate, [0.025, 0.975]), np.quantile(flat, [0.025, 0.975], axis=0))


def stochtree_direct(sim, settings: ForestSettings) -> np.ndarray:
    from stochtree import BCFModel

    X = sim[HAHN_COVARIATES].to_numpy(float)
    model = BCFModel()
    model.sample(
        X,
        sim.z.to_numpy(),
        sim.y.to_numpy(),
        propensity_train=sim.propensity.to_numpy(),
        num_gfr=settings.gfr,
        num_burnin=settings.burnin,
        num_mcmc=settings.draws,
        general_params={"num_chains": settings.chains, "random_seed": settings.seed, "adaptive_coding": True},
        prognostic_forest_params={"num_trees": settings.prognostic_trees},
        treatment_effect_forest_params={"num_trees": settings.effect_trees},
    )
    return model.predict(X, sim.z.to_numpy(), sim.propensity.to_numpy(), terms="tau").T


def timed(fn):
    c, w = cpu(), time.perf_counter()
    out = fn()
    return out, cpu() - c, time.perf_counter() - w


def run_case(n: int, seed: int, peers: bool) -> list[dict]:
    sim = hahn(n, seed=100 + seed)
    X, z, y, pi = sim[HAHN_COVARIATES].to_numpy(float), sim.z.to_numpy(), sim.y.to_numpy(), sim.propensity.to_numpy()
    settings = ForestSettings(seed=seed)
    rows = []

    def add(method, result, c, w):
        rows.append({"n": n, "seed": seed, "method": method, "CPU s": c, "wall s": w} | result)
        print(f"n={n} seed={seed} {method}: {w:.1f}s wall", file=sys.stderr)

    fit, c, w = timed(lambda: fit_stochtree(X, z, y, pi, settings))
    add("bayescausal stochtree (4 chains, 2 processes)", bayesian_row(sim, fit.tau), c, w)
    tau, c, w = timed(lambda: stochtree_direct(sim, settings))
    add("stochtree direct (4 chains, 1 process)", bayesian_row(sim, tau), c, w)
    if n <= 1000:
        fit, c, w = timed(lambda: fit_pymc(X, z, y, pi, settings))
        add("bayescausal pymc-bart", bayesian_row(sim, fit.tau), c, w)
    if not peers:
        return rows
    w0 = time.perf_counter()
    outputs = run_peers(sim)
    wall = time.perf_counter() - w0
    for method, out in outputs.items():
        interval = out.get("cate_interval")
        cate_interval = None if interval is None else np.array(interval)
        add(method, score(sim, np.array(out["cate"]), out["ate_interval"], cate_interval), out["cpu"], wall)
    return rows


def run_peers(frame: pd.DataFrame, only: tuple[str, ...] = ()) -> dict:
    """The peers (or `only` those) on a CSV of x* covariates, z, y, propensity [, split]; {} when their
    environment fails."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        frame.to_csv(path, index=False)
        command = [str(PEER_PYTHON), str(HERE / "peers" / "bcf_peer.py"), str(path), ",".join(only)]
        res = subprocess.run(command, capture_output=True, text=True)
    if res.returncode != 0:
        print(res.stderr[-2000:], file=sys.stderr)
        return {}
    return json.loads(res.stdout)


def coverage_case(n: int, seed: int) -> dict:
    """One seed of the coverage study: bayescausal's default stochtree fit, its 95% intervals against the truth."""
    sim = hahn(n, seed=100 + seed)
    X, z, y, pi = sim[HAHN_COVARIATES].to_numpy(float), sim.z.to_numpy(), sim.y.to_numpy(), sim.propensity.to_numpy()
    fit, _, w = timed(lambda: fit_stochtree(X, z, y, pi, ForestSettings(seed=seed)))
    flat = fit.tau.reshape(-1, n).astype(float)
    ate, tau = flat.mean(1), sim.tau.to_numpy()
    low, high = np.quantile(ate, [0.025, 0.975])
    cate_low, cate_high = np.quantile(flat, [0.025, 0.975], axis=0)
    print(f"coverage n={n} seed={seed}: {w:.1f}s", file=sys.stderr)
    return {
        "n": n,
        "seed": seed,
        "ATE error": float(ate.mean() - tau.mean()),
        "ATE covered": float(low <= tau.mean() <= high),
        "ATE interval width": float(high - low),
        "ATE posterior sd": float(ate.std()),
        "CATE coverage": float(np.mean((cate_low <= tau) & (tau <= cate_high))),
        "PEHE": float(np.sqrt(np.mean((flat.mean(0) - tau) ** 2))),
    }


def coverage_study(seeds: int, sizes: list[int]) -> None:
    """ATE and pointwise CATE coverage of the 95% intervals over many seeds (the intervals' calibration)."""
    table = pd.DataFrame([coverage_case(n, seed) for n in sizes for seed in range(seeds)])
    summary = table.groupby("n").agg(
        seeds=("seed", "size"),
        ate_coverage=("ATE covered", "mean"),
        cate_coverage=("CATE coverage", "mean"),
        ate_rmse=("ATE error", lambda e: float(np.sqrt(np.mean(e**2)))),
        ate_bias=("ATE error", "mean"),
        mean_posterior_sd=("ATE posterior sd", "mean"),
        mean_width=("ATE interval width", "mean"),
        pehe=("PEHE", "mean"),
    )
    se = np.sqrt(summary.ate_coverage * (1 - summary.ate_coverage) / summary.seeds)
    summary.insert(2, "ate_coverage_se", se)
    print("\nCoverage of 95% intervals, Hahn et al. design, bayescausal stochtree defaults\n")
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sizes", default="1000,5000")
    ap.add_argument("--coverage", type=int, default=0, help="run only the coverage study, over this many seeds")
    args = ap.parse_args()
    pd.set_option("display.width", 200)
    if args.coverage:
        coverage_study(args.coverage, [int(n) for n in args.sizes.split(",")])
        return
    peers = ensure_peer_env()
    rows = [
        row for n in map(int, args.sizes.split(",")) for seed in range(args.seeds) for row in run_case(n, seed, peers)
    ]
    table = pd.DataFrame(rows)
    summary = table.groupby(["n", "method"], sort=False).mean(numeric_only=True).drop(columns="seed")
    reference = summary.xs("stochtree direct (4 chains, 1 process)", level="method")
    summary["PEHE / stochtree direct"] = summary["PEHE"] / summary.index.get_level_values("n").map(reference["PEHE"])
    summary["CPU / stochtree direct"] = summary["CPU s"] / summary.index.get_level_values("n").map(reference["CPU s"])
    print(
        f"\nHahn et al. design (nonlinear, heterogeneous, targeted), mean over {args.seeds} seed(s); "
        f"policy = treat where CATE > {COST}\n"
    )
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    print("\nThe real Hillstrom experiment (fit on 10,000, target the rest): python benchmarks/hillstrom.py")


if __name__ == "__main__":
    main()
