"""The hierarchical DiD model: its closed-form marginal likelihood, the cells it uses, recovery against the
imputation estimator (implemented here independently), agreement with the exact model, and the CLI."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayescausal.cli import main
from bayescausal.data.panel import Panel
from bayescausal.did.analysis import DiDOptions, analyze
from bayescausal.did.cells import cell_design, lead_design
from bayescausal.did.imputation import imputation_att
from bayescausal.errors import DataError
from bayescausal.sampling import SamplerSettings
from bayescausal.simulate.did import simulate_panel

FAST = SamplerSettings(draws=500, tune=500, chains=2, seed=3)


def _panel(y: np.ndarray, d: np.ndarray) -> Panel:
    return Panel(y.astype(float), d.astype(bool), np.arange(len(y)), np.arange(y.shape[1]))


def _staggered(seed: int, *, units=160, periods=14, rho=0.3, missing=0.1, effect=1.0) -> tuple[Panel, float]:
    """Two cohorts plus never-treated units, AR(1) shocks, treated units chosen on their level, cells missing
    at random: written here, independent of the package's simulator."""
    rng = np.random.default_rng(seed)
    level = rng.normal(0, 2, units)
    start = np.where(rng.random(units) < 0.35, 8, np.where(rng.random(units) < 0.5, 11, periods))
    start[np.argsort(level)[-20:]] = 8  # selection on the level: the highest units are treated first
    shocks = np.zeros((units, periods))
    shocks[:, 0] = rng.normal(size=units)
    for t in range(1, periods):
        shocks[:, t] = rho * shocks[:, t - 1] + np.sqrt(1 - rho**2) * rng.normal(size=units)
    d = np.arange(periods)[None, :] >= start[:, None]
    y = level[:, None] + np.sin(np.arange(periods))[None, :] + effect * d + shocks
    y[rng.random(y.shape) < missing] = np.nan
    return _panel(y, d), effect


def _dense_imputation(panel: Panel) -> float:
    """Borusyak, Jaravel & Spiess by the book: OLS of y on unit and period dummies over the untreated cells
    (dense least squares), then the mean over treated cells of y - a_i - g_t."""
    design = cell_design(panel)
    untreated = design.effect < 0
    units, periods = np.unique(design.unit), np.unique(design.period)
    x = np.zeros((design.n_cells, len(units) + len(periods) - 1))
    x[np.arange(design.n_cells), np.searchsorted(units, design.unit)] = 1
    p = np.searchsorted(periods, design.period)
    x[np.flatnonzero(p > 0), len(units) + p[p > 0] - 1] = 1
    coef = np.linalg.lstsq(x[untreated], design.y[untreated], rcond=None)[0]
    return float((design.y[~untreated] - x[~untreated] @ coef).mean())


def test_marginal_likelihood_equals_the_dense_gaussian_it_integrates():
    """Unit level (flat) and its treated-cell deviation integrated out by the segment sums must equal the
    multivariate normal with covariance sigma^2 rho^|t - s| + omega^2 d d' + S^2 1 1' as S grows."""
    import pytensor
    import pytensor.tensor as pt

    from bayescausal.did.likelihood import cell_sums

    y = np.array([[0.3, np.nan, 1.2, 0.7, 2.1], [1.0, 0.4, np.nan, np.nan, -0.2], [0.1, 0.9, 0.5, 1.4, 1.1]])
    d = np.array([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0], [0, 0, 1, 1, 1]])
    design = cell_design(_panel(y, d))
    first = design.gap == 0
    prev = np.where(first, 0, np.arange(design.n_cells) - 1)
    r, rho, sigma, omega = pt.dvector(), pt.dscalar(), pt.dscalar(), pt.dscalar()
    treated = (design.effect >= 0).astype(float)
    gap = np.maximum(design.gap, 1).astype(float)
    logp = pytensor.function(
        [r, rho, sigma, omega],
        cell_sums(pt, r, treated, first, prev, gap, design.unit_ends(), rho, sigma, omega),
    )

    def dense(res, rho, sigma, omega, big=1e4):
        total = 0.0
        for i in np.unique(design.unit):
            k = design.unit == i
            t = design.period[k]
            cov = sigma**2 * rho ** np.abs(t[:, None] - t[None, :]) + big**2
            cov += omega**2 * np.outer(treated[k], treated[k])
            total += stats.multivariate_normal(np.zeros(k.sum()), cov).logpdf(res[k]) + 0.5 * np.log(2 * np.pi * big**2)
        return total

    rng = np.random.default_rng(0)
    settings = [
        (rng.normal(size=design.n_cells), 0.6, 0.8, 0.5),
        (rng.normal(size=design.n_cells), 0.2, 1.3, 0.1),
        (rng.normal(size=design.n_cells), -0.3, 0.9, 0.0),  # no unit deviations (few treated units)
    ]
    ours = [float(logp(*s)) for s in settings]
    reference = [dense(*s) for s in settings]
    for k in (1, 2):
        assert ours[0] - ours[k] == pytest.approx(reference[0] - reference[k], abs=1e-6)


def test_units_sharing_their_cells_give_the_same_likelihood_from_sufficient_statistics():
    """Three patterns of different lengths (stacked and padded to the longest) against the per-cell sums."""
    import pytensor
    import pytensor.tensor as pt

    from bayescausal.did.likelihood import cell_sums, pattern_sum, split

    rng = np.random.default_rng(2)
    y = rng.normal(size=(8, 7))
    y[:, 2] = np.nan  # a gap every unit shares
    y[:3, 4] = np.nan  # and one more for the first three: a shorter pattern
    d = np.zeros((8, 7), dtype=int)
    d[:6, 5:] = 1  # units 6 and 7 are the controls
    design = cell_design(_panel(y, d))
    period_index = np.unique(design.period, return_inverse=True)[1]
    arm = design.ever_treated[design.unit].astype(int)
    patterns, per_cell = split(design, design.y, period_index, arm, min_shared=2)
    assert list(patterns.units) == [3, 3, 2] and list(patterns.mask.sum(1)) == [5, 6, 6] and not per_cell.any()
    by_period, by_effect = rng.normal(size=7), np.r_[rng.normal(size=len(design.groups)), 0.0]
    m = by_period[period_index] + by_effect[design.effect]  # the same means for every unit of a pattern
    stacked = (by_period[patterns.period_index] + by_effect[patterns.effect]) * patterns.mask
    rho, sigma, omega = pt.dscalar(), pt.dvector(), pt.dscalar()  # sigma: never treated, treated
    first = design.gap == 0
    ends = design.unit_ends()
    one_by_one = cell_sums(
        pt,
        design.y - m,
        (design.effect >= 0).astype(float),
        first,
        np.where(first, 0, np.arange(design.n_cells) - 1),
        np.maximum(design.gap, 1).astype(float),
        ends,
        rho,
        sigma[arm[ends]],
        omega,
    )
    together = pattern_sum(pt, patterns, pt.as_tensor(stacked), rho, sigma[patterns.arm], omega)
    f = pytensor.function([rho, sigma, omega], [one_by_one, together])
    for values in [(0.6, [0.8, 1.1], 0.5), (0.1, [1.7, 0.9], 0.05)]:
        a, b = f(*values)
        assert a == pytest.approx(b, rel=1e-10)


def test_the_cells_used_and_what_is_left_out_is_said():
    y = np.arange(30, dtype=float).reshape(5, 6) % 7
    d = np.zeros((5, 6), dtype=int)
    d[0, 3:5] = 1  # a window that ends: its last cell is after the window
    d[1, 0:] = 1  # treated from the first period: no pre-period
    d[2, 4:] = 1
    y[3, 2] = np.nan
    design = cell_design(_panel(y, d))
    assert 1 not in design.unit  # left out of the effect entirely
    assert (design.unit == 0).sum() == 5 and 5 not in design.period[design.unit == 0]
    notes = " ".join(design.notes)
    assert "1 treated unit(s) have no untreated cell before" in notes and "1 cell(s) after" in notes
    assert list(design.cohorts["treated cells"]) == [2, 2]
    leads = lead_design(design, _panel(y, d), leads=2)
    assert leads is not None and set(leads.groups["event_time"]) == {-2, -1}


def test_every_unit_treated_eventually_estimates_the_earlier_cohorts_and_says_why_not_the_last():
    rng = np.random.default_rng(1)
    y = rng.normal(size=(6, 8))
    d = np.zeros((6, 8), dtype=int)
    d[:3, 3:] = 1
    d[3:, 6:] = 1
    design = cell_design(_panel(y, d))
    assert list(design.cohorts["start"]) == [3]  # the last cohort has no comparison
    assert design.period[design.effect >= 0].max() == 5
    assert "every unit is treated" in " ".join(design.notes)


@pytest.mark.parametrize(
    ("d", "message"),
    [
        ([[0, 1, 0, 1], [0, 0, 0, 0]], "switches off and on again"),
        ([[1, 1, 1, 1], [0, 0, 0, 0]], "no treated cell has a comparison"),
    ],
)
def test_designs_that_remain_refused_name_the_fix(d, message):
    with pytest.raises(DataError, match=message):
        cell_design(_panel(np.ones((2, 4)), np.array(d)))


def test_the_package_imputation_reference_equals_the_textbook_one():
    panel, _ = _staggered(4)
    assert imputation_att(cell_design(panel)) == pytest.approx(_dense_imputation(panel), abs=1e-8)


def test_an_unbalanced_staggered_panel_through_the_cli(tmp_path, capsys):
    """auto picks the hierarchical model for a panel with gaps, says why, recovers the effect, and stays near
    the imputation estimator on the same cells."""
    panel, truth = _staggered(7)
    path = tmp_path / "panel.csv"
    panel.to_long().rename(columns={"period": "week"}).to_csv(path, index=False)
    argv = ["did", "fit", "--data", str(path), "--unit", "unit", "--time", "week", "--outcome", "outcome"]
    argv += ["--treated", "treated", "--json", "--no-report", "--draws", "500", "--tune", "500", "--chains", "2"]
    code = main(argv)
    summary = json.loads(capsys.readouterr().out)
    assert summary["model"]["name"] == "hierarchical" and "unbalanced" in summary["model"]["why"]
    assert summary["diagnostics"]["divergences"] == 0
    att = summary["estimates"]["att"]
    assert att["hdi_low"] < truth < att["hdi_high"]
    assert abs(att["mean"] - _dense_imputation(panel)) < 0.5 * att["sd"]
    assert code in (0, 3) and any(c["name"].startswith("parallel pre-trends") for c in summary["checks"])


def test_exact_and_hierarchical_models_agree_on_a_balanced_panel():
    """Issue #28: posterior means within 0.25 posterior sd and sds within 20% (mild serial correlation: under
    strong AR(1) the hierarchical model weights periods by GLS and is the more precise of the two)."""
    panel = simulate_panel(units=200, periods=16, cohorts=((10, 15),), rho=0.2, seed=1)
    fits = {
        m: analyze(panel, DiDOptions(model=m, leads=0, refutations=False, sampler=FAST)).estimates["att"]
        for m in ("exact", "hierarchical")
    }
    exact, hierarchical = fits["exact"], fits["hierarchical"]
    assert abs(hierarchical.mean - exact.mean) < 0.25 * exact.sd
    assert 0.8 < hierarchical.sd / exact.sd < 1.2


def test_a_student_t_likelihood_on_an_unbalanced_panel_is_refused_with_the_reason():
    panel, _ = _staggered(2)
    with pytest.raises(DataError, match="needs the hierarchical model"):
        analyze(panel, DiDOptions(likelihood="student-t"))
    assert pd.isna(panel.outcome).any()


def test_one_compiled_model_refits_new_outcomes_on_the_same_cells():
    """`outcome_data` must hold everything the model reads from the outcomes: a model compiled on one panel and
    handed another panel's outcomes on the same cells samples exactly what a model built on that panel does
    (the coverage benchmark refits hundreds of simulations this way)."""
    import nutpie

    from bayescausal.did.hierarchical import build_model, outcome_data, summarise
    from bayescausal.sampling import reproducible_numerics

    reproducible_numerics()
    first, _ = _staggered(5, units=60, periods=10)
    noise = np.random.default_rng(1).normal(size=first.shape)
    second = _panel(first.outcome + noise + 3.0 * np.arange(len(first.outcome))[:, None] / 60, first.treated)
    cells_first, cells_second = cell_design(first), cell_design(second)
    assert set(outcome_data(cells_second)) >= {"y", "scale", "pattern_total", "pattern_gram"}
    kwargs = {"draws": 100, "tune": 100, "chains": 1, "seed": 4, "progress_bar": False}
    compiled = nutpie.compile_pymc_model(build_model(cells_first))
    refit = nutpie.sample(compiled.with_data(**outcome_data(cells_second)), **kwargs)
    fresh = nutpie.sample(nutpie.compile_pymc_model(build_model(cells_second)), **kwargs)
    np.testing.assert_allclose(summarise(refit, cells_second).att, summarise(fresh, cells_second).att, rtol=1e-10)
    unchanged = nutpie.sample(compiled, **kwargs)  # the data did change what was sampled
    assert abs(summarise(refit, cells_second).att.mean() - summarise(unchanged, cells_first).att.mean()) > 0.05
