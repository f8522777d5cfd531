"""The generated ``policy_test.rego``: test rules around every change date, with expected results computed
at compile time by the reference evaluator of the IR (:func:`compiler.evaluate.ir_decide`).

Why generated: a platform team that edits or re-hosts the bundle can run ``opa test`` and see at once whether
the policy still means what the rules say, on the days where that is most likely to break: the day before,
of and after every change (timeline mode), or the edges of the bundle's window (as-of mode, where a day
outside must fail closed). Probe assets are built from each control's condition so that it holds (numbers
at the threshold itself), and a second probe lacks every attribute (needs review). Tests whose numbers sit
within one binary64 step of a threshold without an exact double are named ``*_exact``: OPA (exact) passes
them, an f64 engine such as regorus is expected to fail some.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from compiler import ir
from compiler.evaluate import ir_decide

from .base import CompileUnit
from .opa_bundle import Num, dumps
from .rego_conditions import safe
from .render import render

ONE = dt.timedelta(days=1)
PER_CHANGE = 2  # controls probed per change date
# Threshold probes per slice: every threshold of a ruleset the size of the real one (the default has ~40);
# for a generated 5,000-control ruleset an evenly spaced sample, so the test file and its generation stay
# linear in the rules (each probe is decided by the reference evaluator).
MAX_THRESHOLD_PROBES = 200
_COUNTRIES = ("CN", "RU", "IR", "IN", "FR", "BR", "GB")


@dataclass(frozen=True)
class Asset:
    id: str
    kind: str
    attributes: Mapping[str, Decimal | bool | str]


@dataclass(frozen=True)
class License:
    eccn: str
    countries: Sequence[str] = ()
    valid_from: dt.date | None = None
    valid_through: dt.date | None = None


@dataclass(frozen=True)
class Subject:
    id: str
    citizenships: Sequence[str] = ()
    permanent_resident: bool = False
    us_person: bool = False
    licenses: Sequence[License] = ()


# ---------------------------------------------------------------------------------------------------------
# Numbers


def unit_of(v: Decimal) -> Decimal:
    """One unit of the last digit: 1 for 4800 and 10^26, 0.01 for 5.92."""
    if v == v.to_integral_value():
        return Decimal(1)
    exp = v.normalize().as_tuple().exponent
    assert isinstance(exp, int)
    return Decimal(1).scaleb(exp)


def thresholds(sl: ir.IR) -> set[Decimal]:
    """Every number a condition of the slice compares with (parameter values and literals)."""
    out = {Decimal(p.value.decimal) for p in sl.parameters if p.value is not None}

    def walk(e: ir.Expr | None) -> None:
        if isinstance(e, ir.Compare):
            out.update(Decimal(o.value.decimal) for o in (e.left, e.right) if isinstance(o, ir.NumberLit))
        elif isinstance(e, ir.InSet):
            out.update(Decimal(v.value.decimal) for v in e.values if isinstance(v, ir.NumberLit))
        elif isinstance(e, ir.Not):
            walk(e.item)
        elif isinstance(e, ir.And | ir.Or):
            for x in e.items:
                walk(x)

    for c in sl.controls:
        walk(c.condition)
        for x in c.exclusions:
            walk(x.condition)
        for p in c.policies:
            walk(p.condition)
    for a in sl.access:
        walk(a.when)
        walk(a.unless)
    return out


def f64_safe(values: Iterable[Any], limits: Iterable[Decimal]) -> bool:
    """True when binary64 orders every number of ``values`` against every limit as exact arithmetic does
    (so an f64 engine such as regorus must agree with the exact one)."""
    nums = [Decimal(str(v)) if not isinstance(v, Decimal) else v for v in values
            if isinstance(v, Decimal | int) and not isinstance(v, bool)]
    lims = list(limits)
    for n in nums:
        for t in lims:
            exact = (n > t) - (n < t)
            fn, ft = float(n), float(t)
            if exact != (fn > ft) - (fn < ft):
                return False
    return True


# ---------------------------------------------------------------------------------------------------------
# Probes


def near(op: str, v: Decimal, want: bool) -> Decimal:
    """A value for which ``value OP v`` is ``want``, one unit of v's last digit away from v at most."""
    u = unit_of(v)
    hit = {">=": v, ">": v + u, "<=": v, "<": v - u, "==": v, "!=": v + u}[op]
    miss = {">=": v - u, ">": v, "<=": v + u, "<": v, "==": v + u, "!=": v}[op]
    return hit if want else miss


def comparisons(e: ir.Expr | None) -> Iterable[tuple[str, str, Decimal]]:
    """``(attribute, op, threshold)`` of every comparison of an attribute with a number."""
    if isinstance(e, ir.Compare):
        flip = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}
        for a, b, op in ((e.left, e.right, e.op), (e.right, e.left, flip[e.op])):
            if isinstance(a, ir.AttributeRef) and isinstance(b, ir.ParameterRef | ir.NumberLit) and \
                    b.value is not None:
                yield a.name, op, Decimal(b.value.decimal)
    elif isinstance(e, ir.Not):
        yield from comparisons(e.item)
    elif isinstance(e, ir.And | ir.Or):
        for x in e.items:
            yield from comparisons(x)


def probe_attributes(sl: ir.IR, c: ir.Control) -> dict[str, Decimal | bool | str]:
    """Attribute values that make ``c``'s condition hold where a simple choice does (numbers at or just past
    the threshold, booleans and strings as written); the expected result is computed, not assumed."""
    attrs: dict[str, Decimal | bool | str] = {}

    def walk(e: ir.Expr | None, want: bool, depth: int) -> None:
        if e is None or depth > 8:
            return
        if isinstance(e, ir.Compare):
            left, right, op = e.left, e.right, str(e.op)
            if not isinstance(left, ir.AttributeRef):
                flip = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}
                left, right, op = right, left, flip[op]
            if not isinstance(left, ir.AttributeRef) or left.name in attrs:
                return
            if isinstance(right, ir.ParameterRef | ir.NumberLit) and right.value is not None:
                attrs[left.name] = near(op, Decimal(right.value.decimal), want)
            elif isinstance(right, ir.StringLit | ir.BoolLit):
                same = want == (op == "==")
                if isinstance(right, ir.BoolLit):
                    attrs[left.name] = right.value if same else not right.value
                else:
                    attrs[left.name] = right.value if same else right.value + "-other"
        elif isinstance(e, ir.Truth) and isinstance(e.operand, ir.AttributeRef):
            attrs.setdefault(e.operand.name, want)
        elif isinstance(e, ir.InSet) and isinstance(e.operand, ir.AttributeRef) and e.values:
            v = e.values[0]
            attrs.setdefault(e.operand.name, (Decimal(v.value.decimal) if isinstance(v, ir.NumberLit) else v.value)
                             if want else "none-of-these")
        elif isinstance(e, ir.Not):
            walk(e.item, not want, depth)
        elif isinstance(e, ir.And | ir.Or):
            for x in e.items:
                walk(x, want, depth)
        elif isinstance(e, ir.Meets) and e.controls:
            walk(sl.control(e.controls[0]).condition, want, depth + 1)

    walk(c.condition, True, 0)
    for x in c.exclusions:
        walk(x.condition, False, 0)
    return attrs


def country_for(c: ir.Control) -> str:
    """A country for which ``c`` requires a license (CN when it does), else CN."""
    for lr in c.licenses:
        cands = list(_COUNTRIES) + sorted(lr.destinations.include)
        for k in cands:
            if (lr.destinations.all or k in lr.destinations.include) and k not in lr.destinations.exclude:
                return k
    return "CN"


# ---------------------------------------------------------------------------------------------------------
# Cases


@dataclass
class _Shared:
    names: dict[str, str] = field(default_factory=dict)  # JSON text -> rule name
    rules: list[dict[str, str]] = field(default_factory=list)

    def ref(self, prefix: str, value: Any) -> str:
        text = dumps(value, indent=None)
        if text not in self.names:
            name = f"{prefix}_{sum(1 for r in self.rules if r['name'].startswith(prefix + '_')) + 1}"
            self.names[text] = name
            self.rules.append({"name": name, "value": text})
        return self.names[text]


def _json_value(v: Decimal | bool | str) -> Any:
    return Num(format(v, "f")) if isinstance(v, Decimal) else v


def _subject_json(s: Subject) -> dict[str, Any]:
    return {"id": s.id, "citizenships": list(s.citizenships), "us_person": s.us_person,
            "permanent_resident": s.permanent_resident, "licenses": []}


class _Cases:
    def __init__(self, unit: CompileUnit) -> None:
        self.unit = unit
        self.shared = _Shared()
        self.tests: list[dict[str, Any]] = []
        self.seen: set[str] = set()
        self.exact_seen: set[str] = set()
        self._limits: dict[int, set[Decimal]] = {}

    def limits(self, sl: ir.IR) -> set[Decimal]:
        """The numbers the slice's conditions compare with, computed once per slice."""
        if id(sl) not in self._limits:
            self._limits[id(sl)] = thresholds(sl)
        return self._limits[id(sl)]

    def slice_at(self, day: dt.date) -> ir.IR | None:
        for s in self.unit.slices:
            if s.covers(day):
                return s
        return None

    def add(self, day: dt.date, when: str, c: ir.Control, asset: Asset, subject: Subject, action: str,
            destination: str | None, about: str, what: str | None = None) -> None:
        sl = self.slice_at(day)
        inp: dict[str, Any] = {"date": day.isoformat(), "action": action,
                               "subject": self.shared.ref("subject", _subject_json(subject)),
                               "object": self.shared.ref("object", {"id": asset.id, "kind": asset.kind, "attributes": {
                                   k: _json_value(v) for k, v in asset.attributes.items()}})}
        if destination:
            inp["destination"] = destination
        exact = sl is not None and not f64_safe(asset.attributes.values(), self.limits(sl))
        base = f"test_{day:%Y_%m_%d}_{when}_{safe(c.id)}_{what or action}" + (
            "_missing" if not asset.attributes else "") + ("_exact" if exact else "")
        name, n = base, 1
        while name in self.seen:
            n += 1
            name = f"{base}_{n}"
        self.seen.add(name)
        if sl is None:
            outcome, label, review, codes = "deny", None, False, ["invalid_input"]
        else:
            d = ir_decide(sl, subject, action, asset, destination, at=day)
            outcome, label, review = d.outcome, d.classification.label, d.classification.needs_review
            codes = [r.code for r in d.reasons]
        text = "{" + ", ".join(f'"{k}": {v if k in ("subject", "object") else dumps(v, indent=None)}'
                               for k, v in inp.items()) + "}"
        self.tests.append({"name": name, "about": about, "input": text, "outcome": outcome, "label": label,
                           "needs_review": "true" if review else "false", "codes": dumps(codes, indent=None)})

    def probe(self, days: Sequence[tuple[dt.date, str]], c: ir.Control, home: ir.IR, why: str, missing: bool,
              tag: str = "") -> None:
        country = country_for(c)
        asset = Asset(f"probe-{c.id}", c.kinds[0] if c.kinds else "item", probe_attributes(home, c))
        foreign = Subject(f"national-{country}", [country])
        us = Subject("us-person", ["US"], us_person=True)
        for day, when in days:
            self.add(day, when, c, asset, foreign, "read", None, f"{why}: a {country} national reads {asset.kind}",
                     "read" + tag)
            self.add(day, when, c, asset, us, "export", country, f"{why}: export of {asset.kind} to {country}",
                     "export" + tag)
            if missing:
                self.add(day, when, c, Asset(f"unknown-{c.id}", asset.kind, {}), foreign, "read", None,
                         f"{why}: {asset.kind} without attributes (needs review)")

    def thresholds(self, sl: ir.IR, day: dt.date) -> None:
        """Every threshold of a control's condition, probed at the value that meets it and one unit of its
        last digit short of it (10^26 and 10^26 - 1): a flipped comparator or a value read as a float fails
        here. Where binary64 cannot tell the two apart the test is named ``*_exact``."""
        probes = [(c, attr, op, v) for c in sl.controls for attr, op, v in comparisons(c.condition)]
        if len(probes) > MAX_THRESHOLD_PROBES:
            step = len(probes) / MAX_THRESHOLD_PROBES
            probes = [probes[int(i * step)] for i in range(MAX_THRESHOLD_PROBES)]
        for c, attr, op, v in probes:
            for want in (True, False):
                value = near(op, v, want)
                key = f"{c.id} {attr} {value}"
                if key in self.exact_seen:
                    continue
                self.exact_seen.add(key)
                attrs = {**probe_attributes(sl, c), attr: value}
                country = country_for(c)
                self.add(day, "threshold", c, Asset(f"threshold-{c.id}", c.kinds[0] if c.kinds else "item",
                                                    attrs), Subject(f"national-{country}", [country]), "read",
                         None, f"{c.id}: {attr} = {value}, {'meeting' if want else 'short of'} {op} {v}",
                         f"{safe(attr)}_{'meets' if want else 'short'}")


def _changed(a: ir.IR, b: ir.IR) -> list[ir.Control]:
    """Controls that differ between two neighbouring slices: those that start or end first, then those whose
    condition or status changed, then the rest (license requirements, policies, exceptions)."""
    before = {c.id: c for c in a.controls}
    after = {c.id: c for c in b.controls}

    def rank(i: str) -> int:
        if i not in before or i not in after:
            return 0
        x, y = before[i], after[i]
        if (x.condition, x.exclusions, x.status, x.binding) != (y.condition, y.exclusions, y.status, y.binding):
            return 1
        return 2 if x.model_dump(mode="json") != y.model_dump(mode="json") else 3

    ranked = sorted((rank(i), i) for i in set(before) | set(after))
    return [after.get(i) or before[i] for r, i in ranked if r < 3]


def _around_changes(cases: _Cases, tl: ir.Timeline) -> None:
    for d in tl.change_dates:
        prev, cur = tl.slice_at(d - ONE), tl.slice_at(d)
        picked = (_changed(prev, cur) or [c for c in cur.controls if c.licenses])[:PER_CHANGE]
        days = [(d - ONE, "before"), (d, "on"), (d + ONE, "after")]
        for i, c in enumerate(picked):
            # a probe built from the rules of each side: a threshold that moves is crossed at the change date
            seen: list[dict[str, Decimal | bool | str]] = []
            for home, tag in ((cur, ""), (prev, "_earlier")):
                ctl = next((x for x in home.controls if x.id == c.id), None)
                if ctl is None or probe_attributes(home, ctl) in seen:
                    continue
                seen.append(probe_attributes(home, ctl))
                why = f"{c.id} around the change of {d}" + (" (probe from the rules before it)" if tag else "")
                cases.probe(days, ctl, home, why, missing=i == 0 and len(seen) == 1, tag=tag if len(seen) > 1 else "")


def _window_edges(cases: _Cases, s: ir.IR, as_of: dt.date) -> None:
    days: list[tuple[dt.date, str]] = [(as_of, "as_of")]
    if s.valid_from is not None:
        days = [(s.valid_from - ONE, "outside"), (s.valid_from, "first"), (s.valid_from + ONE, "second"), *days]
    if s.valid_through is not None:
        days += [(s.valid_through - ONE, "next_to_last"), (s.valid_through, "last"),
                 (s.valid_through + ONE, "outside")]
    for i, c in enumerate([c for c in s.controls if c.licenses][: PER_CHANGE + 1]):
        cases.probe(sorted(set(days)), c, s, f"{c.id} at the edges of the bundle's window", missing=i == 0)


def render_tests(unit: CompileUnit, ctx: Mapping[str, Any]) -> str:
    """The text of ``policy_test.rego`` for the unit (timeline: around every change date; as of a date: at
    the edges of the window), plus threshold probes for every slice."""
    cases = _Cases(unit)
    if unit.as_of is None:
        _around_changes(cases, unit.timeline)
    else:
        _window_edges(cases, unit.slices[0], unit.as_of)
    for sl in unit.slices:
        day = unit.as_of if unit.as_of is not None else (sl.valid_from or sl.valid_through)
        if day is not None:
            cases.thresholds(sl, day)
    return render("rego", "policy_test.rego.j2", **ctx, shared=cases.shared.rules, tests=cases.tests)
