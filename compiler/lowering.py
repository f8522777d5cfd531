"""Lowering: a :class:`~rulesdsl.ruleset.Ruleset` (the DSL AST) to IR slices (:mod:`compiler.ir`).

This is the only module of the compiler that reads the AST. Everything that depends on the date is
resolved here, with the helpers of :mod:`rulesdsl.semantics` and :mod:`rulesdsl.intervals` (so time is
defined once): which clauses are in effect, group members, parameter values, statuses and their
precedence. What is left for the evaluator and the targets is date-free, except the request's own
licenses, whose windows come with the request.

A slice is valid between consecutive *change dates*: every ``start`` of a dated clause and the day after
every ``end`` (ends are inclusive), every parameter value date and every compliance date. Between two
change dates no ``in_window`` test, parameter lookup or status can change, so lowering any day of the
slice gives the same IR content (tested).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import cast

from rulesdsl import ast as A
from rulesdsl.formatter import fmt_dest
from rulesdsl.hints import glob_regex
from rulesdsl.intervals import in_window
from rulesdsl.numbers import format_number
from rulesdsl.ruleset import Ruleset
from rulesdsl.semantics import StatusInfo, control_in_effect, status_at, status_events

from . import ir

_ONE = dt.timedelta(days=1)
_FLIP: dict[str, ir.CompareOp] = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}


# ---------------------------------------------------------------------------------------------------------
# Time slices


def change_dates(rs: Ruleset) -> list[dt.date]:
    """Every day on which some part of the rules' meaning may change, sorted."""
    points: set[dt.date] = set()

    def window(start: dt.date | None, end: dt.date | None) -> None:
        if start is not None:
            points.add(start)
        if end is not None and end < dt.date.max:
            points.add(end + _ONE)

    for p in rs.parameters.values():
        points.update(v.start for v in p.values)
    for g in rs.groups.values():
        for m in g.members:
            window(m.start, m.end)
    for doc in rs.documents.values():
        for ev in doc.statuses:
            window(ev.start, ev.end)
    for x in rs.exceptions.values():
        if x.effective is not None:
            window(x.effective.start, x.effective.end)
        for ev in x.statuses:
            window(ev.start, ev.end)
    for c in rs.controls:
        for d in [c.effective, c.compliance, *c.licenses, *c.policies, *c.exceptions, *c.statuses]:
            if d is not None:
                window(d.start, d.end)
    for a in rs.access:
        if a.effective is not None:
            window(a.effective.start, a.effective.end)
    return sorted(points)


def slice_bounds(points: Sequence[dt.date], day: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The span ``[from, through]`` between change dates that holds ``day`` (``None``: open)."""
    i = bisect_right(points, day)
    return (points[i - 1] if i > 0 else None), (points[i] - _ONE if i < len(points) else None)


def lower_ir(rs: Ruleset, *, as_of: dt.date, rules_version: str, strict: bool = False) -> ir.IR:
    lo, hi = slice_bounds(change_dates(rs), as_of)
    return _Lowering(rs, as_of, strict).build(rules_version, lo, hi)


def lower_timeline_ir(rs: Ruleset, *, rules_version: str, strict: bool = False) -> ir.Timeline:
    points = change_dates(rs)
    slices: list[ir.IR] = []
    for i, start in enumerate([None, *points]):
        end = points[i] - _ONE if i < len(points) else None
        day = start or end or dt.date.min
        s = _Lowering(rs, day, strict).build(rules_version, start, end)
        if slices and slices[-1].content() == s.content():
            slices[-1] = slices[-1].model_copy(update={"valid_through": end})
        else:
            slices.append(s)
    diags = sorted({d for s in slices for d in s.diagnostics}, key=_diag_key)
    return ir.Timeline(rules_version=rules_version, strict=strict, slices=tuple(slices),
                       parameter_history=_parameter_history(slices), diagnostics=tuple(diags))


def _parameter_history(slices: Sequence[ir.IR]) -> tuple[ir.ParameterPeriod, ...]:
    """Consecutive slices with the same value, status, citation and uses of a parameter, merged."""
    out: list[ir.ParameterPeriod] = []
    current: dict[str, int] = {}  # parameter -> index in out of its open period
    for s in slices:
        for p in s.parameters:
            if p.value is None:
                current.pop(p.name, None)
                continue
            k = current.get(p.name)
            if k is not None and (out[k].value, out[k].status, out[k].citation, out[k].uses) == (
                    p.value, p.status, p.citation, p.uses):
                out[k] = out[k].model_copy(update={"valid_through": s.valid_through})
                continue
            current[p.name] = len(out)
            out.append(ir.ParameterPeriod(name=p.name, unit=p.unit, role=p.role, value=p.value,
                                          valid_from=s.valid_from, valid_through=s.valid_through,
                                          status=p.status, citation=p.citation, uses=p.uses))
    out.sort(key=lambda x: (x.name, x.valid_from or dt.date.min))
    return tuple(out)


def _diag_key(d: ir.Diagnostic) -> tuple[str, str, str, str]:
    return (d.rule, d.code, d.message, d.location or "")


def _location(node: A.Node | None) -> str | None:
    loc = node.loc if node is not None else None
    return repr(loc) if isinstance(loc, A.Loc) else None


def _clause_status(st: StatusInfo) -> ir.ClauseStatus:
    assert st.status != "compliance_not_required"  # only controls have a compliance date
    return st.status


# ---------------------------------------------------------------------------------------------------------
# One slice


class _Lowering:
    def __init__(self, rs: Ruleset, at: dt.date, strict: bool) -> None:
        self.rs = rs
        self.at = at
        self.strict = strict
        self.binding = {"in_force"} | ({"not_enforced", "compliance_not_required"} if strict else set())
        self.diags: set[ir.Diagnostic] = set()
        self.uses: dict[str, list[ir.ParameterUse]] = {}
        self.members: dict[str, tuple[str, ...]] = {}
        self.in_effect = [c for c in rs.controls if control_in_effect(c, at)]
        self.ids: dict[int, str] = {}
        count: dict[str, int] = {}
        for c in self.in_effect:
            n = count[c.eccn] = count.get(c.eccn, 0) + 1
            self.ids[id(c)] = c.eccn if n == 1 else f"{c.eccn}#{n}"
            if n > 1:
                self.diag("error", "duplicate-control", f"{n} versions of {c.eccn} are in effect on {at}", c)

    def diag(self, level: ir.DiagLevel, code: str, message: str, node: A.Node | None, rule: str | None = None,
             ) -> None:
        if rule is None:
            rule = f"control {node.eccn}" if isinstance(node, A.ControlDecl) else "rules"
        self.diags.add(ir.Diagnostic(level=level, code=code, message=message, rule=rule, location=_location(node)))

    def build(self, rules_version: str, lo: dt.date | None, hi: dt.date | None) -> ir.IR:
        controls = sorted((self.control(c) for c in self.in_effect), key=lambda c: (c.eccn, c.id))
        self.meets_cycles(controls)
        access = tuple(self.access(a) for a in self.rs.access
                       if a.effective is None or in_window(self.at, a.effective.start, a.effective.end))
        return ir.IR(
            rules_version=rules_version, strict=self.strict, as_of=self.at, valid_from=lo, valid_through=hi,
            documents=tuple(self.document(d) for _, d in sorted(self.rs.documents.items())),
            attributes=tuple(self.attribute(a) for _, a in sorted(self.rs.attributes.items())),
            groups=tuple(ir.Group(name=n, description=g.description, members=self.group(n))
                         for n, g in sorted(self.rs.groups.items())),
            parameters=tuple(self.parameter(p) for _, p in sorted(self.rs.parameters.items())),
            controls=tuple(controls), access=access, hints=self.hints(),
            diagnostics=tuple(sorted(self.diags, key=_diag_key)),
        )

    # -- tables ------------------------------------------------------------------------------------------
    def document(self, d: A.DocumentDecl) -> ir.Document:
        return ir.Document(id=d.id, kind=d.kind, citation=d.citation, title=d.title, published=d.published,
                           url=d.url)

    def attribute(self, a: A.AttributeDecl) -> ir.Attribute:
        return ir.Attribute(name=a.name, type=a.type, unit=a.unit, kinds=tuple(sorted(a.kinds)),
                            default=None if a.default is None else self.lit(a.default))

    def group(self, name: str) -> tuple[str, ...]:
        if name not in self.members:
            self.members[name] = tuple(sorted(self.rs.group_members(name, self.at)))
        return self.members[name]

    def parameter(self, p: A.ParameterDecl) -> ir.Parameter:
        entry = self.rs.param_entry(p.name, self.at)
        value = until = status = None
        if entry is not None:
            value = self.param_number(entry)
            later = sorted(v.start for v in p.values if v.start > entry.start)
            until = later[0] - _ONE if later else None
            status = _clause_status(status_at(self.rs, status_events(self.rs, [], entry.cite), None, self.at))
            if not value.float_exact:
                self.diag("ignore", "inexact-float",
                          f"{p.name} = {value.decimal} has no exact binary64 form: compare it exactly "
                          "(integers, decimals or scaled units), never as a float", p, f"parameter {p.name}")
        uses = tuple(sorted(set(self.uses.get(p.name, ())),
                            key=lambda u: (u.rule, u.clause, u.attribute, u.comparator)))
        return ir.Parameter(name=p.name, unit=p.unit, role=p.role, description=p.description, value=value,
                            effective=entry.start if entry else None, until=until, status=status,
                            citation=self.cite(entry.cite) if entry else None, uses=uses, source=_location(p))

    def hints(self) -> tuple[ir.Hint, ...]:
        return tuple(
            ir.Hint(order=i, file_kind=h.file_kind, asset_kind=h.asset_kind, marker=h.file_kind == "marker",
                    patterns=tuple(ir.HintPattern(glob=pat, regex="^" + glob_regex(pat).pattern,
                                                  scope="path" if "/" in pat else "basename")
                                   for pat in h.patterns))
            for i, h in enumerate(self.rs.hints))

    # -- small values ------------------------------------------------------------------------------------
    def param_number(self, entry: A.ParamValue) -> ir.ExactNumber:
        assert entry.value is not None
        return ir.ExactNumber.from_decimal(entry.value.value, format_number(entry.value.value, entry.value.notation))

    def lit(self, v: A.Number | str | bool) -> ir.NumberLit | ir.StringLit | ir.BoolLit:
        if isinstance(v, A.Number):
            return ir.NumberLit(value=ir.ExactNumber.from_decimal(v.value, format_number(v.value, v.notation)))
        if isinstance(v, bool):
            return ir.BoolLit(value=v)
        return ir.StringLit(value=v)

    def cite(self, c: A.Cite | None) -> ir.Citation:
        if c is None:
            return ir.Citation(text=self.rs.citation(None))
        return ir.Citation(text=self.rs.citation(c), documents=tuple(c.docs), at=c.at, confidence=c.confidence,
                           unresolved=c.unresolved)

    def status(self, events: Sequence[A.StatusEvent], compliance: dt.date | None,
               ) -> tuple[StatusInfo, ir.Citation | None]:
        st = status_at(self.rs, events, compliance, self.at)
        ev = next((e for e in events if e.kind == st.status and e.start == st.since and e.end == st.until
                   and in_window(self.at, e.start, e.end)), None)
        return st, (self.cite(ev.cite) if ev is not None else None)

    def dest(self, d: A.DestSet) -> ir.Destinations:
        def resolve(items: Iterable[str]) -> tuple[str, ...]:
            out: set[str] = set()
            for i in items:
                out.update(self.group(i) if i in self.rs.groups else (i,))
            return tuple(sorted(out))

        return ir.Destinations(all=d.all, include=resolve(d.include), exclude=resolve(d.exclude),
                               include_refs=tuple(d.include), exclude_refs=tuple(d.exclude), text=fmt_dest(d))

    # -- conditions --------------------------------------------------------------------------------------
    def expr(self, e: A.Expr, rule: str, clause: str, node: A.Node) -> ir.Expr:
        def sub(x: A.Expr) -> ir.Expr:
            return self.expr(x, rule, clause, node)

        if isinstance(e, A.Compare):
            left, right = self.operand(e.left, rule, clause, node), self.operand(e.right, rule, clause, node)
            self.note_use(left, right, e.op, rule, clause)
            return ir.Compare(op=e.op, left=left, right=right)
        if isinstance(e, A.InSet):
            return ir.InSet(operand=self.operand(e.left, rule, clause, node),
                            values=tuple(self.lit(v.value) for v in e.values))
        if isinstance(e, A.InGroup):
            if e.group not in self.rs.groups:
                self.diag("warn", "not-a-group", f"'{e.group}' is not a group: it matches only itself", node, rule)
            members = self.group(e.group) if e.group in self.rs.groups else (e.group,)
            return ir.InGroup(operand=self.operand(e.left, rule, clause, node), group=e.group, members=members)
        if isinstance(e, A.Meets):
            ids = tuple(self.ids[id(c)] for c in self.rs.controls_for(e.eccn) if control_in_effect(c, self.at))
            if not ids:
                self.diag("ignore", "meets-nothing", f"'meets {e.eccn}': no such control in effect (false)", node, rule)
            return ir.Meets(eccn=e.eccn, controls=ids)
        if isinstance(e, A.Truth):
            return ir.Truth(operand=self.operand(e.operand, rule, clause, node))
        if isinstance(e, A.Not):
            return ir.Not(item=sub(e.item))
        if isinstance(e, A.And):
            return ir.And(items=tuple(sub(x) for x in e.items))
        if isinstance(e, A.Or):
            return ir.Or(items=tuple(sub(x) for x in e.items))
        raise TypeError(type(e))  # pragma: no cover

    def operand(self, o: A.Ref | A.Lit, rule: str, clause: str, node: A.Node) -> ir.Operand:
        if isinstance(o, A.Lit):
            return self.lit(o.value)
        name = o.name
        if name.startswith("subject."):
            if rule.startswith("control "):
                self.diag("warn", "subject-in-control", f"'{name}' in a control is always unknown (classification "
                          "has no subject): the control always needs review", node, rule)
            return ir.SubjectRef(name=name.removeprefix("subject."))
        p = self.rs.parameters.get(name)
        if p is not None:
            entry = self.rs.param_entry(name, self.at)
            if entry is None:
                self.diag("warn", "parameter-without-value", f"parameter {name} has no value on these days: "
                          "comparisons with it are unknown (needs review)", node, rule)
            if p.role != "control" and rule.startswith("control ") and clause == "when":
                self.diag("warn", "non-control-threshold", f"parameter {name} has role {p.role} but is used as "
                          "a control threshold", node, rule)
            return ir.ParameterRef(name=name, role=p.role, value=self.param_number(entry) if entry else None)
        decl = self.rs.attributes.get(name)
        default = decl.default if decl is not None else None
        return ir.AttributeRef(name=name, default=None if default is None else self.lit(default))

    def note_use(self, left: ir.Operand, right: ir.Operand, op: str, rule: str, clause: str) -> None:
        if isinstance(left, ir.AttributeRef) and isinstance(right, ir.ParameterRef):
            attr, param, cmp = left.name, right.name, cast(ir.CompareOp, op)
        elif isinstance(left, ir.ParameterRef) and isinstance(right, ir.AttributeRef):
            attr, param, cmp = right.name, left.name, _FLIP[op]
        else:
            return
        self.uses.setdefault(param, []).append(ir.ParameterUse(
            rule=rule, clause=cast(ir.UseClause, clause), attribute=attr, comparator=cmp))

    # -- controls and access rules -----------------------------------------------------------------------
    def control(self, c: A.ControlDecl) -> ir.Control:
        rule = f"control {c.eccn}"
        eff = c.effective
        st, st_cite = self.status(status_events(self.rs, c.statuses, eff.cite if eff else None),
                                  c.compliance.start if c.compliance else None)
        licenses = []
        for lr in c.licenses:
            if not in_window(self.at, lr.start, lr.end):
                continue
            lst = _clause_status(status_at(self.rs, status_events(self.rs, [], lr.cite), None, self.at))
            licenses.append(ir.LicenseRequirement(
                destinations=self.dest(lr.dest), start=lr.start, end=lr.end, status=lst,
                binding=lst in self.binding, citation=self.cite(lr.cite),
                text="license required to " + fmt_dest(lr.dest) + (f" from {lr.start}" if lr.start else "")))
        policies = tuple(
            ir.LicensingPolicy(name=p.name, destinations=self.dest(p.dest), start=p.start, end=p.end,
                               condition=None if p.when is None else self.expr(p.when, rule, "policy", p),
                               citation=self.cite(p.cite))
            for p in c.policies if in_window(self.at, p.start, p.end))
        return ir.Control(
            id=self.ids[id(c)], eccn=c.eccn, title=c.title, kinds=tuple(sorted(set(c.applies_to))),
            condition=None if c.when is None else self.expr(c.when, rule, "when", c),
            condition_citation=None if c.when_cite is None else self.cite(c.when_cite),
            exclusions=tuple(ir.Exclusion(condition=self.expr(x.when, rule, "except", x), citation=self.cite(x.cite))
                             for x in c.exclusions),
            reasons=tuple(c.reasons), effective=eff.start if eff else None, effective_through=eff.end if eff else None,
            compliance=c.compliance.start if c.compliance else None,
            status=st.status, status_note=st.note, status_citation=st_cite, binding=st.status in self.binding,
            citation=self.cite(eff.cite if eff else None), licenses=tuple(licenses), policies=policies,
            exceptions=self.exceptions(c), source=_location(c))

    def exceptions(self, c: A.ControlDecl) -> tuple[ir.ExceptionRef, ...]:
        out: list[ir.ExceptionRef] = []
        for ec in c.exceptions:
            if not in_window(self.at, ec.start, ec.end):
                continue
            for code in ec.codes:
                x = self.rs.exceptions.get(code)
                status: ir.ExceptionStatus
                if x is None:
                    status = "undefined"
                    self.diag("warn", "undefined-exception", f"license exception {code} is not declared", ec,
                              f"control {c.eccn}")
                elif x.effective is not None and not in_window(self.at, x.effective.start, x.effective.end):
                    status = "not_in_effect"
                else:
                    events = status_events(self.rs, x.statuses, x.effective.cite if x.effective else None)
                    status = _clause_status(status_at(self.rs, events, None, self.at))
                out.append(ir.ExceptionRef(
                    code=code, title=x.title if x else None, section=x.section if x else None, status=status,
                    available=status in ("in_force", "not_enforced"),
                    label=code if status == "in_force" else f"{code} ({status.replace('_', ' ')})",
                    citation=self.cite(ec.cite)))
        return tuple(out)

    def access(self, a: A.AccessDecl) -> ir.AccessRule:
        rule = f"access {a.name}"
        eff = a.effective
        return ir.AccessRule(
            name=a.name, title=a.title, on=tuple(a.on), actions=tuple(sorted(set(a.actions))), effect=a.effect,
            when=None if a.when is None else self.expr(a.when, rule, "when", a),
            unless=None if a.unless is None else self.expr(a.unless, rule, "unless", a),
            start=eff.start if eff else None, end=eff.end if eff else None,
            citation=self.cite(eff.cite if eff else None), source=_location(a))

    def meets_cycles(self, controls: Sequence[ir.Control]) -> None:
        """``meets`` cycles evaluate to unknown after 16 levels in the reference: no target can say that."""
        refs = {c.id: _meets_refs(c) for c in controls}

        def reaches(start: str, goal: str) -> bool:
            seen: set[str] = set()
            todo = list(refs.get(start, ()))
            while todo:
                x = todo.pop()
                if x == goal:
                    return True
                if x not in seen:
                    seen.add(x)
                    todo.extend(refs.get(x, ()))
            return False

        by_id = {id_: c for c in self.in_effect for id_ in [self.ids[id(c)]]}
        for cid in sorted(refs):
            if reaches(cid, cid):
                self.diag("error", "meets-cycle", f"{cid} reaches itself through 'meets'", by_id[cid])


def _meets_refs(c: ir.Control) -> set[str]:
    out: set[str] = set()

    def walk(e: ir.Expr | None) -> None:
        if isinstance(e, ir.Meets):
            out.update(e.controls)
        elif isinstance(e, ir.Not):
            walk(e.item)
        elif isinstance(e, ir.And | ir.Or):
            for x in e.items:
                walk(x)

    walk(c.condition)
    for x in c.exclusions:
        walk(x.condition)
    return out


_Window = tuple[dt.date | None, dt.date | None]


def _static_uses(rs: Ruleset) -> dict[str, list[tuple[ir.ParameterUse, _Window]]]:
    """Where each parameter is compared with an attribute, with the window of the control or access rule
    that compares it, read from the AST without lowering anything (what :meth:`_Lowering.note_use` records
    for the rules in effect)."""
    found: dict[str, list[tuple[ir.ParameterUse, _Window]]] = {}

    def scan(e: A.Expr | None, rule: str, clause: str, window: _Window) -> None:
        for node in A.iter_conditions(e):
            if not isinstance(node, A.Compare):
                continue
            left, right, op = node.left, node.right, node.op
            if isinstance(left, A.Ref) and left.name in rs.parameters and isinstance(right, A.Ref):
                left, right, op = right, left, _FLIP[op]
            if (isinstance(left, A.Ref) and isinstance(right, A.Ref) and right.name in rs.parameters
                    and left.name not in rs.parameters and not left.name.startswith("subject.")):
                found.setdefault(right.name, []).append((ir.ParameterUse(
                    rule=rule, clause=cast(ir.UseClause, clause), attribute=left.name, comparator=op), window))

    for c in rs.controls:
        w: _Window = (c.effective.start, c.effective.end) if c.effective else (None, None)
        rule = f"control {c.eccn}"
        scan(c.when, rule, "when", w)
        for x in c.exclusions:
            scan(x.when, rule, "except", w)
        for pol in c.policies:
            scan(pol.when, rule, "policy", w)
    for a in rs.access:
        w = (a.effective.start, a.effective.end) if a.effective else (None, None)
        scan(a.when, f"access {a.name}", "when", w)
        scan(a.unless, f"access {a.name}", "unless", w)
    return found


def parameter_history_ir(rs: Ruleset, *, at: dt.date, strict: bool = False) -> tuple[ir.ParameterPeriod, ...]:
    """Every dated value of every parameter, straight from the rules: cheap (no slice is built), for the
    one-date compile mode, where building every slice of a large ruleset would cost (change dates x size).
    A value's period is split where the status of the documents it cites changes; its ``uses`` are those
    in effect on the period's first day."""
    low = _Lowering(rs, at, strict)
    static = _static_uses(rs)
    out: list[ir.ParameterPeriod] = []
    for name, p in sorted(rs.parameters.items()):
        values = sorted(p.values, key=lambda v: v.start)
        for i, v in enumerate(values):
            if v.value is None:
                continue
            end = values[i + 1].start - _ONE if i + 1 < len(values) else None
            events = status_events(rs, [], v.cite)
            cuts = sorted({d for e in events for d in (e.start, e.end + _ONE if e.end else None)
                           if d is not None and v.start < d and (end is None or d <= end)})
            starts = [v.start, *cuts]
            for j, s0 in enumerate(starts):
                through = starts[j + 1] - _ONE if j + 1 < len(starts) else end
                status = _clause_status(status_at(rs, events, None, s0))
                uses = sorted({u for u, (lo, hi) in static.get(name, ()) if in_window(s0, lo, hi)},
                              key=lambda u: (u.rule, u.clause, u.attribute, u.comparator))
                out.append(ir.ParameterPeriod(name=name, unit=p.unit, role=p.role, value=low.param_number(v),
                                              valid_from=s0, valid_through=through, status=status,
                                              citation=low.cite(v.cite), uses=tuple(uses)))
    return tuple(out)
