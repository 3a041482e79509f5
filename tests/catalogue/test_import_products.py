"""`patron import products FILE --merchant SLUG`: csv and xlsx, per-row errors, re-runs."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.management import call_command

from patron.catalogue.importing import import_products
from patron.catalogue.models import Product
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant

pytestmark = pytest.mark.django_db

CSV = (
    "sku,name,category,price,barcode,brand,size\n"
    "FISH,西湖醋鱼,dishes,6800,6901234567809,,例\n"
    "ROOM-STD,湖景标准间,客房,32000,,,\n"  # the category by its name
    "BAD-PRICE,坏价格,drinks,-1,,,\n"
    "BAD-CAT,坏分类,spa,100,,,\n"
    "BAD-CODE,坏条码,drinks,100,6901234567800,,\n"
)


def run(path) -> str:
    out = io.StringIO()
    call_command("import", "products", str(path), "--merchant", "acme", stdout=out)
    return out.getvalue()


def test_csv_import_reports_each_bad_row_and_reruns_update(tmp_path, categories):
    path = tmp_path / "products.csv"
    path.write_text(CSV, encoding="utf-8")
    out = run(path)
    assert "New products:     2" in out
    assert "Rows with errors: 3" in out
    assert "row 4, price" in out and "row 5, category" in out and "row 6, barcode" in out
    assert set(Product.objects.values_list("sku", flat=True)) == {"FISH", "ROOM-STD"}
    room = Product.objects.get(sku="ROOM-STD")
    assert (room.category.code, room.price, room.barcode) == ("rooms", 32000, None)

    again = run(path)
    assert "New products:     0" in again and "Unchanged:        2" in again
    path.write_text(CSV.replace("6800", "7200"), encoding="utf-8")
    assert "Updated:          1" in run(path)
    assert Product.objects.get(sku="FISH").price == 7200
    assert Product.objects.count() == 2


def test_xlsx_with_chinese_headers_and_yuan(tmp_path, categories):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["商品编码", "名称", "分类", "售价(元)", "条码", "品牌"])
    sheet.append(["TEA-LJ", "明前龙井", "drinks", 38.5, 6901234567892, "西湖"])
    sheet.append(["TEA-2", "", "drinks", 10, None, None])  # no name
    path = tmp_path / "products.xlsx"
    workbook.save(path)
    result = import_products_for(path)
    assert (result.created, result.rejected) == (1, 1)
    assert result.errors[0].row == 3 and result.errors[0].column == "name"
    tea = Product.objects.get(sku="TEA-LJ")
    assert (tea.price, tea.barcode, tea.brand) == (3850, "6901234567892", "西湖")


def import_products_for(path):
    return import_products(Actor.system(Merchant.objects.get(slug="acme")), path)


def test_a_file_whose_header_does_not_fit_imports_nothing(tmp_path, categories):
    path = tmp_path / "p.csv"
    path.write_text("sku,title,price\nA,b,1\n", encoding="utf-8")
    with pytest.raises(Exception, match="title"):
        run(path)
    assert not Product.objects.exists()


def test_gbk_csv_from_chinese_excel(tmp_path, categories):
    path = tmp_path / "p.csv"
    path.write_bytes("sku,名称,分类,价格\nTEA,龙井,drinks,100\n".encode("gbk"))
    run(path)
    assert Product.objects.get(sku="TEA").name == "龙井"
