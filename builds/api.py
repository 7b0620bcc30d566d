"""JSON API v1 (docs/api.md): check, estimate, builds. Strict validation, field-named 400s."""

import json

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.decorators import ratelimit

from builds import selectors, services
from builds.inputs import (
    MAX_JSON_DEPTH,
    InputError,
    Line,
    check_json_values,
    order_lines,
    parse_lines,
    resolve_lines,
)
from builds.models import Build, Visibility
from builds.money import localised_context
from builds.reports import report_for
from catalog.engine import specs as engine
from catalog.engine import workload
from catalog.models import Currency
from catalog.workloads import presets

MAX_BODY_BYTES = 256 * 1024
CHECK_KEYS = {"parts", "inline_parts", "context", "workloads"}
BUILD_KEYS = CHECK_KEYS | {"name", "description", "visibility", "currency"}
# What GET and the JSON export show besides BUILD_KEYS: accepted (so an export can be posted back as it is)
# and ignored, never assigned.
READ_ONLY_KEYS = {
    "share_id",
    "revision",
    "url",
    "forked_from",
    "source_url",
    "created_at",
    "updated_at",
    "report",
}


class BodyTooLarge(InputError):
    status = 413


def api_methods(methods: list[str]):
    """require_http_methods, answering in JSON (with Allow) like the rest of the API."""

    def decorator(view):
        def wrapped(request, *args, **kwargs):
            if request.method not in methods:
                response = bad_request(
                    "method", f"{request.method} not allowed; use {', '.join(methods)}", 405
                )
                response["Allow"] = ", ".join(methods)
                return response
            return view(request, *args, **kwargs)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorator


def bad_request(field: str, message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": {"field": field, "message": message}}, status=status)


def read_json(request) -> dict:
    # The API takes JSON only: a cross-site form cannot send application/json without a CORS preflight,
    # which is why these endpoints are exempt from the cookie-based CSRF check.
    if request.content_type != "application/json":
        raise InputError("body", "Content-Type must be application/json")
    too_big = f"at most {MAX_BODY_BYTES // 1024} KB"
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise InputError("Content-Length", "must be a number") from None
    if declared > MAX_BODY_BYTES:
        raise BodyTooLarge("body", too_big)  # before Django reads it (its own refusal is an HTML 400)
    try:
        raw = request.body
    except RequestDataTooBig:
        raise BodyTooLarge("body", too_big) from None
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLarge("body", too_big)
    try:
        body = json.loads(raw, parse_constant=reject_constant)
    except RecursionError:
        raise InputError("body", f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError("body", f"invalid JSON: {exc}") from None
    check_json_values(body)
    if not isinstance(body, dict):
        raise InputError("body", "must be a JSON object")
    return body


def reject_constant(name):
    raise ValueError(f"{name} is not a number")


def check_unknown(body: dict, allowed: set[str]) -> None:
    for key in body:
        if key not in allowed:
            raise InputError(key, "unknown field")


def parse_check_body(body: dict) -> tuple[list[Line], engine.Context]:
    lines = order_lines(resolve_lines(parse_lines(body.get("parts"), body.get("inline_parts"))))
    context_data = body.get("context")
    if context_data is not None and not isinstance(context_data, dict):
        raise InputError("context", "must be an object")
    context_data = dict(context_data or {})
    if "workloads" in body:
        if "workloads" in context_data:
            raise InputError("workloads", "give workloads once, at the top level or in context")
        context_data["workloads"] = body["workloads"]
    try:
        context = engine.parse_context(localised_context(context_data))
        workload.validate_workloads(list(context.workloads), presets())
    except engine.SpecError as exc:
        raise InputError(exc.field, exc.message) from None
    return lines, context


def api_errors(view):
    """Turn validation errors into 400s naming the field; the view never answers 500 for bad input."""

    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except InputError as exc:
            return bad_request(exc.field, exc.message, getattr(exc, "status", 400))
        except engine.SpecError as exc:
            return bad_request(exc.field, exc.message)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@csrf_exempt
@api_methods(["POST"])
@ratelimit(key="ip", rate="rigsite.ratelimits.lookups", block=True)
@api_errors
def check_view(request):
    body = read_json(request)
    check_unknown(body, CHECK_KEYS)
    lines, context = parse_check_body(body)
    return JsonResponse(report_for(lines, context))


@csrf_exempt
@api_methods(["POST"])
@ratelimit(key="ip", rate="rigsite.ratelimits.lookups", block=True)
@api_errors
def estimate_view(request):
    from catalog.workloads import estimate_from_body

    body = read_json(request)
    return JsonResponse(estimate_from_body(body))


def build_fields(body: dict, partial: bool) -> dict:
    fields = {}
    if "name" in body or not partial:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise InputError("name", "required, 1 to 200 characters")
        fields["name"] = name.strip()
    if "description" in body:
        description = body["description"]
        if not isinstance(description, str) or len(description) > 5000:
            raise InputError("description", "a string of at most 5000 characters")
        fields["description"] = description
    if "visibility" in body:
        if body["visibility"] not in (Visibility.UNLISTED, Visibility.PUBLIC):
            raise InputError("visibility", "unlisted or public")
        fields["visibility"] = body["visibility"]
    if "currency" in body:
        if body["currency"] not in Currency.values:
            raise InputError("currency", f"one of {', '.join(Currency.values)}")
        fields["currency"] = body["currency"]
    return fields


def build_context_data(body: dict) -> tuple[dict, list]:
    """The context (without workloads) and the workloads a body gives; workloads may sit in either."""
    context = body.get("context") or {}
    workloads = body.get("workloads") or context.get("workloads") or []
    return {k: v for k, v in context.items() if k != "workloads"}, workloads


def writable(body: dict) -> dict:
    """The body less the read-only keys an export carries (never assigned)."""
    check_unknown(body, BUILD_KEYS | READ_ONLY_KEYS)
    return {k: v for k, v in body.items() if k in BUILD_KEYS}


@csrf_exempt
@api_methods(["POST"])
@ratelimit(key="ip", rate="rigsite.ratelimits.writes", block=True)
@api_errors
def builds_create_view(request):
    body = writable(read_json(request))
    fields = build_fields(body, partial=False)
    lines, _ = parse_check_body(body)
    context, workloads = build_context_data(body)
    build, token = services.build_create(
        items=lines, by=request.user, context=context, workloads=workloads, **fields
    )
    return JsonResponse(
        {"share_id": build.share_id, "edit_token": token, "url": build.get_absolute_url()}, status=201
    )


@csrf_exempt
@api_methods(["GET", "PATCH"])
@ratelimit(key="ip", rate="rigsite.ratelimits.lookups", block=True)
@api_errors
def build_detail_view(request, share_id: str):
    build = Build.objects.filter(share_id=share_id).first()
    if build is None:
        return JsonResponse({"error": {"field": "share_id", "message": "no such build"}}, status=404)
    if request.method == "PATCH":
        return build_patch(request, build)
    lines = selectors.build_lines(build)
    return JsonResponse(
        selectors.build_as_dict(build, lines, report_for(lines, selectors.build_context(build)))
    )


def patched_body(body: dict, build: Build) -> dict:
    """The whole build as a create body, with exactly the fields the PATCH names replaced: `parts` replaces
    the catalogue parts only, `inline_parts` the custom parts only, `context` the context (workloads
    inside it replace the workloads), `workloads` the workloads; every other field stays as saved."""
    context = dict(build.context or {})
    workloads = list(build.workloads or [])
    if "context" in body:
        given = body["context"]
        if given is not None and not isinstance(given, dict):
            raise InputError("context", "must be an object")
        given = dict(given or {})
        if "workloads" in given:
            if "workloads" in body:
                raise InputError("workloads", "give workloads once, at the top level or in context")
            workloads = given.pop("workloads")
        context = given
    if "workloads" in body:
        workloads = body["workloads"]
    return {"context": context, "workloads": workloads}


@ratelimit(key="ip", rate="rigsite.ratelimits.writes", block=True)
def build_patch(request, build: Build):
    if not services.edit_token_valid(build, request.headers.get("X-Edit-Token")):
        return bad_request("X-Edit-Token", "missing or wrong edit token", status=403)
    body = writable(read_json(request))
    fields = build_fields(body, partial=True)
    with transaction.atomic():
        build = Build.objects.select_for_update().get(pk=build.pk)
        saved_lines = selectors.build_lines(build)
        lines = saved_lines
        if "parts" in body or "inline_parts" in body:
            given = parse_lines(body.get("parts"), body.get("inline_parts"))
            catalogue = [x for x in given if x.slug] if "parts" in body else [x for x in lines if x.part]
            custom = (
                [x for x in given if not x.slug]
                if "inline_parts" in body
                else [x for x in lines if not x.part]
            )
            if any(x.position is not None for x in given):
                for index, line in enumerate(saved_lines):  # kept lines stay where they were
                    line.position = index
            lines = order_lines(resolve_lines(catalogue) + custom)
        merged = patched_body(body, build)
        parse_check_body(merged)  # the context and workloads the build will have, validated together
        fields |= {"context": merged["context"], "workloads": merged["workloads"]}
        # A line that continues a saved one keeps what the body does not name (prices paid and saved).
        build = services.build_update(build=build, fields=fields, lines=lines, by=request.user, note="api")
    lines = selectors.build_lines(build)
    return JsonResponse(
        selectors.build_as_dict(build, lines, report_for(lines, selectors.build_context(build)))
    )


@api_methods(["GET"])
def openapi_view(request):
    from builds.openapi import SCHEMA

    return JsonResponse(SCHEMA)
