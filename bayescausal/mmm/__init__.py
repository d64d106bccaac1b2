"""Marketing-mix models on pymc-marketing: spend -> response, posterior ROAS, budget allocation, calibration.

    import bayescausal.mmm as mmm
    result = mmm.fit("weekly.csv", date="week", target="sales", channels=["tv", "search"], plan_weeks=4)
    result = mmm.fit(data_dir="../shared/data/dtmart", groups=["CameraAccessory", "HomeAudio"])

Importing this package is cheap: the family's declaration only, no PyMC.
"""

from __future__ import annotations

from bayescausal.api import entry_point
from bayescausal.family import Command, Family
from bayescausal.mmm import commands as _c
from bayescausal.mmm.options import MMMOptions, WeeklyInputs

_EXAMPLE = "bayescausal mmm {} --data-dir ../shared/data/dtmart --groups CameraAccessory,GamingAccessory,HomeAudio"

FAMILY = Family(
    kind="mmm",
    help="marketing-mix models: ROAS, response curves, budget allocation",
    description="Bayesian marketing-mix models on pymc-marketing: adstock and saturation per channel, posterior "
    "ROAS and marginal ROAS, response curves, and the budget plan the optimizer proposes, scored as the "
    "posterior of its incremental revenue against the current plan.",
    formats=("dtmart",),
    demo=("mmm_simulated.toml",),
    examples=(
        "bayescausal mmm fit --data-dir ../shared/data/dtmart --json",
        "bayescausal mmm fit --data weekly.csv --date week --target sales --channels tv,search,social",
        "bayescausal mmm optimize --data-dir dtmart/ --plan-weeks 4 --bounds 0.5,1.5",
    ),
    commands=(
        Command(
            "fit",
            "fit, diagnose, and report ROAS, contributions and response curves",
            _EXAMPLE.format("fit"),
            options=MMMOptions,
            inputs=WeeklyInputs,
            load=_c.load,
            analyze=_c.analyze,
        ),
        Command(
            "optimize",
            "the same fit, leading with the optimised budget plan",
            _EXAMPLE.format("optimize"),
            options=MMMOptions,
            inputs=WeeklyInputs,
            load=_c.load,
            analyze=_c.analyze,
            after=_c.print_plan,
        ),
    ),
)

fit = entry_point(FAMILY, "fit")
optimize = entry_point(FAMILY, "optimize")

__all__ = ["FAMILY", "MMMOptions", "fit", "optimize"]
