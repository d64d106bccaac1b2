"""Declare an option once; derive the spec keys, their validation, the CLI flags and the docs from it.

An option is a dataclass field made with `option(...)`: its name, default and help live in one place,
together with the spec section it belongs to (`[model]`, `[business]`, `[sampler]`, ...). A field whose
type is itself a dataclass of options (a `SamplerSettings`, a `DecisionRule`) is a *component*: its own
fields are flattened into their sections, and its default instance carries the family's defaults.

    @dataclass(frozen=True)
    class DidOptions:
        leads: int = option(8, "event-study leads (the pre-trend check)")
        margin_rate: float = option(1.0, "profit margin on incremental revenue", section="business", flag="margin")
        rule: DecisionRule = component(DecisionRule)
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import MISSING, dataclass, field
from functools import cache
from typing import Any, Literal

from bayescausal.errors import SpecError

SECTIONS = ("data", "columns", "model", "business", "sampler", "diagnostics", "output")
_META = "bayescausal"


def option(
    default: Any = MISSING,
    help: str = "",
    *,
    section: str = "model",
    key: str | None = None,
    flag: str | None = None,
    choices: tuple | None = None,
    metavar: str | None = None,
    cli: bool = True,
    positional: bool = False,
    repeat: bool = False,
) -> Any:
    """A declared option. `key` is its spec key (default: the field name), `flag` its CLI flag without
    dashes (default: the key with dashes); `cli=False` keeps it out of the command line (spec only).
    `positional` and `repeat` (a flag given several times) serve data-source declarations."""
    if section not in SECTIONS:
        raise ValueError(f"unknown section {section!r}")
    meta = {"help": help, "section": section, "key": key, "flag": flag, "choices": choices, "metavar": metavar}
    meta |= {"cli": cli, "positional": positional, "repeat": repeat}
    if isinstance(default, list | dict | set):
        return field(default_factory=lambda: type(default)(default), metadata={_META: meta})
    return field(default=default, metadata={_META: meta})


def component(cls: type, **defaults: Any) -> Any:
    """A nested options dataclass (sampler, decision rule, thresholds) with this family's defaults."""
    return field(default_factory=lambda: cls(**defaults), metadata={_META: {"component": True}})


@dataclass(frozen=True)
class Declared:
    """One option as the spine sees it: where it lives in a spec and how it appears on the command line."""

    path: tuple[str, ...]  # attribute path inside the options object, e.g. ("rule", "hurdle_roi")
    key: str
    section: str
    type: Any
    default: Any
    help: str
    flag: str
    choices: tuple | None
    metavar: str | None
    cli: bool
    positional: bool = False
    repeat: bool = False

    @property
    def where(self) -> str:
        return f"[{self.section}].{self.key}"


def _hints(cls: type) -> dict[str, Any]:
    module = __import__(cls.__module__, fromlist=["_"])
    return typing.get_type_hints(cls, globalns=vars(module))


@cache
def declared(cls: type) -> tuple[Declared, ...]:
    """Every option of `cls`, components flattened, in declaration order."""
    out: list[Declared] = []
    hints = _hints(cls)
    defaults = _default_instance(cls)
    for f in dataclasses.fields(cls):
        meta = f.metadata.get(_META)
        if meta is None:
            continue
        if meta.get("component"):
            inner = hints[f.name]
            child = getattr(defaults, f.name) if defaults is not None else None
            for d in declared(inner):
                default = getattr(child, d.path[-1]) if child is not None and len(d.path) == 1 else d.default
                out.append(dataclasses.replace(d, path=(f.name, *d.path), default=default))
            continue
        key = meta["key"] or f.name
        default = getattr(defaults, f.name) if defaults is not None else None
        out.append(
            Declared(
                path=(f.name,),
                key=key,
                section=meta["section"],
                type=hints[f.name],
                default=default,
                help=meta["help"],
                flag=meta["flag"] or key.replace("_", "-"),
                choices=meta["choices"] or _literal_choices(hints[f.name]),
                metavar=meta["metavar"],
                cli=meta["cli"],
                positional=meta["positional"],
                repeat=meta["repeat"],
            )
        )
    return tuple(out)


def _default_instance(cls: type):
    try:
        return cls()
    except TypeError:  # required fields: no defaults to show
        return None


def _literal_choices(tp) -> tuple | None:
    base = _strip_optional(tp)
    if typing.get_origin(base) is Literal:
        return typing.get_args(base)
    return None


def _strip_optional(tp):
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


def _optional(tp) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp)


def coerce(d: Declared, value: Any) -> Any:
    """Check a spec value against the declared type (strictly: a bool is not a number) and convert it."""
    if value is None and _optional(d.type):
        return None
    base = _strip_optional(d.type)
    origin = typing.get_origin(base)
    if d.choices is not None:
        if value not in d.choices:
            raise SpecError(f"{d.where} must be one of {', '.join(map(str, d.choices))}, got {value!r}")
        return value
    if origin in (tuple, list):
        args = [a for a in typing.get_args(base) if a is not Ellipsis] or [str]
        if isinstance(value, str):  # a comma-separated CLI value: "0.5,0.5", "age,state"
            value = [_from_text(d, args[0], v.strip()) for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            raise SpecError(f"{d.where}: expected a list, got {type(value).__name__} ({value!r})")
        item = dataclasses.replace(d, type=args[0], choices=None)
        return tuple(coerce(item, v) for v in value)
    if typing.get_origin(base) in (typing.Union, types.UnionType):  # e.g. str | int
        allowed = typing.get_args(base)
        if isinstance(value, allowed) and not isinstance(value, bool):
            return value
        raise SpecError(f"{d.where}: expected {' or '.join(a.__name__ for a in allowed)}, got {value!r}")
    return _scalar(d, base, value)


def _from_text(d: Declared, base, text: str):
    if base not in (int, float):
        return text
    try:
        return base(text)
    except ValueError:
        kind = "integers" if base is int else "numbers"
        raise SpecError(f"{d.where} (--{d.flag}): expected comma-separated {kind}, got {text!r}") from None


def _scalar(d: Declared, base, value):
    if base is bool:
        if not isinstance(value, bool):
            raise SpecError(f"{d.where}: expected true or false, got {type(value).__name__} ({value!r})")
        return value
    if base is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(f"{d.where}: expected int, got {type(value).__name__} ({value!r})")
        return value
    if base is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SpecError(f"{d.where}: expected number, got {type(value).__name__} ({value!r})")
        return float(value)
    if base is str:
        if not isinstance(value, str):
            raise SpecError(f"{d.where}: expected str, got {type(value).__name__} ({value!r})")
        return value
    return value


def spec_keys(classes: typing.Iterable[type], section: str) -> dict[str, Declared]:
    """The keys a spec section accepts, from the declared options of `classes`."""
    return {d.key: d for cls in classes for d in declared(cls) if d.section == section}


def build(cls: type, sections: dict[str, dict[str, Any]]):
    """An options object from spec sections: declared keys only (others were rejected by the spec),
    components built from their own keys on top of the family's defaults. Values are validated by the
    dataclasses' own `__post_init__` checks."""
    values: dict[tuple[str, ...], Any] = {}
    for d in declared(cls):
        table = sections.get(d.section, {})
        if d.key in table:
            values[d.path] = coerce(d, table[d.key])
    return _assemble(cls, values, ())


def _assemble(cls: type, values: dict[tuple[str, ...], Any], prefix: tuple[str, ...]):
    kwargs = {}
    base = _default_instance(cls)
    for f in dataclasses.fields(cls):
        meta = f.metadata.get(_META) or {}
        path = (*prefix, f.name)
        if meta.get("component"):
            inner = _hints(cls)[f.name]
            child_values = {p: v for p, v in values.items() if p[: len(path)] == path}
            if child_values:
                default_child = getattr(base, f.name) if base is not None else inner()
                own = {p[len(path)]: v for p, v in child_values.items() if len(p) == len(path) + 1}
                kwargs[f.name] = dataclasses.replace(default_child, **own)
        elif path in values:
            kwargs[f.name] = values[path]
    return cls(**kwargs)


# --------------------------------------------------------------------------- command line


def add_flags(parser: argparse.ArgumentParser, cls: type, *, skip: typing.Container[str] = ()) -> None:
    """One flag per declared option (grouped by section); defaults are shown, not applied, so that only the
    flags a user typed reach the spec and the options' own defaults stay the single source of truth."""
    groups: dict[str, argparse._ArgumentGroup] = {}
    for d in declared(cls):
        if not d.cli or d.flag in skip:
            continue
        group = groups.get(d.section) or groups.setdefault(d.section, parser.add_argument_group(_GROUPS[d.section]))
        add_flag(group, d)


_GROUPS = {
    "data": "data",
    "columns": "columns of your data",
    "model": "model",
    "business": "business inputs and decision rule",
    "sampler": "sampler",
    "diagnostics": "diagnostics gate",
    "output": "per-row outputs",
}


def negated(help_text: str) -> str:
    """The help of a --no-X flag says what the negation does: it skips what X, on by default, does."""
    return f"skip (on by default): {help_text}"


def add_flag(group, d: Declared, dest: str | None = None) -> None:
    """One argparse argument for a declared option; its value lands at `dest` (default "section.key")."""
    base = _strip_optional(d.type)
    dest = dest or f"{d.section}.{d.key}"
    shown = "" if d.default in (None, "", ()) else f" (default: {_show(d.default)})"
    d = dataclasses.replace(d, help=d.help.replace("%", "%%"))  # argparse formats help with %
    if d.positional:
        group.add_argument(dest, metavar=d.metavar or d.flag.upper(), help=d.help)
        return
    if d.repeat:
        group.add_argument(f"--{d.flag}", dest=dest, action="append", default=None, metavar=d.metavar, help=d.help)
        return
    if base is bool:
        if d.default:
            group.add_argument(f"--no-{d.flag}", dest=dest, action="store_false", default=None, help=negated(d.help))
        else:
            group.add_argument(f"--{d.flag}", dest=dest, action="store_true", default=None, help=d.help)
        return
    kwargs: dict[str, Any] = {"dest": dest, "default": None, "help": d.help + shown.replace("%", "%%")}
    if d.choices is not None and typing.get_origin(base) not in (tuple, list):
        kwargs["choices"] = d.choices
    elif base in (int, float):
        kwargs["type"] = base
    if "choices" not in kwargs:
        kwargs["metavar"] = d.metavar or _metavar(base)
    group.add_argument(f"--{d.flag}", **kwargs)


def _metavar(base) -> str:
    if typing.get_origin(base) in (tuple, list):
        return "A,B,..."
    return {int: "N", float: "X"}.get(base, "TEXT")


def _show(value) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def add_input_flags(parser: argparse.ArgumentParser, cls: type) -> None:
    """The data-source flags of a command (a dataclass of declared fields), each landing at "in.<field>"."""
    groups: dict[str, Any] = {}
    for d in declared(cls):
        group = groups.get(d.section) or groups.setdefault(d.section, parser.add_argument_group(_GROUPS[d.section]))
        add_flag(group, d, dest=f"in.{d.path[0]}")


def inputs_from_args(cls: type, args: argparse.Namespace):
    """The command's inputs object from the flags a user typed (its defaults for the others)."""
    values = {k[3:]: v for k, v in vars(args).items() if k.startswith("in.") and v is not None}
    hints = _hints(cls)
    for name, value in values.items():
        if typing.get_origin(_strip_optional(hints[name])) is tuple:
            items = value.split(",") if isinstance(value, str) else value
            values[name] = tuple(v.strip() for v in items if v.strip())
    return cls(**values)


def sections_from_args(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The flags a user typed, as spec sections ({"model": {"leads": 4}, ...})."""
    out: dict[str, dict[str, Any]] = {}
    for dest, value in vars(args).items():
        section, dot, key = dest.partition(".")
        if dot and section in SECTIONS and value is not None:
            out.setdefault(section, {})[key] = value
    return out


def markdown_table(cls: type) -> str:
    """The options of `cls` as a Markdown table (for docs): key, section, CLI flag, default, help."""
    lines = ["| spec key | CLI flag | default | meaning |", "|---|---|---|---|"]
    for d in declared(cls):
        flag = f"`--{'no-' if d.type is bool and d.default else ''}{d.flag}`" if d.cli else "spec only"
        lines.append(f"| `{d.where}` | {flag} | {_show(d.default)} | {d.help} |")
    return "\n".join(lines)


def where_data(data: str, table: str | None, engine: str) -> dict:
    """The [data] table of a DATA argument: a path, or an engine URL (anything with '://')."""
    out = {"url": data} if "://" in data else {"path": data}
    return out | ({"table": table} if table else {}) | ({"engine": engine} if engine != "duckdb" else {})
