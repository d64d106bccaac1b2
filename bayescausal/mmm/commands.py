"""The marketing-mix family's commands: load the weekly panel, resolve lift tests, fit, plan."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from bayescausal.data.source import describe, read_source
from bayescausal.errors import SpecError
from bayescausal.family import quiet
from bayescausal.mmm.options import MMMOptions


def load(spec, options: MMMOptions, *, frame=None, progress=quiet):
    """The weekly panel: a DT-Mart-layout folder, a shipped dataset, or a table with named columns."""
    from bayescausal.data.weekly import from_frame, load_dtmart
    from bayescausal.simulate.mmm import DTMART_CHANNELS

    progress("loading the weekly panel")
    if spec.data.get("format") == "dtmart":
        data = load_dtmart(spec.data_path(), spread=options.spread, groups=list(options.groups) or None)
        return data, describe(data.source, data.frame)
    raw, source = read_source(spec, frame)
    simulated = spec.data.get("dataset") == "simulated-dtmart"
    channels = list(options.channels) or (DTMART_CHANNELS if simulated else [])
    if not channels:
        raise SpecError("[model].channels is required: the spend columns, e.g. channels = ['TV', 'SEM']")
    controls = list(options.controls) or (["sale_event", "trend"] if simulated and not options.channels else [])
    data = from_frame(
        raw,
        date=spec.columns.get("date", "date"),
        target=spec.columns.get("target", "gmv"),
        channels=channels,
        controls=controls,
        group=options.group,
        to_weeks=options.to_weeks,
        time_format=spec.data.get("time_format"),
    )
    data.source = source.description
    return data, source


def resolve_lift_tests(tests: tuple[dict, ...]) -> tuple[dict, ...]:
    """[[model.lift_tests]] rows with `summary` = the summary.json of one of our A/B, DiD or BCF reports: its
    `lift_test` (the same keys in every family) gives the effect; `weeks` turns its total into a weekly one."""
    out = []
    for row in tests:
        row = dict(row)
        if "summary" in row:
            path = Path(row.pop("summary"))
            if not path.exists():
                raise SpecError(f"lift test summary not found: {path}")
            lift = json.loads(path.read_text()).get("lift_test")
            if not lift or "incremental_total" not in lift:
                raise SpecError(f"{path} has no lift_test (export one from an A/B, DiD or causal-forest run)")
            weeks = float(row.pop("weeks", 1))
            row |= {"delta_y": lift["incremental_total"] / weeks, "sigma": lift["incremental_total_sd"] / weeks}
        out.append(row)
    return tuple(out)


def analyze(data, options: MMMOptions, *, progress=quiet):
    from bayescausal.mmm.analysis import analyze as run_analysis

    options = replace(options, lift_tests=resolve_lift_tests(options.lift_tests))
    return run_analysis(data, options, progress=progress)


def print_plan(result, inputs, force: bool) -> None:
    plan = next(v for k, v in result.tables.items() if k.startswith("budget plan"))
    print(plan.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
