"""Partial pooling: the published rat-tumour hierarchy, NUTS vs exact, and lower error than no pooling."""

import numpy as np
import pandas as pd
import pytest

from bayescausal.ab.hierarchy import beta_binomial_grid, beta_binomial_nuts, fit_segment_lifts
from bayescausal.diagnostics import diagnose
from bayescausal.sampling import SamplerSettings
from bayescausal.simulate.ab import make_truth

# BDA3 Table 5.1: tumours in 71 groups of rats (70 historical experiments and the current one)
# fmt: off
RAT_Y = np.array([
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 5, 2, 5, 3,
    2, 7, 7, 3, 3, 2, 9, 10, 4, 4, 4, 4, 4, 4, 4, 10, 4, 4, 4, 5, 11, 12, 5, 5, 6, 5, 6, 6, 6, 6, 16, 15, 15, 9, 4,
])
RAT_N = np.array([
    20, 20, 20, 20, 20, 20, 20, 19, 19, 19, 19, 18, 18, 17, 20, 20, 20, 20, 19, 19, 18, 18, 25, 24, 23, 20, 20, 20,
    20, 20, 20, 10, 49, 19, 46, 27, 17, 49, 47, 20, 20, 13, 48, 50, 20, 20, 20, 20, 20, 20, 20, 48, 19, 19, 19, 22,
    46, 49, 20, 20, 23, 19, 22, 20, 20, 20, 52, 46, 47, 24, 14,
])
# fmt: on


def test_rat_tumour_grid_reproduces_bda3():
    post = beta_binomial_grid(RAT_Y, RAT_N)
    u, v = post.mode()
    # BDA3 section 5.3: posterior mode at (log(a/b), log(a+b)) = (-1.79, 2.74); means E(a) ~ 2.4, E(b) ~ 14.3
    assert u == pytest.approx(-1.79, abs=0.02) and v == pytest.approx(2.74, abs=0.03)
    alpha, beta = post.mean()
    assert alpha == pytest.approx(2.4, abs=0.05) and beta == pytest.approx(14.3, abs=0.3)
    draws = post.sample(20_000, seed=1)
    assert draws["alpha"].mean() == pytest.approx(alpha, rel=0.02)
    # the current experiment (4/14) is shrunk toward the population rate
    assert RAT_Y[-1] / RAT_N[-1] > draws["theta"][:, -1].mean() > alpha / (alpha + beta)


@pytest.mark.slow
def test_nuts_agrees_with_exact_grid():
    grid_alpha, grid_beta = beta_binomial_grid(RAT_Y, RAT_N).mean()
    idata = beta_binomial_nuts(RAT_Y, RAT_N, SamplerSettings(draws=1000, tune=1000, chains=2, seed=2))
    verdict = diagnose(idata, ["alpha", "beta"])
    assert verdict.passed, verdict.problems
    post = idata["posterior"]
    for name, exact in (("alpha", grid_alpha), ("beta", grid_beta)):
        draws = post[name].values
        mcse = draws.std() / np.sqrt(verdict.table.set_index("parameter").loc[name, "ess_bulk"])
        assert abs(draws.mean() - exact) < 4 * mcse, (name, draws.mean(), exact, mcse)


def _segments_frame(truth, visitors_per_cell, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for s, segment in enumerate(truth.segments):
        for k, arm in enumerate(truth.arms):
            rows.append(
                {
                    "segment": segment,
                    "arm": arm,
                    "visitors": visitors_per_cell,
                    "conversions": rng.binomial(visitors_per_cell, truth.rates[s, k]),
                }
            )
    return pd.DataFrame(rows)


@pytest.mark.slow
def test_pooled_segment_lifts_beat_unpooled_and_are_reproducible():
    truth = make_truth(n_segments=12, baseline=0.05, mean_relative_lift=0.1, lift_sd=0.1, seed=3)
    seg = _segments_frame(truth, 3_000, seed=4)
    settings = SamplerSettings(seed=5)  # the defaults: 4 chains x 2000 draws
    fit = fit_segment_lifts(seg, list(truth.arms), settings)
    assert diagnose(fit.posterior, ["base", "lift", "tau"]).passed
    true_lift = truth.segment_lifts[:, 0]
    pooled = fit.table["pooled_lift"].to_numpy()
    raw = fit.table["raw_lift"].to_numpy()
    rmse = lambda est: float(np.sqrt(np.mean((est - true_lift) ** 2)))  # noqa: E731
    assert rmse(pooled) < rmse(raw)
    assert {"prob_lift_positive", "prob_arm_best_in_segment", "prob_segment_has_largest_lift"} <= set(fit.table)
    assert fit.table["prob_segment_has_largest_lift"].sum() == pytest.approx(1.0)
    again = fit_segment_lifts(seg, list(truth.arms), settings)
    np.testing.assert_array_equal(fit.lift_draws, again.lift_draws)  # same seed, same numbers, bit for bit
