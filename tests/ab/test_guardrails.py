"""Guardrails: a launch must not make another metric worse beyond its own threshold."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bayescausal.ab.guardrails import Guardrail, guardrail_check
from bayescausal.cli import main
from bayescausal.errors import SpecError


def _events(refund_b: float, n: int = 40_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.choice(["A", "B"], n)
    converted = rng.random(n) < np.where(arm == "B", 0.07, 0.05)  # B clearly wins on conversion
    refund = rng.random(n) < np.where(arm == "B", refund_b, 0.01)
    latency = rng.normal(200, 30, n)
    return pd.DataFrame(
        {
            "user": np.arange(n),
            "arm": arm,
            "converted": converted.astype(int),
            "refund": refund.astype(int),
            "latency": latency,
        }
    )


def _run(capsys, tmp_path, frame, *guards):
    path = tmp_path / "events.csv"
    frame.to_csv(path, index=False)
    argv = ["ab", "analyze", str(path), "--events", "--control", "A", "--json", "--no-report"]
    for g in guards:
        argv += ["--guardrail", g]
    code = main(argv)
    out = capsys.readouterr()
    return code, (json.loads(out.out) if out.out.strip() else None), out.err


def test_a_breached_guardrail_turns_a_winner_inconclusive_and_is_named(capsys, tmp_path):
    code, clean, _ = _run(capsys, tmp_path, _events(0.01), "refund:lower:0.002", "latency:lower:5")
    assert code == 0 and clean["decision"]["verdict"] == "act"
    code, s, _ = _run(capsys, tmp_path, _events(0.03), "refund:lower:0.002", "latency:lower:5")
    assert code == 6 and s["decision"]["verdict"] == "inconclusive"
    assert [b["name"] for b in s["decision"]["blocking"]] == ["guardrail refund (lower is better)"]
    assert s["decision"]["criteria"]["rule_verdict"] == "act"


def test_a_guardrail_does_not_block_a_test_that_ships_nothing(capsys, tmp_path):
    frame = _events(0.03).assign(converted=lambda f: (np.random.default_rng(1).random(len(f)) < 0.05).astype(int))
    code, s, _ = _run(capsys, tmp_path, frame, "refund:lower:0.002")
    assert (
        s["decision"]["verdict"] != "act"
        and "nothing to guard" in {c["name"]: c for c in s["checks"]}["guardrail refund (lower is better)"]["detail"]
    )


def test_expected_worsening_of_a_null_difference_matches_the_normal_closed_form():
    n, k = 50_000, 1_000  # same rate in both arms: E[max(delta, 0)] = sd(delta) / sqrt(2 pi)
    totals = pd.DataFrame({"visitors": [n, n], "refund": [k, k], "refund_sq": [k, k]}, index=["A", "B"])
    check = guardrail_check(Guardrail("refund", "lower", 1.0), totals, ["A", "B"], 1, draws=400_000, seed=0)
    a, b = 1 + k, 1 + n - k
    sd = np.sqrt(2 * a * b / ((a + b) ** 2 * (a + b + 1)))
    assert check.values["expected_worsening"] == pytest.approx(sd / np.sqrt(2 * np.pi), rel=0.02)


@pytest.mark.parametrize("text", ["refund", "refund:down:0.1", "refund:lower:x", "refund:lower:-1", ":lower:1"])
def test_malformed_guardrails_are_refused(text):
    with pytest.raises(SpecError):
        Guardrail.parse(text)


def test_guardrail_metrics_must_exist_and_be_numbers(capsys, tmp_path):
    code, _, err = _run(capsys, tmp_path, _events(0.01), "refunds:lower:0.002")
    assert code == 2 and "'refunds' are not columns" in err
    frame = _events(0.01).astype({"latency": object})
    frame.loc[3, "latency"] = None
    code, _, err = _run(capsys, tmp_path, frame, "latency:lower:5")
    assert code == 2 and "'latency'" in err and "missing" in err
    aggregated = pd.DataFrame({"arm": ["A", "B"], "visitors": [100, 100], "conversions": [5, 7]})
    path = tmp_path / "agg.csv"
    aggregated.to_csv(path, index=False)
    code = main(["ab", "analyze", str(path), "--guardrail", "refund:lower:0.01", "--no-report"])
    assert code == 2 and "'refund_sq'" in capsys.readouterr().err
