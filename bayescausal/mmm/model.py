"""Build and fit a pymc-marketing MMM from an `MMMData` panel. pymc-marketing does the modelling
(adstock, saturation, controls, seasonality, lift tests, optimizer); this module only chooses
components and priors and runs the sampler the project's way."""

from __future__ import annotations

import warnings

import pandas as pd

from bayescausal.data.weekly import MMMData
from bayescausal.mmm.options import MMMOptions
from bayescausal.sampling import sample_kwargs


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
    s = opt.sampler  # one way to run NUTS for every family (bayescausal.sampling)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mmm.build_model(X, y)
        mmm.add_original_scale_contribution_variable(var=["channel_contribution", "y"])
        if lift_tests:
            mmm.add_lift_test_measurements(pd.DataFrame(list(lift_tests)))
        mmm.fit(X, y, **sample_kwargs(s, default_target_accept=0.9))
    return mmm, X, y
