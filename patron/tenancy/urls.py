from django.contrib.auth import views as auth_views
from django.urls import path

from patron.tenancy import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("stores/", views.store_list, name="store_list"),
    path("stores/new/", views.store_create, name="store_create"),
    path("stores/<int:pk>/edit/", views.store_edit, name="store_edit"),
    path("stores/<int:pk>/deactivate/", views.store_deactivate, name="store_deactivate"),
    path("stores/<int:pk>/activate/", views.store_activate, name="store_activate"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:pk>/edit/", views.staff_edit, name="staff_edit"),
    path("staff/<int:pk>/password/", views.staff_password, name="staff_password"),
    path("staff/<int:pk>/unlock/", views.staff_unlock, name="staff_unlock"),
    path("api-keys/", views.apikey_list, name="apikey_list"),
    path("api-keys/new/", views.apikey_create, name="apikey_create"),
    path("api-keys/<int:pk>/revoke/", views.apikey_revoke, name="apikey_revoke"),
    path("audit/", views.audit_log, name="audit_log"),
]
