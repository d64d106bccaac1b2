"""What does each channel return, and how should the budget move? A marketing-mix model on
pymc-marketing with ROAS, response curves and the optimised plan scored as a posterior. Run:

    python scripts/mmm_budget.py [--data-dir DTMART_FOLDER] [--out DIR]

Without a folder, the shipped simulated DT-Mart-like panel (known ROAS) is analysed.
"""

import argparse
import sys

import bayescausal.mmm as mmm

# --- what a statistician edits -------------------------------------------------------------
SETTINGS = dict(
    l_max=4,  # weeks of carry-over
    holdout_weeks=8,  # the out-of-sample check
    plan_weeks=8,
    budget_bounds=(0.5, 1.5),  # each channel may move between half and 1.5x its current spend
    margin_rate=0.2,
    seed=1,
)
GROUPS = ["CameraAccessory", "GamingAccessory", "HomeAudio"]  # with a DT-Mart folder: pooled sub-categories
# --------------------------------------------------------------------------------------------

cli = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
cli.add_argument("--data-dir", help="a DT-Mart-layout folder")
cli.add_argument("--out", default="reports/mmm_script", help="report folder (replaced if bayescausal wrote it)")
cli.add_argument("--draws", type=int, default=1000, help="NUTS draws per chain")
cli.add_argument("--tune", type=int, default=1000, help="NUTS tuning steps per chain")
cli.add_argument("--holdout-weeks", type=int, default=SETTINGS["holdout_weeks"], help="0 skips the refit")
args = cli.parse_args()

source = {"dataset": "simulated-dtmart"} if args.data_dir is None else {"data_dir": args.data_dir, "groups": GROUPS}
settings = SETTINGS | {"holdout_weeks": args.holdout_weeks}
result = mmm.optimize(**source, **settings, draws=args.draws, tune=args.tune)
print(result.summary())
plan = next(v for k, v in result.tables.items() if k.startswith("budget plan"))
print("\n" + plan.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
result.write_report(args.out, force=True)
print(f"\nReport: {args.out}/index.html")
sys.exit(result.exit_code())
