"""Form helpers shared by the pages of every app."""

from __future__ import annotations

from jiayi.core.errors import DomainValidationError


class DomainErrorsMixin:
    """Puts a service's field errors on the form's fields; unknown paths become form-wide errors."""

    def add_domain_errors(self, exc: DomainValidationError) -> None:
        for field, messages in exc.errors.items():
            target = field if field in self.fields and field != "version" else None  # type: ignore[attr-defined]
            for message in messages:
                self.add_error(target, message)  # type: ignore[attr-defined]
