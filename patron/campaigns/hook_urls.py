"""Unauthenticated endpoints the outside world calls: providers' pushes and the email
unsubscribe page. Mounted at /campaigns/hooks/ (patron/urls.py)."""

from django.urls import path

from patron.campaigns import hook_views

app_name = "campaign_hooks"

urlpatterns = [
    path("sms/<str:provider>/<str:token>/", hook_views.sms_hook, name="sms"),
    path("wechat/<str:token>/", hook_views.wechat_hook, name="wechat"),
    path("unsubscribe/<str:token>/", hook_views.unsubscribe, name="unsubscribe"),
]
