"""Upcoming dates after TO: what a compliance team must prepare for next, from the TO rules' timelines."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import TYPE_CHECKING

from rulesdsl.timeline import Event, timeline

from .cites import Source
from .model import Upcoming

if TYPE_CHECKING:
    from rulesdsl.ruleset import Ruleset

_ONE = dt.timedelta(days=1)
#: Timeline event kinds a report lists (``published`` is history, not a date to act on).
_KINDS = frozenset({"effective", "compliance", "comments_due", "license_requirement", "licensing_policy",
                    "license_exceptions", "not_enforced", "suspended", "rescinded", "superseded", "value",
                    "members_add", "members_remove"})
_STATUS = frozenset({"not_enforced", "suspended", "rescinded"})


def upcoming(rs: Ruleset, after: dt.date, horizon_days: int, eccn_counts: Counter[str]) -> list[Upcoming]:
    """Dated facts in ``(after, after + horizon]`` (no limit for ``horizon_days <= 0``), each with how many
    inventory assets are currently classified under the ECCN concerned."""
    until = after + dt.timedelta(days=horizon_days) if horizon_days > 0 else dt.date.max
    seen: dict[tuple[dt.date, str, str, str], list[str]] = {}  # same event in several ECCNs' timelines
    found: list[tuple[tuple[dt.date, str, str, str], Event]] = []
    eccns = sorted({c.eccn.split(".")[0] for c in rs.controls})
    names = [("eccn", n) for n in eccns] + [("parameter", n) for n in sorted(rs.parameters)]
    names += [("group", n) for n in sorted(rs.groups)] + [("document", n) for n in sorted(rs.documents)]
    names += [("exception", n) for n in sorted(rs.exceptions)]
    for qualifier, name in names:
        tl = timeline(rs, f"{qualifier}:{name}")
        for ev in tl.events:
            for day, kind, text in _dates(ev):
                if kind not in _KINDS or not (after < day <= until):
                    continue
                key = (day, kind, text, ev.citation)
                subject = _subject(name, text, tl.type)
                if key not in seen:
                    seen[key] = []
                    found.append((key, ev))
                if subject not in seen[key]:
                    seen[key].append(subject)
    out: list[Upcoming] = []
    for key, ev in found:
        day, kind, text, _ = key
        subjects = seen[key]
        count = sum(n for e, n in eccn_counts.items() for s in subjects if e == s or e.startswith(s + "."))
        out.append(Upcoming(day, kind, ", ".join(subjects), text,
                            Source(ev.citation or "uncited", "", ev.confidence, ev.unresolved), count))
    out.sort(key=lambda u: (u.date, u.kind != "compliance", u.kind != "effective", u.subject, u.text))
    return out


def _dates(ev: Event) -> list[tuple[dt.date, str, str]]:
    out: list[tuple[dt.date, str, str]] = []
    if ev.date is not None:
        out.append((ev.date, ev.kind, ev.text))
    if ev.end_date is not None and ev.kind in _STATUS:
        out.append((ev.end_date + _ONE, ev.kind, f"{ev.text}: ends (last day {ev.end_date})"))
    return out


def _subject(name: str, text: str, kind: str) -> str:
    """The ECCN paragraph an ECCN event is about (``3A090.a: ...``), else the timeline's name."""
    head = text.split(":", 1)[0]
    if kind == "eccn" and head.startswith(name):
        return head
    return name
