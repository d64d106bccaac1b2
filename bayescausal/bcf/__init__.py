"""Bayesian causal forests (Hahn, Murray & Carvalho 2020): heterogeneous effects and profit-optimal targeting.

    import bayescausal.bcf as bcf
    result = bcf.fit("customers.csv", outcome="sales", treatment="discount", covariates=["age", "state"],
                     randomised=True, margin_rate=0.05, cost_per_treated=2.0)

Importing this package is cheap: the family's declaration only, no sampler.
"""

from __future__ import annotations

from bayescausal.api import entry_point
from bayescausal.bcf import commands as _c
from bayescausal.bcf.options import BCFOptions, CustomerInputs, ScoreInputs, ScoreOptions, TargetInputs
from bayescausal.family import Command, Family

_EXAMPLE = (
    "bayescausal bcf {} --data customers.csv --outcome sales --treatment discount "
    "--covariates age,state,predicted_sales --randomised --margin 0.05 --cost-per-treated 2"
)

FAMILY = Family(
    kind="bcf",
    help="Bayesian causal forests: heterogeneous effects and profit-optimal targeting",
    description="Bayesian causal forests (Hahn, Murray & Carvalho 2020): who responds to a discount, coupon or "
    "e-mail, with posterior CATEs, uplift curves and the profit-maximising targeting policy.",
    formats=("complete-journey-kaggle",),
    demo=("bcf_discount.toml",),
    examples=(_EXAMPLE.format("target") + " --targets-out t.csv",),
    commands=(
        Command(
            "fit",
            "posterior CATEs, ATE/ATT, subgroups and uplift curves",
            _EXAMPLE.format("fit"),
            options=BCFOptions,
            inputs=CustomerInputs,
            load=_c.load,
            analyze=_c.analyze,
            after=_c.write_predictions,
        ),
        Command(
            "target",
            "the same fit, leading with who to treat; writes the targeting list",
            _EXAMPLE.format("target"),
            options=BCFOptions,
            inputs=TargetInputs,
            load=_c.load,
            analyze=_c.analyze,
            after=_c.write_targets,
        ),
        Command(
            "score",
            "score new customers with the forests an earlier fit saved in its report (no refit): CATE, HDI, "
            "expected profit, P(profit > 0) and treat per row, in input order",
            "bayescausal bcf score reports/last_campaign this_month.csv --predict-out scores.csv",
            options=ScoreOptions,
            inputs=ScoreInputs,
            load=_c.load_to_score,
            analyze=_c.score,
            after=_c.write_predictions,
            samples=False,
        ),
    ),
)

fit = entry_point(FAMILY, "fit")
target = entry_point(FAMILY, "target")
score = entry_point(FAMILY, "score")

__all__ = ["BCFOptions", "FAMILY", "fit", "score", "target"]
