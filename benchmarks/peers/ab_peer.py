"""Runs inside a peer's own virtual environment (benchmarks/.peers/py311): reads cases as JSON on stdin,
prints each peer's answers and timings as JSON. Peers: bayesian-testing (Monte Carlo), gbstats (normal
approximation, two arms only)."""

import json
import sys
import time

import numpy as np


def timed(fn, reps):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, float(np.median(times))


def bayesian_testing(visitors, conversions, reps):
    from bayesian_testing.metrics.evaluation import eval_bernoulli_agg

    k = len(visitors)
    (pbb, loss, _), secs = timed(
        lambda: eval_bernoulli_agg(visitors, conversions, [1.0] * k, [1.0] * k, sim_count=20_000, seed=1), reps
    )
    return {"prob_best": pbb, "expected_loss": loss, "seconds": secs}


def gbstats(visitors, conversions, reps):
    if len(visitors) != 2:
        return None
    from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig
    from gbstats.models.statistics import ProportionStatistic

    def run():
        a = ProportionStatistic(n=visitors[0], sum=conversions[0])
        b = ProportionStatistic(n=visitors[1], sum=conversions[1])
        return EffectBayesianABTest(a, b, EffectBayesianConfig(difference_type="absolute")).compute_result()

    res, secs = timed(run, reps)
    p_b = float(res.chance_to_win)
    return {"prob_best": [1 - p_b, p_b], "expected_loss": [float(res.risk[0]), float(res.risk[1])], "seconds": secs}


def main():
    cases = json.load(sys.stdin)
    out = []
    for case in cases:
        reps = case.get("reps", 5)
        if "segments" in case:  # many independent small decisions, one call each
            segs = case["segments"]
            t = time.perf_counter()
            for v, c in segs:
                bayesian_testing(v, c, 1)
            out.append({"name": case["name"], "bayesian-testing": {"seconds": time.perf_counter() - t}})
            continue
        v, c = case["visitors"], case["conversions"]
        out.append(
            {"name": case["name"], "bayesian-testing": bayesian_testing(v, c, reps), "gbstats": gbstats(v, c, reps)}
        )
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
