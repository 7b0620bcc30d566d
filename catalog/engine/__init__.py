"""The compatibility engine: pure Python, no Django. ``check(rig, context) -> Report``.

Inputs are the frozen dataclasses of ``specs`` (build them with ``spec_from_dict`` / ``part_from_dict``
and ``parse_context``); the output is a ``report.Report`` whose ``to_dict()`` is the API's JSON.
"""

from .checks import CHECKS, check
from .report import Finding, Report, Severity
from .specs import Context, Part, Rig, SpecError, parse_context, part_from_dict, spec_from_dict

__all__ = [
    "CHECKS",
    "Context",
    "Finding",
    "Part",
    "Report",
    "Rig",
    "Severity",
    "SpecError",
    "check",
    "parse_context",
    "part_from_dict",
    "spec_from_dict",
]
