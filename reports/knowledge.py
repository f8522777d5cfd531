"""Knowledge-time rule changes: what one rules version says differently from another.

The declarations are compared (control blocks per ECCN paragraph, thresholds, parameter values, groups,
status events, documents, license exceptions, access rules), whatever valid date they concern: a version
that moves a threshold from 2027 is a change even in a diff evaluated on 2025-06-01. Each change is dated
with the valid date of the fact it changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from rulesdsl import ast as A
from rulesdsl.formatter import fmt_window
from rulesdsl.timeline import Threshold, control_thresholds

from .cites import NO_SOURCE, Source, show_number, source
from .model import RuleChange
from .snapshot import control_summary, decl_lines, diff_lines, status_words, threshold_source, threshold_text

if TYPE_CHECKING:
    from rulesdsl.ruleset import Ruleset


def knowledge_changes(old: Ruleset, new: Ruleset) -> list[RuleChange]:
    """What ``new`` says differently from ``old``, at any valid date (both rulesets whole)."""
    if old.content_hash() == new.content_hash():
        return []
    out: list[RuleChange] = []
    out += _control_changes(old, new)
    threshold_params = _threshold_changes(old, new, out)
    out += _parameter_changes(old, new, threshold_params)
    out += _named_changes("group_members", old.groups, new.groups, old, new)
    out += _status_changes(old, new)
    out += _document_changes(old, new)
    out += _named_changes("license_exception", old.exceptions, new.exceptions, old, new)
    out += _named_changes("access_rule", {a.name: a for a in old.access}, {a.name: a for a in new.access}, old, new)
    return out


def _by_eccn(rs: Ruleset) -> dict[str, list[A.ControlDecl]]:
    out: dict[str, list[A.ControlDecl]] = {}
    for c in rs.controls:
        out.setdefault(c.eccn, []).append(c)
    for cs in out.values():
        cs.sort(key=lambda c: (c.effective.start if c.effective and c.effective.start else dt.date.min))
    return out


def _start(c: A.ControlDecl) -> dt.date | None:
    return c.effective.start if c.effective else None


def _control_changes(old: Ruleset, new: Ruleset) -> list[RuleChange]:
    out: list[RuleChange] = []
    a, b = _by_eccn(old), _by_eccn(new)
    for eccn in sorted(set(a) | set(b)):
        olds, news = a.get(eccn, []), b.get(eccn, [])
        old_lines = [ln for c in olds for ln in decl_lines(c)]
        new_lines = [ln for c in news for ln in decl_lines(c)]
        if old_lines == new_lines:
            continue
        if not olds:
            c = news[-1]
            out.append(RuleChange("knowledge", "paragraph_added", eccn, _start(news[0]),
                                  f"{control_summary(c)}: new in the rules", source(new, c.when_cite,
                                                                                    c.effective.cite
                                                                                    if c.effective else None),
                                  None, control_summary(c), tuple(f"+ {ln.strip()}" for ln in new_lines)))
        elif not news:
            c = olds[-1]
            out.append(RuleChange("knowledge", "paragraph_removed", eccn, _start(olds[0]),
                                  f"{eccn} ({c.title or 'untitled'}) is no longer in the rules",
                                  source(old, c.effective.cite if c.effective else None), control_summary(c), None,
                                  tuple(f"- {ln.strip()}" for ln in old_lines)))
        else:
            changed = [c for c in news if "\n".join(decl_lines(c)) not in {"\n".join(decl_lines(o)) for o in olds}]
            c = changed[0] if changed else news[-1]
            prior = next((o for o in olds if _start(o) == _start(c)), olds[-1])
            out.append(RuleChange("knowledge", "paragraph_revised", eccn, _start(c),
                                  f"{eccn}: the rules now read differently",
                                  source(new, c.when_cite, c.effective.cite if c.effective else None),
                                  control_summary(prior), control_summary(c), diff_lines(old_lines, new_lines)))
    return out


def _thresholds(rs: Ruleset) -> dict[tuple[str, str, str, dt.date], Threshold]:
    out: dict[tuple[str, str, str, dt.date], Threshold] = {}
    for c in rs.controls:
        for t in control_thresholds(rs, c):
            out[(t.eccn, t.attribute, t.parameter, t.start)] = t
    return out


def _t_data(t: Threshold | None) -> dict[str, object] | None:
    return None if t is None else {"comparator": t.comparator, "value": t.value, "display": t.notation,
                                   "unit": t.unit}


def _threshold_changes(old: Ruleset, new: Ruleset, out: list[RuleChange]) -> set[tuple[str, dt.date]]:
    a, b = _thresholds(old), _thresholds(new)
    touched: set[tuple[str, dt.date]] = set()
    for key in sorted(set(a) | set(b)):
        ta, tb = a.get(key), b.get(key)
        if ta is not None and tb is not None and (ta.comparator, ta.value, ta.unit) == (tb.comparator, tb.value,
                                                                                       tb.unit):
            continue
        eccn, attr, param, start = key
        touched.add((param, start))
        data = {"eccn": eccn, "attribute": attr, "parameter": param, "old": _t_data(ta), "new": _t_data(tb)}
        old_text = threshold_text(eccn, attr, ta.comparator, ta.notation, ta.unit) if ta else None
        new_text = threshold_text(eccn, attr, tb.comparator, tb.notation, tb.unit) if tb else None
        src = threshold_source(new, tb) if tb else threshold_source(old, ta) if ta else NO_SOURCE
        if ta is None:
            kind, text = "threshold_added", f"{new_text} (from {start})"
        elif tb is None:
            kind, text = "threshold_removed", f"{old_text} (from {start}) is no longer in the rules"
        else:
            assert new_text is not None
            kind, text = "threshold_changed", f"{old_text} \u2192 {new_text.split(': ', 1)[1]} (from {start})"
        out.append(RuleChange("knowledge", kind, eccn, start, text, src, old_text, new_text, (), data))
    return touched


def _parameter_changes(old: Ruleset, new: Ruleset, skip: set[tuple[str, dt.date]]) -> list[RuleChange]:
    out: list[RuleChange] = []
    for name in sorted(set(old.parameters) | set(new.parameters)):
        pa, pb = old.parameters.get(name), new.parameters.get(name)
        decl = pb or pa
        assert decl is not None
        va = {v.start: v for v in (pa.values if pa else [])}
        vb = {v.start: v for v in (pb.values if pb else [])}
        for start in sorted(set(va) | set(vb)):
            x, y = va.get(start), vb.get(start)
            xv = None if x is None or x.value is None else x.value.value
            yv = None if y is None or y.value is None else y.value.value
            if ((x is None) == (y is None) and xv == yv) or (name, start) in skip:
                continue
            entry = y or x
            assert entry is not None
            before, after = _param_text(xv, decl.unit), _param_text(yv, decl.unit)
            out.append(RuleChange("knowledge", "parameter_changed", name, start,
                                  f"{name} from {start}: {before} \u2192 {after}",
                                  source(new if y else old, entry.cite), before, after))
    return out


def _param_text(value: Decimal | None, unit: str) -> str:
    return "no value" if value is None else f"{show_number(value)} {unit}"


def _named_changes(kind: str, a: Mapping[str, A.Decl], b: Mapping[str, A.Decl], old: Ruleset,
                   new: Ruleset) -> list[RuleChange]:
    """Groups, license exceptions and access rules: whole declarations compared line by line."""
    out: list[RuleChange] = []
    for name in sorted(set(a) | set(b)):
        da, db = a.get(name), b.get(name)
        la = decl_lines(da) if da is not None else []
        lb = decl_lines(db) if db is not None else []
        if la == lb:
            continue
        what = {"group_members": "group", "license_exception": "License Exception",
                "access_rule": "access rule"}[kind]
        verb = "added" if da is None else "removed" if db is None else "revised"
        text = f"{what} {name} {verb}"
        data: dict[str, object] = {}
        day = _first_date(db if db is not None else da)
        src = _decl_source(new if db is not None else old, db if db is not None else da)
        if kind == "group_members":
            entries_a = _entries(da)
            entries_b = _entries(db)
            plus = [e for k, e in entries_b.items() if k not in entries_a]
            minus = [e for k, e in entries_a.items() if k not in entries_b]
            data = {"added": sorted({m for e in plus if e.op == "add" for m in e.members}),
                    "removed": sorted({m for e in minus if e.op == "add" for m in e.members}
                                      | {m for e in plus if e.op == "remove" for m in e.members})}
            parts = [f"adds {', '.join(data['added'])}" if data["added"] else "",  # type: ignore[arg-type]
                     f"removes {', '.join(data['removed'])}" if data["removed"] else ""]  # type: ignore[arg-type]
            text = f"group {name}: " + ("; ".join(p for p in parts if p) or verb)
            starts = [e.start for e in plus + minus if e.start is not None]
            day = min(starts) if starts else day
            changed = [e for e in plus if e.cite is not None] or plus
            if changed:
                src = source(new, changed[0].cite)
        out.append(RuleChange("knowledge", kind, name, day, text, src, None, None, diff_lines(la, lb), data))
    return out


def _entries(d: A.Node | None) -> dict[tuple[object, ...], A.Membership]:
    members = d.members if isinstance(d, A.GroupDecl) else []
    return {(m.op, tuple(m.members), m.start, m.end): m for m in members}


def _first_date(d: A.Node | None) -> dt.date | None:
    if isinstance(d, A.GroupDecl):
        starts = [m.start for m in d.members if m.start]
        return min(starts) if starts else None
    if isinstance(d, A.ExceptionDecl | A.AccessDecl) and d.effective is not None:
        return d.effective.start
    return None


def _decl_source(rs: Ruleset, d: A.Node | None) -> Source:
    if isinstance(d, A.GroupDecl):
        return source(rs, *(m.cite for m in d.members))
    if isinstance(d, A.ExceptionDecl | A.AccessDecl) and d.effective is not None:
        return source(rs, d.effective.cite)
    return NO_SOURCE


def _status_set(rs: Ruleset) -> dict[tuple[str, str, dt.date | None, dt.date | None], A.StatusEvent]:
    out: dict[tuple[str, str, dt.date | None, dt.date | None], A.StatusEvent] = {}
    owners: list[tuple[str, list[A.StatusEvent]]] = [(c.eccn, c.statuses) for c in rs.controls]
    owners += [(d, doc.statuses) for d, doc in rs.documents.items()]
    owners += [(x, e.statuses) for x, e in rs.exceptions.items()]
    for owner, events in owners:
        for ev in events:
            out[(owner, ev.kind, ev.start, ev.end)] = ev
    return out


def _status_changes(old: Ruleset, new: Ruleset) -> list[RuleChange]:
    out: list[RuleChange] = []
    a, b = _status_set(old), _status_set(new)
    for key in sorted(set(a) ^ set(b), key=lambda k: (k[2] or dt.date.min, k[0], k[1])):
        owner, kind, start, end = key
        span = fmt_window(start, end)
        if key in b:
            out.append(RuleChange("knowledge", "status", owner, start, f"{owner}: {status_words(kind)} {span}",
                                  source(new, b[key].cite), None, status_words(kind)))
        else:
            out.append(RuleChange("knowledge", "status", owner, start,
                                  f"{owner}: {status_words(kind)} {span} is no longer in the rules",
                                  source(old, a[key].cite), status_words(kind), None))
    return out


def _document_changes(old: Ruleset, new: Ruleset) -> list[RuleChange]:
    out: list[RuleChange] = []
    for doc_id in sorted(set(old.documents) | set(new.documents)):
        da, db = old.documents.get(doc_id), new.documents.get(doc_id)
        la = decl_lines(da) if da else []
        lb = decl_lines(db) if db else []
        if la == lb:
            continue
        if da is None and db is not None:
            title = f": {db.title}" if db.title else ""
            out.append(RuleChange("knowledge", "document_cited", doc_id, db.published,
                                  f"newly cited: {new.citation(A.Cite(docs=[doc_id]))}{title}",
                                  source(new, A.Cite(docs=[doc_id]), A.Cite(docs=[doc_id], confidence=db.confidence)),
                                  None, doc_id, diff_lines(la, lb)))
        elif db is None and da is not None:
            out.append(RuleChange("knowledge", "document_removed", doc_id, da.published,
                                  f"{old.citation(A.Cite(docs=[doc_id]))} is no longer in the rules",
                                  source(old, A.Cite(docs=[doc_id])), doc_id, None, diff_lines(la, lb)))
        else:
            out.append(RuleChange("knowledge", "document_revised", doc_id, db.published if db else None,
                                  f"{new.citation(A.Cite(docs=[doc_id]))}: its record changed",
                                  source(new, A.Cite(docs=[doc_id])), None, None, diff_lines(la, lb)))
    return out
