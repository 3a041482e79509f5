"""The program's revision history: every applied change (console, API or command line) with
what it changed, as the program file's text before and after."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from patron.program.display import section_name, shown_change
from patron.program.models import ProgramRevision
from patron.program.services import dump_yaml
from patron.tenancy.audit_display import CHANNEL_LABELS
from patron.tenancy.models import Role
from patron.tenancy.permissions import require_role

REVISION_ROLES = (Role.HQ_ADMIN, Role.MARKETER, Role.STORE_MANAGER)
PAGE_SIZE = 20


@dataclass(frozen=True)
class DiffLine:
    sign: str  # "+", "-" or " "
    text: str


@dataclass(frozen=True)
class ShownRevision:
    revision: ProgramRevision
    who: str
    channel: str
    sections: str
    changes: list[tuple[str, str, str, str]]  # (op word, section, key, detail)
    diff: list[DiffLine]


def who(revision: ProgramRevision) -> str:
    if revision.applied_by is not None:
        return revision.applied_by.get_full_name() or revision.applied_by.get_username()
    return _("System (command line)") if revision.channel == "cli" else _("System")


def diff_lines(revision: ProgramRevision) -> list[DiffLine]:
    """The sections the revision applied, as exported before and after, line by line."""
    if not revision.before and not revision.after:
        return []
    before = dump_yaml(revision.before).splitlines()
    after = dump_yaml(revision.after).splitlines()
    lines = []
    for line in difflib.unified_diff(before, after, lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        sign = line[0] if line[0] in "+-@" else " "
        if sign == "@":
            lines.append(DiffLine("@", "…"))
        else:
            lines.append(DiffLine(sign, line[1:]))
    return lines


def present(revision: ProgramRevision) -> ShownRevision:
    return ShownRevision(
        revision=revision,
        who=who(revision),
        channel=str(CHANNEL_LABELS.get(revision.channel, revision.channel)),
        sections="、".join(section_name(name) for name in revision.document),
        changes=[shown_change(line) for line in revision.changes],
        diff=diff_lines(revision),
    )


@require_GET
@require_role(*REVISION_ROLES)
def revisions(request: HttpRequest) -> HttpResponse:
    found = ProgramRevision.objects.filter(merchant=request.actor.merchant).select_related(
        "applied_by"
    )
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = [present(revision) for revision in page.object_list]
    return render(request, "program/revisions.html", {"page": page, "revisions": shown})
