"""Console pages of the points mall, mounted at /activities/mall/."""

from django.urls import path

from patron.activities import mall_views

app_name = "mall"

urlpatterns = [
    path("", mall_views.rewards, name="rewards"),
    path("redemptions/", mall_views.redemption_list, name="redemptions"),
    path("redemptions/<int:pk>/", mall_views.redemption, name="redemption"),
    path("redemptions/<int:pk>/fulfil", mall_views.fulfil, name="fulfil"),
    path("redemptions/<int:pk>/cancel", mall_views.cancel, name="cancel"),
    path("report/", mall_views.report, name="report"),
    path("redeem/", mall_views.redeem, name="redeem"),
]
