"""Render a Result as self-contained HTML (figures embedded) and as Markdown.

Order is fixed: a red banner if the fit did not converge, the decision, the decision's money
posterior, the estimates, the family's figures and tables, checks, diagnostics, notes, the spec and
the data provenance.
"""

from __future__ import annotations

import base64
import html
import io
import json
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bayescausal.result import estimates_frame

if TYPE_CHECKING:
    from bayescausal.result import Result

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1080px;margin:2em auto;padding:0 1em;
color:#1f2328;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:1.6em}
.banner{background:#d1242f;color:#fff;padding:.9em 1.1em;border-radius:6px;font-weight:600;margin:1em 0}
.warn{background:#fff8c5;border:1px solid #d4a72c;padding:.7em 1em;border-radius:6px;margin:1em 0}
.decision{background:#f6f8fa;border-left:6px solid #0969da;padding:.8em 1.1em;border-radius:4px;font-size:1.1em}
.decision b{font-size:1.25em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em;display:block;overflow-x:auto}
th,td{border:1px solid #d0d7de;padding:.25em .55em;text-align:right;white-space:nowrap}
th{background:#f6f8fa} td:first-child,th:first-child{text-align:left}
.ok{color:#1a7f37;font-weight:600} .fail{color:#d1242f;font-weight:600}
img{max-width:100%;border:1px solid #eee;border-radius:4px;margin:.4em 0}
pre{background:#f6f8fa;padding:.8em;border-radius:6px;overflow-x:auto;font-size:.85em}
.muted{color:#59636e;font-size:.9em}
"""


def _plain(value) -> str:
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return "—"
        if float(value).is_integer() and 1000 <= abs(value) < 1e15:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    return str(value)


def _fmt(value) -> str:
    return html.escape(_plain(value))


def html_table(frame: pd.DataFrame, index: bool = True) -> str:
    head = ([frame.index.name or ""] if index else []) + [str(c) for c in frame.columns]
    rows = []
    for idx, row in frame.iterrows():
        cells = ([f"<td>{_fmt(idx)}</td>"] if index else []) + [f"<td>{_fmt(v)}</td>" for v in row]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        "<table><thead><tr>"
        + "".join(f"<th>{html.escape(h)}</th>" for h in head)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def md_table(frame: pd.DataFrame, index: bool = True) -> str:
    def cell(v):
        return _plain(v).replace("|", "\\|")

    head = ([frame.index.name or ""] if index else []) + [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for idx, row in frame.iterrows():
        lines.append("| " + " | ".join(([cell(idx)] if index else []) + [cell(v) for v in row]) + " |")
    return "\n".join(lines)


def figure_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def _checks_frame(result: Result) -> pd.DataFrame:
    return (
        pd.DataFrame(
            [{"check": c.name, "verdict": "pass" if c.passed else "FAIL", "detail": c.detail} for c in result.checks]
        ).set_index("check")
        if result.checks
        else pd.DataFrame()
    )


def _diagnostics_frame(result: Result) -> pd.DataFrame:
    d = result.diagnostics.to_dict()
    rows = {
        k: d[k]
        for k in (
            "method",
            "passed",
            "max_rhat",
            "min_ess_bulk",
            "min_ess_tail",
            "divergences",
            "min_bfmi",
            "treedepth_fraction",
        )
    }
    return pd.DataFrame({"value": rows}).rename_axis("diagnostic")


def render_html(result: Result, figures: dict[str, bytes], spec_text: str | None) -> str:
    d = result.diagnostics
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(result.title)}</title>"
        f"<style>{CSS}</style></head><body>",
        f"<h1>{html.escape(result.title)}</h1>",
    ]
    if not d.passed:
        parts.append(
            "<div class='banner'>NOT CONVERGED — do not act on this result. "
            + html.escape("; ".join(d.problems))
            + "</div>"
        )
    failed = [c for c in result.checks if not c.passed]
    if failed:
        parts.append("<div class='warn'>Failed checks: " + html.escape("; ".join(c.name for c in failed)) + "</div>")
    parts.append(
        f"<div class='decision'>Decision: <b>{html.escape(result.decision.action)}</b><br>"
        f"{html.escape(result.decision.reason)}</div>"
    )
    if result.roi is not None:
        r = result.roi
        rows = {"incremental revenue": r.incremental_revenue, "incremental profit": r.incremental_profit}
        if r.roi is not None:
            rows["ROI"] = r.roi
        parts.append("<h2>Posterior ROI</h2>")
        parts.append(html_table(estimates_frame(rows)))
        if r.prob_roi_above_hurdle is not None:
            parts.append(
                f"<p>P(ROI &gt; {r.hurdle_roi:.0%}) = <b>{r.prob_roi_above_hurdle:.3f}</b> "
                f"(margin {r.margin_rate:g}, cost {r.cost:,.2f})</p>"
            )
    ordered = sorted(figures, key=lambda k: not k.startswith("Decision"))
    for name in [k for k in ordered if k.startswith("Decision")]:
        parts.append(_img(name, figures[name]))
    parts.append("<h2>Estimates</h2>")
    parts.append(html_table(estimates_frame(result.estimates)))
    parts.append(
        f"<p class='muted'>mean, median, sd and the {next(iter(result.estimates.values())).hdi_prob:.0%}"
        " highest-density interval of each quantity; prob_positive = P(quantity &gt; 0).</p>"
        if result.estimates
        else ""
    )
    for name in [k for k in ordered if not k.startswith(("Decision", "Diagnostics"))]:
        parts.append(f"<h2>{html.escape(name)}</h2>" + _img(name, figures[name]))
    for name, table in result.tables.items():
        parts.append(f"<h2>Table: {html.escape(name)}</h2>" + html_table(table, index=not _plain_index(table)))
    if result.checks:
        parts.append("<h2>Checks</h2>" + html_table(_checks_frame(result)))
    parts.append("<h2>Diagnostics</h2>")
    verdict = "<span class='ok'>passed</span>" if d.passed else "<span class='fail'>FAILED</span>"
    parts.append(
        f"<p>Verdict: {verdict} (thresholds: R-hat ≤ {d.thresholds.max_rhat}, ESS ≥ "
        f"{d.thresholds.min_ess:.0f}, divergences ≤ {d.thresholds.max_divergences})</p>"
    )
    parts.append(html_table(_diagnostics_frame(result)))
    if len(d.table):
        parts.append(
            "<details><summary>Per-parameter R-hat and ESS</summary>" + html_table(d.table, index=False) + "</details>"
        )
    for name in [k for k in ordered if k.startswith("Diagnostics")]:
        parts.append(_img(name, figures[name]))
    if result.notes:
        parts.append(
            "<h2>Method notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in result.notes) + "</ul>"
        )
    if spec_text:
        parts.append("<h2>Analysis spec</h2><pre>" + html.escape(spec_text) + "</pre>")
    prov = {"inputs": result.inputs, "timings (s)": result.timings}
    parts.append(
        "<h2>Data provenance and versions</h2><pre>" + html.escape(json.dumps(prov, indent=2, default=str)) + "</pre>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def _plain_index(table: pd.DataFrame) -> bool:
    return isinstance(table.index, pd.RangeIndex)


def _img(name: str, png: bytes) -> str:
    data = base64.b64encode(png).decode()
    return f"<figure><img alt='{html.escape(name)}' src='data:image/png;base64,{data}'></figure>"


def render_markdown(result: Result, figure_files: dict[str, str], spec_text: str | None) -> str:
    d = result.diagnostics
    lines = [f"# {result.title}", ""]
    if not d.passed:
        lines += ["> **NOT CONVERGED — do not act on this result.** " + "; ".join(d.problems), ""]
    lines += [f"**Decision: {result.decision.action}** — {result.decision.reason}", ""]
    if result.roi is not None and result.roi.prob_roi_above_hurdle is not None:
        lines += [f"P(ROI > {result.roi.hurdle_roi:.0%}) = {result.roi.prob_roi_above_hurdle:.3f}", ""]
    lines += ["## Estimates", "", md_table(estimates_frame(result.estimates)), ""]
    for name, table in result.tables.items():
        lines += [f"## {name}", "", md_table(table, index=not _plain_index(table)), ""]
    if result.checks:
        lines += ["## Checks", "", md_table(_checks_frame(result)), ""]
    lines += ["## Diagnostics", "", md_table(_diagnostics_frame(result)), ""]
    lines += [f"![{name}]({path})" for name, path in figure_files.items()] + [""]
    lines += [f"- {n}" for n in result.notes]
    if spec_text:
        lines += ["", "## Spec", "", "```toml", spec_text.rstrip(), "```"]
    return "\n".join(lines) + "\n"
