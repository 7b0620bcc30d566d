"""Share links and the compare list on build pages (issue 15, item 5): {% share_notes as notes %},
{% share_url build %}, {% compare_state build as cmp %}."""

from django import template
from django.contrib.messages import get_messages
from django.urls import reverse

from builds import compare, exports

register = template.Library()


@register.simple_tag(takes_context=True)
def share_notes(context) -> dict:
    """This request's messages, read once (reading marks them shown): whether a build was just saved (the
    "build-saved" message from builds/views.py), and the others (compare-list changes)."""
    request = context.get("request")
    notes = {"saved": None, "other": []}
    if request is None:
        return notes
    for message in get_messages(request):
        if "build-saved" in message.tags:
            notes["saved"] = message
        else:
            notes["other"].append(message)
    return notes


@register.simple_tag(takes_context=True)
def share_url(context, build) -> str:
    """The build's shared page as a full address (settings.SITE_URL when set, else this request's host)."""
    request = context.get("request")
    root = exports.site_root(request) if request is not None else ""
    return root + build.get_absolute_url()


@register.simple_tag(takes_context=True)
def compare_state(context, build=None) -> dict:
    request = context.get("request")
    if request is None:
        return {
            "ids": [],
            "count": 0,
            "max": compare.MAX_BUILDS,
            "url": reverse("compare"),
            "contains": False,
        }
    return compare.compare_state(request, build)
