"""The member pages, mounted at /m/ (API.md §10). Each area has its own views module."""

from django.urls import path

from patron.portal import (
    auth_views,
    card_views,
    checkin_views,
    event_views,
    history_views,
    lottery_views,
    mall_views,
    message_views,
    privacy_views,
)

app_name = "portal"

urlpatterns = [
    # Card (issue 18 §3)
    path("", card_views.card, name="card"),
    path("qr", card_views.qr, name="qr"),
    path("card/lost", card_views.report_lost, name="report_lost"),
    path("card/face", card_views.face_image, name="card_face"),
    # Joining and logging in (§1, §2)
    path("join", auth_views.join, name="join"),
    path("login", auth_views.login, name="login"),
    path("login/code", auth_views.login_code, name="login_code"),
    path("logout", auth_views.logout, name="logout"),
    path("policy", auth_views.policy, name="policy"),
    # History and messages (§4)
    path("history", history_views.history, name="history"),
    path("history/receipts/<str:ref>", history_views.receipt, name="receipt"),
    path("messages", message_views.messages, name="messages"),
    path("messages/<int:pk>", message_views.message, name="message"),
    path("messages/opt-out", message_views.opt_out, name="opt_out"),
    # Privacy (§5)
    path("privacy", privacy_views.privacy, name="privacy"),
    path("privacy/export.json", privacy_views.export_json, name="export_json"),
    path("privacy/export.xlsx", privacy_views.export_xlsx, name="export_xlsx"),
    path("privacy/correct", privacy_views.correct, name="correct"),
    path("privacy/consent", privacy_views.consent, name="consent"),
    path("privacy/delete", privacy_views.delete, name="delete"),
    # Activities (issue 19): each activities part owns its views module
    path("mall", mall_views.mall_list, name="mall"),
    path("mall/<str:code>", mall_views.mall_reward, name="reward"),
    path("lottery", lottery_views.lottery_list, name="lotteries"),
    path("lottery/<str:code>", lottery_views.lottery_detail, name="lottery"),
    path("checkin", checkin_views.checkin, name="checkin"),
    path("events", event_views.event_list, name="events"),
    path("events/<str:code>", event_views.event_detail, name="event"),
]
