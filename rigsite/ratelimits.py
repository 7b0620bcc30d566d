"""Rate limits (django-ratelimit) and admin login throttling (django-axes), keyed on the client's address.

Writes are limited harder than lookups of share ids and checks. Counters live in the default cache, which
is Redis (shared by every worker and server) when REDIS_URL is set. The client's address is REMOTE_ADDR,
or behind RIGSITE_TRUSTED_PROXIES reverse proxies the address the outermost trusted proxy saw.
"""

import ipaddress

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.html import escape


def writes(group, request) -> str:
    return f"{settings.RIGSITE_RATE_LIMIT_WRITES_PER_MINUTE}/m"


def lookups(group, request) -> str:
    return f"{settings.RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE}/m"


def limited(request, exception):
    return JsonResponse(
        {"error": {"field": "rate", "message": "too many requests; try again in a minute"}}, status=429
    )


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The client's address. Each proxy appends the address it received the request from to
    X-Forwarded-For, so with N trusted proxies the client is the N-th entry from the right (the one the
    outermost trusted proxy wrote); entries further left are the client's own claims and never trusted.
    Fewer entries than N (a request that skipped a proxy), or a malformed entry, falls back to
    REMOTE_ADDR: a client cannot pick its bucket by sending its own header."""
    remote = request.META.get("REMOTE_ADDR") or "127.0.0.1"  # the test client and WSGI always set it
    trusted = settings.RIGSITE_TRUSTED_PROXIES
    if trusted <= 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop for hop in (h.strip() for h in header.split(",")) if hop]
    if len(hops) < trusted:
        return remote
    return _address(hops[-trusted]) or remote


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check for web logins. An authenticate() call without a request (the test
    client's login(), a management command) has no client address to throttle: it is left to the next
    backend instead of raising, as AxesStandaloneBackend does."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def login_locked_out(request, credentials=None, *args, **kwargs):
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = (
        f"Too many failed logins from this address or for this user: login is locked for {minutes} "
        "minutes. Try again later, or ask an administrator to unlock it (manage.py axes_reset)."
    )
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"error": {"field": "login", "message": message}}, status=429)
    page = (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Login locked</title></head>"
        f"<body><h1>Login locked</h1><p>{escape(message)}</p></body></html>"
    )
    return HttpResponse(page, status=429, headers={"Retry-After": str(minutes * 60)})
