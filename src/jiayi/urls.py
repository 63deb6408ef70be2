from django.contrib import admin
from django.urls import include, path

from jiayi.api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("programmes/", include("jiayi.programmes.urls")),
    path("contracts/", include("jiayi.contracts.urls")),
    path("indicators/", include("jiayi.indicators.urls")),
    path("", include("jiayi.residents.urls")),
    path("", include("jiayi.web.urls")),
]
