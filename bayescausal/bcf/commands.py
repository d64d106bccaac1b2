"""The causal-forest family's commands: load one row per customer, fit, target, write the lists."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from bayescausal.bcf.options import BCFOptions
from bayescausal.data.source import describe, read_source
from bayescausal.errors import SpecError
from bayescausal.family import quiet


@dataclass
class Customers:
    """The customers the forests learn from, and (with --predict) the customers to score."""

    frame: pd.DataFrame
    new: pd.DataFrame | None = None


def load(spec, options: BCFOptions, *, frame=None, progress=quiet):
    """A customer table (a file, a DataFrame, a shipped dataset, or the Complete Journey households), and the
    table of customers to score when `predict` names one."""
    from bayescausal.data.io import read_table

    table, source = _training(spec, options, frame, progress)
    return Customers(table, read_table(options.predict) if options.predict else None), source


def _training(spec, options: BCFOptions, frame, progress):
    kaggle = spec.data.get("format") == "complete-journey-kaggle"
    if spec.data.get("dataset") != "complete-journey" and not kaggle:
        progress("loading data")
        return read_source(spec, frame)
    from bayescausal.data.complete_journey import campaign_frame, load_complete_journey
    from bayescausal.data.complete_journey import describe as describe_campaign
    from bayescausal.data.io import fingerprint

    if options.campaign is None:
        raise SpecError("[model].campaign is required with the Complete Journey data (a Type A id: 8, 13, 18, 27)")
    progress(f"building the household table for Complete Journey campaign {options.campaign}")
    tables = load_complete_journey(str(spec.data_path()), engine=spec.data.get("engine", "duckdb")) if kaggle else None
    if tables is not None:
        tables["transactions"].progress = progress
    table = campaign_frame(options.campaign, pre_weeks=options.pre_weeks, tables=tables)
    source = describe(describe_campaign(table, options.campaign), table)
    if tables is None:
        return table, source
    lines = tables["transactions"]  # summed in the engine: its queries and the lines scanned are the provenance
    engine = lines.source(fingerprint(table), rows=lines.rows, reduced=len(table))
    return table, replace(engine, description=f"{source.description}; transaction lines: {engine.description}")


def _complete_journey_defaults(options: BCFOptions) -> BCFOptions:
    """The household table's own columns, unless the spec names others."""
    from bayescausal.data.complete_journey import DEMOGRAPHICS, PRE_FEATURES

    return replace(
        options,
        outcome=options.outcome or "spend",
        treatment=options.treatment or "treated",
        covariates=options.covariates or tuple(PRE_FEATURES + DEMOGRAPHICS),
        id=options.id or "household_id",
    )


def analyze(frame, options: BCFOptions, *, progress=quiet):
    from bayescausal.bcf.analysis import analyze as run_analysis

    if options.campaign is not None:
        options = _complete_journey_defaults(options)
    progress(f"fitting the causal forest ({options.backend}; {options.forest.chains} chains) and the targeting")
    return run_analysis(frame.frame, options, new=frame.new)


def write_predictions(result, inputs, force: bool) -> None:
    """--predict-out: the scored new customers (with --predict), else each fitted row's CATE and interval."""
    if inputs is None or not inputs.predict_out:
        return
    from bayescausal.report.writer import write_csv

    if "scores" in result.row_outputs:
        write_csv(result.row_outputs["scores"], inputs.predict_out, force=force)
        return
    cate = result.row_outputs["cate"]
    cols = [c for c in cate.columns if c.startswith("cate_") or c in ("id", "prob_positive")]
    write_csv(cate[cols], inputs.predict_out, force=force)


def write_targets(result, inputs, force: bool) -> None:
    """The `target` command's list: who to treat, by expected profit."""
    from bayescausal.report.writer import write_csv

    write_predictions(result, inputs, force)
    cate = result.row_outputs["cate"]
    cols = ["id", "best_offer"] if "best_offer" in cate.columns else ["id"]
    cols += [c for c in ("expected_profit", "prob_profitable", "prob_profit", "treat", "cate_mean") if c in cate]
    write_csv(cate[cols].sort_values("expected_profit", ascending=False), inputs.targets_out, force=force)


@dataclass
class ToScore:
    """`bcf score`'s inputs: the customers, and the saved fit (its forests and its summary)."""

    frame: pd.DataFrame
    model: object  # saved.SavedModel
    fit_summary: dict
    folder: str


def load_to_score(spec, options, *, frame=None, progress=quiet):
    from bayescausal.bcf import saved

    if options.fitted is None:
        raise SpecError("[model].fitted is required: the report folder of the bcf fit whose forests score the rows")
    progress(f"reading the saved forests in {options.fitted}")
    model, summary = saved.load(options.fitted)
    table, source = read_source(spec, frame)
    return ToScore(table, model, summary, options.fitted), source


def score(inputs: ToScore, options, *, progress=quiet):
    from bayescausal.bcf.score import score_saved

    progress(f"scoring {len(inputs.frame):,} customers with the saved forests")
    return score_saved(inputs, options)
