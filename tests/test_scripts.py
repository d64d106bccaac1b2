"""Every script in scripts/ runs on shipped data against the public API alone, so none can rot."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
FAST = {  # small sampler budgets: the test checks that the scripts run, the families' tests check the numbers
    "ab_test.py": ["--draws", "300"],
    "bcf_targeting.py": ["--draws", "60", "--chains", "2"],
    "mmm_budget.py": ["--draws", "100", "--tune", "150", "--holdout-weeks", "0"],
}


def test_one_script_per_family_using_only_the_public_api():
    from bayescausal.family import families

    names = [p.name for p in SCRIPTS.glob("*.py")]
    for kind in families():
        assert any(n.startswith(f"{kind}_") for n in names), f"no script for {kind}"
    for path in SCRIPTS.glob("*.py"):
        imported = [
            node.names[0].name if isinstance(node, ast.Import) else node.module
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Import | ast.ImportFrom)
        ]
        inner = [m for m in imported if m.startswith("bayescausal") and m.count(".") > 1]
        assert not inner, f"{path.name} imports inner modules {inner}"
        assert set(m for m in imported if m.startswith("bayescausal")) <= {f"bayescausal.{k}" for k in families()}


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(p.name for p in SCRIPTS.glob("*.py")))
def test_script_runs_on_shipped_data(script, tmp_path):
    out = tmp_path / "report"
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / script), "--out", str(out), *FAST.get(script, [])],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    assert proc.returncode in (0, 3, 4, 6), proc.stderr[-3000:]  # a verdict, never a traceback
    assert "Verdict:" in proc.stdout and (out / "summary.json").exists() and (out / "index.html").exists()
