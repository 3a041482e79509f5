"""The BG/NBD model of repeat purchasing.

Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
Pareto/NBD model", Marketing Science 24(2). While alive, a customer buys as a Poisson process
with rate lambda ~ Gamma(r, alpha); after each purchase they drop out with probability
p ~ Beta(a, b). A customer is summarised by x (repeat purchases), t_x (time of the last one,
from the first purchase) and T (time from the first purchase to the end of observation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import OptimizeResult, minimize
from scipy.special import digamma, gammaln, hyp2f1

Array = NDArray[np.float64]
AGREE = 1e-6  # log-likelihoods closer than this are the same optimum


class FitError(ValueError):
    """The data cannot identify the model (too few customers, no repeat purchases)."""


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float
    ll: float  # the maximised log-likelihood of the sample

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b, "ll": self.ll}


def log_likelihood(params: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Array:  # noqa: N803 - T is the paper's name
    """Each customer's log-likelihood, FHL 2005 eq. (6):

    L = A1 * A2 * (A3 + [x > 0] * A4) with
    A1 = Gamma(r + x) alpha^r / Gamma(r),
    A2 = Gamma(a + b) Gamma(b + x) / (Gamma(b) Gamma(a + b + x)),
    A3 = (alpha + T)^-(r + x),
    A4 = a / (b + x - 1) * (alpha + t_x)^-(r + x).

    Computed in logs (gammaln, logaddexp) so large x and T neither overflow nor underflow."""
    r, alpha, a, b = (float(v) for v in params)
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)  # noqa: N806
    ln_a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    ln_a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    ln_a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    # b + x - 1 > 0 whenever x >= 1; for x = 0 the A4 term is absent (its log is -inf).
    safe = np.where(repeat, b + x - 1, 1.0)
    ln_a4 = np.where(repeat, np.log(a) - np.log(safe) - (r + x) * np.log(alpha + t_x), -np.inf)
    return ln_a1 + ln_a2 + np.logaddexp(ln_a3, ln_a4)


def negative_log_likelihood(
    log_params: Array,
    x: Array,
    t_x: Array,
    T: Array,
    weights: Array,  # noqa: N803
) -> tuple[float, Array]:
    """-sum(weights * eq. (6)) and its gradient with respect to the log-parameters.

    With l3 = ln A3, l4 = ln A4 and w3, w4 their shares of A3 + A4 (w4 = 0 without repeats):
      d/dr     = psi(r + x) - psi(r) + ln alpha - w3 ln(alpha + T) - w4 ln(alpha + t_x)
      d/dalpha = r / alpha - (r + x) (w3 / (alpha + T) + w4 / (alpha + t_x))
      d/da     = psi(a + b) - psi(a + b + x) + w4 / a
      d/db     = psi(a + b) + psi(b + x) - psi(b) - psi(a + b + x) - w4 / (b + x - 1)
    and d/d(ln theta) = theta d/d(theta)."""
    r, alpha, a, b = np.exp(log_params)
    repeat = x > 0
    safe = np.where(repeat, b + x - 1, 1.0)
    l3 = -(r + x) * np.log(alpha + T)
    l4 = np.where(repeat, np.log(a) - np.log(safe) - (r + x) * np.log(alpha + t_x), -np.inf)
    both = np.logaddexp(l3, l4)
    ll = (
        gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        + gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        + both
    )  # fmt: skip
    value = -float(np.dot(weights, ll))
    if not np.isfinite(value):
        return 1e300, np.zeros(4)
    w3 = np.exp(l3 - both)
    w4 = np.exp(l4 - both)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w3 * np.log(alpha + T)
    d_r -= w4 * np.log(alpha + t_x)
    d_alpha = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + t_x))
    d_a = digamma(a + b) - digamma(a + b + x) + w4 / a
    d_b = digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x) - w4 / safe
    gradient = np.array([weights @ d for d in (d_r, d_alpha, d_a, d_b)])
    return value, -gradient * np.array([r, alpha, a, b])


def _starts(x: Array, T: Array) -> list[Array]:  # noqa: N803
    """Log-parameter starting points: the unit point lifetimes uses, and one whose alpha
    matches the observed purchase rate (alpha is in the data's time unit: days want an
    alpha near a hundred, weeks one near ten)."""
    rate = max(float(np.sum(x)) / max(float(np.sum(T)), 1e-9), 1e-6)
    return [np.zeros(4), np.log([1.0, 1.0 / rate, 1.0, 3.0]), np.log([0.5, 0.5 / rate, 0.8, 2.5])]


def fit(x: ArrayLike, t_x: ArrayLike, T: ArrayLike, *, min_customers: int = 10) -> BgNbdParams:  # noqa: N803
    """Maximum likelihood estimates of (r, alpha, a, b), summing eq. (6) over customers.

    Customers with the same (x, t_x, T) are counted once with a weight (data recorded by the
    day repeat a lot), and the optimiser works on log-parameters, so every trial point is
    positive, from a few starting points, keeping the best."""
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)  # noqa: N806
    if x.size < min_customers:
        raise FitError(f"{x.size} customers; the model needs at least {min_customers}")
    if not np.any(x > 0):
        raise FitError("no customer bought a second time: repeat purchases are needed")
    rows, weights = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    ux, ut, uT = rows[:, 0], rows[:, 1], rows[:, 2]  # noqa: N806

    weights = weights.astype(float)

    def negative(log_params: Array) -> tuple[float, Array]:
        return negative_log_likelihood(log_params, ux, ut, uT, weights)

    best = best_of(negative, _starts(x, T), bounds=[(-15.0, 15.0)] * 4)
    r, alpha, a, b = np.exp(best.x)
    return BgNbdParams(float(r), float(alpha), float(a), float(b), float(-best.fun))


def best_of(
    negative: Callable[[Array], tuple[float, Array]],
    starts: list[Array],
    bounds: list[tuple[float, float]],
) -> OptimizeResult:
    """The lowest of L-BFGS-B's minima (with the analytic gradient) from each start. Where
    L-BFGS-B stops without converging (flat valleys: the likelihood of a few customers, or a
    parameter running to its bound), Nelder-Mead polishes its answer. Two starts that agree
    end the search."""
    best: OptimizeResult | None = None
    for start in starts:
        found = minimize(negative, start, jac=True, method="L-BFGS-B", bounds=bounds)
        if not found.success:
            polished = minimize(
                lambda params: negative(params)[0],
                found.x,
                method="Nelder-Mead",
                options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 2000},
            )
            found = polished if polished.fun <= found.fun else found
        if best is not None and abs(found.fun - best.fun) < AGREE:
            return best if best.fun <= found.fun else found
        if best is None or found.fun < best.fun:
            best = found
    return best


def probability_alive(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Array:  # noqa: N803
    """P(alive | x, t_x, T), Fader, Hardie & Lee's note "Computing P(alive) using the BG/NBD
    model" (2008): 1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)).

    A customer who never bought again is alive for sure: in BG/NBD one drops out only right
    after a purchase."""
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)  # noqa: N806
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    safe = np.where(repeat, b + x - 1, 1.0)
    ln_odds = np.log(a) - np.log(safe) + (r + x) * np.log((alpha + T) / (alpha + t_x))
    return np.where(repeat, 1.0 / (1.0 + np.exp(np.minimum(ln_odds, 700.0))), 1.0)


def _ln_hyp2f1(a: Array, b: Array, c: Array, z: Array) -> Array:
    """ln 2F1(a, b; c; z) for 0 <= z < 1.

    scipy's hyp2f1 overflows (inf) or fails (nan) when c - a - b is very negative and z is
    near 1; Euler's transformation 2F1(a, b; c; z) = (1 - z)^(c - a - b) 2F1(c - a, c - b; c; z)
    gives the same value from a series that stays finite there. What is still not finite
    after both is summed term by term in logs."""
    with np.errstate(all="ignore"):
        direct = hyp2f1(a, b, c, z)
        ln_value = np.where(direct > 0, np.log(np.where(direct > 0, direct, 1.0)), np.nan)
        bad = ~np.isfinite(ln_value)
        if np.any(bad):
            euler = hyp2f1(c - a, c - b, c, z)
            ln_euler = np.where(
                euler > 0,
                np.log(np.where(euler > 0, euler, 1.0)) + (c - a - b) * np.log1p(-z),
                np.nan,
            )
            ln_value = np.where(bad, ln_euler, ln_value)
        for i in np.flatnonzero(~np.isfinite(ln_value)):
            ln_value[i] = _ln_hyp2f1_series(float(a[i]), float(b[i]), float(c[i]), float(z[i]))
    return ln_value


def _ln_hyp2f1_series(a: float, b: float, c: float, z: float) -> float:
    """The defining series sum_k (a)_k (b)_k / ((c)_k k!) z^k, with positive terms here
    (a, b, c > 0, 0 <= z < 1), accumulated in logs until a term no longer counts."""
    ln_term, ln_total = 0.0, 0.0
    for k in range(1_000_000):
        ln_term += np.log((a + k) * (b + k) / ((c + k) * (k + 1)) * z) if z > 0 else -np.inf
        ln_total = float(np.logaddexp(ln_total, ln_term))
        if ln_term < ln_total - 40 and (a + k) * (b + k) * z < (c + k) * (k + 1):
            break
    return ln_total


def expected_purchases(
    params: BgNbdParams, t: float, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> Array:  # noqa: N803
    """E[Y(t) | x, t_x, T]: the expected purchases in the next t time units, FHL 2005 eq. (10):

    (a + b + x - 1) / (a - 1) * [1 - ((alpha + T) / (alpha + T + t))^(r + x)
        * 2F1(r + x, b + x; a + b + x - 1; t / (alpha + T + t))]
    / (1 + [x > 0] a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x)).

    The denominator is 1 / P(alive). At a = 1 exactly the first factor is 0/0; the value
    there is the limit, taken by evaluating just beside it."""
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)  # noqa: N806
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if abs(a - 1.0) < 1e-6:
        a = 1.0 + 1e-6
    z = np.full_like(T, t) / (alpha + T + t)
    ln_hyp = _ln_hyp2f1(r + x, b + x, a + b + x - 1, z)
    ln_scaled = (r + x) * np.log((alpha + T) / (alpha + T + t)) + ln_hyp
    # 1 - exp(ln_scaled), exact when ln_scaled is close to 0 (a short horizon t).
    bracket = -np.expm1(ln_scaled)
    first = (a + b + x - 1) / (a - 1)
    return first * bracket * probability_alive(params, x, t_x, T)
