"""Thin views: configurator, shared page, fork, revisions, compare, exports, planner."""

import re
import time

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url, trigger_client_event
from django_ratelimit.decorators import ratelimit

from builds import edit_keys, exports, selectors, services
from builds.configurator import render
from builds.configurator.edits import SINGLE, apply_edits, parse_custom_spec, resolve_state
from builds.configurator.page import CATEGORY_ORDER, build_page
from builds.configurator.picker import picker_candidates
from builds.configurator.state import (
    State,
    encode_line,
    state_from_build,
    state_from_form,
    state_from_params,
)
from builds.forms import BuildSaveForm, PickerForm
from builds.inputs import InputError, Line
from builds.models import Build, BuildRevision, Visibility
from builds.wording import picker_summary
from catalog.engine.placement import Placement

SHARE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
SAVED_MESSAGE = "Saved. Anyone with this link can view it:"


def can_edit(request, build: Build) -> bool:
    if build.owner_id and request.user.is_authenticated and build.owner_id == request.user.pk:
        return True
    return services.edit_token_valid(build, edit_keys.token_for(request, build.share_id))


def remember_edit_token(request, response, build: Build, token: str):
    return edit_keys.remember(request, response, build.share_id, token)


def configurator_response(request, state: State, base_path: str, extra: dict, *, force=()):
    """The configurator page, or for an htmx re-check only the regions the browser does not show yet
    (`force`: regions to send whatever the browser shows)."""
    resolve_state(state)
    page = build_page(state, base_path)
    if request.htmx and not request.htmx.history_restore_request:
        shown = render.shown_tokens(request.GET.getlist("v"), force=force)
        sent = render.render_regions(page.regions, shown=shown)
        response = TemplateResponse(request, "builds/edit.html#recheck", {"page": page, "sent": sent})
        # static/js/configurator.js refreshes the open pickers' lists on it
        trigger_client_event(response, "rigsite:rechecked", after="settle")
        return push_url(response, f"{base_path}?{page.query}")
    render.render_regions(page.regions)
    context = {"page": page, "categories": CATEGORY_ORDER} | extra
    return TemplateResponse(request, "builds/edit.html", context)


def state_for_request(request) -> tuple[State, bool]:
    """The state in the query, with the form's controls applied; and whether to redirect to its clean
    address (a form submitted without JavaScript: controls or signatures in the query)."""
    state = apply_edits(state_from_params(request.GET), request.GET)
    return state, (state.changed or "v" in request.GET) and not request.htmx


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def build_new(request):
    if request.method == "POST":
        return build_create_post(request)
    state, redirect = state_for_request(request)
    if redirect:
        return HttpResponseRedirect(f"{request.path}?{state.query()}")
    return configurator_response(request, state, request.path, {"build": None, "save_form": BuildSaveForm()})


@ratelimit(key="ip", rate="rigsite.ratelimits.writes", method="POST", block=True)
def build_create_post(request):
    state = apply_edits(state_from_form(request.POST), request.POST)
    form = BuildSaveForm(request.POST)
    resolve_state(state)
    if not form.is_valid() or not state.lines:
        if not state.lines:
            form.add_error(None, "Add at least one part before saving.")
        return configurator_response(request, state, reverse("build-new"), {"build": None, "save_form": form})
    build, token = services.build_create(
        items=state.lines,
        by=request.user,
        context=state.build_context(),
        currency=state.currency,
        **form.cleaned_data,
    )
    messages.success(request, SAVED_MESSAGE, extra_tags="build-saved")  # shown once (builds/_share.html)
    response = HttpResponseRedirect(build.get_edit_url())
    return remember_edit_token(request, response, build, token)


def build_for_view(share_id: str) -> Build:
    return get_object_or_404(Build, share_id=share_id)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request", "Cookie")
@ratelimit(key="ip", rate="rigsite.ratelimits.lookups", block=True)
def build_edit(request, share_id: str):
    build = build_for_view(share_id)
    if not can_edit(request, build):
        return TemplateResponse(request, "builds/no_edit.html", {"build": build}, status=403)
    if request.method == "POST":
        return build_edit_post(request, build)
    if request.GET.keys() & {"l", "circuit", "v"}:
        state, redirect = state_for_request(request)
        if redirect:
            return HttpResponseRedirect(f"{request.path}?{state.query()}")
    else:
        state = state_from_build(build, selectors.build_lines(build))
    form = BuildSaveForm(
        initial={"name": build.name, "description": build.description, "visibility": build.visibility}
    )
    return configurator_response(request, state, request.path, {"build": build, "save_form": form})


@ratelimit(key="ip", rate="rigsite.ratelimits.writes", block=True)
def build_edit_post(request, build: Build):
    state = apply_edits(state_from_form(request.POST), request.POST)
    resolve_state(state)
    form = BuildSaveForm(request.POST)
    if not form.is_valid():
        return configurator_response(request, state, request.path, {"build": build, "save_form": form})
    with transaction.atomic():
        build = Build.objects.select_for_update().get(pk=build.pk)
        fields = {
            key: value
            for key, value in form.cleaned_data.items()
            if key != "visibility" or build.visibility != Visibility.FEATURED  # featuring is a curator's
        }
        fields |= {"currency": state.currency, "context": edited_context(build, state)}
        services.build_update(build=build, fields=fields, lines=state.lines, by=request.user, note="saved")
    messages.success(request, SAVED_MESSAGE, extra_tags="build-saved")  # shown once (builds/_share.html)
    return HttpResponseRedirect(build.get_absolute_url())


def edited_context(build: Build, state: State) -> dict:
    """The saved context with only what the page changed: a field the page shows unchanged (or does not
    show at all) keeps its saved value exactly."""
    shown = state_from_build(build, []).build_context()  # what the page was given
    now = state.build_context()
    context = dict(build.context or {})
    for key in shown.keys() | now.keys():
        if shown.get(key) == now.get(key):
            continue
        if key in now:
            context[key] = now[key]
        else:
            context.pop(key, None)
    return context


@require_GET
@ratelimit(key="ip", rate="rigsite.ratelimits.lookups", block=True)
def build_picker(request, category: str):
    started = time.thread_time()  # the picker's CPU budget counts from here (builds/configurator.py)
    if category not in dict(CATEGORY_ORDER):
        raise Http404("unknown category")
    state = state_from_form(request.GET)
    resolve_state(state)
    base_path = safe_base_path(request.GET.get("base", ""))
    form = PickerForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {"q": "", "sort": "price", "all": False}
    picked = picker_candidates(
        state,
        category,
        q=filters["q"],
        show_all=filters["all"],
        sort=filters["sort"] or "price",
        started=started,
    )
    # Each "Add" link carries the whole state: encode the build's lines once, not once per candidate.
    tokens = {}
    for candidate in picked.candidates + picked.unchecked:
        *base, new = candidate["lines"]
        if not tokens:
            tokens = {id(line): encode_line(line) for line in base}
        line_tokens = [tokens.get(id(line)) or encode_line(line) for line in base] + [encode_line(new)]
        candidate["add_url"] = f"{base_path}?{state.query(tokens=line_tokens)}"
    context = {
        "category": category,
        "category_label": dict(CATEGORY_ORDER)[category],
        "title": picker_summary(category, False, False),
        "in_build": {line.slug for line in state.lines if line.slug},
        "single": category in SINGLE,
        "candidates": picked.candidates,
        "picked": picked,
        "form": form,
        "state": state,
        "query": state.query(),
        "base_path": base_path,
        "in_page": bool(request.htmx),
    }
    template = "builds/picker.html#results" if request.htmx else "builds/picker.html"
    return TemplateResponse(request, template, context)


@require_GET
def build_custom_part(request):
    """Add a custom part (typed specs, validated by the engine) to the state, then show the build."""
    state = state_from_form(request.GET)
    base_path = safe_base_path(request.GET.get("base", ""))
    category = request.GET.get("category", "")
    name = request.GET.get("name", "").strip()[:200] or "Custom part"
    try:
        if category not in dict(CATEGORY_ORDER):
            raise InputError("category", "choose a category")
        spec = parse_custom_spec(category, request.GET.get("spec", ""))
        quantity = int(request.GET.get("quantity", "1") or 1)
        if not 1 <= quantity <= 16:
            raise InputError("quantity", "between 1 and 16")
    except (InputError, ValueError) as exc:
        state.errors.append(
            f"custom part: {getattr(exc, 'field', 'quantity')}: {getattr(exc, 'message', exc)}"
        )
        return configurator_response(request, state, base_path, {"build": None, "save_form": BuildSaveForm()})
    state.lines.append(Line(category=category, name=name, spec=spec, quantity=quantity))
    url = f"{base_path}?{state.query()}"
    if request.htmx:
        extra = {"build": None, "save_form": BuildSaveForm()}
        return configurator_response(request, state, base_path, extra, force={"custom"})
    return HttpResponseRedirect(url)


def safe_base_path(base_path: str) -> str:
    """The configurator a picker or custom-part form came from: a build's edit page, else the new-build
    page (a client-given path is only ever reused as one of those two)."""
    try:
        match = resolve(base_path)
    except Resolver404:
        match = None
    if match is not None and match.url_name == "build-edit":
        return reverse("build-edit", kwargs=match.kwargs)
    return reverse("build-new")


@require_GET
@vary_on_headers("Cookie")
@ratelimit(key="ip", rate="rigsite.ratelimits.lookups", block=True)
def build_detail(request, share_id: str):
    build = build_for_view(share_id)
    lines = selectors.build_lines(build)
    state = state_from_build(build, lines)
    fmt = request.GET.get("format")
    if fmt in exports.FORMATS:
        return exports.export_response(build, state, fmt, exports.site_root(request))
    if fmt:
        return JsonResponse({"error": {"field": "format", "message": "md, csv or json"}}, status=400)
    page = build_page(state, build.get_edit_url())
    render.render_regions(page.report_regions)
    context = {
        "page": page,
        "build": build,
        "can_edit": can_edit(request, build),
        "saved_items": exports.price_rows(build, lines, state.currency),
        "ownership": exports.cost_of_ownership(build, state, page.report),
        "revisions": build.revisions.all()[:20],
        "print": request.GET.get("print") == "1",
    }
    return TemplateResponse(request, "builds/detail.html", context)


@require_POST
@ratelimit(key="ip", rate="rigsite.ratelimits.writes", block=True)
def build_fork_view(request, share_id: str):
    build = build_for_view(share_id)
    fork, token = services.build_fork(build=build, by=request.user)
    return remember_edit_token(request, HttpResponseRedirect(fork.get_edit_url()), fork, token)


@require_GET
def build_revision(request, share_id: str, number: int):
    build = build_for_view(share_id)
    revision = get_object_or_404(BuildRevision, build=build, number=number)
    items = [
        item | {"placement_text": Placement.from_json(item.get("placement")).describe()}
        for item in revision.snapshot.get("items", [])
    ]
    return TemplateResponse(
        request, "builds/revision.html", {"build": build, "revision": revision, "items": items}
    )


@require_http_methods(["GET", "POST"])
@vary_on_headers("Cookie")
@ratelimit(key="ip", rate="rigsite.ratelimits.lookups", block=True)
@ratelimit(key="ip", rate="rigsite.ratelimits.writes", method="POST", block=True)
def compare(request):
    """GET: choose builds by name and compare them (?b=<id>&b=<id>, or ?b=<id>,<id>). POST add=<id> or
    remove=<id>: change the visitor's compare list (a cookie), then back to `next`."""
    from builds import compare as comparing

    if request.method == "POST":
        return comparing.edit_compare_list(request)
    listed = comparing.compare_list(request)
    if not request.GET and len(listed) >= comparing.MIN_BUILDS:  # "Compare": the list, at a shareable address
        return HttpResponseRedirect(comparing.compare_url(listed))
    return TemplateResponse(request, "builds/compare.html", comparing.compare_page_context(request))


@require_GET
def plan(request):
    from builds.planner import plan_context

    context = plan_context(request.GET)
    form = context["form"]
    # a bad value (an unknown runtime, a GGUF type for vLLM) is a 400 with the field named on the form
    return TemplateResponse(
        request, "builds/plan.html", context, status=400 if form.is_bound and form.errors else 200
    )
