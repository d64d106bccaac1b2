"""The compiled two-arm closed forms against a 30-digit reference, the quadrature, and known values."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from bayescausal.ab.beta import quadrature_ranking
from bayescausal.ab.kernels import prob_greater, two_arms, two_arms_batch
from bayescausal.ab.ranking import exact_ranking


def _miller_mp(a_x, b_x, a_y, b_y):
    """P(X > Y) by Evan Miller's sum in 30-digit arithmetic (independent of the kernel's recurrence)."""
    with mp.workdps(30):
        return float(
            mp.fsum(
                mp.beta(a_y + i, b_x + b_y) / ((b_x + i) * mp.beta(1 + i, b_x) * mp.beta(a_y, b_y))
                for i in range(int(a_x))
            )
        )


def test_known_values():
    assert two_arms(1.0, 1.0, 1.0, 1.0) == pytest.approx((0.5, 1 / 6, 1 / 6), abs=1e-15)  # two uniforms
    assert prob_greater(1.0, 1.0, 2.0, 1.0) == pytest.approx(2 / 3, abs=1e-15)  # max of two uniforms vs one
    assert np.isnan(prob_greater(0.5, 0.5, 0.5, 0.5))  # no integer parameter: the caller uses quadrature


@pytest.mark.parametrize("seed", range(3))
def test_against_a_30_digit_reference(seed):
    rng = np.random.default_rng(seed)
    for _ in range(8):
        a = rng.integers(1, 800, 2).astype(float)
        b = rng.integers(1, 20_000, 2).astype(float)
        assert prob_greater(a[0], b[0], a[1], b[1]) == pytest.approx(_miller_mp(a[1], b[1], a[0], b[0]), abs=1e-11)


def test_losses_match_the_quadrature_and_batches_match_single_calls():
    rng = np.random.default_rng(7)
    alpha = rng.integers(1, 3_000, (200, 2)).astype(float)
    beta = rng.integers(1, 60_000, (200, 2)).astype(float)
    p, loss_a, loss_b = two_arms_batch(alpha, beta)
    for i in range(0, 200, 20):
        prob_q, loss_q = quadrature_ranking(alpha[i], beta[i])
        single = two_arms(alpha[i, 0], beta[i, 0], alpha[i, 1], beta[i, 1])
        assert single == (p[i], loss_a[i], loss_b[i])
        assert abs(p[i] - prob_q[1]) < 1e-8 and abs(loss_a[i] - loss_q[0]) < 1e-8 and abs(loss_b[i] - loss_q[1]) < 1e-8


def test_lower_is_better_and_the_quadrature_fallback():
    p, loss = exact_ranking(np.array([50.0, 60.0]), np.array([950.0, 940.0]), lower_is_better=True)
    mirrored, mloss = exact_ranking(np.array([950.0, 940.0]), np.array([50.0, 60.0]))
    np.testing.assert_array_equal(p, mirrored)
    np.testing.assert_array_equal(loss, mloss)
    frac, _ = exact_ranking(np.array([50.5, 60.5]), np.array([950.5, 940.5]))
    near, _ = exact_ranking(np.array([50.0, 60.0]), np.array([950.0, 940.0]))
    assert abs(frac[1] - near[1]) < 0.01 and 0 < frac[1] < 1


@pytest.mark.parametrize(
    ("alpha", "beta"),
    [
        ([10, 500, 20_000], [100_000, 9_000, 380_000]),  # a sharp arm beside flat ones
        ([5000, 5100, 4900, 5050, 5020], [95000, 94900, 95100, 94950, 94980]),
        ([10, 10_000], [10, 10]),
        ([11, 12, 13], [100_000, 100_000, 100_000]),
    ],
)
def test_spectral_rankings_match_the_quadrature(alpha, beta):
    from bayescausal.ab.spectral import rank_batch

    a, b = np.array([alpha], float), np.array([beta], float)
    prob, loss = rank_batch(a, b)
    prob_q, loss_q = quadrature_ranking(a[0], b[0])
    assert np.abs(prob[0] - prob_q).max() < 1e-10 and np.abs(loss[0] - loss_q).max() < 1e-10
    assert prob.sum() == pytest.approx(1.0, abs=1e-10)


def test_batched_segments_use_the_fast_path_and_stay_exact():
    rng = np.random.default_rng(0)
    visitors = np.full((200, 3), 5000.0)
    conversions = rng.binomial(5000, [0.05, 0.052, 0.051], (200, 3)).astype(float)
    from bayescausal.ab.ranking import rank_arms

    prob, loss = rank_arms(1 + conversions, 1 + visitors - conversions)
    prob_q, loss_q = quadrature_ranking(1 + conversions, 1 + visitors - conversions)
    assert np.abs(prob - prob_q).max() < 1e-10 and np.abs(loss - loss_q).max() < 1e-10
