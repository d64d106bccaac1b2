"""The project's promises about its own layout and environment."""

import re
import tomllib

import yaml

from tests.conftest import REPO


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            conda |= {_name(d) for d in dep["pip"]}
        else:
            conda.add(_name(dep))
    runtime = {_name(d) for d in project["dependencies"]}
    assert runtime <= conda, f"in pyproject.toml but not environment.yml: {runtime - conda}"
    assert "python" in conda


def test_layout_and_python_version():
    for path in (
        "bayescausal",
        "models",
        "scripts",
        "tests",
        "reports/README.md",
        "environment.yml",
        "README.md",
        "pyproject.toml",
        "Makefile",
        "benchmarks",
        ".ci/run",
    ):
        assert (REPO / path).exists(), path
    assert (REPO / ".python-version").read_text().strip() == "3.12"
    assert "make test" in (REPO / ".ci/run").read_text()


def test_every_spec_in_models_parses():
    from bayescausal.spec import load_spec

    specs = list((REPO / "models").glob("*.toml"))
    assert specs
    for path in specs:
        assert load_spec(path).kind in ("ab", "did", "mmm", "bcf")


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, bayescausal; print('pymc' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_ruff_clean():
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    ruff = Path(sys.executable).parent / "ruff"
    exe = str(ruff) if ruff.exists() else shutil.which("ruff")
    assert exe, "ruff is part of the [test] extra"
    dirs = ["bayescausal", "tests", "scripts", "benchmarks"]
    check = subprocess.run([exe, "check", *dirs], cwd=REPO, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
