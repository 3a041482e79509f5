import pytest
from django.db import connection

from patron.members.models import Member
from patron.members.services import register_member

pytestmark = pytest.mark.django_db
VALID_ID = "11010519491231002X"


def raw_id_number(member_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM members_member WHERE id = %s", [member_id])
        return cursor.fetchone()[0]


def test_a_changed_secret_key_hides_but_never_erases_id_numbers(system, stores, settings):
    member = register_member(system, {"mobile": "13800138000", "id_number": VALID_ID})
    stored = raw_id_number(member.pk)
    assert VALID_ID not in stored  # ciphertext at rest

    original_key = settings.SECRET_KEY
    settings.SECRET_KEY = "another-key"
    unreadable = Member.objects.get(pk=member.pk)
    assert unreadable.id_number == ""
    unreadable.name = "张三"
    unreadable.save()  # must not overwrite the ID number with ""
    assert raw_id_number(member.pk) == stored

    settings.SECRET_KEY = original_key  # putting the old key back brings the data back
    assert Member.objects.get(pk=member.pk).id_number == VALID_ID
