"""/m/messages: the campaigns inbox with unread counts, one message, opt-out per channel.

Owner: the history part."""

from django.http import Http404, HttpRequest, HttpResponse

from patron.portal.session import member_page


@member_page
def messages(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module


@member_page
def message(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module


@member_page
def opt_out(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module
