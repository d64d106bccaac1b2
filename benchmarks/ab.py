"""A/B benchmark: our exact calculus against bayesian-testing (Monte Carlo), gbstats (normal approximation) and
cprior (exact closed forms in C++; installed with `pip install -e .[bench]`, skipped when absent).

Prints tables: time per decision (and ratios), each peer's accuracy gap against the exact answer, and
the speed of aggregation and of the segment hierarchy. Peers run in their own Python 3.11 virtual
environment (gbstats 0.8 pins pandas < 2, which has no wheels for Python 3.12), created on first use
under benchmarks/.peers/. Real data: the Hillstrom experiment where ../shared/data exists.

    python benchmarks/ab.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bayescausal.ab.ranking import exact_ranking, rank_arms

HERE = Path(__file__).resolve().parent
PEER_ENV = HERE / ".peers" / "py311"
PEER_PYTHON = PEER_ENV / "bin" / "python"
PEERS = ["bayesian-testing==0.10.0", "gbstats==0.8.0"]
HILLSTROM = HERE.parent.parent / "shared" / "data" / "hillstrom" / "hillstrom.csv"


def ensure_peer_env() -> bool:
    if PEER_PYTHON.exists():
        return True
    base = shutil.which("python3.11")
    if base is None:
        print("peers skipped: no python3.11 on PATH for their virtual environment", file=sys.stderr)
        return False
    print(f"creating the peers' environment in {PEER_ENV} ...", file=sys.stderr)
    subprocess.run([base, "-m", "venv", str(PEER_ENV)], check=True)
    subprocess.run([str(PEER_PYTHON), "-m", "pip", "install", "-q", *PEERS], check=True)
    return True


def run_peers(payload: list[dict]) -> list[dict]:
    """Send cases to the peers' worker in its own environment; its answers come back as JSON."""
    proc = subprocess.run(
        [str(PEER_PYTHON), str(HERE / "peers" / "ab_peer.py")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)


def median_time(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def cases(rng: np.random.Generator) -> list[dict]:
    ten_v = [20_000] * 10
    ten_c = [int(x) for x in rng.binomial(20_000, np.linspace(0.05, 0.056, 10))]
    return [
        {"name": "2 arms, tiny (20 users: 0 vs 3)", "visitors": [20, 20], "conversions": [0, 3], "reps": 20},
        {"name": "2 arms, small (50: 2 vs 6)", "visitors": [50, 50], "conversions": [2, 6], "reps": 20},
        {"name": "2 arms, 1k (50 vs 65)", "visitors": [1000, 1000], "conversions": [50, 65], "reps": 20},
        {
            "name": "2 arms, 100k (5000 vs 5150)",
            "visitors": [100_000, 100_000],
            "conversions": [5000, 5150],
            "reps": 20,
        },
        {"name": "2 arms, rare (10k: 3 vs 9)", "visitors": [10_000, 10_000], "conversions": [3, 9], "reps": 20},
        {"name": "10 arms, 20k each", "visitors": ten_v, "conversions": ten_c, "reps": 10},
    ]


def ours(visitors, conversions):
    v, c = np.asarray(visitors, float), np.asarray(conversions, float)
    return exact_ranking(1 + c, 1 + v - c)


def _cprior(case: dict, ours_seconds: float, p: np.ndarray, loss: np.ndarray) -> dict:
    """cprior (exact, C++ closed forms) in this process, two arms only: P(B > A) and both expected losses."""
    if len(case["visitors"]) != 2:
        return {}
    try:
        from cprior.cdist import BetaABTest, BetaModel
    except ImportError:
        return {"cprior_ms": np.nan}
    (v0, v1), (c0, c1) = case["visitors"], case["conversions"]
    test = BetaABTest(BetaModel(alpha=1 + c0, beta=1 + v0 - c0), BetaModel(alpha=1 + c1, beta=1 + v1 - c1))

    def decide():
        return test.probability(variant="B"), test.expected_loss(variant="A"), test.expected_loss(variant="B")

    t = median_time(decide, 200)
    prob, loss_a, loss_b = decide()
    return {
        "cprior_ms": 1e3 * t,
        "cprior_x_slower": t / ours_seconds,
        "cprior_max|dP|": abs(prob - p[1]),
        "cprior_max|dloss|": max(abs(loss_a - loss[0]), abs(loss_b - loss[1])),
    }


def accuracy_and_speed(quick: bool) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    cs = cases(rng)
    segments = [([5000, 5000, 5000], [int(x) for x in rng.binomial(5000, [0.05, 0.052, 0.051])]) for _ in range(1000)]
    peer_results = {}
    if ensure_peer_env():
        payload = cs + [{"name": "1000 segments x 3 arms", "segments": segments if not quick else segments[:100]}]
        peer_results = {r["name"]: r for r in run_peers(payload)}
    rows = []
    for case in cs:
        p, loss = ours(case["visitors"], case["conversions"])
        t = median_time(lambda c=case: ours(c["visitors"], c["conversions"]), 200)
        row = {"case": case["name"], "ours_ms": 1e3 * t, "P(best last arm)": p[-1], "loss(arm 1)": loss[0]}
        for peer in ("bayesian-testing", "gbstats"):
            r = peer_results.get(case["name"], {}).get(peer)
            if not r:
                row |= {
                    f"{peer}_ms": np.nan,
                    f"{peer}_x_slower": np.nan,
                    f"{peer}_max|dP|": np.nan,
                    f"{peer}_max|dloss|": np.nan,
                }
                continue
            row |= {
                f"{peer}_ms": 1e3 * r["seconds"],
                f"{peer}_x_slower": r["seconds"] / t,
                f"{peer}_max|dP|": float(np.max(np.abs(np.asarray(r["prob_best"]) - p))),
                f"{peer}_max|dloss|": float(np.max(np.abs(np.asarray(r["expected_loss"]) - loss))),
            }
        row |= _cprior(case, t, p, loss)
        rows.append(row)
    # 1000 segments x 3 arms: one batched exact call
    v = np.array([s[0] for s in segments], float)
    c = np.array([s[1] for s in segments], float)
    t = median_time(lambda: rank_arms(1 + c, 1 + v - c), 5)
    seg_row = {"case": "1000 segments x 3 arms", "ours_ms": 1e3 * t}
    r = peer_results.get("1000 segments x 3 arms", {}).get("bayesian-testing")
    if r:
        scale = 1000 / (100 if quick else 1000)
        seg_row |= {
            "bayesian-testing_ms": 1e3 * r["seconds"] * scale,
            "bayesian-testing_x_slower": r["seconds"] * scale / t,
        }
    rows.append(seg_row)
    return pd.DataFrame(rows).set_index("case")


def pipeline_speed(quick: bool) -> pd.DataFrame:
    from bayescausal.ab.data import aggregate_events
    from bayescausal.ab.hierarchy import beta_binomial_grid, fit_segment_lifts
    from bayescausal.diagnostics import diagnose
    from bayescausal.sampling import SamplerSettings
    from bayescausal.simulate.ab import make_truth, simulate_events

    rows = []
    events = simulate_events(make_truth(seed=1), users=1_000_000, seed=2)
    t = median_time(lambda: aggregate_events(events, user="user", revenue="revenue", segment="segment"), 5)
    rows.append({"task": "aggregate 1M event rows (user check, revenue, segments)", "seconds": t, "target": "< 0.1"})
    t = median_time(lambda: aggregate_events(events), 5)
    rows.append({"task": "aggregate 1M event rows (arm, converted only)", "seconds": t, "target": "< 0.1"})
    truth = make_truth(n_segments=100, baseline=0.05, mean_relative_lift=0.05, lift_sd=0.1, seed=3)
    rng = np.random.default_rng(4)
    seg = pd.DataFrame(
        [
            {"segment": s, "arm": a, "visitors": 2000, "conversions": rng.binomial(2000, truth.rates[i, k])}
            for i, s in enumerate(truth.segments)
            for k, a in enumerate(truth.arms)
        ]
    )
    t0 = time.perf_counter()
    beta_binomial_grid(seg[seg.arm == "treatment"].conversions.to_numpy(), seg[seg.arm == "treatment"].visitors)
    rows.append(
        {
            "task": "100 segments: exact Beta-Binomial hyperposterior (grid)",
            "seconds": time.perf_counter() - t0,
            "target": "far below NUTS",
        }
    )
    if not quick:
        t0 = time.perf_counter()
        fit = fit_segment_lifts(seg, list(truth.arms), SamplerSettings(seed=5))
        secs = time.perf_counter() - t0
        d = diagnose(fit.posterior, ["lift", "tau"])
        rows.append(
            {
                "task": f"100 segments: logit-normal NUTS, 4x2000 draws incl. compile (R-hat {d.max_rhat:.3f}, "
                f"min ESS {d.min_ess_bulk:.0f})",
                "seconds": secs,
                "target": "< 30",
            }
        )
    return pd.DataFrame(rows).set_index("task")


def hillstrom() -> pd.DataFrame | None:
    if not HILLSTROM.exists():
        print(f"Hillstrom skipped: {HILLSTROM} not found", file=sys.stderr)
        return None
    from bayescausal.ab.data import aggregate_events

    events = pd.read_csv(HILLSTROM)
    agg = aggregate_events(events, arm="segment", converted="conversion", revenue="spend").set_index("arm")
    agg = agg.loc[["No E-Mail", "Mens E-Mail", "Womens E-Mail"]]
    p, loss = ours(agg["visitors"].tolist(), agg["conversions"].tolist())
    out = pd.DataFrame(
        {
            "conversion": agg["conversions"] / agg["visitors"],
            "P(best) exact": p,
            "expected loss exact": loss,
            "revenue per user": agg["revenue"] / agg["visitors"],
        }
    )
    if PEER_PYTHON.exists():
        payload = [
            {
                "name": "hillstrom",
                "visitors": agg["visitors"].tolist(),
                "conversions": agg["conversions"].tolist(),
                "reps": 3,
            }
        ]
        r = run_peers(payload)[0]["bayesian-testing"]
        out["P(best) bayesian-testing"] = r["prob_best"]
    return out


def adjustment_coverage(quick: bool) -> pd.DataFrame:
    """Regression adjustment (CUPED) on users whose revenue correlates rho with a pre-period covariate: the 94%
    interval's coverage of the true lift and its width against the unadjusted model, over many simulations."""
    from bayescausal.ab.adjust import adjusted_means
    from bayescausal.ab.data import aggregate_events, arm_totals, validate_aggregated

    rows, sims = [], 100 if quick else 400
    for rho, lift in ((0.7, 0.5), (0.7, 0.0), (0.3, 0.5), (0.0, 0.5)):
        hits, ratio, t0 = [], [], time.perf_counter()
        for seed in range(sims):
            rng = np.random.default_rng(seed)
            n = 4_000
            arm = rng.choice(["A", "B"], n)
            pre = rng.normal(0, 1, n)
            revenue = 20 + 10 * (rho * pre + np.sqrt(1 - rho**2) * rng.normal(0, 1, n)) + lift * (arm == "B")
            frame = pd.DataFrame({"arm": arm, "converted": 1, "revenue": revenue, "pre": pre})
            events = aggregate_events(frame, revenue="revenue", covariate="pre")
            totals = arm_totals(validate_aggregated(events, metrics=("pre",))).loc[["A", "B"]]
            adj = adjusted_means(totals, metric="revenue", squares="revenue_sq", covariate="pre", draws=4000, seed=0)
            diff = adj.per_user[:, 1] - adj.per_user[:, 0]
            low, high = np.quantile(diff, [0.03, 0.97])
            hits.append(low <= lift <= high)
            ratio.append(np.sqrt(1 - adj.variance_reduction))
        rows.append(
            {
                "correlation": rho,
                "true lift": lift,
                "simulations": sims,
                "94% interval coverage": float(np.mean(hits)),
                "sd vs unadjusted": float(np.mean(ratio)),
                "expected sd ratio sqrt(1 - rho^2)": float(np.sqrt(1 - rho**2)),
                "ms per analysis": 1e3 * (time.perf_counter() - t0) / sims,
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip the NUTS fit and use 100 peer segments")
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    print("== Exact decision: time per call and each peer's gap to the exact answer ==")
    print(accuracy_and_speed(args.quick).to_string(float_format=lambda v: f"{v:.3g}"))
    print("\n== Regression adjustment (CUPED): coverage and variance reduction ==")
    print(adjustment_coverage(args.quick).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print("\n== Pipeline speed ==")
    print(pipeline_speed(args.quick).to_string(float_format=lambda v: f"{v:.3g}"))
    table = hillstrom()
    if table is not None:
        print("\n== Hillstrom e-mail experiment (real data) ==")
        print(table.to_string(float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
