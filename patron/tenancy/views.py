from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from patron.members.selectors import member_figures


@login_required
def home(request):
    figures = member_figures(request.actor) if request.actor else None
    return render(request, "tenancy/home.html", {"figures": figures})
