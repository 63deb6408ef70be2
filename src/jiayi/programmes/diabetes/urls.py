"""The diabetes programme's own pages (mounted by the engine under its register, namespace
``programmes:diabetes``)."""

from django.urls import path

from jiayi.programmes.diabetes import views

urlpatterns = [
    path("screening/", views.screening, name="screening"),
    path("screening/residents/<int:resident_id>/", views.screening_measure, name="screening_measure"),
]
