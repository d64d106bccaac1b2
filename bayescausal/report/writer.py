"""Atomic report writing: build everything in a temporary sibling folder, then rename it into place.

An exception mid-write leaves no partial folder; an existing report is replaced only with `force`,
and even then the old one is swapped out only once the new one is complete. `force` replaces only a
folder that bayescausal wrote (it carries the MARKER file) and never the working directory, a home
directory, a folder above them, or a folder holding the input data: nothing that is not ours is lost.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from bayescausal import interrupt
from bayescausal.errors import ReportExistsError
from bayescausal.report.render import figure_png, render_html, render_markdown

if TYPE_CHECKING:
    from bayescausal.result import Result


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.bool_):
        return bool(value)
    return str(value)


def _clean_nan(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean_nan(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean_nan(v) for v in obj]
    return obj


def summary_json(result: Result) -> str:
    """The summary JSON text (strict JSON: NaN and inf become null)."""
    return json.dumps(_clean_nan(result.to_json()), indent=2, default=_json_default, allow_nan=False)


def _serialisable(tree: xr.DataTree) -> xr.DataTree:
    """Drop object-dtype variables (e.g. sampler messages) that netCDF cannot store."""

    def clean(ds: xr.Dataset) -> xr.Dataset:
        return ds.drop_vars([k for k, v in ds.variables.items() if v.dtype == object])

    return tree.map_over_datasets(clean)


def write_posterior(tree: xr.DataTree, path: Path) -> None:
    _serialisable(tree).to_netcdf(path, engine="h5netcdf")


def read_posterior(path: str | Path) -> xr.DataTree:
    """Load a report's posterior.nc (a DataTree, usable with arviz)."""
    return xr.open_datatree(path, engine="h5netcdf").load()


def slug(name: str) -> str:
    """A file-, URL- and CSS-safe name: lower case, runs of anything else as one dash."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


MARKER = ".bayescausal-report"


def mark(folder: Path) -> None:
    """Leave the marker that lets a later `--force` recognise this folder as ours."""
    (folder / MARKER).write_text(json.dumps({"written_by": "bayescausal", "kind": "report"}) + "\n")


def require_replaceable(out_dir: Path, force: bool, protect: Iterable[str | Path] = ()) -> None:
    """Refuse to write over anything that is not a bayescausal report folder (see the module docstring)."""
    require_folders_above(out_dir)
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise ReportExistsError(f"{out_dir} exists and is a file, not a report folder; choose another --out")
    if not force:
        raise ReportExistsError(
            f"report folder {out_dir} already exists; choose another --out or pass --force "
            "to replace it (the old report is kept until the new one is complete)"
        )
    target = out_dir.resolve()
    sacred = {Path.cwd().resolve(), Path.home().resolve(), Path(target.anchor)}
    for place in sacred:
        if target == place or target in place.parents:
            raise ReportExistsError(
                f"refusing to replace {out_dir}: it is (or contains) the working directory or a home directory; "
                "nothing was deleted. Choose a new folder for --out, e.g. reports/<name>"
            )
    for path in protect:
        held = Path(path).resolve()
        if held == target or target in held.parents:
            raise ReportExistsError(
                f"refusing to replace {out_dir}: it holds the input data {path}; nothing was deleted. "
                "Write the report to another folder"
            )
    if not (out_dir / MARKER).exists():
        raise ReportExistsError(
            f"refusing to replace {out_dir}: it was not written by bayescausal (no {MARKER} marker), so --force "
            "does not apply to it and nothing was deleted. Choose a new or empty folder for --out"
        )


def require_folders_above(path: Path) -> None:
    """Every existing parent of `path` is a folder: an output below a file cannot be written (exit 2, not a
    traceback from mkdir)."""
    if blocking := next((p for p in Path(path).absolute().parents if p.exists() and not p.is_dir()), None):
        raise ReportExistsError(
            f"cannot write to {path}: {blocking} is a file, not a folder. Choose an output whose parent folders "
            "are folders (or do not exist yet)"
        )


def _swap_into_place(tmp: Path, out_dir: Path) -> None:
    """Rename the finished temporary folder to `out_dir`, replacing an old one only at the very end."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{tmp.name[-8:]}")
        out_dir.rename(old)
    try:
        tmp.rename(out_dir)
    except BaseException:
        if old is not None:
            old.rename(out_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_report(
    result: Result,
    out_dir: str | Path,
    *,
    force: bool = False,
    spec_text: str | None = None,
    protect: Iterable[str | Path] = (),
) -> Path:
    """Write index.html, report.md, summary.json, posterior.nc, figures/, any per-row CSVs and the family's
    artifacts (e.g. saved forests) to `out_dir`,
    atomically. `protect`: paths (the input data) that a replaced folder must not hold."""
    out_dir = Path(out_dir)
    require_replaceable(out_dir, force, protect)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    tmp.chmod(0o777 & ~_umask())  # mkdtemp's private 0700 would outlive the rename: honour the user's umask
    try:
        figures = result.all_figures()
        pngs = {f.title: figure_png(f.make()) for f in figures}
        (tmp / "figures").mkdir()
        files = {}
        for name, png in pngs.items():
            rel = f"figures/{slug(name)}.png"
            (tmp / rel).write_bytes(png)
            files[name] = rel
        mark(tmp)
        (tmp / "summary.json").write_text(summary_json(result))
        for name, frame in result.row_outputs.items():
            frame.to_csv(tmp / f"{name}.csv", index=False)
        for rel, blob in result.artifacts.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(blob)
        (tmp / "report.md").write_text(render_markdown(result, files, spec_text))
        if result.posterior is not None:
            write_posterior(result.posterior, tmp / "posterior.nc")
        (tmp / "index.html").write_text(render_html(result, [(f, pngs[f.title]) for f in figures], spec_text))
        interrupt.check()
        _swap_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _umask() -> int:
    """The process umask (reading it means setting it; it is put straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_csv(frame, path: str | Path, *, force: bool = False) -> Path:
    """Write a CSV atomically; never replace an existing file without `force`."""
    target = Path(path)
    require_folders_above(target)
    if target.exists() and not force:
        raise ReportExistsError(f"{target} already exists; pass --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        frame.to_csv(tmp, index=False)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def write_text_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see the old or the new content, never half of it."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_index(out_dir: str | Path, entries: list[dict], *, title: str = "bayescausal demo") -> Path:
    """An index page linking several reports already inside `out_dir` (entries: name, path, verdict,
    decision, passed)."""
    out_dir = Path(out_dir)
    rows = "".join(
        f"<tr><td><a href='{html.escape(e['path'])}/index.html'>{html.escape(e['name'])}</a></td>"
        f"<td class='verdict-{slug(e['verdict'])}'>{html.escape(e['verdict'])}</td>"
        f"<td class='wrap'>{html.escape(e['decision'])}</td>"
        f"<td class='{'ok' if e['passed'] else 'fail'}'>{'passed' if e['passed'] else 'NOT CONVERGED'}</td></tr>"
        for e in entries
    )
    from bayescausal.report.render import CSS

    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"
        "<p>Every model family that exists in this version, run end to end on shipped data.</p>"
        "<table><thead><tr><th>analysis</th><th>verdict</th><th>decision</th><th>diagnostics</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></body></html>"
    )
    mark(out_dir)
    write_text_atomic(out_dir / "index.html", page)
    return out_dir / "index.html"
