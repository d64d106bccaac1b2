"""Ground truth for causal forests: the Hahn, Murray & Carvalho (2020) designs and a discount simulator.

Every frame carries the true CATE (`tau`), the prognostic function (`mu`) and the true propensity
(`propensity`), so tests and benchmarks can score PEHE, interval coverage and policy value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr

HAHN_COVARIATES = ["x1", "x2", "x3", "x4", "x5"]


def hahn(
    n: int,
    *,
    linear: bool = False,
    heterogeneous: bool = True,
    targeted: bool = True,
    seed: int = 0,
) -> pd.DataFrame:
    """Hahn et al. (2020), section 6: x1..x3 ~ N(0, 1), x4 ~ Bernoulli(0.5), x5 in {1, 2, 3};
    mu linear (1 + g(x5) + x1 x3) or nonlinear (-6 + g(x5) + 6|x3 - 1|); tau homogeneous (3) or
    heterogeneous (1 + 2 x2 x4); targeted selection pi = 0.8 Phi(3 mu / sd(mu) - 0.5 x1) + 0.05 + u / 10
    (or a fair coin when `targeted` is False); y = mu + tau z + N(0, 1)."""
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.normal(size=(3, n))
    x4 = rng.binomial(1, 0.5, n)
    x5 = rng.integers(1, 4, n)
    g = np.array([0.0, 2.0, -1.0, -4.0])[x5]
    mu = 1 + g + x1 * x3 if linear else -6 + g + 6 * np.abs(x3 - 1)
    tau = 1 + 2 * x2 * x4 if heterogeneous else np.full(n, 3.0)
    selection = 0.8 * ndtr(3 * mu / mu.std() - 0.5 * x1) + 0.05 + rng.uniform(size=n) / 10
    pi = selection if targeted else np.full(n, 0.5)
    z = rng.binomial(1, pi)
    y = mu + tau * z + rng.normal(size=n)
    return pd.DataFrame(
        {"x1": x1, "x2": x2, "x3": x3, "x4": x4, "x5": x5, "z": z, "y": y, "tau": tau, "mu": mu, "propensity": pi}
    )


DISCOUNT_STATES = ["CA", "NY", "TX", "FL", "WA"]


def discount(
    n: int,
    *,
    randomised: bool = True,
    discount_cost: float = 2.0,
    seed: int = 0,
) -> pd.DataFrame:
    """A discount campaign after the seed case: customers with age, state and predicted sales; the
    discount lifts sales most for younger, high-potential customers and not at all for older ones,
    so profit = 0.05 x incremental sales - discount is positive for a minority only. Without
    randomisation, high predicted-sales customers are more likely to get the discount (confounding)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    state = rng.choice(DISCOUNT_STATES, n, p=[0.3, 0.2, 0.2, 0.2, 0.1])
    predicted_sales = np.round(rng.lognormal(np.log(150), 0.6, n), 2)
    state_effect = pd.Series(state).map({"CA": 15.0, "NY": 10.0, "TX": 0.0, "FL": -5.0, "WA": 5.0}).to_numpy()
    youth = np.clip((60 - age) / 40, 0, 1)
    tau = 80 * youth * np.sqrt(predicted_sales / 150) + 5 * (state == "CA") - 5
    mu = 30 + 0.9 * predicted_sales + state_effect + 0.3 * (age - 45)
    if randomised:
        pi = np.full(n, 0.5)
    else:
        pi = 1 / (1 + np.exp(-(np.log(predicted_sales / 150) * 1.5 - (age - 45) / 30)))
        pi = np.clip(pi, 0.05, 0.95)
    z = rng.binomial(1, pi)
    sales = np.maximum(mu + tau * z + rng.normal(0, 20, n), 0.0)
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "age": age,
            "state": state,
            "predicted_sales": predicted_sales,
            "discount": z,
            "sales": np.round(sales, 2),
            "discount_cost": discount_cost,
            "tau": tau,
            "mu": mu,
            "propensity": pi,
        }
    )


def zero_inflated_spend(n: int, *, seed: int = 0) -> pd.DataFrame:
    """A randomised e-mail with zero-inflated spend and a known revenue CATE: the e-mail raises the chance of a
    purchase for recent customers (x1) and the basket of big spenders (x2); most customers buy nothing.
    P(buy) = Phi(-1 + 0.5 x2 + z (0.2 + 0.6 x1)), log spend | buy ~ N(3 + 0.4 x2 + 0.2 z x2, 0.6^2), so
    tau(x) = E[spend | x, z = 1] - E[spend | x, z = 0] in closed form."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    z = rng.binomial(1, 0.5, n)

    def mean_spend(arm):
        buy = ndtr(-1.0 + 0.5 * x[:, 1] + arm * (0.2 + 0.6 * x[:, 0]))
        return buy, buy * np.exp(3.0 + 0.4 * x[:, 1] + 0.2 * arm * x[:, 1] + 0.6**2 / 2)

    buy, _ = mean_spend(z)
    log_spend = 3.0 + 0.4 * x[:, 1] + 0.2 * z * x[:, 1] + rng.normal(0, 0.6, n)
    spend = np.where(rng.random(n) < buy, np.round(np.exp(log_spend), 2), 0.0)
    frame = pd.DataFrame(x, columns=["x1", "x2", "x3"]).assign(z=z, spend=spend)
    return frame.assign(tau=mean_spend(1)[1] - mean_spend(0)[1], propensity=0.5)
