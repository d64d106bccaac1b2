"""The `bayescausal` command: parses arguments, calls the package, hands the Result to the report writer.

No statistics here. Exit codes (documented in --help and the README):
  0 decided / done     1 unexpected error     2 bad input, spec or usage
  3 NOT CONVERGED (a decision is withheld unless --allow-unconverged)
  4 `ab check`: continue the test             5 `ab check`: sample ratio mismatch
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

from bayescausal import __version__
from bayescausal.errors import BayesCausalError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_UNCONVERGED = 0, 1, 2, 3

EXIT_CODES = """exit codes:
  0  decision reached (or nothing to decide)      3  NOT CONVERGED: diagnostics failed (see --allow-unconverged)
  1  unexpected error                             4  ab check: no decision yet, keep the test running
  2  bad input data, spec or arguments            5  ab check: sample ratio mismatch, investigate assignment"""


class Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def _stage(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _add_output(p: argparse.ArgumentParser, default_out: str | None = None) -> None:
    g = p.add_argument_group("output")
    g.add_argument(
        "--out",
        default=default_out,
        metavar="DIR",
        help="report folder (index.html, report.md, summary.json, posterior.nc)",
    )
    g.add_argument("--json", action="store_true", help="print the summary JSON to stdout and nothing else")
    g.add_argument("--force", action="store_true", help="replace an existing report folder")
    g.add_argument("--no-report", action="store_true", help="do not write a report folder")


def _add_sampler(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("sampler (only for models fitted with NUTS, e.g. segment pooling)")
    g.add_argument("--draws", type=int, default=2000, help="posterior draws per chain")
    g.add_argument("--tune", type=int, default=1000, help="tuning steps per chain")
    g.add_argument("--chains", type=int, default=4, help="number of chains (>= 2 to check convergence)")
    g.add_argument("--seed", type=int, default=0, help="random seed: same seed, same numbers")
    g.add_argument("--sampler", choices=["nutpie", "pymc"], default="nutpie", help="NUTS implementation")
    g.add_argument(
        "--allow-unconverged",
        action="store_true",
        help="exit 0 even when diagnostics fail (the report still carries the red banner)",
    )


def _add_business(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("business inputs and decision rule")
    g.add_argument(
        "--threshold",
        type=float,
        default=0.01,
        help="threshold of caring on the expected loss, relative to the control's mean",
    )
    g.add_argument("--absolute-threshold", action="store_true", help="read --threshold in the metric's own units")
    g.add_argument("--margin", type=float, default=1.0, help="profit margin on incremental revenue, in (0, 1]")
    g.add_argument("--cost", type=float, default=None, help="total cost of shipping (enables ROI)")
    g.add_argument("--hurdle", type=float, default=0.05, help="hurdle ROI: reject when P(ROI > hurdle) < 0.5")
    g.add_argument("--min-prob", type=float, default=0.9, help="reject when P(effect > 0) is below this")
    g.add_argument(
        "--traffic",
        type=float,
        default=None,
        help="users the decision will reach (default: the experiment's own visitors)",
    )
    g.add_argument(
        "--value-per-conversion",
        type=float,
        default=None,
        help="revenue per conversion, for revenue impact when the data has no revenue",
    )


def _family(sub, name: str, *, help_text: str, description: str, examples: list[str], commands):
    """A family's command and its subcommands; yields (subcommand, parser) for the caller to add arguments.
    `commands` holds (subcommand, help, example) triples."""
    parent = sub.add_parser(
        name,
        help=help_text,
        formatter_class=Formatter,
        description=description,
        epilog="examples:\n" + "".join(f"  {e}\n" for e in examples) + "\n" + EXIT_CODES,
    )
    children = parent.add_subparsers(dest=f"{name}_command", required=True, metavar="SUBCOMMAND")
    for command, text, example in commands:
        child = children.add_parser(
            command,
            formatter_class=Formatter,
            help=text,
            description=text + ".",
            epilog=f"example:\n  {example}\n\n" + EXIT_CODES,
        )
        yield command, child


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bayescausal",
        formatter_class=Formatter,
        description="Fully Bayesian causal inference for retail decisions: every answer is a posterior, every "
        "decision a posterior ROI, every fit checked by ArviZ diagnostics.",
        epilog="examples:\n  bayescausal demo\n  bayescausal run models/ab_checkout.toml --force\n"
        "  bayescausal ab analyze data.csv --control A --json\n  bayescausal ab check daily.csv\n\n" + EXIT_CODES,
    )
    parser.add_argument("--version", action="version", version=f"bayescausal {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run an analysis spec (models/*.toml)",
        formatter_class=Formatter,
        description="Validate a TOML analysis spec, fit, diagnose, decide and write the report.",
        epilog="example:\n  bayescausal run models/ab_checkout.toml --out reports/checkout --force\n\n" + EXIT_CODES,
    )
    run.add_argument("spec", help="path to the TOML spec")
    _add_output(run)
    run.add_argument(
        "--allow-unconverged",
        action="store_true",
        help="exit 0 even when diagnostics fail (the report still carries the red banner)",
    )
    run.add_argument("--progress", action="store_true", help="show the sampler's progress bar on stderr")

    ab = sub.add_parser(
        "ab",
        help="A/B tests: analyze, check, simulate, allocate",
        formatter_class=Formatter,
        description="Bayesian A/B tests: exact Beta-Bernoulli conversion, revenue per user, "
        "segment pooling, sequential checks and Thompson allocation.",
        epilog="examples:\n  bayescausal ab analyze ab.csv --control A\n  bayescausal ab check daily.csv\n"
        "  bayescausal ab simulate --baseline 0.05\n  bayescausal ab allocate arms.csv\n\n" + EXIT_CODES,
    )
    ab_sub = ab.add_subparsers(dest="ab_command", required=True, metavar="SUBCOMMAND")

    an = ab_sub.add_parser(
        "analyze",
        formatter_class=Formatter,
        help="analyse one test: P(best), expected loss, lifts, ROI",
        description="Analyse an A/B test. DATA has one row per arm (optionally per segment): columns arm, visitors, "
        "conversions; optional revenue, revenue_sq (sums), purchasers, segment. With --events, one "
        "row per user: arm, converted (0/1), optional revenue, user, segment.",
        epilog="examples:\n  bayescausal ab analyze ab.csv --control A --json\n"
        "  bayescausal ab analyze users.parquet --events --control 'No E-Mail' --margin 0.3 --cost 5000\n\n"
        + EXIT_CODES,
    )
    an.add_argument("data", help="CSV or Parquet file")
    an.add_argument("--events", action="store_true", help="DATA holds one row per user (aggregated for you)")
    an.add_argument("--control", help="name of the control arm (default: the first arm in the file)")
    an.add_argument("--prior-alpha", type=float, default=1.0, help="Beta prior alpha for every arm")
    an.add_argument("--prior-beta", type=float, default=1.0, help="Beta prior beta for every arm")
    an.add_argument(
        "--metric",
        choices=["auto", "conversion", "revenue"],
        default="auto",
        help="decision metric (auto: revenue per user when revenue is present)",
    )
    an.add_argument(
        "--segments",
        choices=["logit-normal", "beta-binomial", "none"],
        default="logit-normal",
        help="partial pooling over the segment column, if present",
    )
    an.add_argument(
        "--col",
        action="append",
        default=[],
        metavar="CANONICAL=YOURS",
        help="map a column, e.g. --col arm=variant --col visitors=users (repeatable)",
    )
    _add_business(an)
    _add_sampler(an)
    _add_output(an)

    ck = ab_sub.add_parser(
        "check",
        formatter_class=Formatter,
        help="daily sequential decision check (stop / continue)",
        description="Replay every look in DATA (cumulative counts per arm per day: day, arm, visitors, conversions) "
        "and decide at the latest: ship <arm>, keep control, or continue. Exit code tells automation.",
        epilog="example:\n  bayescausal ab check daily.csv --control A --threshold 0.01 --min-days 7\n\n" + EXIT_CODES,
    )
    ck.add_argument("data", help="CSV or Parquet with day, arm, visitors, conversions (cumulative)")
    ck.add_argument("--control", help="control arm (default: first arm)")
    ck.add_argument(
        "--threshold",
        type=float,
        default=0.01,
        help="threshold of caring on the expected loss, relative to the control's rate",
    )
    ck.add_argument("--absolute-threshold", action="store_true", help="read --threshold in rate units")
    ck.add_argument("--min-days", type=int, default=7, help="no decision before this many looks")
    ck.add_argument("--min-visitors", type=int, default=1000, help="no decision before every arm has this many")
    ck.add_argument("--allocation", help="planned split for the SRM check, e.g. 0.5,0.5 (default equal)")
    ck.add_argument("--srm-alpha", type=float, default=0.001, help="SRM alarm when the chi-square p is below")
    ck.add_argument("--prior-alpha", type=float, default=1.0)
    ck.add_argument("--prior-beta", type=float, default=1.0)
    ck.add_argument("--col", action="append", default=[], metavar="CANONICAL=YOURS", help="map a column")
    _add_output(ck)

    sm = ab_sub.add_parser(
        "simulate",
        formatter_class=Formatter,
        help="operating characteristics of the stopping rule",
        description="Monte-Carlo many experiments under a baseline rate and true lifts: wrong-decision rate, "
        "realised loss and duration of the sequential rule versus a fixed-horizon test.",
        epilog="example:\n  bayescausal ab simulate --baseline 0.05 --lifts=-0.05,0,0.05,0.1 --daily-visitors 2000",
    )
    sm.add_argument("--baseline", type=float, default=0.05, help="control conversion rate")
    sm.add_argument("--lifts", default="-0.05,0,0.02,0.05,0.1", help="true relative lifts, comma-separated")
    sm.add_argument("--daily-visitors", type=int, default=2000, help="visitors per arm per day")
    sm.add_argument("--days", type=int, default=28, help="maximum duration (the fixed horizon)")
    sm.add_argument("--threshold", type=float, default=0.01, help="threshold of caring, relative to baseline")
    sm.add_argument("--min-days", type=int, default=7)
    sm.add_argument("--sims", type=int, default=1000, help="experiments per true lift")
    sm.add_argument("--seed", type=int, default=0)
    _add_output(sm)

    al = ab_sub.add_parser(
        "allocate",
        formatter_class=Formatter,
        help="Thompson-sampling traffic weights for the next period",
        description="Next-period traffic shares = exact P(arm is best), with an exploration floor.",
        epilog="example:\n  bayescausal ab allocate arms.csv --floor 0.05 --regret-periods 30",
    )
    al.add_argument("data", help="CSV or Parquet with arm, visitors, conversions")
    al.add_argument("--floor", type=float, default=0.01, help="minimum share per arm")
    al.add_argument("--lower-is-better", action="store_true", help="the metric is bad (e.g. churn, bounce)")
    al.add_argument("--regret-periods", type=int, default=0, help="also simulate regret vs equal split")
    al.add_argument("--prior-alpha", type=float, default=1.0)
    al.add_argument("--prior-beta", type=float, default=1.0)
    al.add_argument("--seed", type=int, default=0)
    al.add_argument("--col", action="append", default=[], metavar="CANONICAL=YOURS", help="map a column")
    _add_output(al)

    for _command, f in _family(
        sub,
        "did",
        help_text="difference-in-differences: fit, event-study",
        description="Bayesian difference-in-differences on unit x period panels: a long CSV/Parquet "
        "panel (staggered timing allowed) or a Complete Journey campaign.",
        examples=[
            "bayescausal did fit --campaign 18 --mailer-cost 1.0 --margin 0.3",
            "bayescausal did fit --data panel.csv --unit store --time wave --outcome fte --treated nj_after --json",
            "bayescausal did event-study --campaign 18",
        ],
        commands=[
            (
                "fit",
                "estimate the average effect on the treated (ATT), with checks and ROI",
                "bayescausal did fit --data panel.csv --unit u --time t --outcome y --treated d",
            ),
            (
                "event-study",
                "the same fit, printing the effect by period relative to treatment",
                "bayescausal did event-study --campaign 18",
            ),
            (
                "campaigns",
                "all Complete Journey campaigns at once, partially pooled by campaign type",
                "bayescausal did campaigns --mailer-cost 0.5 --margin 0.3",
            ),
        ],
    ):
        src = f.add_argument_group("data (one of --data or --campaign)")
        src.add_argument("--data", help="long panel CSV/Parquet: one row per unit and period")
        src.add_argument("--unit", default="unit", help="unit column (e.g. household)")
        src.add_argument("--time", default="time", help="period column (e.g. week)")
        src.add_argument("--outcome", default="outcome", help="outcome column (e.g. spend)")
        src.add_argument("--treated", default="treated", help="0/1 treatment indicator per unit and period")
        src.add_argument("--campaign", type=int, help="a Complete Journey campaign id (data shipped on PyPI)")
        src.add_argument("--pre-weeks", type=int, default=8, help="campaigns: pre-period weeks per campaign")
        src.add_argument(
            "--cj-folder",
            help="Complete Journey from a folder of the original Kaggle CSVs "
            "(transaction_data.csv, campaign_table.csv, ...) instead of the PyPI package",
        )
        src.add_argument(
            "--spend",
            choices=["total", "target"],
            default="total",
            help="Complete Journey outcome: all spend, or spend on the campaign's coupon products",
        )
        src.add_argument(
            "--mailer-cost",
            type=float,
            help="Complete Journey: cost per recipient household (cost = mailers + coupon discounts used)",
        )
        m = f.add_argument_group("model")
        m.add_argument(
            "--likelihood",
            choices=["gaussian", "student-t"],
            default="gaussian",
            help="gaussian: exact posterior, mean equals the within estimator; student-t: robust, NUTS",
        )
        m.add_argument("--pre-periods", type=int, help="pre-period length (default: all periods before treatment)")
        m.add_argument("--leads", type=int, default=8, help="event-study leads (pre-trend check)")
        m.add_argument("--no-refutations", action="store_true", help="skip placebo and leave-one-out checks")
        b = f.add_argument_group("business inputs")
        b.add_argument("--margin", type=float, default=1.0, help="profit margin on incremental revenue")
        b.add_argument("--cost", type=float, help="total cost of the treatment (overrides --mailer-cost)")
        b.add_argument("--hurdle", type=float, default=0.05, help="hurdle ROI")
        b.add_argument("--seed", type=int, default=0, help="random seed")
        b.add_argument("--allow-unconverged", action="store_true", help="exit 0 even when diagnostics fail")
        _add_output(f)

    bcf_example = (
        "bayescausal bcf {} --data customers.csv --outcome sales --treatment discount "
        "--covariates age,state,predicted_sales --randomised --margin 0.05 --cost-per-treated 2"
    )
    for name, f in _family(
        sub,
        "bcf",
        help_text="Bayesian causal forests: heterogeneous effects and profit-optimal targeting",
        description="Bayesian causal forests (Hahn, Murray & Carvalho 2020): who responds to a discount, coupon or "
        "e-mail, with posterior CATEs, uplift curves and the profit-maximising targeting policy.",
        examples=[
            "bayescausal bcf fit --data customers.csv --outcome sales --treatment discount --covariates age,state "
            "--json",
            "bayescausal bcf target --data customers.csv --outcome sales --treatment discount --covariates "
            "age,state --margin 0.05 --cost-per-treated 2 --targets-out t.csv",
        ],
        commands=[
            ("fit", "posterior CATEs, ATE/ATT, subgroups and uplift curves", bcf_example.format("fit")),
            (
                "target",
                "the same fit, leading with who to treat; writes the targeting list",
                bcf_example.format("target"),
            ),
        ],
    ):
        g = f.add_argument_group("data: one row per customer")
        g.add_argument("--data", required=True, help="CSV/Parquet file")
        g.add_argument("--outcome", required=True, help="outcome column (sales, spend, 0/1 conversion)")
        g.add_argument("--treatment", required=True, help="treatment column (0/1, or name --treated-value)")
        g.add_argument("--covariates", required=True, help="comma-separated covariate columns")
        g.add_argument("--treated-value", help="value of --treatment that means treated (others: control)")
        g.add_argument("--control-value", help="value that means control (rows in other arms are left out)")
        g.add_argument("--id-col", help="customer id column for the per-row outputs")
        g.add_argument("--propensity-col", help="known assignment probabilities (else estimated)")
        g.add_argument("--randomised", action="store_true", help="randomised assignment: pi_hat = treated share")
        m = f.add_argument_group("model")
        m.add_argument("--backend", choices=["stochtree", "pymc"], default="stochtree", help="BCF sampler")
        m.add_argument(
            "--likelihood",
            choices=["auto", "gaussian", "probit", "student-t", "bernoulli", "hurdle"],
            default="auto",
            help="auto: Gaussian, or binary for 0/1 outcomes; student-t/bernoulli/hurdle need --backend pymc",
        )
        m.add_argument("--segments", default="", help="comma-separated covariates to report CATE by")
        m.add_argument("--holdout", type=float, default=0.0, help="share held out for honest gain curves")
        m.add_argument("--trim", help="drop rows with pi_hat outside LOW,HIGH (e.g. 0.05,0.95)")
        m.add_argument("--no-placebo", action="store_true", help="skip the permuted-treatment refit")
        m.add_argument("--draws", type=int, default=300, help="kept draws per chain")
        m.add_argument("--burnin", type=int, default=50, help="burn-in per chain after the warm start")
        m.add_argument("--chains", type=int, default=4, help="chains (>= 2 to check convergence)")
        m.add_argument("--seed", type=int, default=0, help="random seed: same seed, same numbers")
        b = f.add_argument_group("profit and decision")
        b.add_argument("--margin", type=float, default=0.05, help="profit margin on incremental outcome")
        b.add_argument("--cost-per-treated", type=float, default=0.0, help="cost of treating one customer")
        b.add_argument("--cost-col", help="per-customer cost column instead")
        b.add_argument("--min-prob-profit", type=float, default=0.0, help="treat only where P(profit > 0) > this")
        b.add_argument("--heuristic", help='a simple rule to compare with, e.g. "age < 40"')
        b.add_argument("--min-prob", type=float, default=0.9, help="act only when P(campaign profit > 0) >= this")
        o = f.add_argument_group("per-customer outputs")
        o.add_argument("--predict-out", metavar="CSV", help="write per-row posterior mean CATE and its interval")
        if name == "target":
            o.add_argument("--targets-out", metavar="CSV", default="targets.csv", help="write who to treat")
        f.add_argument(
            "--allow-unconverged",
            action="store_true",
            help="exit 0 even when diagnostics fail (the report still carries the red banner)",
        )
        _add_output(f)

    mmm_example = (
        "bayescausal mmm {} --data-dir ../shared/data/dtmart --groups CameraAccessory,GamingAccessory,HomeAudio"
    )
    for _command, f in _family(
        sub,
        "mmm",
        help_text="marketing-mix models: ROAS, response curves, budget allocation",
        description="Bayesian marketing-mix models on pymc-marketing: adstock and saturation per channel, "
        "posterior ROAS and marginal ROAS, response curves, and the budget plan the optimizer proposes, scored "
        "as the posterior of its incremental revenue against the current plan.",
        examples=[
            "bayescausal mmm fit --data-dir ../shared/data/dtmart --json",
            "bayescausal mmm fit --data weekly.csv --date week --target sales --channels tv,search,social",
            "bayescausal mmm optimize --data-dir dtmart/ --plan-weeks 4 --bounds 0.5,1.5",
        ],
        commands=[
            ("fit", "fit, diagnose, and report ROAS, contributions and response curves", mmm_example.format("fit")),
            ("optimize", "the same fit, leading with the optimised budget plan", mmm_example.format("optimize")),
        ],
    ):
        g = f.add_argument_group("data (one of --data-dir or --data)")
        g.add_argument("--data-dir", help="a DT-Mart-layout folder: MediaInvestment.csv + sales files")
        g.add_argument("--groups", help="product sub-categories to pool (one series each); default: total GMV")
        g.add_argument("--spread", choices=["days", "sale-days"], default="days", help="monthly spend -> weeks")
        g.add_argument("--data", help="a weekly CSV/Parquet: date, target, one column per channel")
        g.add_argument("--date", default="date", help="date column (with --data)")
        g.add_argument("--target", default="gmv", help="sales column (with --data)")
        g.add_argument("--channels", help="comma-separated spend columns (with --data)")
        g.add_argument("--controls", default="", help="comma-separated control columns (with --data)")
        m = f.add_argument_group("model and plan")
        m.add_argument("--l-max", type=int, default=4, help="weeks of carry-over")
        m.add_argument("--holdout-weeks", type=int, default=8, help="final weeks for the out-of-sample check")
        m.add_argument("--plan-weeks", type=int, default=8, help="weeks the budget plan covers")
        m.add_argument("--bounds", default="0.5,1.5", help="per-channel bounds, multiples of current spend")
        m.add_argument("--budget", type=float, help="weekly budget to allocate (default: the current total)")
        m.add_argument("--no-sensitivity", action="store_true", help="skip the refit under the other spread")
        m.add_argument("--identifiability", action="store_true", help="also fit simulated sales on this spend design")
        m.add_argument("--margin", type=float, default=1.0, help="profit margin on incremental revenue")
        _add_sampler(f)
        _add_output(f)

    rp = sub.add_parser(
        "report",
        formatter_class=Formatter,
        help="show an existing report's summary",
        description="Print the decision and estimates of a report folder (or its summary JSON).",
        epilog="example:\n  bayescausal report reports/demo/ab_checkout",
    )
    rp.add_argument("folder", help="a report folder (holding summary.json)")
    rp.add_argument("--json", action="store_true", help="print the summary JSON")

    dm = sub.add_parser(
        "demo",
        formatter_class=Formatter,
        help="run every family end to end on shipped data",
        description="Runs each model family that exists in this version on shipped data and writes "
        "one report per analysis plus an index page.",
        epilog="example:\n  bayescausal demo --out reports/demo --force",
    )
    dm.add_argument("--out", default="reports/demo", help="folder for the demo reports and index.html")
    dm.add_argument("--force", action="store_true", help="replace an existing demo folder")
    return parser


def _columns(pairs: list[str]) -> dict[str, str]:
    from bayescausal.errors import SpecError

    out = {}
    for pair in pairs:
        canonical, sep, yours = pair.partition("=")
        if not sep or not canonical or not yours:
            raise SpecError(f"--col expects CANONICAL=YOURS (e.g. arm=variant), got '{pair}'")
        out[canonical] = yours
    return out


def _emit(result, args, *, spec_text: str | None = None, default_name: str = "analysis") -> None:
    """Write the report (unless --no-report) and print the summary or the JSON."""
    from bayescausal.report import write_report
    from bayescausal.report.writer import summary_json

    if not getattr(args, "no_report", False):
        out = Path(args.out or f"reports/{default_name}")
        _stage(f"writing report to {out}")
        write_report(result, out, force=args.force, spec_text=spec_text)
        result.inputs["report"] = str(out)
    if args.json:
        print(summary_json(result), file=args.stdout)
    else:
        print(result.summary())
        if "report" in result.inputs:
            print(f"\nReport: {Path(result.inputs['report']) / 'index.html'}")


def _show_sampler_progress(args) -> bool:
    """The sampler's progress bar, on an interactive terminal only (never in --json mode)."""
    return sys.stderr.isatty() and not getattr(args, "json", False)


def _converged_exit(result, allow: bool) -> int:
    if result.diagnostics.passed:
        return EXIT_OK
    print(
        "NOT CONVERGED: "
        + "; ".join(result.diagnostics.problems)
        + ("" if allow else " (exit 3; pass --allow-unconverged to accept)"),
        file=sys.stderr,
    )
    return EXIT_OK if allow else EXIT_UNCONVERGED


def cmd_run(args) -> int:
    from bayescausal.runner import run_spec
    from bayescausal.spec import load_spec

    spec = load_spec(args.spec)
    _stage(f"running spec '{spec.name}' ({spec.kind})")
    result = run_spec(spec, progress=_stage, sampler_progress=args.progress or _show_sampler_progress(args))
    args.out = args.out or str(spec.out_dir)
    _emit(result, args, spec_text=spec.source_text)
    return _converged_exit(result, args.allow_unconverged)


def _sampler_args(args) -> dict:
    """The [sampler] table from the shared --draws/--tune/--chains/--seed/--sampler options."""
    return {k: getattr(args, k) for k in ("draws", "tune", "chains", "seed", "sampler")}


def _ab_spec(args, kind_data: dict):
    from bayescausal.spec import parse_spec

    business = {
        "threshold": args.threshold,
        "threshold_relative": not args.absolute_threshold,
        "margin_rate": args.margin,
        "hurdle_roi": args.hurdle,
        "min_prob_positive": args.min_prob,
    }
    for key, value in (
        ("cost", args.cost),
        ("traffic", args.traffic),
        ("value_per_conversion", args.value_per_conversion),
    ):
        if value is not None:
            business[key] = value
    model = {
        "prior_alpha": args.prior_alpha,
        "prior_beta": args.prior_beta,
        "metric": args.metric,
        "segments": args.segments,
    }
    if args.control:
        model["control"] = args.control
    return parse_spec(
        {
            "kind": "ab",
            "name": Path(args.data).stem,
            "data": kind_data,
            "columns": _columns(args.col),
            "model": model,
            "business": business,
            "sampler": _sampler_args(args),
        }
    )


def cmd_ab(args) -> int:
    from bayescausal.runner import ab_data, load_frame

    if args.ab_command == "analyze":
        from bayescausal.runner import run_ab

        spec = _ab_spec(args, {"path": args.data, "format": "events" if args.events else "aggregated"})
        result = run_ab(spec, progress=_stage, sampler_progress=_show_sampler_progress(args))
        _emit(result, args, default_name=f"ab_{spec.name}")
        return _converged_exit(result, args.allow_unconverged)

    if args.ab_command == "simulate":
        from bayescausal.ab.results import simulation_result
        from bayescausal.ab.sequential import StoppingRule

        lifts = [float(x) for x in args.lifts.split(",")]
        rule = StoppingRule(threshold=args.threshold, min_days=args.min_days)
        _stage(f"simulating {args.sims} experiments for each of {len(lifts)} true lifts")
        result = simulation_result(
            baseline=args.baseline,
            lifts=lifts,
            daily_visitors=args.daily_visitors,
            max_days=args.days,
            rule=rule,
            n_sims=args.sims,
            seed=args.seed,
        )
        _emit(result, args, default_name="ab_simulate")
        return EXIT_OK

    from bayescausal.spec import parse_spec

    spec = parse_spec(
        {"kind": "ab", "name": Path(args.data).stem, "data": {"path": args.data}, "columns": _columns(args.col)}
    )
    frame, inputs = load_frame(spec)
    data = ab_data(spec, frame)
    if args.ab_command == "check":
        from bayescausal.ab.results import check_result
        from bayescausal.ab.sequential import StoppingRule
        from bayescausal.errors import DataError

        if "day" not in data.columns:
            raise DataError("ab check needs a 'day' column: cumulative counts per arm per day")
        allocation = tuple(float(x) for x in args.allocation.split(",")) if args.allocation else None
        rule = StoppingRule(
            threshold=args.threshold,
            relative=not args.absolute_threshold,
            min_days=args.min_days,
            min_visitors_per_arm=args.min_visitors,
            srm_alpha=args.srm_alpha,
            allocation=allocation,
        )
        result = check_result(
            data, rule, prior_alpha=args.prior_alpha, prior_beta=args.prior_beta, control=args.control, inputs=inputs
        )
        _emit(result, args, default_name=f"ab_check_{spec.name}")
        return int(result.extra["exit_code"])

    from bayescausal.ab.data import arm_totals
    from bayescausal.ab.results import allocation_result

    result = allocation_result(
        arm_totals(data),
        floor=args.floor,
        lower_is_better=args.lower_is_better,
        prior_alpha=args.prior_alpha,
        prior_beta=args.prior_beta,
        regret_periods=args.regret_periods,
        seed=args.seed,
    )
    result.inputs |= inputs
    _emit(result, args, default_name=f"ab_allocate_{spec.name}")
    return EXIT_OK


def _cj_source(args) -> dict:
    if args.cj_folder:
        return {"path": args.cj_folder, "format": "complete-journey-kaggle"}
    return {"dataset": "complete-journey"}


def cmd_did(args) -> int:
    from bayescausal.errors import SpecError
    from bayescausal.runner import run_did
    from bayescausal.spec import parse_spec

    if args.did_command == "campaigns":
        args.campaign = args.campaign or 0
    if (args.data is None) == (args.campaign is None):
        raise SpecError("give exactly one of --data PANEL.csv or --campaign ID")
    model = {"likelihood": args.likelihood, "leads": args.leads, "refutations": not args.no_refutations}
    if args.pre_periods is not None:
        model["pre_periods"] = args.pre_periods
    business = {"margin_rate": args.margin, "hurdle_roi": args.hurdle}
    if args.cost is not None:
        business["cost"] = args.cost
    if args.did_command == "campaigns":
        model |= {"all_campaigns": True, "pre_weeks": args.pre_weeks}
        if args.mailer_cost is not None:
            model["mailer_cost_per_household"] = args.mailer_cost
        data, columns, name = _cj_source(args), {}, "did_all_campaigns"
    elif args.campaign is not None:
        model |= {"campaign": args.campaign, "outcome": args.spend}
        if args.mailer_cost is not None:
            model["mailer_cost_per_household"] = args.mailer_cost
        data, columns, name = _cj_source(args), {}, f"did_campaign_{args.campaign}"
    else:
        data = {"path": args.data}
        columns = {"unit": args.unit, "time": args.time, "outcome": args.outcome, "treated": args.treated}
        name = f"did_{Path(args.data).stem}"
    spec = parse_spec(
        {
            "kind": "did",
            "name": name,
            "data": data,
            "columns": columns,
            "model": model,
            "business": business,
            "sampler": {"seed": args.seed},
        }
    )
    result = run_did(spec, progress=_stage, sampler_progress=_show_sampler_progress(args))
    _emit(result, args, default_name=name)
    if args.did_command == "event-study" and not args.json:
        print("\nEvent study:\n" + result.tables["event study"].to_string(index=False))
    return _converged_exit(result, args.allow_unconverged)


def _bcf_spec(args):
    from bayescausal.spec import parse_spec

    def listed(text: str | None) -> list[str]:
        return [c.strip() for c in (text or "").split(",") if c.strip()]

    model = {
        "outcome": args.outcome,
        "treatment": args.treatment,
        "covariates": listed(args.covariates),
        "backend": args.backend,
        "likelihood": args.likelihood,
        "randomised": args.randomised,
        "holdout": args.holdout,
        "placebo": not args.no_placebo,
    }
    optional = {
        "treated_value": args.treated_value,
        "control_value": args.control_value,
        "id": args.id_col,
        "propensity_column": args.propensity_col,
        "cost_column": args.cost_col,
        "heuristic": args.heuristic,
    }
    model |= {k: v for k, v in optional.items() if v is not None}
    if args.segments:
        model["segments"] = listed(args.segments)
    if args.trim:
        model["trim"] = [float(x) for x in listed(args.trim)]
    return parse_spec(
        {
            "kind": "bcf",
            "name": Path(args.data).stem,
            "data": {"path": args.data},
            "model": model,
            "sampler": {"draws": args.draws, "tune": args.burnin, "chains": args.chains, "seed": args.seed},
            "business": {
                "margin_rate": args.margin,
                "cost_per_treated": args.cost_per_treated,
                "min_prob_profit": args.min_prob_profit,
                "min_prob_positive": args.min_prob,
            },
        }
    )


def _write_csv(frame, path: str, force: bool) -> None:
    """Atomic CSV write that never replaces a user's file without --force."""
    import os

    from bayescausal.errors import ReportExistsError

    target = Path(path)
    if target.exists() and not force:
        raise ReportExistsError(f"{target} already exists; pass --force to replace it")
    tmp = target.with_name(f".{target.name}.tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, target)
    _stage(f"wrote {len(frame):,} rows to {target}")


def cmd_bcf(args) -> int:
    from bayescausal.runner import run_bcf

    spec = _bcf_spec(args)
    result = run_bcf(spec, progress=_stage)
    cate = result.row_outputs["cate"]
    if args.predict_out:
        cols = [c for c in cate.columns if c.startswith("cate_") or c in ("id", "prob_positive")]
        _write_csv(cate[cols], args.predict_out, args.force)
    if args.bcf_command == "target":
        cols = ["id", "expected_profit", "prob_profitable", "treat", "cate_mean"]
        _write_csv(cate[cols].sort_values("expected_profit", ascending=False), args.targets_out, args.force)
    _emit(result, args, default_name=f"bcf_{spec.name}")
    return _converged_exit(result, args.allow_unconverged)


def _mmm_spec(args):
    from bayescausal.errors import SpecError
    from bayescausal.spec import parse_spec

    def listed(text):
        return [c.strip() for c in (text or "").split(",") if c.strip()]

    if bool(args.data_dir) == bool(args.data):
        raise SpecError("give exactly one of --data-dir (DT-Mart layout) or --data (a weekly table)")
    model = {
        "l_max": args.l_max,
        "holdout_weeks": args.holdout_weeks,
        "plan_weeks": args.plan_weeks,
        "budget_bounds": [float(x) for x in listed(args.bounds)],
        "spread_sensitivity": not args.no_sensitivity,
        "identifiability": args.identifiability,
    }
    if args.budget is not None:
        model["total_budget"] = args.budget
    if args.data_dir:
        data = {"path": args.data_dir, "format": "dtmart"}
        model["spread"] = args.spread
        if args.groups:
            model["groups"] = listed(args.groups)
        columns = {}
    else:
        data = {"path": args.data}
        if not args.channels:
            raise SpecError("--channels is required with --data (the spend columns)")
        model |= {"channels": listed(args.channels), "controls": listed(args.controls)}
        columns = {"date": args.date, "target": args.target}
    return parse_spec(
        {
            "kind": "mmm",
            "name": Path(args.data_dir or args.data).stem or "mmm",
            "data": data,
            "columns": columns,
            "model": model,
            "sampler": _sampler_args(args),
            "business": {"margin_rate": args.margin},
        }
    )


def cmd_mmm(args) -> int:
    from bayescausal.runner import run_mmm

    spec = _mmm_spec(args)
    result = run_mmm(spec, progress=_stage, sampler_progress=_show_sampler_progress(args))
    if args.mmm_command == "optimize" and not args.json:
        plan = next(v for k, v in result.tables.items() if k.startswith("budget plan"))
        print(plan.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    _emit(result, args, default_name=f"mmm_{spec.name}")
    return _converged_exit(result, args.allow_unconverged)


def cmd_report(args) -> int:
    from bayescausal.errors import DataError

    path = Path(args.folder)
    path = path / "summary.json" if path.is_dir() else path
    if not path.exists():
        raise DataError(f"no summary.json at {path}: point at a report folder written by bayescausal")
    summary = json.loads(path.read_text())
    if args.json:
        print(json.dumps(summary, indent=2), file=args.stdout)
        return EXIT_OK
    d = summary["diagnostics"]
    print(summary.get("title", summary["kind"]))
    if not d["passed"]:
        print("!! NOT CONVERGED: " + "; ".join(d.get("problems", [])))
    print(f"Decision: {summary['decision']['action']}\n  because {summary['decision']['reason']}")
    for name, e in summary["estimates"].items():
        print(f"  {name}: mean {e['mean']:.4g}, {e['hdi_prob']:.0%} HDI [{e['hdi_low']:.4g}, {e['hdi_high']:.4g}]")
    return EXIT_OK


def cmd_demo(args) -> int:
    from bayescausal.demo import run_demo

    index = run_demo(Path(args.out), force=args.force, progress=_stage)
    print(f"Demo report: {index.resolve()}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {
        "run": cmd_run,
        "ab": cmd_ab,
        "did": cmd_did,
        "bcf": cmd_bcf,
        "mmm": cmd_mmm,
        "report": cmd_report,
        "demo": cmd_demo,
    }
    args.stdout = sys.stdout
    try:
        # in --json mode stdout carries only the JSON: anything a library prints goes to stderr
        with contextlib.redirect_stdout(sys.stderr) if getattr(args, "json", False) else contextlib.nullcontext():
            code = handlers[args.command](args)
    except BayesCausalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return code
