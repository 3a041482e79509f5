"""Who may open which console page: login, staff membership and role rules."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

CONSOLE_URLS = [
    "/",
    "/members/",
    "/members/new/",
    "/stores/",
    "/staff/",
    "/api-keys/",
    "/audit/",
]
HQ_ONLY_URLS = [
    "/stores/",
    "/stores/new/",
    "/staff/",
    "/staff/new/",
    "/api-keys/",
    "/api-keys/new/",
]


@pytest.mark.parametrize("url", CONSOLE_URLS)
def test_anonymous_visitors_are_sent_to_the_login_page(db, url):
    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


def test_htmx_request_after_logout_redirects_the_whole_page(db):
    response = Client().get(
        "/members/",
        {"q": "138"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/members/?q=13"},
    )

    assert response.status_code == 204
    assert response["HX-Redirect"] == "/login/?next=/members/%3Fq%3D13"


def test_login_page_logs_a_staff_member_in(hq):
    client = Client(headers={"Accept-Language": "en"})

    page = client.get("/login/")
    response = client.post("/login/", {"username": "hq", "password": "password123"})

    assert page.status_code == 200
    assert b'name="username"' in page.content
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_wrong_password_shows_an_error_on_the_login_page(hq):
    client = Client(headers={"Accept-Language": "en"})

    response = client.post("/login/", {"username": "hq", "password": "wrong-one"})

    assert response.status_code == 200
    assert b"alert-error" in response.content
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session(hq_client):
    response = hq_client.post("/logout/")

    assert response.status_code == 302
    assert hq_client.get("/").status_code == 302


def test_user_without_staff_role_gets_a_friendly_page(db):
    user = get_user_model().objects.create_user("drifter", password="password123")
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)

    for url in ("/", "/members/", "/stores/", "/audit/"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"No merchant access" in response.content
        assert b"drifter" in response.content


def test_deactivated_staff_lose_access(hq, cashier, hq_client):
    from patron.tenancy.services import update_staff

    client = Client(headers={"Accept-Language": "en"})
    client.force_login(cashier.staff.user)
    update_staff(hq, cashier.staff, is_active=False)

    assert b"No merchant access" in client.get("/members/").content


@pytest.mark.parametrize("url", HQ_ONLY_URLS)
def test_hq_only_pages_refuse_other_roles(url, cashier_client, marketer_client, manager_client):
    for client in (cashier_client, marketer_client, manager_client):
        response = client.get(url)
        assert response.status_code == 403
        assert b"You may not open this page" in response.content


@pytest.mark.parametrize("url", HQ_ONLY_URLS + ["/audit/", "/", "/members/"])
def test_hq_admin_opens_every_page(url, hq_client):
    assert hq_client.get(url).status_code == 200


def test_audit_log_is_for_hq_and_store_managers_only(
    hq_client, manager_client, cashier_client, marketer_client
):
    assert hq_client.get("/audit/").status_code == 200
    assert manager_client.get("/audit/").status_code == 200
    assert cashier_client.get("/audit/").status_code == 403
    assert marketer_client.get("/audit/").status_code == 403


def test_navigation_shows_only_the_areas_a_role_may_open(hq_client, cashier_client):
    hq_page = hq_client.get("/").content.decode()
    cashier_page = cashier_client.get("/").content.decode()

    for link in ('href="/stores/"', 'href="/staff/"', 'href="/api-keys/"', 'href="/audit/"'):
        assert link in hq_page
        assert link not in cashier_page
    # Bulk import is for HQ admins and store managers (patron.members.import_views).
    assert 'href="/members/import/"' in hq_page
    assert 'href="/members/import/"' not in cashier_page
    for page in (hq_page, cashier_page):
        assert 'href="/members/"' in page
        assert "Stored value & points" in page
    # Campaigns are for HQ admins and marketers; webhooks for HQ admins.
    assert 'href="/campaigns/"' in hq_page and 'href="/webhooks/"' in hq_page
    assert 'href="/campaigns/"' not in cashier_page


def test_top_bar_names_merchant_user_role_and_store(cashier_client):
    page = cashier_client.get("/").content.decode()

    assert "Acme 连锁" in page
    assert "cashier1" in page
    assert "Cashier" in page
    assert "西湖店" in page


def test_write_pages_refuse_get(hq_client, stores):
    store = stores["S1"]
    assert hq_client.get(f"/stores/{store.pk}/deactivate/").status_code == 405


@pytest.mark.parametrize(
    "asset",
    [
        "/static/patron/patron.css",
        "/static/patron/console.js",
        "/static/patron/vendor/htmx.min.js",
        "/static/patron/favicon.svg",
    ],
)
def test_console_assets_are_served_locally(db, asset):
    # No CDN: stores have slow networks and many CDNs are blocked in China.
    response = Client().get(asset)

    assert response.status_code == 200
    assert b"".join(response.streaming_content if response.streaming else [response.content])


def test_pages_load_nothing_from_other_hosts(hq_client, stores):
    for url in ("/", "/members/", "/members/new/", "/stores/", "/audit/"):
        page = hq_client.get(url).content.decode()
        assert 'src="http' not in page and 'href="http' not in page, url


def test_store_manager_navigation(manager_client):
    page = manager_client.get("/").content.decode()

    assert 'href="/members/import/"' in page
    assert 'href="/audit/"' in page
    assert 'href="/stores/"' not in page and 'href="/staff/"' not in page
