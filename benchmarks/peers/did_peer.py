"""Runs inside the DiD peers' virtual environment (benchmarks/.peers/did312): reads a long panel (Parquet)
path and prints pyfixest's and CausalPy's estimates and timings as JSON."""

import json
import sys
import time

import pandas as pd


def main():
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
