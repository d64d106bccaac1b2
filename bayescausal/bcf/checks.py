"""The causal forests' checks that more than one analysis runs (one offer, several offers)."""

from __future__ import annotations

import numpy as np

from bayescausal.bcf.backends import CateFit, observed_stats
from bayescausal.diagnostics import ppc_flagged, ppc_pvalues
from bayescausal.result import Check


def ppc_check(y: np.ndarray, fit: CateFit) -> Check:
    """Informative: the outcome model must reproduce the observed mean, sd, quantiles and share of zeros."""
    observed = observed_stats(y)
    pvals = ppc_pvalues(observed, {k: v.ravel() for k, v in fit.ppc.items()})
    flagged = [k for k in ppc_flagged(pvals) if not (k == "share_zero" and observed[k] == 0)]
    detail = (
        "observed mean, sd, quantiles and share of zeros are typical of the model's replications"
        if not flagged
        else "extreme under the model: "
        + ", ".join(f"{k} (p = {pvals[k]:.3f})" for k in flagged)
        + ("; for zero-inflated spend use likelihood = 'hurdle'" if fit.kind != "hurdle" else "")
    )
    return Check(
        "posterior predictive check",
        not flagged,
        detail,
        {"p_values": pvals},
        next_step="refit with likelihood = 'hurdle' (zero-inflated spend) or 'student-t' (backend pymc, heavy tails)",
    )
