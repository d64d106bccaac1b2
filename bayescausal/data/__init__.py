"""Loading and validating input data: the one boundary where bad input is caught."""

from bayescausal.data.io import fingerprint, read_table

__all__ = ["fingerprint", "read_table"]
