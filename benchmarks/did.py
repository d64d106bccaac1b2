"""DiD benchmark on the full Complete Journey panel (campaign 18: 2,469 households x 52 weeks = 128k rows).

Prints wall time, effective sample size per second and R-hat of our fits against pyfixest (feols with
household and week fixed effects, household-clustered errors: the frequentist reference and lower bound
on time) and CausalPy's difference-in-differences, each peer in its own virtual environment under
benchmarks/.peers/ (created on first use). Also: all 27 campaigns with pooling, and a simulated 10x
larger panel (25,000 households x 104 weeks) with its time and memory.

    python benchmarks/did.py
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bayescausal.data.complete_journey import complete_journey_panel, load_complete_journey
from bayescausal.data.panel import Panel
from bayescausal.diagnostics import diagnose
from bayescausal.did.analysis import analyze, analyze_campaigns
from bayescausal.did.model import cohorts, posterior_gaussian, posterior_student_t, within_estimator
from bayescausal.did.options import DiDOptions
from bayescausal.sampling import SamplerSettings
from bayescausal.simulate.did import simulate_panel

HERE = Path(__file__).resolve().parent
PEER_ENV = HERE / ".peers" / "did312"
PEER_PYTHON = PEER_ENV / "bin" / "python"


def ensure_peer_env() -> bool:
    if PEER_PYTHON.exists():
        return True
    base = shutil.which("python3.12") or sys.executable
    print(f"creating the DiD peers' environment in {PEER_ENV} ...", file=sys.stderr)
    subprocess.run([base, "-m", "venv", str(PEER_ENV)], check=True)
    subprocess.run(
        [str(PEER_PYTHON), "-m", "pip", "install", "-q", "pyfixest", "causalpy", "pyarrow", "moderndid"], check=True
    )
    return True


def main() -> None:
    pd.set_option("display.width", 200)
    rows = []
    t = time.perf_counter()
    tables = load_complete_journey()
    panel = complete_journey_panel(18, tables=tables)
    build = time.perf_counter() - t
    beta, se = within_estimator(panel)
    rows.append({"method": "panel build (load + 1.47M lines -> 2469 x 52)", "seconds": build})

    t = time.perf_counter()
    post = posterior_gaussian(cohorts(panel), draws=8000, seed=1)
    secs = time.perf_counter() - t
    rows.append(
        {
            "method": "bayescausal Gaussian (exact posterior)",
            "seconds": secs,
            "estimate": post.att.mean(),
            "sd_or_se": post.att.std(),
            "ess_per_s": 8000 / secs,
            "r_hat": np.nan,
        }
    )
    t = time.perf_counter()
    st = posterior_student_t(cohorts(panel), SamplerSettings(seed=1))
    secs = time.perf_counter() - t
    d = diagnose(st.idata, ["effect", "sigma", "nu"])
    rows.append(
        {
            "method": "bayescausal Student-t (NUTS, 4x2000, incl. compile)",
            "seconds": secs,
            "estimate": st.att.mean(),
            "sd_or_se": st.att.std(),
            "ess_per_s": d.min_ess_bulk / secs,
            "r_hat": d.max_rhat,
        }
    )
    rows.append({"method": "within estimator (numpy, reference)", "estimate": beta, "sd_or_se": se})
    rows.append(
        _hierarchical_row(panel, "bayescausal hierarchical (NUTS, 4x2000, effects + leads fits, incl. compile)")
    )
    exact, hier = rows[1], rows[-1]
    agreement = (
        f"hierarchical vs exact: means {(hier['estimate'] - exact['estimate']) / exact['sd_or_se']:+.2f} exact sd "
        f"apart (target within 0.25), sds in ratio {hier['sd_or_se'] / exact['sd_or_se']:.2f} (target 0.8-1.2)"
    )

    if ensure_peer_env():
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "panel.parquet"
            long = panel.to_long().rename(columns={panel.outcome_name: "y", "treated": "d"})
            long.to_parquet(path)
            proc = subprocess.run(
                [str(PEER_PYTHON), str(HERE / "peers" / "did_peer.py"), str(path)], capture_output=True, text=True
            )
            if proc.returncode == 0:
                peers = json.loads(proc.stdout)
                fx = peers["pyfixest"]
                rows.append(
                    {
                        "method": "pyfixest feols | unit + period, CRV1",
                        "seconds": fx["seconds"],
                        "estimate": fx["estimate"],
                        "sd_or_se": fx["se"],
                    }
                )
                cp = peers["causalpy"]
                rows.append(
                    {
                        "method": "CausalPy DifferenceInDifferences (no household FE)",
                        "seconds": cp.get("seconds", np.nan),
                        "estimate": cp.get("estimate", np.nan),
                        "sd_or_se": cp.get("sd", np.nan),
                        "note": cp.get("error", ""),
                    }
                )
            else:
                print("peers failed:\n" + proc.stderr[-2000:], file=sys.stderr)
    table = pd.DataFrame(rows).set_index("method")
    exact_secs = table.loc["bayescausal Gaussian (exact posterior)", "seconds"]
    table["x_time_of_ours_exact"] = table["seconds"] / exact_secs
    print("== Campaign 18, total weekly spend, weeks 1-52 ==")
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    print(agreement)
    mpdta_tables()

    t = time.perf_counter()
    pooled = analyze_campaigns(tables, DiDOptions(sampler=SamplerSettings(seed=1)))
    secs = time.perf_counter() - t
    print(
        f"\n== All campaigns, pooled by type: {secs:.1f} s (target < 600 s), diagnostics "
        f"{'passed' if pooled.diagnostics.passed else 'FAILED'} (max R-hat {pooled.diagnostics.max_rhat:.3f}, "
        f"min ESS {pooled.diagnostics.min_ess_bulk:.0f}) =="
    )

    exposure = exposure_panel(tables)
    rows = [_hierarchical_row(exposure, "bayescausal hierarchical")]
    t = time.perf_counter()
    exact = analyze(exposure, DiDOptions(model="exact", leads=8, refutations=False)).estimates["att"]
    rows.append({"method": "bayescausal exact", "seconds": time.perf_counter() - t, "estimate": exact.mean})
    rows[-1]["sd_or_se"] = exact.sd
    print(
        f"\n== Full panel, every campaign: each household treated from its first campaign on "
        f"({exposure.shape[0]:,} households x {exposure.shape[1]} weeks, staggered; target <= 30 s, R-hat <= 1.01, "
        f"bulk ESS >= 400) =="
    )
    print(pd.DataFrame(rows).set_index("method").to_string(float_format=lambda v: f"{v:.4g}"))

    t = time.perf_counter()
    big = simulate_panel(units=25_000, periods=104, effect=2.0, cohorts=((60, 80), (80, 103)), seed=1)
    sim_secs = time.perf_counter() - t
    t = time.perf_counter()
    post = posterior_gaussian(cohorts(big), draws=8000, seed=1)
    fit_secs = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\n== Simulated 25,000 x 104 panel (2.6M cells): simulate {sim_secs:.1f} s, fit {fit_secs:.2f} s, "
        f"ATT {post.att.mean():.3f} (truth 2.0, sd {post.att.std():.3f}); peak memory of this process {peak:.0f} MB =="
    )
    big_row = _hierarchical_row(big, "hierarchical")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"   hierarchical model on it: {big_row['seconds']:.1f} s incl. compile, ATT {big_row['estimate']:.3f} "
        f"(sd {big_row['sd_or_se']:.3f}), R-hat {big_row['r_hat']:.3f}; peak memory now {peak:.0f} MB"
    )


def exposure_panel(tables) -> Panel:
    """Every household x week of total spend, each household treated from the start of its first campaign on
    (absorbing: the campaign programme's cumulative effect, not any one campaign's), never-reached households
    as controls: the full Complete Journey panel as one staggered design, less the households reached in its
    first week (no pre-period, so neither model can use them)."""
    from bayescausal.data.complete_journey import first_campaign_start, spend_panel

    households, weeks, y = spend_panel(tables["transactions"])
    first = first_campaign_start(tables, households)
    treated = weeks[None, :] >= np.where(np.isnan(first), np.inf, first)[:, None]
    keep = ~treated[:, 0]  # reached in the first week: no pre-period (the exact model refuses them)
    return Panel(y[keep], treated[keep], households[keep], weeks, "total spend")


def _hierarchical_row(panel, method: str, *, leads: int = 8) -> dict:
    """Our hierarchical model through the family's analysis (effects fit and leads fit, both compiled)."""
    t = time.perf_counter()
    result = analyze(
        panel, DiDOptions(model="hierarchical", leads=leads, refutations=False, sampler=SamplerSettings(seed=1))
    )
    secs = time.perf_counter() - t
    att, d = result.estimates["att"], result.diagnostics
    return {
        "method": method,
        "seconds": secs,
        "estimate": att.mean,
        "sd_or_se": att.sd,
        "ess_per_s": (d.min_ess_bulk or np.nan) / secs,
        "r_hat": d.max_rhat,
        "note": f"{d.divergences} divergences" + ("" if d.passed else f"; {'; '.join(d.problems)}"),
    }


def mpdta_tables() -> None:
    """Callaway & Sant'Anna's county panel (mpdta: 500 counties x 2003-2007, staggered, log teen employment),
    balanced and with 8% of county-years dropped, against pyfixest and moderndid in the peers' environment."""
    from bayescausal.data.panel import from_long
    from bayescausal.did.cells import cell_design
    from bayescausal.did.imputation import imputation_att

    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [str(PEER_PYTHON), str(HERE / "peers" / "did_peer.py"), "mpdta", tmp], capture_output=True, text=True
        )
        if proc.returncode != 0:
            print("mpdta peers failed:\n" + proc.stderr[-2000:], file=sys.stderr)
            return
        peers = json.loads(proc.stdout)
        for name in ("balanced", "8% missing"):
            long = pd.read_parquet(f"{tmp}/{name.replace('% ', '_')}.parquet")
            panel = from_long(long, unit="unit", time="period", outcome="y", treated="d")
            rows = [_hierarchical_row(panel, "bayescausal hierarchical", leads=3)]
            if panel.balanced:
                t = time.perf_counter()
                exact = analyze(panel, DiDOptions(model="exact", refutations=False)).estimates["att"]
                rows.append(
                    {
                        "method": "bayescausal exact",
                        "seconds": time.perf_counter() - t,
                        "estimate": exact.mean,
                        "sd_or_se": exact.sd,
                    }
                )
            rows.append(
                {"method": "imputation estimator (ours, reference)", "estimate": imputation_att(cell_design(panel))}
            )
            for method, r in peers[name].items():
                rows.append(
                    {
                        "method": method,
                        "seconds": r.get("seconds", np.nan),
                        "estimate": r.get("estimate", np.nan),
                        "sd_or_se": r.get("se", np.nan),
                        "note": r.get("error", ""),
                    }
                )
            table = pd.DataFrame(rows).set_index("method")
            table["x_time_of_ours_hierarchical"] = table["seconds"] / table.loc["bayescausal hierarchical", "seconds"]
            print(f"\n== mpdta, {name} ({panel.missing_cells} of {panel.outcome.size} county-years missing) ==")
            print(table.to_string(float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
