"""/feedback/: member events, the 待回访 board and follow-ups (F-32)."""

from django.urls import path

from patron.insight import feedback_views as views

app_name = "feedback"
urlpatterns = [
    path("", views.event_list, name="events"),
    path("tasks/", views.task_board, name="tasks"),
    path("tasks/<int:pk>/", views.task_detail, name="task"),
    path("tasks/<int:pk>/close/", views.task_close, name="close"),
    path("tasks/<int:pk>/reassign/", views.task_reassign, name="reassign"),
    path("members/<int:pk>/record/", views.record_event, name="record"),
]
