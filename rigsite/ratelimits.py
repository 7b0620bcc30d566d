"""Rate limits (django-ratelimit): writes are limited harder than lookups of share ids and checks."""

from django.conf import settings
from django.http import JsonResponse


def writes(group, request) -> str:
    return f"{settings.RIGSITE_RATE_LIMIT_WRITES_PER_MINUTE}/m"


def lookups(group, request) -> str:
    return f"{settings.RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE}/m"


def limited(request, exception):
    return JsonResponse(
        {"error": {"field": "rate", "message": "too many requests; try again in a minute"}}, status=429
    )
