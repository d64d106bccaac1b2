"""Runs inside the DiD peers' virtual environment (benchmarks/.peers/did312).

did_peer.py PANEL.parquet   pyfixest's and CausalPy's estimates and timings on a long panel, as JSON
did_peer.py mpdta FOLDER    writes Callaway & Sant'Anna's county panel (mpdta, shipped with moderndid) to
                            FOLDER, balanced and with 8% of county-years dropped, and prints pyfixest's
                            TWFE and did2s and moderndid's att_gt (simple aggregation) on both, as JSON
"""

import json
import sys
import time

import pandas as pd


def _timed(fn):
    t = time.perf_counter()
    try:
        estimate, se = fn()
        return {"estimate": float(estimate), "se": float(se), "seconds": time.perf_counter() - t}
    except Exception as exc:  # a peer that cannot fit the design says so in the table
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}


def mpdta(folder: str) -> None:
    import moderndid as md
    import numpy as np
    import pyfixest as pf

    df = md.load_mpdta().to_pandas()
    df = df.rename(columns={"countyreal": "unit", "year": "period", "lemp": "y", "first.treat": "g"})
    df["d"] = ((df["g"] > 0) & (df["period"] >= df["g"])).astype(int)
    out = {}
    for name, keep in (
        ("balanced", np.ones(len(df), bool)),
        ("8% missing", np.random.default_rng(0).random(len(df)) >= 0.08),
    ):
        sub = df[keep].reset_index(drop=True)
        sub.to_parquet(f"{folder}/{name.replace('% ', '_')}.parquet")

        def cs(sub=sub, unbalanced=name != "balanced"):
            gt = md.att_gt(
                sub,
                yname="y",
                tname="period",
                idname="unit",
                gname="g",
                est_method="reg",
                control_group="notyettreated",
                allow_unbalanced_panel=unbalanced,
                random_state=1,
            )
            agg = md.aggte(gt, type="simple")
            return agg.overall_att, agg.overall_se

        def twfe(sub=sub):
            fit = pf.feols("y ~ d | unit + period", data=sub, vcov={"CRV1": "unit"})
            return fit.coef()["d"], fit.se()["d"]

        def did2s(sub=sub):
            fit = pf.did2s(
                sub, yname="y", first_stage="~ 0 | unit + period", second_stage="~ d", treatment="d", cluster="unit"
            )
            return fit.coef()["d"], fit.se()["d"]

        out[name] = {
            "pyfixest TWFE (unit + period FE, CRV1)": _timed(twfe),
            "pyfixest did2s (Gardner two-stage)": _timed(did2s),
            "moderndid att_gt (not-yet-treated, simple)": _timed(cs),
        }
    json.dump(out, sys.stdout)


def main():
    if sys.argv[1] == "mpdta":
        return mpdta(sys.argv[2])
    path = sys.argv[1]
    df = pd.read_parquet(path)
    out = {}
    import pyfixest as pf

    t = time.perf_counter()
    fit = pf.feols("y ~ d | unit + period", data=df, vcov={"CRV1": "unit"})
    out["pyfixest"] = {
        "estimate": float(fit.coef()["d"]),
        "se": float(fit.se()["d"]),
        "seconds": time.perf_counter() - t,
    }
    try:
        import causalpy as cp

        # CausalPy's DiD takes a formula; household fixed effects as dummies would be 2,469 columns, so the
        # group indicator stands in for them (its documented DiD specification)
        df["post"] = df.groupby("period")["d"].transform("max")
        df["group"] = df.groupby("unit")["d"].transform("max")
        df["post_treatment"] = df["post"].astype(bool)
        t = time.perf_counter()
        res = cp.DifferenceInDifferences(
            df,
            formula="y ~ 1 + group + C(period) + group:post_treatment",
            time_variable_name="period",
            group_variable_name="group",
            model=cp.pymc_models.LinearRegression(
                sample_kwargs={"random_seed": 1, "progressbar": False, "chains": 2, "draws": 500, "tune": 500}
            ),
        )
        draws = res.causal_impact.values.ravel() if hasattr(res.causal_impact, "values") else None
        out["causalpy"] = {
            "estimate": float(draws.mean()) if draws is not None else float("nan"),
            "sd": float(draws.std()) if draws is not None else float("nan"),
            "seconds": time.perf_counter() - t,
        }
    except Exception as exc:  # report the failure in the table instead of hiding it
        out["causalpy"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
