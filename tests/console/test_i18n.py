"""The console speaks zh-Hans (default) and English: a complete catalogue, compiled and used."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"


def as_dict(catalogue: polib._BaseFile) -> dict[tuple[str | None, str], object]:
    """(context, msgid) -> translation(s), leaving out the header entry."""
    return {
        (entry.msgctxt, entry.msgid): (
            tuple(sorted(entry.msgstr_plural.items())) if entry.msgid_plural else entry.msgstr
        )
        for entry in catalogue
        if entry.msgid
    }


def test_every_message_is_translated_and_none_is_fuzzy():
    po = polib.pofile(str(CATALOGUE / "django.po"))

    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    empty_plurals = [
        entry.msgid for entry in po if entry.msgid_plural and not all(entry.msgstr_plural.values())
    ]

    assert len(po) > 100
    assert untranslated == []
    assert fuzzy == []
    assert empty_plurals == []
    assert not po.metadata_is_fuzzy  # a fuzzy header is dropped by msgfmt, plural rules too


def test_committed_mo_matches_the_po(tmp_path):
    po = polib.pofile(str(CATALOGUE / "django.po"))
    fresh = tmp_path / "django.mo"
    po.save_as_mofile(str(fresh))

    committed = polib.mofile(str(CATALOGUE / "django.mo"))

    assert len(as_dict(committed)) == len(po)
    assert as_dict(committed) == as_dict(polib.mofile(str(fresh))), (
        "django.mo is stale: run `cd patron && ../.venv/bin/patron compilemessages`"
    )


def test_placeholders_survive_translation():
    po = polib.pofile(str(CATALOGUE / "django.po"))
    for entry in po:
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for placeholder in ("%s", "%d", "%(name)s", "%(store)s", "%(user)s", "%(counter)s"):
            if placeholder in entry.msgid:
                assert all(placeholder in text for text in translations), entry.msgid


@pytest.mark.parametrize(
    ("language", "expected", "absent"),
    [
        ("zh-hans", ["会员", "登记会员", "手机号", "首页"], ["Register a member"]),
        ("en", ["Members", "Register a member", "Mobile", "Home"], ["登记会员"]),
    ],
)
def test_member_list_renders_in_each_language(hq, stores, language, expected, absent):
    client = Client(headers={"Accept-Language": language})
    client.force_login(hq.staff.user)

    page = client.get("/members/").content.decode()

    for text in expected:
        assert text in page
    for text in absent:
        assert text not in page
    assert f'<html lang="{language}">' in page


def test_chinese_is_the_default_language(hq, stores):
    client = Client()  # no Accept-Language header, no cookie
    client.force_login(hq.staff.user)

    assert "登记会员" in client.get("/members/").content.decode()


def test_language_switch_posts_to_set_language_and_sticks(hq, stores):
    client = Client(headers={"Accept-Language": "zh-hans"})
    client.force_login(hq.staff.user)
    page = client.get("/members/").content.decode()
    assert 'action="/i18n/setlang/"' in page

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/members/"})

    assert response.status_code == 302
    assert response["Location"] == "/members/"
    assert "Register a member" in client.get("/members/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/members/"})
    assert "登记会员" in client.get("/members/").content.decode()


def test_service_errors_reach_the_form_in_chinese(hq, stores):
    client = Client(headers={"Accept-Language": "zh-hans"})
    client.force_login(hq.staff.user)

    page = client.post("/members/new/", {"mobile": "12345", "gender": "U"}).content.decode()

    assert "请输入有效的中国大陆手机号" in page


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext)")
def test_every_string_in_the_code_is_in_the_catalogue(tmp_path):
    """makemessages over a copy of the code adds nothing: no string was left untranslated."""
    copy = tmp_path / "patron"
    shutil.copytree(
        Path(settings.BASE_DIR), copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo")
    )
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("patron")),
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-obsolete",
            "--no-location",
        ],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    fresh = polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    missing = [entry.msgid for entry in fresh.untranslated_entries() + fresh.fuzzy_entries()]
    assert missing == [], "run `make messages` and translate: " + ", ".join(missing)
