from django.urls import path

from patron.cards import views

app_name = "cards"
urlpatterns = [
    path("", views.lookup, name="lookup"),
    path("<str:card_no>/", views.detail, name="detail"),
    path("<str:card_no>/<slug:step_name>/", views.wizard, name="step"),
]
