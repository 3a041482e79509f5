"""BG/NBD and Gamma-Gamma against the published CDNOW fits and against values computed
independently (numerical integration over the mixing distributions)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy import integrate, optimize
from scipy.special import beta as beta_fn
from scipy.special import gammaln

from patron.insight.clv import bgnbd, gamma_gamma, prepare
from patron.insight.clv.fitting import fit_summary
from tests.insight.value_data import cdnow_rows

# Fader, Hardie & Lee (2005), table/text of §5: the 39-week calibration of the 2,357 sample.
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
# Fader & Hardie, "The Gamma-Gamma model of monetary value": the same cohort's 946 calibration
# repeaters, values in dollars (lifetimes' test_params_out_is_close_to_Hardie_paper: 6.25,
# 3.74, 15.44).
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
CALIBRATION_END = dt.date(1997, 9, 30)


@pytest.fixture(scope="module")
def cdnow() -> prepare.Summary:
    customers, days, amounts = zip(*cdnow_rows(), strict=True)
    frame = prepare.purchases_frame(list(customers), list(days), list(amounts))
    return prepare.summarise(frame, CALIBRATION_END, "week")


@pytest.fixture(scope="module")
def cdnow_fit(cdnow):
    return fit_summary(cdnow)


def test_cdnow_summary_matches_the_papers_inputs(cdnow):
    assert len(cdnow) == 2357
    assert cdnow.repeaters == 946
    # Customer 1 bought on 1997-01-01, -01-18, -08-02: x = 2, t_x = 30.43, T = 38.86 weeks.
    assert cdnow.frequency[0] == 2
    assert cdnow.recency[0] == pytest.approx(30.43, abs=0.005)
    assert cdnow.T[0] == pytest.approx(272 / 7) == pytest.approx(38.86, abs=0.005)
    assert cdnow.monetary[0] == pytest.approx((2973 + 1496) / 2)  # cents, repeat days only


def test_cdnow_bgnbd_fit_within_1_percent_of_published_r_alpha_a_b(cdnow_fit):
    counts, _values = cdnow_fit
    fitted = counts.as_dict()
    for name, published in PUBLISHED_BGNBD.items():
        assert fitted[name] == pytest.approx(published, rel=0.01), (
            f"CDNOW BG/NBD {name}={fitted[name]:.4f}, published {published}: not within 1 %"
        )
    assert counts.ll == pytest.approx(-9582.4, abs=0.1)  # the paper's log-likelihood


def test_cdnow_gamma_gamma_fit_within_1_percent_of_published_p_q_v(cdnow_fit):
    _counts, values = cdnow_fit
    fitted = values.as_dict()
    fitted["v"] /= 100  # the rows are in cents; the note's v is in dollars
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert fitted[name] == pytest.approx(published, rel=0.01), (
            f"CDNOW Gamma-Gamma {name}={fitted[name]:.4f}, published {published}: not within 1 %"
        )


PAPER = bgnbd.BgNbdParams(0.243, 4.414, 0.793, 2.426, float("nan"))


def test_p_alive_is_one_without_repeat_purchases():
    alive = bgnbd.probability_alive(PAPER, [0, 0, 0], [0, 0, 0], [1.0, 38.86, 500.0])
    assert alive.tolist() == [1.0, 1.0, 1.0]


def test_p_alive_is_a_probability_and_falls_with_t_for_fixed_x_and_t_x():
    T = np.linspace(10, 200, 50)  # noqa: N806
    for x, t_x in [(1, 2.0), (2, 9.5), (10, 10.0), (60, 9.9)]:
        alive = bgnbd.probability_alive(PAPER, np.full_like(T, x), np.full_like(T, t_x), T)
        assert np.all((alive >= 0) & (alive <= 1))
        assert np.all(np.diff(alive) < 0)


def integrated(params: bgnbd.BgNbdParams, t: float, x: int, t_x: float, T: float):  # noqa: N803
    """(P(alive), E[Y(t)]) by integrating over p ~ Beta(a, b) numerically, with the Poisson
    rate's Gamma(r, alpha) integrated in closed form for each p: no 2F1 involved.

    Individual level (FHL 2005 eq. 3): L = (1-p)^x lam^x e^(-lam T) + [x>0] p (1-p)^(x-1)
    lam^x e^(-lam t_x); alive with weight (1-p)^x lam^x e^(-lam T); an alive customer buys
    (1/p)(1 - e^(-lam p t)) more in t."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b

    def gamma_moment(rate_shift: float) -> float:  # E_lam[lam^x e^(-lam s)] / common factor
        return math.exp(-(r + x) * math.log(alpha + rate_shift))

    def over_p(f) -> float:
        value, _err = integrate.quad(f, 0, 1, weight="alg", wvar=(a - 1, b - 1), limit=200)
        return value / beta_fn(a, b)

    alive = over_p(lambda p: (1 - p) ** x) * gamma_moment(T)
    dead = over_p(lambda p: p * (1 - p) ** (x - 1)) * gamma_moment(t_x) if x > 0 else 0.0

    def buys(p: float) -> float:  # at p = 0 the limit: d/dp of the moment difference
        if p == 0:
            return (r + x) * t * (alpha + T) ** (-(r + x) - 1)
        return (1 - p) ** x / p * (gamma_moment(T) - gamma_moment(T + p * t))

    bought = over_p(buys)
    return alive / (alive + dead), bought / (alive + dead)


@pytest.mark.parametrize(
    ("t", "x", "t_x", "T"),
    [(39, 2, 30.43, 38.86), (39, 0, 0, 38.86), (52, 7, 20.0, 35.0), (13, 1, 1.0, 70.0)],
)
def test_expected_purchases_and_p_alive_match_numerical_integration(t, x, t_x, T):  # noqa: N803
    want_alive, want_bought = integrated(PAPER, t, x, t_x, T)
    got = bgnbd.expected_purchases(PAPER, t, [x], [t_x], [T])[0]
    assert got == pytest.approx(want_bought, rel=1e-6)
    assert bgnbd.probability_alive(PAPER, [x], [t_x], [T])[0] == pytest.approx(want_alive)


def test_expected_purchases_of_the_papers_example_customer():
    # FHL 2005 §5: x = 2, t_x = 30.43, T = 38.86 is expected to buy 1.226 times in 39 weeks.
    assert bgnbd.expected_purchases(PAPER, 39, [2], [30.43], [38.86])[0] == pytest.approx(
        1.226, abs=0.001
    )


def test_hypergeometric_edge_where_scipy_overflows_stays_finite():
    # Many repeat purchases and a horizon long against alpha + T: scipy's 2F1 is inf here.
    params = bgnbd.BgNbdParams(0.5, 2.0, 0.8, 2.5, float("nan"))
    got = bgnbd.expected_purchases(params, 5000.0, [300, 800], [99.0, 99.0], [100.0, 100.0])
    assert np.all(np.isfinite(got)) and np.all(got > 0)
    a, b, c, z = 0.5 + 300, 2.5 + 300, 0.8 + 2.5 + 299, 5000 / 5102
    series = bgnbd._ln_hyp2f1_series(a, b, c, z)
    assert bgnbd._ln_hyp2f1(*(np.array([v]) for v in (a, b, c, z)))[0] == pytest.approx(series)


def test_expected_purchases_at_a_equal_to_one_is_the_limit():
    near = [bgnbd.BgNbdParams(0.3, 5.0, a, 2.0, 0.0) for a in (1 - 1e-4, 1.0, 1 + 1e-4)]
    values = [bgnbd.expected_purchases(p, 30, [3], [20.0], [30.0])[0] for p in near]
    assert np.all(np.isfinite(values))
    assert values[1] == pytest.approx(values[0], rel=1e-3) == pytest.approx(values[2], rel=1e-3)


def test_bgnbd_likelihood_is_the_papers_eq_6_for_one_customer():
    r, alpha, a, b = 0.5, 3.0, 0.9, 2.0
    x, t_x, T = 3, 5.0, 9.0  # noqa: N806
    a1 = math.exp(gammaln(r + x) - gammaln(r)) * alpha**r
    a2 = math.exp(gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x))
    a3 = (alpha + T) ** -(r + x)
    a4 = a / (b + x - 1) * (alpha + t_x) ** -(r + x)
    got = bgnbd.log_likelihood([r, alpha, a, b], [x], [t_x], [T])[0]
    assert got == pytest.approx(math.log(a1 * a2 * (a3 + a4)))


def test_gamma_gamma_density_integrates_to_one_and_expectation_shrinks_to_the_mean():
    params = gamma_gamma.GammaGammaParams(6.25, 3.74, 15.44, 0.0)
    for x in (1, 4):
        mass, _err = integrate.quad(
            lambda z, x=x: math.exp(gamma_gamma.log_likelihood([6.25, 3.74, 15.44], [x], [z])[0]),
            0,
            np.inf,
        )
        assert mass == pytest.approx(1.0, rel=1e-6)
    population = 6.25 * 15.44 / (3.74 - 1)
    assert gamma_gamma.expected_average_value(params, [0], [0])[0] == pytest.approx(population)
    few, many = gamma_gamma.expected_average_value(params, [1, 50], [100.0, 100.0])
    assert population < few < many < 100.0


def test_fits_refuse_data_without_repeat_purchases():
    with pytest.raises(bgnbd.FitError):
        bgnbd.fit(np.zeros(50), np.zeros(50), np.full(50, 10.0))
    with pytest.raises(bgnbd.FitError):
        gamma_gamma.fit([1, 2], [10.0, 12.0])


def test_analytic_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 8, 300).astype(float)
    T = rng.random(300) * 40 + 1  # noqa: N806
    t_x = np.where(x > 0, rng.random(300) * T, 0.0)
    weights = rng.integers(1, 4, 300).astype(float)
    start = np.log([0.3, 5.0, 0.8, 2.5])
    _value, gradient = bgnbd.negative_log_likelihood(start, x, t_x, T, weights)
    numeric = optimize.approx_fprime(
        start, lambda p: bgnbd.negative_log_likelihood(p, x, t_x, T, weights)[0], 1e-6
    )
    assert gradient == pytest.approx(numeric, rel=1e-5, abs=1e-3)
    z = rng.gamma(3, 10, 300)
    start = np.log([5.0, 3.0, 15.0])
    _value, gradient = gamma_gamma.negative_log_likelihood(start, x + 1, z)
    numeric = optimize.approx_fprime(
        start, lambda p: gamma_gamma.negative_log_likelihood(p, x + 1, z)[0], 1e-6
    )
    assert gradient == pytest.approx(numeric, rel=1e-5, abs=1e-3)
