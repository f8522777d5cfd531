"""Semantic validation of a ruleset: names, dates, units, types and duplicates.

Every check produces a located :class:`Diagnostic` (error or warning); nothing here raises.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from . import ast as A
from .countries import ISO_ALPHA2
from .errors import Diagnostic, did_you_mean
from .intervals import windows_overlap

if TYPE_CHECKING:
    from .ruleset import Ruleset

SUBJECT_ATTRS: dict[str, str] = {
    "citizenships": "countries", "us_person": "bool", "permanent_resident": "bool", "foreign_person": "bool",
}


class _V:
    def __init__(self, rs: Ruleset) -> None:
        self.rs = rs
        self.out: list[Diagnostic] = []
    def emit(self, node: A.Node | None, msg: str, level: str = "error", loc: A.Loc | None = None) -> None:
        loc = loc or (node.loc if node is not None else None)
        if loc is None:
            self.out.append(Diagnostic("<rules>", 0, 0, msg, level=level))  # type: ignore[arg-type]
        else:
            self.out.append(Diagnostic(loc.file, loc.line, loc.col, msg, level=level))  # type: ignore[arg-type]

    # -- references ----------------------------------------------------------------------------------
    def doc_ref(self, node: A.Node, doc_id: str) -> None:
        if doc_id not in self.rs.documents:
            self.emit(node, f"undefined document '{doc_id}'" + did_you_mean(doc_id, self.rs.documents)
                      + " (declare it with 'document')")

    def cite(self, c: A.Cite | None, owner: A.Node, *, required: bool = False, what: str = "") -> None:
        if c is None or not c.docs:
            if required:
                self.emit(owner, f"{what} has no citation ('cite DOCUMENT'); every fact needs its source",
                          level="warning")
            return
        for d in c.docs:
            self.doc_ref(c, d)

    def dest_item(self, node: A.Node, item: str) -> None:
        if item in self.rs.groups:
            return
        if item in ISO_ALPHA2:
            return
        pool = [*self.rs.groups, *ISO_ALPHA2]
        self.emit(node, f"undefined country group or ISO country code '{item}'" + did_you_mean(item, pool))

    def dest(self, node: A.Node, d: A.DestSet) -> None:
        for item in [*d.include, *d.exclude]:
            self.dest_item(node, item)

    def window(self, node: A.Node, start: dt.date | None, end: dt.date | None, what: str) -> None:
        if start is not None and end is not None and end < start:
            self.emit(node, f"{what}: 'through {end}' is before its start {start}")

    def kind(self, node: A.Node, k: str) -> None:
        if k not in self.rs.kinds:
            self.emit(node, f"undefined asset kind '{k}'" + did_you_mean(k, self.rs.kinds)
                      + " (declare it with 'kind')")

    def unit(self, node: A.Node, u: str) -> None:
        if u not in self.rs.units:
            self.emit(node, f"undefined unit '{u}'" + did_you_mean(u, self.rs.units) + " (declare it with 'unit')")

    def eccn_ref(self, node: A.Node, eccn: str) -> None:
        if not self.rs.eccn_known(eccn):
            known = sorted({c.eccn for c in self.rs.controls})
            self.emit(node, f"undefined ECCN reference '{eccn}': no control declares it" + did_you_mean(eccn, known))

    # -- expressions ---------------------------------------------------------------------------------
    def operand_type(self, o: A.Ref | A.Lit, *, subject_ok: bool) -> tuple[str | None, str | None]:
        """(type, unit) of an operand; type None when unknown (an error was already emitted)."""
        if isinstance(o, A.Lit):
            v = o.value
            if isinstance(v, bool):
                return "bool", None
            if isinstance(v, A.Number):
                return "number", None
            return "string", None
        name = o.name
        if name.startswith("subject."):
            attr = name[len("subject."):]
            if not subject_ok:
                self.emit(o, f"'{name}': subject attributes are only available in access rules")
                return None, None
            if attr not in SUBJECT_ATTRS:
                self.emit(o, f"unknown subject attribute '{attr}'" + did_you_mean(attr, SUBJECT_ATTRS)
                          + f"; known: {', '.join(SUBJECT_ATTRS)}")
                return None, None
            return SUBJECT_ATTRS[attr], None
        in_attr = name in self.rs.attributes
        in_param = name in self.rs.parameters
        if in_attr and in_param:
            self.emit(o, f"'{name}' is both an attribute and a parameter; rename one")
            return None, None
        if in_attr:
            a = self.rs.attributes[name]
            return a.type, a.unit
        if in_param:
            return "number", self.rs.parameters[name].unit
        self.emit(o, f"undefined name '{name}'"
                  + did_you_mean(name, [*self.rs.attributes, *self.rs.parameters])
                  + " (not an attribute or a parameter)")
        return None, None

    def expr(self, e: A.Expr, *, subject_ok: bool = False, params: set[str] | None = None) -> None:
        if isinstance(e, A.Compare):
            lt, lu = self.operand_type(e.left, subject_ok=subject_ok)
            rt, ru = self.operand_type(e.right, subject_ok=subject_ok)
            for o in (e.left, e.right):
                if isinstance(o, A.Ref) and o.name in self.rs.parameters and params is not None:
                    params.add(o.name)
            if lt is None or rt is None:
                return
            if lt != rt:
                self.emit(e, f"type mismatch: cannot compare {lt} with {rt} using '{e.op}'")
                return
            if lt in ("bool", "string", "countries") and e.op not in ("==", "!="):
                self.emit(e, f"'{e.op}' needs numbers; {lt} values can only be compared with '==' or '!='")
                return
            if lu is not None and ru is not None and lu != ru and lu in self.rs.units and ru in self.rs.units:
                self.emit(e, f"unit mismatch: {_name(e.left)} is in '{lu}' but {_name(e.right)} is in '{ru}'")
            if isinstance(e.left, A.Lit) and isinstance(e.right, A.Lit):
                self.emit(e, "comparison of two constants", level="warning")
        elif isinstance(e, A.InSet):
            lt, _ = self.operand_type(e.left, subject_ok=subject_ok)
            if lt is None:
                return
            for v in e.values:
                vt, _ = self.operand_type(v, subject_ok=subject_ok)
                elem = "string" if lt == "countries" else lt
                if vt != elem:
                    self.emit(v, f"type mismatch: set member is {vt} but {_name(e.left)} is {lt}")
        elif isinstance(e, A.InGroup):
            lt, _ = self.operand_type(e.left, subject_ok=subject_ok)
            if lt is not None and lt not in ("string", "countries"):
                self.emit(e, f"'in group' needs a country code or a list of them, not {lt}")
            self.dest_item(e, e.group)
        elif isinstance(e, A.Meets):
            self.eccn_ref(e, e.eccn)
        elif isinstance(e, A.Truth):
            t, _ = self.operand_type(e.operand, subject_ok=subject_ok)
            if t is not None and t != "bool":
                self.emit(e, f"{_name(e.operand)} is a {t}, not a condition; compare it (e.g. '>= ...')")
        elif isinstance(e, A.Not):
            self.expr(e.item, subject_ok=subject_ok, params=params)
        elif isinstance(e, A.And | A.Or):
            for i in e.items:
                self.expr(i, subject_ok=subject_ok, params=params)

    # -- declarations --------------------------------------------------------------------------------
    def run(self) -> list[Diagnostic]:
        rs = self.rs
        for node, msg in rs.duplicates:
            self.emit(node, msg)
        for doc in rs.documents.values():
            self.document(doc)
        for a in rs.attributes.values():
            if a.unit is not None:
                self.unit(a, a.unit)
                if a.type != "number":
                    self.emit(a, f"attribute '{a.name}' has a unit but is {a.type}, not a number")
            for k in a.kinds:
                self.kind(a, k)
            if a.default is not None:
                dv = a.default
                dtype = "bool" if isinstance(dv, bool) else "number" if isinstance(dv, A.Number) else "string"
                if dtype != a.type:
                    self.emit(a, f"attribute '{a.name}': default is a {dtype} but the attribute is {a.type}")
        for p in rs.parameters.values():
            self.parameter(p)
        for g in rs.groups.values():
            self.group(g)
        for x in rs.exceptions.values():
            if x.effective is None:
                self.emit(x, f"license exception {x.code} has no 'effective' date")
            else:
                self.window(x.effective, x.effective.start, x.effective.end, f"exception {x.code}")
                self.cite(x.effective.cite, x.effective, required=True, what=f"exception {x.code}")
            for ev in x.statuses:
                self.status(ev)
        self.controls()
        for rule in rs.access:
            self.access(rule)
        for h in rs.hints:
            self.kind(h, h.asset_kind)
            for pat in h.patterns:
                if not pat.strip():
                    self.emit(h, "empty path pattern")
        return self.out

    def document(self, doc: A.DocumentDecl) -> None:
        for ref in (doc.corrects, doc.suspends):
            if ref is not None:
                self.doc_ref(doc, ref)
        for dd in doc.dates:
            self.window(dd, dd.date, dd.end, f"{dd.kind} date")
            self.cite(dd.cite, dd)
        for ev in doc.statuses:
            self.status(ev)
        if doc.kind.startswith("fr_") and doc.published is None:
            self.emit(doc, f"document {doc.id}: Federal Register document without a 'published' date",
                      level="warning")

    def status(self, ev: A.StatusEvent) -> None:
        self.window(ev, ev.start, ev.end, f"status {ev.kind}")
        self.cite(ev.cite, ev, required=True, what=f"status {ev.kind}")

    def parameter(self, p: A.ParameterDecl) -> None:
        self.unit(p, p.unit)
        if not p.values:
            self.emit(p, f"parameter '{p.name}' has no values")
            return
        prev: A.ParamValue | None = None
        for v in p.values:
            self.cite(v.cite, v, required=True, what=f"value of {p.name} from {v.start}")
            if prev is not None:
                if v.start == prev.start:
                    self.emit(v, f"parameter '{p.name}': two values from {v.start} (overlapping dated values)")
                elif v.start < prev.start:
                    self.emit(v, f"parameter '{p.name}': values out of order ({v.start} after {prev.start}); "
                              "list them oldest first")
                elif v.value is None and prev.value is None:
                    self.emit(v, f"parameter '{p.name}': 'end' after 'end'")
            elif v.value is None:
                self.emit(v, f"parameter '{p.name}': the first value cannot be 'end'")
            prev = v

    def group(self, g: A.GroupDecl) -> None:
        if not g.members:
            self.emit(g, f"group '{g.name}' has no members", level="warning")
        for m in g.members:
            self.window(m, m.start, m.end, f"group {g.name}")
            for item in m.members:
                if item == g.name:
                    self.emit(m, f"group '{g.name}' contains itself")
                else:
                    self.dest_item(m, item)
            if len(set(m.members)) != len(m.members):
                self.emit(m, f"group '{g.name}': a member is listed twice on one line", level="warning")
        starts = [m.start for m in g.members if m.start is not None]
        if starts != sorted(starts):
            self.emit(g, f"group '{g.name}': dated membership lines are out of order; list them oldest first")

    def controls(self) -> None:
        rs = self.rs
        by_eccn: dict[str, list[A.ControlDecl]] = {}
        for c in rs.controls:
            by_eccn.setdefault(c.eccn, []).append(c)
            self.control(c)
        for eccn, versions in by_eccn.items():
            for i, a in enumerate(versions):
                for b in versions[i + 1:]:
                    if a.effective and b.effective and windows_overlap(
                            a.effective.start, a.effective.end, b.effective.start, b.effective.end):
                        self.emit(b, f"duplicate control {eccn}: in effect at the same time as the control at "
                                  f"{a.loc} (give the older one 'effective ... through DATE')")
        self.meets_cycles()

    def control(self, c: A.ControlDecl) -> None:
        if not c.applies_to:
            self.emit(c, f"control {c.eccn}: missing 'applies to KIND'")
        for k in c.applies_to:
            self.kind(c, k)
        if c.when is None:
            self.emit(c, f"control {c.eccn}: missing 'when CONDITION' (write 'when true' to control every "
                      "asset of the kinds)")
        else:
            params: set[str] = set()
            self.expr(c.when, params=params)
            self.cite(c.when_cite, c.when)
            self.param_roles(c, params)
            self.param_coverage(c, params)
        for ex in c.exclusions:
            self.expr(ex.when)
            self.cite(ex.cite, ex)
        if c.effective is None:
            self.emit(c, f"control {c.eccn}: missing 'effective DATE'")
        else:
            self.window(c.effective, c.effective.start, c.effective.end, f"control {c.eccn}")
            self.cite(c.effective.cite, c.effective, required=True, what=f"control {c.eccn}")
        if c.compliance is not None:
            self.cite(c.compliance.cite, c.compliance)
            if c.effective and c.effective.start and c.compliance.start and c.compliance.start < c.effective.start:
                self.emit(c.compliance, f"control {c.eccn}: compliance date {c.compliance.start} is before the "
                          f"effective date {c.effective.start}")
        for lr in c.licenses:
            self.dest(lr, lr.dest)
            self.window(lr, lr.start, lr.end, "license requirement")
            self.cite(lr.cite, lr, required=True, what="license requirement")
        for p in c.policies:
            self.dest(p, p.dest)
            self.window(p, p.start, p.end, f"policy {p.name}")
            self.cite(p.cite, p)
            if p.when is not None:
                self.expr(p.when)
        for ec in c.exceptions:
            self.window(ec, ec.start, ec.end, "exceptions")
            self.cite(ec.cite, ec)
            for code in ec.codes:
                if code not in self.rs.exceptions:
                    self.emit(ec, f"undefined license exception '{code}'" + did_you_mean(code, self.rs.exceptions)
                              + " (declare it with 'exception')")
        for ev in c.statuses:
            self.status(ev)
        if not c.licenses:
            self.emit(c, f"control {c.eccn}: no 'license required to ...' line", level="warning")

    def param_roles(self, c: A.ControlDecl, params: set[str]) -> None:
        for name in sorted(params):
            p = self.rs.parameters[name]
            if p.role in ("exception_ceiling", "policy_eligibility", "presumption", "exclusion"):
                self.emit(c.when, f"control {c.eccn} uses parameter '{name}' whose role is {p.role}: "
                          "eligibility, exclusion and presumption values are not control thresholds (use exclusion "
                          "parameters in 'except when')")

    def param_coverage(self, c: A.ControlDecl, params: set[str]) -> None:
        if c.effective is None or c.effective.start is None:
            return
        for name in sorted(params):
            p = self.rs.parameters[name]
            start, end = c.effective.start, c.effective.end
            vals = sorted(p.values, key=lambda v: v.start)
            first = next((v for v in vals if v.value is not None), None)
            if first is None or first.start > start:
                self.emit(c.when, f"control {c.eccn} is effective from {start} but parameter '{name}' has no "
                          f"value until {first.start if first else 'never'}", level="warning")
            for v in vals:
                if v.value is None and v.start >= start and (end is None or v.start <= end):
                    self.emit(c.when, f"control {c.eccn} is in effect after parameter '{name}' ends on "
                              f"{v.start}", level="warning")

    def meets_cycles(self) -> None:
        graph: dict[str, set[str]] = {}
        where: dict[str, A.ControlDecl] = {}
        for c in self.rs.controls:
            refs = {m.eccn for m in _walk(c.when)} | {m.eccn for ex in c.exclusions for m in _walk(ex.when)}
            graph.setdefault(c.eccn, set()).update(refs)
            where.setdefault(c.eccn, c)
        def targets(ref: str) -> list[str]:
            return sorted({c.eccn for c in self.rs.controls_for(ref)})
        state: dict[str, int] = {}
        reported: set[str] = set()

        def visit(n: str, path: list[str]) -> None:
            state[n] = 1
            for ref in sorted(graph.get(n, ())):
                for t in targets(ref):
                    if state.get(t) == 1 and t not in reported:
                        reported.add(t)
                        cyc = " -> ".join([*path[path.index(t):], t]) if t in path else f"{n} -> {t}"
                        self.emit(where[t], f"'meets' references form a cycle: {cyc}")
                    elif state.get(t) is None:
                        visit(t, [*path, t])
            state[n] = 2

        for n in sorted(graph):
            if state.get(n) is None:
                visit(n, [n])

    def access(self, a: A.AccessDecl) -> None:
        if not a.on:
            self.emit(a, f"access {a.name}: missing 'on ECCN, ...'")
        for o in a.on:
            if o != "*":
                self.eccn_ref(a, o)
        if not a.actions:
            self.emit(a, f"access {a.name}: missing 'actions ...'")
        if a.when is not None:
            self.expr(a.when, subject_ok=True)
        if a.unless is not None:
            self.expr(a.unless, subject_ok=True)
        if a.effective is not None:
            self.window(a.effective, a.effective.start, a.effective.end, f"access {a.name}")
            self.cite(a.effective.cite, a.effective)


def _walk(e: A.Expr | None) -> Iterator[A.Meets]:
    return (n for n in A.iter_conditions(e) if isinstance(n, A.Meets))


def _name(o: A.Ref | A.Lit) -> str:
    if isinstance(o, A.Ref):
        return f"'{o.name}'"
    return "the constant"


def validate(rs: Ruleset) -> list[Diagnostic]:
    import gc

    was_enabled = gc.isenabled()
    gc.disable()  # as in the parser: no cycles are made here, and rescanning a large AST heap dominates
    try:
        diags = _V(rs).run()
    finally:
        if was_enabled:
            gc.enable()
    return _with_sources(rs, diags)


def _with_sources(rs: Ruleset, diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Attach the source line to each diagnostic when the file is readable (for the caret display)."""
    from pathlib import Path

    cache: dict[str, list[str] | None] = {}
    out: list[Diagnostic] = []
    for name, text in rs.sources.items():
        cache[name] = text.split("\n")
    for d in diags:
        if d.file not in cache:
            p = Path(d.file)
            try:
                cache[d.file] = p.read_text(encoding="utf-8").split("\n") if p.is_file() else None
            except (OSError, UnicodeDecodeError):
                cache[d.file] = None
        lines = cache[d.file]
        src = lines[d.line - 1] if lines and 0 < d.line <= len(lines) else ""
        out.append(Diagnostic(d.file, d.line, d.col, d.message, src, d.level))
    return sorted(out, key=lambda x: (x.file, x.line, x.col, x.message))
