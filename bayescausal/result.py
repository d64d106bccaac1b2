"""The one result type every family returns.

Diagnostics, ROI, the CLI's `--json` and the reports read only this object, so none of them needs
to know which family made it. The summary JSON layout (`to_json`) is a public contract.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pandas as pd
import xarray as xr

from bayescausal.diagnostics import Diagnostics
from bayescausal.errors import ConvergenceError
from bayescausal.estimates import Estimate
from bayescausal.roi import Decision, RoiSummary


@dataclass
class Check:
    """A family-specific validity check (pre-trends, PPC, placebo, SRM, ...) with its verdict."""

    name: str
    passed: bool
    detail: str
    values: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"name": self.name, "passed": self.passed, "detail": self.detail, "values": self.values}


Figure = Callable[[], Any]  # builds a matplotlib Figure on demand (reports, `plot()`)


@dataclass
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
    figures: dict[str, Figure] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def converged(self) -> bool:
        return self.diagnostics.passed

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
            "notes": list(self.notes),
            "inputs": dict(self.inputs),
            "versions": versions(),
            "timings": dict(self.timings),
        }
        out.update(self.extra)
        return out

    def summary(self) -> str:
        """A plain-text summary: decision first, then estimates and the diagnostics verdict."""
        lines = [self.title, "=" * len(self.title)]
        if not self.diagnostics.passed:
            lines.append("!! NOT CONVERGED: " + "; ".join(self.diagnostics.problems))
        lines += [f"Decision: {self.decision.action}", f"  because {self.decision.reason}", ""]
        if self.estimates:
            lines.append(estimates_frame(self.estimates).to_string(float_format=lambda v: f"{v:.4g}"))
        if self.roi is not None:
            r = self.roi.incremental_profit
            lines.append(f"\nIncremental profit: mean {r.mean:.4g}, {r.hdi_prob:.0%} HDI {r.interval_text()}")
            if self.roi.prob_roi_above_hurdle is not None:
                lines.append(f"P(ROI > {self.roi.hurdle_roi:.0%}) = {self.roi.prob_roi_above_hurdle:.3f}")
        for check in self.checks:
            lines.append(f"[{'ok' if check.passed else 'FAIL'}] {check.name}: {check.detail}")
        lines.append(f"Diagnostics ({self.diagnostics.method}): {'passed' if self.diagnostics.passed else 'FAILED'}")
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def plot(self) -> dict[str, Any]:
        """Build every figure of this result (the same ones the report embeds)."""
        from bayescausal.report.figures import standard_figures

        return {name: make() for name, make in (standard_figures(self) | self.figures).items()}


def estimates_frame(estimates: dict[str, Estimate]) -> pd.DataFrame:
    cols = ["mean", "median", "sd", "hdi_low", "hdi_high", "prob_positive"]
    return pd.DataFrame({k: {c: getattr(v, c) for c in cols} for k, v in estimates.items()}).T


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("bayescausal", "pymc", "arviz", "numpy", "scipy", "pandas", "xarray", "nutpie"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out
