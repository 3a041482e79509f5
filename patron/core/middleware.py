"""Every answer under /api/ is JSON: Django's own 404 and 405 pages become problem+json."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from patron.core.problems import problem

DETAILS = {
    404: ("not_found", "Not found", "No API operation at this path; see /api/v1/docs."),
    405: ("method_not_allowed", "Method not allowed", "This path does not accept that method."),
}


class ApiProblemMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code in DETAILS
            and "json" not in response.get("Content-Type", "")
        ):
            code, title, detail = DETAILS[response.status_code]
            replaced = problem(response.status_code, code, title, detail)
            if response.has_header("Allow"):
                replaced["Allow"] = response["Allow"]
            return replaced
        return response
