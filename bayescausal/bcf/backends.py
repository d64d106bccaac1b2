"""Two ways to draw the BCF posterior, one output: CATE draws shaped (chain, draw, unit) on the outcome scale.

* `stochtree` (default): the C++ BCF sampler with grow-from-root warm-start sweeps, Gaussian, probit or
  the two-part hurdle (bcf/forests.py). Chains run in separate processes (one per core), each from its
  own warm start, so R-hat compares independent starts.
* `pymc`: two `pymc_bart.BART` forests in a PyMC model, for likelihoods no peer offers (Student-t noise,
  and its own two-part hurdle of spend). As of pymc-bart 0.13 the classic effect-forest prior (alpha=0.25,
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

from bayescausal.bcf.forests import KINDS, hurdle_replicates
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
    tau: np.ndarray  # (chain, draw, n) CATE on the outcome scale; (chain, draw, n, offer) with several offers
    m0: np.ndarray  # (n,) posterior mean of E[y | x, z=0]
    m1: np.ndarray  # (n,) posterior mean of E[y | x, z=1]
    sigma: np.ndarray | None  # (chain, draw) residual sd (None for binary outcomes)
    ppc: dict[str, np.ndarray]  # replicated statistics, (chain, draw) each
    method: str
    seconds: float
    new: dict[str, np.ndarray] = field(default_factory=dict)  # tau (chain, draw, m), m0, m1 on new rows
    sampled: xr.DataTree | None = None  # raw PyMC trace (trace/rank plots)
    arm_means: np.ndarray | None = None  # (arm, n) posterior means of E[y | x, arm], arm 0 the control
    kind: str = "gaussian"  # the outcome model: gaussian, probit, hurdle (stochtree); student-t, bernoulli (pymc)
    forests: list[dict[str, str]] | None = None  # per chain, the thinned stochtree models as JSON (saved_draws)

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
    from bayescausal.bcf.forests import fit_chain, replicate

    chain = fit_chain(job)
    n = len(job["y"])
    X_all = job["X"] if job["X_new"] is None else np.vstack([job["X"], job["X_new"]])
    pi_all = job["pi"] if job["X_new"] is None else np.concatenate([job["pi"], job["pi_new"]])
    draws = chain.arm_means(X_all, pi_all)
    effects = (draws["mean"][1:] - draws["mean"][:1]).transpose(1, 2, 0).astype(np.float32)  # (draw, row, offer)
    train = {k: v[:, :, :n] for k, v in draws.items()}
    y_rep = replicate(chain, train, job["z"].astype(int), np.random.default_rng(job["seed"]))
    return {
        "effects": effects,
        "arm_means": draws["mean"].mean(1),  # (arm, row)
        "sigma": chain.sigma(),
        "ppc": replicated_stats(y_rep.astype(float)),
        "forests": chain.to_json(job["saved_draws"]) if job["saved_draws"] else None,  # last: thinning is in place
    }


def fit_stochtree(
    X: np.ndarray,
    z: np.ndarray,
    y: np.ndarray,
    pi: np.ndarray,
    settings: ForestSettings,
    *,
    kind: str = "gaussian",
    offers: int = 1,
    X_new: np.ndarray | None = None,
    pi_new: np.ndarray | None = None,
    saved_draws: int = 0,
) -> CateFit:
    """`z`: arm codes (0 control, 1..offers); `pi`: P(treated) per row, or (row, offer) with several offers.
    `kind`: gaussian, probit or hurdle (see bcf/forests.py). `saved_draws` > 0: each chain's models come
    back as JSON thinned to that many draws (`fit.forests`), for scoring later without refitting."""
    t0 = time.perf_counter()
    seeds = np.random.SeedSequence(settings.seed).generate_state(settings.chains)
    base = {"settings": settings, "X": X, "z": z, "y": y, "pi": pi, "X_new": X_new, "pi_new": pi_new}
    base |= {"kind": kind, "offers": offers, "saved_draws": saved_draws}
    jobs = [base | {"seed": int(seed) % 2**31} for seed in seeds]
    workers = min(settings.workers or os.cpu_count() or 1, settings.chains)
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
            chains = list(pool.map(_stochtree_chain, jobs))
    else:
        chains = [_stochtree_chain(job) for job in jobs]
    return _stochtree_fit(chains, len(y), settings, kind, offers, time.perf_counter() - t0)


def _stochtree_fit(chains: list[dict], n: int, settings: ForestSettings, kind: str, offers: int, seconds: float):
    effects = np.stack([c["effects"] for c in chains])  # (chain, draw, row, offer)
    means = np.stack([c["arm_means"] for c in chains]).mean(0)  # (arm, row)
    if offers == 1:
        effects = effects[..., 0]
    ppc = np.stack([c["ppc"] for c in chains])
    new = {}
    if effects.shape[2] > n:
        new = {"tau": effects[:, :, n:], "m0": means[0, n:], "m1": means[1, n:], "arm_means": means[:, n:]}
    return CateFit(
        tau=effects[:, :, :n],
        m0=means[0, :n],
        m1=means[1, :n],
        sigma=None if kind == "probit" else np.stack([c["sigma"] for c in chains]),
        ppc={name: ppc[..., k] for k, name in enumerate(PPC_STATS)},
        method=f"stochtree BCF ({KINDS[kind]}), {settings.chains} chains x {settings.draws} "
        f"draws, each warm-started by {settings.gfr} grow-from-root sweeps",
        seconds=seconds,
        new=new,
        arm_means=means[:, :n],
        kind=kind,
        forests=[c["forests"] for c in chains] if chains[0]["forests"] else None,
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
        kind=likelihood,
    )


def _hurdle_replicates(post, z, rng) -> np.ndarray:
    """Replicate spend from the PyMC two-part model at each row's own arm."""
    n = len(z)
    p = np.where(z == 1, post["p1"].values, post["p0"].values).reshape(-1, n)
    mean_revenue = np.where(z == 1, post["y1"].values, post["y0"].values).reshape(-1, n)
    return hurdle_replicates(mean_revenue, p, post["sigma_log_spend"].values.reshape(-1, 1), rng)
