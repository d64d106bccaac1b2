"""Analyse one A/B test and write its report. Edit the settings below and run:

    python scripts/ab_test.py [DATA.csv]

Without an argument it analyses the shipped simulated checkout test.
"""

import sys

from bayescausal.ab.analysis import ABOptions, analyze
from bayescausal.ab.data import validate_aggregated
from bayescausal.data import fingerprint, read_table
from bayescausal.datasets import load_dataset
from bayescausal.report import write_report
from bayescausal.roi import Business, DecisionRule
from bayescausal.sampling import SamplerSettings

# --- what a statistician edits -------------------------------------------------------------
CONTROL = "control"
OPTIONS = ABOptions(
    control=CONTROL,
    prior_alpha=1.0,
    prior_beta=1.0,  # Beta prior on every arm's conversion rate
    segments="logit-normal",  # pool lifts over the 'segment' column, if present
    threshold=0.01,  # threshold of caring: 1% of the control's mean
    traffic=400_000,  # users the decision will reach
    rule=DecisionRule(min_prob_positive=0.9, hurdle_roi=0.05, min_prob_roi=0.5),
    business=Business(margin_rate=0.35, cost=15_000.0),
)
SAMPLER = SamplerSettings(draws=2000, tune=1000, chains=4, seed=1)
OUT = "reports/ab_test_script"
# --------------------------------------------------------------------------------------------

if len(sys.argv) > 1:
    raw = read_table(sys.argv[1])
    source = sys.argv[1]
else:
    raw, source = load_dataset("simulated-ab")
data = validate_aggregated(raw)  # arm, visitors, conversions [, revenue, revenue_sq, purchasers, segment]
result = analyze(data, OPTIONS, SAMPLER, inputs={"data": source, "data_fingerprint": fingerprint(raw)})
print(result.summary())
if not result.converged:
    print("\nNOT CONVERGED: do not act on this result; see the report's diagnostics.")
write_report(result, OUT, force=True)
print(f"\nReport: {OUT}/index.html")
sys.exit(0 if result.converged else 3)
