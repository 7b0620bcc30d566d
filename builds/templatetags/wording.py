"""Template filters over builds/wording.py: {{ section|pick_label }}, {{ code|circuit_text }}."""

from django import template

from builds.wording import circuit_text, part_noun, picker_summary

register = template.Library()
register.filter("circuit_text", circuit_text)
register.filter("part_noun", part_noun)


@register.filter
def pick_label(section) -> str:
    """A configurator section (builds.configurator.page.Section): "Swap", "Add another" or "Choose" ..."""
    return picker_summary(section.category, bool(section.rows), section.single)
