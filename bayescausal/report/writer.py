"""Atomic report writing: build everything in a temporary sibling folder, then rename it into place.

An exception mid-write leaves no partial folder; an existing report is replaced only with `force`,
and even then the old one is swapped out only once the new one is complete.
"""

from __future__ import annotations

import html
import json
import math
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

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


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _require_writable(out_dir: Path, force: bool) -> None:
    if out_dir.exists() and not force:
        raise ReportExistsError(
            f"report folder {out_dir} already exists; choose another --out or pass --force "
            "to replace it (the old report is kept until the new one is complete)"
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


def write_report(result: Result, out_dir: str | Path, *, force: bool = False, spec_text: str | None = None) -> Path:
    """Write index.html, report.md, summary.json, posterior.nc, figures/ and any per-row CSVs to `out_dir`,
    atomically."""
    out_dir = Path(out_dir)
    _require_writable(out_dir, force)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        from bayescausal.report.figures import standard_figures

        makers = standard_figures(result) | result.figures
        pngs = {name: figure_png(make()) for name, make in makers.items()}
        (tmp / "figures").mkdir()
        files = {}
        for name, png in pngs.items():
            rel = f"figures/{_slug(name)}.png"
            (tmp / rel).write_bytes(png)
            files[name] = rel
        (tmp / "summary.json").write_text(summary_json(result))
        for name, frame in result.row_outputs.items():
            frame.to_csv(tmp / f"{name}.csv", index=False)
        (tmp / "report.md").write_text(render_markdown(result, files, spec_text))
        if result.posterior is not None:
            write_posterior(result.posterior, tmp / "posterior.nc")
        (tmp / "index.html").write_text(render_html(result, pngs, spec_text))
        _swap_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def write_index(
    out_dir: str | Path, entries: list[dict], *, title: str = "bayescausal demo", force: bool = False
) -> Path:
    """An index page linking several reports already inside `out_dir` (entries: name, path, decision, passed)."""
    out_dir = Path(out_dir)
    rows = "".join(
        f"<tr><td><a href='{html.escape(e['path'])}/index.html'>{html.escape(e['name'])}</a></td>"
        f"<td>{html.escape(e['decision'])}</td>"
        f"<td class='{'ok' if e['passed'] else 'fail'}'>{'passed' if e['passed'] else 'NOT CONVERGED'}</td></tr>"
        for e in entries
    )
    from bayescausal.report.render import CSS

    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"
        "<p>Every model family that exists in this version, run end to end on shipped data.</p>"
        "<table><thead><tr><th>analysis</th><th>decision</th><th>diagnostics</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></body></html>"
    )
    tmp = out_dir / ".index.html.tmp"
    tmp.write_text(page)
    tmp.replace(out_dir / "index.html")
    return out_dir / "index.html"
