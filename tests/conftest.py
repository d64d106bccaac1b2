"""Shared fixtures. Real data in ../shared/data is used where present and skipped cleanly where not."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_file(*parts: str) -> Path:
    """A file under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available here: {path} (tests use it only where ../shared/data exists)")
    return path


INPUTS = {"data", "data_fingerprint", "rows", "spec_hash", "seed", "command"}
TIMINGS = {"load_s", "analyze_s", "total_s"}
LIFT_TEST = {"effect_per_unit_period", "sd", "exposure", "exposure_unit", "incremental_total", "incremental_total_sd"}


def assert_contract(summary: dict) -> None:
    """The keys every family's summary.json shares (README: the summary JSON contract)."""
    assert set(summary["inputs"]) >= INPUTS, set(summary["inputs"]) ^ INPUTS
    assert isinstance(summary["inputs"]["seed"], int)
    assert set(summary["timings"]) - {"stages"} == TIMINGS
    assert set(summary["lift_test"]) == LIFT_TEST | {"label"}
    assert set(summary["decision"]) >= {"action", "reason", "verdict", "blocking", "next_step", "criteria"}
    assert all({"name", "passed", "gating", "detail"} <= set(c) for c in summary["checks"])


@pytest.fixture
def two_arm_frame() -> pd.DataFrame:
    return pd.DataFrame({"arm": ["A", "B"], "visitors": [10_000, 10_000], "conversions": [500, 560]})


@pytest.fixture
def fast_sampler():
    from bayescausal.sampling import SamplerSettings

    return SamplerSettings(draws=500, tune=500, chains=2, seed=1)
