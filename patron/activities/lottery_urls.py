"""Console pages of the lottery part, at /activities/lotteries/ (namespace `lottery`)."""

from django.urls import path

from patron.activities import lottery_views

app_name = "lottery"

urlpatterns = [
    path("", lottery_views.lottery_list, name="list"),
    path("<str:code>/", lottery_views.lottery_detail, name="detail"),
    path("<str:code>/draws/<int:pk>/", lottery_views.draw_verify, name="verify"),
]
