from django.urls import path

from jiayi.contracts import views

app_name = "contracts"

urlpatterns = [
    path("", views.team_home, name="team_home"),
    path("list/", views.contract_list, name="list"),
    path("teams/<int:pk>/", views.team_detail, name="team"),
    path("teams/<int:pk>/worklist/", views.worklist, name="worklist"),
    path("sign/<int:resident_pk>/", views.sign, name="sign"),
    path("households/<int:household_pk>/", views.household_contracts, name="household"),
    path("households/<int:household_pk>/sign/", views.sign_household, name="sign_household"),
    path("<int:pk>/", views.contract_detail, name="detail"),
    path("<int:pk>/renew/", views.renew, name="renew"),
    path("<int:pk>/terminate/", views.terminate, name="terminate"),
    path("<int:pk>/deliveries/", views.delivery_add, name="delivery_add"),
    path("<int:pk>/deliveries/<int:delivery_pk>/revoke/", views.delivery_revoke, name="delivery_revoke"),
    path("<int:pk>/satisfaction/", views.satisfaction, name="satisfaction"),
    path("packages/", views.package_list, name="packages"),
    path("packages/new/", views.package_new, name="package_new"),
    path("packages/<int:pk>/edit/", views.package_edit, name="package_edit"),
    path("communities/", views.community_list, name="communities"),
    path("communities/new/", views.community_new, name="community_new"),
    path("packages/install-defaults/", views.packages_install, name="packages_install"),
]
