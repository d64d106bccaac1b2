"""Ctrl-C stops a run with exit 130 and leaves no report or temporary folder, even where a library (nutpie,
a compiler) catches the KeyboardInterrupt itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bayescausal import interrupt
from bayescausal.simulate.did import simulate_panel


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.name == "report")


def _swallowing_analyze(real):
    """An analysis whose library catches Ctrl-C and carries on (as nutpie and compilers do)."""

    def analyze(*args, **kwargs):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.5)
        except KeyboardInterrupt:
            pass  # swallowed: the run would go on to a full report
        return real(*args, **kwargs)

    return analyze


def test_an_interrupt_a_library_swallowed_still_stops_the_run(tmp_path, monkeypatch, capsys):
    from dataclasses import replace

    from bayescausal import family as registry
    from bayescausal.cli import main

    did = registry.get("did")
    commands = tuple(replace(c, analyze=_swallowing_analyze(c.analyze)) if c.name == "fit" else c for c in did.commands)
    monkeypatch.setitem(registry._REGISTRY, "did", replace(did, commands=commands))
    path = tmp_path / "panel.csv"
    simulate_panel(units=60, periods=12, cohorts=((9, 11),), seed=3).to_long().rename(
        columns={"period": "time", "simulated spend": "outcome"}
    ).to_csv(path, index=False)
    code = main(["did", "fit", "--data", str(path), "--out", str(tmp_path / "report")])
    assert code == interrupt.EXIT_INTERRUPTED == 130
    assert "interrupted" in capsys.readouterr().err
    assert _leftovers(tmp_path) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back
    assert not interrupt.interrupted()  # and the next run in this process is not stopped by this one's Ctrl-C


def _start(tmp_path: Path) -> subprocess.Popen:
    path = tmp_path / "panel.csv"
    simulate_panel(units=80, periods=12, cohorts=((9, 11),), seed=3).to_long().rename(
        columns={"period": "time", "simulated spend": "outcome"}
    ).to_csv(path, index=False)
    argv = ["did", "fit", "--data", str(path), "--likelihood", "student-t", "--draws", "400000", "--no-refutations"]
    argv += ["--out", str(tmp_path / "report")]
    code = "import sys; from bayescausal.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen([sys.executable, "-c", code, *argv], stderr=subprocess.PIPE, text=True, cwd=tmp_path)


def _wait_for(proc: subprocess.Popen, marker: str, timeout: float = 120) -> str:
    seen, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    pytest.fail(f"never saw {marker!r}: {''.join(seen)[-2000:]}")


@pytest.mark.slow
@pytest.mark.parametrize(("marker", "delay"), [("fitting", 0.3), ("NUTS[nutpie]", 2.0)], ids=["compiling", "sampling"])
def test_ctrl_c_while_compiling_or_sampling_exits_130_and_writes_nothing(tmp_path, marker, delay):
    proc = _start(tmp_path)
    _wait_for(proc, marker)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err and "interrupted" in err
    assert _leftovers(tmp_path) == []
