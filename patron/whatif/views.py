"""The console's what-if page (/whatif/, issue 22): a draft program replayed over the recorded
sales of a range next to the current one, and the draft applied once it convinces.

Up to 31 days the replay runs in the request and writes nothing (the draft travels on in a
signed token, `drafts`); a longer range is a job (`jobs.submit`) whose page polls until the
figures are in. Both show the same result (`present`, `whatif/_result.html`). HQ admins and
marketers replay; only HQ admins apply, as a program revision, after a confirm step."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from patron.core.errors import DomainError, ValidationFailed
from patron.core.text import INT64_MAX, parse_int
from patron.program import services as program
from patron.program.services import as_json
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.permissions import require_role
from patron.whatif import drafts, jobs, present, services
from patron.whatif.forms import DraftForm
from patron.whatif.models import Simulation

SIMULATE_ROLES = (Role.HQ_ADMIN, Role.MARKETER)
may_simulate = require_role(*SIMULATE_ROLES)
EDITOR_SECTIONS = ("tiers", "promotions", "coupon_templates")


def page_context(actor: Actor, form: DraftForm, **more: Any) -> dict[str, Any]:
    return {"form": form, "may_apply": actor.role == Role.HQ_ADMIN, **more}


@may_simulate
@require_http_methods(["GET", "POST"])
def page(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    if request.method != "POST":
        return render(request, "whatif/page.html", page_context(actor, DraftForm(actor=actor)))
    form = DraftForm(request.POST, request.FILES, actor=actor)
    context = page_context(actor, form)
    if form.is_valid() and form.asked is not None:
        document = as_json(form.document)  # YAML dates as JSON text has them: signed, stored
        try:
            if form.asked.days > services.SHORT_RANGE_DAYS:
                simulation = jobs.submit(actor, document, form.asked)
                return redirect("whatif:simulation", simulation_id=simulation.pk)
            revision = drafts.latest_revision(actor)
            result = services.simulate(actor, document, form.asked)
        except ValidationFailed as failure:
            form.add_draft_errors(failure)
        except DomainError as refused:
            form.add_error(None, str(refused.detail))
        else:
            context["shown"] = present.present(actor, jobs.answer(result), document)
            context["asked"] = form.asked
            context["token"] = drafts.sign(actor, document, revision)
    return render(request, "whatif/page.html", context)


@may_simulate
@require_POST
def from_editor(request: HttpRequest, section: str) -> HttpResponse:
    """The tier or promotion editor's "What if…" button: its form, as posted, becomes the
    draft (the current program with that row changed), ready to replay."""
    if section not in EDITOR_SECTIONS:
        raise Http404
    actor = request.actor
    code = request.GET.get("editing") or None
    if section == "tiers":
        if code is None:
            raise Http404
        document, problems = drafts.from_tier_editor(actor, code, request.POST)
    else:
        document, problems = drafts.from_rule_editor(actor, section, code, request.POST)
    initial = {"program": program.dump_yaml(document)} if document is not None else {}
    form = DraftForm(actor=actor, initial=initial)
    context = page_context(actor, form, editor_problems=problems, from_editor=document is not None)
    return render(request, "whatif/page.html", context)


# --- jobs ------------------------------------------------------------------------------------


def simulation_or_404(actor: Actor, simulation_id: int) -> Simulation:
    found = (
        Simulation.objects.filter(merchant=actor.merchant, pk=simulation_id)
        .select_related("store")
        .first()
    )
    if found is None:
        raise Http404
    return found


@may_simulate
@require_GET
def simulation(request: HttpRequest, simulation_id: int) -> HttpResponse:
    actor = request.actor
    found = simulation_or_404(actor, simulation_id)
    context: dict[str, Any] = {"simulation": found, "may_apply": actor.role == Role.HQ_ADMIN}
    if found.status == Simulation.Status.DONE and found.result:
        context["shown"] = present.present(actor, found.result, found.document)
    return render(request, "whatif/simulation.html", context)


@may_simulate
@require_GET
def progress(request: HttpRequest, simulation_id: int) -> HttpResponse:
    """The line a queued replay's page polls; once it is over the page reloads with the
    figures (or the reason it failed)."""
    found = simulation_or_404(request.actor, simulation_id)
    response = render(request, "whatif/_progress.html", {"simulation": found})
    finished = found.status in (Simulation.Status.DONE, Simulation.Status.FAILED)
    if finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


# --- applying ----------------------------------------------------------------------------------


def posted_draft(actor: Actor, data: Any) -> drafts.Draft:
    if data.get("simulation"):
        simulation_id = parse_int(str(data["simulation"]), low=1, high=INT64_MAX)
        if simulation_id is None:
            raise Http404
        found = simulation_or_404(actor, simulation_id)
        if found.status != Simulation.Status.DONE:
            raise drafts.DraftRefused(_("This replay has not finished."))
        return drafts.from_simulation(actor, found)
    return drafts.from_token(actor, data.get("token", ""))


@may_simulate
@require_POST
def apply(request: HttpRequest) -> HttpResponse:
    """Confirm (the changes the draft makes now), then apply as a program revision. A draft
    replayed before the latest revision is not applied: the page offers it for a new replay."""
    actor = request.actor
    if actor.role != Role.HQ_ADMIN:
        raise PermissionDenied
    try:
        draft = posted_draft(actor, request.POST)
    except drafts.DraftRefused as refused:
        messages.error(request, str(refused.detail))
        return redirect("whatif:page")
    if drafts.is_stale(actor, draft):
        form = DraftForm(actor=actor, initial={"program": program.dump_yaml(draft.document)})
        return render(request, "whatif/page.html", page_context(actor, form, stale=True))
    try:
        if request.POST.get("confirmed") != "1":
            changes = program.apply_program(actor, draft.document, dry_run=True)
            context = {
                "draft": draft,
                "token": request.POST.get("token", ""),
                "changes": present.named_changes(
                    actor, [str(change) for change in changes], draft.document
                ),
            }
            return render(request, "whatif/confirm.html", context)
        changes = program.apply_program(actor, draft.document)
    except ValidationFailed as failure:  # the program moved under the draft in another way
        messages.error(request, str(failure))
        return redirect("whatif:page")
    if changes:
        messages.success(
            request,
            ngettext(
                "The draft is applied: %(count)d change recorded as a program revision.",
                "The draft is applied: %(count)d changes recorded as a program revision.",
                len(changes),
            )
            % {"count": len(changes)},
        )
    else:
        messages.info(request, _("Nothing changed: the program already says this."))
    return redirect("program:revisions")
