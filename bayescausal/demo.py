"""`bayescausal demo`: every registered family's demo specs, end to end on shipped data, one index page.

The analyses are the spec files each family names in its declaration (`Family.demo`), read from the
repository's `models/` folder.
"""

from __future__ import annotations

from pathlib import Path

from bayescausal import family as registry
from bayescausal.errors import SpecError
from bayescausal.report import write_index, write_report
from bayescausal.report.writer import require_replaceable
from bayescausal.runner import Progress, run
from bayescausal.spec import load_spec

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


def demo_specs() -> list[Path]:
    """The spec files of every family's demo, in registry order."""
    return [MODELS_DIR / name for family in registry.families().values() for name in family.demo]


def run_demo(out: Path, *, force: bool = False, progress: Progress = print) -> Path:
    require_replaceable(out, force)
    if not MODELS_DIR.is_dir():
        raise SpecError(f"the demo runs the specs in {MODELS_DIR}, which is missing: run it from a checkout")
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for path in demo_specs():
        spec = load_spec(path)
        progress(f"demo: {spec.name} ({spec.kind} {spec.command or ''})".replace(" )", ")"))
        result = run(spec, progress=progress)
        write_report(result, out / spec.name, force=True, spec_text=spec.source_text)
        entries.append(
            {
                "name": result.title,
                "path": spec.name,
                "verdict": result.decision.verdict,
                "decision": result.decision.action,
                "passed": result.diagnostics.passed,
            }
        )
        progress(f"{spec.name}: {result.decision.verdict} ({result.decision.action})")
    return write_index(out, entries)
