"""Timelines for ``regwatch when``: every dated fact about an ECCN, parameter, group, document or license
exception, in date order, each with its citation, and the status on a given date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import ast as A
from .formatter import fmt_dest, fmt_expr
from .numbers import format_number
from .parser import ECCN_RE
from .semantics import control_in_effect, control_status, status_at, status_events

if TYPE_CHECKING:
    from .ruleset import Ruleset


class UnknownName(LookupError):
    """The name is not an ECCN, parameter, group, document or license exception of the ruleset."""


@dataclass(frozen=True)
class Event:
    date: dt.date | None
    end_date: dt.date | None
    kind: str
    text: str
    citation: str
    confidence: str | None = None
    unresolved: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"date": _iso(self.date), "end_date": _iso(self.end_date), "kind": self.kind,
                "description": self.text, "citation": self.citation, "confidence": self.confidence,
                "unresolved": self.unresolved}


@dataclass(frozen=True)
class Threshold:
    eccn: str
    parameter: str
    attribute: str
    comparator: str
    value: str  # exact decimal string
    notation: str  # as written in the rules, e.g. 10^26
    unit: str
    start: dt.date
    end: dt.date | None
    citation: str
    confidence: str | None
    unresolved: str | None

    def to_json(self) -> dict[str, object]:
        return {"eccn": self.eccn, "parameter": self.parameter, "attribute": self.attribute,
                "comparator": self.comparator, "value": self.value, "value_display": self.notation,
                "unit": self.unit, "from": self.start.isoformat(), "until": _iso(self.end),
                "citation": self.citation, "confidence": self.confidence, "unresolved": self.unresolved}


@dataclass
class Timeline:
    name: str
    type: str
    title: str | None
    events: list[Event] = field(default_factory=list)
    thresholds: list[Threshold] = field(default_factory=list)
    status_by_paragraph: dict[str, str] = field(default_factory=dict)

    def status_on(self, rs: Ruleset, at: dt.date) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        if self.type == "eccn":
            for c in rs.controls_for(self.name):
                if control_in_effect(c, at):
                    st = control_status(rs, c, at)
                    out.append({"eccn": c.eccn, "status": st.status, "note": st.note,
                                "citation": st.cite or rs.citation(c.effective.cite if c.effective else None)})
            if not out:
                out.append({"eccn": self.name, "status": "not_in_effect", "note": f"no control in effect on {at}",
                            "citation": None})
        elif self.type == "parameter":
            entry = rs.param_entry(self.name, at)
            out.append({"parameter": self.name, "value": str(entry.value.value) if entry and entry.value else None,
                        "citation": rs.citation(entry.cite) if entry else None})
        elif self.type == "group":
            out.append({"group": self.name, "members": sorted(rs.group_members(self.name, at))})
        elif self.type == "document":
            doc = rs.documents[self.name]
            st = status_at(rs, doc.statuses, None, at)
            out.append({"document": self.name, "status": st.status, "note": st.note})
        elif self.type == "exception":
            x = rs.exceptions[self.name]
            in_eff = x.effective is not None and x.effective.start is not None and x.effective.start <= at and (
                x.effective.end is None or at <= x.effective.end)
            st = status_at(rs, status_events(rs, x.statuses, x.effective.cite if x.effective else None), None, at)
            out.append({"exception": self.name, "status": st.status if in_eff else "not_in_effect",
                        "note": st.note if in_eff else f"not in effect on {at}"})
        return out

    def to_json(self, rs: Ruleset, at: dt.date) -> dict[str, object]:
        return {"name": self.name, "type": self.type, "title": self.title, "as_of": at.isoformat(),
                "status": self.status_on(rs, at), "events": [e.to_json() for e in self.events],
                "thresholds": [t.to_json() for t in self.thresholds]}


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def _conf(c: A.Cite | None) -> tuple[str | None, str | None]:
    return (c.confidence, c.unresolved) if c else (None, None)


_QUALIFIED = ("eccn", "parameter", "group", "document", "exception")


def timeline(rs: Ruleset, name: str) -> Timeline:
    """Timeline of ``name``: an ECCN (or paragraph), parameter, group, document id or exception code,
    looked up in that order; ``group:AIA`` / ``exception:AIA`` etc. pick one meaning explicitly."""
    key = name.strip()
    qual, sep, rest = key.partition(":")
    if sep and qual in _QUALIFIED and rest:
        return _qualified(rs, qual, rest)
    upper = key.upper()
    eccn = key[:5].upper() + key[5:]  # 4e091 -> 4E091; paragraph letters stay lower case
    if ECCN_RE.match(eccn) and rs.eccn_known(eccn):
        return _eccn(rs, eccn)
    if key in rs.parameters:
        return _parameter(rs, key)
    if key in rs.groups or upper in rs.groups:
        return _group(rs, key if key in rs.groups else upper)
    if key in rs.documents:
        return _document(rs, key)
    if key.upper() in rs.exceptions:
        return _exception(rs, key.upper())
    raise UnknownName(key)


def _qualified(rs: Ruleset, qual: str, key: str) -> Timeline:
    eccn = key[:5].upper() + key[5:]
    if qual == "eccn" and ECCN_RE.match(eccn) and rs.eccn_known(eccn):
        return _eccn(rs, eccn)
    if qual == "parameter" and key in rs.parameters:
        return _parameter(rs, key)
    if qual == "group" and (key in rs.groups or key.upper() in rs.groups):
        return _group(rs, key if key in rs.groups else key.upper())
    if qual == "document" and key in rs.documents:
        return _document(rs, key)
    if qual == "exception" and key.upper() in rs.exceptions:
        return _exception(rs, key.upper())
    raise UnknownName(f"{qual}:{key}")


def known_names(rs: Ruleset) -> list[str]:
    return sorted({c.eccn for c in rs.controls} | {c.eccn.split(".")[0] for c in rs.controls}
                  | set(rs.parameters) | set(rs.groups) | set(rs.documents) | set(rs.exceptions))


def _doc_status_events(rs: Ruleset, cite: A.Cite | None) -> Iterator[Event]:
    for doc_id in cite.docs if cite else []:
        doc = rs.documents.get(doc_id)
        if doc is None:
            continue
        for ev in doc.statuses:
            conf, unres = _conf(ev.cite)
            yield Event(ev.start, ev.end, ev.kind, f"{ev.kind.replace('_', ' ')} (status of {doc_id})",
                        rs.citation(ev.cite), conf, unres)


def _compares(e: A.Expr | None) -> Iterator[A.Compare]:
    return (n for n in A.iter_conditions(e) if isinstance(n, A.Compare))


_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}


def control_thresholds(rs: Ruleset, c: A.ControlDecl) -> list[Threshold]:
    """Threshold facts of a control: ``attribute OP parameter`` comparisons with each dated value."""
    out: list[Threshold] = []
    for cmp in _compares(c.when):
        if isinstance(cmp.left, A.Ref) and isinstance(cmp.right, A.Ref) and cmp.right.name in rs.parameters:
            attr, pname, op = cmp.left.name, cmp.right.name, str(cmp.op)
        elif isinstance(cmp.left, A.Ref) and isinstance(cmp.right, A.Ref) and cmp.left.name in rs.parameters:
            attr, pname, op = cmp.right.name, cmp.left.name, _FLIP[cmp.op]
        else:
            continue
        p = rs.parameters[pname]
        vals = sorted(p.values, key=lambda v: v.start)
        for i, v in enumerate(vals):
            if v.value is None:
                continue
            nxt = vals[i + 1].start - dt.timedelta(days=1) if i + 1 < len(vals) else None
            conf, unres = _conf(v.cite)
            out.append(Threshold(c.eccn, pname, attr, op, str(v.value.value),
                                 format_number(v.value.value, v.value.notation), p.unit, v.start, nxt,
                                 rs.citation(v.cite), conf, unres))
    return out


def _eccn(rs: Ruleset, eccn: str) -> Timeline:
    controls = rs.controls_for(eccn)
    titles = [c.title for c in controls if c.eccn == eccn and c.title]
    tl = Timeline(eccn, "eccn", titles[-1] if titles else (controls[-1].title if controls else None))
    seen: set[tuple[object, ...]] = set()

    def add(ev: Event) -> None:
        key = (ev.date, ev.end_date, ev.kind, ev.text, ev.citation)
        if key not in seen:
            seen.add(key)
            tl.events.append(ev)

    for c in controls:
        p = c.eccn
        if c.effective is not None:
            conf, unres = _conf(c.effective.cite)
            add(Event(c.effective.start, c.effective.end, "effective",
                      f"{p} in effect" + (f" through {c.effective.end}" if c.effective.end else "")
                      + (f": when {fmt_expr(c.when)}" if c.when is not None else ""),
                      rs.citation(c.effective.cite), conf, unres or _conf(c.when_cite)[1]))
            if c.effective.end is not None:
                add(Event(c.effective.end + dt.timedelta(days=1), None, "superseded",
                          f"{p}: the version in effect through {c.effective.end} ends", ""))
        if c.compliance is not None:
            conf, unres = _conf(c.compliance.cite)
            add(Event(c.compliance.start, None, "compliance", f"{p}: compliance required",
                      rs.citation(c.compliance.cite), conf, unres))
        for lr in c.licenses:
            conf, unres = _conf(lr.cite)
            add(Event(lr.start, lr.end, "license_requirement", f"{p}: license required to {fmt_dest(lr.dest)}",
                      rs.citation(lr.cite), conf, unres))
            for ev in _doc_status_events(rs, lr.cite):
                add(ev)
        for pol in c.policies:
            conf, unres = _conf(pol.cite)
            cond = f" when {fmt_expr(pol.when)}" if pol.when is not None else ""
            add(Event(pol.start, pol.end, "licensing_policy",
                      f"{p}: {pol.name.replace('_', ' ')} for {fmt_dest(pol.dest)}{cond}",
                      rs.citation(pol.cite), conf, unres))
        for ec in c.exceptions:
            conf, unres = _conf(ec.cite)
            add(Event(ec.start, ec.end, "license_exceptions", f"{p}: license exceptions {', '.join(ec.codes)}",
                      rs.citation(ec.cite), conf, unres))
        for st in c.statuses:
            conf, unres = _conf(st.cite)
            add(Event(st.start, st.end, st.kind, f"{p}: {st.kind.replace('_', ' ')}", rs.citation(st.cite),
                      conf, unres))
        for dev in _doc_status_events(rs, c.effective.cite if c.effective else None):
            add(dev)
        tl.thresholds.extend(control_thresholds(rs, c))
    tl.events.sort(key=lambda e: (e.date or dt.date.min, e.kind != "effective", e.text))
    return tl


def _parameter(rs: Ruleset, name: str) -> Timeline:
    p = rs.parameters[name]
    tl = Timeline(name, "parameter", p.description)
    for v in p.values:
        conf, unres = _conf(v.cite)
        text = "ends" if v.value is None else (
            f"{name} = {format_number(v.value.value, v.value.notation)} {p.unit} (role: {p.role})")
        tl.events.append(Event(v.start, None, "value", text, rs.citation(v.cite), conf, unres))
    for c in rs.controls:
        for t in control_thresholds(rs, c):
            if t.parameter == name:
                tl.thresholds.append(t)
    return tl


def _group(rs: Ruleset, name: str) -> Timeline:
    g = rs.groups[name]
    tl = Timeline(name, "group", g.description)
    for m in g.members:
        conf, unres = _conf(m.cite)
        tl.events.append(Event(m.start, m.end, f"members_{m.op}",
                               f"{m.op} {', '.join(m.members)}" + ("" if m.start else " (baseline)"),
                               rs.citation(m.cite), conf, unres))
    return tl


def _document(rs: Ruleset, doc_id: str) -> Timeline:
    d = rs.documents[doc_id]
    tl = Timeline(doc_id, "document", d.title)
    if d.published:
        tl.events.append(Event(d.published, None, "published", f"published{' as ' + d.citation if d.citation else ''}",
                               rs.citation(A.Cite(docs=[doc_id])), d.confidence))
    for dd in d.dates:
        conf, unres = _conf(dd.cite)
        text = dd.kind.replace("_", " ") + (f": {dd.scope}" if dd.scope else "")
        tl.events.append(Event(dd.date, dd.end, dd.kind, text,
                               rs.citation(A.Cite(docs=[doc_id])), conf or d.confidence, unres))
    for st in d.statuses:
        conf, unres = _conf(st.cite)
        tl.events.append(Event(st.start, st.end, st.kind, st.kind.replace("_", " "), rs.citation(st.cite), conf, unres))
    tl.events.sort(key=lambda e: e.date or dt.date.min)
    return tl


def _exception(rs: Ruleset, code: str) -> Timeline:
    x = rs.exceptions[code]
    tl = Timeline(code, "exception", x.title)
    if x.effective is not None:
        conf, unres = _conf(x.effective.cite)
        tl.events.append(Event(x.effective.start, x.effective.end, "effective",
                               f"License Exception {code}" + (f" (section {x.section})" if x.section else ""),
                               rs.citation(x.effective.cite), conf, unres))
        for ev in _doc_status_events(rs, x.effective.cite):
            tl.events.append(ev)
    for st in x.statuses:
        conf, unres = _conf(st.cite)
        tl.events.append(Event(st.start, st.end, st.kind, st.kind.replace("_", " "), rs.citation(st.cite), conf, unres))
    tl.events.sort(key=lambda e: e.date or dt.date.min)
    return tl
