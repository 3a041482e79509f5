"""Staff pages that serve the member pages, mounted at /portal/: join posters, erasure requests."""

from django.urls import path

from patron.portal import erasure_views, poster_views

app_name = "portal_admin"

urlpatterns = [
    path("posters/", poster_views.posters, name="posters"),
    path("posters/<str:code>/", poster_views.poster, name="poster"),
    path("posters/<str:code>/qr.svg", poster_views.poster_qr, name="poster_qr"),
    path("erasure/", erasure_views.requests, name="erasure_list"),
    path("erasure/<int:pk>/", erasure_views.detail, name="erasure_detail"),
]
