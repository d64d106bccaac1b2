"""Runs inside the BCF peers' virtual environment (benchmarks/.peers/bcf312): reads a Hahn-design CSV, fits
causalml's T- and X-learners and EconML's CausalForestDML, and prints CATEs, ATE intervals and CPU time
as JSON."""

import json
import sys
import time

import numpy as np
import pandas as pd

COVARIATES = ["x1", "x2", "x3", "x4", "x5"]


def main():
    df = pd.read_csv(sys.argv[1])
    X, z, y, pi = df[COVARIATES].to_numpy(float), df.z.to_numpy(), df.y.to_numpy(), df.propensity.to_numpy()
    out = {}
    from causalml.inference.meta import BaseTRegressor, BaseXRegressor
    from sklearn.ensemble import RandomForestRegressor

    def rf():
        return RandomForestRegressor(n_estimators=200, min_samples_leaf=5, n_jobs=1, random_state=0)

    for name, learner in (
        ("causalml T-learner (RF)", BaseTRegressor(learner=rf())),
        ("causalml X-learner (RF)", BaseXRegressor(learner=rf())),
    ):
        t = time.process_time()
        if "X-" in name:
            cate = learner.fit_predict(X, z, y, p=pi).ravel()
            ate, lo, hi = learner.estimate_ate(X, z, y, p=pi)
        else:
            cate = learner.fit_predict(X, z, y).ravel()
            ate, lo, hi = learner.estimate_ate(X, z, y)
        out[name] = {
            "cate": cate.tolist(),
            "ate_interval": [float(np.ravel(lo)[0]), float(np.ravel(hi)[0])],
            "cpu": time.process_time() - t,
        }
    from econml.dml import CausalForestDML

    t = time.process_time()
    cf = CausalForestDML(n_estimators=400, min_samples_leaf=5, random_state=0, n_jobs=1, discrete_treatment=True)
    cf.fit(y, z, X=X)
    lo, hi = cf.effect_interval(X, alpha=0.05)
    ate_lo, ate_hi = cf.ate_interval(X, alpha=0.05)
    out["EconML CausalForestDML"] = {
        "cate": cf.effect(X).ravel().tolist(),
        "cate_interval": [np.ravel(lo).tolist(), np.ravel(hi).tolist()],
        "ate_interval": [float(ate_lo), float(ate_hi)],
        "cpu": time.process_time() - t,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
