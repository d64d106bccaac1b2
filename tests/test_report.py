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
    files = {p.name for p in out.iterdir()}
    assert files == {"index.html", "report.md", "summary.json", "posterior.nc", "figures", writer.MARKER}
    page = (out / "index.html").read_text()
    assert (
        "Verdict: <b>ACT</b>" in page
        and "Decision:" in page
        and "data:image/png;base64," in page
        and "NOT CONVERGED" not in page
    )
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
    out = write_report(result, tmp_path / "r")
    before = (out / "summary.json").stat().st_mtime_ns
    with pytest.raises(ReportExistsError, match="--force"):
        write_report(result, out)
    assert (out / "summary.json").stat().st_mtime_ns == before
    write_report(result, out, force=True)  # ours (it carries the marker): replaced
    assert (out / writer.MARKER).exists() and (out / "index.html").exists()


def test_force_never_deletes_a_folder_bayescausal_did_not_write(tmp_path, result, monkeypatch):
    """A user's folder, the working directory, a home directory and the data's folder all survive --force."""
    user = tmp_path / "chapter"
    (user / "data").mkdir(parents=True)
    (user / "draft.md").write_text("my thesis")
    (user / "data" / "sales.csv").write_text("a,b\n1,2\n")
    files = sorted(p.relative_to(user) for p in user.rglob("*"))
    with pytest.raises(ReportExistsError, match="not written by bayescausal"):
        write_report(result, user, force=True)
    monkeypatch.chdir(user)
    with pytest.raises(ReportExistsError, match="working directory"):
        write_report(result, ".", force=True)
    monkeypatch.setenv("HOME", str(user))
    writer.mark(user)  # even a folder that looks like ours is refused when it is home or the cwd
    with pytest.raises(ReportExistsError, match="working directory or a home directory"):
        write_report(result, user, force=True)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ReportExistsError, match="home directory"):
        write_report(result, user, force=True)
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))
    with pytest.raises(ReportExistsError, match="holds the input data"):
        write_report(result, user, force=True, protect=[user / "data" / "sales.csv"])
    assert sorted(p.relative_to(user) for p in user.rglob("*") if p.name != writer.MARKER) == files
    assert (user / "draft.md").read_text() == "my thesis"


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
    from bayescausal.verdict import gate

    result.diagnostics.passed = False
    result.diagnostics.problems = ["max R-hat 1.2 > 1.01"]
    result.decision = gate(result.decision, result.checks, result.diagnostics)
    try:
        assert result.decision.verdict == "inconclusive"
        page = (write_report(result, tmp_path / "r") / "index.html").read_text()
        assert "class='banner'>NOT CONVERGED" in page and "max R-hat 1.2" in page
        assert page.index("NOT CONVERGED") < page.index("<h2>Estimates</h2>")  # the first screen says why
        assert "NOT CONVERGED" in result.summary()
        with pytest.raises(ConvergenceError, match="max R-hat 1.2"):
            result.raise_if_unconverged()
    finally:
        result.diagnostics.passed, result.diagnostics.problems = True, []
        result.decision = gate(result.decision, result.checks, result.diagnostics)
        assert result.decision.verdict == "act"


def test_a_familys_extra_keys_can_never_replace_a_contract_key():
    import pytest

    from bayescausal import diagnostics as diag
    from bayescausal.result import Result
    from bayescausal.roi import Decision

    decision = Decision("keep", "because", {}, verdict="do not act")
    with pytest.raises(ValueError, match=r"contract's keys \['decision'\]"):
        Result("toy", "t", decision, {}, diag.exact(), extra={"decision": "overwritten"})
    result = Result("toy", "t", decision, {}, diag.exact(), extra={"arms": {}})
    result.extra["estimates"] = {}  # added after construction: refused when the summary is written
    with pytest.raises(ValueError, match="estimates"):
        result.to_json()


def test_money_and_counts_read_as_people_write_them():
    import numpy as np

    from bayescausal.report.render import _plain

    assert _plain(18190.3) == "18,190" and _plain(-64820.0) == "-64,820" and _plain(np.float64(2.5e6)) == "2,500,000"
    assert _plain(1819.46) == "1819" and _plain(0.01234) == "0.01234" and _plain(12345) == "12,345"
    assert _plain(float("nan")) == "—" and _plain(True) == "True"


def test_an_exact_posterior_says_so_in_the_diagnostics_table():
    from bayescausal import diagnostics as diag
    from bayescausal.report.render import NOT_SAMPLED, _diagnostics_frame
    from bayescausal.result import Result
    from bayescausal.roi import Decision

    result = Result("toy", "t", Decision("keep", "because", {}, verdict="do not act"), {}, diag.exact())
    values = _diagnostics_frame(result)["value"]
    assert values["max_rhat"] == NOT_SAMPLED and values["passed"] is True
    assert "None" not in values.astype(str).tolist()
