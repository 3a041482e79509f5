"""Activities (issue 19) on the member pages:
the points mall on the member pages: rewards, redeem, my redemptions.

Owner: that activities part."""

from django.http import Http404, HttpRequest, HttpResponse

from patron.portal.session import member_page


@member_page
def mall_list(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module


@member_page
def mall_reward(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module
