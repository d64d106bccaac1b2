"""bayescausal: fully Bayesian causal inference for retail and e-commerce decisions.

Kept import-light on purpose: `import bayescausal` does not import PyMC. Families live in
subpackages (`bayescausal.ab`, ...); the shared spine is `result`, `diagnostics`, `roi`, `report`.
"""

__version__ = "0.1.0"

from bayescausal.errors import (  # noqa: E402
    BayesCausalError,
    ConvergenceError,
    ConvergenceWarning,
    DataError,
    ReportExistsError,
    SpecError,
)

__all__ = [
    "BayesCausalError",
    "ConvergenceError",
    "ConvergenceWarning",
    "DataError",
    "ReportExistsError",
    "SpecError",
    "__version__",
]


def __getattr__(name: str):
    """Families on the package, imported on first use, so `import bayescausal as bc; bc.ab.analyze(...)` works
    and a bare `import bayescausal` stays light. Families are the registered plugins, by kind."""
    from importlib import import_module, metadata

    for ep in metadata.entry_points(group="bayescausal.families"):
        if ep.name == name:
            module = import_module(ep.value.split(":")[0])
            globals()[name] = module
            return module
    raise AttributeError(f"module 'bayescausal' has no attribute {name!r}")
