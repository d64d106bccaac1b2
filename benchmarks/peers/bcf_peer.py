"""Runs inside the BCF peers' virtual environment (benchmarks/.peers/bcf312): reads a CSV (covariates in
columns starting with "x", treatment z, outcome y, propensity, and optionally split = 1 for held-out rows),
fits causalml's T- and X-learners and EconML's CausalForestDML on the training rows, and prints CATEs for
every row, ATE intervals and CPU time as JSON."""

import json
import sys
import time

import numpy as np
import pandas as pd


def main():
    full = pd.read_csv(sys.argv[1])
    covariates = [c for c in full.columns if c.startswith("x")]
    X_all = full[covariates].to_numpy(float)
    df = full[full["split"] == 0] if "split" in full.columns else full
    X, z, y, pi = df[covariates].to_numpy(float), df.z.to_numpy(), df.y.to_numpy(), df.propensity.to_numpy()
    only = [m for m in (sys.argv[2] if len(sys.argv) > 2 else "").split(",") if m]

    def wanted(name):
        return not only or name in only

    out = {}
    from causalml.inference.meta import BaseTRegressor, BaseXRegressor
    from sklearn.ensemble import RandomForestRegressor

    def rf():
        return RandomForestRegressor(n_estimators=200, min_samples_leaf=5, n_jobs=1, random_state=0)

    for name, learner in (
        ("causalml T-learner (RF)", BaseTRegressor(learner=rf())),
        ("causalml X-learner (RF)", BaseXRegressor(learner=rf())),
    ):
        if not wanted(name):
            continue
        t = time.process_time()
        if "X-" in name:
            learner.fit(X, z, y, p=pi)
            cate = learner.predict(X_all, p=np.full(len(X_all), pi.mean())).ravel()
            ate, lo, hi = learner.estimate_ate(X, z, y, p=pi)
        else:
            learner.fit(X, z, y)
            cate = learner.predict(X_all).ravel()
            ate, lo, hi = learner.estimate_ate(X, z, y)
        out[name] = {
            "cate": cate.tolist(),
            "ate_interval": [float(np.ravel(lo)[0]), float(np.ravel(hi)[0])],
            "cpu": time.process_time() - t,
        }
    if not wanted("EconML CausalForestDML"):
        print(json.dumps(out))
        return
    from econml.dml import CausalForestDML

    t = time.process_time()
    cf = CausalForestDML(n_estimators=400, min_samples_leaf=5, random_state=0, n_jobs=1, discrete_treatment=True)
    cf.fit(y, z, X=X)
    lo, hi = cf.effect_interval(X_all, alpha=0.05)
    ate_lo, ate_hi = cf.ate_interval(X, alpha=0.05)
    out["EconML CausalForestDML"] = {
        "cate": cf.effect(X_all).ravel().tolist(),
        "cate_interval": [np.ravel(lo).tolist(), np.ravel(hi).tolist()],
        "ate_interval": [float(ate_lo), float(ate_hi)],
        "cpu": time.process_time() - t,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
