"""Scoring new customers with a fit: one row per input row, the training encoding, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayescausal.cli import main
from bayescausal.simulate.bcf import hahn

FIT = ["bcf", "fit", "--outcome", "y", "--treatment", "z", "--covariates", "x1,x2,x3,x4,x5", "--id-col", "cust"]
FAST = [
    "--chains",
    "4",
    "--draws",
    "200",
    "--no-placebo",
    "--no-report",
    "--margin",
    "0.5",
    "--cost-per-treated",
    "0.3",
]


@pytest.fixture
def files(tmp_path):
    data = hahn(n=1500, seed=0).assign(
        cust=lambda f: np.arange(len(f)), x5=lambda f: f["x5"].map({1: "a", 2: "b", 3: "c"})
    )
    train, new = tmp_path / "train.csv", tmp_path / "new.csv"
    data.iloc[:1000].to_csv(train, index=False)
    data.iloc[1000:].drop(columns=["y", "z"]).sample(frac=1, random_state=1).to_csv(new, index=False)
    return train, new, data.iloc[1000:].set_index("cust")


@pytest.mark.slow
def test_new_customers_are_scored_in_order_and_recover_the_true_effects(tmp_path, files):
    train, new, truth = files
    out = tmp_path / "scores.csv"
    assert main([*FIT, "--data", str(train), "--predict", str(new), "--predict-out", str(out), *FAST]) in (
        0,
        3,
        6,
    )  # a verdict (4 x 200 draws may not converge)
    scores = pd.read_csv(out)
    rows = pd.read_csv(new)
    assert list(scores["id"]) == list(rows["cust"])  # one output row per input row, in order
    assert list(scores.columns) == [
        "id",
        "cate_mean",
        "cate_hdi_low",
        "cate_hdi_high",
        "expected_profit",
        "prob_profit",
        "treat",
    ]
    tau = truth.loc[scores["id"], "tau"].to_numpy()
    assert np.corrcoef(scores["cate_mean"], tau)[0, 1] > 0.9
    assert 0.85 <= np.mean((scores["cate_hdi_low"] <= tau) & (tau <= scores["cate_hdi_high"])) <= 1.0
    np.testing.assert_allclose(scores["expected_profit"], 0.5 * scores["cate_mean"] - 0.3, atol=1e-9)
    assert set(scores["treat"]) <= {0, 1} and (scores["treat"] == (scores["expected_profit"] > 0)).all()


def test_hdi_columns_are_shortest_intervals():
    from bayescausal.bcf.scoring import hdi_columns

    draws = np.random.default_rng(0).exponential(1.0, (20_000, 3))
    low, high = hdi_columns(draws, 0.94)
    assert np.all(low < 0.01) and np.allclose(high, -np.log(0.06), atol=0.05)  # HDI of Exp(1): [0, -log 0.06]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns=["x2"]), r"lack covariate\(s\) \['x2'\]"),
        (lambda f: f.assign(x5=f["x5"].replace({"c": "d"})), "level\\(s\\) \\['d'\\] that the fit never saw"),
        (lambda f: f.assign(x1="high"), "'x1' was numeric in the fit"),
    ],
)
def test_rows_the_fit_cannot_score_are_named(capsys, tmp_path, files, change, message):
    train, new, _ = files
    change(pd.read_csv(new)).to_csv(new, index=False)
    code = main([*FIT, "--data", str(train), "--predict", str(new), *FAST])
    assert code == 2
    assert pytest.importorskip("re").search(message, capsys.readouterr().err)


def test_the_pymc_backend_refuses_to_score(capsys, files):
    train, new, _ = files
    assert main([*FIT, "--data", str(train), "--predict", str(new), "--backend", "pymc", *FAST]) == 2
    assert "backend = 'stochtree'" in capsys.readouterr().err


def test_thinned_forests_predict_exactly_the_kept_draws():
    """Saving keeps evenly spaced draws: after thinning and a JSON round trip, the models predict exactly
    what the full chain predicted at those draws (both parts of the hurdle, sigma included)."""
    from bayescausal.bcf.backends import ForestSettings
    from bayescausal.bcf.forests import ChainModels, fit_chain

    rng = np.random.default_rng(0)
    n = 300
    X = rng.uniform(size=(n, 3))
    z = rng.integers(0, 2, n)
    y = np.where(rng.random(n) < 0.3 + 0.2 * z, np.exp(1 + X[:, 0] + rng.normal(0, 0.5, n)), 0.0)
    settings = ForestSettings(draws=30, burnin=5, gfr=3, prognostic_trees=20, effect_trees=10)
    job = {"settings": settings, "X": X, "z": z, "y": y, "pi": np.full(n, 0.5), "kind": "hurdle", "offers": 1}
    chain = fit_chain(job | {"seed": 1})
    full = chain.arm_means(X, job["pi"])
    again = ChainModels.from_json("hurdle", 1, chain.to_json(draws=7)).arm_means(X, job["pi"])
    keep = np.unique(np.linspace(0, 29, 7).round().astype(int))
    assert again["mean"].shape[1] == 7
    np.testing.assert_allclose(again["mean"], full["mean"][:, keep], rtol=1e-10)
    np.testing.assert_allclose(again["buy"], full["buy"][:, keep], rtol=1e-10)


@pytest.mark.slow
def test_saved_forests_score_later_exactly_as_the_fit_did(capsys, tmp_path, files):
    train, new, _ = files
    report, now, later = tmp_path / "fit", tmp_path / "now.csv", tmp_path / "later.csv"
    fit = [*FIT, "--data", str(train), "--predict", str(new), "--predict-out", str(now), *FAST]
    fit = [a for a in fit if a != "--no-report"] + ["--out", str(report), "--saved-draws", "200"]
    assert main(fit) in (0, 3, 6)
    assert (report / "model" / "forests.json.gz").exists()
    assert main(["bcf", "score", str(report), str(new), "--predict-out", str(later), "--no-report"]) in (0, 3, 6)
    a, b = pd.read_csv(now), pd.read_csv(later)
    assert list(a["id"]) == list(b["id"]) and list(a.columns) == list(b.columns)
    np.testing.assert_allclose(a["cate_mean"], b["cate_mean"], atol=1e-6)
    assert (a["treat"] == b["treat"]).all()
    capsys.readouterr()
    bad = tmp_path / "bad.csv"
    pd.read_csv(new).assign(x5="z").to_csv(bad, index=False)
    assert main(["bcf", "score", str(report), str(bad), "--no-report"]) == 2
    assert "level(s) ['z'] that the fit never saw" in capsys.readouterr().err
    assert main(["bcf", "score", str(tmp_path), str(new), "--no-report"]) == 2
    assert "not a bayescausal report folder" in capsys.readouterr().err
