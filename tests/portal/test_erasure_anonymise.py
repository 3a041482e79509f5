"""members.services.anonymise_member: every personal field erased, a unique placeholder
mobile per member, consents withdrawn on record, and an audit that names no erased value."""

from __future__ import annotations

import pytest

from patron.members.models import ConsentRecord, Member, MemberStatus
from patron.members.services import anonymise_member, register_member
from patron.tenancy.models import AuditEntry

pytestmark = [pytest.mark.postgres]


def test_two_erased_members_get_distinct_placeholders(system, stores):
    first = register_member(system, {"mobile": "13512345678", "name": "甲", "consent_sms": True})
    second = register_member(system, {"mobile": "13698765432", "name": "乙", "email": "y@x.cn"})
    for member in (first, second):
        anonymise_member(system, member)
    erased = list(Member.objects.filter(pk__in=[first.pk, second.pk]))
    mobiles = {m.mobile for m in erased}
    assert len(mobiles) == 2 and all(len(m) <= 11 and not m.isdigit() for m in mobiles)
    assert all(m.status == MemberStatus.CLOSED and m.name == "" and m.email == "" for m in erased)
    assert ConsentRecord.objects.filter(member=first, topic="sms").latest("id").granted is False


def test_the_audit_says_what_was_erased_not_its_value(system, stores):
    member = register_member(
        system, {"mobile": "13512345678", "name": "林小雨", "address": "文三路 1 号"}
    )
    anonymise_member(system, member)
    entry = AuditEntry.objects.filter(object_type="member", action="update").latest("id")
    assert entry.changes["name"] == ["***", ""] and entry.changes["address"] == ["***", ""]
    assert entry.changes["status"] == ["active", "closed"]
    assert "林小雨" not in str(entry.changes) and "13512345678" not in str(entry.changes)
