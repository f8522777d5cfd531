"""Render a :class:`~reports.model.DiffReport` as JSON, Markdown or a self-contained HTML page.

One switch (:data:`FORMATS`), one module per concern: the JSON is the model's ``to_json``; Markdown and
HTML are Jinja2 templates (``reports/templates/``) over the same JSON plus a few derived views (changes by
date, the most important reclassifications). Every string that comes from documents, rules or inventories
is escaped for its output: HTML by Jinja2's autoescape, Markdown by :func:`md` (which also keeps a table row
on one line). Output is byte-deterministic: sorted JSON keys, stable order, no timestamps, one final newline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import jinja2

from .cites import show_number
from .model import DiffReport

#: Rows of one section shown in Markdown/HTML; the JSON always has every row.
ROW_LIMIT = 500
TOP = 5

KIND_LABELS = {
    "paragraph_added": "paragraph added", "paragraph_revised": "paragraph revised",
    "paragraph_removed": "paragraph removed", "threshold_added": "threshold added",
    "threshold_changed": "threshold changed", "threshold_removed": "threshold removed",
    "parameter_changed": "parameter changed", "license_requirement": "license requirement",
    "licensing_policy": "licensing policy", "license_exceptions": "license exceptions",
    "license_exception": "license exception", "group_members": "country group", "status": "status",
    "document_cited": "document newly cited", "document_revised": "document revised",
    "document_removed": "document removed", "access_rule": "access rule",
    "newly_controlled": "newly controlled", "reclassified": "reclassified", "decontrolled": "decontrolled",
    "review": "needs-review changed",
    "lost": "loses access", "needs_license": "now needs a license", "gained": "gains access",
    "license_no_longer_needed": "no longer needs a license", "changed": "changed",
    "allow": "allowed", "license_required": "license required", "deny": "denied",
    "in_force": "in force", "compliance_not_required": "compliance not yet required",
    "not_enforced": "not enforced (announced)", "suspended": "suspended", "rescinded": "rescinded",
    "effective": "effective", "compliance": "compliance", "comments_due": "comments due",
    "value": "new value", "members_add": "group members added",
    "members_remove": "group members removed", "superseded": "superseded",
}

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~#])")
_NEWLINES = re.compile(r"\r\n|\r|\n|\u2028|\u2029")
_MD_LEADING = re.compile(r"^(\s*)([-+]|\d+[.)])(?=\s|$)")


def md(value: object) -> str:
    """Markdown-escape text from documents or inventories: no markup, no HTML, one line (safe in a table),
    and no list or quote started by its first character."""
    text = "" if value is None else str(value)
    text = _NEWLINES.sub(" \u21b5 ", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LEADING.sub(lambda m: m.group(1) + (f"\\{m.group(2)}" if m.group(2) in "-+"
                                                   else f"{m.group(2)[:-1]}\\{m.group(2)[-1]}"), text)


def num(value: object) -> str:
    """An exact decimal string (JSON) shown readably: ``72000000000000000000000000`` -> ``7.2 x 10^25``."""
    try:
        return show_number(Decimal(str(value)))
    except InvalidOperation:
        return str(value)


def label(kind: object) -> str:
    """Words for a kind or status (``newly_controlled`` -> ``newly controlled``)."""
    k = str(kind)
    return KIND_LABELS.get(k, k.replace("_", " "))


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["md"] = md
    env.filters["label"] = label
    env.filters["num"] = num
    return env


_ENV: jinja2.Environment | None = None


def env() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        _ENV = _env()
    return _ENV


def context(report: DiffReport, limit: int = ROW_LIMIT) -> dict[str, Any]:
    """The JSON model plus views the templates need (no logic beyond grouping and trimming)."""
    j: dict[str, Any] = report.to_json()
    by_date: dict[str, list[dict[str, Any]]] = {}
    for c in j["rule_changes"]:
        by_date.setdefault(c["date"] or "undated", []).append(c)
    important = [r for r in j["reclassified"] if r["kind"] != "status"][:TOP]
    sections: dict[str, list[Any]] = {k: j[k] for k in ("reclassified", "access_changes", "near_threshold",
                                                         "upcoming")}
    return {
        "r": j,
        "changes_by_date": sorted(by_date.items()),
        "important": important,
        "shown": {k: v[:limit] for k, v in sections.items()},
        "hidden": {k: max(0, len(v) - limit) for k, v in sections.items()},
        "limit": limit,
    }


def to_json(report: DiffReport) -> str:
    return json.dumps(report.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def to_markdown(report: DiffReport, limit: int = ROW_LIMIT) -> str:
    return _finish(env().get_template("report.md.j2").render(**context(report, limit)))


def to_html(report: DiffReport, limit: int = ROW_LIMIT) -> str:
    return _finish(env().get_template("report.html.j2").render(**context(report, limit)))


def _finish(text: str) -> str:
    return text.rstrip("\n") + "\n"


FORMATS: dict[str, Callable[[DiffReport], str]] = {"md": to_markdown, "html": to_html, "json": to_json}


def render(report: DiffReport, fmt: str) -> str:
    """``fmt`` is one of :data:`FORMATS` (``KeyError`` otherwise)."""
    return FORMATS[fmt](report)
