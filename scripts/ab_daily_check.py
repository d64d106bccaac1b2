"""The daily sequential check: run it every morning on the cumulative counts; the exit code tells your
scheduler what to do (0 = decided, 4 = keep running, 5 = sample ratio mismatch).

    python scripts/ab_daily_check.py [daily.csv] [--out DIR]     # columns: day, arm, visitors, conversions
"""

import argparse
import sys

import bayescausal.ab as ab

# --- what a statistician edits -------------------------------------------------------------
RULE = dict(
    control="control",
    threshold=0.01,  # stop when choosing an arm risks < 1% of the control's rate
    min_days=7,
    min_visitors=1000,
    allocation=None,  # planned split for the SRM alarm; None = equal
)
# --------------------------------------------------------------------------------------------

cli = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
cli.add_argument("data", nargs="?", help="cumulative counts per arm per day")
cli.add_argument("--out", default="reports/ab_daily_check", help="report folder (replaced if bayescausal wrote it)")
args = cli.parse_args()

source = {"dataset": "simulated-ab-daily"} if args.data is None else {}
result = ab.check(args.data, **source, **{k: v for k, v in RULE.items() if v is not None})
print(result.summary())
result.write_report(args.out, force=True)
print(f"\nReport: {args.out}/index.html")
sys.exit(result.extra["exit_code"])
