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
