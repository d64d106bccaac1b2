"""Analysis specs: small TOML files in `models/` that name the data, model, sampler, business inputs
and output of one analysis. Parsed strictly: an unknown key or a wrong type is an error naming it.

    kind = "<family>"                # a registered family (bayescausal.family; `bayescausal --help` lists them)
    command = "<command>"            # optional: one of the family's commands (default: its first)
    name = "checkout_button"         # report folder name under reports/ unless [output] dir is set
    [data]     path = "data.csv" | dataset = "<shipped dataset>";  format = one of the family's formats;
               time_format = "%d/%m/%Y" (only where the dates are ambiguous)
    [columns]  canonical = "your column"   (the family's canonical column names)
    [model] [business] [sampler] [diagnostics]
               the keys the family's options declare (bayescausal.options): `bayescausal <kind> <command>
               --help` lists them with their flags, and a key the family does not use is an error
    [output]   dir
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bayescausal import family as registry
from bayescausal.errors import SpecError
from bayescausal.options import Declared, coerce, spec_keys

# time_format: strftime; engine/url/table: where an engine reads the rows (bayescausal.data.engine)
DATA_KEYS = {
    "path": str,
    "dataset": str,
    "format": str,
    "time_format": str,
    "engine": str,
    "url": str,
    "table": str,
    "counts": str,  # A/B rows with a day: "cumulative" totals to date or each day's own ("daily") counts
}
COUNTS = ("cumulative", "daily")
TOP = ("kind", "name", "title", "command", "data", "columns", "model", "sampler", "business", "output", "diagnostics")
DECLARED_SECTIONS = ("model", "business", "sampler", "diagnostics")  # keys come from the family's options


@dataclass(frozen=True)
class Spec:
    kind: str
    name: str
    title: str | None = None
    command: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    sampler: dict[str, Any] = field(default_factory=dict)
    business: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    source_text: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in ("kind", "name", "title", "command", "data", "columns", "model", "sampler", "business")
            + ("diagnostics", "output")
        }

    @property
    def hash(self) -> str:
        """Content hash of the parsed spec (formatting and comments do not change it)."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def sections(self) -> dict[str, dict[str, Any]]:
        return {k: getattr(self, k) for k in ("data", "columns", "model", "business", "sampler", "diagnostics")}

    @property
    def out_dir(self) -> Path:
        return Path(self.output.get("dir", f"reports/{self.name}"))

    def data_path(self) -> Path | None:
        """The data path: absolute for a spec file (relative paths there are relative to the spec file); for
        the CLI's and the API's inputs, relative to where the command runs."""
        return Path(self.data["path"]) if "path" in self.data else None


def merge_sections(raw: dict, *layers: dict) -> dict:
    """Lay spec tables over `raw` in order, key by key (later layers win): how the CLI's and the API's
    inputs, a command's presets and the typed options become one spec."""
    for layer in layers:
        for section, table in layer.items():
            raw[section] = raw.get(section, {}) | dict(table) if isinstance(table, dict) else table
    return raw


def _check_keys(where: str, table: Any, allowed: dict) -> None:
    if not isinstance(table, dict):
        raise SpecError(f"{where} must be a table, got {type(table).__name__} ({table!r})")
    for key, value in table.items():
        if key not in allowed:
            raise SpecError(f"unknown key '{key}' in {where}; allowed keys: {', '.join(sorted(allowed)) or 'none'}")
        expected = allowed[key]
        if isinstance(expected, Declared):
            coerce(expected, value)
        elif not isinstance(value, expected):
            raise SpecError(f"{where}.{key}: expected {expected.__name__}, got {type(value).__name__} ({value!r})")


def parse_spec(raw: dict, *, source_text: str | None = None, frame_given: bool = False) -> Spec:
    """Validate a parsed TOML table against the family's declared options and build a Spec.

    `frame_given`: the data arrives as a DataFrame (Python API), so `[data]` may be empty."""
    for key in raw:
        if key not in TOP:
            raise SpecError(f"unknown key '{key}' in the spec; allowed keys: {', '.join(sorted(TOP))}")
    for required in ("kind", "name"):
        if required not in raw:
            raise SpecError(f'the spec needs a top-level \'{required}\' (e.g. kind = "<family>", name = "my_test")')
    for key in ("kind", "name", "title", "command"):
        if key in raw and not isinstance(raw[key], str):
            raise SpecError(f"{key}: expected str, got {type(raw[key]).__name__} ({raw[key]!r})")
    family = registry.get(raw["kind"])
    command = family.command(raw.get("command"))
    columns = family.column_names(command)
    for section in DECLARED_SECTIONS:
        _check_column_keys(section, raw.get(section, {}), columns)
        _check_keys(f"[{section}]", raw.get(section, {}), spec_keys([command.options], section))
    _check_keys("[columns]", raw.get("columns", {}), dict.fromkeys(columns, str))
    _check_keys("[output]", raw.get("output", {}), {"dir": str})
    data = raw.get("data", {})
    _check_keys("[data]", data, DATA_KEYS)
    _check_source(data, family, command, frame_given)
    return Spec(
        kind=family.kind,
        name=raw["name"],
        title=raw.get("title"),
        command=raw.get("command"),
        data=data,
        columns=raw.get("columns", {}),
        model=raw.get("model", {}),
        sampler=raw.get("sampler", {}),
        business=raw.get("business", {}),
        output=raw.get("output", {}),
        diagnostics=raw.get("diagnostics", {}),
        source_text=source_text,
    )


def _check_column_keys(section: str, table: Any, columns: tuple[str, ...]) -> None:
    """A column name given where an option belongs is the commonest slip: name the table it goes in."""
    if not isinstance(table, dict):
        return
    for key, value in table.items():
        if key in columns and isinstance(value, str):
            raise SpecError(
                f"'{key}' in [{section}] names a column: map it in [columns] instead ([columns] {key} = \"{value}\")"
            )


def _check_source(data: dict, family, command, frame_given: bool) -> None:
    if command.load is None:
        if data:
            raise SpecError(f"{family.kind} {command.name} reads no data: remove the [data] table")
        return
    sources = [
        k for k in ("path", "dataset", "url") if k in data and not (k == "url" and data.get("engine") == "spark")
    ]
    if not frame_given and len(sources) != 1:
        raise SpecError(
            "[data] needs exactly one of 'path' (a CSV/Parquet file, a folder or glob of Parquet files, a DuckDB "
            "file), 'url' (an engine connection, with 'table') or 'dataset' (a shipped dataset)"
        )
    _check_engine(data)
    if data.get("counts", COUNTS[0]) not in COUNTS:
        raise SpecError(f"[data].counts must be one of {', '.join(COUNTS)}, got '{data['counts']}'")
    if "format" in data and data["format"] not in family.formats:
        allowed = ", ".join(family.formats) or "none (this family reads one layout)"
        raise SpecError(f"[data].format must be one of {allowed}, got '{data['format']}'")


def _check_engine(data: dict) -> None:
    from bayescausal.data.engine import ENGINES

    if data.get("engine", "duckdb") not in ENGINES:
        raise SpecError(
            f"[data].engine must be one of {', '.join(ENGINES)}, got '{data['engine']}'; other engines are reached "
            "with [data] url (e.g. postgres://user@host/db) and table"
        )
    if "url" in data and data.get("engine") != "spark" and "table" not in data:
        raise SpecError('[data] url needs the table to read: [data] table = "events"')
    if "dataset" in data and ({"engine", "url", "table"} & set(data)):
        raise SpecError("[data] dataset is shipped with bayescausal: engine, url and table do not apply to it")


def load_spec(path: str | Path) -> Spec:
    path = Path(path)
    if not path.exists():
        raise SpecError(f"spec file not found: {path}")
    text = path.read_text()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path} is not valid TOML: {exc}") from exc
    _anchor_data_path(raw, path)
    return parse_spec(raw, source_text=text)


def _anchor_data_path(raw: dict, spec_path: Path) -> None:
    """A relative `[data] path` is relative to the spec file, not to wherever the command runs: a scheduled job
    started elsewhere would otherwise read a stale file of the same name there. It is stored absolute, so the
    report records exactly which file was read."""
    data = raw.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("path"), str) or "://" in data["path"]:
        return
    given = Path(data["path"]).expanduser()
    data["path"] = str(given if given.is_absolute() else (spec_path.parent / given).resolve())
