from django.urls import path

from jiayi.indicators import views

app_name = "indicators"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("compute/", views.compute, name="compute"),
    path("groups/<slug:group>/", views.group, name="group"),
    path("presets/", views.presets, name="presets"),
    path("presets/<slug:code>/", views.preset, name="preset"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:pk>/", views.report, name="report"),
    path("reports/<int:pk>/review/", views.report_review, name="report_review"),
    path("reports/<int:pk>/resubmit/", views.report_resubmit, name="report_resubmit"),
    path("<str:level>/<int:unit_id>/", views.unit, name="unit"),
    path("<str:level>/<int:unit_id>/<str:indicator>/residents/", views.residents, name="residents"),
]
