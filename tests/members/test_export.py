"""Member export (F-45, F-53): masked by default, audited always, re-importable when unmasked."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.utils import translation
from stdnum.cn import ric

from patron.core.errors import PermissionDenied
from patron.members import exporting
from patron.members.importing import import_members
from patron.members.models import CustomField, Member
from patron.members.services import define_custom_field, register_member
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Role
from patron.tenancy.services import create_merchant, create_staff, create_store
from tests.cli_support import cli_in_process

ID_BODY = "11010519491231002"
VALID_ID = ID_BODY + ric.calc_check_digit(ID_BODY + "0")


def mobile(n: int) -> str:
    return f"1380013{8000 + n:04d}"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def members(system, stores) -> list[Member]:
    define_custom_field(system, "clothing_size", "衣服尺码", CustomField.Kind.CHOICE, ["S", "M"])
    return [
        register_member(
            system,
            {
                "mobile": mobile(1),
                "name": "张伟",
                "gender": "M",
                "birthday": "1990-01-02",
                "id_number": VALID_ID,
                "tags": ["商务", "美食家"],
                "consent_sms": True,
                "store": "S1",
                "custom": {"clothing_size": "M"},
            },
        ),
        register_member(system, {"mobile": mobile(2), "name": "李娜", "store": "S2"}),
    ]


def export_csv(actor: Actor, unmasked: bool = False) -> list[dict[str, str]]:
    stream = io.StringIO()
    exporting.export_members(actor, stream, fmt="csv", unmasked=unmasked)
    return list(csv.DictReader(io.StringIO(stream.getvalue())))


def export_audits() -> list[dict]:
    return [
        e.changes for e in AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).order_by("id")
    ]


def test_export_masks_mobile_and_id_number_by_default_and_audits(system, members):
    rows = export_csv(system)

    by_name = {row["姓名"]: row for row in rows}
    assert by_name["张伟"]["手机号"] == "138****8001"
    assert by_name["张伟"]["身份证号"] == VALID_ID[:3] + "*" * 11 + VALID_ID[-4:]
    assert mobile(1) not in str(rows) and VALID_ID not in str(rows)
    assert export_audits() == [
        {"count": [None, 2], "unmasked": [None, False], "format": [None, "csv"]}
    ]


def test_export_columns_and_values(system, members):
    row = export_csv(system, unmasked=True)[0]

    assert row["卡号"] == members[0].card_no
    assert (row["手机号"], row["身份证号"]) == (mobile(1), VALID_ID)
    assert (row["性别"], row["生日"], row["标签"]) == ("男", "1990-01-02", "商务,美食家")
    assert (row["短信营销"], row["微信营销"], row["门店"], row["衣服尺码"]) == (
        "是",
        "否",
        "S1",
        "M",
    )
    joined = members[0].joined_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert row["入会时间"] == joined.strftime("%Y-%m-%d %H:%M:%S")
    assert (row["推荐码"], row["状态"]) == (members[0].referral_code, "active")
    assert export_audits()[-1]["unmasked"] == [None, True]


def test_unmasked_xlsx_export_reimports_into_another_merchant(system, members, tmp_path):
    target = tmp_path / "members.xlsx"
    exporting.export_members(system, target, fmt="xlsx", unmasked=True)
    other = Actor.system(create_merchant("other", "Other"))
    for code in ("S1", "S2"):
        create_store(other, code, code)
    define_custom_field(other, "clothing_size", "衣服尺码", CustomField.Kind.CHOICE, ["S", "M"])

    result = import_members(other, target, file_name=target.name, dry_run=False)

    assert (result.imported, result.errors) == (2, [])
    copy = Member.objects.get(merchant=other.merchant, mobile=mobile(1))
    original = members[0]
    for field in ("name", "gender", "birthday", "id_number", "consent_sms", "custom"):
        assert getattr(copy, field) == getattr(original, field), field
    assert copy.joined_at == original.joined_at.replace(microsecond=0)  # exported to the second
    assert sorted(copy.tags.values_list("name", flat=True)) == ["商务", "美食家"]
    assert copy.store.code == "S1" and copy.store.merchant == other.merchant


def test_a_masked_export_cannot_leak_through_reimport(system, members, tmp_path):
    target = tmp_path / "members.xlsx"
    exporting.export_members(system, target, fmt="xlsx")
    other = Actor.system(create_merchant("other", "Other"))
    define_custom_field(other, "clothing_size", "衣服尺码", CustomField.Kind.CHOICE, ["S", "M"])

    result = import_members(other, target, file_name=target.name, dry_run=False)

    assert result.imported == 0 and {e.column for e in result.errors} >= {"手机号"}


def test_store_manager_exports_their_store_only(system, members, stores):
    staff = create_staff(system, "m1", "password123", Role.STORE_MANAGER, stores["S1"])
    manager = Actor(merchant=system.merchant, staff=staff)

    rows = export_csv(manager, unmasked=True)

    assert [row["门店"] for row in rows] == ["S1"]
    assert rows[0]["手机号"] == mobile(1)  # store managers may see personal data
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).get()
    assert entry.user == staff.user and entry.changes["count"] == [None, 1]


def test_marketers_export_masked_only_and_cashiers_not_at_all(system, members, stores):
    marketer = Actor(
        merchant=system.merchant,
        staff=create_staff(system, "mk", "password123", Role.MARKETER),
    )
    cashier = Actor(
        merchant=system.merchant,
        staff=create_staff(system, "c1", "password123", Role.CASHIER, stores["S1"]),
    )

    assert len(export_csv(marketer)) == 2
    with pytest.raises(PermissionDenied):
        export_csv(marketer, unmasked=True)
    with pytest.raises(PermissionDenied):
        export_csv(cashier)
    assert len(export_audits()) == 1  # refused exports wrote nothing, not even an audit entry


def test_export_of_an_empty_merchant_has_headers_only(system, stores):
    assert export_csv(system) == []
    assert export_audits()[0]["count"] == [None, 0]


# --- command line ----------------------------------------------------------------------------


cli = cli_in_process


def test_cli_exports_masked_csv_to_standard_output(system, members, capsys):
    assert cli("export", "members", "--merchant", "acme") == 0

    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert sorted(row["手机号"] for row in rows) == ["138****8001", "138****8002"]
    assert "Exported 2 members to standard output (mobile and ID number masked)" in captured.err
    assert export_audits()[0]["unmasked"] == [None, False]


def test_cli_exports_unmasked_xlsx_and_csv_files(system, members, tmp_path, capsys):
    xlsx, csv_file = tmp_path / "m.xlsx", tmp_path / "m.csv"

    assert cli("export", "members", "--merchant", "acme", "-o", str(xlsx), "--unmasked") == 0
    assert cli("export", "members", "--merchant", "acme", "-o", str(csv_file)) == 0

    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet["A1"].value == "卡号" and {sheet["B2"].value, sheet["B3"].value} == {
        mobile(1),
        mobile(2),
    }
    assert csv_file.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel needs the BOM for Chinese
    assert "138****8001" in csv_file.read_text(encoding="utf-8-sig")
    assert [a["unmasked"] for a in export_audits()] == [[None, True], [None, False]]
    assert "(unmasked)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--merchant", "nope"], "No merchant"),
        (["--merchant", "acme", "-o", "members.txt"], ".xlsx or .csv"),
        (["--merchant", "acme", "-o", "/no/such/dir/m.csv"], "No such directory"),
    ],
)
def test_cli_export_bad_input_exits_1(system, capsys, args, message):
    code = cli("export", "members", *args)

    err = capsys.readouterr().err
    assert code == 1 and message in err and "Traceback" not in err
    assert export_audits() == []
