"""Two ways to draw the BCF posterior, one output: CATE draws shaped (chain, draw, unit) on the outcome scale.

* `stochtree` (default): the C++ BCF sampler with grow-from-root warm-start sweeps. Chains run in
  separate processes (one per core), each from its own warm start, so R-hat compares independent starts.
* `pymc`: two `pymc_bart.BART` forests in a PyMC model, for likelihoods no peer offers (Student-t noise,
  a two-part hurdle model of spend). As of pymc-bart 0.13 the classic effect-forest prior (alpha=0.25,
  beta=3) makes its Rust sampler panic, so the effect forest is regularised by having few trees (default
  50 against 200 for the prognostic forest), and the effect is the forest alone, tau(x) = f_tau(x).
  This backend reports in-sample CATEs only. New rows would need `sample_posterior_predictive(...,
  sample_vars=[<forests>])` (without `sample_vars` PyMC 6 silently returns the in-sample draws), but in
  this two-forest model pymc-bart 0.13's out-of-sample forest draws disagree with its own in-sample
  draws on the same rows (posterior means ~3 posterior sds apart in our check), so holdout evaluation
  runs on the stochtree backend.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

import numpy as np
import xarray as xr

from bayescausal.errors import SpecError
from bayescausal.options import option
from bayescausal.sampling import SamplerSettings, sample

PPC_STATS = ("mean", "sd", "q10", "q50", "q90", "share_zero")


@dataclass(frozen=True)
class ForestSettings:
    """Sampler budget. Defaults: 4 chains x 300 kept draws after 50 burn-in, each chain warm-started by 10
    grow-from-root sweeps (n = 5,000 in under a minute on 2 cores; raise `draws` for small data)."""

    chains: int = option(4, "chains, each from its own warm start (>= 2 to check convergence)", section="sampler")
    draws: int = option(300, "kept draws per chain", section="sampler")
    burnin: int = option(50, "burn-in draws per chain after the warm start", section="sampler")
    gfr: int = option(10, "grow-from-root warm-start sweeps per chain (stochtree)", cli=False)
    thin: int = 1
    prognostic_trees: int = option(200, "trees in the prognostic forest", cli=False)
    effect_trees: int = option(50, "trees in the treatment-effect forest", cli=False)
    seed: int = option(0, "random seed: same seed, same numbers", section="sampler")
    workers: int | None = None  # processes for stochtree chains (None: one per core)

    def __post_init__(self):
        for name in ("chains", "draws", "thin", "prognostic_trees", "effect_trees"):
            if int(getattr(self, name)) < 1:
                raise SpecError(f"BCF sampler: {name} must be a positive integer, got {getattr(self, name)}")
        if self.burnin < 0 or self.gfr < 0:
            raise SpecError(f"BCF sampler: burnin and gfr must be >= 0, got {self.burnin} and {self.gfr}")


@dataclass
class CateFit:
    tau: np.ndarray  # (chain, draw, n) CATE on the outcome scale
    m0: np.ndarray  # (n,) posterior mean of E[y | x, z=0]
    m1: np.ndarray  # (n,) posterior mean of E[y | x, z=1]
    sigma: np.ndarray | None  # (chain, draw) residual sd (None for binary outcomes)
    ppc: dict[str, np.ndarray]  # replicated statistics, (chain, draw) each
    method: str
    seconds: float
    new: dict[str, np.ndarray] = field(default_factory=dict)  # tau (chain, draw, m), m0, m1 on new rows
    sampled: xr.DataTree | None = None  # raw PyMC trace (trace/rank plots)

    @property
    def chains(self) -> int:
        return self.tau.shape[0]


def replicated_stats(y_rep: np.ndarray) -> np.ndarray:
    """(draws, n) replicated outcomes -> (draws, len(PPC_STATS)) test statistics."""
    q = np.quantile(y_rep, [0.1, 0.5, 0.9], axis=1)
    return np.column_stack([y_rep.mean(1), y_rep.std(1), q[0], q[1], q[2], (y_rep == 0).mean(1)])


def observed_stats(y: np.ndarray) -> dict[str, float]:
    return dict(zip(PPC_STATS, replicated_stats(y[None])[0].tolist(), strict=True))


# --------------------------------------------------------------------------- stochtree


def _stochtree_chain(job: dict) -> dict:
    """One chain in its own process: GFR warm start, MCMC, then predictions (arrays only cross back)."""
    from stochtree import BCFModel, OutcomeModel

    s: ForestSettings = job["settings"]
    X, z, y, pi = job["X"], job["z"], job["y"], job["pi"]
    general = {
        "num_chains": 1,
        "random_seed": job["seed"],
        "keep_every": s.thin,
        "num_threads": 1,
        "adaptive_coding": True,
    }
    if job["binary"]:
        general["outcome_model"] = OutcomeModel(outcome="binary", link="probit")
    model = BCFModel()
    model.sample(
        X,
        z,
        y,
        propensity_train=pi,
        num_gfr=s.gfr,
        num_burnin=s.burnin * s.thin,
        num_mcmc=s.draws * s.thin,
        general_params=general,
        prognostic_forest_params={"num_trees": s.prognostic_trees},
        treatment_effect_forest_params={"num_trees": s.effect_trees},
    )
    scale = "probability" if job["binary"] else "linear"

    def surfaces(Xp, pip):
        ones, zeros = np.ones(len(Xp)), np.zeros(len(Xp))
        y1 = model.predict(Xp, ones, pip, type="posterior", terms="y_hat", scale=scale)
        y0 = model.predict(Xp, zeros, pip, type="posterior", terms="y_hat", scale=scale)
        return (y1 - y0).T.astype(np.float32), y0.mean(1), y1.mean(1), y0, y1

    tau, m0, m1, y0, y1 = surfaces(X, pi)
    rng = np.random.default_rng(job["seed"])
    mean_obs = np.where(z[:, None] == 1, y1, y0).T  # (draws, n)
    out = {"tau": tau, "m0": m0, "m1": m1}
    if job["binary"]:
        out["sigma"] = None
        y_rep = rng.random(mean_obs.shape) < mean_obs
    else:
        sigma = np.sqrt(np.asarray(model.global_var_samples, dtype=float))
        out["sigma"] = sigma
        y_rep = mean_obs + rng.normal(size=mean_obs.shape) * sigma[:, None]
    out["ppc"] = replicated_stats(y_rep.astype(float))
    if job["X_new"] is not None:
        out["tau_new"], out["m0_new"], out["m1_new"] = surfaces(job["X_new"], job["pi_new"])[:3]
    return out


def fit_stochtree(
    X: np.ndarray,
    z: np.ndarray,
    y: np.ndarray,
    pi: np.ndarray,
    settings: ForestSettings,
    *,
    binary: bool = False,
    X_new: np.ndarray | None = None,
    pi_new: np.ndarray | None = None,
) -> CateFit:
    t0 = time.perf_counter()
    seeds = np.random.SeedSequence(settings.seed).generate_state(settings.chains)
    jobs = [
        {
            "settings": settings,
            "X": X,
            "z": z,
            "y": y,
            "pi": pi,
            "X_new": X_new,
            "pi_new": pi_new,
            "binary": binary,
            "seed": int(seed) % 2**31,
        }
        for seed in seeds
    ]
    workers = min(settings.workers or os.cpu_count() or 1, settings.chains)
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
            chains = list(pool.map(_stochtree_chain, jobs))
    else:
        chains = [_stochtree_chain(job) for job in jobs]

    def stack(key):
        return np.stack([c[key] for c in chains])

    new = {}
    if X_new is not None:
        new = {"tau": stack("tau_new"), "m0": stack("m0_new").mean(0), "m1": stack("m1_new").mean(0)}
    ppc = stack("ppc")
    return CateFit(
        tau=stack("tau"),
        m0=stack("m0").mean(0),
        m1=stack("m1").mean(0),
        sigma=None if binary else stack("sigma"),
        ppc={name: ppc[..., k] for k, name in enumerate(PPC_STATS)},
        method=f"stochtree BCF ({'probit' if binary else 'Gaussian'}), {settings.chains} chains x {settings.draws} "
        f"draws, each warm-started by {settings.gfr} grow-from-root sweeps",
        seconds=time.perf_counter() - t0,
        new=new,
    )


# --------------------------------------------------------------------------- PyMC + pymc-bart

LIKELIHOODS = ("gaussian", "student-t", "bernoulli", "hurdle")


def _bart_model(X_mu, X_tau, z, y, likelihood: str, s: ForestSettings):
    """The PyMC model: a prognostic and an effect forest per linear predictor, and the likelihood."""
    import pymc as pm
    import pymc_bart as pmb

    with pm.Model() as model:
        xm = pm.Data("X_mu", X_mu)
        xt = pm.Data("X_tau", X_tau)
        zz = pm.Data("z", z.astype(float))

        def forest_pair(prefix: str, target: np.ndarray):
            """prognostic forest + regularised effect forest on one linear predictor."""
            mu = pmb.BART(f"{prefix}mu_forest", xm, target, m=s.prognostic_trees)
            tau = pmb.BART(f"{prefix}tau_forest", xt, target - target.mean(), m=s.effect_trees)
            return mu, tau

        if likelihood in ("gaussian", "student-t"):
            loc, spread = float(np.mean(y)), float(np.std(y)) or 1.0
            ys = (y - loc) / spread
            mu, tau = forest_pair("", ys)
            sigma = pm.HalfNormal("sigma", 1.0)
            if likelihood == "gaussian":
                pm.Normal("y", mu + tau * zz, sigma, observed=ys, shape=xm.shape[0])
            else:
                nu = pm.Gamma("nu", 2.0, 0.1)
                pm.StudentT("y", nu=nu, mu=mu + tau * zz, sigma=sigma, observed=ys, shape=xm.shape[0])
            pm.Deterministic("y0", loc + spread * mu)
            pm.Deterministic("y1", loc + spread * (mu + tau))
            pm.Deterministic("sigma_outcome", spread * sigma)
        elif likelihood == "bernoulli":
            mu, tau = forest_pair("", y.astype(float))
            pm.Bernoulli("y", logit_p=mu + tau * zz, observed=y, shape=xm.shape[0])
            pm.Deterministic("y0", pm.math.sigmoid(mu))
            pm.Deterministic("y1", pm.math.sigmoid(mu + tau))
        elif likelihood == "hurdle":
            # part 1: P(purchase); part 2: log spend given purchase (log-normal), both with BCF structure
            bought = (y > 0).astype(float)
            mu_p, tau_p = forest_pair("buy_", bought)
            pm.Bernoulli("purchase", logit_p=mu_p + tau_p * zz, observed=bought, shape=xm.shape[0])
            log_spend = np.log(np.where(y > 0, y, 1.0))
            centre = float(log_spend[y > 0].mean())
            mu_s, tau_s = forest_pair("spend_", np.where(y > 0, log_spend - centre, 0.0))
            sigma = pm.HalfNormal("sigma_log_spend", 1.0)
            buyers = np.flatnonzero(y > 0)
            loc = centre + mu_s + tau_s * zz
            pm.Normal("log_spend", loc[buyers], sigma, observed=log_spend[buyers])
            # revenue surfaces: P(buy | x, z) x E[spend | buy, x, z]
            p0 = pm.Deterministic("p0", pm.math.sigmoid(mu_p))
            p1 = pm.Deterministic("p1", pm.math.sigmoid(mu_p + tau_p))
            pm.Deterministic("y0", p0 * pm.math.exp(centre + mu_s + sigma**2 / 2))
            pm.Deterministic("y1", p1 * pm.math.exp(centre + mu_s + tau_s + sigma**2 / 2))
        else:
            raise SpecError(f"likelihood must be one of {', '.join(LIKELIHOODS)}, got '{likelihood}'")
    return model


def fit_pymc(
    X: np.ndarray,
    z: np.ndarray,
    y: np.ndarray,
    pi: np.ndarray,
    settings: ForestSettings,
    *,
    likelihood: str = "gaussian",
) -> CateFit:
    """Fit with pymc-bart (PGBART for the forests, NUTS for the scalars); in-sample CATEs only."""

    if likelihood not in LIKELIHOODS:
        raise SpecError(f"likelihood must be one of {', '.join(LIKELIHOODS)}, got '{likelihood}'")
    if likelihood == "hurdle" and ((y < 0).any() or (y > 0).sum() < 10):
        raise SpecError("the hurdle likelihood needs a non-negative outcome with at least 10 positive values")
    t0 = time.perf_counter()
    X_mu = np.column_stack([X, pi])
    model = _bart_model(X_mu, X, z, y, likelihood, settings)
    # PGBART for the forests, NUTS (PyMC's, since nutpie cannot step BART) for the scalars; the burn-in is
    # their tuning (grow-from-root warm starts are stochtree's)
    nuts = SamplerSettings(
        draws=settings.draws, tune=settings.burnin, chains=settings.chains, seed=settings.seed, sampler="pymc"
    )
    idata = sample(model, nuts, default_target_accept=0.8)
    post = idata["posterior"]
    y0, y1 = post["y0"].values, post["y1"].values
    tau = (y1 - y0).astype(np.float32)
    rng = np.random.default_rng(settings.seed)
    mean_obs = np.where(z == 1, y1, y0).reshape(-1, len(y))
    sigma = None
    if likelihood in ("gaussian", "student-t"):
        sigma = post["sigma_outcome"].values
        noise = rng.normal(size=mean_obs.shape)
        if likelihood == "student-t":
            nu = post["nu"].values.reshape(-1, 1)
            noise = rng.standard_t(np.broadcast_to(nu, mean_obs.shape))
        y_rep = mean_obs + noise * sigma.reshape(-1, 1)
    elif likelihood == "bernoulli":
        y_rep = (rng.random(mean_obs.shape) < mean_obs).astype(float)
    else:
        y_rep = _hurdle_replicates(post, z, rng)
    stats = replicated_stats(y_rep).reshape(*tau.shape[:2], -1)
    return CateFit(
        tau=tau,
        m0=y0.mean((0, 1)),
        m1=y1.mean((0, 1)),
        sigma=sigma,
        ppc={name: stats[..., k] for k, name in enumerate(PPC_STATS)},
        method=f"PyMC + pymc-bart ({likelihood}), {settings.chains} chains x {settings.draws} draws "
        f"(PGBART for the forests, NUTS for the scalars)",
        seconds=time.perf_counter() - t0,
        sampled=idata,
    )


def _hurdle_replicates(post, z, rng) -> np.ndarray:
    """Replicate spend from the two-part model: purchase ~ Bernoulli(p), spend | purchase ~ log-normal."""
    n = len(z)
    p = np.where(z == 1, post["p1"].values, post["p0"].values).reshape(-1, n)
    mean_revenue = np.where(z == 1, post["y1"].values, post["y0"].values).reshape(-1, n)
    sigma = post["sigma_log_spend"].values.reshape(-1, 1)
    log_loc = np.log(np.maximum(mean_revenue / np.maximum(p, 1e-12), 1e-12)) - sigma**2 / 2
    spend = np.exp(log_loc + sigma * rng.normal(size=p.shape))
    return np.where(rng.random(p.shape) < p, spend, 0.0)
