"""Benchmark: import 100,000 members from .xlsx and from .csv on a fresh SQLite database.

    .venv/bin/python bench/import_members.py [--rows 100000] [--profile] [--keep]

Generates realistic Chinese member data (about 1% bad rows of every kind) into a temporary
directory, creates a fresh merchant on a fresh SQLite database there, and imports the files
through the same service the CLI and the console use. Prints rows/s and seconds for the xlsx
and the csv import, and for re-importing the csv (which must create nothing). Target: 100,000
rows in under 60 s each on a 2-core machine; the figures are kept in docs/members-import.md.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import io
import os
import pstats
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADERS = [
    "手机号",
    "姓名",
    "性别",
    "生日",
    "身份证号",
    "邮箱",
    "地区",
    "职业",
    "收入",
    "标签",
    "短信营销",
    "微信营销",
    "门店",
    "入会时间",
    "衣服尺码",
]
# Mobile prefixes assigned to China Mobile / Unicom / Telecom: every 8-digit tail is valid.
MOBILE_PREFIXES = [
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "186",
    "187",
    "188",
    "189",
]
AREAS = ["330106", "330102", "310101", "110105", "440305", "510104", "320102", "420106"]
REGIONS = ["浙江省杭州市", "上海市", "北京市", "广东省深圳市", "四川省成都市", "江苏省南京市"]
OCCUPATIONS = ["教师", "工程师", "医生", "设计师", "销售", "公务员", "自由职业", "学生", "企业主"]
TAGS = ["商务", "亲子", "美食家", "高频", "价格敏感", "VIP候选", "外地游客"]
STORES = ["S1", "S2", "S3", "S4", "S5"]
SIZES = ["S", "M", "L", "XL"]
BAD_KINDS = ["mobile", "birthday", "id_number", "store", "duplicate", "email", "gender"]


def setup_django(work: Path) -> None:
    """Point Patron at a fresh database and data dir in `work`, then start Django."""
    os.environ["PATRON_DATA_DIR"] = str(work / "data")
    os.environ["PATRON_DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "patron.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def name_pool(size: int, seed: int) -> list[str]:
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    return [fake.name() for _ in range(size)]


def id_number(rng: random.Random, birthday: dt.date) -> str:
    from stdnum.cn import ric

    while True:
        body = f"{rng.choice(AREAS)}{birthday:%Y%m%d}{rng.randint(0, 999):03d}"
        number = body + ric.calc_check_digit(body + "0")  # it expects a check digit slot
        # Districts are renamed over the years: a code is valid only for some birth dates.
        if ric.is_valid(number):
            return number


def member_rows(count: int, seed: int = 42) -> tuple[list[list[object]], int]:
    """`count` rows of realistic members, about 1% of them bad; returns (rows, bad rows)."""
    rng = random.Random(seed)
    names = name_pool(3000, seed)
    today = dt.date.today()
    mobiles: set[str] = set()
    rows: list[list[object]] = []
    bad = 0
    while len(rows) < count:
        mobile = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if mobile in mobiles:
            continue
        mobiles.add(mobile)
        birthday = today - dt.timedelta(days=rng.randint(18 * 365, 70 * 365))
        joined = dt.datetime.now() - dt.timedelta(minutes=rng.randint(60, 3 * 365 * 24 * 60))
        row: list[object] = [
            mobile,
            rng.choice(names),
            rng.choice(["男", "女", "女", "未知"]),
            birthday.isoformat(),
            id_number(rng, birthday) if rng.random() < 0.3 else "",
            f"u{len(rows)}@example.com" if rng.random() < 0.2 else "",
            rng.choice(REGIONS),
            rng.choice(OCCUPATIONS),
            rng.choice(["", "low", "middle", "middle", "high", "top"]),
            ",".join(rng.sample(TAGS, rng.choice([0, 0, 1, 1, 2]))),
            rng.choice(["是", "是", "否"]),
            rng.choice(["是", "否"]),
            rng.choice(STORES),
            joined.strftime("%Y-%m-%d %H:%M"),
            rng.choice(SIZES) if rng.random() < 0.4 else "",
        ]
        if rng.random() < 0.01 and rows:
            spoil(row, rng.choice(BAD_KINDS), rows)
            bad += 1
        rows.append(row)
    return rows, bad


def spoil(row: list[object], kind: str, earlier: list[list[object]]) -> None:
    """Make one row bad the way real files are bad."""
    if kind == "mobile":
        row[0] = str(row[0])[:10]
    elif kind == "birthday":
        row[3] = "1990-13-45"
    elif kind == "id_number":
        row[4] = "110105194912310021"  # wrong check digit
    elif kind == "store":
        row[12] = "S99"
    elif kind == "duplicate":
        row[0] = earlier[0][0]
    elif kind == "email":
        row[5] = "not-an-email"
    elif kind == "gender":
        row[2] = "保密"


def write_xlsx(rows: list[list[object]], path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("会员 Members")
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def write_csv(rows: list[list[object]], path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADERS)
        writer.writerows(rows)


def create_merchant(slug: str):
    from patron.members.models import CustomField
    from patron.members.services import define_custom_field
    from patron.tenancy.actor import Actor
    from patron.tenancy.services import create_merchant as create
    from patron.tenancy.services import create_store

    merchant = create(slug, f"Bench {slug}")
    actor = Actor.system(merchant)
    for code in STORES:
        create_store(actor, code, f"{code} 店")
    define_custom_field(actor, "clothing_size", "衣服尺码", CustomField.Kind.CHOICE, SIZES)
    return actor


def run_import(actor, path: Path, label: str, profile: bool) -> object:
    from patron.members.importing import import_members

    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    result = import_members(actor, path, file_name=path.name, dry_run=False)
    if profiler:
        profiler.disable()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    # CPU time too: on a shared machine the wall clock also measures the neighbours.
    print(
        f"{label:<14} {result.rows_read:>8} rows  {seconds:7.1f} s  "
        f"{result.rows_read / seconds:8.0f} rows/s  (cpu {cpu:.1f} s; check "
        f"{result.seconds['check']:.1f} s, write {result.seconds['write']:.1f} s)  "
        f"imported {result.imported}, existing {result.skipped_existing}, "
        f"rejected {result.rejected}"
    )
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of each run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="patron-bench-"))
    try:
        setup_django(work)
        started = time.perf_counter()
        rows, bad = member_rows(args.rows)
        xlsx, csv_path = work / "members.xlsx", work / "members.csv"
        write_xlsx(rows, xlsx)
        write_csv(rows, csv_path)
        print(
            f"generated {len(rows)} rows ({bad} bad) as xlsx {xlsx.stat().st_size // 1024} KB "
            f"and csv {csv_path.stat().st_size // 1024} KB in {time.perf_counter() - started:.1f} s"
        )
        from patron.members.models import Member

        first = run_import(create_merchant("bench-xlsx"), xlsx, "xlsx", args.profile)
        actor = create_merchant("bench-csv")
        second = run_import(actor, csv_path, "csv", args.profile)
        before = Member.objects.filter(merchant=actor.merchant).count()
        again = run_import(actor, csv_path, "csv re-import", args.profile)
        after = Member.objects.filter(merchant=actor.merchant).count()
        assert first.imported == second.imported, "xlsx and csv must import the same rows"
        assert again.imported == 0 and after == before, "re-importing must create nothing"
        print(f"re-import created {after - before} members (must be 0)")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
