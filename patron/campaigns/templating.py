"""Message texts with variables (filled in by the channels part).

- `VARIABLES`: the known variable names (`name`, `points`, `expires_at`, `coupon`, ...).
- `check(text) -> list[str]`: translated errors (unknown variable, bad braces); [] when fine.
- `resolve(merchant, ref) -> MessageTemplate`: a template code (the merchant's or a built-in),
  or an inline text / {zh, en} object turned into an unsaved template; DomainError if unknown.
- `render(template, member, context, *, channel) -> tuple[str, str, str]`:
  (language, subject, body) for the member, in their language; SMS bodies end with the
  opt-out line (回T退订); context supplies `points`, `expires_at`, `coupon`, ...
"""
