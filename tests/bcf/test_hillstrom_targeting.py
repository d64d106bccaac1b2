"""The job users bring, on the real Hillstrom experiment: fit on 10,000 customers of last campaign, score the
other ~32,600 as this campaign's list, and value the `treat` column on them by inverse-propensity weighting
(valid: the e-mail was randomised). Runs where ../shared/data has Hillstrom (benchmarks/hillstrom.py adds
the peers, the visit outcome and more splits)."""

import numpy as np
import pandas as pd
import pytest

import bayescausal.bcf as bcf
from tests.conftest import shared_file

pytestmark = pytest.mark.slow
COVARIATES = ["recency", "history", "mens", "womens", "zip_code", "newbie", "channel"]
MARGIN, COST = 0.3, 0.10


def ipw_profit(frame: pd.DataFrame, treat: np.ndarray, share: float) -> np.ndarray:
    """Per-customer IPW profit of treating `treat` (Horvitz-Thompson; mean = the policy's value)."""
    z = (frame["segment"] == "Mens E-Mail").to_numpy(float)
    y = frame["spend"].to_numpy(float)
    gamma = y * z / share - y * (1 - z) / (1 - share)
    return treat * (MARGIN * gamma - COST)


@pytest.mark.parametrize("seed", [0])  # one split here; benchmarks/hillstrom.py runs more, with the peers
def test_targeting_new_customers_earns_at_least_treat_all(tmp_path, seed):
    raw = pd.read_csv(shared_file("hillstrom", "hillstrom.csv"))
    raw = raw[raw["segment"].isin(["Mens E-Mail", "No E-Mail"])].reset_index(drop=True)
    raw["customer"] = np.arange(len(raw))
    train = np.zeros(len(raw), bool)
    train[np.random.default_rng(seed).choice(len(raw), 10_000, replace=False)] = True
    new = tmp_path / "next_campaign.csv"
    raw[~train].to_csv(new, index=False)
    result = bcf.fit(
        raw[train],
        outcome="spend",
        treatment="segment",
        treated_value="Mens E-Mail",
        covariates=COVARIATES,
        randomised=True,
        id="customer",
        margin_rate=MARGIN,
        cost_per_treated=COST,
        predict=str(new),
        placebo=False,  # the refit with permuted treatment checks the verdict, not the targeting valued here
        saved_draws=0,
        chains=2,  # half the default budget keeps the suite's time; the benchmark runs the default
        draws=200,
        seed=seed,
    )
    scores = result.row_outputs["scores"]
    assert list(scores["id"]) == list(raw.loc[~train, "customer"])  # one row per new customer, in order
    share = float((raw.loc[train, "segment"] == "Mens E-Mail").mean())
    ours = ipw_profit(raw[~train], scores["treat"].to_numpy(), share)
    treat_all = ipw_profit(raw[~train], np.ones(len(scores)), share)
    diff = ours - treat_all
    se = diff.std(ddof=1) / np.sqrt(len(diff))
    assert diff.mean() >= -se, (ours.mean(), treat_all.mean(), se)  # at least treat-all, within one SE
