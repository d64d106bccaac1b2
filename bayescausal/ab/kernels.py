"""Compiled two-arm kernels: P(B > A) and both expected losses in closed form, in microseconds.

Evan Miller's sum P(X > Y) = sum_{i < a_X} B(a_Y + i, b_X + b_Y) / ((b_X + i) B(1 + i, b_X) B(a_Y, b_Y)) has
consecutive terms in the ratio (a_Y + i)(b_X + i) / ((a_Y + b_X + b_Y + i)(1 + i)), so after one set of log-
gammas each term costs two multiplications and a division. The terms are unimodal: the sum starts at the peak
(its log found by accurate log-gamma steps) and walks out until the rest is negligible. Of the four
symmetric forms (over a_A, b_A, a_B or b_B) the one with the fewest terms is used, as cprior does in C++.
Stucchio's identity turns the expected losses into two more such sums. Compiled with numba (strict IEEE
arithmetic: the same inputs give the same bits); a parameter set with no integer among them returns NaN and
the caller uses quadrature.
"""

from __future__ import annotations

import math

import numba
import numpy as np

MAX_TERMS = 100_000  # beyond this many terms quadrature is faster (and the sums stay accurate up to it)


@numba.njit(cache=True)
def _stirling_tail(z: float) -> float:
    """lgamma(z) - [(z - 1/2) log z - z + log(2 pi) / 2], for z >= 20 (error below 1e-16)."""
    r = 1.0 / z
    r2 = r * r
    return r * (1.0 / 12 - r2 * (1.0 / 360 - r2 * (1.0 / 1260 - r2 / 1680)))


@numba.njit(cache=True)
def _lgamma_step(x: float, a: float) -> float:
    """lgamma(x + a) - lgamma(x), accurately for large x: a difference of two lgammas near 4e5 would lose
    ten digits, so for x >= 20 it is written as (x - 1/2) log1p(a / x) + a log(x + a) - a + tail differences."""
    if x < 20.0:
        return math.lgamma(x + a) - math.lgamma(x)
    return (x - 0.5) * math.log1p(a / x) + a * math.log(x + a) - a + _stirling_tail(x + a) - _stirling_tail(x)


@numba.njit(cache=True)
def _miller(a_x: float, b_x: float, a_y: float, b_y: float) -> float:
    """P(X > Y), X ~ Beta(a_x, b_x) with integer a_x, Y ~ Beta(a_y, b_y). The terms are unimodal in i: the sum
    starts at their peak and walks out both ways until the rest is negligible (1e-18 of the sum), so large
    counts cost the width of the peak, not a_x terms. Each step is two multiplications and a division."""
    n = int(a_x)
    c = a_y + b_x + b_y
    peak = int(min(max((a_y * b_x - c) / (b_y + 1.0), 0.0), n - 1.0))  # where the term ratio crosses 1
    log_peak = _lgamma_step(b_y, a_y) - _lgamma_step(b_x + b_y, a_y)  # the first term
    if peak > 0:
        log_peak += _lgamma_step(a_y, peak) + _lgamma_step(b_x, peak) - _lgamma_step(c, peak) - math.lgamma(peak + 1.0)
    total, term = 1.0, 1.0  # relative to the peak term: nothing can overflow
    for i in range(peak, n - 1):
        term *= (a_y + i) * (b_x + i) / ((c + i) * (1.0 + i))
        total += term
        if term < 1e-18 * total:
            break
    term = 1.0
    for i in range(peak - 1, -1, -1):
        term *= (c + i) * (1.0 + i) / ((a_y + i) * (b_x + i))
        total += term
        if term < 1e-18 * total:
            break
    return math.exp(log_peak + math.log(total))


@numba.njit(cache=True)
def _usable(p: float) -> bool:
    return p == math.floor(p) and p <= MAX_TERMS


@numba.njit(cache=True)
def prob_greater(a_a: float, b_a: float, a_b: float, b_b: float) -> float:
    """P(p_B > p_A) by the shortest of the four sums, or NaN when no parameter is a usable integer."""
    best, choice = math.inf, -1
    for k, p in enumerate((a_b, a_a, b_a, b_b)):
        if _usable(p) and p < best:
            best, choice = p, k
    if choice == 0:
        value = _miller(a_b, b_b, a_a, b_a)
    elif choice == 1:
        value = 1.0 - _miller(a_a, b_a, a_b, b_b)
    elif choice == 2:
        value = _miller(b_a, a_a, b_b, a_b)
    elif choice == 3:
        value = 1.0 - _miller(b_b, a_b, b_a, a_a)
    else:
        return math.nan
    return min(max(value, 0.0), 1.0)


@numba.njit(cache=True)
def two_arms(a_a: float, b_a: float, a_b: float, b_b: float):
    """(P(B > A), loss of choosing A, loss of choosing B): losses E[max(p_B - p_A, 0)], E[max(p_A - p_B, 0)]."""
    mean_a, mean_b = a_a / (a_a + b_a), a_b / (a_b + b_b)
    p = prob_greater(a_a, b_a, a_b, b_b)
    loss_a = mean_b * prob_greater(a_a, b_a, a_b + 1.0, b_b) - mean_a * prob_greater(a_a + 1.0, b_a, a_b, b_b)
    loss_a = max(loss_a, 0.0)
    loss_b = max(loss_a - (mean_b - mean_a), 0.0)  # E[max(B-A, 0)] - E[max(A-B, 0)] = E[B - A]
    return p, loss_a, loss_b


@numba.njit(cache=True)
def two_arms_batch(alpha: np.ndarray, beta: np.ndarray):
    """Rows of (control, treatment) parameters -> (P(treatment best), loss of control, loss of treatment)."""
    n = alpha.shape[0]
    p, loss_a, loss_b = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        p[i], loss_a[i], loss_b[i] = two_arms(alpha[i, 0], beta[i, 0], alpha[i, 1], beta[i, 1])
    return p, loss_a, loss_b
