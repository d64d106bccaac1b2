"""Render a Result as self-contained HTML (figures embedded) and as Markdown.

Order is fixed: the verdict first (when inconclusive, a red banner with what blocked it, each item
linked to its section, and the next step), the decision's money posterior and decision figures, the
estimates, the evidence figures and tables, checks, diagnostics, notes, the spec and the provenance.
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
.decision b{font-size:1.25em} .banner a{color:#fff} .banner ul{margin:.4em 0}
.verdict-act{border-left-color:#1a7f37} .verdict-inconclusive{border-left-color:#d1242f}
.verdict-continue{border-left-color:#d4a72c} .verdict-do-not-act{border-left-color:#59636e}
td.verdict-inconclusive{color:#d1242f;font-weight:600} td.verdict-act{color:#1a7f37;font-weight:600}
td.wrap{white-space:normal;text-align:left;min-width:22em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em;display:block;overflow-x:auto}
th,td{border:1px solid #d0d7de;padding:.25em .55em;text-align:right;white-space:nowrap}
th{background:#f6f8fa} td:first-child,th:first-child{text-align:left}
.ok{color:#1a7f37;font-weight:600} .fail{color:#d1242f;font-weight:600}
img{max-width:100%;border:1px solid #eee;border-radius:4px;margin:.4em 0}
pre{background:#f6f8fa;padding:.8em;border-radius:6px;overflow-x:auto;font-size:.85em}
.muted{color:#59636e;font-size:.9em}
"""


def _plain(value) -> str:
    """A number as people read it: thousands separated and rounded to the unit from 10,000 on (money, counts;
    never "1.819e+04"), four significant digits below; a missing value as a dash."""
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return "—"
        if 1e4 <= abs(value) < 1e15 or (float(value).is_integer() and 1000 <= abs(value) < 1e15):
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
    rows = [
        {
            "#": k,
            "check": c.name,
            "gating": "yes" if c.gating else "no",
            "verdict": "pass" if c.passed else ("FAIL" if c.gating else "warn"),
            "detail": c.detail,
        }
        for k, c in enumerate(result.checks, start=1)
    ]
    return pd.DataFrame(rows).set_index("#") if rows else pd.DataFrame()


def _diagnostics_frame(result: Result) -> pd.DataFrame:
    """The gate's numbers; for a posterior computed without sampling, each says so instead of "None"."""
    d = result.diagnostics.to_dict()
    missing = "not recorded by this sampler" if not result.diagnostics.table.empty else NOT_SAMPLED
    rows = {
        k: missing if d[k] is None else d[k]
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


NOT_SAMPLED = "n/a: exact posterior, no sampling"

VERDICT_TEXT = {
    "act": "ACT",
    "do not act": "DO NOT ACT",
    "continue": "CONTINUE: not enough evidence yet",
    "inconclusive": "INCONCLUSIVE: do not act on this result",
}


def _verdict_html(result: Result) -> list[str]:
    """The first screen: the verdict, and when inconclusive, why (each blocker linked) and the next step."""
    d = result.decision
    parts = []
    if d.verdict == "inconclusive":
        items = "".join(
            f"<li><a href='#{_anchor(b)}'>{html.escape(_blocking_label(b))}</a>: {html.escape(b['detail'])}</li>"
            for b in d.blocking
        )
        step = f"<p><b>Next step:</b> {html.escape(d.next_step.text)}</p>" if d.next_step else ""
        head = "NOT CONVERGED — do not act on this result" if not result.diagnostics.passed else VERDICT_TEXT[d.verdict]
        parts.append(f"<div class='banner'>{head}<ul>{items}</ul>{step}</div>")
    parts.append(
        f"<div id='decision' class='decision verdict-{d.verdict.replace(' ', '-')}'>"
        f"Verdict: <b>{VERDICT_TEXT[d.verdict]}</b>"
        f"<br>Decision: {html.escape(d.action)}<br><span class='muted'>{html.escape(d.reason)}</span>"
        + (f"<br><span class='muted'>{html.escape(d.monte_carlo_text())}</span>" if d.monte_carlo_text() else "")
        + "</div>"
    )
    return parts


def _roi_html(result: Result) -> list[str]:
    r = result.roi
    if r is None:
        return []
    rows = {"incremental revenue": r.incremental_revenue, "incremental profit": r.incremental_profit}
    if r.roi is not None:
        rows["ROI"] = r.roi
    parts = ["<h2>Posterior ROI</h2>", html_table(estimates_frame(rows))]
    if r.prob_roi_above_hurdle is not None:
        parts.append(
            f"<p>P(ROI &gt; {r.hurdle_roi:.0%}) = <b>{r.prob_roi_above_hurdle:.3f}</b> "
            f"(margin {r.margin_rate:g}, cost {r.cost:,.2f})</p>"
        )
    return parts


def _checks_html(result: Result) -> list[str]:
    if not result.checks:
        return []
    rows = []
    for k, c in enumerate(result.checks, start=1):
        verdict = "pass" if c.passed else ("FAIL" if c.gating else "warn")
        css = "ok" if c.passed else "fail"
        step = f"<br><i>next step: {html.escape(c.next_step)}</i>" if c.next_step and not c.passed else ""
        rows.append(
            f"<tr id='check-{k}'><td>{k}</td><td>{html.escape(c.name)}</td><td>{'yes' if c.gating else 'no'}</td>"
            f"<td class='{css}'>{verdict}</td><td style='text-align:left;white-space:normal'>"
            f"{html.escape(c.detail)}{step}</td></tr>"
        )
    head = "<tr><th>#</th><th>check</th><th>gating</th><th>verdict</th><th>detail</th></tr>"
    note = "<p class='muted'>A failed <b>gating</b> check makes the verdict inconclusive; the others inform.</p>"
    return ["<h2>Checks</h2>", note, f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"]


def _diagnostics_html(result: Result, figures) -> list[str]:
    d = result.diagnostics
    verdict = "<span class='ok'>passed</span>" if d.passed else "<span class='fail'>FAILED</span>"
    parts = [
        "<h2 id='diagnostics'>Diagnostics</h2>",
        f"<p>Verdict: {verdict} (thresholds: R-hat ≤ {d.thresholds.max_rhat}, ESS ≥ "
        f"{d.thresholds.min_ess:.0f}, divergences ≤ {d.thresholds.max_divergences})</p>",
        html_table(_diagnostics_frame(result)),
    ]
    if len(d.table):
        parts.append(
            "<details><summary>Per-parameter R-hat and ESS</summary>" + html_table(d.table, index=False) + "</details>"
        )
    parts += [_img(f.title, png) for f, png in figures if f.role == "diagnostics"]
    return parts


def render_html(result: Result, figures: list, spec_text: str | None) -> str:
    """`figures`: (Figure, png bytes) pairs, placed by their role."""
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(result.title)}</title>"
        f"<style>{CSS}</style></head><body>",
        f"<h1>{html.escape(result.title)}</h1>",
        *_verdict_html(result),
        *_roi_html(result),
    ]
    parts += [_img(f.title, png) for f, png in figures if f.role == "decision"]
    parts.append("<h2>Estimates</h2>")
    parts.append(html_table(estimates_frame(result.estimates)))
    if result.estimates:
        hdi = next(iter(result.estimates.values())).hdi_prob
        parts.append(
            f"<p class='muted'>mean, median, sd and the {hdi:.0%} highest-density interval of each quantity; "
            "prob_positive = P(quantity &gt; 0).</p>"
        )
    parts += [f"<h2>{html.escape(f.title)}</h2>" + _img(f.title, png) for f, png in figures if f.role == "evidence"]
    for name, table in result.tables.items():
        parts.append(f"<h2>Table: {html.escape(name)}</h2>" + html_table(table, index=not _plain_index(table)))
    parts += _checks_html(result) + _diagnostics_html(result, figures)
    if result.notes:
        parts.append(
            "<h2>Method notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in result.notes) + "</ul>"
        )
    if spec_text:
        parts.append("<h2>Analysis spec</h2><pre>" + html.escape(spec_text) + "</pre>")
    inputs = {k: v for k, v in result.inputs.items() if k != "queries"}  # SQL reads better as SQL, below
    prov = {"inputs": inputs, "timings (s)": result.timings}
    parts.append(
        "<h2>Data provenance and versions</h2><pre>" + html.escape(json.dumps(prov, indent=2, default=str)) + "</pre>"
    )
    if queries := result.inputs.get("queries"):
        engine = html.escape(str(result.inputs.get("engine")))
        parts.append(f"<h2>Queries {engine} ran</h2>" + "".join(f"<pre>{html.escape(q)}</pre>" for q in queries))
    parts.append("</body></html>")
    return "\n".join(parts)


def _plain_index(table: pd.DataFrame) -> bool:
    return isinstance(table.index, pd.RangeIndex)


def _img(name: str, png: bytes) -> str:
    data = base64.b64encode(png).decode()
    return f"<figure><img alt='{html.escape(name)}' src='data:image/png;base64,{data}'></figure>"


def render_markdown(result: Result, figure_files: dict[str, str], spec_text: str | None) -> str:
    d, decision = result.diagnostics, result.decision
    lines = [f"# {result.title}", ""]
    if decision.verdict == "inconclusive":
        head = "NOT CONVERGED — do not act on this result" if not d.passed else VERDICT_TEXT["inconclusive"]
        lines += [f"> **{head}.**", ">"]
        lines += [f"> - {b['name']}: {b['detail']}" for b in decision.blocking]
        if decision.next_step:
            lines += [">", f"> **Next step:** {decision.next_step.text}"]
        lines.append("")
    lines += [f"**Verdict: {VERDICT_TEXT[decision.verdict]}** — {decision.action}: {decision.reason}", ""]
    if result.roi is not None and result.roi.prob_roi_above_hurdle is not None:
        lines += [f"P(ROI > {result.roi.hurdle_roi:.0%}) = {result.roi.prob_roi_above_hurdle:.3f}", ""]
    lines += ["## Estimates", "", md_table(estimates_frame(result.estimates)), ""]
    for name, table in result.tables.items():
        lines += [f"## {name}", "", md_table(table, index=not _plain_index(table)), ""]
    if result.checks:
        lines += ["## Checks", "", md_table(_checks_frame(result)), ""]
    lines += ["## Diagnostics", "", "passed" if d.passed else "FAILED: " + "; ".join(d.problems), ""]
    lines += [md_table(_diagnostics_frame(result)), ""]
    lines += [f"![{name}]({path})" for name, path in figure_files.items()] + [""]
    lines += [f"- {n}" for n in result.notes]
    if spec_text:
        lines += ["", "## Spec", "", "```toml", spec_text.rstrip(), "```"]
    return "\n".join(lines) + "\n"


def _anchor(blocking: dict) -> str:
    """Where the banner links: the failed check, the diagnostics, or the decision's criteria."""
    return {"diagnostics": "diagnostics", "check": f"check-{blocking.get('number')}"}.get(blocking["kind"], "decision")


def _blocking_label(blocking: dict) -> str:
    if blocking["kind"] == "check":
        return f"check {blocking['number']}: {blocking['name']}"
    return blocking["name"]
