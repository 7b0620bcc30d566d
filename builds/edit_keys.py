"""Edit keys in the browser: one cookie, `rigsite_edit`, holding the keys of the most recent builds.

One cookie per build (`rigsite_edit_<share id>`, Path=/, a year) grew the Cookie header by ~70 bytes per
build: after ~117 builds browsers sent 8 KB and servers answered 431. Now one cookie holds at most
RIGSITE_EDIT_KEYS_KEPT `<share id>.<token>` pairs, newest first (22 + 1 + 32 characters each, so 50 keys
are ~2.8 KB, under the 4 KB a browser keeps per cookie). A key pushed out of the set still works from the
build's page link if saved elsewhere (the API returns it; the owner's account also edits).

The value needs no signature: every token is checked against the build's stored hash, so a forged entry
opens nothing. Old per-build cookies are folded into the new one (and deleted) the first time a browser
sends them (EditKeyCookieMiddleware).
"""

import re

from django.conf import settings

COOKIE = "rigsite_edit"
LEGACY_PREFIX = "rigsite_edit_"
COOKIE_AGE_S = 365 * 24 * 3600
LEGACY_DELETES_PER_RESPONSE = 10
KEY_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def kept() -> int:
    return getattr(settings, "RIGSITE_EDIT_KEYS_KEPT", 50)


def parse(value: str | None) -> dict[str, str]:
    """share id -> token, newest first; malformed entries are skipped."""
    keys = {}
    for entry in (value or "").split("|"):
        share_id, sep, token = entry.partition(".")
        if sep and KEY_RE.fullmatch(share_id) and KEY_RE.fullmatch(token) and share_id not in keys:
            keys[share_id] = token
    return keys


def serialize(keys: dict[str, str]) -> str:
    return "|".join(f"{share_id}.{token}" for share_id, token in list(keys.items())[: kept()])


def legacy_keys(cookies) -> dict[str, str]:
    return {
        name[len(LEGACY_PREFIX) :]: value
        for name, value in cookies.items()
        if name.startswith(LEGACY_PREFIX) and KEY_RE.fullmatch(name[len(LEGACY_PREFIX) :])
    }


def current_keys(request) -> dict[str, str]:
    """The keys this browser holds, newest first (as changed by remember() during this request)."""
    keys = getattr(request, "_rigsite_edit_keys", None)
    return parse(request.COOKIES.get(COOKIE)) if keys is None else keys


def token_for(request, share_id: str) -> str | None:
    """The edit token this browser holds for a build (the one cookie, else an old per-build one)."""
    return current_keys(request).get(share_id) or request.COOKIES.get(LEGACY_PREFIX + share_id)


def _set(response, keys: dict[str, str]) -> None:
    response.set_cookie(
        COOKIE,
        serialize(keys),
        max_age=COOKIE_AGE_S,
        httponly=True,
        samesite="Lax",
        secure=getattr(settings, "RIGSITE_EDIT_COOKIE_SECURE", False),
    )


def remember(request, response, share_id: str, token: str):
    """Put a build's key first in the cookie (the oldest beyond the cap drop out)."""
    keys = {share_id: token} | {k: v for k, v in current_keys(request).items() if k != share_id}
    request._rigsite_edit_keys = keys
    _set(response, keys)
    return response


def newest_first(legacy: dict[str, str]) -> dict[str, str]:
    """Old per-build cookies carry no order: the builds' own creation times give it (unknown ids drop)."""
    from builds.models import Build

    order = Build.objects.filter(share_id__in=list(legacy)).order_by("-created_at", "-id")
    return {share_id: legacy[share_id] for share_id in order.values_list("share_id", flat=True)}


class EditKeyCookieMiddleware:
    """Folds old `rigsite_edit_<id>` cookies into `rigsite_edit` and deletes them (one response does it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        legacy = legacy_keys(request.COOKIES)
        if legacy:
            keys = current_keys(request)
            keys = keys | {k: v for k, v in newest_first(legacy).items() if k not in keys}
            _set(response, keys)
            # A few deletions per response: one Set-Cookie each, and proxies refuse responses whose
            # headers outgrow their buffer (nginx proxy_buffer_size, 4-8 KB by default). The browser sends
            # the rest with its next requests, and they are folded in (and deleted) the same way.
            for share_id in sorted(legacy)[:LEGACY_DELETES_PER_RESPONSE]:
                response.delete_cookie(LEGACY_PREFIX + share_id, samesite="Lax")
        return response
