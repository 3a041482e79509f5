"""Moving in from another system (API.md §7, docs/moving-in.md): `patron import members` with
card numbers, physical ids, tiers, points with expiry and stored value, posted once as
`migration` ledger transactions; bad cells are per-row errors and write nothing of their row."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from pathlib import Path

import openpyxl
import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.utils import timezone, translation
from stdnum import luhn

from patron.cards.models import Card, CardEvent
from patron.ledger import services as ledger
from patron.ledger.models import (
    Account,
    Asset,
    Entry,
    LotMovement,
    OwnerType,
    PointsLot,
    SystemAccount,
    Transaction,
)
from patron.ledger.openings import Opening, opening_key, post_openings
from patron.ledger.selectors import liabilities, reconcile
from patron.members.importing import ImportResult, build_template, import_members
from patron.members.models import ImportBatch, Member
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.promotions.models import TierChange
from patron.tenancy.actor import Actor
from tests.cli_support import cli_in_process

pytestmark = [pytest.mark.postgres]

ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
PROGRAM = {
    "tiers": [
        {"code": "normal", "name": "普通会员", "rank": 0},
        {"code": "silver", "name": "银卡会员", "rank": 1},
        {"code": "gold", "name": "金卡会员", "rank": 2},
    ],
    "points": {"expiry": {"policy": "rolling_days", "days": 365}},
}
HEADER = [
    "mobile",
    "name",
    "card_no",
    "physical_id",
    "tier",
    "points",
    "points_expires_at",
    "stored_value_principal",
    "stored_value_bonus",
]
MIGRATION = Transaction.Kind.MIGRATION


def card(body: str) -> str:
    return body + luhn.calc_check_digit(body)


def mobile(n: int) -> str:
    return f"1390013{8000 + n:04d}"


def later(days: int) -> str:
    return (timezone.now().astimezone(ZONE).date() + dt.timedelta(days=days)).isoformat()


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def program(system, stores):
    apply_program(system, PROGRAM)
    return PROGRAM


def write_csv(target: Path, rows: list[list[object]]) -> Path:
    with target.open("w", encoding="utf-8-sig", newline="") as stream:
        csv.writer(stream).writerows(rows)
    return target


def run(actor: Actor, file: Path, dry_run: bool = False) -> ImportResult:
    return import_members(actor, file, file_name=file.name, dry_run=dry_run)


def balances(member: Member) -> dict[str, int]:
    return ledger.quick_balances(member)


def errors_of(result: ImportResult) -> dict[int, dict[str, str]]:
    found: dict[int, dict[str, str]] = {}
    for error in result.errors:
        found.setdefault(error.row, {})[error.column] = error.message
    return found


# --- columns, postings, lots -------------------------------------------------------------------


def test_columns_become_cards_tiers_and_migration_postings(system, program, tmp_path):
    number = card("620000000000001")
    file = write_csv(
        tmp_path / "old.csv",
        [
            HEADER,
            [mobile(1), "张伟", number, "NFC-0001", "gold", "1200", later(30), "10000", "1000"],
            [mobile(2), "李娜", "", "", "银卡会员", "", "", "", "250"],
            [mobile(3), "王芳", "", "", "", "", "", "", ""],
        ],
    )

    result = run(system, file)

    assert (result.imported, result.errors) == (3, [])
    zhang = Member.objects.get(mobile=mobile(1))
    li = Member.objects.get(mobile=mobile(2))
    wang = Member.objects.get(mobile=mobile(3))
    assert zhang.card_no == number and zhang.tier.code == "gold"
    assert li.tier.code == "silver" and wang.tier is None
    issued = Card.objects.get(member=zhang)
    assert (issued.card_no, issued.physical_id, issued.status, issued.product) == (
        number,
        "NFC-0001",
        "active",
        None,
    )
    assert CardEvent.objects.get(card=issued).kind == CardEvent.Kind.ISSUED
    assert not Card.objects.filter(member__in=[li, wang]).exists()
    changes = TierChange.objects.order_by("member_id")
    assert [(c.member, c.to_tier.code, c.from_tier.code, c.reason) for c in changes] == [
        (zhang, "gold", "normal", TierChange.Reason.IMPORT),
        (li, "silver", "normal", TierChange.Reason.IMPORT),
    ]

    assert balances(zhang) == {Asset.POINTS: 1200, Asset.PRINCIPAL: 10000, Asset.BONUS: 1000}
    assert balances(li) == {Asset.POINTS: 0, Asset.PRINCIPAL: 0, Asset.BONUS: 250}
    assert not Transaction.objects.filter(member=wang).exists()
    moved = Transaction.objects.filter(kind=MIGRATION).order_by("member_id", "idempotency_key")
    assert [t.idempotency_key for t in moved] == [
        opening_key(zhang.pk, Asset.POINTS),
        opening_key(zhang.pk, Asset.BONUS),
        opening_key(zhang.pk, Asset.PRINCIPAL),
        opening_key(li.pk, Asset.BONUS),
    ]
    for txn in moved:
        legs = sorted(
            (e.amount, e.account.owner_type, e.account.system_code, e.member_id)
            for e in txn.entries.select_related("account")
        )
        amount = legs[1][0]
        assert legs == [
            (-amount, OwnerType.SYSTEM, SystemAccount.MIGRATION, None),
            (amount, OwnerType.MEMBER, "", txn.member_id),
        ]
        assert txn.source == "import" and txn.channel == system.channel
    lot = PointsLot.objects.get(member=zhang)
    through = dt.date.fromisoformat(later(30))
    assert lot.expires_at == dt.datetime.combine(through + dt.timedelta(days=1), dt.time(), ZONE)
    assert (lot.amount, lot.remaining, lot.earned_by.kind) == (1200, 1200, MIGRATION)
    assert LotMovement.objects.get(lot=lot).amount == 1200
    assert reconcile(system.merchant) == []
    [owed] = liabilities(system.merchant)  # the liabilities page's figures
    assert (owed.principal, owed.bonus, owed.points) == (10000, 1250, 1200)


def test_points_without_an_expiry_follow_the_merchants_rule_from_the_import(
    system, program, tmp_path
):
    file = write_csv(tmp_path / "p.csv", [["手机号", "积分"], [mobile(1), 500]])

    run(system, file)

    lot = PointsLot.objects.get()
    today = timezone.now().astimezone(ZONE).date()
    assert lot.expires_at == dt.datetime.combine(today + dt.timedelta(days=366), dt.time(), ZONE)


def test_chinese_headers_and_amounts_in_yuan(system, program, tmp_path):
    file = write_csv(
        tmp_path / "zh.csv",
        [
            ["手机号", "卡号", "等级", "积分", "储值本金(元)", "赠送金额(元)"],
            [mobile(1), card("8812345"), "金卡会员", "30", "1,234.50", "0.05"],
        ],
    )

    result = run(system, file)

    assert result.errors == []
    member = Member.objects.get()
    assert member.card_no == card("8812345") and member.tier.code == "gold"
    assert balances(member) == {Asset.POINTS: 30, Asset.PRINCIPAL: 123450, Asset.BONUS: 5}


def test_an_xlsx_with_numbers_and_dates_as_excel_stores_them(system, program, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    expires = dt.date.fromisoformat(later(100))
    sheet.append(HEADER)
    sheet.append([mobile(1), "张伟", int(card("8800001")), "", "silver", 99, expires, 5000, 0])
    workbook.save(tmp_path / "old.xlsx")

    result = run(system, tmp_path / "old.xlsx")

    assert result.errors == []
    member = Member.objects.get()
    assert member.card_no == card("8800001")
    assert balances(member) == {Asset.POINTS: 99, Asset.PRINCIPAL: 5000, Asset.BONUS: 0}
    assert PointsLot.objects.get().expires_at.astimezone(ZONE).date() == expires + dt.timedelta(1)


def test_a_given_number_in_the_merchants_own_format_moves_the_sequence_past_it(
    system, program, tmp_path
):
    own = card("800000050")  # prefix 8, sequence 50
    run(system, write_csv(tmp_path / "o.csv", [["mobile", "card_no"], [mobile(1), own]]))

    later_member = register_member(system, {"mobile": mobile(2)})

    assert int(later_member.card_no[1:-1]) == 51


# --- re-running, reconcile, the CLI ------------------------------------------------------------


def test_re_running_the_file_posts_nothing_twice_and_reconcile_stays_at_zero(
    system, program, tmp_path, capsys
):
    file = write_csv(
        tmp_path / "old.csv",
        [
            HEADER,
            [mobile(1), "张伟", card("6200000000000011"), "M1", "gold", 10, "", 100, 10],
            [mobile(2), "李娜", "", "", "", 20, later(9), "", ""],
        ],
    )

    assert cli_in_process("import", "members", str(file), "--merchant", "acme") == 0
    posted = Transaction.objects.filter(kind=MIGRATION).count()
    first = capsys.readouterr().out
    assert "Opening balances: 4 migration transactions (points 30, principal ¥1.00" in first
    assert cli_in_process("import", "members", str(file), "--merchant", "acme") == 0
    out = capsys.readouterr().out

    assert posted == 4 and Transaction.objects.filter(kind=MIGRATION).count() == 4
    assert "Already members:  2 (skipped)" in out
    assert PointsLot.objects.count() == 2 and Card.objects.count() == 1
    assert TierChange.objects.count() == 1
    assert Member.objects.count() == 2
    assert cli_in_process("reconcile", "--merchant", "acme") == 0
    assert "0 differences" in capsys.readouterr().out


def test_post_openings_is_idempotent_per_member_and_asset_and_adds_to_existing_accounts(
    system, program
):
    member = register_member(system, {"mobile": mobile(1)})
    ledger.top_up(system, member, 5000, key="t1")
    ledger.earn_points(system, member, 7, key="e1")

    first = post_openings(system, [Opening(member.pk, points=3, principal=100)])
    again = post_openings(system, [Opening(member.pk, points=30, principal=1000, bonus=9)])

    assert (first, again) == (2, 1)  # the second run only adds the bonus, never asked before
    assert balances(member) == {Asset.POINTS: 10, Asset.PRINCIPAL: 5100, Asset.BONUS: 9}
    assert reconcile(system.merchant) == []
    with pytest.raises(ValueError):
        post_openings(system, [Opening(member.pk, principal=-1)])


# --- bad input -------------------------------------------------------------------------------


def test_bad_cells_are_row_errors_and_nothing_of_their_row_is_written(system, program, tmp_path):
    taken = register_member(system, {"mobile": mobile(50)}).card_no
    good = card("6200000000000029")
    wrong_check = good[:-1] + str((int(good[-1]) + 1) % 10)
    file = write_csv(
        tmp_path / "bad.csv",
        [
            HEADER,
            [mobile(1), "好", good, "P1", "gold", 5, later(1), 100, 0],  # row 2: good
            [mobile(2), "负", "", "", "", "", "", "-100", ""],  # 3: negative principal
            [mobile(3), "校验", wrong_check, "", "", "", "", "", ""],  # 4: check digit
            [mobile(4), "重复", good, "", "", "", "", "", ""],  # 5: same number as row 2
            [mobile(5), "已用", taken, "", "", "", "", "", ""],  # 6: another member's
            [mobile(6), "等级", "", "", "diamond", "", "", "", ""],  # 7: unknown tier
            [mobile(7), "日期", "", "", "", 10, "2027-02-30", "", ""],  # 8: bad date
            [mobile(8), "过去", "", "", "", 10, "2020-01-01", "", ""],  # 9: in the past
            [mobile(9), "积分", "", "", "", "-3", "", "", "-1"],  # 10: two negatives
            [mobile(10), "卡", "", "P1", "", "", "", "", ""],  # 11: same physical card
            [mobile(11), "字母", "62000A", "", "", "1.5", "", "12.5", ""],  # 12: not whole
        ],
    )

    result = run(system, file)

    assert result.imported == 1 and result.rejected == 10
    errors = errors_of(result)
    assert errors[3] == {"stored_value_principal": "Cannot be negative."}
    assert "check digit" in errors[4]["card_no"]
    assert errors[5] == {"card_no": "The same card number is already on row 2."}
    assert errors[6] == {"card_no": "This card number is already in use."}
    assert errors[7] == {"tier": "Unknown tier: diamond"}
    assert errors[8] == {"points_expires_at": "Enter a date as YYYY-MM-DD."}
    assert "in the past" in errors[9]["points_expires_at"]
    assert errors[10] == {
        "points": "Cannot be negative.",
        "stored_value_bonus": "Cannot be negative.",
    }
    assert errors[11] == {"physical_id": "The same physical card is already on row 2."}
    assert set(errors[12]) == {"card_no", "points", "stored_value_principal"}
    assert set(Member.objects.values_list("mobile", flat=True)) == {mobile(50), mobile(1)}
    assert Transaction.objects.filter(kind=MIGRATION).count() == 2
    assert Card.objects.count() == 1 and TierChange.objects.count() == 1
    assert reconcile(system.merchant) == []


def test_fen_and_yuan_for_one_amount_is_an_error(system, program, tmp_path):
    file = write_csv(
        tmp_path / "both.csv",
        [["mobile", "stored_value_principal", "储值本金(元)"], [mobile(1), "100", "1.00"]],
    )

    result = run(system, file)

    assert result.imported == 0
    message = "Give the amount in fen or in yuan, not both."
    assert errors_of(result) == {2: {"储值本金(元)": message}}


def test_a_dry_run_reports_the_errors_and_writes_nothing(system, program, tmp_path):
    file = write_csv(
        tmp_path / "dry.csv",
        [HEADER, [mobile(1), "好", card("6200000000000037"), "", "gold", 5, "", 100, 0]]
        + [[mobile(2), "坏", "1234", "", "", "", "", "", ""]],
    )

    result = run(system, file, dry_run=True)

    assert result.imported == 1 and result.rejected == 1
    assert errors_of(result)[3].keys() == {"card_no"}
    assert result.preview[0]["extra"]["tier"] == "金卡会员"
    assert not Member.objects.exists() and not Transaction.objects.exists()
    assert not Card.objects.exists() and not Account.objects.exists()


# --- the template and the console ------------------------------------------------------------


def test_the_template_offers_the_columns(system, program):
    workbook = openpyxl.load_workbook(io.BytesIO(build_template(system.merchant)))
    headers = [cell.value for cell in workbook.worksheets[0][1]]

    wanted = ("卡号", "实体卡ID", "等级", "积分", "积分有效期", "储值本金(分)", "赠送金额(分)")
    assert set(wanted) <= set(headers)
    explained = [row[1] for row in workbook.worksheets[1].iter_rows(values_only=True)]
    assert "stored_value_principal" in explained and "points_expires_at" in explained


@pytest.fixture
def data_dir(settings, tmp_path) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


def upload(name: str, rows: list[list[object]]) -> io.BytesIO:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    stream = io.BytesIO(text.getvalue().encode("utf-8-sig"))
    stream.name = name
    return stream


def test_console_upload_previews_and_imports_the_columns(hq, program, data_dir, jobs_now):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(hq.staff.user)
    number = card("6200000000000045")
    rows = [
        HEADER,
        [mobile(1), "张伟", number, "", "gold", 1200, "", 10000, 500],
        [mobile(2), "李娜", "", "", "", "-5", "", "", ""],
    ]

    response = client.post("/members/import/", {"file": upload("old.csv", rows)})

    preview = ImportBatch.objects.get()
    page = client.get(response["Location"]).content.decode()
    for shown in ("Card number", number, "金卡会员", "1200", "¥100.00", "¥5.00"):
        assert shown in page
    assert "Cannot be negative." in page
    assert not Transaction.objects.exists()

    response = client.post(f"/members/import/{preview.pk}/confirm/")

    member = Member.objects.get()
    assert member.card_no == number
    assert balances(member) == {Asset.POINTS: 1200, Asset.PRINCIPAL: 10000, Asset.BONUS: 500}
    assert reconcile(hq.merchant) == []


# --- many members (statements with bounded parameters on PostgreSQL) --------------------------


def test_many_members_with_balances(system, program, tmp_path):
    count = 11_000  # more than two chunks of 5,000 and more than 65,535 values in all
    rows = [HEADER] + [
        [
            f"13{n:09d}",
            "",
            card(f"66{n:012d}"),
            f"P{n}",
            ("normal", "silver", "gold")[n % 3],
            n % 500,
            "",
            n % 7 * 100,
            n % 3,
        ]
        for n in range(1, count + 1)
    ]
    # Mobiles phonenumbers accepts: 13x with an assigned block.
    rows = [rows[0]] + [[f"1390{n:07d}", *row[1:]] for n, row in enumerate(rows[1:], start=1)]

    result = run(system, write_csv(tmp_path / "many.csv", rows))

    assert (result.imported, result.errors) == (count, [])
    points = sum(n % 500 for n in range(1, count + 1))
    principal = sum(n % 7 * 100 for n in range(1, count + 1))
    bonus = sum(n % 3 for n in range(1, count + 1))
    member_side = Entry.objects.filter(account__owner_type=OwnerType.MEMBER)
    totals = dict(member_side.values_list("asset").annotate(total=Sum("amount")))
    assert totals == {Asset.POINTS: points, Asset.PRINCIPAL: principal, Asset.BONUS: bonus}
    assert PointsLot.objects.aggregate(total=Sum("remaining"))["total"] == points
    assert Card.objects.count() == count
    assert TierChange.objects.count() == sum(1 for n in range(1, count + 1) if n % 3)
    assert reconcile(system.merchant) == []
    if connection.vendor == "postgresql":
        # The ledger's statistics were refreshed with the members' (ImportExtension.grows): a
        # reconcile right after an import is not planned for empty tables (minutes, not 1 s).
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'ledger_entry'")
            assert cursor.fetchone()[0] >= 2 * count
