"""One way to run NUTS for every family: settings, seeding and sampler choice in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass

from bayescausal.errors import SpecError

SAMPLERS = ("nutpie", "pymc")


@dataclass(frozen=True)
class SamplerSettings:
    """NUTS settings. nutpie (Rust NUTS, numba-compiled model) is the default: same posterior, faster."""

    draws: int = 2000  # per chain: hierarchy scales (tau) need it for tail ESS >= 400
    tune: int = 1000
    chains: int = 4
    seed: int = 0
    sampler: str = "nutpie"
    target_accept: float | None = None  # None: the model's own default (hierarchies with few groups need 0.995)
    progress: bool = False

    def __post_init__(self):
        if self.sampler not in SAMPLERS:
            raise SpecError(f"sampler must be one of {SAMPLERS}, got '{self.sampler}'")
        for name in ("draws", "tune", "chains"):
            if int(getattr(self, name)) < (1 if name != "tune" else 0):
                raise SpecError(f"sampler {name} must be a positive integer, got {getattr(self, name)}")
        if self.target_accept is not None and not 0.5 <= self.target_accept < 1:
            raise SpecError(f"target_accept must be in [0.5, 1), got {self.target_accept}")


def sample(model, settings: SamplerSettings, *, default_target_accept: float = 0.95):
    """Sample `model` with NUTS; returns the ArviZ DataTree (bit-for-bit reproducible for a seed)."""
    target_accept = settings.target_accept if settings.target_accept is not None else default_target_accept
    import pymc as pm

    with model:
        return pm.sample(
            draws=settings.draws,
            tune=settings.tune,
            chains=settings.chains,
            cores=min(settings.chains, os.cpu_count() or 1),
            random_seed=settings.seed,
            nuts_sampler=settings.sampler,
            progressbar=settings.progress,
            compute_convergence_checks=False,
            nuts={"target_accept": target_accept},
        )
