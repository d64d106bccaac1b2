"""What a model family is, and the registry the spine reads: it never names a family itself.

A family declares itself once, in its package's `FAMILY`, and registers through the entry-point group
`bayescausal.families` (pyproject.toml) or `register(...)`. Spec validation, the runner, the CLI's
subcommands, flags and `--help`, the demo and the public API are all derived from these declarations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any

from bayescausal.errors import SpecError

if TYPE_CHECKING:
    import argparse

    from bayescausal.result import Result, Source

Progress = Callable[[str], None]


def quiet(_: str) -> None:
    """The default progress callback: say nothing."""


Loader = Callable[..., "tuple[Any, Source]"]  # (spec, options, frame, progress) -> (data, where it came from)
Analysis = Callable[..., "Result"]  # (data, options, progress) -> Result
ENTRY_POINTS = "bayescausal.families"


@dataclass(frozen=True)
class Command:
    """One subcommand of a family: its own options (flags and spec keys), how it loads its data, what it
    computes, and what it does after the report (print a table, write a CSV; never statistics).

    `inputs` is a dataclass of the data-source flags (section "data"/"columns"); its `sections()` turns the
    flags a user typed into spec tables, so the same spec is what both the CLI and a TOML file run."""

    name: str
    help: str
    example: str
    options: type
    analyze: Analysis
    load: Loader | None = None  # None: the command needs no data (e.g. a simulation)
    inputs: type | None = None
    preset: dict[str, dict[str, Any]] = field(default_factory=dict)
    after: Callable[[Result, argparse.Namespace], None] | None = None
    exit_code: Callable[[Result], int | None] | None = None  # a command-specific exit code, else the verdict's
    samples: bool = True  # MCMC may be involved: offer --allow-unconverged and progress bars
    looks: bool = False  # run again and again on growing data: each run is a look kept beside the earlier ones


@dataclass(frozen=True)
class Family:
    """A model family: its kind (the spec's `kind` and the CLI command), its commands (the first is the one
    a spec runs unless it names another), its `[data].format` values and the demo specs it contributes."""

    kind: str
    help: str
    description: str
    commands: tuple[Command, ...]
    formats: tuple[str, ...] = ()
    demo: tuple[str, ...] = ()  # spec files under models/
    examples: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()  # canonical names a spec's [columns] may map, beyond the inputs' own flags

    def column_names(self, command: Command) -> tuple[str, ...]:
        """The canonical columns `command` reads: the family's list and the inputs' declared column flags."""
        from bayescausal.options import declared

        own = (
            ()
            if command.inputs is None
            else tuple(d.key for d in declared(command.inputs) if d.section == "columns" and not d.repeat)
        )
        return tuple(dict.fromkeys(self.columns + own))

    def command(self, name: str | None = None) -> Command:
        if name is None:
            return self.commands[0]
        for c in self.commands:
            if c.name == name:
                return c
        raise SpecError(f"kind '{self.kind}' has no command '{name}' (commands: {', '.join(self.names)})")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.commands]

    def report_name(self, command: Command, inputs: Any) -> str:
        """The default report folder name: kind, command (unless it is the main one) and the data's stem."""
        stem = inputs.name() if inputs is not None and hasattr(inputs, "name") else ""
        parts = [self.kind] + ([command.name] if command is not self.commands[0] else []) + ([stem] if stem else [])
        return "_".join(parts)


_REGISTRY: dict[str, Family] = {}
_LOADED = False


def register(family: Family, *, replace: bool = False) -> Family:
    """Add a family (a plugin, or a test's toy family). Refuses a second family of the same kind."""
    if family.kind in _REGISTRY and not replace and _REGISTRY[family.kind] is not family:
        raise SpecError(f"a family of kind '{family.kind}' is already registered")
    _REGISTRY[family.kind] = family
    return family


def unregister(kind: str) -> None:
    _REGISTRY.pop(kind, None)


def _load_entry_points() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for ep in sorted(metadata.entry_points(group=ENTRY_POINTS), key=lambda e: e.name):
        family = ep.load()
        _REGISTRY.setdefault(family.kind, family)


def families() -> dict[str, Family]:
    """Every registered family, by kind (entry points first, in name order, then `register` calls)."""
    _load_entry_points()
    return dict(_REGISTRY)


def get(kind: str) -> Family:
    known = families()
    if kind not in known:
        raise SpecError(f"kind '{kind}' is not one of {', '.join(known)}")
    return known[kind]
