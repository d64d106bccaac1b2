"""The stochtree BCF sampler: one chain per process, three outcome models, one or several offers.

Outcome models (`kind`):
* `gaussian`: y = mu(x, pi) + tau(x) z + noise, on the outcome's own scale.
* `probit`: a 0/1 outcome, P(y = 1) = Phi(mu + tau z); effects on the probability scale.
* `hurdle`: zero-inflated spend as two BCFs, a probit on P(purchase) and a Gaussian on log spend among
  the purchasers; the revenue surface E[y | x, arm] = P(buy | x, arm) * exp(m(x, arm)) * s(arm) is
  combined draw by draw (the two parts' likelihoods factorise, so their posteriors are independent and
  pairing the k-th draws of each is a draw from the joint posterior). s(arm) is Duan's smearing factor,
  the mean of exp(residual) among that arm's purchasers in each draw: a log-normal retransformation with one
  shared sigma biases the revenue effect whenever the arms' spend differs in spread (on Hillstrom the e-mailed
  buyers' log spend has sd 0.85 against 0.71, which halved the effect), and smearing by arm needs no
  distributional assumption for the mean.

Several offers are one model with a multivariate treatment: arm k is the indicator column k (control is
all zeros), so the effect forest's leaves are vectors, tau_k(x) for every offer, and each offer's
effect borrows the prognostic forest learnt from every arm. One offer keeps stochtree's adaptive coding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

KINDS = {"gaussian": "Gaussian", "probit": "probit", "hurdle": "two-part: probit purchase x log spend, smeared by arm"}


@dataclass
class ChainModels:
    """One chain's fitted stochtree models, and what it takes to predict with them."""

    kind: str
    offers: int  # treatment columns (1: a binary treatment)
    models: dict  # {"y": BCFModel} or {"buy": BCFModel, "spend": BCFModel}
    smearing: np.ndarray | None = None  # hurdle: (arm, draw) mean exp(log-spend residual) of the arm's buyers

    def arm_means(self, X: np.ndarray, pi: np.ndarray) -> dict[str, np.ndarray]:
        """E[y | x, arm] per draw, shaped (arm, draw, row) with arm 0 the control; for the hurdle also
        P(buy | x, arm) ("buy")."""
        means, buys = [], []
        for arm in range(self.offers + 1):
            Z = _arm_treatment(arm, len(X), self.offers)
            if self.kind == "hurdle":
                p = _predict(self.models["buy"], X, Z, pi, "probability")
                log_loc = _predict(self.models["spend"], X, Z, pi, "linear")
                means.append(p * np.exp(log_loc) * self.smearing[arm][:, None])
                buys.append(p)
            else:
                scale = "probability" if self.kind == "probit" else "linear"
                means.append(_predict(self.models["y"], X, Z, pi, scale))
        out = {"mean": np.stack(means)}
        if buys:
            out["buy"] = np.stack(buys)
        return out

    def sigma(self) -> np.ndarray | None:
        """Residual sd per draw: of y (gaussian), of log spend (hurdle), none for a probit."""
        model = self.models.get("spend", self.models.get("y"))
        if self.kind == "probit" or model is None:
            return None
        return np.sqrt(np.asarray(model.global_var_samples, dtype=float))

    def arm_log_sd(self) -> np.ndarray:
        """Hurdle: (arm, draw) log-spend sd implied by each arm's smearing factor (exp(sd^2 / 2) = factor)."""
        return np.sqrt(2 * np.log(np.maximum(self.smearing, 1.0)))

    def to_json(self, draws: int) -> dict[str, str]:
        """The models as stochtree JSON, thinned to `draws` evenly spaced posterior draws (what `bcf score`
        needs: the full chains are hundreds of MB on a large fit). Thinning changes these models in place."""
        keep = _kept(next(iter(self.models.values())).num_samples, draws)
        out = {name: _thin(model, keep).to_json() for name, model in self.models.items()}
        if self.smearing is not None:
            out["smearing"] = json.dumps(self.smearing[:, keep].tolist())
        return out

    @classmethod
    def from_json(cls, kind: str, offers: int, models: dict[str, str]) -> ChainModels:
        from stochtree import BCFModel

        loaded = {}
        for name, text in models.items():
            if name != "smearing":
                loaded[name] = BCFModel()
                loaded[name].from_json(text)
        smearing = np.asarray(json.loads(models["smearing"])) if "smearing" in models else None
        return cls(kind, offers, loaded, smearing)


def _kept(total: int, draws: int) -> np.ndarray:
    return np.unique(np.linspace(0, total - 1, min(draws, total)).round().astype(int))


def _thin(model, keep: np.ndarray):
    """Keep the draws `keep` of a fitted BCFModel: its forests and every per-sample parameter."""
    total = model.num_samples
    for j in sorted(set(range(total)) - set(keep.tolist()), reverse=True):
        model.forest_container_mu.delete_sample(j)
        model.forest_container_tau.delete_sample(j)
    for name, value in list(vars(model).items()):
        if isinstance(value, np.ndarray) and value.ndim and value.shape[-1] == total and name.endswith(_PER_SAMPLE):
            setattr(model, name, value[..., keep])
    model.num_samples = len(keep)
    return model


_PER_SAMPLE = ("_samples", "_train", "_test")


def _arm_treatment(arm: int, n: int, offers: int) -> np.ndarray:
    """The treatment input that means `arm` for every row: a 0/1 vector, or indicator columns."""
    if offers == 1:
        return np.full(n, float(arm))
    Z = np.zeros((n, offers))
    if arm:
        Z[:, arm - 1] = 1.0
    return Z


def _predict(model, X, Z, pi, scale: str) -> np.ndarray:
    """(draw, row) posterior draws of the outcome surface."""
    return np.asarray(model.predict(X, Z, pi, type="posterior", terms="y_hat", scale=scale)).T


def _sample(job: dict, rows: np.ndarray, y: np.ndarray, probit: bool, seed: int):
    from stochtree import BCFModel, OutcomeModel

    s = job["settings"]
    general = {
        "num_chains": 1,
        "random_seed": seed,
        "keep_every": s.thin,
        "num_threads": 1,
        "adaptive_coding": job["offers"] == 1,
    }
    if probit:
        general["outcome_model"] = OutcomeModel(outcome="binary", link="probit")
    model = BCFModel()
    model.sample(
        job["X"][rows],
        _assigned(job["z"][rows], job["offers"]),
        y,
        propensity_train=job["pi"][rows],
        num_gfr=s.gfr,
        num_burnin=s.burnin * s.thin,
        num_mcmc=s.draws * s.thin,
        general_params=general,
        prognostic_forest_params={"num_trees": s.prognostic_trees},
        treatment_effect_forest_params={"num_trees": s.effect_trees},
    )
    return model


def _assigned(arm: np.ndarray, offers: int) -> np.ndarray:
    """Arm codes (0 control, 1..K offers) as stochtree's treatment input."""
    if offers == 1:
        return arm.astype(float)
    return (arm[:, None] == np.arange(1, offers + 1)).astype(float)


def fit_chain(job: dict) -> ChainModels:
    """Sample one chain of the job's outcome model."""
    y, rows = job["y"], np.arange(len(job["y"]))
    if job["kind"] == "hurdle":
        bought = y > 0
        spend = _sample(job, rows[bought], np.log(y[bought]), False, (job["seed"] + 1) % 2**31)
        models = {"buy": _sample(job, rows, bought.astype(float), True, job["seed"]), "spend": spend}
        return ChainModels("hurdle", job["offers"], models, _smearing(job, spend, rows[bought], np.log(y[bought])))
    return ChainModels(job["kind"], job["offers"], {"y": _sample(job, rows, y, job["kind"] == "probit", job["seed"])})


def _smearing(job: dict, spend, buyers: np.ndarray, log_spend: np.ndarray) -> np.ndarray:
    """Duan's smearing factor per arm and draw: mean exp(log spend - fitted) over the arm's purchasers."""
    arm = job["z"][buyers].astype(int)
    fitted = _predict(spend, job["X"][buyers], _assigned(arm, job["offers"]), job["pi"][buyers], "linear")
    ratio = np.exp(log_spend[None, :] - fitted)  # (draw, buyer)
    return np.stack([ratio[:, arm == a].mean(1) for a in range(job["offers"] + 1)])


def replicate(chain: ChainModels, draws: dict, arm: np.ndarray, rng) -> np.ndarray:
    """Replicated outcomes (draw, row) at each row's own arm, for the posterior predictive check."""
    rows = np.arange(len(arm))
    mean = draws["mean"][arm, :, rows].T
    if chain.kind == "probit":
        return (rng.random(mean.shape) < mean).astype(float)
    if chain.kind == "gaussian":
        return mean + rng.normal(size=mean.shape) * chain.sigma()[:, None]
    sigma = chain.arm_log_sd()[arm].T  # (draw, row): each row's own arm
    return hurdle_replicates(mean, draws["buy"][arm, :, rows].T, sigma, rng)


def hurdle_replicates(mean: np.ndarray, buy: np.ndarray, sigma: np.ndarray, rng) -> np.ndarray:
    """Spend replicated from a two-part model given its revenue mean, P(buy) and the log-spend sd:
    purchase ~ Bernoulli(P(buy)), spend | purchase ~ log-normal with that mean (both backends use it)."""
    buy = np.maximum(buy, 1e-12)
    log_loc = np.log(np.maximum(mean / buy, 1e-300)) - sigma**2 / 2
    spend = np.exp(log_loc + sigma * rng.normal(size=mean.shape))
    return np.where(rng.random(mean.shape) < buy, spend, 0.0)
