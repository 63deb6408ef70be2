from django.urls import path

from jiayi.residents import views

urlpatterns = [
    path("residents/<int:pk>/problems/", views.problems_section, name="problems_section"),
    path("residents/<int:pk>/problems/add/", views.problem_add, name="problem_add"),
    path("residents/<int:pk>/problems/<int:problem_id>/edit/", views.problem_edit, name="problem_edit"),
    path("residents/<int:pk>/problems/<int:problem_id>/resolve/", views.problem_resolve, name="problem_resolve"),
    path("residents/<int:pk>/problems/<int:problem_id>/remove/", views.problem_remove, name="problem_remove"),
    path("codes/icd10/", views.icd10_search, name="icd10_search"),
]
