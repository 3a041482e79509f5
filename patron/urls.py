from django.urls import include, path

from patron.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("members/", include("patron.members.urls")),
    path("", include("patron.tenancy.urls")),
]
