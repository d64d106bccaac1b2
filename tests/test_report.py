"""Reports are written atomically, never overwrite silently, and the posterior survives a round trip."""

import json

import numpy as np
import pandas as pd
import pytest

from bayescausal.ab.analysis import ABOptions, analyze
from bayescausal.ab.data import validate_aggregated
from bayescausal.errors import ConvergenceError, ReportExistsError
from bayescausal.report import writer
from bayescausal.report.writer import read_posterior, write_report


@pytest.fixture(scope="module")
def result():
    df = validate_aggregated(
        pd.DataFrame(
            {
                "arm": ["A", "B"],
                "visitors": [5000, 5000],
                "conversions": [250, 300],
                "revenue": [10_000.0, 12_500.0],
                "revenue_sq": [800_000.0, 1_000_000.0],
                "purchasers": [250, 300],
            }
        )
    )
    return analyze(df, ABOptions(monte_carlo_draws=4000))


def test_report_contents(tmp_path, result):
    out = write_report(result, tmp_path / "r", spec_text="kind = 'ab'")
    assert {p.name for p in out.iterdir()} == {"index.html", "report.md", "summary.json", "posterior.nc", "figures"}
    page = (out / "index.html").read_text()
    assert "Decision:" in page and "data:image/png;base64," in page and "NOT CONVERGED" not in page
    assert "src='figures" not in page  # self-contained: no external files needed offline
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kind"] == "ab" and summary["decision"]["action"]
    assert "report" not in summary["inputs"]


def test_round_trip_of_the_posterior(tmp_path, result):
    out = write_report(result, tmp_path / "r")
    tree = read_posterior(out / "posterior.nc")
    np.testing.assert_array_equal(tree["posterior"]["rate"].values, result.posterior["posterior"]["rate"].values)
    assert list(tree["posterior"]["arm"].values) == ["A", "B"]


def test_existing_report_is_not_overwritten_without_force(tmp_path, result):
    out = tmp_path / "r"
    out.mkdir()
    (out / "mine.txt").write_text("user results")
    with pytest.raises(ReportExistsError, match="--force"):
        write_report(result, out)
    assert (out / "mine.txt").read_text() == "user results"
    write_report(result, out, force=True)
    assert not (out / "mine.txt").exists() and (out / "index.html").exists()


def test_failure_mid_write_leaves_nothing_behind(tmp_path, result, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer, "render_html", boom)
    with pytest.raises(RuntimeError):
        write_report(result, tmp_path / "r")
    assert list(tmp_path.iterdir()) == []  # no partial folder, no temporary folder
    # an existing report survives a failed --force rewrite untouched
    monkeypatch.undo()
    write_report(result, tmp_path / "r")
    before = (tmp_path / "r" / "summary.json").read_text()
    monkeypatch.setattr(writer, "render_html", boom)
    with pytest.raises(RuntimeError):
        write_report(result, tmp_path / "r", force=True)
    assert (tmp_path / "r" / "summary.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_unconverged_result_gets_the_banner(tmp_path, result):
    result.diagnostics.passed = False
    result.diagnostics.problems = ["max R-hat 1.2 > 1.01"]
    try:
        page = (write_report(result, tmp_path / "r") / "index.html").read_text()
        assert "class='banner'>NOT CONVERGED" in page and "max R-hat 1.2" in page
        assert "NOT CONVERGED" in result.summary()
        with pytest.raises(ConvergenceError, match="max R-hat 1.2"):
            result.raise_if_unconverged()
    finally:
        result.diagnostics.passed, result.diagnostics.problems = True, []
