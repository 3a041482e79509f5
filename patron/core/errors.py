"""Domain errors with stable codes.

Services raise these; the API turns them into RFC 9457 problem+json, the console into form
errors and the CLI into a readable message with a non-zero exit. The `code` strings are part of
the public contract (API.md §3): never rename one.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": str(self.message)}


@dataclass
class DomainError(Exception):
    detail: str
    code: str = "bad_request"
    status: int = 400
    errors: list[FieldError] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self.detail))

    def __str__(self) -> str:
        if not self.errors:
            return str(self.detail)
        lines = [f"{e.field}: {e.message}" for e in self.errors]
        if str(self.detail) == "; ".join(lines):  # the detail only repeats the errors
            return "\n".join(lines)
        return "\n".join([str(self.detail)] + [f"  {line}" for line in lines])


class ValidationFailed(DomainError):
    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        super().__init__(
            detail=detail or "; ".join(f"{e.field}: {e.message}" for e in errors),
            code="validation_error",
            status=422,
            errors=list(errors),
        )


class NotFound(DomainError):
    def __init__(self, detail: str = "Not found") -> None:
        super().__init__(detail=detail, code="not_found", status=404)


class Conflict(DomainError):
    def __init__(self, detail: str, code: str = "conflict", errors=None) -> None:
        super().__init__(detail=detail, code=code, status=409, errors=list(errors or []))


class PermissionDenied(DomainError):
    def __init__(self, detail: str = "You may not do this") -> None:
        super().__init__(detail=detail, code="forbidden", status=403)
