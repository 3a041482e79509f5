"""The importable columns and how a file's header row maps onto them.

One column set serves the template, the export and the import, so an export re-imports as it
is. Headers match loosely (Chinese or English, case, blanks, a required '*'), custom fields by
their key or unambiguous label; a header row that does not fit is refused whole, listing every
problem at once, before any row is checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from patron.core.errors import FieldError
from patron.members.importing.errors import BadColumns
from patron.members.importing.extensions import extension_columns
from patron.members.models import CustomField, IncomeBand


@dataclass(frozen=True)
class Column:
    """One importable column: the member field it fills and how the template explains it."""

    field: str
    zh: str
    en: str
    help_zh: str
    help_en: str
    example: str
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()  # offered as a drop-down list in the template
    # For columns registered from above (`extensions`): the console's name for it (a lazy
    # translation), and whether the template offers it (a variant in other units may not).
    label: Any = ""
    in_template: bool = True


YES_NO = ("是", "否")
COLUMNS: tuple[Column, ...] = (
    Column(
        "mobile",
        "手机号",
        "mobile",
        "必填。中国大陆 11 位手机号，可带 +86；已是会员的手机号会跳过。",
        "Required. Mainland China mobile, 11 digits, +86 allowed; existing members are skipped.",
        "13800138000",
        ("手机", "手机号码"),
    ),
    Column("name", "姓名", "name", "最多 50 个字。", "At most 50 characters.", "张伟"),
    Column(
        "gender",
        "性别",
        "gender",
        "男 / 女 / 未知（也可写 M / F / U）。",
        "男 / 女 / 未知 (or M / F / U).",
        "女",
        choices=("男", "女", "未知"),
    ),
    Column(
        "birthday",
        "生日",
        "birthday",
        "公历日期 YYYY-MM-DD（1990/1/2、1990年1月2日 也可以）。",
        "Solar date YYYY-MM-DD (1990/1/2 works too).",
        "1990-01-02",
    ),
    Column(
        "lunar_birthday",
        "农历生日",
        "lunar_birthday",
        "农历 月-日，MM-DD。",
        "Lunar month-day, MM-DD.",
        "08-15",
    ),
    Column(
        "id_number",
        "身份证号",
        "id_number",
        "18 位居民身份证号。请把这一列设为“文本”格式，否则 Excel 会改掉后几位。",
        "18-digit resident ID. Format the column as text, or Excel rounds the last digits.",
        "11010519491231002X",
    ),
    Column("email", "邮箱", "email", "电子邮箱。", "Email address.", "zhangwei@example.com"),
    Column("region", "地区", "region", "省市区，最多 60 字。", "Province / city.", "浙江省杭州市"),
    Column("address", "地址", "address", "最多 200 字。", "At most 200 characters.", "北山街 1 号"),
    Column("occupation", "职业", "occupation", "最多 60 字。", "At most 60 characters.", "教师"),
    Column(
        "income_band",
        "收入",
        "income_band",
        "月收入：low（5千以下）/ middle（5千–1.5万）/ high（1.5万–5万）/ top（5万以上）。",
        "Monthly income: low (<5k) / middle (5k-15k) / high (15k-50k) / top (>50k).",
        "middle",
        choices=tuple(IncomeBand.values[1:]),
    ),
    Column(
        "tags",
        "标签",
        "tags",
        "多个标签用逗号或顿号分开，每个最多 30 字。",
        "Several tags separated by commas, at most 30 characters each.",
        "商务,美食家",
    ),
    Column(
        "consent_sms",
        "短信营销",
        "consent_sms",
        "是否同意接收营销短信：是 / 否。",
        "Agrees to marketing SMS: 是 / 否 (yes / no).",
        "是",
        choices=YES_NO,
    ),
    Column(
        "consent_wechat",
        "微信营销",
        "consent_wechat",
        "是否同意接收微信营销消息：是 / 否。",
        "Agrees to marketing WeChat messages: 是 / 否.",
        "否",
        choices=YES_NO,
    ),
    Column(
        "consent_email",
        "邮件营销",
        "consent_email",
        "是否同意接收营销邮件：是 / 否。",
        "Agrees to marketing email: 是 / 否.",
        "否",
        choices=YES_NO,
    ),
    Column(
        "store",
        "门店",
        "store",
        "门店编码（或门店名称）；留空则用导入时选择的默认门店。",
        "Store code (or name); empty uses the default store chosen for the import.",
        "S1",
    ),
    Column(
        "joined_at",
        "入会时间",
        "joined_at",
        "YYYY-MM-DD 或 YYYY-MM-DD HH:MM；留空为导入的时间。",
        "YYYY-MM-DD or YYYY-MM-DD HH:MM; empty means the time of the import.",
        "2024-05-01",
    ),
)
# Columns our own export writes for information; accepted and ignored so an export re-imports.
EXPORT_ONLY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("card_no", "卡号"),
    ("referral_code", "推荐码"),
    ("source_channel", "来源渠道"),
    ("status", "状态"),
)


def header_key(text: Any) -> str:
    """Compare headers loosely: case, surrounding blanks, spaces vs _ and a required '*'."""
    return re.sub(r"[\s\-]+", "_", str(text).strip().strip("*＊").strip()).lower()


def standard_headers() -> dict[str, str]:
    """Normalised header -> field, for the built-in columns and the ignored export columns."""
    names: dict[str, str] = {}
    for column in COLUMNS:
        for header in (column.zh, column.en, *column.aliases):
            names[header_key(header)] = column.field
    for field_name, zh in EXPORT_ONLY_COLUMNS:
        names[header_key(zh)] = names[header_key(field_name)] = f"ignore:{field_name}"
    return names


STANDARD_HEADERS = standard_headers()


def known_headers() -> dict[str, str]:
    """STANDARD_HEADERS and the columns registered by the apps above (`extensions`), which
    may take over a column our export only writes for information (`card_no`)."""
    names = dict(STANDARD_HEADERS)
    for extension, column in extension_columns():
        for header in (column.zh, column.en, *column.aliases):
            names[header_key(header)] = f"ext:{extension.name}:{column.field}"
    return names


def custom_header(definition: CustomField, definitions: list[CustomField]) -> str:
    """The header the template and export use for a custom field: its label when unambiguous."""
    label = header_key(definition.label)
    shared = sum(header_key(d.label) == label for d in definitions) > 1
    if shared or label in STANDARD_HEADERS:
        return definition.key
    return definition.label


@dataclass
class ColumnPlan:
    """Where each wanted value sits in a row of this particular file."""

    headers: list[str]
    mobile: int
    fields: list[tuple[int, str]]  # (cell index, member field)
    custom: list[tuple[int, CustomField]]
    store: int | None
    joined_at: int | None
    header_of: dict[str, str]  # error field name ("birthday", "custom.size") -> header
    # (cell index, extension name, field) of the columns registered from above
    extra: list[tuple[int, str, str]] = field(default_factory=list)

    def column(self, error_field: str) -> str:
        return self.header_of.get(error_field, error_field)


def custom_headers(definitions: list[CustomField]) -> dict[str, CustomField]:
    """Normalised key and (unambiguous) label -> custom field."""
    by_header = {header_key(d.key): d for d in definitions}
    labels: dict[str, list[CustomField]] = {}
    for definition in definitions:
        labels.setdefault(header_key(definition.label), []).append(definition)
    for label, found in labels.items():
        if len(found) == 1:
            by_header.setdefault(label, found[0])
    return by_header


def plan_columns(headers: list[str], definitions: list[CustomField]) -> ColumnPlan:
    """Map the header row to fields, or raise BadColumns listing every problem at once."""
    customs = custom_headers(definitions)
    known = known_headers()
    errors: list[FieldError] = []
    taken: dict[str, str] = {}
    plan = ColumnPlan(headers, -1, [], [], None, None, {})
    for index, header in enumerate(headers):
        if not header:
            continue  # unnamed columns (often just formatting) carry nothing we could import
        key = header_key(header)
        target = known.get(key)
        definition = customs.get(key) if target is None else None
        if target is None and definition is None:
            errors.append(FieldError(header, _("Unknown column.")))
            continue
        if target is not None and target.startswith("ignore:"):
            continue
        name = target or f"custom.{definition.key}"
        if name in taken:
            errors.append(FieldError(header, _("Same column as %s.") % taken[name]))
            continue
        taken[name] = header
        plan.header_of[name] = header
        if definition is not None:
            plan.custom.append((index, definition))
        elif name == "mobile":
            plan.mobile = index
        elif name == "store":
            plan.store = index
        elif name == "joined_at":
            plan.joined_at = index
        elif name.startswith("ext:"):
            _prefix, extension, column = name.split(":", 2)
            plan.extra.append((index, extension, column))
            plan.header_of[column] = header
        else:
            plan.fields.append((index, name))
    if plan.mobile < 0:
        errors.append(FieldError("手机号 / mobile", _("This column is required.")))
    for definition in definitions:
        if definition.required and f"custom.{definition.key}" not in taken:
            errors.append(
                FieldError(custom_header(definition, definitions), _("This column is required."))
            )
    if errors:
        raise BadColumns(errors)
    return plan
