"""Customer lifetime value models: BG/NBD (how often, and whether still a customer) and
Gamma-Gamma (how much per purchase), fitted by maximum likelihood with SciPy.

The maths modules (`bgnbd`, `gamma_gamma`, `prepare`) import NumPy, SciPy and Polars only,
never Django, so they can be checked against published figures on their own; `fitting`
reads a merchant's sales and stores the fit.
"""
