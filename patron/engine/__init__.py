"""Pure domain rules: money arithmetic, expiry plans, bonus tables, pricing.

No Django import anywhere in this package: plain values in, plain values out, integer fen and
integer points, `now` passed in. That keeps the rules fast, deterministic and property-tested.
"""
