"""Analysis specs: small TOML files in `models/` that name the data, model, sampler, business inputs
and output of one analysis. Parsed strictly: an unknown key or a wrong type is an error naming it.

    kind = "ab"                      # ab | did | mmm | bcf (families register their model keys)
    name = "checkout_button"         # report folder name under reports/ unless [output] dir is set
    [data]     path = "data.csv" | dataset = "simulated-ab";  format = "aggregated" | "events"
    [columns]  canonical = "your column"   (e.g. arm = "variant")
    [model]    family options (e.g. control, prior_alpha, segments)
    [sampler]  draws, tune, chains, seed, sampler ("nutpie" | "pymc"), target_accept
    [business] margin_rate, cost, hurdle_roi, min_prob_positive, min_prob_roi, threshold, ...
    [output]   dir
    [diagnostics] max_rhat (1.01), min_ess (400), max_divergences (0), min_bfmi (0.3)
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bayescausal.errors import SpecError

NUMBER = (int, float)
KINDS = ("ab", "did", "mmm", "bcf")

SECTIONS: dict[str, dict[str, Any]] = {
    "data": {"path": str, "dataset": str, "format": str},
    "columns": {},  # free mapping canonical -> user column (str values), checked below
    "sampler": {"draws": int, "tune": int, "chains": int, "seed": int, "sampler": str, "target_accept": NUMBER},
    "business": {
        "margin_rate": NUMBER,
        "cost": NUMBER,
        "hurdle_roi": NUMBER,
        "min_prob_positive": NUMBER,
        "min_prob_roi": NUMBER,
        "threshold": NUMBER,
        "threshold_relative": bool,
        "traffic": NUMBER,
        "value_per_conversion": NUMBER,
        "cost_per_treated": NUMBER,
        "min_prob_profit": NUMBER,
    },
    "output": {"dir": str},
    "diagnostics": {"max_rhat": NUMBER, "min_ess": NUMBER, "max_divergences": int, "min_bfmi": NUMBER},
}
# model keys per kind; families that have not landed yet accept no spec
MODEL_KEYS: dict[str, dict[str, Any]] = {
    "ab": {
        "control": str,
        "prior_alpha": NUMBER,
        "prior_beta": NUMBER,
        "metric": str,
        "segments": str,
        "allocation": list,
        "monte_carlo_draws": int,
        "monte_carlo_check": bool,
        "hdi_prob": NUMBER,
    },
}
MODEL_KEYS["did"] = {
    "campaign": int,
    "all_campaigns": bool,
    "pre_weeks": int,
    "outcome": str,
    "likelihood": str,
    "pre_periods": int,
    "leads": int,
    "lead_tolerance": NUMBER,
    "mailer_cost_per_household": NUMBER,
    "refutations": bool,
}
MODEL_KEYS["bcf"] = {
    "outcome": str,
    "treatment": str,
    "covariates": list,
    "treated_value": (str, int),
    "control_value": (str, int),
    "id": str,
    "propensity_column": str,
    "cost_column": str,
    "backend": str,
    "likelihood": str,
    "randomised": bool,
    "segments": list,
    "heuristic": str,
    "holdout": NUMBER,
    "trim": list,
    "placebo": bool,
    "tree_depth": int,
    "gfr": int,
    "prognostic_trees": int,
    "effect_trees": int,
    "campaign": int,
    "pre_weeks": int,
}
MODEL_KEYS["mmm"] = {
    "channels": list,
    "controls": list,
    "group": str,
    "groups": list,
    "spread": str,
    "l_max": int,
    "yearly_seasonality": int,
    "pooled": bool,
    "holdout_weeks": int,
    "plan_weeks": int,
    "budget_bounds": list,
    "total_budget": NUMBER,
    "spread_sensitivity": bool,
    "identifiability": bool,
    "lift_tests": list,
}
TOP = {"kind": str, "name": str, "title": str, **{s: dict for s in SECTIONS}, "model": dict}


@dataclass(frozen=True)
class Spec:
    kind: str
    name: str
    title: str | None = None
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
            for k in ("kind", "name", "title", "data", "columns", "model", "sampler", "business", "output")
        }

    @property
    def hash(self) -> str:
        """Content hash of the parsed spec (formatting and comments do not change it)."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def out_dir(self) -> Path:
        return Path(self.output.get("dir", f"reports/{self.name}"))

    def data_path(self) -> Path | None:
        """The data path (relative paths are relative to where the command runs, like `[output].dir`)."""
        return Path(self.data["path"]) if "path" in self.data else None


def _type_name(t) -> str:
    if t is NUMBER:
        return "number"
    if isinstance(t, tuple):
        return " or ".join(x.__name__ for x in t)
    return t.__name__


def _check_type(where: str, value: Any, expected) -> None:
    ok = isinstance(value, expected) and not (expected in (int, NUMBER) and isinstance(value, bool))
    if not ok:
        raise SpecError(f"{where}: expected {_type_name(expected)}, got {type(value).__name__} ({value!r})")


def _check_keys(where: str, table: dict, allowed: dict) -> None:
    for key, value in table.items():
        if key not in allowed:
            raise SpecError(f"unknown key '{key}' in {where}; allowed keys: {', '.join(sorted(allowed)) or 'none'}")
        _check_type(f"{where}.{key}", value, allowed[key])


def parse_spec(raw: dict, *, source_text: str | None = None) -> Spec:
    """Validate a parsed TOML table and build a Spec."""
    _check_keys("the spec", raw, TOP)
    for required in ("kind", "name"):
        if required not in raw:
            raise SpecError(f'the spec needs a top-level \'{required}\' (e.g. kind = "ab", name = "my_test")')
    kind = raw["kind"]
    if kind not in KINDS:
        raise SpecError(f"kind '{kind}' is not one of {', '.join(KINDS)}")
    if kind not in MODEL_KEYS:
        raise SpecError(f"kind '{kind}' has no runnable specs in this version (available: {', '.join(MODEL_KEYS)})")
    for section, allowed in SECTIONS.items():
        table = raw.get(section, {})
        if section == "columns":
            for key, value in table.items():
                _check_type(f"[columns].{key}", value, str)
        else:
            _check_keys(f"[{section}]", table, allowed)
    _check_keys("[model]", raw.get("model", {}), MODEL_KEYS[kind])
    data = raw.get("data", {})
    if ("path" in data) == ("dataset" in data):
        raise SpecError("[data] needs exactly one of 'path' (a CSV/Parquet file) or 'dataset' (a shipped dataset)")
    formats = ("aggregated", "events", "complete-journey-kaggle", "dtmart")
    if data.get("format", "aggregated") not in formats:
        raise SpecError(f"[data].format must be one of {', '.join(formats)}, got '{data['format']}'")
    return Spec(
        kind=kind,
        name=raw["name"],
        title=raw.get("title"),
        data=data,
        columns=raw.get("columns", {}),
        model=raw.get("model", {}),
        sampler=raw.get("sampler", {}),
        business=raw.get("business", {}),
        output=raw.get("output", {}),
        diagnostics=raw.get("diagnostics", {}),
        source_text=source_text,
    )


def load_spec(path: str | Path) -> Spec:
    path = Path(path)
    if not path.exists():
        raise SpecError(f"spec file not found: {path}")
    text = path.read_text()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path} is not valid TOML: {exc}") from exc
    return parse_spec(raw, source_text=text)
