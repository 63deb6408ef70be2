"""Domain validation errors: raised by services, shown as field messages on pages and 422 in the API."""

from __future__ import annotations

from collections.abc import Mapping


class DomainValidationError(Exception):
    """Bad input that changes nothing. `errors` maps a field path ('' for the whole input) to messages."""

    def __init__(self, errors: Mapping[str, str | list[str]] | str, *, code: str = "invalid"):
        if isinstance(errors, str):
            errors = {"": errors}
        self.errors: dict[str, list[str]] = {
            k: ([v] if isinstance(v, str) else list(v)) for k, v in errors.items()
        }
        self.code = code
        super().__init__("; ".join(f"{k}: {' '.join(v)}" if k else " ".join(v) for k, v in self.errors.items()))

    def to_django(self):
        from django.core.exceptions import ValidationError

        return ValidationError({(k or "__all__"): v for k, v in self.errors.items()})


class ConflictError(DomainValidationError):
    """The write collided with a concurrent one (answered 409 in the API); nothing was stored."""

    def __init__(self, errors: Mapping[str, str | list[str]] | str):
        super().__init__(errors, code="conflict")


class ConcurrentEditError(ConflictError):
    """The row changed since the caller read it (version mismatch)."""

    def __init__(self, message: str):
        super().__init__({"version": message})
