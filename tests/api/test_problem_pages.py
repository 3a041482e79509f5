import pytest

pytestmark = pytest.mark.django_db


def test_unknown_api_path_is_problem_json(api):
    response = api.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_wrong_method_is_problem_json_with_allow(api):
    response = api.delete("/api/v1/members")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "method_not_allowed"
    assert "POST" in response["Allow"]


def test_console_404_stays_html(client):
    assert "html" in client.get("/no-such-page/")["Content-Type"]
