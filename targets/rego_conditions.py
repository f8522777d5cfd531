"""Three-valued IR conditions -> Rego rules (the part of the Rego target that is generated code).

Rego cannot recurse, so the IR's condition trees cannot be interpreted at run time by a generic Rego
function; each tree becomes rules instead. Every node is one rule whose value is ``{"v": V, "m": M}``:
``V`` is ``true``/``false``/``null`` (Kleene: ``null`` = unknown) and ``M`` the set of attributes found
missing on the way. ``and``/``or`` are ``else`` chains that stop at the first deciding item, so ``M`` holds
exactly what the reference evaluator (``compiler/evaluate.py``) reports missing. A control's *holds* rule
adds its exclusions (``"x"``: index of the exclusion that took it away).

Thresholds and group members are not inlined: leaves read them from the selected slice of ``data.json``
(``param("name")``, ``...slices[slice_index].groups["D:5"]``), so one rule serves every slice whose tree has
the same shape, and the data stays the single table of values. Rules are deduplicated by their generated
text; a control whose tree changes between slices gets a second rule (``h_3A090_a__2``). Every string from
the rules goes through :func:`targets.escape.rego_str`; rule names are ``[A-Za-z0-9_]`` only.

What cannot be expressed faithfully becomes a :class:`~compiler.ir.Diagnostic`: ``meets`` cycles (Rego
forbids recursive rules; the reference gives up after 16 levels) are ``error``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from compiler import ir

from .base import TargetError
from .escape import comment, rego_str

Ctx = Literal["a", "s"]  # a: asset only (classification, policies); s: asset and subject (access rules)
_UNSAFE = re.compile(r"[^A-Za-z0-9]+")
_SUBJECT_KNOWN = {"citizenships": "subj_citizenships", "us_person": "subj_us_person",
                  "permanent_resident": "subj_permanent_resident", "foreign_person": "subj_foreign_person"}
_MAX_MEETS_DEPTH = 16
# Stands for the rule's own name until it is known. A NUL never survives rego_str/comment, so no text from
# the rules can contain it.
_SELF = "\x00"


def safe(text: str) -> str:
    """An identifier fragment: runs of other characters become one ``_`` (so it never contains ``__``)."""
    return _UNSAFE.sub("_", text).strip("_")[:40] or "x"


@dataclass
class _Rule:
    name: str
    about: str
    body: list[str]  # the node rules, with _SELF standing for the rule's name


@dataclass
class Conditions:
    """Collects the generated rules of all slices; ``holds(...)``/``expr(...)`` return rule names."""

    rules: list[_Rule] = field(default_factory=list)
    diagnostics: list[ir.Diagnostic] = field(default_factory=list)
    holds_names: list[str] = field(default_factory=list)  # dispatched via holds_of[...]
    cond_names: list[str] = field(default_factory=list)  # dispatched via cond_of[...]
    _by_text: dict[tuple[str, str], str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)
    _memo: dict[tuple[int, str, Ctx], str] = field(default_factory=dict)

    # -- public --------------------------------------------------------------------------------------
    def holds(self, sl: ir.IR, index: int, c: ir.Control, ctx: Ctx = "a", stack: tuple[str, ...] = ()) -> str:
        """The rule computing Kleene ``condition and not exclusion_1 and ...`` of control ``c``."""
        if ctx == "s" and not self._needs_subject(sl, c, ()):
            ctx = "a"
        key = (index, c.id, ctx)
        if key in self._memo:
            return self._memo[key]
        b = _Body(self, sl, index, ctx, (*stack, c.id), f"control {c.id}", c.source)
        base = b.node(c.condition) if c.condition is not None else None
        excl = [b.node(x.condition) for x in c.exclusions]
        b.holds_chain(base, excl)
        name = self._add("h", c.id + ("" if ctx == "a" else " subject"), f"control {c.id}", b.lines)
        self._memo[key] = name
        if ctx == "a" and name not in self.holds_names:
            self.holds_names.append(name)
        return name

    def expr(self, sl: ir.IR, index: int, e: ir.Expr, ctx: Ctx, owner: str, about: str,
             source: str | None) -> str:
        """The rule computing a stand-alone condition (an access rule's when/unless, a policy's when)."""
        b = _Body(self, sl, index, ctx, (), about, source)
        top = b.node(e)
        b.lines.append(f"{_SELF} := {top}")
        name = self._add("k", owner, about, b.lines)
        if name not in self.cond_names:
            self.cond_names.append(name)
        return name

    # -- internals -----------------------------------------------------------------------------------
    def _add(self, prefix: str, owner: str, about: str, lines: list[str]) -> str:
        base = f"{prefix}_{safe(owner)}"
        text = "\n".join(lines)
        found = self._by_text.get((base, text))
        if found is not None:
            return found
        n = self._counts.get(base, 0) + 1
        self._counts[base] = n
        name = f"{base}__{n}"
        self._by_text[(base, text)] = name
        self.rules.append(_Rule(name, about, lines))
        return name

    def _needs_subject(self, sl: ir.IR, c: ir.Control, stack: tuple[str, ...]) -> bool:
        if c.id in stack:
            return False
        found = False

        def walk(e: ir.Expr | None) -> None:
            nonlocal found
            if e is None or found:
                return
            if isinstance(e, ir.Compare):
                found = isinstance(e.left, ir.SubjectRef) or isinstance(e.right, ir.SubjectRef)
            elif isinstance(e, ir.InSet | ir.InGroup | ir.Truth):
                found = isinstance(e.operand, ir.SubjectRef)
            elif isinstance(e, ir.Not):
                walk(e.item)
            elif isinstance(e, ir.And | ir.Or):
                for x in e.items:
                    walk(x)
            elif isinstance(e, ir.Meets):
                found = any(self._needs_subject(sl, sl.control(cid), (*stack, c.id)) for cid in e.controls)

        walk(c.condition)
        for x in c.exclusions:
            walk(x.condition)
        return found

    def render(self) -> list[dict[str, str]]:
        """The rules for the template: name, a one-line comment, and the Rego text."""
        return [{"name": r.name, "about": comment(r.about),
                 "text": "\n".join(line.replace(_SELF, r.name) for line in r.body)} for r in self.rules]


class _Body:
    """The node rules of one tree (``NAME__1``, ``NAME__2``, ...); NAME is known once the text is."""

    def __init__(self, owner: Conditions, sl: ir.IR, index: int, ctx: Ctx, stack: tuple[str, ...], about: str,
                 source: str | None) -> None:
        self.owner, self.sl, self.index, self.ctx, self.stack = owner, sl, index, ctx, stack
        self.about, self.source = about, source
        self.lines: list[str] = []
        self.k = 0
        self.groups = {g.name: g.members for g in sl.groups}
        self.params = {p.name: p for p in sl.parameters}

    def _new(self, rhs: str, note: str = "") -> str:
        self.k += 1
        ref = f"{_SELF}__{self.k}"
        if note:
            self.lines.append(f"# {note}")
        self.lines.append(f"{ref} := {rhs}")
        return ref

    # -- operands ------------------------------------------------------------------------------------
    def operand(self, o: ir.Operand) -> str:
        if isinstance(o, ir.NumberLit | ir.StringLit | ir.BoolLit):
            return '{"k": "v", "x": ' + literal(o) + "}"
        if isinstance(o, ir.ParameterRef):
            p = self.params.get(o.name)
            if p is None or p.value != o.value:
                raise TargetError(f"{self.about}: parameter {o.name} differs from the slice's parameter table")
            return f"param({rego_str(o.name)})"
        if isinstance(o, ir.SubjectRef):
            if self.ctx == "s" and o.name in _SUBJECT_KNOWN:
                return _SUBJECT_KNOWN[o.name]
            return '{"k": "u", "m": {' + rego_str("subject." + o.name) + "}}"
        if o.default is not None:
            return f"attr_or({rego_str(o.name)}, {literal(o.default)})"
        return f"attr({rego_str(o.name)})"

    # -- nodes ---------------------------------------------------------------------------------------
    def node(self, e: ir.Expr) -> str:
        if isinstance(e, ir.Compare):
            note = self._exactness(e.left, e.right)
            generic = f"cmp3({rego_str(e.op)}, {self.operand(e.left)}, {self.operand(e.right)})"
            fast = self._numeric(e)
            return self._new(generic if fast is None else fast + generic, note)
        if isinstance(e, ir.InSet):
            values = "[" + ", ".join(literal(v) for v in e.values) + "]"
            return self._new(f"inset3({self.operand(e.operand)}, {values})")
        if isinstance(e, ir.InGroup):
            if self.groups.get(e.group) == e.members:
                members = f"data.regwatch.exportctl.rules.slices[slice_index].groups[{rego_str(e.group)}]"
            else:  # not a group (stands for itself)
                members = "[" + ", ".join(rego_str(m) for m in e.members) + "]"
            return self._new(f"ingroup3({self.operand(e.operand)}, {members})")
        if isinstance(e, ir.Truth):
            o = e.operand
            if isinstance(o, ir.AttributeRef) and o.default is None:  # fast path: a boolean attribute
                name = f"attributes[{rego_str(o.name)}]"
                return self._new(f'{{"v": x, "m": set()}} if {{\n\tx := {name}\n\tis_boolean(x)\n}} else := '
                                 f"truth3({self.operand(o)})")
            return self._new(f"truth3({self.operand(o)})")
        if isinstance(e, ir.Not):
            item = self.node(e.item)
            return self._new(f'{{"v": knot({item}.v), "m": {item}.m}}')
        if isinstance(e, ir.And | ir.Or):
            return self.chain([self.node(x) for x in e.items], stop=isinstance(e, ir.Or))
        if isinstance(e, ir.Meets):
            return self.chain([self.meets_target(cid) for cid in e.controls], stop=True)
        raise TypeError(type(e))  # pragma: no cover

    def _numeric(self, e: ir.Compare) -> str | None:
        """The fast path of ``attribute OP number`` (either side): when both values are numbers, compare them
        right here; anything else (missing, mistyped, no parameter value) falls through to ``cmp3``. It
        spares OPA and regorus four function calls on the common path; the meaning is the same."""
        sides = []
        for o in (e.left, e.right):
            if isinstance(o, ir.AttributeRef):
                sides.append(("a", f"attributes[{rego_str(o.name)}]"))
            elif isinstance(o, ir.ParameterRef):
                sides.append(("n", "data.regwatch.exportctl.rules.slices[slice_index].parameters"
                                   f"[{rego_str(o.name)}].value"))
            elif isinstance(o, ir.NumberLit):
                sides.append(("n", literal(o)))
        if sorted(k for k, _ in sides) != ["a", "n"]:
            return None
        (_, left), (_, right) = sides
        op = "==" if e.op == "==" else e.op
        return (f'{{"v": true, "m": set()}} if {{\n\tl := {left}\n\tr := {right}\n\tis_number(l)\n\t'
                f'is_number(r)\n\tl {op} r\n}} else := {{"v": false, "m": set()}} if {{\n\t'
                f"is_number({left})\n\tis_number({right})\n}} else := ")

    def meets_target(self, cid: str) -> str:
        if cid in self.stack or len(self.stack) > _MAX_MEETS_DEPTH:
            self.owner.diagnostics.append(ir.Diagnostic(
                level="error", code="rego-meets-cycle", rule=self.about, location=self.source,
                message=f"'meets' reaches {cid} again ({' -> '.join((*self.stack, cid))}): Rego rules cannot "
                        "recurse, so this is compiled as unknown"))
            return self._new('{"v": null, "m": set()}')
        return self.owner.holds(self.sl, self.index, self.sl.control(cid), self.ctx, self.stack)

    def chain(self, items: list[str], *, stop: bool) -> str:
        """Kleene and (stop=False) / or (stop=True), deciding at the first item equal to ``stop``."""
        s = "true" if stop else "false"
        if not items:
            return self._new(f'{{"v": {"false" if stop else "true"}, "m": set()}}')
        parts = []
        for i, item in enumerate(items):
            m = " | ".join(f"{x}.m" for x in items[: i + 1])
            parts.append(f'{{"v": {s}, "m": {m}}} if {{\n\t{item}.v == {s}\n}}')
        m_all = " | ".join(f"{x}.m" for x in items)
        vs = ", ".join(f"{x}.v" for x in items)
        rest = "k_or_rest" if stop else "k_and_rest"
        parts.append(f'{{"v": {rest}([{vs}]), "m": {m_all}}}')
        return self._new(" else := ".join(parts))

    def holds_chain(self, base: str | None, excl: list[str]) -> None:
        parts = [] if base is None else [f'{{"v": false, "m": {base}.m, "x": null}} if {{\n\t{base}.v == false\n}}']
        ms = [] if base is None else [f"{base}.m"]
        for i, x in enumerate(excl):
            ms.append(f"{x}.m")
            parts.append(f'{{"v": false, "m": {" | ".join(ms)}, "x": {i}}} if {{\n\t{x}.v == true\n}}')
        vs = ", ".join(["true" if base is None else f"{base}.v"] + [f"knot({x}.v)" for x in excl])
        m_all = " | ".join(ms) if ms else "set()"
        parts.append(f'{{"v": k_and_rest([{vs}]), "m": {m_all}, "x": null}}')
        self.lines.append(f"{_SELF} := " + " else := ".join(parts))

    def _exactness(self, *ops: ir.Operand) -> str:
        """A comment on comparisons whose number has no exact binary64 form: OPA compares it exactly,
        regorus (f64) misjudges values next to it."""
        for o in ops:
            v = o.value if isinstance(o, ir.ParameterRef | ir.NumberLit) else None
            if v is not None and not v.float_exact:
                return "no exact double: OPA compares exactly; regorus (f64) is inexact next to the threshold"
        return ""


def literal(v: ir.NumberLit | ir.StringLit | ir.BoolLit) -> str:
    """A Rego literal: numbers as their exact decimal text, strings JSON-escaped (ASCII only)."""
    if isinstance(v, ir.NumberLit):
        return v.value.decimal
    if isinstance(v, ir.BoolLit):
        return "true" if v.value else "false"
    return rego_str(v.value)
