"""The shell's pages: login, the home page (with the panels other apps register) and the audit log.

Access: anonymous users are sent to the login page; the audit log is for auditors only (others 404).
"""

from __future__ import annotations

import json

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayi.core.access import is_staff_user
from jiayi.core.scoping import can_audit
from jiayi.web import panels
from jiayi.web import selectors as web_selectors
from jiayi.web.forms import AuditFilterForm, ThrottledAuthenticationForm


def _int_param(request: HttpRequest, name: str, default: int = 1) -> int:
    try:
        return max(1, min(int(request.GET.get(name, default)), 100_000))
    except (TypeError, ValueError):
        return default


def _greeting() -> str:
    hour = timezone.localtime().hour
    if hour < 11:
        return _("上午好")
    if hour < 13:
        return _("中午好")
    if hour < 18:
        return _("下午好")
    return _("晚上好")


class LoginView(auth_views.LoginView):
    """Django's login page with failed logins throttled: a throttled attempt answers 429 with
    Retry-After and the form's message."""

    template_name = "web/login.html"
    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form: ThrottledAuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.retry_after is not None:
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


# ---------------------------------------------------------------------------------------------
# Home
# ---------------------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    staff_user = is_staff_user(request.user)
    return render(
        request,
        "web/home.html",
        {
            "greeting": _greeting(),
            "is_staff_user": staff_user,
            "home_summaries": panels.home_summaries() if staff_user else [],
            "home_panels": panels.home_panels() if staff_user else [],
            "today": timezone.localdate(),
        },
    )


# ---------------------------------------------------------------------------------------------
# Audit log (auditors only)
# ---------------------------------------------------------------------------------------------


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    if not can_audit(request.user):
        raise Http404
    form = AuditFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else web_selectors.AuditFilters()
    tab = "changes" if request.GET.get("tab") == "changes" else "access"
    page_no = _int_param(request, "page")
    if tab == "changes":
        page = web_selectors.change_entries(request.user, filters, page=page_no)
    else:
        page = web_selectors.access_events(request.user, filters, page=page_no)
        for event in page.items:
            event.detail_text = json.dumps(event.detail, ensure_ascii=False) if event.detail else ""
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("tab", None)
    return render(
        request,
        "web/audit_log.html",
        {"form": form, "page": page, "tab": tab, "query": params.urlencode()},
    )
