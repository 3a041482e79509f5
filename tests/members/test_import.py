"""Bulk import of members (F-03): xlsx and csv, Chinese and English headers, a per-row error
report, safe re-runs, dry runs, the template, the CLI and the console upload flow (F-49)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.test import Client
from django.utils import timezone, translation
from stdnum.cn import ric

from patron.core.errors import PermissionDenied, ValidationFailed
from patron.members.importing import (
    BadColumns,
    ImportResult,
    UnreadableFile,
    build_template,
    checks,
    import_members,
    service,
    uploads,
    xlsx,
)
from patron.members.importing.report import REPORT_HEADERS
from patron.members.models import (
    Channel,
    ConsentRecord,
    CustomField,
    ImportBatch,
    Member,
    Tag,
)
from patron.members.services import define_custom_field, register_member
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Role
from patron.tenancy.services import create_staff
from tests.cli_support import cli_in_process

ID_BODY = "11010519491231002"
VALID_ID = ID_BODY + ric.calc_check_digit(ID_BODY + "0")
WRONG_ID = ID_BODY + ("0" if VALID_ID[-1] != "0" else "1")


def mobile(n: int) -> str:
    """Mobiles phonenumbers accepts as assigned mainland numbers."""
    return f"1380013{8000 + n:04d}"


@pytest.fixture(autouse=True)
def english():
    # Messages are asserted in English whatever catalogue is compiled.
    with translation.override("en"):
        yield


@pytest.fixture
def manager(system, stores) -> Actor:
    staff = create_staff(system, "manager1", "password123", Role.STORE_MANAGER, stores["S1"])
    return Actor(merchant=system.merchant, staff=staff, ip="127.0.0.1")


def write_xlsx(target: Path, rows: list[list[object]], title: str = "Sheet") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.save(target)
    return target


def write_csv(
    target: Path, rows: list[list[object]], encoding: str = "utf-8-sig", delimiter: str = ","
) -> Path:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter).writerows(rows)
    target.write_bytes(text.getvalue().encode(encoding))
    return target


def run(actor: Actor, file: Path, **options) -> ImportResult:
    options.setdefault("dry_run", False)
    return import_members(actor, file, file_name=file.name, **options)


def errors_by_row(result: ImportResult) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for error in result.errors:
        found.setdefault(error.row, set()).add(error.column)
    return found


def counts() -> dict[str, int]:
    return {
        "members": Member.objects.count(),
        "audit": AuditEntry.objects.count(),
        "consents": ConsentRecord.objects.count(),
        "tags": Tag.objects.count(),
    }


# --- happy paths -----------------------------------------------------------------------------

CHINESE_HEADERS = [
    "手机号",
    "姓名",
    "性别",
    "生日",
    "农历生日",
    "身份证号",
    "邮箱",
    "地区",
    "地址",
    "职业",
    "收入",
    "标签",
    "短信营销",
    "微信营销",
    "邮件营销",
    "门店",
    "入会时间",
]


def test_xlsx_with_chinese_headers_imports_every_field(system, stores, tmp_path):
    file = write_xlsx(
        tmp_path / "会员.xlsx",
        [
            CHINESE_HEADERS,
            # Excel gives numbers for mobiles and real dates for date cells.
            [
                int(mobile(1)),
                "张伟",
                "男",
                dt.datetime(1990, 1, 2),
                "08-15",
                VALID_ID,
                "zw@example.com",
                "浙江省杭州市",
                "北山街 1 号",
                "教师",
                "middle",
                "商务，美食家",
                "是",
                "否",
                "yes",
                "S2",
                dt.datetime(2024, 5, 1, 9, 30),
            ],
            [mobile(2), "李娜", "女", "1991/3/4", None, None, None, None, None, None, None],
        ],
    )

    result = run(system, file)

    assert (result.rows_read, result.imported, result.skipped_existing, result.rejected) == (
        2,
        2,
        0,
        0,
    )
    member = Member.objects.get(mobile=mobile(1))
    assert member.name == "张伟" and member.gender == "M"
    assert member.birthday == dt.date(1990, 1, 2) and member.lunar_birthday == "08-15"
    assert member.id_number == VALID_ID and member.email == "zw@example.com"
    assert (member.region, member.address, member.occupation) == (
        "浙江省杭州市",
        "北山街 1 号",
        "教师",
    )
    assert member.income_band == "middle"
    assert sorted(member.tags.values_list("name", flat=True)) == ["商务", "美食家"]
    assert (member.consent_sms, member.consent_wechat, member.consent_email) == (True, False, True)
    assert member.store == stores["S2"]
    assert member.source_channel == Channel.IMPORT
    # A join time without zone is the merchant's local time (Asia/Shanghai, UTC+8).
    assert member.joined_at == dt.datetime(2024, 5, 1, 1, 30, tzinfo=dt.UTC)
    assert sorted(member.consents.values_list("topic", flat=True)) == ["email", "sms"]
    other = Member.objects.get(mobile=mobile(2))
    assert other.birthday == dt.date(1991, 3, 4) and other.store is None
    assert abs(other.joined_at - timezone.now()) < dt.timedelta(minutes=1)


def test_import_is_recorded_as_a_batch_and_one_import_audit_entry(system, stores, tmp_path):
    file = write_csv(tmp_path / "m.csv", [["mobile", "name"], [mobile(1), "A"], ["123", "B"]])

    result = run(system, file)

    batch = result.batch
    assert batch.file_name == "m.csv" and not batch.dry_run and batch.channel == "cli"
    assert batch.sha256 == uploads.file_sha256(file)
    assert (batch.rows_read, batch.imported, batch.skipped_existing, batch.rejected) == (2, 1, 0, 1)
    assert batch.errors == [{"row": 3, "column": "mobile", "message": result.errors[0].message}]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert entry.object_type == "importbatch" and entry.object_id == str(batch.pk)
    assert entry.changes["imported"] == [None, 1] and entry.changes["file_name"] == [None, "m.csv"]
    # bulk_register audits each member it creates as well.
    assert AuditEntry.objects.filter(action="create", object_type="member").count() == 1


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [
        ("utf-8-sig", ","),  # Excel's "CSV UTF-8"
        ("utf-8", ","),
        ("gbk", ","),  # Chinese Excel's plain "CSV"
        ("gb18030", ","),
        ("utf-16", "\t"),  # Excel's "Unicode text"
    ],
)
def test_csv_encodings(system, stores, tmp_path, encoding, delimiter):
    file = write_csv(
        tmp_path / "m.csv",
        [["手机号", "姓名", "地区"], [mobile(1), "王小明", "广东省深圳市"]],
        encoding,
        delimiter,
    )

    result = run(system, file)

    assert result.imported == 1 and result.errors == []
    member = Member.objects.get(mobile=mobile(1))
    assert (member.name, member.region) == ("王小明", "广东省深圳市")


def test_english_headers_in_any_case_and_spacing(system, stores, tmp_path):
    file = write_csv(
        tmp_path / "m.csv",
        [
            ["Mobile", "NAME", "Lunar Birthday", "consent-sms", " Store ", "joined_at"],
            [f"+86 {mobile(1)}", "Lily", "01-30", "1", "s1", "2023-02-03 10:00"],
        ],
    )

    result = run(system, file)

    assert result.errors == []
    member = Member.objects.get(mobile=mobile(1))
    assert (member.name, member.lunar_birthday, member.consent_sms) == ("Lily", "01-30", True)
    assert member.store.code == "S1"
    assert member.joined_at == dt.datetime(2023, 2, 3, 2, 0, tzinfo=dt.UTC)


def test_blank_rows_are_skipped_and_rows_keep_their_spreadsheet_numbers(system, stores, tmp_path):
    file = write_xlsx(
        tmp_path / "m.xlsx",
        [[None], ["手机号", "姓名"], [mobile(1), "A"], [None, None], ["bad", "B"]],
    )

    result = run(system, file)

    assert result.rows_read == 2 and result.imported == 1
    assert [(e.row, e.column) for e in result.errors] == [(5, "手机号")]


# --- errors ----------------------------------------------------------------------------------


def test_every_kind_of_bad_row_is_reported_and_never_half_imported(system, stores, tmp_path):
    define_custom_field(system, "size", "衣服尺码", CustomField.Kind.CHOICE, ["S", "M", "L"])
    future = (timezone.now() + dt.timedelta(days=3)).strftime("%Y-%m-%d")
    headers = ["手机号", "姓名", "性别", "生日", "身份证号", "邮箱", "门店", "短信营销"]
    headers += ["农历生日", "入会时间", "收入", "衣服尺码", "标签"]
    good = [mobile(1), "好", "女", "1990-01-01", VALID_ID, "a@b.cn", "S1", "是"]
    good += ["02-03", "2024-01-01", "low", "M", "x"]

    def bad(n: int, column: str, value: object) -> list[object]:
        row = list(good)
        row[0] = mobile(n)
        row[headers.index(column)] = value
        return row

    rows = [
        headers,
        good,  # row 2
        bad(3, "手机号", "1380013"),  # too short
        bad(4, "手机号", mobile(1)),  # same mobile as row 2
        bad(5, "生日", "1990-02-30"),
        bad(6, "身份证号", WRONG_ID),
        bad(7, "邮箱", "not-an-email"),
        bad(8, "门店", "S9"),
        bad(9, "短信营销", "maybe"),
        bad(10, "性别", "保密"),
        bad(11, "农历生日", "13-01"),
        bad(12, "入会时间", future),
        bad(13, "收入", "rich"),
        bad(14, "衣服尺码", "XXL"),
        bad(15, "标签", "x" * 31),
        bad(16, "生日", "next tuesday"),
    ]
    rows.append(bad(17, "姓名", "好"))  # good again after all the bad ones
    rows[-2][headers.index("邮箱")] = "also bad"  # row 16 has two problems
    file = write_csv(tmp_path / "bad.csv", rows)

    result = run(system, file)

    assert errors_by_row(result) == {
        3: {"手机号"},
        4: {"手机号"},
        5: {"生日"},
        6: {"身份证号"},
        7: {"邮箱"},
        8: {"门店"},
        9: {"短信营销"},
        10: {"性别"},
        11: {"农历生日"},
        12: {"入会时间"},
        13: {"收入"},
        14: {"衣服尺码"},
        15: {"标签"},
        16: {"生日", "邮箱"},
    }
    assert (result.rows_read, result.imported, result.rejected) == (16, 2, 14)
    # No bad row left anything behind: not the member, not its tags or consents.
    assert set(Member.objects.values_list("mobile", flat=True)) == {mobile(1), mobile(17)}
    assert Tag.objects.count() == 1
    messages = {(e.row, e.column): e.message for e in result.errors}
    assert messages[(4, "手机号")] == "The same mobile is already on row 2."
    assert messages[(8, "门店")] == "Unknown store: S9"
    assert "future" in messages[(12, "入会时间")]
    assert "S, M, L" in messages[(14, "衣服尺码")]


def test_excel_numbers_in_the_id_column_get_a_hint(system, stores, tmp_path):
    # Excel keeps 15 significant digits: an 18-digit ID typed as a number loses its tail.
    file = write_xlsx(
        tmp_path / "m.xlsx", [["手机号", "身份证号"], [mobile(1), 110105194912310000]]
    )

    result = run(system, file)

    assert result.rejected == 1
    assert "format the column as text" in result.errors[0].message


def test_unknown_and_duplicate_columns_stop_the_import_before_anything_is_written(
    system, stores, tmp_path
):
    file = write_csv(
        tmp_path / "m.csv",
        [["手机号", "mobile", "星座", "昵称"], [mobile(1), mobile(1), "金卡", "x"]],
    )
    before = counts()

    with pytest.raises(BadColumns) as raised:
        run(system, file)

    assert {(e.field, e.message) for e in raised.value.errors} == {
        ("mobile", "Same column as 手机号."),
        ("星座", "Unknown column."),
        ("昵称", "Unknown column."),
    }
    assert counts() == before and ImportBatch.objects.count() == 0


def test_a_file_without_mobile_column_or_required_custom_field_is_refused(system, tmp_path):
    define_custom_field(system, "blood", "血型", CustomField.Kind.CHOICE, ["A", "B"], required=True)
    file = write_csv(tmp_path / "m.csv", [["姓名"], ["张三"]])

    with pytest.raises(BadColumns) as raised:
        run(system, file)

    assert {e.field for e in raised.value.errors} == {"手机号 / mobile", "血型"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("m.csv", b"", "empty"),
        ("m.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a spreadsheet"),
        ("m.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "97-2003"),
        ("m.xlsx", "手机号\n13800138000\n".encode(), "not a valid Excel"),
        ("m.xlsx", b"PK\x03\x04 broken zip", "not a readable Excel"),
        ("m.csv", b"\n\n", "empty"),
    ],
)
def test_unreadable_files_are_refused_whole(system, tmp_path, name, content, message):
    file = tmp_path / name
    file.write_bytes(content)

    with pytest.raises(UnreadableFile) as raised:
        run(system, file)

    assert message in str(raised.value)
    assert ImportBatch.objects.count() == 0


def test_a_zip_that_is_not_a_workbook_is_refused(system, tmp_path):
    file = tmp_path / "m.xlsx"
    with zipfile.ZipFile(file, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")

    with pytest.raises(UnreadableFile):
        run(system, file)


def test_stored_errors_are_capped_but_every_error_streams_to_the_sink(
    system, stores, tmp_path, monkeypatch
):
    monkeypatch.setattr(service, "MAX_STORED_ERRORS", 3)
    file = write_csv(tmp_path / "m.csv", [["手机号"], *([f"bad{n}"] for n in range(5))])
    seen = []

    result = run(system, file, on_error=seen.append)

    assert [error.row for error in seen] == [2, 3, 4, 5, 6]
    assert len(result.errors) == 3 and result.error_count == 5
    assert len(result.batch.errors) == 3 and result.batch.error_count == 5
    assert result.batch.errors_truncated


# --- re-runs and dry runs --------------------------------------------------------------------


def test_importing_the_same_file_twice_creates_nothing_new(system, stores, tmp_path):
    file = write_xlsx(
        tmp_path / "m.xlsx",
        [
            ["手机号", "姓名", "标签", "短信营销"],
            *([mobile(n), f"M{n}", "老客", "是"] for n in range(5)),
        ],
    )
    first = run(system, file)
    after_first = counts()

    second = run(system, file)

    assert first.imported == 5
    assert (second.imported, second.skipped_existing, second.rejected) == (0, 5, 0)
    assert counts() == {**after_first, "audit": after_first["audit"] + 1}  # the import entry


def test_members_registered_elsewhere_are_skipped_as_existing(system, stores, tmp_path):
    register_member(system, {"mobile": mobile(1), "name": "Till"})
    file = write_csv(
        tmp_path / "m.csv", [["手机号", "姓名"], [mobile(1), "Other"], [mobile(2), "B"]]
    )

    result = run(system, file)

    assert (result.imported, result.skipped_existing) == (1, 1)
    assert Member.objects.get(mobile=mobile(1)).name == "Till"  # not overwritten


def test_dry_run_writes_nothing_but_reports_the_same(system, stores, tmp_path):
    file = write_csv(
        tmp_path / "m.csv",
        [
            ["手机号", "标签", "短信营销"],
            [mobile(1), "新客", "是"],
            ["x", "", ""],
            [mobile(2), "", ""],
        ],
    )
    before = counts()

    preview = run(system, file, dry_run=True)

    assert counts() == before
    assert (preview.rows_read, preview.imported, preview.rejected) == (3, 2, 1)
    assert preview.batch.dry_run and preview.batch.imported == 2
    assert [row["mobile"] for row in preview.preview] == ["138****8001", "138****8002"]
    real = run(system, file)
    assert (real.imported, real.rejected) == (preview.imported, preview.rejected)
    assert [e.as_dict() for e in real.errors] == [e.as_dict() for e in preview.errors]


# --- stores and custom fields ----------------------------------------------------------------


def test_stores_by_code_case_or_name_and_the_default_store(system, stores, tmp_path):
    file = write_csv(
        tmp_path / "m.csv",
        [
            ["手机号", "门店"],
            [mobile(1), "S1"],
            [mobile(2), "s2"],
            [mobile(3), "滨江店"],
            [mobile(4), ""],
        ],
    )

    result = run(system, file, default_store="S2")

    assert result.errors == []
    placed = dict(Member.objects.values_list("mobile", "store__code"))
    assert placed == {mobile(1): "S1", mobile(2): "S2", mobile(3): "S2", mobile(4): "S2"}
    assert result.batch.default_store == stores["S2"]


def test_an_unknown_default_store_is_refused(system, stores, tmp_path):
    file = write_csv(tmp_path / "m.csv", [["手机号"], [mobile(1)]])

    with pytest.raises(ValidationFailed):
        run(system, file, default_store="S9")


def test_a_store_manager_imports_into_their_own_store_only(manager, stores, tmp_path):
    file = write_csv(
        tmp_path / "m.csv",
        [["手机号", "门店"], [mobile(1), ""], [mobile(2), "S1"], [mobile(3), "S2"]],
    )

    result = run(manager, file)

    assert errors_by_row(result) == {4: {"门店"}}
    assert "your own store" in result.errors[0].message
    assert set(Member.objects.values_list("store__code", flat=True)) == {"S1"}
    assert result.batch.created_by == manager.user and result.batch.channel == "console"
    with pytest.raises(PermissionDenied):
        run(manager, file, default_store="S2")


@pytest.mark.parametrize("role", [Role.CASHIER, Role.MARKETER])
def test_cashiers_and_marketers_may_not_import(system, stores, tmp_path, role):
    staff = create_staff(system, "someone", "password123", role, stores["S1"])
    file = write_csv(tmp_path / "m.csv", [["手机号"], [mobile(1)]])

    with pytest.raises(PermissionDenied):
        run(Actor(merchant=system.merchant, staff=staff), file)

    assert Member.objects.count() == 0


def test_custom_fields_by_label_or_key(system, stores, tmp_path):
    define_custom_field(system, "clothing_size", "衣服尺码", CustomField.Kind.CHOICE, ["S", "38"])
    define_custom_field(system, "shoe_size", "鞋码", CustomField.Kind.NUMBER)
    define_custom_field(system, "anniversary", "纪念日", CustomField.Kind.DATE)
    file = write_xlsx(
        tmp_path / "m.xlsx",
        [
            ["手机号", "衣服尺码", "shoe_size", "纪念日"],
            [mobile(1), "S", 42, "2020/5/20"],
            [mobile(2), 38, None, None],  # a number typed into a choice column
            [mobile(3), "S", "big", None],
        ],
    )

    result = run(system, file)

    assert errors_by_row(result) == {4: {"shoe_size"}}
    first = Member.objects.get(mobile=mobile(1))
    assert first.custom == {"clothing_size": "S", "shoe_size": 42, "anniversary": "2020-05-20"}
    assert Member.objects.get(mobile=mobile(2)).custom == {"clothing_size": "38"}


def test_export_only_columns_are_ignored_so_exports_reimport(system, stores, tmp_path):
    file = write_csv(
        tmp_path / "m.csv",
        [
            ["手机号", "推荐码", "来源渠道", "状态"],
            [mobile(1), "ABC", "till", "active"],
        ],
    )

    result = run(system, file)

    assert result.imported == 1 and result.errors == []
    assert Member.objects.get().referral_code != "ABC"  # codes are the merchant's own


def test_the_card_number_column_is_taken_when_its_check_digit_is_right(system, stores, tmp_path):
    # 卡号 is the cards app's column (docs/moving-in.md): a member keeps the number they had.
    file = write_csv(tmp_path / "m.csv", [["卡号", "手机号"], ["80000003", mobile(1)]])

    result = run(system, file)

    assert result.imported == 1 and result.errors == []
    assert Member.objects.get().card_no == "80000003"


# --- template --------------------------------------------------------------------------------


def test_template_has_headers_instructions_and_custom_fields_and_reimports(
    system, stores, tmp_path
):
    define_custom_field(system, "clothing_size", "衣服尺码", CustomField.Kind.CHOICE, ["S", "M"])
    file = tmp_path / "template.xlsx"
    file.write_bytes(build_template(system.merchant))

    workbook = openpyxl.load_workbook(file)
    data, instructions = workbook.worksheets
    headers = [c.value for c in data[1]]
    assert headers[:3] == ["手机号", "姓名", "性别"] and headers[-1] == "衣服尺码"
    assert data.max_row == 1  # headers only: nothing to skip, nothing to import by mistake
    assert data["A1"].comment.text.startswith("mobile")
    assert instructions.title == xlsx.INSTRUCTIONS_SHEET_TITLE
    explained = [row[0] for row in instructions.iter_rows(min_row=2, values_only=True)]
    assert "手机号" in explained and "衣服尺码" in explained
    assert run(system, file).rows_read == 0

    # Filled in and saved with the instructions sheet active, it imports from the data sheet.
    data.append([mobile(1), "张三", "女"] + [None] * (len(headers) - 4) + ["M"])
    workbook.active = 1
    workbook.save(file)
    result = run(system, file)
    assert result.imported == 1 and result.errors == []
    assert Member.objects.get().custom == {"clothing_size": "M"}


# --- command line ----------------------------------------------------------------------------


cli = cli_in_process


def test_cli_imports_prints_a_summary_and_writes_the_report(system, stores, tmp_path, capsys):
    file = write_csv(
        tmp_path / "m.csv",
        [["手机号", "生日"], [mobile(1), ""], ["12", ""], [mobile(2), "1990-02-30"]],
    )
    report = tmp_path / "report.csv"

    code = cli("import", "members", str(file), "--merchant", "acme", "--report", str(report))

    out = capsys.readouterr().out
    assert code == 0
    assert "Rows read:        3" in out and "Imported:         1" in out
    assert "Rows with errors: 2" in out
    assert "row 3, 手机号:" in out and "row 4, 生日:" in out
    assert Member.objects.count() == 1
    with report.open(encoding="utf-8-sig") as stream:
        lines = list(csv.reader(stream))
    assert lines[0] == list(REPORT_HEADERS)
    assert [line[:2] for line in lines[1:]] == [["3", "手机号"], ["4", "生日"]]


def test_cli_report_as_xlsx_and_only_the_first_20_errors_printed(system, tmp_path, capsys):
    file = write_csv(tmp_path / "m.csv", [["手机号"], *([f"x{n}"] for n in range(25))])
    report = tmp_path / "report.xlsx"

    assert cli("import", "members", str(file), "--merchant", "acme", "--report", str(report)) == 0

    out = capsys.readouterr().out
    assert out.count("row ") == 20 and "… and 5 more" in out
    sheet = openpyxl.load_workbook(report).active
    assert sheet.max_row == 26 and sheet["A2"].value == 2


def test_cli_dry_run_writes_nothing(system, stores, tmp_path, capsys):
    file = write_csv(tmp_path / "m.csv", [["手机号"], [mobile(1)]])
    before = counts()

    assert cli("import", "members", str(file), "--merchant", "acme", "--dry-run") == 0

    out = capsys.readouterr().out
    assert "Dry run: nothing was written." in out and "Would import:     1" in out
    assert counts() == before


def test_cli_default_store(system, stores, tmp_path, capsys):
    file = write_csv(tmp_path / "m.csv", [["手机号"], [mobile(1)]])

    assert cli("import", "members", str(file), "--merchant", "acme", "--store", "S2") == 0

    assert Member.objects.get().store == stores["S2"]


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        (lambda d: d / "missing.csv", [], "No such file"),
        (lambda d: png(d / "photo.csv"), [], "not a spreadsheet"),
        (
            lambda d: write_csv(d / "m.csv", [["foo", "手机号"], ["1", "2"]]),
            [],
            "foo: Unknown column",
        ),
        (lambda d: write_csv(d / "m.csv", [["手机号"]]), ["--merchant", "nope"], "No merchant"),
        (lambda d: write_csv(d / "m.csv", [["手机号"]]), ["--store", "S9"], "Unknown store"),
        (lambda d: write_csv(d / "m.csv", [["手机号"]]), ["--report", "r.txt"], "--report"),
    ],
)
def test_cli_bad_input_exits_1_with_a_readable_message(
    system, stores, tmp_path, capsys, make, args, message
):
    file = make(tmp_path)
    merchant = [] if "--merchant" in args else ["--merchant", "acme"]

    code = cli("import", "members", str(file), *merchant, *args)

    err = capsys.readouterr().err
    assert code == 1
    assert message in err and "Traceback" not in err
    assert Member.objects.count() == 0


def png(target: Path) -> Path:
    target.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10")
    return target


def test_cli_writes_the_template(system, stores, tmp_path, capsys):
    target = tmp_path / "template.xlsx"

    assert cli("import", "template", "--merchant", "acme", "-o", str(target)) == 0

    assert openpyxl.load_workbook(target).worksheets[0]["A1"].value == "手机号"
    assert cli("import", "template", "--merchant", "acme", "-o", str(tmp_path / "t.csv")) == 1


# --- console ---------------------------------------------------------------------------------


def client_for(actor: Actor) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(actor.staff.user)
    return client


@pytest.fixture
def data_dir(settings, tmp_path) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """Confirmed imports wait in the queue (no worker): the ids of the batches queued."""
    from patron.members import tasks

    ids: list[int] = []
    monkeypatch.setattr(tasks, "import_confirmed_upload", ids.append)
    return ids


def upload_file(name: str, rows: list[list[object]]) -> io.BytesIO:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    stream = io.BytesIO(text.getvalue().encode("utf-8-sig"))
    stream.name = name
    return stream


def stored_files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "imports").rglob("*") if p.is_file()]


def test_console_upload_preview_confirm_and_result(hq, stores, data_dir, jobs_now):
    client = client_for(hq)
    page = client.get("/members/import/")
    assert page.status_code == 200
    assert b'name="file"' in page.content and b"/members/import/template.xlsx" in page.content

    file = upload_file(
        "会员.csv", [["手机号", "姓名", "门店"], [mobile(1), "张三", ""], ["bad", "李四", "S1"]]
    )
    response = client.post("/members/import/", {"file": file, "store": "S2"})

    preview = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/members/import/{preview.pk}/"
    assert preview.dry_run and Member.objects.count() == 0
    assert len(stored_files(data_dir)) == 1
    page = client.get(response["Location"]).content.decode()
    assert "138****8001" in page and mobile(1) not in page  # masked in the preview
    assert "Confirm import" in page and 'data-row="3"' in page

    response = client.post(f"/members/import/{preview.pk}/confirm/")

    done = ImportBatch.objects.get(dry_run=False)
    assert response["Location"] == f"/members/import/{done.pk}/"
    assert done.source == preview and done.created_by == hq.user and done.channel == "console"
    assert Member.objects.get().store == stores["S2"]
    assert stored_files(data_dir) == []  # personal data does not linger on disk
    result = client.get(response["Location"]).content.decode()
    assert "members imported" in result and f"/members/import/{done.pk}/errors.csv" in result

    report = client.get(f"/members/import/{done.pk}/errors.csv")
    assert report["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert lines[1][:2] == ["3", "手机号"]

    # Confirming again (a double click, the back button) imports nothing more.
    again = client.post(f"/members/import/{preview.pk}/confirm/")
    assert again["Location"] == f"/members/import/{done.pk}/"
    assert Member.objects.count() == 1 and ImportBatch.objects.filter(dry_run=False).count() == 1


def test_console_confirm_queues_the_import_and_its_page_polls_a_progress_line(
    hq, stores, data_dir, queued
):
    client = client_for(hq)
    rows = [["手机号", "姓名"], *([mobile(n), "张三"] for n in range(1, 6))]
    client.post("/members/import/", {"file": upload_file("m.csv", rows)})
    preview = ImportBatch.objects.get()

    response = client.post(f"/members/import/{preview.pk}/confirm/", follow=True)

    done = ImportBatch.objects.get(dry_run=False)
    assert queued == [done.pk] and done.status == "queued" and Member.objects.count() == 0
    page = response.content.decode()
    assert "Importing m.csv" in page and "The import has started" in page
    assert f'hx-get="/members/import/{done.pk}/progress/"' in page and 'data-polling="1"' in page
    assert "0% of the file read: 0 rows, 0 members imported" in page
    # Confirming again while it waits does not queue it twice.
    client.post(f"/members/import/{preview.pk}/confirm/")
    assert queued == [done.pk]

    uploads.run_confirmed_import(done.pk)  # what the worker does with the queued job

    line = client.get(f"/members/import/{done.pk}/progress/", headers={"HX-Request": "true"})
    assert line["HX-Refresh"] == "true" and "data-polling" not in line.content.decode()
    assert "100% of the file read: 5 rows, 5 members imported" in line.content.decode()
    done.refresh_from_db()
    assert (done.status, done.imported, done.bytes_read) == ("done", 5, done.bytes_total)
    assert Member.objects.count() == 5 and stored_files(data_dir) == []
    assert "Imported m.csv" in client.get(f"/members/import/{done.pk}/").content.decode()


def test_console_import_that_stops_says_why_and_can_be_confirmed_again(
    hq, stores, data_dir, queued
):
    client = client_for(hq)
    client.post("/members/import/", {"file": upload_file("m.csv", [["手机号"], [mobile(1)]])})
    preview = ImportBatch.objects.get()
    client.post(f"/members/import/{preview.pk}/confirm/")
    first = ImportBatch.objects.get(dry_run=False)
    path = uploads.stored_path(first)
    kept = path.read_bytes()
    path.write_text("星座\n金\n", encoding="utf-8")  # spoilt between the confirm and the job

    uploads.run_confirmed_import(first.pk)

    first.refresh_from_db()
    assert first.status == "failed" and "columns of the file are not right" in first.failure
    page = client.get(f"/members/import/{first.pk}/").content.decode()
    assert 'id="import-failure"' in page and "Confirm the file again to finish" in page
    preview.refresh_from_db()
    assert (
        preview.stored_file
        and "Confirm import" in client.get(f"/members/import/{preview.pk}/").content.decode()
    )
    path.write_bytes(kept)
    client.post(f"/members/import/{preview.pk}/confirm/")
    second = ImportBatch.objects.get(dry_run=False, status="queued")
    uploads.run_confirmed_import(second.pk)
    assert Member.objects.count() == 1


def test_console_bad_columns_show_on_the_form_and_leave_no_file(hq, stores, data_dir):
    client = client_for(hq)

    page = client.post("/members/import/", {"file": upload_file("m.csv", [["星座"], ["金"]])})

    assert page.status_code == 200
    assert "Unknown column." in page.content.decode() and "星座" in page.content.decode()
    assert ImportBatch.objects.count() == 0 and stored_files(data_dir) == []


def test_console_template_download(hq, stores):
    response = client_for(hq).get("/members/import/template.xlsx")

    assert response.status_code == 200
    assert response["Content-Type"] == importing_xlsx_type()
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.worksheets[0]["A1"].value == "手机号"


def importing_xlsx_type() -> str:
    from patron.members.import_views import XLSX_TYPE

    return XLSX_TYPE


def test_console_store_manager_imports_into_their_store_and_sees_only_their_imports(
    hq, manager, stores, data_dir, jobs_now
):
    client = client_for(manager)
    page = client.get("/members/import/").content.decode()
    # no other store is offered (a bare "S2" could match the random CSRF token)
    assert '<option value="S2"' not in page and "(S2)" not in page
    assert '<option value="S1"' in page

    file = upload_file("m.csv", [["手机号", "门店"], [mobile(1), ""], [mobile(2), "S2"]])
    response = client.post("/members/import/", {"file": file, "store": "S2"})
    preview = ImportBatch.objects.get()
    assert preview.default_store == stores["S1"] and preview.rejected == 1
    client.post(f"/members/import/{preview.pk}/confirm/")
    assert list(Member.objects.values_list("store__code", flat=True)) == ["S1"]
    assert response.status_code == 302

    hq_upload = client_for(hq).post(
        "/members/import/", {"file": upload_file("hq.csv", [["手机号"], [mobile(3)]])}
    )
    assert hq_upload.status_code == 302
    hq_batch = ImportBatch.objects.get(file_name="hq.csv")
    assert client.get(f"/members/import/{hq_batch.pk}/").status_code == 404
    assert client.post(f"/members/import/{hq_batch.pk}/confirm/").status_code == 404


def test_console_refuses_cashiers(cashier, stores, data_dir):
    client = client_for(cashier)
    file = upload_file("m.csv", [["手机号"], [mobile(1)]])

    assert client.get("/members/import/").status_code == 403
    assert client.post("/members/import/", {"file": file}).status_code == 403
    assert client.get("/members/import/template.xlsx").status_code == 403
    assert ImportBatch.objects.count() == 0 and Member.objects.count() == 0


def test_console_requires_login(db):
    response = Client().get("/members/import/")

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_console_confirm_refuses_a_changed_file(hq, stores, data_dir):
    client = client_for(hq)
    client.post("/members/import/", {"file": upload_file("m.csv", [["手机号"], [mobile(1)]])})
    preview = ImportBatch.objects.get()
    uploads.stored_path(preview).write_text("手机号\n13800138009\n", encoding="utf-8")

    response = client.post(f"/members/import/{preview.pk}/confirm/", follow=True)

    assert "no longer the one checked" in response.content.decode()
    assert Member.objects.count() == 0
    preview.refresh_from_db()
    assert preview.stored_file  # given back: the operator can upload again or retry


def test_unconfirmed_uploads_are_deleted_after_a_day(hq, stores, data_dir):
    """Previewed files hold mobiles and names: the hourly job deletes those nobody confirmed
    within UPLOAD_KEPT_FOR, and a late confirmation finds the file gone."""
    from patron.members.tasks import purge_import_uploads_hourly

    client = client_for(hq)
    client.post("/members/import/", {"file": upload_file("old.csv", [["手机号"], [mobile(1)]])})
    client.post("/members/import/", {"file": upload_file("new.csv", [["手机号"], [mobile(2)]])})
    old, new = (
        ImportBatch.objects.get(file_name="old.csv"),
        ImportBatch.objects.get(file_name="new.csv"),
    )
    old_path = uploads.stored_path(old)
    aged = timezone.now() - uploads.UPLOAD_KEPT_FOR - dt.timedelta(minutes=1)
    ImportBatch.objects.filter(pk=old.pk).update(created_at=aged)

    assert purge_import_uploads_hourly.call_local() == 1

    assert not old_path.exists() and stored_files(data_dir) == [uploads.stored_path(new)]
    old.refresh_from_db()
    assert old.stored_file == ""
    page = client.get(f"/members/import/{old.pk}/").content.decode()
    assert "no longer available" in page and "Confirm import" not in page
    late = client.post(f"/members/import/{old.pk}/confirm/", follow=True)
    assert "no longer available" in late.content.decode()
    assert Member.objects.count() == 0
    assert uploads.purge_stale_uploads() == 0  # nothing left to purge; the new file stays
    assert (
        "deleted if it is not imported within 24 hours"
        in client.get(f"/members/import/{new.pk}/").content.decode()
    )


# --- the fast xlsx reader --------------------------------------------------------------------

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/worksheets/sheet2.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
<Override PartName="/xl/styles.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def excel_like_xlsx(target: Path, sheet_data: str, shared: list[str], date1904=False) -> Path:
    """A workbook shaped the way Excel saves one: shared strings, styles, an instructions
    sheet first in the file but second in the tab order, sparse rows and cells."""
    strings = "".join(f"<si>{s}</si>" for s in shared)
    parts = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" '
        f'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">'
        f'<workbookPr date1904="{int(date1904)}"/><sheets>'
        f'<sheet name="{xlsx.INSTRUCTIONS_SHEET_TITLE}" sheetId="2" r:id="rId2"/>'
        f'<sheet name="会员" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="http://schemas.openxmlformats.org/'
        f'package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{REL}/worksheet" Target="/xl/worksheets/sheet2.xml"/>'
        f'<Relationship Id="rId3" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        f'<Relationship Id="rId4" Type="{REL}/styles" Target="styles.xml"/></Relationships>',
        "xl/styles.xml": f'<styleSheet xmlns="{MAIN}"><numFmts count="1">'
        '<numFmt numFmtId="176" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/>'
        '</numFmts><cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="14"/>'
        '<xf numFmtId="176"/><xf numFmtId="31"/></cellXfs></styleSheet>',
        "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}">{strings}</sst>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{MAIN}"><dimension ref="A1:F9"/>'
        f"<sheetData>{sheet_data}</sheetData></worksheet>",
        "xl/worksheets/sheet2.xml": f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">'
        '<c r="A1" t="inlineStr"><is><t>说明</t></is></c></row></sheetData></worksheet>',
    }
    with zipfile.ZipFile(target, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return target


EXCEL_SHARED = [
    "<t>手机号</t>",
    "<t>姓名</t>",
    "<t>生日</t>",
    "<t>入会时间</t>",
    "<t>短信营销</t>",
    # Rich text with a pronunciation guide: the value is the visible runs only.
    "<r><t>张</t></r><r><t>伟</t></r><rPh sb='0' eb='1'><t>zhang</t></rPh>",
    "<t>门店</t>",
]
EXCEL_ROWS = (
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
    '<c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c><c r="E1" t="s"><v>4</v></c>'
    '<c r="F1" t="s"><v>6</v></c></row>'
    # Row 2: a mobile typed as a number, a short date, a Chinese date, a boolean, a formula.
    '<row r="2"><c r="A2"><v>13800138001</v></c><c r="B2" t="s"><v>5</v></c>'
    '<c r="C2" s="1"><v>32874</v></c><c r="D2" s="2"><v>45413.5</v></c>'
    '<c r="E2" t="b"><v>1</v></c><c r="F2" t="str"><f>"S"&amp;1</f><v>S1</v></c></row>'
    # Row 3 is missing from the file (an empty row); row 4 skips columns B to D.
    '<row r="4"><c r="A4" t="inlineStr"><is><t>13800138002</t></is></c>'
    '<c r="E4" t="b"><v>0</v></c></row>'
    # Row 5: an error value where the mobile should be, a date in a CJK built-in format.
    '<row r="5"><c r="A5" t="e"><v>#N/A</v></c><c r="C5" s="3"><v>33000</v></c></row>'
)


@pytest.mark.filterwarnings("ignore:Workbook contains no default style")
def test_excel_saved_workbooks_read_the_same_fast_and_slow(system, stores, tmp_path):
    file = excel_like_xlsx(tmp_path / "excel.xlsx", EXCEL_ROWS, EXCEL_SHARED)
    data = file.read_bytes()

    fast = list(xlsx.xlsx_rows(io.BytesIO(data), file.name).rows)
    slow = list(xlsx.openpyxl_rows(io.BytesIO(data), file.name))

    assert fast[0] == ("手机号", "姓名", "生日", "入会时间", "短信营销", "门店")
    assert fast[1] == (
        13800138001,
        "张伟",
        dt.datetime(1990, 1, 1),
        dt.datetime(2024, 5, 1, 12, 0),
        True,
        "S1",
    )
    assert fast[2] == () and fast[3] == ("13800138002", None, None, None, False)
    assert fast[4] == ("#N/A", None, dt.datetime(1990, 5, 7))
    # openpyxl agrees on everything but the CJK built-in date format it does not know.
    assert [row for row in slow[:4] if any(v is not None for v in row)] == [
        r for r in fast[:4] if r
    ]

    result = run(system, file)

    assert (result.imported, result.rejected) == (2, 1)
    assert [(e.row, e.column) for e in result.errors] == [(5, "手机号")]
    member = Member.objects.get(mobile="13800138001")
    assert (member.name, member.birthday, member.consent_sms) == ("张伟", dt.date(1990, 1, 1), True)
    assert member.joined_at == dt.datetime(2024, 5, 1, 4, 0, tzinfo=dt.UTC)
    assert member.store == stores["S1"]


def test_mac_1904_dates(tmp_path):
    rows = '<row r="1"><c r="A1" s="1"><v>366</v></c></row>'
    file = excel_like_xlsx(tmp_path / "mac.xlsx", rows, [], date1904=True)

    # Serial 366 is 1900-12-31 in the Windows calendar, a year later in the Mac one.
    rows = xlsx.xlsx_rows(io.BytesIO(file.read_bytes()), file.name).rows
    assert list(rows) == [(dt.datetime(1905, 1, 1),)]


def test_a_damaged_sheet_is_unreadable(system, tmp_path):
    file = excel_like_xlsx(tmp_path / "bad.xlsx", '<row r="1"><c r="A1" t="s"><v>0', [])

    with pytest.raises(UnreadableFile):
        run(system, file)


def test_workbooks_the_fast_reader_cannot_place_go_to_openpyxl(
    system, stores, tmp_path, monkeypatch
):
    def cannot_place(archive):
        raise KeyError("xl/workbook.xml")

    monkeypatch.setattr(xlsx, "locate_sheet", cannot_place)
    file = write_xlsx(
        tmp_path / "m.xlsx", [["手机号", "生日"], [mobile(1), dt.datetime(1990, 1, 2)]]
    )

    result = run(system, file)

    assert result.imported == 1
    assert Member.objects.get().birthday == dt.date(1990, 1, 2)


def test_mobiles_are_checked_once_per_number_block(system, stores, tmp_path, monkeypatch):
    checked: list[str] = []
    real = checks.normalize_mobile

    def counting(raw):
        checked.append(raw)
        return real(raw)

    monkeypatch.setattr(checks, "normalize_mobile", counting)
    rows = [["手机号"], [mobile(1)], [mobile(2)], [mobile(3)], ["14000000001"], ["14000000002"]]
    file = write_csv(tmp_path / "m.csv", rows)

    result = run(system, file)

    assert result.imported == 3
    # One look-up for the assigned block; numbers of an unassigned block are checked each time.
    assert checked == [mobile(1), "14000000001", "14000000002"]
    assert errors_by_row(result) == {5: {"手机号"}, 6: {"手机号"}}


def test_dates_in_full_width_digits_read_and_other_digits_are_row_errors(system, stores, tmp_path):
    """Issue 13: full-width digits (an input method's) are the date; Arabic-Indic or
    superscript digits are the row's error, never read as a date nor a 500."""
    rows = [
        ["手机号", "生日"],
        [mobile(1), "１９９０年１月２日"],
        [mobile(2), "１９９０－０１－０２"],
        [mobile(3), "١٩٩٠-٠١-٠٢"],
        [mobile(4), "1990-¹²-01"],
        [mobile(5), "1990年²月1日"],
    ]

    result = run(system, write_csv(tmp_path / "m.csv", rows))

    assert result.imported == 2
    assert {m.birthday for m in Member.objects.all()} == {dt.date(1990, 1, 2)}
    assert errors_by_row(result) == {4: {"生日"}, 5: {"生日"}, 6: {"生日"}}
