"""Reports of a command that runs again and again on growing data (the daily sequential check): each run is a
*look*, kept in its own folder beside the earlier ones, under one folder whose index shows the trajectory.

A scheduler runs the same command on the same file every morning: nothing is refused because yesterday's
look exists, and nothing is overwritten (a second look on the same data day gets a numbered folder). Only
`--force` replaces a look of the same name.
"""

from __future__ import annotations

import base64
import fcntl
import html
import json
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from bayescausal.errors import ReportExistsError
from bayescausal.report.writer import MARKER, mark, require_folders_above, slug, write_report, write_text_atomic

LOOKS_CSV = "looks.csv"
LOCK = ".looks.lock"


def write_look(result, base: Path, *, force: bool = False, spec_text=None, protect=()) -> Path:
    """Write `result` as a new look under `base`, then rebuild the trajectory index; returns the look folder.

    Scheduled runs overlap (a retry, two cron entries, a slow run beside the next): the report is built in a
    private staging folder, and only naming it, like rebuilding the index, happens under a lock on `base`, so
    every run's look is kept under its own name and the index lists them all."""
    _require_ours(base)
    base.mkdir(parents=True, exist_ok=True)
    with _locked(base):
        _adopt_single_report(base)
        mark(base)
    name = f"look-{slug(str(result.extra.get('look_label') or '')) or 'unlabelled'}"
    if force:
        out = write_report(result, base / name, force=True, spec_text=spec_text, protect=protect)
    else:
        staged = write_report(result, base / f".{name}.staged-{uuid.uuid4().hex[:12]}", spec_text=spec_text)
        with _locked(base):
            out, number = base / name, 2
            while out.exists():
                out, number = base / f"{name}-{number}", number + 1
            staged.rename(out)
    with _locked(base):
        write_trajectory(base)
    return out


@contextmanager
def _locked(base: Path):
    """An exclusive lock on the looks folder (released when the process ends, however it ends)."""
    with open(base / LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _require_ours(base: Path) -> None:
    require_folders_above(base)
    if base.exists() and (not base.is_dir() or (any(base.iterdir()) and not (base / MARKER).exists())):
        raise ReportExistsError(
            f"{base} exists and was not written by bayescausal (no {MARKER} marker); looks are never written into "
            "it. Choose a new or empty folder for --out"
        )


def _adopt_single_report(base: Path) -> None:
    """A folder written by an earlier version as one report becomes the first look (moved, never lost)."""
    if not (base / "summary.json").exists():
        return
    earlier = base / "look-earlier"
    earlier.mkdir()
    for item in list(base.iterdir()):
        if item.name not in (earlier.name, MARKER, LOCK):
            shutil.move(str(item), earlier / item.name)
    mark(earlier)


def looks_table(base: Path) -> pd.DataFrame:
    """One row per look (in the order they were written): data day, verdict, and per arm P(best) and loss."""
    rows = []
    for summary_path in sorted(base.glob("look-*/summary.json"), key=lambda p: p.stat().st_mtime_ns):
        s = json.loads(summary_path.read_text())
        row = {
            "look": summary_path.parent.name,
            "data day": s.get("look_label"),
            "written": pd.Timestamp(summary_path.stat().st_mtime, unit="s").strftime("%Y-%m-%d %H:%M:%S"),
            "verdict": s["decision"]["verdict"],
        }
        for arm, values in s.get("arms", {}).items():
            row[f"P(best) {arm}"] = values.get("prob_best")
            row[f"expected loss {arm}"] = values.get("expected_loss")
            row[f"visitors {arm}"] = values.get("visitors")
        rows.append(row)
    return pd.DataFrame(rows)


def write_trajectory(base: Path) -> Path:
    """The index of every look: a table and the P(best) / expected-loss trajectory across looks."""
    from bayescausal.report.render import CSS, figure_png

    table = looks_table(base)
    write_text_atomic(base / LOOKS_CSV, table.to_csv(index=False))
    figure = base64.b64encode(figure_png(_trajectory_figure(table))).decode() if len(table) else None
    links = "".join(
        f"<tr><td><a href='{html.escape(r['look'])}/index.html'>{html.escape(r['look'])}</a></td>"
        f"<td>{html.escape(str(r['data day']))}</td><td>{r['written']}</td><td class='verdict-{slug(r['verdict'])}'>"
        f"{html.escape(r['verdict'])}</td></tr>"
        for _, r in table.iterrows()
    )
    image = f"<img alt='trajectory across looks' src='data:image/png;base64,{figure}'>" if figure else ""
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Looks: {html.escape(base.name)}</title>"
        f"<style>{CSS}</style></head><body><h1>Every look of {html.escape(base.name)}</h1>"
        f"<p>{len(table)} look(s); the latest is last. Each look's folder holds its full report.</p>{image}"
        "<table><thead><tr><th>look</th><th>data up to</th><th>written (UTC)</th><th>verdict</th></tr></thead>"
        f"<tbody>{links}</tbody></table></body></html>"
    )
    write_text_atomic(base / "index.html", page)
    return base / "index.html"


def _trajectory_figure(table: pd.DataFrame):
    from bayescausal.style import new_figure

    fig, axes = new_figure(ncols=2, width=10.0)
    x = range(1, len(table) + 1)
    for column in table.columns:
        for ax, prefix in zip(axes, ("P(best) ", "expected loss "), strict=True):
            if column.startswith(prefix):
                ax.plot(x, table[column].astype(float), marker="o", label=column[len(prefix) :])
    from matplotlib.ticker import MaxNLocator

    axes[0].set(title="P(best) by look", xlabel="look", ylim=(0, 1))
    axes[1].set(title="expected loss by look (rate units)", xlabel="look")
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].legend(fontsize=8)
    return fig
