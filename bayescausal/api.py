"""The public Python API: one function per family command, derived from the family's declaration.

    import bayescausal.did as did
    result = did.fit("panel.csv", unit="store", time="week", outcome="sales", treated="promo", margin_rate=0.3)
    result.summary(); result.plot(); result.write_report("reports/promo")

Each function takes a DataFrame or a path (or `dataset=` for a shipped one), the family's column names,
and the same options as the CLI and the specs, by their spec keys; it returns the `Result`. Unknown
keywords are an error naming the allowed ones, exactly as an unknown spec key is.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bayescausal.errors import SpecError
from bayescausal.options import declared

if TYPE_CHECKING:
    import pandas as pd

    from bayescausal.family import Command, Family
    from bayescausal.result import Result

FRAME = "<DataFrame>"  # stands in for the path while the inputs are shaped into spec tables


def stem(path: str | None) -> str:
    """A data path's file stem, for default report names ("dataframe" for a DataFrame)."""
    return "dataframe" if path in (None, FRAME) else Path(path).stem


def entry_point(family: Family, command_name: str) -> Callable[..., Result]:
    """The API function of one command, with a docstring listing its options."""
    command = family.command(command_name)

    def entry(data: pd.DataFrame | str | Path | None = None, /, **options: Any) -> Result:
        return run_command(family, command, data, options)

    entry.__name__ = entry.__qualname__ = command_name.replace("-", "_")
    entry.__module__ = f"bayescausal.{family.kind}"
    entry.__doc__ = _doc(command)
    entry.__signature__ = _signature(command)  # what help() and a notebook's completion show
    return entry


def _signature(command: Command) -> inspect.Signature:
    """data (positional), then every declared input and option as a keyword with its default."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("data", inspect.Parameter.POSITIONAL_ONLY, default=None)]
    inputs = declared(command.inputs) if command.inputs is not None else []
    names = [(d.path[0], d.default) for d in inputs if d.path[0] != "data"]
    names += [(d.key, d.default) for d in declared(command.options)]
    names += [("columns", None), ("dataset", None), ("title", None), ("name", None), ("progress", None)]
    seen: set[str] = set()
    for name, default in names:
        if name not in seen:
            seen.add(name)
            params.append(inspect.Parameter(name, keyword, default=default))
    return inspect.Signature(params)


def _doc(command: Command) -> str:
    lines = [
        command.help[0].upper() + command.help[1:] + ".",
        "",
        "Returns a Result (summary(), plot(), write_report(dir)). Keyword arguments:",
        "",
    ]
    inputs = [d for d in declared(command.inputs)] if command.inputs is not None else []
    for d in inputs:
        if d.path[0] != "data":
            lines.append(f"    {d.path[0]}: {d.help}")
    for d in declared(command.options):
        lines.append(f"    {d.key} = {d.default!r}: {d.help}")
    lines += ["", "Also: columns={canonical: yours}, dataset='<shipped dataset>', title=, name=, progress=callable."]
    return "\n".join(lines)


def run_command(family: Family, command: Command, data, options: dict[str, Any]) -> Result:
    """Shape the arguments into the spec a TOML file would hold, validate it, and run it."""
    import pandas as pd

    from bayescausal.runner import quiet, run
    from bayescausal.spec import merge_sections, parse_spec

    options = dict(options)
    progress = options.pop("progress", quiet)
    frame = data if isinstance(data, pd.DataFrame) else None
    raw: dict[str, Any] = {"kind": family.kind, "command": command.name}
    raw |= {k: options.pop(k) for k in ("title", "name") if k in options}
    inputs = _inputs(command, data, options)
    dataset = options.pop("dataset", None)
    columns = options.pop("columns", {})
    typed: dict[str, dict[str, Any]] = {}
    for key, value in options.items():
        typed.setdefault(_section_of(command, key), {})[key] = list(value) if isinstance(value, tuple) else value
    sections = inputs.sections(typed) if inputs is not None and not (dataset and data is None) else {}
    data_table = {k: v for k, v in sections.pop("data", {}).items() if v is not None and v != FRAME}
    if dataset is not None:
        data_table = {"dataset": dataset} | {k: v for k, v in data_table.items() if k == "format"}
    raw["data"] = data_table
    raw["columns"] = sections.pop("columns", {}) | columns
    merge_sections(raw, sections, command.preset, typed)
    raw.setdefault("name", family.report_name(command, inputs))
    spec = parse_spec(raw, frame_given=frame is not None)
    return run(spec, frame=frame, progress=progress)


def _inputs(command: Command, data, options: dict[str, Any]):
    if command.inputs is None:
        return None
    fields = {d.path[0] for d in declared(command.inputs)}
    given = {k: options.pop(k) for k in list(options) if k in fields and k != "data"}
    if data is not None and "data" in fields:
        given["data"] = FRAME if not isinstance(data, str | Path) else str(data)
    return command.inputs(**given)


def _section_of(command: Command, key: str) -> str:
    for d in declared(command.options):
        if d.key == key:
            return d.section
    allowed = sorted({d.key for d in declared(command.options)})
    raise SpecError(f"unknown option '{key}' for {command.name}; allowed: {', '.join(allowed)}")
