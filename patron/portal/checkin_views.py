"""Activities (issue 19) on the member pages:
daily check-in on the member pages: streak, points.

Owner: that activities part."""

from django.http import Http404, HttpRequest, HttpResponse

from patron.portal.session import member_page


@member_page
def checkin(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module
