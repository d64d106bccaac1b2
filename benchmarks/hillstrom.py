"""Honest holdout evaluation on the real Hillstrom e-mail experiment: fit on last campaign, target the next.

Men's e-mail against no e-mail (42,613 customers, randomised). Each split fits on 10,000 random customers and
scores the other ~32,600 as new customers (`bcf.fit(..., predict=...)`, the `treat` column); the peers
(EconML's CausalForestDML, causalml's X-learner, in benchmarks/.peers/bcf312) fit the same rows and target with
the same profit rule on their CATE. Every policy is valued on the held-out customers by inverse-propensity
weighting (valid: the assignment share is known), with its standard error and its paired difference from
treat-all; Qini and AUUC of each ranking come from the same pseudo-outcomes.

Outcomes: spend (profit = 0.3 x incremental spend - 0.10 per e-mail, the issue's rule) and visit (profit =
1 x incremental visit probability - 0.07 per e-mail: a break-even near the average effect, where targeting
matters).

    python benchmarks/hillstrom.py [--splits 3] [--outcomes spend,visit] [--no-peers]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bayescausal.bcf import targeting as tg

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "hillstrom" / "hillstrom.csv"
COVARIATES = ["recency", "history", "mens", "womens", "zip_code", "newbie", "channel"]
RULES = {"spend": (0.3, 0.10), "visit": (1.0, 0.07)}  # outcome -> (margin, cost per e-mail)
FIT_ROWS = 10_000


def experiment() -> pd.DataFrame | None:
    """Men's e-mail and no e-mail rows, or None (with a note) where ../shared/data has no Hillstrom."""
    if not DATA.exists():
        print(f"Hillstrom data not found at {DATA}: skipping", file=sys.stderr)
        return None
    raw = pd.read_csv(DATA)
    raw = raw[raw["segment"].isin(["Mens E-Mail", "No E-Mail"])].reset_index(drop=True)
    return raw.assign(customer=np.arange(len(raw)))


def split(frame: pd.DataFrame, seed: int) -> np.ndarray:
    """The fit rows of split `seed`: 10,000 customers at random."""
    train = np.zeros(len(frame), bool)
    train[np.random.default_rng(seed).choice(len(frame), FIT_ROWS, replace=False)] = True
    return train


def ours(frame: pd.DataFrame, train: np.ndarray, outcome: str, seed: int) -> tuple[pd.DataFrame, float]:
    """bayescausal's fit on the training rows, scoring the rest as new customers: (scores, seconds)."""
    import bayescausal.bcf as bcf

    margin, cost = RULES[outcome]
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        new = Path(tmp) / "next_campaign.csv"
        frame[~train].to_csv(new, index=False)
        result = _fit(bcf, frame[train], outcome, margin, cost, str(new), seed)
    return result.row_outputs["scores"], time.perf_counter() - t


def _fit(bcf, rows: pd.DataFrame, outcome: str, margin: float, cost: float, new: str, seed: int):
    return bcf.fit(
        rows,
        outcome=outcome,
        treatment="segment",
        treated_value="Mens E-Mail",
        covariates=COVARIATES,
        randomised=True,
        id="customer",
        margin_rate=margin,
        cost_per_treated=cost,
        predict=new,
        seed=seed,
    )


def value(gamma: np.ndarray, treat: np.ndarray, margin: float, cost: float, treat_all: np.ndarray) -> dict:
    """IPW profit per held-out customer of a policy, its SE, and its paired difference from treat-all."""
    per = treat * (margin * gamma - cost)
    diff = per - treat_all
    m = len(gamma)
    return {
        "share treated": float(treat.mean()),
        "profit / customer": float(per.mean()),
        "SE": float(per.std(ddof=1) / np.sqrt(m)),
        "minus treat-all": float(diff.mean()),
        "SE (paired)": float(diff.std(ddof=1) / np.sqrt(m)),
    }


def evaluate(frame: pd.DataFrame, seed: int, outcome: str, peers: bool) -> pd.DataFrame:
    """One split, one outcome: every method's held-out policy value, Qini and AUUC."""
    margin, cost = RULES[outcome]
    train = split(frame, seed)
    test = frame[~train]
    z = (test["segment"] == "Mens E-Mail").to_numpy(int)
    y = test[outcome].to_numpy(float)
    pi = float((frame.loc[train, "segment"] == "Mens E-Mail").mean())
    gamma = tg.pseudo_outcomes(y, z, np.full(len(y), pi))
    all_per = margin * gamma - cost
    depths = tg.depth_grid(len(y))
    scores, seconds = ours(frame, train, outcome, seed)
    cates = {"bayescausal (treat column)": (scores["cate_mean"].to_numpy(), scores["treat"].to_numpy(bool), seconds)}
    if peers:
        cates |= peer_cates(frame, train, outcome, margin, cost)
    rows = []
    for method, (cate, treat, secs) in cates.items():
        order = tg.ranking(cate)
        row = {"split": seed, "outcome": outcome, "method": method, "seconds": secs}
        row |= value(gamma, treat, margin, cost, all_per)
        row["Qini AUC / customer"] = float(tg.auuc(tg.qini(y, z, order, depths), depths)) / len(y)
        row["AUUC (IPW) / customer"] = float(tg.auuc(tg.pseudo_gain(gamma, order, depths), depths)) / len(y)
        rows.append(row)
    for name, treat in (("treat all", np.ones(len(y), bool)), ("treat none", np.zeros(len(y), bool))):
        rows.append({"split": seed, "outcome": outcome, "method": name} | value(gamma, treat, margin, cost, all_per))
    return pd.DataFrame(rows)


def peer_cates(frame: pd.DataFrame, train: np.ndarray, outcome: str, margin: float, cost: float) -> dict:
    """CausalForestDML's and the X-learner's held-out CATEs, targeted with the same profit rule."""
    sys.path.insert(0, str(HERE))
    from bcf import run_peers

    from bayescausal.bcf.data import prepare

    data = prepare(frame, outcome=outcome, treatment="segment", covariates=COVARIATES, treated_value="Mens E-Mail")
    table = pd.DataFrame(data.X, columns=[f"x{k}" for k in range(data.X.shape[1])])
    table = table.assign(z=data.z, y=data.y, propensity=data.z[train].mean(), split=(~train).astype(int))
    wanted = ("EconML CausalForestDML", "causalml X-learner (RF)")
    out = run_peers(table, only=wanted)
    return {
        name: (
            np.asarray(out[name]["cate"])[~train],
            margin * np.asarray(out[name]["cate"])[~train] > cost,
            out[name]["cpu"],
        )
        for name in wanted
        if name in out
    }


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Mean over splits, with the SE of that mean from the splits' own SEs (independent holdouts)."""
    g = table.groupby(["outcome", "method"], sort=False)
    out = g[["share treated", "profit / customer", "minus treat-all"]].mean()
    out["SE"] = g["SE"].apply(lambda s: float(np.sqrt(np.sum(s**2))) / len(s))
    out["SE (paired)"] = g["SE (paired)"].apply(lambda s: float(np.sqrt(np.sum(s**2))) / len(s))
    out["splits"] = g.size()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--splits", type=int, default=3)
    ap.add_argument("--outcomes", default="spend,visit")
    ap.add_argument("--no-peers", action="store_true")
    args = ap.parse_args()
    frame = experiment()
    if frame is None:
        return
    peers = not args.no_peers
    if peers:
        sys.path.insert(0, str(HERE))
        from bcf import ensure_peer_env

        peers = ensure_peer_env()
    table = pd.concat(
        [evaluate(frame, s, o, peers) for o in args.outcomes.split(",") for s in range(args.splits)], ignore_index=True
    )
    pd.set_option("display.width", 220)
    print("\nHillstrom, men's e-mail vs none: fit on 10,000, policy valued (IPW) on the other customers\n")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\nmean over {args.splits} splits\n")
    print(summarise(table).to_string(float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
