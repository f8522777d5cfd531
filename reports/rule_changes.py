"""Rule changes between two sides of a diff, on either time axis.

* **Valid time** (one ruleset, two dates): the snapshots on consecutive change dates are compared, so every
  change is listed with the date it takes effect, even one that is undone before TO.
* **Knowledge time** (two rules versions): the declarations themselves are compared
  (:mod:`reports.knowledge`).

Both give :class:`~reports.model.RuleChange` records; this module sorts them and merges the same change to
several paragraphs into one entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from rulesdsl import ast as A
from rulesdsl.timeline import Threshold, control_thresholds

from .cites import NO_SOURCE, Source, source
from .knowledge import knowledge_changes
from .model import CHANGE_KINDS, RuleChange
from .snapshot import (
    Fact,
    Snapshot,
    change_dates,
    control_summary,
    decl_lines,
    diff_lines,
    snapshot,
    status_words,
)

if TYPE_CHECKING:
    from rulesdsl.ruleset import Ruleset

_ONE = dt.timedelta(days=1)


def _sort(changes: Iterable[RuleChange]) -> list[RuleChange]:
    rank = {k: i for i, k in enumerate(CHANGE_KINDS)}
    return sorted(_merge(changes), key=lambda c: (c.date or dt.date.min, c.axis, rank.get(c.kind, 99), c.subject,
                                                  c.text))


_MERGEABLE = frozenset({"license_requirement", "licensing_policy", "license_exceptions", "status"})


def _merge(changes: Iterable[RuleChange]) -> list[RuleChange]:
    """One entry for the same change to several paragraphs on the same date from the same source (the AI
    Diffusion rule adds "license required to all except AIA" to eleven ECCNs at once)."""
    groups: dict[tuple[object, ...], list[RuleChange]] = {}
    for c in changes:
        prefix = f"{c.subject}: "
        mergeable = c.kind in _MERGEABLE and c.text.startswith(prefix) and not c.details
        key: tuple[object, ...] = (id(c),) if not mergeable else (
            c.axis, c.kind, c.date, c.text[len(prefix):], c.source, tuple(sorted(c.data.items(), key=str)))
        groups.setdefault(key, []).append(c)
    out: list[RuleChange] = []
    for same in groups.values():  # insertion order: the first change of each group
        c = same[0]
        if len(same) == 1:
            out.append(c)
            continue
        cut = len(c.subject) + 2
        subjects = ", ".join(sorted({x.subject for x in same}))
        out.append(replace(c, subject=subjects, text=f"{subjects}: {c.text[cut:]}",
                           old=None if c.old is None else c.old[cut:], new=None if c.new is None else c.new[cut:]))
    return out


# ---------------------------------------------------------------------------------------------------------
# Valid time


def valid_changes(rs: Ruleset, start: dt.date, end: dt.date) -> list[RuleChange]:
    """Every change of ``rs`` in ``(start, end]``, dated."""
    out: list[RuleChange] = []
    prev = snapshot(rs, start)
    for day in change_dates(rs, start, end):
        cur = snapshot(rs, day)
        if cur != prev:
            out.extend(_compare(rs, prev, cur, day))
        prev = cur
    return _sort(out)


def _threshold_data(fact: Fact | None) -> dict[str, object] | None:
    t = fact.node if fact is not None else None
    if not isinstance(t, Threshold):
        return None
    return {"comparator": t.comparator, "value": t.value, "display": t.notation, "unit": t.unit}


def _compare(rs: Ruleset, old: Snapshot, new: Snapshot, day: dt.date) -> list[RuleChange]:
    out: list[RuleChange] = []
    added = {k[1] for k in new if k[0] == "control" and k not in old}
    removed = {k[1] for k in old if k[0] == "control" and k not in new}

    def change(kind: str, subject: str, text: str, src: Source, old_: str | None = None, new_: str | None = None,
               details: tuple[str, ...] = (), data: Mapping[str, object] | None = None) -> None:
        out.append(RuleChange("valid", kind, subject, day, text, src, old_, new_, details, data or {}))

    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a is not None and b is not None and a.value == b.value:
            continue
        what = key[0]
        eccn = key[1]
        quiet = eccn in added or eccn in removed  # listed with the paragraph itself
        if what == "control":
            if a is None and b is not None:
                c = b.node
                assert isinstance(c, A.ControlDecl)
                extra = tuple(f"{f.text} [{f.source.citation}]" for k, f in sorted(new.items())
                              if k[0] in ("license", "policy", "exceptions", "status") and k[1] == eccn)
                change("paragraph_added", eccn, f"comes into effect: {control_summary(c)}", b.source, None,
                       control_summary(c), extra)
            elif b is None and a is not None:
                c = a.node
                assert isinstance(c, A.ControlDecl)
                change("paragraph_removed", eccn, f"{eccn} ({c.title or 'untitled'}) is no longer in effect",
                       a.source, control_summary(c), None)
            elif a is not None and b is not None:
                ca, cb = a.node, b.node
                assert isinstance(ca, A.ControlDecl) and isinstance(cb, A.ControlDecl)
                change("paragraph_revised", eccn, f"{eccn}: a new version of the paragraph comes into effect",
                       b.source, control_summary(ca), control_summary(cb), diff_lines(decl_lines(ca),
                                                                                       decl_lines(cb)))
        elif what == "threshold":
            data = {"eccn": eccn, "attribute": key[2], "parameter": key[3], "old": _threshold_data(a),
                    "new": _threshold_data(b)}
            src = (b or a or Fact(None, "", NO_SOURCE)).source
            if a is None and b is not None:
                change("threshold_added", eccn, b.text, src, None, b.text, data=data)
            elif b is None and a is not None:
                change("threshold_removed", eccn, f"{a.text} no longer applies", src, a.text, None, data=data)
            elif a is not None and b is not None:
                change("threshold_changed", eccn, f"{a.text} \u2192 {b.text.split(': ', 1)[1]}", src, a.text, b.text,
                       data=data)
        elif what in ("license", "policy", "exceptions"):
            if quiet:
                continue
            kind = {"license": "license_requirement", "policy": "licensing_policy",
                    "exceptions": "license_exceptions"}[what]
            if a is None and b is not None:
                change(kind, eccn, f"{b.text}: from {day}", b.source, None, b.text)
            elif b is None and a is not None:
                change(kind, eccn, f"{a.text}: ends (last day {day - _ONE})", a.source, a.text, None)
            elif a is not None and b is not None:  # same requirement, its status changed
                change("status", eccn, f"{eccn}: license required to {key[2]}: {status_words(str(a.value))} "
                       f"\u2192 {status_words(str(b.value))}", b.source, a.text, b.text,
                       data={"old": str(a.value), "new": str(b.value)})
        elif what == "status":
            if quiet or a is None or b is None:
                continue
            change("status", eccn, f"{eccn}: {status_words(str(a.value))} \u2192 {status_words(str(b.value))}",
                   b.source, a.text, b.text, data={"old": str(a.value), "new": str(b.value)})
        elif what == "parameter":
            p = (b or a)
            assert p is not None
            decl = p.node
            if isinstance(decl, A.ParameterDecl) and decl.role == "control" and _used_in_threshold(rs, key[1]):
                continue  # shown as thresholds of the controls that use it
            role = f" ({decl.role.replace('_', ' ')})" if isinstance(decl, A.ParameterDecl) else ""
            change("parameter_changed", key[1], f"{key[1]}{role}: {a.text if a else 'no value'} \u2192 "
                   f"{b.text if b else 'no value'}", p.source, a.text if a else None, b.text if b else None)
        elif what == "group":
            before = a.value if a is not None else frozenset()
            after = b.value if b is not None else frozenset()
            assert isinstance(before, frozenset) and isinstance(after, frozenset)
            plus, minus = sorted(after - before), sorted(before - after)
            text = f"group {eccn}: " + "; ".join(
                p for p in (f"adds {', '.join(plus)}" if plus else "", f"removes {', '.join(minus)}" if minus else "")
                if p)
            change("group_members", eccn, text, _group_source(rs, eccn, day), None, None,
                   data={"added": plus, "removed": minus})
        elif what == "exception":
            if a is None and b is not None:
                change("license_exception", eccn, f"{b.text}: from {day}", b.source, None, b.text)
            elif b is None and a is not None:
                change("license_exception", eccn, f"{a.text}: ends", a.source, a.text, None)
            elif a is not None and b is not None:
                change("status", eccn, f"{a.text} \u2192 {status_words(str(b.value))}", b.source, a.text, b.text,
                   data={"old": str(a.value), "new": str(b.value)})
        elif what == "docstatus":
            if b is not None:
                change("status", eccn, b.text, b.source, None, b.text, data={"new": key[2]})
            elif a is not None:
                change("status", eccn, f"{a.text}: ends", a.source, a.text, None, data={"old": key[2]})
        elif what == "cited" and a is None and b is not None:
            change("document_cited", eccn, f"newly cited: {b.text}", b.source, None, b.text)
    return out


def _used_in_threshold(rs: Ruleset, parameter: str) -> bool:
    return any(t.parameter == parameter for c in rs.controls for t in control_thresholds(rs, c))


def _group_source(rs: Ruleset, name: str, day: dt.date) -> Source:
    g = rs.groups.get(name)
    for m in g.members if g else []:
        if m.start == day or (m.end is not None and m.end + _ONE == day):
            return source(rs, m.cite)
    return NO_SOURCE


def rule_changes(old: Ruleset, old_day: dt.date, new: Ruleset, new_day: dt.date) -> list[RuleChange]:
    """Knowledge changes (when the rules differ), then the valid-time changes of the TO rules."""
    out = knowledge_changes(old, new) if old is not new else []
    if new_day > old_day:
        out += valid_changes(new, old_day, new_day)
    return _sort(out)

