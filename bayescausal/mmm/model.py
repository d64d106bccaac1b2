"""Build and fit a pymc-marketing MMM from an `MMMData` panel. pymc-marketing does the modelling
(adstock, saturation, controls, seasonality, lift tests, optimizer); this module only chooses
components and priors and runs the sampler the project's way."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import pandas as pd

from bayescausal.errors import SpecError
from bayescausal.mmm.data import MMMData
from bayescausal.sampling import SamplerSettings


@dataclass(frozen=True)
class MMMOptions:
    l_max: int = 4  # weeks of carry-over (geometric adstock)
    yearly_seasonality: int | None = None  # Fourier modes (0: none); None: 2 with >= 2 years of data, else 0
    pooled: bool = True  # with groups: channel effects partially pooled across groups
    holdout_weeks: int = 8  # final weeks held out for the out-of-sample check (0: skip)
    plan_weeks: int = 8  # length of the budget plan the optimizer allocates
    budget_bounds: tuple[float, float] = (0.5, 1.5)  # per-channel bounds, multiples of current weekly spend
    total_budget: float | None = None  # per week; None: the current average weekly total
    margin_rate: float = 1.0
    lift_tests: tuple[dict, ...] = ()  # channel, x, delta_x, delta_y, sigma [, group]
    spread_sensitivity: bool = True  # refit under the other spreading rule when spend was monthly
    identifiability: bool = False  # also fit the simulator on this spend design (known ROAS): what can be learned
    response_points: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
    sampler: SamplerSettings = field(default_factory=lambda: SamplerSettings(draws=1000, tune=1000, chains=4))

    def __post_init__(self):
        if self.l_max < 1:
            raise SpecError(f"l_max must be >= 1 week, got {self.l_max}")
        low, high = self.budget_bounds
        if not 0 <= low <= 1 <= high:
            raise SpecError(
                f"budget_bounds must be (low <= 1 <= high), multiples of current spend; got {self.budget_bounds}"
            )
        for test in self.lift_tests:
            missing = {"channel", "x", "delta_x", "delta_y", "sigma"} - set(test)
            if missing:
                raise SpecError(f"lift test {test}: missing {sorted(missing)}")
            if float(test["sigma"]) <= 0:
                raise SpecError(f"lift test for {test['channel']}: sigma must be > 0")


def _priors(data: MMMData, opt: MMMOptions) -> dict:
    from pymc_extras.prior import Prior

    if data.group is None or not opt.pooled:
        return {}
    # each channel's effect varies by group around a channel-level mean (log scale): partial pooling,
    # non-centred (exp of a non-centred normal), since a centred log-normal funnels when groups agree
    return {
        "saturation_beta": Prior(
            "Normal",
            mu=Prior("Normal", mu=-1.0, sigma=1.0, dims="channel"),
            sigma=Prior("HalfNormal", sigma=0.5),
            dims=("group", "channel"),
            centered=False,
            transform="exp",
        ),
        "intercept": Prior("Normal", mu=0.5, sigma=0.5, dims="group"),
    }


def seasonality(data: MMMData, opt: MMMOptions) -> int:
    """Yearly Fourier modes, fixed once from the full data so refits (holdout, sensitivity) use the same model."""
    if opt.yearly_seasonality is not None:
        return opt.yearly_seasonality
    return 2 if data.frame["date"].nunique() >= 104 else 0


def build(data: MMMData, opt: MMMOptions, frame: pd.DataFrame | None = None):
    """An unfitted pymc-marketing MMM and its (X, y) for `frame` (default: all of `data`)."""
    from pymc_marketing.mmm import MMM, GeometricAdstock, LogisticSaturation

    frame = data.frame if frame is None else frame
    modes = seasonality(data, opt)
    controls = [c for c in data.controls if frame[c].std() > 0]
    kwargs = {
        "date_column": "date",
        "channel_columns": data.channels,
        "target_column": data.target,
        "adstock": GeometricAdstock(l_max=opt.l_max),
        "saturation": LogisticSaturation(),
        "control_columns": controls or None,
        "yearly_seasonality": modes or None,
        "dims": ("group",) if data.group else None,
    }
    if priors := _priors(data, opt):
        kwargs["model_config"] = priors
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mmm = MMM(**kwargs)
    X = frame.drop(columns=[data.target])
    return mmm, X, frame[data.target]


def fit(data: MMMData, opt: MMMOptions, frame: pd.DataFrame | None = None, lift_tests: tuple[dict, ...] = ()):
    """Build, add lift tests, and sample (nutpie by default). Returns (mmm, X, y)."""
    mmm, X, y = build(data, opt, frame)
    s = opt.sampler
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mmm.build_model(X, y)
        mmm.add_original_scale_contribution_variable(var=["channel_contribution", "y"])
        if lift_tests:
            mmm.add_lift_test_measurements(pd.DataFrame(list(lift_tests)))
        mmm.fit(
            X,
            y,
            draws=s.draws,
            tune=s.tune,
            chains=s.chains,
            cores=min(s.chains, 2),
            nuts_sampler=s.sampler,
            random_seed=s.seed,
            target_accept=s.target_accept or 0.9,
            progressbar=s.progress,
            compute_convergence_checks=False,
        )
    return mmm, X, y
