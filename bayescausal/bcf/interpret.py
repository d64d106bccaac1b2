"""A shallow summary tree of the posterior-mean CATE (in the spirit of EconML's SingleTreeCateInterpreter),
whose leaves report posterior subgroup effects, plus how stable its splits are across posterior draws."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class SummaryTree:
    leaves: pd.DataFrame  # rule, n, share, posterior effect summary per leaf (row k = leaf k)
    leaf_of: np.ndarray  # (n,) leaf index per unit (0..L-1, rows of `leaves`)
    leaf_draws: np.ndarray  # (chain, draw, L) mean CATE within each leaf, draw by draw
    importance: pd.Series  # variable importance of the summary tree
    stability: pd.DataFrame  # per variable: share of posterior draws whose tree splits on it (root / any)


def _fit(X: np.ndarray, target: np.ndarray, depth: int, min_leaf: int, seed: int):
    from sklearn.tree import DecisionTreeRegressor

    return DecisionTreeRegressor(max_depth=depth, min_samples_leaf=min_leaf, random_state=seed).fit(X, target)


def _rules(tree, names: list[str]) -> dict[int, str]:
    """Human-readable path to every leaf node of a fitted sklearn tree."""
    t = tree.tree_
    out: dict[int, str] = {}

    def walk(node: int, conds: list[str]):
        if t.children_left[node] == -1:
            out[node] = " and ".join(conds) or "everyone"
            return
        name, thr = names[t.feature[node]], t.threshold[node]
        if "=" in name and 0 < thr < 1:  # an indicator column of a categorical covariate
            left, right = name.replace("=", " != "), name.replace("=", " == ")
        else:
            left, right = f"{name} <= {thr:.4g}", f"{name} > {thr:.4g}"
        walk(t.children_left[node], [*conds, left])
        walk(t.children_right[node], [*conds, right])

    walk(0, [])
    return out


def summary_tree(
    X: np.ndarray,
    names: list[str],
    tau: np.ndarray,
    *,
    depth: int = 2,
    min_leaf_share: float = 0.05,
    stability_draws: int = 50,
    seed: int = 0,
) -> SummaryTree:
    """`tau` is (chain, draw, n). The tree is fitted to the posterior mean; its leaves are then
    summarised with every posterior draw, so each subgroup effect carries its full uncertainty."""
    chains, draws, n = tau.shape
    min_leaf = max(10, int(min_leaf_share * n))
    mean = tau.mean((0, 1))
    tree = _fit(X, mean, depth, min_leaf, seed)
    node_of = tree.apply(X)
    rules = _rules(tree, names)
    nodes = sorted(set(node_of))
    leaf_of = np.searchsorted(nodes, node_of)
    onehot = np.zeros((n, len(nodes)))
    onehot[np.arange(n), leaf_of] = 1.0
    leaf_draws = (tau.reshape(-1, n) @ onehot / onehot.sum(0)).reshape(chains, draws, len(nodes))
    flat = leaf_draws.reshape(-1, len(nodes))
    lo, hi = np.quantile(flat, [0.03, 0.97], axis=0)
    leaves = pd.DataFrame(
        {
            "rule": [rules[k] for k in nodes],
            "n": onehot.sum(0).astype(int),
            "share": onehot.mean(0),
            "mean": flat.mean(0),
            "sd": flat.std(0),
            "eti_3%": lo,
            "eti_97%": hi,
            "P(effect > 0)": (flat > 0).mean(0),
        }
    )
    importance = pd.Series(tree.feature_importances_, index=names).sort_values(ascending=False)
    importance = importance[importance > 0]

    rng = np.random.default_rng(seed)
    picks = rng.choice(chains * draws, size=min(stability_draws, chains * draws), replace=False)
    root, used = Counter(), Counter()
    for s in picks:
        t = _fit(X, tau.reshape(-1, n)[s], depth, min_leaf, seed).tree_
        if t.node_count > 1:
            root[_base(names[t.feature[0]])] += 1
        used.update({_base(names[f]) for f in t.feature[t.feature >= 0]})
    variables = sorted(set(root) | set(used), key=lambda v: -used[v])
    stability = pd.DataFrame(
        {
            "root split": [root[v] / len(picks) for v in variables],
            "any split": [used[v] / len(picks) for v in variables],
        },
        index=pd.Index(variables, name="variable"),
    )
    return SummaryTree(leaves, leaf_of, leaf_draws, importance, stability)


def _base(name: str) -> str:
    """The covariate behind an encoded column ('state=CA' -> 'state')."""
    return name.split("=", 1)[0]
