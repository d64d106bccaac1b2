"""Exact A/B calculus against independent closed forms, identities and high-draw Monte Carlo."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from bayescausal.ab.beta import (
    BetaPosterior,
    LiftDistribution,
    monte_carlo_ranking,
    prob_b_beats_a,
)
from bayescausal.ab.ranking import exact_ranking, expected_losses_two_arms, rank_arms


def miller_reference(a_a, b_a, a_b, b_b):
    """Evan Miller's sum written independently with math.lgamma (integer a_b)."""

    def lbeta(x, y):
        return math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)

    total = 0.0
    for i in range(int(a_b)):
        total += math.exp(lbeta(a_a + i, b_b + b_a) - math.log(b_b + i) - lbeta(1 + i, b_b) - lbeta(a_a, b_a))
    return total


def stucchio_reference(a_a, b_a, a_b, b_b):
    """Expected loss of choosing A: E[p_B]P(B'>A) - E[p_A]P(B>A'), with Miller's sum for each term."""
    return (a_b / (a_b + b_b)) * miller_reference(a_a, b_a, a_b + 1, b_b) - (a_a / (a_a + b_a)) * miller_reference(
        a_a + 1, b_a, a_b, b_b
    )


CASES = [
    (1, 1, 1, 1),
    (11, 91, 16, 86),
    (201, 9801, 241, 9761),
    (3, 5, 40, 60),
    (51, 950, 45, 956),
    (1001, 20001, 1040, 19962),
    (2, 30, 9, 4),
]


@pytest.mark.parametrize("case", CASES)
def test_two_arm_closed_form_matches_independent_sum(case):
    ref = miller_reference(*case)
    assert prob_b_beats_a(*case) == pytest.approx(ref, rel=1e-8, abs=1e-12)
    loss_a, loss_b = expected_losses_two_arms(*case)
    assert loss_a == pytest.approx(stucchio_reference(*case), rel=1e-8, abs=1e-13)
    # identity: loss(A) - loss(B) = E[p_B] - E[p_A]
    a_a, b_a, a_b, b_b = case
    assert loss_a - loss_b == pytest.approx(a_b / (a_b + b_b) - a_a / (a_a + b_a), abs=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_quadrature_matches_closed_form(case):
    a_a, b_a, a_b, b_b = case
    prob, loss = rank_arms(np.array([a_a, a_b]), np.array([b_a, b_b]))
    assert prob[1] == pytest.approx(miller_reference(*case), rel=1e-8, abs=1e-11)
    assert loss[0] == pytest.approx(stucchio_reference(*case), rel=1e-7, abs=1e-12)


@pytest.mark.parametrize("case", [(0.5, 0.5, 3.5, 10.5), (1.5, 300.2, 3.2, 250.1), (5000.5, 95000.5, 5100.5, 94900.5)])
def test_non_integer_priors_match_adaptive_quadrature(case):
    a_a, b_a, a_b, b_b = case
    ref = integrate.quad(
        lambda x: stats.beta.pdf(x, a_b, b_b) * stats.beta.cdf(x, a_a, b_a),
        0,
        1,
        epsabs=1e-14,
        epsrel=1e-12,
        limit=500,
        points=[a_b / (a_b + b_b)],
    )[0]
    assert prob_b_beats_a(*case) == pytest.approx(ref, rel=1e-8)


def test_k_arms_sum_to_one_and_match_monte_carlo():
    a = np.array([11.0, 16, 14, 20, 9, 1, 30, 12, 13, 15])
    b = np.array([91.0, 86, 88, 80, 95, 1, 1000, 100, 100, 100])
    prob, loss = rank_arms(a, b)
    assert prob.sum() == pytest.approx(1.0, abs=1e-10)
    mc = monte_carlo_ranking(a, b, draws=400_000, seed=3)
    assert np.all(np.abs(prob - mc["prob_best"]) <= 4.5 * mc["prob_best_mcse"] + 1e-9)
    assert np.all(np.abs(loss - mc["expected_loss"]) <= 4.5 * mc["expected_loss_mcse"])
    # identity: loss_k - loss_j = E[p_j] - E[p_k]
    means = a / (a + b)
    assert np.allclose(loss - loss[0], means[0] - means, atol=1e-11)


def test_sharp_arm_beside_flat_arm():
    """A barely observed arm next to a sharp one: panels at both arms' quantiles resolve the step."""
    prob, _ = rank_arms(np.array([1.0, 5001.0]), np.array([1.0, 95001.0]))
    assert prob[0] == pytest.approx(1 - miller_reference(1, 1, 5001, 95001), rel=1e-9)


def test_lower_is_better_is_the_mirror_image():
    a, b = np.array([20.0, 30, 25]), np.array([80.0, 70, 75])
    low, loss_low = rank_arms(a, b, lower_is_better=True)
    high, loss_high = rank_arms(b, a)
    assert np.allclose(low, high, atol=1e-12) and np.allclose(loss_low, loss_high, atol=1e-12)
    two, _ = exact_ranking(a[:2], b[:2], lower_is_better=True)
    assert two[0] > 0.9


def test_batched_ranking_equals_one_by_one():
    a = np.array([[10.0, 12], [50, 40], [3, 9]])
    b = np.array([[90.0, 88], [950, 960], [7, 1]])
    prob, loss = rank_arms(a, b)
    for i in range(3):
        p, ell = exact_ranking(a[i], b[i])
        assert np.allclose(prob[i], p, atol=1e-10) and np.allclose(loss[i], ell, atol=1e-11)


def test_lift_distribution_exact_summaries():
    c, t = BetaPosterior(201, 9801), BetaPosterior(241, 9761)
    lift = LiftDistribution(c, t)
    assert 1 - lift.cdf(0.0)[0] == pytest.approx(prob_b_beats_a(201, 9801, 241, 9761), abs=1e-9)
    rng = np.random.default_rng(0)
    draws = rng.beta(241, 9761, 400_000) - rng.beta(201, 9801, 400_000)
    assert lift.ppf(0.5) == pytest.approx(np.median(draws), abs=4 * lift.sd() / np.sqrt(400_000) * 1.3)
    low, high = lift.hdi(0.94)
    assert lift.cdf(high)[0] - lift.cdf(low)[0] == pytest.approx(0.94, abs=1e-4)
    # an HDI is the shortest 94% interval: no shorter than any equal-tailed one, density equal at both ends
    assert high - low <= lift.ppf(0.97) - lift.ppf(0.03) + 1e-12
    h = 1e-7
    dens = [(lift.cdf(x + h)[0] - lift.cdf(x - h)[0]) / (2 * h) for x in (low, high)]
    assert dens[0] == pytest.approx(dens[1], rel=2e-2)


def test_relative_lift_moments_and_heavy_tail():
    rel = LiftDistribution(BetaPosterior(201, 9801), BetaPosterior(241, 9761), relative=True)
    rng = np.random.default_rng(1)
    draws = rng.beta(241, 9761, 400_000) / rng.beta(201, 9801, 400_000) - 1
    assert rel.mean() == pytest.approx(draws.mean(), abs=4 * draws.std() / np.sqrt(len(draws)))
    assert rel.sd() == pytest.approx(draws.std(), rel=0.01)
    assert rel.ppf(0.03) == pytest.approx(np.quantile(draws, 0.03), abs=0.002)
    flat = LiftDistribution(BetaPosterior(1, 1), BetaPosterior(2, 1), relative=True)
    assert math.isinf(flat.mean())  # E[1 / p_A] diverges for alpha_A <= 1: said, not hidden


def test_beta_hdi_touches_the_boundary_when_j_shaped():
    low, high = BetaPosterior(1, 30).hdi(0.94)
    assert low == 0.0 and high == pytest.approx(stats.beta.ppf(0.94, 1, 30))
