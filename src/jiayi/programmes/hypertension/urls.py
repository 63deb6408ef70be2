"""The hypertension programme's own pages (mounted by the engine under its register, namespace
``programmes:hypertension``)."""

from django.urls import path

from jiayi.programmes.hypertension import views

urlpatterns = [
    path("screening/", views.screening, name="screening"),
    path("screening/residents/<int:resident_id>/", views.screening_measure, name="screening_measure"),
]
