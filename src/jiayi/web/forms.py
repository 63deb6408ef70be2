"""Shell forms: the login form (throttled) and the audit log's filters."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from jiayi.core import throttle
from jiayi.core.middleware import client_addr
from jiayi.web import selectors

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ThrottledAuthenticationForm(AuthenticationForm):
    """The login form, with failed logins throttled per username and per client address like the API
    token endpoint (jiayi.core.throttle). A throttled attempt is refused before the password is checked;
    ``retry_after`` then holds the seconds to wait (the view answers 429)."""

    retry_after: int | None = None

    def clean(self):
        username = self.cleaned_data.get("username")
        if username is None or not self.cleaned_data.get("password"):
            return super().clean()  # a missing field: its own message, no attempt counted
        addr = client_addr(self.request)
        self.retry_after = throttle.retry_after(username, addr)
        if self.retry_after is not None:
            raise ValidationError(throttle.message(self.retry_after), code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            throttle.record_failure(username, addr)
            raise
        throttle.record_success(username)
        return cleaned


# The log's dates lie within these years; at the ends of the calendar the day's bounds overflow.
AUDIT_DATE_RANGE = [MinValueValidator(date(2000, 1, 1)), MaxValueValidator(date(2100, 12, 31))]


class AuditFilterForm(forms.Form):
    user = forms.CharField(label=_("用户名"), max_length=150, required=False)
    resident = forms.IntegerField(label=_("居民编号"), required=False, min_value=1)
    date_from = forms.DateField(
        label=_("开始日期"), required=False, widget=DATE_WIDGET, validators=AUDIT_DATE_RANGE
    )
    date_to = forms.DateField(label=_("结束日期"), required=False, widget=DATE_WIDGET, validators=AUDIT_DATE_RANGE)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return data

    def filters(self) -> selectors.AuditFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return selectors.AuditFilters(
            username=(data.get("user") or "").strip(),
            resident_id=data.get("resident"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
