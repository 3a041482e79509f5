"""The import template: an .xlsx with the header row to fill in and a sheet explaining it.

It is built for the merchant (its custom fields, drop-down lists of its stores) and explains
itself in Chinese and English whatever the operator's language; the data sheet holds headers
only, so the file re-imports cleanly as it is.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from patron.members.importing.columns import COLUMNS, custom_header
from patron.members.importing.extensions import extension_columns
from patron.members.importing.xlsx import INSTRUCTIONS_SHEET_TITLE
from patron.members.models import CustomField
from patron.members.services import custom_field_definitions
from patron.tenancy.models import Merchant
from patron.tenancy.selectors import active_stores

DATA_SHEET_TITLE = "会员 Members"
HEADER_FONT = Font(bold=True)
REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
TEMPLATE_ROWS = 100_000  # how far the drop-down lists reach
# The template explains itself in Chinese and English whatever the operator's language.
CUSTOM_KIND_ZH = {"text": "文本", "number": "数字", "choice": "选项", "date": "日期 YYYY-MM-DD"}


@dataclass(frozen=True)
class TemplateColumn:
    header: str
    en: str
    required: bool
    help_zh: str
    help_en: str
    example: str
    choices: tuple[str, ...]
    text_format: bool  # formatted as text so Excel keeps leading zeros and all 18 ID digits


def template_columns(merchant: Merchant) -> list[TemplateColumn]:
    definitions = custom_field_definitions(merchant)
    store_codes = tuple(active_stores(merchant).values_list("code", flat=True))
    columns = [
        TemplateColumn(
            header=c.zh,
            en=c.en,
            required=c.field == "mobile",
            help_zh=c.help_zh,
            help_en=c.help_en,
            example=c.example,
            choices=store_codes if c.field == "store" else c.choices,
            text_format=c.field in ("mobile", "id_number", "store", "lunar_birthday"),
        )
        for c in COLUMNS
    ]
    # Columns of the apps above (cards: card numbers, tiers, opening balances).
    columns += [
        TemplateColumn(
            header=c.zh,
            en=c.en,
            required=False,
            help_zh=c.help_zh,
            help_en=c.help_en,
            example=c.example,
            choices=c.choices,
            text_format=True,  # card numbers keep every digit; the rest read the same as text
        )
        for _extension, c in extension_columns()
        if c.in_template
    ]
    for definition in definitions:
        columns.append(
            TemplateColumn(
                header=custom_header(definition, definitions),
                en=definition.key,
                required=definition.required,
                help_zh=f"自定义字段（{CUSTOM_KIND_ZH.get(definition.kind, definition.kind)}）",
                help_en=f"Custom field ({definition.kind})",
                example=(definition.choices or [""])[0]
                if definition.kind == CustomField.Kind.CHOICE
                else "",
                choices=tuple(definition.choices)
                if definition.kind == CustomField.Kind.CHOICE
                else (),
                text_format=definition.kind in (CustomField.Kind.TEXT, CustomField.Kind.CHOICE),
            )
        )
    return columns


def build_template(merchant: Merchant) -> bytes:
    """An .xlsx with one header row to fill in, and a second sheet explaining each column.

    The data sheet holds headers only, so the file re-imports cleanly as it is.
    """
    columns = template_columns(merchant)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = DATA_SHEET_TITLE
    sheet.append([c.header for c in columns])
    sheet.freeze_panes = "A2"
    for number, column in enumerate(columns, start=1):
        letter = get_column_letter(number)
        header = sheet.cell(row=1, column=number)
        header.font = HEADER_FONT
        if column.required:
            header.fill = REQUIRED_FILL
        header.comment = Comment(f"{column.en}\n{column.help_zh}\n{column.help_en}", "Patron")
        sheet.column_dimensions[letter].width = max(12, len(column.header) * 2 + 4)
        if column.text_format:
            sheet.column_dimensions[letter].number_format = "@"
        add_choice_list(sheet, letter, column.choices)
    add_instructions(workbook, columns)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def add_choice_list(sheet: Any, letter: str, choices: tuple[str, ...]) -> None:
    formula = '"' + ",".join(choices) + '"'
    # Excel refuses inline lists longer than 255 characters or containing commas or quotes.
    if not choices or len(formula) > 255 or any("," in c or '"' in c for c in choices):
        return
    validation = DataValidation(type="list", formula1=formula, allow_blank=True)
    validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS}")
    sheet.add_data_validation(validation)


def add_instructions(workbook: Any, columns: list[TemplateColumn]) -> None:
    sheet = workbook.create_sheet(INSTRUCTIONS_SHEET_TITLE)
    sheet.append(["列名", "Column", "必填 Required", "说明", "Description", "示例 Example"])
    for cell_ in sheet[1]:
        cell_.font = HEADER_FONT
    for column in columns:
        sheet.append(
            [
                column.header,
                column.en,
                "是 yes" if column.required else "",
                column.help_zh,
                column.help_en,
                column.example,
            ]
        )
    sheet.append([])
    for line in (
        "第一行是列名：可以删掉不用的列，也可以用英文列名；从第二行起每行一位会员。",
        "Row 1 holds the column names (Chinese or English; unused columns may be deleted); "
        "one member per row from row 2.",
        "有错误的行不会导入，导入后可下载错误报告；已是会员的手机号会跳过，重复导入是安全的。",
        "Rows with errors are not imported and are listed in the error report; mobiles that "
        "are already members are skipped, so importing a file twice is safe.",
    ):
        sheet.append([line])
    for letter, width in zip("ABCDEF", (14, 16, 12, 48, 48, 22), strict=True):
        sheet.column_dimensions[letter].width = width
