"""The BCF data boundary: outcome, binary treatment and covariates, validated and encoded for trees,
plus the propensity estimate that BCF feeds to its prognostic forest.

Categorical covariates become one indicator per level (trees split on "state == CA"); numeric ones pass
through. Nothing here fits an outcome model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayescausal.data.validate import require_columns, require_finite, require_numeric, require_representable
from bayescausal.errors import DataError

MAX_LEVELS = 30


@dataclass
class BCFData:
    X: np.ndarray  # (n, p) float, trees' covariates
    names: list[str]  # one per column of X
    z: np.ndarray  # (n,) 0/1
    y: np.ndarray  # (n,) float
    covariates: pd.DataFrame  # the original covariate columns (segments, heuristics, tree labels)
    ids: np.ndarray  # row identifiers for per-row outputs
    outcome: str
    treatment: str
    binary_outcome: bool

    @property
    def n(self) -> int:
        return len(self.y)

    def subset(self, mask: np.ndarray) -> BCFData:
        return BCFData(
            self.X[mask],
            self.names,
            self.z[mask],
            self.y[mask],
            self.covariates.loc[mask].reset_index(drop=True),
            self.ids[mask],
            self.outcome,
            self.treatment,
            self.binary_outcome,
        )


def encode_covariates(
    frame: pd.DataFrame, columns: list[str], *, levels: dict[str, list[str] | None] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Numeric and boolean columns as they are; text/categorical columns as one indicator per level (`levels`:
    the fit's own levels, when new rows are encoded like the training rows)."""
    parts, names = [], []
    for col in columns:
        s = frame[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            parts.append(s.to_numpy(dtype=float)[:, None])
            names.append(col)
            continue
        if s.isna().any():
            raise DataError(f"covariate '{col}' has {int(s.isna().sum())} missing value(s): fill or drop them first")
        text = s.astype(str).str.strip()  # "Urban " and "Urban" are one level
        known = (levels or {}).get(col)
        col_levels = known if known is not None else sorted(text.unique())
        if len(col_levels) > MAX_LEVELS:
            raise DataError(
                f"covariate '{col}' is text with {len(col_levels)} levels (more than {MAX_LEVELS}): group rare "
                "levels or encode it as a number before fitting"
            )
        values = text.to_numpy()
        parts.append(np.column_stack([(values == lev).astype(float) for lev in col_levels]))
        names += [f"{col}={lev}" for lev in col_levels]
    return np.hstack(parts), names


def prepare(
    frame: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: list[str],
    treated_value=None,
    id_column: str | None = None,
    min_per_arm: int = 10,
) -> BCFData:
    """Validate and encode one row per unit (customer). Raises DataError naming the problem and the fix."""
    if frame.empty:
        raise DataError("the data has no rows")
    if not covariates:
        raise DataError("no covariates given: BCF needs at least one (e.g. --covariates age,state)")
    if outcome in covariates or treatment in covariates:
        raise DataError("the outcome and the treatment must not be among the covariates")
    require_columns(
        frame,
        [outcome, treatment, *covariates, *([id_column] if id_column else [])],
        what="BCF data",
        hint="name the columns with --outcome, --treatment and --covariates",
    )
    require_numeric(frame, [outcome], what="outcome")
    require_finite(frame, [outcome], what="outcome")
    require_representable(frame, [outcome], what="outcome")
    require_finite(frame, [c for c in covariates if pd.api.types.is_numeric_dtype(frame[c])], what="covariates")
    z = _binary_treatment(frame[treatment], treatment, treated_value)
    require_arms(z, treatment, minimum=min_per_arm)
    X, names = encode_covariates(frame, covariates)
    y = frame[outcome].to_numpy(dtype=float)
    if np.ptp(y) == 0:
        raise DataError(
            f"outcome '{outcome}' is the same ({y[0]:g}) in every row: there is no variation for a treatment to "
            "explain. Check the column (a join that failed, a filter that kept one value)."
        )
    ids = frame[id_column].to_numpy() if id_column else frame.index.to_numpy()
    if id_column and pd.Series(ids).duplicated().any():
        raise DataError(f"id column '{id_column}' has duplicated values: BCF needs one row per unit")
    return BCFData(
        X=X,
        names=names,
        z=z,
        y=y,
        covariates=frame[covariates].reset_index(drop=True),
        ids=ids,
        outcome=outcome,
        treatment=treatment,
        binary_outcome=bool(np.isin(np.unique(y), [0.0, 1.0]).all()),
    )


def require_arms(z: np.ndarray, treatment: str, *, minimum: int = 10, why: str = "") -> None:
    """Both arms must keep enough rows for two forests to learn from (after any trimming or split)."""
    for arm, label in ((1, "treated"), (0, "control")):
        if (z == arm).sum() < minimum:
            where = f" {why}" if why else ""
            raise DataError(
                f"only {(z == arm).sum()} {label} row(s) in '{treatment}'{where}; BCF needs at least {minimum} per "
                "arm (the treatment must vary)" + ("; widen --trim or lower --holdout" if why else "")
            )


def _binary_treatment(s: pd.Series, name: str, treated_value) -> np.ndarray:
    if s.isna().any():
        raise DataError(f"treatment '{name}' has {int(s.isna().sum())} missing value(s): drop those rows")
    text = s.astype(str).str.strip()
    if treated_value is not None:  # compared as text: --treated-value 2 names the value 2 as well as "2"
        wanted = str(treated_value).strip()
        if not (text == wanted).any():
            raise DataError(f"treated value {wanted!r} does not occur in '{name}' (values: {sorted(text.unique())})")
        return (text == wanted).to_numpy(dtype=int)
    values = set(pd.unique(s))
    if values <= {0, 1} or values <= {False, True}:
        return s.astype(int).to_numpy()
    found = sorted(text.unique())
    likely = [v for v in found if v.casefold() in TREATED_WORDS]
    if not likely and len(found) == 2 and sum(v.casefold() in CONTROL_WORDS for v in found) == 1:
        likely = [v for v in found if v.casefold() not in CONTROL_WORDS]  # 0/2, none/email: the other one
    hint = (
        f"--treated-value {likely[0]!r} looks like the treated arm here"
        if len(likely) == 1
        else "e.g. --treated-value 'treatment'; no value reads as the treated one for sure, so none is guessed"
    )
    raise DataError(
        f"treatment '{name}' must be 0/1 or True/False, found {found[:5]}; name the value that means treated "
        f"({hint}; or [model].treated_value) and every other value counts as control"
    )


# values that mean "treated" in exports; the value suggested only when exactly one of them occurs
TREATED_WORDS = {"yes", "y", "1", "true", "t", "treated", "treatment", "test", "variant", "exposed", "on"}
CONTROL_WORDS = {"no", "n", "0", "false", "f", "control", "none", "off", "holdout", "baseline"}


@dataclass(frozen=True)
class Propensity:
    """pi_hat(x) as fitted, kept as plain numbers so a saved model scores new customers with the same
    propensities: the arms' known shares (randomised), or an L2 logistic regression on standardised covariates
    (multinomial with several offers). `predict` gives P(treated), or P(arm k) for k = 1..K with several offers."""

    shares: tuple[float, ...] | None = None  # P(arm 1..K) when randomised
    centre: tuple[float, ...] = ()
    scale: tuple[float, ...] = ()
    coef: tuple[tuple[float, ...], ...] = ()  # one row per arm (one row in all for a binary treatment)
    intercept: tuple[float, ...] = ()

    @classmethod
    def fit(cls, X: np.ndarray, arm: np.ndarray, *, randomised: bool) -> Propensity:
        offers = int(arm.max())
        if randomised:
            return cls(shares=tuple(float(v) for v in np.bincount(arm, minlength=offers + 1)[1:] / len(arm)))
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler().fit(X)
        model = LogisticRegression(C=1.0, max_iter=2000).fit(scaler.transform(X), arm)
        return cls(
            centre=tuple(scaler.mean_.tolist()),
            scale=tuple(scaler.scale_.tolist()),
            coef=tuple(tuple(row) for row in model.coef_.tolist()),
            intercept=tuple(model.intercept_.tolist()),
        )

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.shares is not None:
            p = np.tile(np.asarray(self.shares), (len(X), 1))
        else:
            eta = (X - np.asarray(self.centre)) / np.asarray(self.scale) @ np.asarray(self.coef).T + self.intercept
            if eta.shape[1] == 1:  # binary: P(treated)
                p = 1 / (1 + np.exp(-eta))
            else:
                e = np.exp(eta - eta.max(1, keepdims=True))
                p = (e / e.sum(1, keepdims=True))[:, 1:]
            p = np.clip(p, 1e-3, 1 - 1e-3)
        return p[:, 0] if p.shape[1] == 1 else p


def propensity_scores(
    data: BCFData, *, randomised: bool, given: np.ndarray | None = None, X: np.ndarray | None = None
) -> np.ndarray:
    """pi_hat(x): the known share on randomised data, a given column, or an L2 logistic regression fitted on
    `data`; for the rows `X` (new customers encoded like `data`), or `data`'s own rows."""
    rows = data.X if X is None else X
    if given is not None:
        p = np.asarray(given, dtype=float)
        if not np.all((p > 0) & (p < 1)):
            raise DataError("the propensity column must lie strictly between 0 and 1")
        return p
    return Propensity.fit(data.X, data.z.astype(int), randomised=randomised).predict(rows)
