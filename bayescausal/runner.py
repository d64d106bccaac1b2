"""From a spec to a Result: load -> options -> analyse -> stamp provenance and timings -> verdict.

No printing, no files, no family names: the family and its command come from the registry. The CLI,
the demo, the scripts and the public API all run analyses through `run`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pandas as pd

from bayescausal import family as registry
from bayescausal import interrupt
from bayescausal import options as opts
from bayescausal.family import quiet
from bayescausal.result import Result, Source
from bayescausal.spec import Spec
from bayescausal.verdict import gate

Progress = Callable[[str], None]


def options_for(spec: Spec):
    """The command's options object, built from the spec's sections on top of the family's defaults."""
    command = registry.get(spec.kind).command(spec.command)
    return opts.build(command.options, spec.sections())


def run(
    spec: Spec,
    *,
    frame: pd.DataFrame | None = None,
    progress: Progress = quiet,
    sampler_progress: bool = False,
) -> Result:
    """Run the analysis a spec describes. `frame` replaces `[data]` (the Python API's DataFrames)."""
    command = registry.get(spec.kind).command(spec.command)
    options = _with_progress(options_for(spec), sampler_progress)
    t0 = time.perf_counter()
    data, source = (
        (None, Source("no input data"))
        if command.load is None
        else command.load(spec, options, frame=frame, progress=progress)
    )
    interrupt.check()
    t1 = time.perf_counter()
    result = command.analyze(data, options, progress=progress)
    interrupt.check()  # a sampler that caught Ctrl-C returns partial draws: never report them
    t2 = time.perf_counter()
    return finalise(result, spec, source, options, {"load_s": t1 - t0, "analyze_s": t2 - t1, "total_s": t2 - t0})


def _with_progress(options, on: bool):
    """Switch the sampler's progress bar on in whichever component holds sampler settings."""
    from bayescausal.sampling import SamplerSettings

    if not on:
        return options
    for d in opts.declared(type(options)):
        if d.key == "draws" and len(d.path) == 2:
            holder = getattr(options, d.path[0])
            if isinstance(holder, SamplerSettings):
                return replace(options, **{d.path[0]: replace(holder, progress=True)})
    return options


def seed_of(options) -> int | None:
    """The seed an options object declares (in [sampler]), wherever its component keeps it."""
    for d in opts.declared(type(options)):
        if d.key == "seed" and d.section == "sampler":
            value: Any = options
            for part in d.path:
                value = getattr(value, part)
            return int(value)
    return None


def finalise(result: Result, spec: Spec, source: Source, options, timings: dict[str, float]) -> Result:
    """The one place that stamps every result: provenance (data, fingerprint, rows, spec hash, seed), timings
    (one key set), the spec's title, and the verdict under the checks and diagnostics."""
    result.inputs = (
        {
            "data": source.description,
            "data_fingerprint": source.fingerprint,
            "rows": source.rows,
            "spec_hash": spec.hash,
            "seed": seed_of(options),
            "command": registry.get(spec.kind).command(spec.command).name,
        }
        | ({"engine": source.engine, "queries": list(source.queries)} if source.engine else {})
        | {k: v for k, v in result.inputs.items() if k not in ("data", "data_fingerprint", "rows", "spec_hash")}
    )
    stages = dict(result.timings)  # a family's own stage timings, e.g. {"fit_s": 12.3}, kept beside the three
    result.timings = timings | ({"stages": stages} if stages else {})
    if spec.title:
        result.title = spec.title
    result.decision = gate(result.decision, result.checks, result.diagnostics)
    return result
