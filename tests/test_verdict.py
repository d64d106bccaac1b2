"""Verdicts honour the checks behind them: every path (act, do not act, continue, inconclusive by a gating
check, inconclusive by diagnostics) and the exit codes the CLI derives from them."""

import json

import numpy as np
import pandas as pd
import pytest

from bayescausal import diagnostics as diag
from bayescausal.cli import main
from bayescausal.result import Check, Result
from bayescausal.roi import DecisionRule, decide, decide_from_draws
from bayescausal.verdict import EXIT_INCONCLUSIVE, EXIT_OK, EXIT_UNCONVERGED, exit_code, gate

RULE = DecisionRule(threshold_of_caring=0.01)


def _failed_diagnostics():
    return diag.Diagnostics(method="nuts", passed=False, problems=["max R-hat 1.3 > 1.01"])


def test_the_rule_alone_gives_act_do_not_act_and_continue():
    rng = np.random.default_rng(0)
    assert decide_from_draws(rng.normal(1.0, 0.1, 4000), RULE).verdict == "act"
    assert decide_from_draws(rng.normal(-1.0, 0.1, 4000), RULE).verdict == "do not act"
    cont = decide(prob_positive=0.6, loss_ship=0.05, loss_reject=0.1, rule=RULE, can_continue=True)
    assert cont.verdict == "continue" and cont.action == "continue"


def test_a_failed_gating_check_makes_it_inconclusive_and_an_informative_one_does_not():
    act = decide_from_draws(np.random.default_rng(1).normal(1.0, 0.1, 4000), RULE, ship_label="ship B")
    info = Check("segment PPC", False, "misfit", gating=False)
    assert gate(act, [info], diag.exact()).verdict == "act"
    blocker = Check("parallel pre-trends", False, "leads far from zero", gating=True, next_step="match controls")
    gated = gate(act, [info, blocker], diag.exact())
    assert gated.verdict == "inconclusive" and "ship B" in gated.action
    assert gated.blocking == [
        {"name": "parallel pre-trends", "kind": "check", "number": 2, "detail": "leads far from zero"}
    ]
    assert "match controls" in gated.next_step.text and gated.next_step.fields["failed_checks"] == [
        "parallel pre-trends"
    ]
    assert gate(gated, [info, blocker], diag.exact()) == gated  # idempotent
    assert gate(gated, [info], diag.exact()).verdict == "act"  # gating again starts from the rule


def test_failed_diagnostics_make_it_inconclusive_with_exit_3_and_gating_checks_exit_6():
    act = decide_from_draws(np.random.default_rng(2).normal(1.0, 0.1, 4000), RULE)
    by_diag = gate(act, [], _failed_diagnostics())
    assert by_diag.verdict == "inconclusive" and by_diag.blocking[0]["kind"] == "diagnostics"
    assert "did not converge" in by_diag.next_step.text
    result = Result("toy", "t", by_diag, {}, _failed_diagnostics())
    assert exit_code(result) == EXIT_UNCONVERGED
    assert exit_code(result, allow_unconverged=True) == EXIT_OK  # --allow-unconverged keeps its meaning
    blocker = Check("placebo", False, "effect where none was", gating=True)
    by_check = Result("toy", "t", gate(act, [blocker], diag.exact()), {}, diag.exact(), checks=[blocker])
    assert exit_code(by_check) == EXIT_INCONCLUSIVE


def _trend_panel(path, drift: float, effect: float = 0.0, seed: int = 1):
    """150 of 400 stores drift up `drift` a week before and after the start (week 12); no effect unless asked."""
    rng = np.random.default_rng(seed)
    stores, weeks = np.arange(400), np.arange(20)
    s, w = np.meshgrid(stores, weeks, indexing="ij")
    treated_store = s < 150
    level = rng.normal(50, 5, 400)[s]
    sales = level + drift * w * treated_store + effect * (treated_store & (w >= 12)) + rng.normal(0, 1, s.shape)
    frame = pd.DataFrame({"store": s.ravel(), "week": w.ravel(), "sales": sales.ravel()})
    frame["D"] = (treated_store & (w >= 12)).ravel().astype(int)
    frame.to_csv(path, index=False)
    return ["did", "fit", "--data", str(path), "--unit", "store", "--time", "week", "--outcome", "sales"]


def test_violated_parallel_trend_is_inconclusive_with_exit_6(tmp_path, capsys):
    argv = _trend_panel(tmp_path / "trend.csv", drift=0.4) + ["--treated", "D", "--json", "--out", str(tmp_path / "r")]
    code = main(argv)
    s = json.loads(capsys.readouterr().out)
    assert code == 6 and s["decision"]["verdict"] == "inconclusive"
    assert s["estimates"]["att"]["mean"] > 3  # the drift alone looks like an effect: the rule would act
    blocking = {b["name"] for b in s["decision"]["blocking"]}
    assert blocking == {"parallel pre-trends (event-study leads)", "linear pre-trend, and the power to see one"}
    linear = {c["name"]: c for c in s["checks"]}["linear pre-trend, and the power to see one"]
    assert linear["values"]["detected"]  # the drift itself is seen, not only a lack of power
    assert (
        s["decision"]["next_step"]["text"]
        and {c["name"]: c["gating"] for c in s["checks"]}["parallel pre-trends (event-study leads)"]
    )
    page = (tmp_path / "r" / "index.html").read_text()
    first_screen = page[: page.index("<h2>")]
    assert "INCONCLUSIVE" in first_screen and "check 1: parallel pre-trends" in first_screen
    assert "Next step:" in first_screen and "id='check-1'" in page


def test_a_clean_design_still_gets_a_confident_verdict(tmp_path, capsys):
    argv = _trend_panel(tmp_path / "clean.csv", drift=0.0, effect=2.0) + ["--treated", "D", "--json", "--no-report"]
    assert main(argv) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["decision"]["verdict"] == "act" and s["decision"]["blocking"] == []
    assert s["estimates"]["att"]["hdi_low"] < 2.0 < s["estimates"]["att"]["hdi_high"]


def test_pretrend_check_false_alarm_rate_on_parallel_trends():
    """The gating pre-trend check fails about 1% of clean designs (its level), not a third of them."""
    from bayescausal.data.panel import Panel
    from bayescausal.did.event_study import event_study
    from bayescausal.did.model import cohorts

    rng = np.random.default_rng(5)
    fails = 0
    for _ in range(200):
        y = rng.normal(0, 1, (120, 16)) + rng.normal(0, 1, (120, 1))
        d = np.zeros_like(y, dtype=bool)
        d[:40, 10:] = True
        panel = Panel(y, d, np.arange(120), np.arange(16))
        es = event_study(panel, cohorts(panel)[0], leads=8, draws=2000, seed=int(rng.integers(1 << 30)))
        fails += es.zero_tail_prob < 0.01
    assert fails / 200 < 0.05


@pytest.mark.slow
def test_complete_journey_campaign_18_verdict_agrees_with_its_checks(capsys):
    code = main(["did", "fit", "--campaign", "18", "--no-report", "--json", "--mailer-cost", "1.0", "--margin", "0.3"])
    s = json.loads(capsys.readouterr().out)
    failed_gating = [c["name"] for c in s["checks"] if c["gating"] and not c["passed"]]
    assert [b["name"] for b in s["decision"]["blocking"]] == failed_gating
    assert (s["decision"]["verdict"] == "inconclusive") == bool(failed_gating)
    assert code == (6 if failed_gating else 0)
