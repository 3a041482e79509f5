"""Pinyin search for names: `wang` finds 王, `zs` or `zhangsan` finds 张三 (console, API)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.test import Client

from patron.members.models import Member
from patron.members.pinyin import name_pinyin
from patron.members.selectors import search_members
from patron.members.services import bulk_register, register_member, update_member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("张三", "zhangsan zs"),
        ("王小明", "wangxiaoming wxm"),
        ("欧阳娜娜", "ouyangnana oynn"),
        # 曾 reads ceng on its own, zeng as a surname: both spellings find her.
        ("曾小贤", "cengxiaoxian cxx zengxiaoxian zxx"),
        ("Alice Li", "aliceli a"),
        ("", ""),
    ],
)
def test_a_name_is_kept_as_run_together_pinyin_and_initials(name, stored):
    assert name_pinyin(name) == stored


@pytest.fixture
def people(hq):
    def make(name: str, mobile: str) -> Member:
        return register_member(hq, {"name": name, "mobile": mobile})

    return {
        "wang": make("王小明", "13800138001"),
        "zhangsan": make("张三", "13800138002"),
        "zhangshan": make("张珊", "13900139003"),
        "li": make("李雷", "13700137004"),
    }


def found(hq, q: str) -> set[str]:
    return set(search_members(hq, q).values_list("name", flat=True))


@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("wang", {"王小明"}),
        ("Wang", {"王小明"}),
        ("wxm", {"王小明"}),
        ("zs", {"张三", "张珊"}),
        ("zhangsan", {"张三"}),
        ("zhang san", {"张三"}),
        ("ZHANGSHAN", {"张珊"}),
        # Letters and digits together: the name's pinyin and the mobile's end (or start).
        ("zs 8002", {"张三"}),
        ("zs9003", {"张珊"}),
        ("zs 139", {"张珊"}),
        ("wang 8002", set()),
        # Plain searches keep working.
        ("王", {"王小明"}),
        ("张三", {"张三"}),
        ("138 0013 8001", {"王小明"}),
        ("7004", {"李雷"}),
        ("qq", set()),
    ],
)
def test_search_by_pinyin_name_and_mobile_digits(hq, people, q, names):
    assert found(hq, q) == names


def test_the_referral_code_still_finds_its_member(hq, people):
    code = people["li"].referral_code
    assert found(hq, code.lower()) == {"李雷"}


def test_renaming_a_member_renews_the_pinyin(hq, people):
    update_member(hq, people["li"], {"name": "韩梅梅"})
    assert found(hq, "hmm") == {"韩梅梅"}
    assert found(hq, "lilei") == set()


def test_bulk_registration_stores_the_pinyin(hq):
    bulk_register(hq, [{"name": "赵敏", "mobile": "13600136005"}], channel="import")
    assert Member.objects.get(mobile="13600136005").name_pinyin == "zhaomin zm"
    assert found(hq, "zm") == {"赵敏"}


def test_the_data_migration_fills_members_registered_before(hq, people):
    Member.objects.update(name_pinyin="")
    migration = importlib.import_module("patron.members.migrations.0004_member_name_pinyin")
    migration.fill_name_pinyin(apps, None)
    assert Member.objects.get(pk=people["wang"].pk).name_pinyin == "wangxiaoming wxm"
    assert found(hq, "wang") == {"王小明"}


def test_the_api_searches_pinyin_too(api: Client, people):
    response = api.get("/api/v1/members", {"q": "zs"})
    assert response.status_code == 200
    assert {item["name"] for item in response.json()["items"]} == {"张三", "张珊"}
    response = api.get("/api/v1/members", {"q": "wang"})
    assert [item["name"] for item in response.json()["items"]] == ["王小明"]


def test_the_console_list_searches_pinyin(hq, people):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(hq.staff.user)
    response = client.get("/members/", {"q": "zhangsan"})
    names = {member.name for member, _mobile in response.context["rows"]}
    assert names == {"张三"}
