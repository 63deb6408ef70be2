"""Resident pages (names without a namespace: ``resident_detail`` etc. are linked from every app)."""

from django.urls import path

from jiayi.residents import views

urlpatterns = [
    path("residents/", views.resident_search, name="resident_search"),
    path("residents/new/", views.resident_create, name="resident_create"),
    path("residents/<int:pk>/", views.resident_detail, name="resident_detail"),
    path("residents/<int:pk>/edit/", views.resident_edit, name="resident_edit"),
    path("residents/<int:pk>/measurements/", views.measurement_add, name="measurement_add"),
    path("residents/<int:pk>/problems/", views.problems_section, name="problems_section"),
    path("residents/<int:pk>/problems/add/", views.problem_add, name="problem_add"),
    path("residents/<int:pk>/problems/<int:problem_id>/edit/", views.problem_edit, name="problem_edit"),
    path("residents/<int:pk>/problems/<int:problem_id>/resolve/", views.problem_resolve, name="problem_resolve"),
    path("residents/<int:pk>/problems/<int:problem_id>/remove/", views.problem_remove, name="problem_remove"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("codes/icd10/", views.icd10_search, name="icd10_search"),
]
