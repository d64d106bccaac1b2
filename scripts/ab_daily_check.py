"""The daily sequential check: run it every morning on the cumulative counts; the exit code tells
your scheduler what to do (0 = decided, 4 = keep running, 5 = sample ratio mismatch).

    python scripts/ab_daily_check.py daily.csv      # columns: day, arm, visitors, conversions
"""

import sys

from bayescausal.ab.data import validate_aggregated
from bayescausal.ab.results import check_result
from bayescausal.ab.sequential import StoppingRule
from bayescausal.data import read_table
from bayescausal.datasets import load_dataset
from bayescausal.report import write_report

# --- what a statistician edits -------------------------------------------------------------
CONTROL = "control"
RULE = StoppingRule(
    threshold=0.01,
    relative=True,  # stop when choosing an arm risks < 1% of the control's rate
    min_days=7,
    min_visitors_per_arm=1000,
    allocation=None,  # planned split for the SRM alarm; None = equal
)
OUT = "reports/ab_daily_check"
# --------------------------------------------------------------------------------------------

raw = read_table(sys.argv[1]) if len(sys.argv) > 1 else load_dataset("simulated-ab-daily")[0]
result = check_result(validate_aggregated(raw), RULE, control=CONTROL)
print(result.summary())
write_report(result, OUT, force=True)
print(f"\nReport: {OUT}/index.html")
sys.exit(result.extra["exit_code"])
