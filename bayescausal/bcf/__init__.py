"""Bayesian causal forests (Hahn, Murray & Carvalho 2020): heterogeneous effects and profit-optimal targeting."""
