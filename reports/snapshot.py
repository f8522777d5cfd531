"""The rules as they stand on one date, as comparable facts (for valid-time diffs).

A :class:`Snapshot` maps a fact key (``("threshold", "4E091", "training_operations", "ai_training_operations")``)
to a :class:`Fact` whose ``value`` is compared between two dates; the rest of the fact is what a report
says about it. Rules only change on the dates they mention, so comparing the snapshots on consecutive
change dates lists every change between two dates, each with the date it takes effect.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rulesdsl import ast as A
from rulesdsl.formatter import fmt_dest, fmt_expr, format_decl
from rulesdsl.intervals import in_window
from rulesdsl.semantics import control_in_effect, control_status, status_at, status_events
from rulesdsl.timeline import Threshold, control_thresholds

from .cites import Source, quote, show_number, source

if TYPE_CHECKING:
    from rulesdsl.ruleset import Ruleset

Key = tuple[str, ...]


@dataclass(frozen=True)
class Fact:
    value: Hashable
    text: str
    source: Source
    node: object = field(default=None, compare=False, repr=False)


Snapshot = dict[Key, Fact]

_STATUS_WORDS = {"in_force": "in force", "compliance_not_required": "compliance not yet required",
                 "suspended": "suspended", "not_enforced": "not enforced (announced)", "rescinded": "rescinded"}


def status_words(status: str) -> str:
    return _STATUS_WORDS.get(status, status.replace("_", " "))


def control_summary(c: A.ControlDecl) -> str:
    """``3A090.c: High bandwidth memory ...; applies to hbm; when memory_bandwidth_density > ...``."""
    text = f"{c.eccn}: {c.title or 'untitled'}"
    text += f"; applies to {', '.join(c.applies_to)}" if c.applies_to else ""
    return text + (f"; when {fmt_expr(c.when)}" if c.when is not None else "")


def decl_lines(d: A.Decl) -> list[str]:
    """Canonical DSL lines of one declaration (comments dropped: they are not rules)."""
    return [ln.rstrip() for ln in format_decl(d).splitlines()
            if ln.strip() and not ln.lstrip().startswith("#")]


def diff_lines(old: list[str], new: list[str]) -> tuple[str, ...]:
    """Changed lines only, ``- old`` / ``+ new`` (what a reviewer reads in a rules diff)."""
    out = []
    for ln in difflib.unified_diff(old, new, lineterm="", n=0):
        if ln.startswith(("---", "+++", "@@")):
            continue
        out.append(f"{ln[0]} {ln[1:].strip()}")
    return tuple(out)


def threshold_text(eccn: str, attribute: str, comparator: str, notation: str, unit: str) -> str:
    return f"{eccn}: {attribute} {comparator} {notation} {unit}"


def threshold_source(rs: Ruleset, t: Threshold) -> Source:
    """A threshold's source: its parameter value's cite (the timeline keeps only the human citation)."""
    p = rs.parameters.get(t.parameter)
    cite = next((v.cite for v in (p.values if p else []) if v.start == t.start), None)
    return Source(t.citation, quote(cite), t.confidence, t.unresolved)


def _docs(cites: Iterator[A.Cite | None]) -> set[str]:
    return {d for c in cites if c is not None for d in c.docs}


def snapshot(rs: Ruleset, at: dt.date) -> Snapshot:
    """Every fact of ``rs`` in effect on ``at``."""
    out: Snapshot = {}
    cited: set[str] = set()
    for c in rs.controls:
        if not control_in_effect(c, at):
            continue
        eff = c.effective.cite if c.effective else None
        out[("control", c.eccn)] = Fact("\n".join(decl_lines(c)), control_summary(c), source(rs, c.when_cite, eff),
                                        c)
        st = control_status(rs, c, at)
        out[("status", c.eccn)] = Fact(st.status, f"{c.eccn}: {st.note}",
                                       Source(st.cite, "") if st.cite else source(rs, eff), st)
        cited |= _docs(iter([eff, c.when_cite, *(x.cite for x in c.exclusions)]))
        for t in control_thresholds(rs, c):
            if t.start <= at and (t.end is None or at <= t.end):
                out[("threshold", c.eccn, t.attribute, t.parameter)] = Fact(
                    (t.comparator, t.value, t.unit), threshold_text(c.eccn, t.attribute, t.comparator, t.notation,
                                                                    t.unit),
                    threshold_source(rs, t), t)
        for lr in c.licenses:
            if in_window(at, lr.start, lr.end):
                lst = status_at(rs, status_events(rs, [], lr.cite), None, at)
                dest = fmt_dest(lr.dest)
                out[("license", c.eccn, dest)] = Fact(
                    lst.status, f"{c.eccn}: license required to {dest}"
                    + ("" if lst.status == "in_force" else f": {status_words(lst.status)}"),
                    Source(lst.cite, "") if lst.cite else source(rs, lr.cite), lst)
                cited |= _docs(iter([lr.cite]))
        for p in c.policies:
            if in_window(at, p.start, p.end):
                cond = f" when {fmt_expr(p.when)}" if p.when is not None else ""
                text = f"{c.eccn}: {p.name.replace('_', ' ')} for {fmt_dest(p.dest)}{cond}"
                out[("policy", c.eccn, p.name, fmt_dest(p.dest), cond)] = Fact(True, text, source(rs, p.cite))
                cited |= _docs(iter([p.cite]))
        for ec in c.exceptions:
            if in_window(at, ec.start, ec.end):
                codes = ", ".join(ec.codes)
                out[("exceptions", c.eccn, codes)] = Fact(True, f"{c.eccn}: license exceptions {codes}",
                                                          source(rs, ec.cite))
                cited |= _docs(iter([ec.cite]))
    for name, param in rs.parameters.items():
        entry = rs.param_entry(name, at)
        if entry is not None and entry.value is not None:
            out[("parameter", name)] = Fact(str(entry.value.value),
                                            f"{show_number(entry.value.value)} {param.unit}",
                                            source(rs, entry.cite), param)
            cited |= _docs(iter([entry.cite]))
    for name, g in rs.groups.items():
        members = rs.group_members(name, at)
        out[("group", name)] = Fact(members, f"group {name}: {len(members)} members", source(rs),
                                    g)
        cited |= _docs(m.cite for m in g.members if in_window(at, m.start, m.end))
    for code, x in rs.exceptions.items():
        if x.effective is None or not in_window(at, x.effective.start, x.effective.end):
            continue
        st = status_at(rs, status_events(rs, x.statuses, x.effective.cite), None, at)
        out[("exception", code)] = Fact(st.status, f"License Exception {code}"
                                        + (f" ({x.title})" if x.title else "") + f": {status_words(st.status)}",
                                        Source(st.cite, "") if st.cite else source(rs, x.effective.cite))
        cited |= _docs(iter([x.effective.cite]))
    for doc_id, d in rs.documents.items():
        for ev in d.statuses:
            if in_window(at, ev.start, ev.end):
                span = f"from {ev.start}" + (f" through {ev.end}" if ev.end else "")
                out[("docstatus", doc_id, ev.kind)] = Fact(
                    (ev.start, ev.end), f"{doc_id}: {status_words(ev.kind)} {span}", source(rs, ev.cite), ev)
                cited |= _docs(iter([ev.cite]))
    for doc_id in sorted(cited):
        doc = rs.documents.get(doc_id)
        if doc is not None:
            title = f": {doc.title}" if doc.title else ""
            out[("cited", doc_id)] = Fact(True, f"{rs.citation(A.Cite(docs=[doc_id]))}{title}",
                                          source(rs, A.Cite(docs=[doc_id])), doc)
    return out


def change_dates(rs: Ruleset, after: dt.date, through: dt.date) -> list[dt.date]:
    """Dates in ``(after, through]`` on which something in ``rs`` may change (a window's end changes the
    next day)."""
    days = set()
    one = dt.timedelta(days=1)
    for d in rs.dates():
        days.add(d)
        if d < dt.date.max:
            days.add(d + one)
    return sorted(d for d in days if after < d <= through)
