"""`bayescausal demo`: every family that exists, end to end on shipped data, one index page.

The analyses are the specs in the repository's `models/` folder that use shipped datasets, plus the
A/B sequential check and its operating characteristics.
"""

from __future__ import annotations

from pathlib import Path

from bayescausal.errors import ReportExistsError, SpecError
from bayescausal.report import write_index, write_report
from bayescausal.runner import Progress, ab_data, load_frame, run_spec
from bayescausal.spec import load_spec, parse_spec

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
DEMO_SPECS = [
    "ab_checkout.toml",
    "did_campaign18.toml",
    "did_all_campaigns.toml",
    "bcf_discount.toml",
    "mmm_simulated.toml",
]


def run_demo(out: Path, *, force: bool = False, progress: Progress = print) -> Path:
    from bayescausal.ab.results import check_result, simulation_result
    from bayescausal.ab.sequential import StoppingRule

    if out.exists() and not force:
        raise ReportExistsError(f"{out} already exists; pass --force to replace the demo reports")
    if not MODELS_DIR.is_dir():
        raise SpecError(f"the demo runs the specs in {MODELS_DIR}, which is missing: run it from a checkout")
    out.mkdir(parents=True, exist_ok=True)
    entries = []

    def publish(name: str, result, spec_text=None):
        write_report(result, out / name, force=True, spec_text=spec_text)
        entries.append(
            {
                "name": result.title,
                "path": name,
                "decision": result.decision.action,
                "passed": result.diagnostics.passed,
            }
        )
        progress(f"{name}: {result.decision.action}")

    for file in DEMO_SPECS:
        spec = load_spec(MODELS_DIR / file)
        progress(f"demo: {spec.name} ({spec.kind})")
        publish(spec.name, run_spec(spec, progress=progress), spec.source_text)

    progress("demo: sequential A/B check on the daily cumulative counts")
    daily_spec = parse_spec({"kind": "ab", "name": "daily", "data": {"dataset": "simulated-ab-daily"}})
    frame, inputs = load_frame(daily_spec)
    publish("ab_daily_check", check_result(ab_data(daily_spec, frame), StoppingRule(), inputs=inputs))

    progress("demo: operating characteristics of the stopping rule (simulated experiments)")
    publish(
        "ab_operating_characteristics",
        simulation_result(
            baseline=0.04,
            lifts=[-0.05, 0.0, 0.05, 0.1],
            daily_visitors=1500,
            max_days=21,
            rule=StoppingRule(),
            n_sims=300,
            seed=7,
        ),
    )
    return write_index(out, entries)
