"""Typed project errors: every message names the problem and the fix."""


class BayesCausalError(Exception):
    """Base class: catch this to handle any error raised on purpose by bayescausal."""


class DataError(BayesCausalError, ValueError):
    """The input data breaks the contract (missing columns, NaN, impossible counts, ...)."""


class SpecError(BayesCausalError, ValueError):
    """An analysis spec (TOML) or an option is invalid: unknown key, wrong type, bad value."""


class ReportExistsError(BayesCausalError, FileExistsError):
    """A report folder already exists and `force` was not given: user results are never overwritten."""


class ConvergenceError(BayesCausalError, RuntimeError):
    """The sampler did not converge and the caller asked for a converged result."""


class ConvergenceWarning(UserWarning):
    """The sampler did not converge; the result is flagged, not silently trusted."""
