"""Property-style: generated malformed versions of each family's table have exactly two outcomes, the clean
table's own answer, or exit 2 (a DataError / SpecError naming the problem). Never a traceback, never a
different number. A/B and DiD run through the CLI; MMM and BCF, whose fits take seconds to minutes, through
the same loaders and validators their commands use."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bayescausal.cli import main
from bayescausal.errors import BayesCausalError
from bayescausal.simulate.did import simulate_panel


def _as_text_with_separators(frame, rng, column):
    out = frame.copy()
    out[column] = out[column].map(lambda v: f"{v:,}")  # full precision; thousands get separators
    return out


def _extreme(frame, rng, column):
    out = frame.astype({column: float})
    out.loc[out.index[rng.integers(len(out))], column] = rng.choice([1e300, -1e300, np.inf])
    return out


def _missing(frame, rng, column):
    out = frame.astype({column: float})
    out.loc[out.index[rng.integers(len(out))], column] = np.nan
    return out


def _duplicated(frame, rng, column):
    return pd.concat([frame, frame.iloc[[rng.integers(len(frame))]]], ignore_index=True)


def _shuffled(frame, rng, column):
    return frame.sample(frac=1, random_state=int(rng.integers(1 << 30)))


def _padded_labels(frame, rng, column):
    out = frame.copy()
    out[column] = " " + out[column].astype(str) + "  "
    return out


def _dropped_rows(frame, rng, column):
    return frame.drop(index=frame.index[rng.integers(len(frame))])


def mutations(numeric: str, label: str) -> dict:
    return {
        "shuffled rows": lambda f, r: _shuffled(f, r, numeric),
        "numbers as text": lambda f, r: _as_text_with_separators(f, r, numeric),
        "extreme value": lambda f, r: _extreme(f, r, numeric),
        "missing value": lambda f, r: _missing(f, r, numeric),
        "duplicated key": lambda f, r: _duplicated(f, r, numeric),
        "padded labels": lambda f, r: _padded_labels(f, r, label),
    }


def _cli(capsys, tmp_path, frame: pd.DataFrame, argv: list[str]) -> tuple[int, dict | None, str]:
    path = tmp_path / "table.csv"
    frame.to_csv(path, index=False)
    code = main([*argv[:2], *([str(path)] if argv[2] == "{}" else ["--data", str(path)]), *argv[3:]])
    captured = capsys.readouterr()
    out = captured.out.strip()
    return code, (json.loads(out) if out.startswith("{") else None), captured.err


def same_numbers(a, b, rtol: float = 1e-10) -> bool:
    """Equal up to the rounding of summing the same rows in another order (shuffled input)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_numbers(a[k], b[k], rtol) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return bool(np.isclose(a, b, rtol=rtol, atol=0.0, equal_nan=True))
    return a == b


def _only_two_outcomes(capsys, tmp_path, clean, argv, numeric, label, seeds=3, extra=None):
    code, reference, err = _cli(capsys, tmp_path, clean, argv)
    assert reference is not None, err
    seen = {}
    for name, mutate in (mutations(numeric, label) | (extra or {})).items():
        for seed in range(seeds):
            table = mutate(clean, np.random.default_rng(seed))
            code, summary, err = _cli(capsys, tmp_path, table, argv)
            if code == 2:
                assert "\nerror: " in "\n" + err and "Traceback" not in err, (name, err)
                seen[name] = "exit 2"
            else:
                assert summary is not None, (name, code, err[-2000:])
                assert same_numbers(summary["estimates"], reference["estimates"]), name
                assert summary["decision"]["verdict"] == reference["decision"]["verdict"], name
                seen[name] = "same answer"
    assert seen["shuffled rows"] == "same answer" and seen["duplicated key"] == "exit 2"
    return seen


def test_ab_aggregated_tables(capsys, tmp_path):
    clean = pd.DataFrame({"arm": ["A", "B", "C"], "visitors": [10_000, 10_050, 9_990], "conversions": [500, 560, 510]})
    argv = ["ab", "analyze", "{}", "--control", "A", "--json", "--no-report"]
    seen = _only_two_outcomes(capsys, tmp_path, clean, argv, "visitors", "arm")
    assert seen["padded labels"] == "same answer" and seen["numbers as text"] == "exit 2"


def test_ab_event_tables(capsys, tmp_path):
    rng = np.random.default_rng(0)
    n = 4_000
    arm = rng.choice(["A", "B"], n)
    converted = (rng.random(n) < 0.1).astype(int)
    clean = pd.DataFrame(
        {"user": np.arange(n), "arm": arm, "converted": converted, "revenue": converted * rng.lognormal(3, 1, n)}
    )
    argv = ["ab", "analyze", "{}", "--events", "--control", "A", "--json", "--no-report"]
    flags = {
        "flags as True/False": lambda f, r: f.assign(converted=f["converted"].astype(bool)),
        "flags as yes/no": lambda f, r: f.assign(converted=np.where(f["converted"] == 1, "yes", "no")),
    }
    seen = _only_two_outcomes(capsys, tmp_path, clean, argv, "revenue", "arm", seeds=2, extra=flags)
    assert seen["padded labels"] == "same answer"
    assert seen["flags as True/False"] == seen["flags as yes/no"] == "same answer"


def _daily_segments() -> pd.DataFrame:
    """Cumulative counts per (day, segment, arm); the (tablet, B) cell has no new visitors on day 4."""
    rng = np.random.default_rng(3)
    rows, total = [], {}
    for day in range(1, 6):
        for segment in ("desktop", "mobile", "tablet"):
            for arm in ("A", "B"):
                n = 0 if (day, segment, arm) == (4, "tablet", "B") else int(rng.poisson(500))
                v, c = total.get((segment, arm), (0, 0))  # the counts to date
                total[segment, arm] = (v + n, c + int(rng.binomial(n, 0.05)))
                rows.append({"day": day, "segment": segment, "arm": arm, "visitors": v + n})
                rows[-1]["conversions"] = total[segment, arm][1]
    return pd.DataFrame(rows)


def _no_new_data_row_dropped(frame, rng):
    """A row that repeats its cell's counts of the day before (no new data) is left out of the export."""
    return frame[~((frame["day"] == 4) & (frame["segment"] == "tablet") & (frame["arm"] == "B"))]


def _one_arm_segment(frame, rng):
    """A segment that only arm A reaches (an app only control could open), with a far higher rate."""
    ios = pd.DataFrame(
        [{"day": d, "segment": "ios", "arm": "A", "visitors": 300 * d, "conversions": 60 * d} for d in range(1, 6)]
    )
    return pd.concat([frame, ios], ignore_index=True)


def test_ab_daily_segment_tables(capsys, tmp_path):
    clean = _daily_segments()
    argv = ["ab", "analyze", "{}", "--control", "A", "--counts", "cumulative", "--segments", "beta-binomial"]
    argv += ["--json", "--no-report"]
    extra = {"missing row on a later day": _no_new_data_row_dropped, "segment only one arm has": _one_arm_segment}
    seen = _only_two_outcomes(capsys, tmp_path, clean, argv, "visitors", "arm", seeds=1, extra=extra)
    assert seen["missing row on a later day"] == "same answer"
    assert seen["segment only one arm has"] == "same answer"


def test_did_panels(capsys, tmp_path):
    long = simulate_panel(units=40, periods=10, cohorts=((7, 9),), seed=1).to_long()
    long = long.rename(columns={"period": "time", "simulated spend": "outcome"})
    dates = pd.date_range("2021-12-06", periods=10, freq="W-MON")
    argv = ["did", "fit", "--data", "--json", "--no-report", "--no-refutations", "--model", "exact"]
    quarters = pd.period_range("2019Q3", periods=10, freq="Q").strftime("%YQ%q")
    fiscal = np.array([f"FY{24 + (k + 8) // 13}-P{(k + 8) % 13 + 1}" for k in range(10)])
    variants = [dates.strftime("%m/%d/%Y"), quarters, fiscal]
    for variant in (long, *(long.assign(time=np.asarray(labels)[long["time"]]) for labels in variants)):
        gap = {"dropped row": lambda f, r: _dropped_rows(f, r, "outcome")}
        seen = _only_two_outcomes(capsys, tmp_path, variant, argv, "outcome", "unit", seeds=2, extra=gap)
        assert seen["dropped row"] == "exit 2"  # the exact model refuses a gap (auto: tests/did/test_hierarchical.py)


def _load(kind: str, command: str, frame: pd.DataFrame, sections: dict):
    from bayescausal import family as registry
    from bayescausal.runner import options_for
    from bayescausal.spec import parse_spec

    spec = parse_spec({"kind": kind, "name": "t", "command": command, **sections}, frame_given=True)
    return registry.get(kind).command(command).load(spec, options_for(spec), frame=frame)[0]


def _loader_outcomes(clean, load, compare, numeric, label, seeds=3):
    reference = load(clean)
    for name, mutate in mutations(numeric, label).items():
        for seed in range(seeds):
            try:
                loaded = load(mutate(clean, np.random.default_rng(seed)))
            except BayesCausalError:
                continue
            assert compare(loaded, reference), name


def test_mmm_weekly_tables():
    rng = np.random.default_rng(0)
    clean = pd.DataFrame(
        {
            "date": pd.date_range("2020-01-06", periods=60, freq="W-MON").strftime("%d/%m/%Y"),
            "sales": rng.gamma(5, 20, 60),
            "TV": rng.gamma(2, 10, 60),
            "SEM": rng.gamma(2, 5, 60),
        }
    )
    sections = {"model": {"channels": ["TV", "SEM"]}, "columns": {"target": "sales"}}

    def load(frame):
        return _load("mmm", "fit", frame, sections)

    def same(a, b):
        return a.frame.equals(b.frame) and a.target == b.target

    _loader_outcomes(clean, load, same, "TV", "date")


def test_bcf_customer_tables():
    from bayescausal.bcf.data import prepare
    from bayescausal.simulate.bcf import hahn

    clean = hahn(n=200, seed=0)[["x1", "x2", "x4", "z", "y"]].assign(x4=lambda f: f["x4"].map({0: "a", 1: "b", 2: "c"}))
    clean["customer"] = np.arange(200)  # without an id, two identical rows may well be two customers

    def load(frame):
        return prepare(frame, outcome="y", treatment="z", covariates=["x1", "x2", "x4"], id_column="customer")

    def rows(d):
        table = np.column_stack([d.X, d.z, d.y])
        return table[np.lexsort(table.T[::-1])]

    def same(a, b):
        return a.names == b.names and np.array_equal(rows(a), rows(b))

    _loader_outcomes(clean, load, same, "y", "x4")


@pytest.mark.parametrize("value", ["", "n/a", "1e400"])
def test_bcf_outcome_junk_is_refused(value):
    from bayescausal.bcf.data import prepare
    from bayescausal.errors import DataError
    from bayescausal.simulate.bcf import hahn

    frame = hahn(n=100, seed=0).astype({"y": object})
    frame.loc[3, "y"] = value
    with pytest.raises(DataError):
        prepare(frame, outcome="y", treatment="z", covariates=["x1"])
