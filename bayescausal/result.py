"""The one result type every family returns.

Diagnostics, ROI, the CLI's `--json` and the reports read only this object, so none of them needs
to know which family made it. The summary JSON layout (`to_json`) is a public contract. Families fill
in what they computed; the runner (`bayescausal.runner.finalise`) stamps provenance, timings and the
verdict, so those keys are the same for every family.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import xarray as xr

from bayescausal.diagnostics import Diagnostics
from bayescausal.errors import ConvergenceError
from bayescausal.estimates import Estimate
from bayescausal.roi import Decision, RoiSummary

Role = Literal["decision", "evidence", "diagnostics"]


@dataclass
class Check:
    """A family-specific validity check (pre-trends, PPC, placebo, SRM, ...) with its verdict.

    `gating`: a failure invalidates the causal claim, so the verdict becomes `inconclusive`; otherwise
    the check only informs. `next_step` says what would settle a failure."""

    name: str
    passed: bool
    detail: str
    values: dict[str, Any] = field(default_factory=dict)
    gating: bool = False
    next_step: str | None = None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "passed": self.passed,
            "gating": self.gating,
            "detail": self.detail,
            "values": self.values,
            "next_step": self.next_step,
        }


@dataclass(frozen=True)
class Figure:
    """A figure built on demand; its role places it in the report (decision first, diagnostics last)."""

    title: str
    make: Callable[[], Any]
    role: Role = "evidence"


@dataclass(frozen=True)
class LiftTest:
    """A lift measurement that a marketing-mix model can calibrate against; the same keys in every family.

    The effect is per exposure unit-period (a user for an A/B test, a treated household-week for DiD, a
    customer for a causal forest); `exposure` counts them, and the total is their product, draw by draw."""

    effect_per_unit_period: float
    sd: float
    exposure: float
    exposure_unit: str
    incremental_total: float
    incremental_total_sd: float
    label: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Source:
    """Where the data came from: a description, a content fingerprint and the row count."""

    description: str
    fingerprint: str | None = None
    rows: int | None = None  # rows read (for an engine: rows its queries scanned)
    engine: str | None = None  # where the statistics were computed (duckdb, spark, ...), when not in memory
    queries: tuple[str, ...] = ()  # the engine's queries, as it ran them


@dataclass(repr=False)
class Result:
    kind: str
    title: str
    decision: Decision
    estimates: dict[str, Estimate]
    diagnostics: Diagnostics
    checks: list[Check] = field(default_factory=list)
    roi: RoiSummary | None = None
    posterior: xr.DataTree | None = None  # everything saved to posterior.nc
    sampled: xr.DataTree | None = None  # the MCMC output behind `diagnostics`, for trace/rank/energy plots
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    row_outputs: dict[str, pd.DataFrame] = field(default_factory=dict)  # per-row CSVs beside the report
    artifacts: dict[str, bytes] = field(default_factory=dict)  # other files in the report folder (relative path)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    lift_test: LiftTest | None = None
    inputs: dict[str, Any] = field(default_factory=dict)  # the family's own facts; provenance is stamped
    timings: dict[str, Any] = field(default_factory=dict)  # load_s, analyze_s, total_s (+ the family's stages)

    def __post_init__(self) -> None:
        _require_no_contract_keys(self.extra)

    @property
    def converged(self) -> bool:
        return self.diagnostics.passed

    @property
    def verdict(self) -> str:
        return self.decision.verdict

    def raise_if_unconverged(self) -> Result:
        """For scripts that must not act on an unconverged fit: raise ConvergenceError, else return self."""
        if not self.diagnostics.passed:
            raise ConvergenceError(f"{self.title}: " + "; ".join(self.diagnostics.problems))
        return self

    def to_json(self) -> dict[str, Any]:
        """The machine-readable summary (stable contract: changing it is a breaking change)."""
        out = {
            "kind": self.kind,
            "title": self.title,
            "decision": self.decision.to_dict(),
            "estimates": {k: v.to_dict() for k, v in self.estimates.items()},
            "diagnostics": self.diagnostics.to_dict(),
            "checks": [c.to_dict() for c in self.checks],
            "roi": self.roi.to_dict() if self.roi else None,
            "lift_test": self.lift_test.to_dict() if self.lift_test else None,
            "notes": list(self.notes),
            "inputs": dict(self.inputs),
            "versions": versions(),
            "timings": dict(self.timings),
        }
        _require_no_contract_keys(self.extra)
        out.update(self.extra)
        return out

    def __repr__(self) -> str:
        """One line a notebook or a log can hold (the posterior is in `.posterior`, the rest in `summary()`)."""
        failed = sum(not c.passed for c in self.checks)
        return (
            f"<Result {self.kind}: {self.decision.verdict.upper()} ({self.decision.action}); "
            f"{len(self.estimates)} estimates, {len(self.checks)} checks ({failed} not passed), diagnostics "
            f"{'passed' if self.diagnostics.passed else 'FAILED'}>"
        )

    def _repr_html_(self) -> str:
        """What a notebook shows: the verdict and why, the estimates, and the checks (not the posterior)."""
        import html

        d = self.decision
        checks = pd.DataFrame(
            [{"check": c.name, "gating": c.gating, "result": _check_mark(c), "detail": c.detail} for c in self.checks]
        )
        parts = [
            f"<h4>{html.escape(self.title)}</h4>",
            f"<p><b>{html.escape(d.verdict.upper())}</b>: {html.escape(d.action)}<br>"
            f"because {html.escape(d.reason)}</p>",
        ]
        if self.estimates:
            parts.append(estimates_frame(self.estimates).to_html(float_format=lambda v: f"{v:.4g}"))
        if len(checks):
            parts.append(checks.to_html(index=False))
        diagnostics = "passed" if self.diagnostics.passed else "FAILED: " + "; ".join(self.diagnostics.problems)
        parts.append(f"<p>Diagnostics ({html.escape(self.diagnostics.method)}): {html.escape(diagnostics)}</p>")
        return "\n".join(parts)

    def summary(self) -> str:
        """A plain-text summary: verdict first, then estimates, checks and the diagnostics verdict."""
        lines = [self.title, "=" * len(self.title)]
        if not self.diagnostics.passed:
            lines.append("!! NOT CONVERGED: " + "; ".join(self.diagnostics.problems))
        d = self.decision
        lines += [f"Verdict: {d.verdict.upper()}", f"Decision: {d.action}", f"  because {d.reason}"]
        if d.monte_carlo_text():
            lines.append(f"  {d.monte_carlo_text()}")
        for b in d.blocking:
            lines.append(f"  blocked by {b['name']}: {b['detail']}")
        if d.next_step is not None:
            lines.append(f"  next step: {d.next_step.text}")
        lines.append("")
        if self.estimates:
            lines.append(estimates_frame(self.estimates).to_string(float_format=lambda v: f"{v:.4g}"))
        if self.roi is not None:
            r = self.roi.incremental_profit
            lines.append(f"\nIncremental profit: mean {r.mean:.4g}, {r.hdi_prob:.0%} HDI {r.interval_text()}")
            if self.roi.prob_roi_above_hurdle is not None:
                lines.append(f"P(ROI > {self.roi.hurdle_roi:.0%}) = {self.roi.prob_roi_above_hurdle:.3f}")
        for check in self.checks:
            mark = _check_mark(check)
            lines.append(f"[{mark}] {check.name}{' (gating)' if check.gating else ''}: {check.detail}")
        lines.append(f"Diagnostics ({self.diagnostics.method}): {'passed' if self.diagnostics.passed else 'FAILED'}")
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def all_figures(self) -> list[Figure]:
        """The family's figures and the standard ones (money posterior, MCMC diagnostics)."""
        from bayescausal.figures import standard_figures

        return standard_figures(self) + list(self.figures)

    def plot(self) -> dict[str, Any]:
        """Build every figure of this result (the same ones the report embeds), by title."""
        return {f.title: f.make() for f in self.all_figures()}

    def exit_code(self, *, allow_unconverged: bool = False) -> int:
        """The CLI's exit code for this result (3 not converged, 6 a gating check failed, else 0), for scripts."""
        from bayescausal.verdict import exit_code

        return exit_code(self, allow_unconverged=allow_unconverged)

    def write_report(self, out_dir: str | Path, *, force: bool = False) -> Path:
        """Write the HTML report, summary.json and posterior.nc to `out_dir` (atomically; see report.writer)."""
        from bayescausal.report import write_report

        return write_report(self, out_dir, force=force)


@dataclass
class Parts:
    """What an analysis accumulates stage by stage (fit, estimates, checks, money), assembled once into
    a Result by `result(...)`, so no family spells out the whole keyword list by hand."""

    estimates: dict[str, Estimate] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    row_outputs: dict[str, pd.DataFrame] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)

    def figure(self, title: str, make: Callable[[], Any], role: Role = "evidence") -> None:
        self.figures.append(Figure(title, make, role))

    def result(self, kind: str, title: str, decision: Decision, diagnostics: Diagnostics, **rest: Any) -> Result:
        """The Result: these parts plus the decision (under its checks: bayescausal.verdict.gate), diagnostics and
        any of roi, posterior, sampled, lift_test."""
        from bayescausal.verdict import gate

        decision = gate(decision, self.checks, diagnostics)
        return Result(
            kind=kind,
            title=title,
            decision=decision,
            diagnostics=diagnostics,
            estimates=self.estimates,
            checks=self.checks,
            tables=self.tables,
            figures=self.figures,
            notes=self.notes,
            extra=self.extra,
            inputs=self.inputs,
            timings=self.timings,
            row_outputs=self.row_outputs,
            artifacts=self.artifacts,
            **rest,
        )


CONTRACT_KEYS = frozenset(
    {"kind", "title", "decision", "estimates", "diagnostics", "checks", "roi", "lift_test", "notes", "inputs"}
    | {"versions", "timings"}
)


def _require_no_contract_keys(extra: dict[str, Any]) -> None:
    """A family's extra keys sit beside the contract's in summary.json; one that shares a contract key's name
    would silently replace it, so it is refused where the result is built (a programming error, not data)."""
    if clash := sorted(CONTRACT_KEYS & set(extra)):
        raise ValueError(f"Result.extra must not use the summary contract's keys {clash}; rename them")


def _check_mark(check: Check) -> str:
    return "ok" if check.passed else ("FAIL" if check.gating else "warn")


def estimates_frame(estimates: dict[str, Estimate]) -> pd.DataFrame:
    """One row per estimate; a mean or sd the posterior does not have reads 'undefined', not nan."""
    cols = ["mean", "median", "sd", "hdi_low", "hdi_high", "prob_positive"]

    def cell(v: Estimate, c: str):
        value = getattr(v, c)
        return "undefined" if c in ("mean", "sd") and value != value else value

    return pd.DataFrame({k: {c: cell(v, c) for c in cols} for k, v in estimates.items()}).T


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("bayescausal", "pymc", "arviz", "numpy", "scipy", "pandas", "xarray", "nutpie"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out
