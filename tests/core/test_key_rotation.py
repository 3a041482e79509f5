"""Values encrypted under an earlier key stay readable (fallbacks, and the old development key
for installs that ran on it), `patron reencrypt` moves them to the current key, and nothing
signed with the old development key is accepted."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core import signing
from django.core.management import call_command
from django.db import connection

from patron.core.fields import _fernet, is_current
from patron.core.secrets import LEGACY_DEVELOPMENT_KEY
from patron.members.models import Member
from patron.members.services import register_member
from patron.sales.services import QR_PREFIX, QR_SALT

pytestmark = pytest.mark.django_db
VALID_ID = "11010519491231002X"


def stored(member_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM members_member WHERE id = %s", [member_id])
        return cursor.fetchone()[0]


def store_encrypted_under(member_id: int, fernet: Fernet, value: str = VALID_ID) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE members_member SET id_number = %s WHERE id = %s",
            [fernet.encrypt(value.encode()).decode(), member_id],
        )


def reencrypt() -> str:
    out = io.StringIO()
    call_command("reencrypt", "--batch-size", "2", stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def member(system, stores) -> Member:
    return register_member(system, {"mobile": "13800138000", "id_number": VALID_ID})


def test_nothing_is_encrypted_under_the_old_development_key(member, settings):
    assert settings.SECRET_KEY != LEGACY_DEVELOPMENT_KEY
    assert LEGACY_DEVELOPMENT_KEY not in settings.SECRET_KEY_FALLBACKS
    assert is_current(stored(member.pk))


def test_values_from_installs_on_the_old_development_key_stay_readable_then_move(member):
    store_encrypted_under(member.pk, _fernet(LEGACY_DEVELOPMENT_KEY))
    assert not is_current(stored(member.pk))
    assert Member.objects.get(pk=member.pk).id_number == VALID_ID

    report = (
        "members.Member.id_number: 1 re-encrypted, 0 already current, 0 unreadable\n"
        # Every encrypted column is covered, the channels' provider secrets too (none here).
        "campaigns.ChannelSettings.secrets: 0 re-encrypted, 0 already current, 0 unreadable\n"
    )
    assert reencrypt() == report
    assert is_current(stored(member.pk))
    assert Member.objects.get(pk=member.pk).id_number == VALID_ID
    # Idempotent: a second run finds everything current.
    assert "0 re-encrypted, 1 already current" in reencrypt()


def test_a_rotated_key_reads_through_fallbacks_and_reencrypt_finishes_the_rotation(
    system, stores, settings
):
    settings.SECRET_KEY = "the-old-key-" + "o" * 40
    members = [
        register_member(system, {"mobile": mobile, "id_number": VALID_ID})
        for mobile in ("13800138000", "13800138001", "13800138002")
    ]
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = (
        "the-new-key-" + "n" * 40,
        [settings.SECRET_KEY],
    )
    assert [Member.objects.get(pk=m.pk).id_number for m in members] == [VALID_ID] * 3

    assert "3 re-encrypted, 0 already current, 0 unreadable" in reencrypt()
    settings.SECRET_KEY_FALLBACKS = []  # the old key can now be dropped
    assert [Member.objects.get(pk=m.pk).id_number for m in members] == [VALID_ID] * 3


def test_values_under_an_unknown_key_are_counted_and_left_unchanged(member):
    store_encrypted_under(member.pk, _fernet("a-key-nobody-has-" + "z" * 40))
    before = stored(member.pk)
    errors = io.StringIO()
    out = io.StringIO()
    call_command("reencrypt", stdout=out, stderr=errors)
    assert "0 re-encrypted, 0 already current, 1 unreadable" in out.getvalue()
    assert "PATRON_SECRET_KEY_FALLBACKS" in errors.getvalue()
    assert stored(member.pk) == before


def test_a_qr_token_signed_with_the_old_development_key_is_refused(api, member):
    forged = signing.TimestampSigner(key=LEGACY_DEVELOPMENT_KEY, salt=QR_SALT).sign(
        f"{member.merchant_id}.{member.pk}"
    )
    response = api.get("/api/v1/identify", {"code": QR_PREFIX + forged})
    assert response.status_code == 422 and response.json()["code"] == "qr_invalid"
