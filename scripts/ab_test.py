"""Analyse one A/B test and write its report. Edit the settings below and run:

    python scripts/ab_test.py [DATA.csv] [--out DIR]

DATA has one row per arm (optionally per segment): arm, visitors, conversions [, revenue, revenue_sq,
purchasers, segment]. Without it, the shipped simulated checkout test is analysed.
"""

import argparse
import sys

import bayescausal.ab as ab

# --- what a statistician edits -------------------------------------------------------------
SETTINGS = dict(
    control="control",
    prior_alpha=1.0,
    prior_beta=1.0,  # Beta prior on every arm's conversion rate
    segments="logit-normal",  # pool lifts over the 'segment' column, if present
    threshold=0.01,  # threshold of caring: 1% of the control's mean
    traffic=400_000,  # users the decision will reach
    margin_rate=0.35,
    cost=15_000.0,
    min_prob_positive=0.9,
    hurdle_roi=0.05,
    seed=1,
)
# --------------------------------------------------------------------------------------------

cli = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
cli.add_argument("data", nargs="?", help="CSV/Parquet of per-arm counts")
cli.add_argument("--out", default="reports/ab_test_script", help="report folder (replaced if bayescausal wrote it)")
cli.add_argument("--draws", type=int, default=2000, help="NUTS draws per chain for the segment hierarchy")
args = cli.parse_args()

source = {"dataset": "simulated-ab"} if args.data is None else {}
result = ab.analyze(args.data, **source, **SETTINGS, draws=args.draws)
print(result.summary())
result.write_report(args.out, force=True)
print(f"\nReport: {args.out}/index.html")
sys.exit(result.exit_code())
