from django.contrib.auth import views as auth_views
from django.urls import path

from jiayi.web import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("residents/", views.resident_search, name="resident_search"),
    path("residents/new/", views.resident_create, name="resident_create"),
    path("residents/<int:pk>/", views.resident_detail, name="resident_detail"),
    path("residents/<int:pk>/edit/", views.resident_edit, name="resident_edit"),
    path("residents/<int:pk>/measurements/", views.measurement_add, name="measurement_add"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("audit/", views.audit_log, name="audit_log"),
]
