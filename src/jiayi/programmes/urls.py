"""Programme pages. Fixed pages sit at fixed first segments; everything of one programme sits under
``registers/<programme>/`` (the engine's register, enrolment and visit pages, then the programme's own
URLconf, ``ProgrammeSpec.urls``, namespaced by its code), so no programme code can shadow a fixed page
and no fixed page can shadow a programme. A programme URLconf that would shadow the engine's pages
under its register ('' or ``residents/...``) is refused at start-up."""

from django.core.exceptions import ImproperlyConfigured
from django.urls import include, path
from django.utils.module_loading import import_module

from jiayi.programmes import engine, views

app_name = "programmes"

programme_patterns = [
    path("", views.register, name="register"),
    path("residents/<int:resident_id>/enrol/", views.enrol, name="enrol"),
    path("residents/<int:resident_id>/visits/new/", views.visit_new, name="visit_new"),
    path("residents/<int:resident_id>/visits/preview/", views.visit_preview, name="visit_preview"),
]

urlpatterns = [
    path("worklist/", views.worklist, name="worklist"),
    path("referrals/<int:pk>/return/", views.referral_return, name="referral_return"),
    path("screening/cases/<int:pk>/<str:action>/", views.screening_case_action, name="screening_case_action"),
    path("numbers/", views.numbers_page, name="numbers"),
    path("forecast/", views.forecast, name="forecast"),
    path("residents/<int:resident_id>/", views.resident_programmes, name="resident"),
    path("visits/<int:pk>/", views.visit_detail, name="visit_detail"),
    path("visits/<int:pk>/edit/", views.visit_edit, name="visit_edit"),
    path("enrolments/<int:pk>/end/", views.enrolment_end, name="enrolment_end"),
    path("enrolments/<int:pk>/plan/", views.plan, name="plan"),
    path("registers/<slug:programme>/", include(programme_patterns)),
]

ENGINE_PREFIXES = ("residents/",)


def _programme_urls(prog: engine.Programme):
    module = import_module(prog.urls)
    for pattern in module.urlpatterns:
        route = str(pattern.pattern)
        if route in ("", "^", "^$") or route.lstrip("^").startswith(ENGINE_PREFIXES):
            raise ImproperlyConfigured(f"{prog.urls}: {route!r} would shadow the engine's pages of {prog.code!r}")
    return path(f"registers/{prog.code}/", include((module.urlpatterns, prog.code)))


urlpatterns += [_programme_urls(p) for p in engine.all_programmes() if p.urls]
