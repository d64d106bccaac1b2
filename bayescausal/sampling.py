"""One way to run NUTS for every family: settings, seeding and sampler choice in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass

from bayescausal import interrupt
from bayescausal.errors import SpecError
from bayescausal.options import option

SAMPLERS = ("nutpie", "pymc")


@dataclass(frozen=True)
class SamplerSettings:
    """NUTS settings. nutpie (Rust NUTS, numba-compiled model) is the default: same posterior, faster."""

    draws: int = option(2000, "posterior draws per chain", section="sampler")
    tune: int = option(1000, "tuning steps per chain", section="sampler")
    chains: int = option(4, "number of chains (>= 2 to check convergence)", section="sampler")
    seed: int = option(0, "random seed: same seed, same numbers", section="sampler")
    sampler: str = option("nutpie", "NUTS implementation", section="sampler", choices=SAMPLERS)
    target_accept: float | None = option(
        None, "NUTS target acceptance (default: the model's own, e.g. 0.995 for small hierarchies)", section="sampler"
    )
    progress: bool = False  # the sampler's progress bar (set by the CLI on terminals, never declared)

    def __post_init__(self):
        if self.sampler not in SAMPLERS:
            raise SpecError(f"sampler must be one of {SAMPLERS}, got '{self.sampler}'")
        for name in ("draws", "tune", "chains"):
            if int(getattr(self, name)) < (1 if name != "tune" else 0):
                raise SpecError(f"sampler {name} must be a positive integer, got {getattr(self, name)}")
        if self.target_accept is not None and not 0.5 <= self.target_accept < 1:
            raise SpecError(f"target_accept must be in [0.5, 1), got {self.target_accept}")


def reproducible_numerics() -> None:
    """Same seed, same numbers, whatever the machine's load or the state of the compile caches.

    nutpie samples a model that pytensor compiles with numba, and pytensor asks numba for `fastmath` by
    default. Fastmath lets LLVM reassociate floating-point sums, and a function loaded from pytensor's on-disk
    numba cache (~/.pytensor/numba) is not bit-identical to a freshly compiled one, so the same seed gave
    different chains depending on what an earlier or a concurrent process had cached (the A/B hierarchy: bulk
    ESS 1,827 warm, 1,816 cold, 1,915 with two processes compiling at once). With strict IEEE arithmetic the
    fresh, cached and concurrent compiles agree bit for bit (tests/test_reproducible.py)."""
    import pytensor

    if pytensor.config.numba__fastmath:
        pytensor.config.numba__fastmath = False


def sample_kwargs(settings: SamplerSettings, *, default_target_accept: float = 0.95) -> dict:
    """The keyword arguments of `pm.sample` (or of a library's `fit` that forwards them, as
    pymc-marketing's does): one place for draws, seeding, cores and the sampler choice."""
    reproducible_numerics()
    target_accept = settings.target_accept if settings.target_accept is not None else default_target_accept
    return {
        "draws": settings.draws,
        "tune": settings.tune,
        "chains": settings.chains,
        "cores": min(settings.chains, os.cpu_count() or 1),
        "random_seed": settings.seed,
        "nuts_sampler": settings.sampler,
        "progressbar": settings.progress,
        "compute_convergence_checks": False,
        "target_accept": target_accept,
    }


def sample(model, settings: SamplerSettings, *, default_target_accept: float = 0.95):
    """Sample `model` with NUTS; returns the ArviZ DataTree (bit-for-bit reproducible for a seed)."""
    import pymc as pm

    kwargs = sample_kwargs(settings, default_target_accept=default_target_accept)
    target_accept = kwargs.pop("target_accept")
    with model:
        idata = pm.sample(**kwargs, nuts={"target_accept": target_accept})
    interrupt.check()  # nutpie returns partial draws on Ctrl-C
    return idata
