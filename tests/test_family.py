"""A fifth family plugs in through the registry alone: spec validation, the runner, the CLI, the API and the
report all work for it without a line of the spine knowing its name."""

import json
from dataclasses import dataclass

import numpy as np
import pytest

from bayescausal import diagnostics as diag
from bayescausal import family as registry
from bayescausal.api import entry_point, stem
from bayescausal.cli import build_parser, main
from bayescausal.data.source import read_source
from bayescausal.errors import SpecError
from bayescausal.estimates import from_draws
from bayescausal.options import option
from bayescausal.result import Check, Parts
from bayescausal.roi import decide_from_draws
from bayescausal.runner import run
from bayescausal.spec import parse_spec


@dataclass(frozen=True)
class ToyOptions:
    column: str = option("y", "the column whose mean is estimated")
    prior_sd: float = option(10.0, "prior sd of the mean")
    min_rows: int = option(3, "fewer rows make the gating check fail")
    seed: int = option(0, "random seed", section="sampler")


@dataclass(frozen=True)
class ToyInputs:
    data: str | None = option(None, "CSV file", section="data")

    def name(self) -> str:
        return stem(self.data)

    def sections(self, typed: dict) -> dict:
        return {"data": {"path": self.data}}


def _load(spec, options, *, frame=None, progress=None):
    return read_source(spec, frame)


def _analyze(frame, options: ToyOptions, *, progress=None):
    """Known sd 1: the posterior of the mean is normal, sampled exactly."""
    y = frame[options.column].to_numpy(float)
    precision = 1 / options.prior_sd**2 + len(y)
    draws = np.random.default_rng(options.seed).normal(y.sum() / precision, precision**-0.5, 4000)
    parts = Parts()
    parts.estimates["mean"] = from_draws(draws, method="monte-carlo")
    parts.checks.append(
        Check("enough rows", len(y) >= options.min_rows, f"{len(y)} rows", gating=True, next_step="collect more rows")
    )
    decision = decide_from_draws(draws, _rule(), ship_label="raise it")
    return parts.result("toy", "Toy mean", decision, diag.exact())


def _rule():
    from bayescausal.roi import DecisionRule

    return DecisionRule(threshold_of_caring=0.01)


TOY = registry.Family(
    kind="toy",
    help="a toy family",
    description="Estimates one mean.",
    commands=(
        registry.Command(
            "fit",
            "fit the mean",
            "bayescausal toy fit --data y.csv",
            ToyOptions,
            _analyze,
            load=_load,
            inputs=ToyInputs,
            samples=False,
        ),
    ),
)


@pytest.fixture
def toy(tmp_path):
    registry.register(TOY)
    path = tmp_path / "y.csv"
    path.write_text("y\n1.2\n0.8\n1.1\n0.9\n")
    yield path
    registry.unregister("toy")


def test_toy_family_through_spec_runner_cli_api_and_report(toy, tmp_path, capsys):
    spec = parse_spec({"kind": "toy", "name": "t", "data": {"path": str(toy)}, "model": {"prior_sd": 5.0}})
    result = run(spec)
    exact = 4.0 / (4 + 1 / 25)  # posterior mean under the N(0, 5^2) prior and unit noise
    assert result.decision.verdict == "act" and result.estimates["mean"].mean == pytest.approx(exact, abs=0.03)
    assert result.inputs["seed"] == 0 and result.inputs["spec_hash"] == spec.hash and result.inputs["rows"] == 4
    with pytest.raises(
        SpecError, match="unknown key 'colour' in \\[model\\]; allowed keys: column, min_rows, prior_sd"
    ):
        parse_spec({"kind": "toy", "name": "t", "data": {"path": str(toy)}, "model": {"colour": 1}})
    out = tmp_path / "rep"
    assert main(["toy", "fit", "--data", str(toy), "--prior-sd", "5", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["kind"] == "toy" and summary["decision"]["verdict"] == "act"
    assert (out / "index.html").exists() and "Verdict: <b>ACT</b>" in (out / "index.html").read_text()
    assert main(["toy", "fit", "--data", str(toy), "--min-rows", "10", "--no-report"]) == 6  # the gating check
    assert "INCONCLUSIVE" in capsys.readouterr().err
    fit = entry_point(TOY, "fit")
    assert fit(str(toy), prior_sd=5.0).estimates["mean"].mean == result.estimates["mean"].mean
    assert "prior_sd = 10.0: prior sd of the mean" in fit.__doc__


def test_the_spine_names_no_family():
    """cli, runner, spec, demo, result and report never mention a family: they read the registry."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "bayescausal"
    files = [root / f for f in ("cli.py", "runner.py", "spec.py", "demo.py", "result.py", "verdict.py")]
    files += sorted((root / "report").glob("*.py"))
    for path in files:
        text = path.read_text()
        for name in ("bayescausal.ab", "bayescausal.did", "bayescausal.bcf", "bayescausal.mmm", '"ab"', '"did"'):
            assert name not in text, f"{path.name} names {name}"


def test_no_function_in_the_package_is_long():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "bayescausal"
    long = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > 80:
                long.append(f"{path.relative_to(root)}:{node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert not long, long


def test_options_cannot_be_abbreviated(capsys):
    """argparse's prefix matching would take --predict-ou for --predict-out: refused, not guessed."""
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["bcf", "fit", "--data", "x.csv", "--predict-ou", "p.csv"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --predict-ou" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["ab", "analyze", "x.csv", "--seg", "none"])
