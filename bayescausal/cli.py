"""The `bayescausal` command: parses arguments, calls the runner, hands the Result to the report writer.

No statistics and no family names here: each family's subcommands and flags are derived from its
declaration in the registry (bayescausal.family), and its flags from its declared options
(bayescausal.options), so a spec key and its flag cannot drift apart. Parsing is strict: an option
must be spelled out in full (no abbreviations).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

from bayescausal import __version__, interrupt
from bayescausal import family as registry
from bayescausal import options as opts
from bayescausal.errors import BayesCausalError
from bayescausal.verdict import EXIT_OK, EXIT_USAGE, exit_code, exit_codes_text


class Formatter(argparse.RawDescriptionHelpFormatter):
    pass


def _parser(sub, name: str, **kwargs) -> argparse.ArgumentParser:
    return sub.add_parser(name, formatter_class=Formatter, allow_abbrev=False, **kwargs)


def _epilog(examples, codes=None) -> str:
    return "examples:\n" + "".join(f"  {e}\n" for e in examples) + "\n" + exit_codes_text(codes)


def _command_codes(command: registry.Command) -> set[int]:
    """The exit codes one command can return: its own (a scheduled check's) or the verdict's, 3 only when it
    samples, and always 0, 1, 2 and 130."""
    always = {0, 1, 2, 130}
    if command.exit_code is not None:
        return always | {4, 5}
    return always | {6} | ({3} if command.samples else set())


def _stage(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _add_output(p: argparse.ArgumentParser, *, samples: bool = True) -> None:
    g = p.add_argument_group("output")
    g.add_argument(
        "--out",
        metavar="DIR",
        help="report folder (index.html, report.md, summary.json, posterior.nc); default reports/NAME, or, when an "
        "earlier run's report is there, a new folder beside it named for today (the earlier one is kept)",
    )
    g.add_argument("--json", action="store_true", help="print the summary JSON to stdout and nothing else")
    g.add_argument(
        "--force",
        action="store_true",
        help="replace an existing report folder that bayescausal wrote (never any other folder)",
    )
    g.add_argument("--no-report", action="store_true", help="do not write a report folder")
    if samples:
        g.add_argument(
            "--allow-unconverged",
            action="store_true",
            help="exit 0 even when diagnostics fail (the verdict stays inconclusive and the report says so)",
        )
        g.add_argument("--progress", action="store_true", help="show the sampler's progress bar on stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bayescausal",
        formatter_class=Formatter,
        allow_abbrev=False,
        description="Fully Bayesian causal inference for retail decisions: every answer is a posterior, every "
        "decision a posterior ROI, every verdict checked against the diagnostics and the design's own checks.",
        epilog=_epilog(
            ["bayescausal demo", "bayescausal run models/my_analysis.toml --force"]
            + [f.examples[0] for f in registry.families().values() if f.examples]
        ),
    )
    parser.add_argument("--version", action="version", version=f"bayescausal {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = _parser(
        sub,
        "run",
        help="run an analysis spec (models/*.toml)",
        description="Validate a TOML analysis spec, fit, diagnose, decide and write the report.",
        epilog=_epilog(["bayescausal run models/my_analysis.toml --out reports/my_analysis --force"]),
    )
    run.add_argument("spec", help="path to the TOML spec")
    _add_output(run)
    for family in registry.families().values():
        _add_family(sub, family)
    rp = _parser(
        sub,
        "report",
        help="show an existing report's summary",
        description="Print the verdict and estimates of a report folder (or its summary JSON).",
        epilog=_epilog(["bayescausal report reports/my_analysis"]),
    )
    rp.add_argument("folder", help="a report folder (holding summary.json), or a folder of reports (the demo's)")
    rp.add_argument("--json", action="store_true", help="print the summary JSON")
    dm = _parser(
        sub,
        "demo",
        help="run every family end to end on shipped data",
        description="Runs every registered family's demo specs on shipped data and writes one report per "
        "analysis plus an index page with each verdict.",
        epilog=_epilog(["bayescausal demo --out reports/demo --force"]),
    )
    dm.add_argument(
        "--out",
        default=None,
        help="folder for the demo reports and index.html (default: reports/demo, or a new folder beside it "
        "named for today when an earlier demo is there)",
    )
    dm.add_argument("--force", action="store_true", help="replace a demo folder that bayescausal wrote")
    return parser


def _add_family(sub, family: registry.Family) -> None:
    parent = _parser(
        sub,
        family.kind,
        help=f"{family.help} ({', '.join(family.names)})",
        description=family.description,
        epilog=_epilog(family.examples),
    )
    children = parent.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    for command in family.commands:
        child = _parser(
            children,
            command.name,
            help=command.help,
            description=command.help + ".",
            epilog=_epilog([command.example], _command_codes(command)),
        )
        if command.inputs is not None:
            opts.add_input_flags(child, command.inputs)
        opts.add_flags(child, command.options)
        _add_output(child, samples=command.samples)


def _spec_from_args(family: registry.Family, command: registry.Command, args: argparse.Namespace):
    """The flags a user typed, as the spec a TOML file would hold: one path for both."""
    from bayescausal.spec import merge_sections, parse_spec

    inputs = opts.inputs_from_args(command.inputs, args) if command.inputs is not None else None
    raw: dict = {"kind": family.kind, "command": command.name, "name": family.report_name(command, inputs)}
    typed = opts.sections_from_args(args)
    sections = inputs.sections(typed) if inputs is not None else {}
    return parse_spec(merge_sections(raw, sections, command.preset, typed)), inputs


def _emit(result, args, *, spec_text: str | None = None, default_out: str, looks: bool = False) -> None:
    """Write the report (unless --no-report; a new look beside the earlier ones for a command that runs on
    growing data) and print the summary or the JSON."""
    from bayescausal.report import write_report
    from bayescausal.report.looks import write_look
    from bayescausal.report.writer import summary_json

    if not args.no_report:
        out = Path(args.out) if args.out else _unused(Path(default_out), keep=looks or args.force)
        write = write_look if looks else write_report
        _stage(f"writing {'a new look under' if looks else 'report to'} {out}")
        out = write(result, out, force=args.force, spec_text=spec_text, protect=getattr(args, "protect", ())) or out
        result.inputs["report"] = str(out)
    if args.json:
        print(summary_json(result), file=args.stdout)
    else:
        print(result.summary())
        if "report" in result.inputs:
            print(f"\nReport: {Path(result.inputs['report']) / 'index.html'}")


def _preflight(args, protect: tuple[Path, ...], *, looks: bool) -> None:
    """Refuse an --out that cannot be written before the analysis runs, not after a fit of minutes."""
    from bayescausal.report.writer import require_folders_above, require_replaceable

    if args.no_report or not args.out:
        return
    if looks:
        require_folders_above(Path(args.out))
    else:
        require_replaceable(Path(args.out), args.force, protect)


def _unused(default: Path, *, keep: bool) -> Path:
    """The default report folder, or, when an earlier run left it there, a new one beside it named for today
    (numbered after the first): a scheduled run neither fails nor replaces yesterday's report. A folder named
    with --out is the user's choice, and is refused or replaced (--force) as they say."""
    if keep or not default.exists():
        return default
    stem = f"{default.name}-{time.strftime('%Y-%m-%d')}"
    candidates = (default.with_name(stem if k == 1 else f"{stem}-{k}") for k in range(1, 10_000))
    fresh = next(c for c in candidates if not c.exists())
    _stage(f"{default} holds an earlier run's report (kept): writing this one to {fresh}")
    return fresh


def _show_sampler_progress(args) -> bool:
    """The sampler's progress bar, when asked or on an interactive terminal (never in --json mode)."""
    return bool(getattr(args, "progress", False)) or (sys.stderr.isatty() and not args.json)


def _finish(result, command: registry.Command, args) -> int:
    code = command.exit_code(result) if command.exit_code is not None else None
    if code is None:
        code = exit_code(result, allow_unconverged=getattr(args, "allow_unconverged", False))
    d = result.decision
    if not result.diagnostics.passed:
        allowed = getattr(args, "allow_unconverged", False)
        tail = "" if allowed else " (exit 3; pass --allow-unconverged to accept)"
        print("NOT CONVERGED: " + "; ".join(result.diagnostics.problems) + tail, file=sys.stderr)
    if d.verdict == "inconclusive":
        why = "; ".join(f"{b['name']}: {b['detail']}" for b in d.blocking)
        print(f"INCONCLUSIVE (exit {code}): {why}", file=sys.stderr)
        if d.next_step is not None:
            print(f"next step: {d.next_step.text}", file=sys.stderr)
    return code


def cmd_run(args) -> int:
    from bayescausal.runner import run
    from bayescausal.spec import load_spec

    spec = load_spec(args.spec)
    _stage(f"running spec '{spec.name}' ({spec.kind})")
    args.protect = _data_paths(spec)
    command = registry.get(spec.kind).command(spec.command)
    _preflight(args, args.protect, looks=command.looks)
    result = run(spec, progress=_stage, sampler_progress=_show_sampler_progress(args))
    _emit(result, args, spec_text=spec.source_text, default_out=str(spec.out_dir), looks=command.looks)
    return _finish(result, command, args)


def _data_paths(spec) -> tuple[Path, ...]:
    return (Path(spec.data["path"]),) if "path" in spec.data else ()


def cmd_family(args) -> int:
    from bayescausal.runner import run

    family = registry.get(args.command)
    command = family.command(args.subcommand)
    spec, inputs = _spec_from_args(family, command, args)
    args.protect = _data_paths(spec)
    _preflight(args, args.protect, looks=command.looks)
    result = run(spec, progress=_stage, sampler_progress=command.samples and _show_sampler_progress(args))
    if command.after is not None:
        command.after(result, inputs, args.force)
    _emit(result, args, default_out=f"reports/{spec.name}", looks=command.looks)
    return _finish(result, command, args)


def cmd_report(args) -> int:
    folder = Path(args.folder)
    if folder.is_dir() and not (folder / "summary.json").exists() and list(folder.glob("*/summary.json")):
        return _list_reports(folder, args)
    summary = read_summary(folder)
    if args.json:
        print(json.dumps(summary, indent=2), file=args.stdout)
        return EXIT_OK
    d, decision = summary["diagnostics"], summary["decision"]
    print(summary.get("title", summary["kind"]))
    if not d["passed"]:
        print("!! NOT CONVERGED: " + "; ".join(d.get("problems", [])))
    print(f"Verdict: {decision.get('verdict', '?').upper()}")
    print(f"Decision: {decision['action']}\n  because {decision['reason']}")
    for b in decision.get("blocking", []):
        print(f"  blocked by {b.get('name')}: {b.get('detail')}")
    if decision.get("next_step"):
        print(f"  next step: {decision['next_step'].get('text')}")
    for name, e in summary["estimates"].items():
        print(
            f"  {name}: mean {_number(e.get('mean'))}, {e.get('hdi_prob', 0.94):.0%} HDI "
            f"[{_number(e.get('hdi_low'))}, {_number(e.get('hdi_high'))}]"
        )
    return EXIT_OK


def _list_reports(folder: Path, args) -> int:
    """A folder of reports (the demo's, a family of runs): one line each, verdict first."""
    summaries = {p.parent.name: read_summary(p.parent) for p in sorted(folder.glob("*/summary.json"))}
    if args.json:
        print(json.dumps({name: s["decision"] for name, s in summaries.items()}, indent=2), file=args.stdout)
        return EXIT_OK
    print(f"{len(summaries)} reports in {folder}:")
    for name, s in summaries.items():
        d = s["decision"]
        print(f"  {name}: {d.get('verdict', '?').upper()}: {d['action']} ({s.get('title', s['kind'])})")
    return EXIT_OK


def read_summary(path: Path) -> dict:
    """A report's summary.json, checked: a folder or file that is not one gets a message, never a traceback."""
    from bayescausal.errors import DataError

    path = path / "summary.json" if path.is_dir() else path
    if not path.is_file():
        raise DataError(f"no summary.json at {path}: point at a report folder written by bayescausal")
    try:
        summary = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(
            f"{path} is not a readable summary.json ({exc}); it may be truncated or not a bayescausal report: "
            "rerun the analysis to write it again"
        ) from exc
    needed = {"kind": str, "decision": dict, "diagnostics": dict, "estimates": dict}
    bad = [k for k, t in needed.items() if not isinstance(summary, dict) or not isinstance(summary.get(k), t)]
    if bad or not {"action", "reason"} <= set(summary["decision"]) or "passed" not in summary["diagnostics"]:
        raise DataError(
            f"{path} is not a bayescausal summary (missing or malformed: {', '.join(bad) or 'decision/diagnostics'}); "
            "rerun the analysis to write it again"
        )
    if not all(isinstance(e, dict) for e in summary["estimates"].values()):
        raise DataError(f"{path}: 'estimates' must map each name to a table of numbers; rerun the analysis")
    return summary


def _number(value) -> str:
    return f"{value:.4g}" if isinstance(value, int | float) else "n/a"


def cmd_demo(args) -> int:
    from bayescausal.demo import run_demo

    out = Path(args.out) if args.out else _unused(Path("reports/demo"), keep=args.force)
    index = run_demo(out, force=args.force, progress=_stage)
    print(f"Demo report: {index.resolve()}")
    entries = [read_summary(p.parent) for p in sorted(out.glob("*/summary.json"))]
    undecided = [e for e in entries if e["decision"]["verdict"] in ("inconclusive", "continue")]
    print(
        f"{len(entries)} reports: {len(entries) - len(undecided)} decided"
        + (
            f", {len(undecided)} not: "
            + "; ".join(f"{e.get('title', e['kind'])} ({e['decision']['verdict']})" for e in undecided)
            if undecided
            else ""
        )
    )
    return EXIT_OK


def _interrupted() -> int:
    print("interrupted: the run stopped, and no report was written (exit 130)", file=sys.stderr)
    return interrupt.EXIT_INTERRUPTED


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    finally:
        interrupt.forget()  # else a later run in this process (the Python API, a test) would stop at once


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"run": cmd_run, "report": cmd_report, "demo": cmd_demo}
    args.stdout = sys.stdout
    try:
        # in --json mode stdout carries only the JSON: anything a library prints goes to stderr
        quiet_stdout = (
            contextlib.redirect_stdout(sys.stderr) if getattr(args, "json", False) else contextlib.nullcontext()
        )
        with interrupt.watching(), quiet_stdout:
            code = handlers.get(args.command, cmd_family)(args)
        interrupt.check()
        return code
    except KeyboardInterrupt:
        return _interrupted()
    except BrokenPipeError:  # `bayescausal report R | head`: the reader left; exit as a shell would
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except BayesCausalError as exc:
        if interrupt.interrupted():
            return _interrupted()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception:
        if interrupt.interrupted():  # a worker pool or library turned Ctrl-C into its own error
            return _interrupted()
        raise
