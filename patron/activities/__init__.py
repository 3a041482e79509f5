"""Activities that bring members back (API.md §11): points mall, lottery, check-in, referral,
member-only events. Limited offers (promotion `limits`) live in promotions and sales, where
the sale is priced and committed."""
