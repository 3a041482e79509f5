"""The console's home page. It stands above every app so it may show figures from any of them
(members today; the insight dashboard will grow here)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from patron.members.selectors import member_figures
from patron.tenancy.permissions import console_view


@console_view
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home/home.html", {"figures": member_figures(request.actor)})
