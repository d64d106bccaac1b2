"""The BCF data boundary: clear errors for bad input."""

import numpy as np
import pandas as pd
import pytest

from bayescausal.bcf.data import prepare, propensity_scores
from bayescausal.errors import DataError


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    n = 60
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "d": np.tile([0, 1], n // 2),
            "age": rng.integers(20, 70, n),
            "state": rng.choice(["CA", "NY"], n),
        }
    )


def prep(frame, **kw):
    args = {"outcome": "y", "treatment": "d", "covariates": ["age", "state"]} | kw
    return prepare(frame, **args)


def test_encodes_categoricals_as_indicators(frame):
    data = prep(frame)
    assert data.names == ["age", "state=CA", "state=NY"]
    assert data.X.shape == (60, 3)
    assert set(data.X[:, 1] + data.X[:, 2]) == {1.0}


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f.drop(columns="age"), "missing column"),
        (lambda f: f.assign(y=np.where(f.index == 3, np.nan, f.y)), "missing or infinite"),
        (lambda f: f.assign(d=0), "treatment must vary"),
        (lambda f: f.assign(d=np.tile(["a", "b", "c"], 20)), "must be 0/1"),
        (lambda f: f.assign(age=np.where(f.index == 1, np.inf, f.age)), "missing or infinite"),
        (lambda f: f.assign(state=[f"s{i}" for i in range(60)]), "levels"),
        (lambda f: f.iloc[:0], "no rows"),
    ],
)
def test_bad_input_is_named(frame, change, message):
    with pytest.raises(DataError, match=message):
        prep(change(frame))


def test_treated_value_and_propensity(frame):
    frame["arm"] = np.where(frame.d == 1, "email", "none")
    data = prep(frame, treatment="arm", treated_value="email")
    assert data.z.tolist() == frame.d.tolist()
    with pytest.raises(DataError, match="does not occur"):
        prep(frame, treatment="arm", treated_value="sms")
    assert np.allclose(propensity_scores(data, randomised=True), 0.5)
    pi = propensity_scores(data, randomised=False)
    assert pi.shape == (60,) and ((pi > 0) & (pi < 1)).all()
    with pytest.raises(DataError, match="strictly between"):
        propensity_scores(data, randomised=False, given=np.ones(60))


def test_bcf_spec_errors_name_the_key():
    from bayescausal.errors import SpecError
    from bayescausal.runner import options_for, run
    from bayescausal.spec import parse_spec

    bcf_options = options_for

    base = {"kind": "bcf", "name": "t", "data": {"dataset": "simulated-discount"}}
    with pytest.raises(SpecError, match="unknown key 'trees'"):
        parse_spec(base | {"model": {"trees": 3}})
    with pytest.raises(SpecError, match=r"\[model\].outcome is required"):
        run(parse_spec(base | {"model": {"treatment": "discount", "covariates": ["age"]}}))
    with pytest.raises(SpecError, match="trim"):
        bcf_options(parse_spec(base | {"model": {"trim": [0.1]}}))
    with pytest.raises(SpecError, match="holdout needs backend"):
        bcf_options(parse_spec(base | {"model": {"backend": "pymc", "holdout": 0.2}}))
    opt = bcf_options(parse_spec(base | {"diagnostics": {"min_ess": 400}, "sampler": {"draws": 50, "burnin": 5}}))
    assert (opt.thresholds.max_rhat, opt.thresholds.min_ess) == (1.05, 400)
    assert (opt.forest.draws, opt.forest.burnin) == (50, 5)


@pytest.mark.parametrize(
    ("labels", "suggested"),
    [
        (("no", "yes"), "--treated-value 'yes'"),
        (("control", "treatment"), "--treated-value 'treatment'"),
        (("N", "Y"), "--treated-value 'Y'"),
        (("email", "none"), "--treated-value 'email'"),
        (("a", "b"), "none is guessed"),
    ],
)
def test_a_text_treatment_suggests_the_treated_value_never_the_control(labels, suggested):
    """Following the hint must never flip the effect's sign: 'no' is not suggested as the treated value."""
    frame = pd.DataFrame({"y": np.arange(40.0), "d": np.tile(labels, 20), "x": np.arange(40.0)})
    with pytest.raises(DataError, match="must be 0/1") as caught:
        prepare(frame, outcome="y", treatment="d", covariates=["x"])
    assert suggested in str(caught.value)
