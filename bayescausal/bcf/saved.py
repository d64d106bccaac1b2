"""Fitted forests kept with the report, so `bcf score REPORT_DIR NEW.csv` scores this month's customers with
last month's fit, without refitting.

The report folder gets `model/forests.json.gz`: each chain's stochtree models as JSON, thinned to
`saved_draws` evenly spaced draws per chain (full chains run to hundreds of MB on a large fit; a few hundred
draws in all pin a CATE's mean and 94% HDI to well within its posterior sd), with everything scoring needs and
nothing else: the covariates' encoding and ranges, the fitted propensity model, the outcome model, the offers,
and the fit's business inputs as defaults. The fit's verdict is read from the same folder's summary.json, so
scores from an inconclusive fit say so.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bayescausal.bcf.data import Propensity
from bayescausal.bcf.scoring import Encoding
from bayescausal.errors import DataError

FILE = "model/forests.json.gz"
FORMAT = 1


@dataclass(frozen=True)
class SavedModel:
    kind: str  # the stochtree outcome model (bcf/forests.py)
    offers: tuple[str, ...]  # the treated arm's label, or each offer's (arm codes 1..K)
    encoding: Encoding
    propensity: Propensity | None  # None: the fit read a propensity column, which new rows must carry too
    business: dict  # the fit's margin_rate, cost_per_treated, ... (scoring.business_of): scoring's defaults
    chains: tuple[dict[str, str], ...]  # per chain: {"y": json} or {"buy": json, "spend": json}

    def to_bytes(self) -> bytes:
        body = asdict(self) | {"format": FORMAT}
        body["encoding"]["ranges"] = {k: list(v) for k, v in self.encoding.ranges.items()}
        return gzip.compress(json.dumps(body).encode(), compresslevel=6, mtime=0)

    @classmethod
    def from_bytes(cls, blob: bytes) -> SavedModel:
        body = json.loads(gzip.decompress(blob))
        if body.pop("format", None) != FORMAT:
            raise DataError(f"the saved forests are in a format this bayescausal does not read (expected {FORMAT})")
        enc = body["encoding"]
        body["encoding"] = Encoding(
            tuple(enc["covariates"]), tuple(enc["names"]), {k: tuple(v) for k, v in enc["ranges"].items()}
        )
        prop = {
            k: (tuple(map(tuple, v)) if k == "coef" else v if v is None else tuple(v))
            for k, v in body["propensity"].items()
        }
        body["propensity"] = Propensity(**prop)
        return cls(**{k: tuple(v) if k in ("offers", "chains") else v for k, v in body.items()})

    def effects(self, X: np.ndarray, pi: np.ndarray) -> np.ndarray:
        """Posterior draws of each offer's CATE on rows X: (chain, draw, row, offer)."""
        from bayescausal.bcf.forests import ChainModels

        out = []
        for models in self.chains:
            chain = ChainModels.from_json(self.kind, len(self.offers), models)
            means = chain.arm_means(X, pi)["mean"]  # (arm, draw, row)
            out.append((means[1:] - means[:1]).transpose(1, 2, 0))
        return np.stack(out)


def _tuples(value):
    return value if not isinstance(value, list) else tuple(_tuples(v) for v in value)


def saved_model(fit, offers: tuple[str, ...], encoding: Encoding, propensity: Propensity | None, opt) -> SavedModel:
    """What `bcf score` needs from a stochtree fit made with saved_draws > 0."""
    from bayescausal.bcf.scoring import business_of

    return SavedModel(fit.kind, offers, encoding, propensity, business_of(opt), tuple(fit.forests))


def load(report: str | Path) -> tuple[SavedModel, dict]:
    """The saved forests of a report folder and that report's summary.json; clear errors naming the fix."""
    folder = Path(report)
    if not (folder / "summary.json").exists():
        raise DataError(f"{folder} is not a bayescausal report folder (no summary.json): name the folder of a bcf fit")
    summary = json.loads((folder / "summary.json").read_text())
    if summary.get("kind") != "bcf":
        raise DataError(f"{folder} holds a {summary.get('kind')} report; `bcf score` needs the report of a bcf fit")
    path = folder / FILE
    if not path.exists():
        raise DataError(
            f"{folder} has no saved forests ({FILE}): it was fitted with saved_draws = 0, by the pymc backend, or "
            "by an older bayescausal; refit with backend = 'stochtree' to score new customers"
        )
    return SavedModel.from_bytes(path.read_bytes()), summary
