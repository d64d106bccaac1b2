"""`ab check` as a scheduled job: every run is a look, kept; nothing is refused or overwritten."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from bayescausal.cli import main
from bayescausal.datasets import load_dataset


@pytest.fixture
def daily(tmp_path):
    frame, _ = load_dataset("simulated-ab-daily")
    path = tmp_path / "daily.csv"
    frame.to_csv(path, index=False)
    return path, frame


def _check(path, out, *extra):
    return main(["ab", "check", str(path), "--control", "control", "--counts", "cumulative", "--out", str(out), *extra])


def test_the_daily_check_runs_every_day_and_keeps_every_look(tmp_path, daily, capsys):
    path, frame = daily
    out = tmp_path / "reports" / "check"
    first_day = frame[frame["day"] <= frame["day"].unique()[9]]
    first_day.to_csv(path, index=False)
    assert _check(path, out) in (0, 4)
    frame.to_csv(path, index=False)  # the next morning: more data in the same file
    assert _check(path, out) in (0, 4)
    assert _check(path, out) in (0, 4)  # run twice on the same data: kept, numbered
    looks = sorted(p.name for p in out.glob("look-*"))
    last = pd.Timestamp(frame["day"].max()).strftime("%Y-%m-%d")
    first = pd.Timestamp(first_day["day"].max()).strftime("%Y-%m-%d")
    assert looks == sorted([f"look-{first}", f"look-{last}", f"look-{last}-2"])
    table = pd.read_csv(out / "looks.csv")
    assert len(table) == 3 and list(table["data day"]) == [first, last, last]
    assert table["visitors control"].iloc[0] < table["visitors control"].iloc[1]
    page = (out / "index.html").read_text()
    assert "trajectory across looks" in page and all(f"{name}/index.html" in page for name in looks)
    for name in looks:
        assert json.loads((out / name / "summary.json").read_text())["kind"] == "ab-check"


def test_force_replaces_only_the_look_of_the_same_day(tmp_path, daily):
    path, _ = daily
    out = tmp_path / "check"
    _check(path, out)
    _check(path, out, "--force")
    assert len(list(out.glob("look-*"))) == 1 and len(pd.read_csv(out / "looks.csv")) == 1


def test_a_folder_from_an_earlier_version_becomes_the_first_look(tmp_path, daily):
    path, _ = daily
    out = tmp_path / "check"
    assert main(["ab", "analyze", str(tmp_path / "agg.csv")]) == 2  # (no such file) nothing written
    _check(path, out)
    look = next(out.glob("look-*"))
    # make the folder look like an earlier single report: its files at the top level
    for item in look.iterdir():
        item.rename(out / item.name)
    look.rmdir()
    _check(path, out)
    assert (out / "look-earlier" / "summary.json").exists() and len(list(out.glob("look-*"))) == 2


def test_looks_are_never_written_into_a_folder_that_is_not_ours(tmp_path, daily, capsys):
    path, _ = daily
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my work")
    assert _check(path, out) == 2
    assert "was not written by bayescausal" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_daily_rows_with_us_dates_are_replayed_in_date_order(tmp_path, daily, capsys):
    path, frame = daily
    us = frame.assign(day=pd.to_datetime(frame["day"]).dt.strftime("%m/%d/%Y"))
    us.to_csv(tmp_path / "us.csv", index=False)
    main(["ab", "check", str(path), "--control", "control", "--counts", "cumulative", "--json", "--no-report"])
    iso = json.loads(capsys.readouterr().out)
    main(
        [
            "ab",
            "check",
            str(tmp_path / "us.csv"),
            "--control",
            "control",
            "--counts",
            "cumulative",
            "--json",
            "--no-report",
        ]
    )
    assert json.loads(capsys.readouterr().out)["estimates"] == iso["estimates"]


def test_overlapping_scheduled_runs_each_keep_their_look(tmp_path, daily):
    """Four checks started at once on the same folder (a retry, two cron entries, a slow run beside the next):
    every run's look is kept under its own name, and the index lists all four."""
    import subprocess
    import sys

    path, _ = daily
    out = tmp_path / "check"
    argv = [sys.executable, "-m", "bayescausal", "ab", "check", str(path), "--control", "control"]
    argv += ["--counts", "cumulative", "--out", str(out)]
    runs = [subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(4)]
    codes = [run.wait(timeout=300) for run in runs]
    assert set(codes) <= {0, 4}, [run.stderr.read().decode()[-500:] for run in runs]
    looks = sorted(p.name for p in out.glob("look-*"))
    assert len(looks) == 4, looks
    assert all((out / look / "summary.json").exists() for look in looks)
    assert len(pd.read_csv(out / "looks.csv")) == 4
    assert not list(out.glob(".look-*"))  # no staging folder left behind


def test_report_folders_honour_the_umask(tmp_path, daily):
    import os
    import stat

    path, _ = daily
    old = os.umask(0o022)
    try:
        assert _check(path, tmp_path / "check") in (0, 4)
    finally:
        os.umask(old)
    look = next((tmp_path / "check").glob("look-*"))
    assert stat.S_IMODE(look.stat().st_mode) == 0o755
