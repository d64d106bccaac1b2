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


@pytest.fixture
def two_arm_frame() -> pd.DataFrame:
    return pd.DataFrame({"arm": ["A", "B"], "visitors": [10_000, 10_000], "conversions": [500, 560]})


@pytest.fixture
def fast_sampler():
    from bayescausal.sampling import SamplerSettings

    return SamplerSettings(draws=500, tune=500, chains=2, seed=1)
