"""The A/B family's commands: how each loads its data and which analysis it runs (the CLI, specs, the
demo and the Python API all reach them through the registry)."""

from __future__ import annotations

import pandas as pd

from bayescausal.ab.options import AllocateOptions, CheckOptions, SimulateOptions
from bayescausal.data.source import read_source
from bayescausal.errors import DataError, SpecError
from bayescausal.family import quiet


def ab_data(
    spec,
    raw: pd.DataFrame,
    *,
    daily: bool = False,
    metrics: tuple[str, ...] = (),
    covariate: str | None = None,
    ratio=None,
) -> pd.DataFrame:
    """Aggregated, validated A/B rows from either layout ([data].format = aggregated | events). `metrics`:
    further per-user columns (guardrails) whose sums and sums of squares travel with the counts."""
    from bayescausal.ab.data import EVENT_COLUMNS, aggregate_events, validate_aggregated
    from bayescausal.ab.queries import aggregated_rows, event_statistics, require_ratio_in_engine
    from bayescausal.data.engine import Scan

    products = ((ratio.numerator, ratio.denominator),) if ratio else ()
    if ratio:
        metrics = (*metrics, ratio.numerator, ratio.denominator)
    in_engine = isinstance(raw, Scan)
    if spec.data.get("format", "aggregated") != "events":
        if covariate:
            raise SpecError("--covariate needs one row per user (--events): it adjusts each user's metric")
        counts = spec.data.get("counts")
        if in_engine:
            rows = aggregated_rows(raw, spec.columns)
            return validate_aggregated(rows, metrics=metrics, products=products, counts=counts)
        return validate_aggregated(raw, spec.columns, metrics=metrics, products=products, counts=counts)
    cols = {k: spec.columns.get(k, k) for k in EVENT_COLUMNS}

    def optional(key):
        return cols[key] if cols[key] in raw.columns else None

    frame = (event_statistics if in_engine else aggregate_events)(
        raw,
        arm=cols["arm"],
        converted=cols["converted"],
        revenue=optional("revenue"),
        user=optional("user"),
        segment=None if daily else optional("segment"),
        timestamp=optional("timestamp") if daily else None,
        metrics=metrics,
        covariate=covariate,
        products=products,
    )
    if ratio:
        from bayescausal.ab.ratio import require_ratio_rows

        (require_ratio_in_engine if in_engine else require_ratio_rows)(raw, ratio)
    return validate_aggregated(frame, metrics=(*metrics, covariate) if covariate else metrics, products=products)


def load(spec, options, *, frame=None, progress=quiet):
    progress("loading data")
    raw, source = read_source(spec, frame, in_engine=True, progress=progress)
    metrics = tuple(g.metric for g in getattr(options, "guards", ()))
    covariate, ratio = getattr(options, "covariate", None), getattr(options, "ratio_metric", None)
    data = ab_data(spec, raw, metrics=metrics, covariate=covariate, ratio=ratio)
    return data, _provenance(spec, raw, data, source)


def load_daily(spec, options, *, frame=None, progress=quiet):
    raw, source = read_source(spec, frame, in_engine=True, progress=progress)
    data = ab_data(spec, raw, daily=True)
    if "day" not in data.columns:
        raise DataError("ab check needs a 'day' column (cumulative counts per arm per day) or events with a timestamp")
    return data, _provenance(spec, raw, data, source)


def _provenance(spec, raw, data: pd.DataFrame, source):
    """The fingerprint is the statistics' (the same sums, in memory or from any engine, give the same one); in an
    engine, the rows scanned are the users counted (events) or the rows read (aggregated)."""
    from dataclasses import replace

    from bayescausal.ab.data import arm_totals
    from bayescausal.data.engine import Scan
    from bayescausal.data.io import statistics_fingerprint

    if not isinstance(raw, Scan):
        return replace(source, fingerprint=statistics_fingerprint(data))
    events = spec.data.get("format") == "events"
    rows = int(arm_totals(data)["visitors"].sum()) if events else len(data)
    return raw.source(statistics_fingerprint(data), rows=rows, reduced=len(data))


def analyze(data, options, *, progress=quiet):
    from bayescausal.ab.analysis import analyze as run_analysis

    if "segment" in data.columns and options.segments == "logit-normal":
        progress("fitting the segment hierarchy with NUTS (compiling the model takes a few seconds)")
    return run_analysis(data, options)


def check(data, options: CheckOptions, *, progress=quiet):
    from bayescausal.ab.results import check_result

    return check_result(
        data, options.rule(), prior_alpha=options.prior_alpha, prior_beta=options.prior_beta, control=options.control
    )


def simulate(_, options: SimulateOptions, *, progress=quiet):
    from bayescausal.ab.results import simulation_result
    from bayescausal.ab.sequential import StoppingRule

    progress(f"simulating {options.sims} experiments for each of {len(options.lifts)} true lifts")
    return simulation_result(
        baseline=options.baseline,
        lifts=list(options.lifts),
        daily_visitors=options.daily_visitors,
        max_days=options.days,
        rule=StoppingRule(threshold=options.threshold, min_days=options.min_days),
        n_sims=options.sims,
        seed=options.seed,
    )


def plan(_, options, *, progress=quiet):
    from bayescausal.ab.results import plan_result

    progress(f"simulating {options.sims} tests for each of 3 scenarios over {options.days} days")
    return plan_result(options)


def allocate(data, options: AllocateOptions, *, progress=quiet):
    from bayescausal.ab.data import arm_totals
    from bayescausal.ab.results import allocation_result

    return allocation_result(
        arm_totals(data),
        floor=options.floor,
        lower_is_better=options.lower_is_better,
        prior_alpha=options.prior_alpha,
        prior_beta=options.prior_beta,
        regret_periods=options.regret_periods,
        seed=options.seed,
    )


def check_exit_code(result) -> int:
    """`ab check` tells a scheduler what to do: 0 decided, 4 keep running, 5 sample ratio mismatch."""
    return int(result.extra["exit_code"])
