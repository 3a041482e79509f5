"""The Gamma-Gamma model of the value of a customer's purchases.

Fader & Hardie, "The Gamma-Gamma model of monetary value" (2013 note). A customer's purchase
values are Gamma(p, nu) with nu ~ Gamma(q, gamma) across customers (gamma is called v here
and in the output, as in lifetimes); the model is fitted on repeaters only, from x (their
repeat purchases) and z-bar (the mean value of those repeat purchases), and assumes the
values do not depend on how often one buys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln

from patron.insight.clv.bgnbd import FitError, best_of

Array = NDArray[np.float64]


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    v: float
    ll: float

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "v": self.v}


def log_likelihood(params: ArrayLike, x: ArrayLike, zbar: ArrayLike) -> Array:
    """Each repeater's log-density of their mean value z-bar given x purchases, the note's
    marginal distribution of z-bar (mixing Gamma(px, nu x) over nu ~ Gamma(q, gamma)):

    f(z | p, q, gamma; x) = Gamma(px + q) / (Gamma(px) Gamma(q))
                            * gamma^q x^(px) z^(px - 1) / (gamma + x z)^(px + q)."""
    p, q, v = (float(value) for value in params)
    x = np.asarray(x, dtype=float)
    z = np.asarray(zbar, dtype=float)
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + px * np.log(x)
        + (px - 1) * np.log(z)
        - (px + q) * np.log(v + x * z)
    )


def negative_log_likelihood(log_params: Array, x: Array, z: Array) -> tuple[float, Array]:
    """-sum of the log-densities and the gradient with respect to (ln p, ln q, ln v):
    d/dp = x (psi(px + q) - psi(px) + ln x + ln z - ln(v + x z))
    d/dq = psi(px + q) - psi(q) + ln v - ln(v + x z)
    d/dv = q / v - (px + q) / (v + x z)."""
    p, q, v = np.exp(log_params)
    value = -float(np.sum(log_likelihood((p, q, v), x, z)))
    if not np.isfinite(value):
        return 1e300, np.zeros(3)
    px = p * x
    ln_total = np.log(v + x * z)
    d_p = x * (digamma(px + q) - digamma(px) + np.log(x) + np.log(z) - ln_total)
    d_q = digamma(px + q) - digamma(q) + np.log(v) - ln_total
    d_v = q / v - (px + q) / (v + x * z)
    gradient = np.array([d_p.sum(), d_q.sum(), d_v.sum()])
    return value, -gradient * np.array([p, q, v])


def fit(x: ArrayLike, zbar: ArrayLike, *, min_repeaters: int = 10) -> GammaGammaParams:
    """Maximum likelihood (p, q, v) over repeaters with a positive mean value.

    The likelihood is flat along a ridge (p and q trade against v), so the optimiser runs on
    log-parameters from a moment-matched start and Nelder-Mead polishes L-BFGS-B's answer."""
    x = np.asarray(x, dtype=float)
    z = np.asarray(zbar, dtype=float)
    keep = (x > 0) & (z > 0)
    x, z = x[keep], z[keep]
    if x.size < min_repeaters:
        raise FitError(
            f"{x.size} repeat buyers with a value; Gamma-Gamma needs at least {min_repeaters}"
        )

    def negative(log_params: Array) -> tuple[float, Array]:
        return negative_log_likelihood(log_params, x, z)

    mean = float(np.mean(z))
    starts = [np.log([1.0, 1.0, 1.0]), np.log([2.0, 3.0, mean]), np.log([6.0, 4.0, 2.0 * mean])]
    best = best_of(negative, starts, bounds=[(-15.0, 25.0)] * 3)
    p, q, v = np.exp(best.x)
    return GammaGammaParams(float(p), float(q), float(v), float(-best.fun))


def expected_average_value(params: GammaGammaParams, x: ArrayLike, zbar: ArrayLike) -> Array:
    """E[M | p, q, gamma, z-bar, x], the note's conditional expectation: a weighted mean of
    the population mean p gamma / (q - 1) and the customer's own z-bar,

    (q - 1) / (px + q - 1) * p gamma / (q - 1) + px / (px + q - 1) * z-bar
        = p (gamma + x z-bar) / (px + q - 1).

    Without repeat purchases (x = 0) it is the population mean; needs q > 1."""
    x = np.asarray(x, dtype=float)
    z = np.where(np.asarray(x) > 0, np.asarray(zbar, dtype=float), 0.0)
    p, q, v = params.p, params.q, params.v
    if q <= 1:
        raise FitError(f"q = {q:.3f} <= 1: the population mean value is infinite")
    return p * (v + x * z) / (p * x + q - 1)
