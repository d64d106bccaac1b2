"""MMM benchmark on a simulated 2-year weekly, 9-channel DT-Mart-like dataset (known ROAS).

Prints, in one run: (1) the same model fitted through bayescausal and by calling pymc-marketing directly
with the same sampler settings (our overhead); (2) nutpie against PyMC's default NUTS (wall time, minimum
bulk ESS and ESS per second over the free parameters, R-hat); (3) ROAS recovery over several simulated
datasets: 94% interval coverage and relative error per channel; (4) the real DT-Mart folder where
../shared/data has it.

    python benchmarks/mmm.py [--draws 500] [--seeds 3]
"""

from __future__ import annotations

import argparse
import gc
import time
import warnings

import numpy as np
import pandas as pd

from bayescausal.data.weekly import MMMData
from bayescausal.diagnostics import diagnose
from bayescausal.mmm.analysis import channel_roas
from bayescausal.mmm.model import MMMOptions, fit
from bayescausal.sampling import SamplerSettings
from bayescausal.simulate.mmm import DTMART_CHANNELS, simulate

warnings.filterwarnings("ignore")


def direct(frame: pd.DataFrame, s: SamplerSettings):
    """pymc-marketing called by hand: the same components, controls and sampler settings."""
    from pymc_marketing.mmm import MMM, GeometricAdstock, LogisticSaturation

    mmm = MMM(
        date_column="date",
        channel_columns=DTMART_CHANNELS,
        target_column="gmv",
        adstock=GeometricAdstock(l_max=4),
        saturation=LogisticSaturation(),
        control_columns=["sale_event", "trend"],
        yearly_seasonality=2,
    )
    X, y = frame.drop(columns="gmv"), frame["gmv"]
    mmm.build_model(X, y)
    mmm.add_original_scale_contribution_variable(var=["channel_contribution", "y"])
    mmm.fit(
        X,
        y,
        draws=s.draws,
        tune=s.tune,
        chains=s.chains,
        cores=2,
        nuts_sampler=s.sampler,
        random_seed=s.seed,
        target_accept=0.9,
        progressbar=False,
        compute_convergence_checks=False,
    )
    return mmm


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def sampler_row(name: str, mmm, seconds: float) -> dict:
    free = [v.name for v in mmm.model.free_RVs]
    d = diagnose(mmm.idata, free)
    return {
        "run": name,
        "seconds": seconds,
        "min bulk ESS": d.min_ess_bulk,
        "min ESS / s": d.min_ess_bulk / seconds,
        "max R-hat": d.max_rhat,
        "divergences": d.divergences,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    pd.set_option("display.width", 200)
    frame, truth = simulate(104, seed=3)
    data = MMMData(frame=frame, channels=DTMART_CHANNELS, controls=["sale_event", "trend"])
    s = SamplerSettings(draws=args.draws, tune=args.draws, chains=4, seed=1)
    opt = MMMOptions(sampler=s, holdout_weeks=0)
    direct(frame, SamplerSettings(draws=10, tune=10, chains=2, seed=1))  # warm-up: imports and JIT caches
    best: dict[str, dict] = {}
    for _ in range(2):  # alternate, keep the faster of two runs each; models are dropped right away
        for name, call in (
            ("pymc-marketing direct (nutpie)", lambda: direct(frame, s)),
            ("bayescausal (nutpie)", lambda: fit(data, opt)[0]),
        ):
            mmm, seconds = timed(call)
            row = sampler_row(name, mmm, seconds)
            del mmm
            gc.collect()
            if name not in best or seconds < best[name]["seconds"]:
                best[name] = row
    rows = [best["bayescausal (nutpie)"], best["pymc-marketing direct (nutpie)"]]
    t_ours, t_direct = rows[0]["seconds"], rows[1]["seconds"]
    pymc_opt = MMMOptions(sampler=SamplerSettings(draws=args.draws, tune=args.draws, chains=4, seed=1, sampler="pymc"))
    pymc_nuts, t_pymc = timed(lambda: fit(data, pymc_opt)[0])
    rows.append(sampler_row("bayescausal (PyMC NUTS)", pymc_nuts, t_pymc))
    table = pd.DataFrame(rows).set_index("run")
    table["time / pymc-marketing direct"] = table["seconds"] / t_direct
    print(f"\n2 years weekly, 9 channels, 4 chains x {args.draws} draws (+{args.draws} tune)\n")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"\nbayescausal overhead over pymc-marketing direct: {t_ours / t_direct - 1:+.1%}")

    recovery = []
    for seed in range(args.seeds):
        frame, truth = simulate(104, seed=10 + seed)
        data = MMMData(frame=frame, channels=DTMART_CHANNELS, controls=["sale_event", "trend"])
        roas, _ = channel_roas(fit(data, opt)[0])
        for c in DTMART_CHANNELS:
            d = roas.sel(channel=c).values.ravel()
            lo, hi = np.quantile(d, [0.03, 0.97])
            recovery.append(
                {
                    "channel": c,
                    "seed": seed,
                    "covered": lo <= truth.roas[c] <= hi,
                    "relative error": d.mean() / truth.roas[c] - 1,
                    "relative width": (hi - lo) / truth.roas[c],
                }
            )
    rec = (
        pd.DataFrame(recovery)
        .groupby("channel", sort=False)
        .agg(
            coverage=("covered", "mean"),
            mean_rel_error=("relative error", "mean"),
            mean_abs_rel_error=("relative error", lambda x: np.abs(x).mean()),
            rel_width=("relative width", "mean"),
        )
    )
    print(f"\nROAS recovery over {args.seeds} simulated datasets (94% intervals)\n")
    print(rec.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"\noverall coverage {pd.DataFrame(recovery)['covered'].mean():.1%}")
    dtmart(s)


def dtmart(s: SamplerSettings) -> None:
    """The real DT-Mart folder (where ../shared/data has it): three product groups, pooled."""
    from pathlib import Path

    from bayescausal.data.weekly import load_dtmart

    folder = Path(__file__).resolve().parents[2] / "shared" / "data" / "dtmart"
    if not folder.exists():
        print(f"\nDT-Mart folder not found at {folder}: skipping the real-data fit")
        return
    data = load_dtmart(folder, groups=["CameraAccessory", "GamingAccessory", "HomeAudio"])
    mmm, seconds = timed(lambda: fit(data, MMMOptions(sampler=s))[0])
    row = sampler_row("DT-Mart, 3 groups pooled", mmm, seconds)
    roas, mroas = channel_roas(mmm)
    table = pd.DataFrame(
        {
            "ROAS mean": roas.mean(("chain", "draw")).to_series(),
            "ROAS 3%": roas.quantile(0.03, ("chain", "draw")).to_series(),
            "ROAS 97%": roas.quantile(0.97, ("chain", "draw")).to_series(),
            "marginal ROAS": mroas.mean(("chain", "draw")).to_series(),
        }
    )
    print(
        f"\nDT-Mart (real): {data.frame['date'].nunique()} weeks x 3 groups, 9 channels; "
        f"{seconds:.1f} s, min bulk ESS {row['min bulk ESS']:.0f}, max R-hat {row['max R-hat']:.3f}, "
        f"{row['divergences']} divergences\n"
    )
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
