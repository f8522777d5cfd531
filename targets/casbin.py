"""Casbin: a model ``.conf`` and policy ``.csv`` files that any Casbin implementation loads, plus a generated helper.

What goes where (the design rule of TARGETS.md section 1: few ``p`` rows, big tables as role links):

* ``g``  people -> countries of citizenship (``u:bob -> c:CN``), people -> ``attr:us_person`` /
  ``attr:permanent_resident``, countries -> country groups (``c:CN -> grp:PRC``), countries -> the destination
  sets of license requirements (``c:CN -> d:PRC+Macau``) and -> the value sets of access conditions.
* ``g2`` assets -> controls, classified here with :func:`compiler.evaluate.ir_classify` from the inventory
  (``a:frontier-1 -> e:4E091``; a "needs review" match goes through ``review:4E091``), every control and
  ``ear99`` -> ``inventory`` (so an asset that is not in the inventory is never allowed).
* ``g3`` actions -> the action sets rows name (``x:read -> acts:clone+modify+read``).
* ``p``  one row per (control x action set x license requirement) and per deny rule, plus one allow row:
  tens of rows. ``eft`` is Casbin's allow/deny; ``tag`` says ``license_required`` or ``deny``.
* ``p2`` the people's licenses (ECCN, country, validity window) for the custom function ``needs_license``.

Access-rule conditions over the subject become named predicates in the matcher (``p.cond == "s1" && ...``),
compiled from Kleene logic: "true" and "false" are translated separately, so "unknown" never allows anything.
Conditions over the asset are decided per asset at compile time and linked (``g2 a:x -> f1:true``).

``--as-of``: one ``policy.csv``. ``--timeline``: one ``policies/NN-FROM.csv`` per IR slice (classification and
group members differ per slice), a shared ``model.conf``, and ``index.json`` with the date windows; the helper
``regwatch_casbin.py`` picks the file by request date. Every row also carries its window, so a request dated
outside it is never allowed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from compiler import ir
from compiler.evaluate import _Env, evaluate, ir_classify
from compiler.ir import DiagLevel, Diagnostic
from rulesdsl.semantics import AssetLike, LicenseLike, SubjectLike

from .base import Bundle, CompileUnit, TargetError
from .escape import comment, token
from .render import render

NAME = "casbin"
DESCRIPTION = "Casbin model + policy: people/countries/groups as g links, assets as g2 links, a licence function"
FORMAT = "regwatch-casbin/1"
OPEN_SINCE, OPEN_UNTIL = "0001-01-01", "9999-12-31"
_FIELD = re.compile(r"[A-Za-z0-9._:/@+%*~-]+\Z")  # what a policy field may hold (token() output and our marks)
_COMBOS = ((False, False), (False, True), (True, False), (True, True))  # (us_person, permanent_resident)


_Person = SubjectLike


class InventoryLike(Protocol):
    """``rulesdsl.inventory.Inventory`` or anything shaped like it (tests use plain dataclasses)."""

    @property
    def assets(self) -> Sequence[AssetLike]: ...
    @property
    def people(self) -> Sequence[_Person]: ...


# ---------------------------------------------------------------------------------------------------------
# Names. Every id from rules or inventories goes through token() (percent-encoding, CSV- and matcher-safe).


def _part(s: str) -> str:
    """One part of a composite node name (parts are joined by ``+``). Also escapes ``+`` and ``.``: Casbin
    rewrites ``p.``/``r.`` to ``p_``/``r_`` even inside string literals of the matcher, where these names sit."""
    return token(s).replace("+", "%2B").replace(".", "%2E")


def _join(parts: Iterable[str], limit: int = 8) -> str:
    """The name of a set of values. ``*`` never occurs in token() output, so the empty set (``*none``) and
    a digest of a long set (``*h...``) cannot be mistaken for a set of listed values."""
    items = sorted(set(parts))
    if len(items) > limit:
        return "*h" + hashlib.sha256("\n".join(items).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return "+".join(_part(p) for p in items) or "*none"


def person(pid: str) -> str:
    return "u:" + token(pid)


def country(code: str) -> str:
    return "c:" + token(code)


def asset_node(aid: str) -> str:
    return "a:" + token(aid)


def control_node(cid: str) -> str:
    return "e:" + token(cid)


def _window(x: ir.IR) -> tuple[str, str]:
    return (x.valid_from.isoformat() if x.valid_from else OPEN_SINCE,
            x.valid_through.isoformat() if x.valid_through else OPEN_UNTIL)


def _note(text: str | None, limit: int = 160) -> str:
    """Comment text: one line (escape.comment), ASCII only, never ending in a backslash (a line continuation
    in some .conf parsers)."""
    t = comment(text or "", limit)
    return "".join(ch if ord(ch) < 128 else f"<U+{ord(ch):04X}>" for ch in t).rstrip("\\")


# ---------------------------------------------------------------------------------------------------------
# Boolean formulas over the request, rendered as matcher expressions


@dataclass(frozen=True)
class F:
    op: str  # "true" | "false" | "atom" | "not" | "and" | "or"
    text: str = ""
    items: tuple[F, ...] = ()


TRUE, FALSE = F("true"), F("false")
US = F("atom", 'g("u:" + r.sub, "attr:us_person")')
PR = F("atom", 'g("u:" + r.sub, "attr:permanent_resident")')


def neg(x: F) -> F:
    """Negation in negation normal form (De Morgan), so that ``!`` only ever applies to a role check."""
    if x.op in ("true", "false"):
        return FALSE if x == TRUE else TRUE
    if x.op == "not":
        return x.items[0]
    if x.op == "atom":
        return F("not", items=(x,))
    return (disj if x.op == "and" else conj)(*(neg(i) for i in x.items))


def _combine(op: str, unit: F, zero: F, xs: Iterable[F]) -> F:
    out: list[F] = []
    for x in xs:
        for y in x.items if x.op == op else (x,):
            if y == zero:
                return zero
            if y != unit and y not in out:
                out.append(y)
    return unit if not out else out[0] if len(out) == 1 else F(op, items=tuple(out))


def conj(*xs: F) -> F:
    return _combine("and", TRUE, FALSE, xs)


def disj(*xs: F) -> F:
    return _combine("or", FALSE, TRUE, xs)


def to_matcher(x: F) -> str:
    if x.op in ("true", "false"):
        raise ValueError("constants are folded before rendering")  # pragma: no cover
    if x.op == "atom":
        return x.text
    if x.op == "not":
        return "!" + _wrap(x.items[0])
    return (" && " if x.op == "and" else " || ").join(_wrap(i) for i in x.items)


def _wrap(x: F) -> str:
    return to_matcher(x) if x.op in ("atom", "not") else "(" + to_matcher(x) + ")"


def _table(true_at: set[tuple[bool, bool]]) -> F:
    """A function of (us_person, permanent_resident) given by the combinations where it holds."""
    lit = {(0, True): US, (0, False): neg(US), (1, True): PR, (1, False): neg(PR)}
    for i in (0, 1):
        for v in (True, False):
            if true_at == {c for c in _COMBOS if c[i] == v}:
                return lit[(i, v)]
    if len(true_at) == 3:
        [gap] = set(_COMBOS) - true_at
        return disj(lit[(0, not gap[0])], lit[(1, not gap[1])])
    return disj(*(conj(lit[(0, c[0])], lit[(1, c[1])]) for c in _COMBOS if c in true_at))


@dataclass(frozen=True)
class _Subject:
    """A stand-in subject for tabulating a leaf over (us_person, permanent_resident)."""

    us_person: bool
    permanent_resident: bool
    id: str = ""
    citizenships: tuple[str, ...] = ()
    licenses: tuple[LicenseLike, ...] = ()


# ---------------------------------------------------------------------------------------------------------
# Access-rule conditions -> formulas (shared by every slice: the matcher is one for the whole timeline)


@dataclass
class _Registry:
    preds: dict[F, str] = field(default_factory=dict)
    origins: dict[str, list[str]] = field(default_factory=dict)
    facts: dict[str, int] = field(default_factory=dict)
    diags: list[Diagnostic] = field(default_factory=list)

    def pred(self, x: F, origin: str) -> str | None:
        """The ``cond`` of a row: ``*`` (always), a predicate id, or None (never: no row)."""
        if x in (TRUE, FALSE):
            return "*" if x == TRUE else None
        pid = self.preds.setdefault(x, f"s{len(self.preds) + 1}")
        if origin not in self.origins.setdefault(pid, []):
            self.origins[pid].append(origin)
        return pid

    def diag(self, level: DiagLevel, code: str, message: str, rule: ir.AccessRule) -> None:
        d = Diagnostic(level=level, code=code, message=message, rule=f"access {rule.name}", location=rule.source)
        if d not in self.diags:
            self.diags.append(d)


def _operands(e: ir.Expr) -> tuple[ir.Operand, ...]:
    if isinstance(e, ir.Compare):
        return (e.left, e.right)
    return (e.operand,) if isinstance(e, ir.InSet | ir.InGroup | ir.Truth) else ()


class _Conditions:
    """Kleene conditions of one slice's access rules as (is-true, is-false) formulas; records the links
    they need (value sets, asset facts) for that slice's policy."""

    def __init__(self, reg: _Registry, slice_: ir.IR) -> None:
        self.reg, self.rules = reg, slice_
        self.sets: dict[str, tuple[str, ...]] = {}  # node -> countries
        self.facts: dict[int, ir.Expr] = {}  # fact number -> asset-only leaf
        self.groups = {g.name: g.members for g in slice_.groups}

    def tf(self, e: ir.Expr, rule: ir.AccessRule) -> tuple[F, F]:
        if isinstance(e, ir.Not):
            t, f = self.tf(e.item, rule)
            return f, t
        if isinstance(e, ir.And | ir.Or):
            parts = [self.tf(i, rule) for i in e.items]
            if isinstance(e, ir.And):
                return conj(*(t for t, _ in parts)), disj(*(f for _, f in parts))
            return disj(*(t for t, _ in parts)), conj(*(f for _, f in parts))
        return self.leaf(e, rule)

    def leaf(self, e: ir.Expr, rule: ir.AccessRule) -> tuple[F, F]:
        ops = _operands(e)
        on_subject = any(isinstance(o, ir.SubjectRef) for o in ops)
        on_asset = isinstance(e, ir.Meets) or any(isinstance(o, ir.AttributeRef) for o in ops)
        if on_asset and on_subject:
            self.reg.diag("error", "casbin-mixed-condition", "a condition compares an asset attribute with the "
                          "subject; Casbin rows cannot express it (treated as unknown)", rule)
            return FALSE, FALSE
        if on_asset:
            n = self.reg.facts.setdefault(e.model_dump_json(), len(self.reg.facts) + 1)
            self.facts[n] = e
            return F("atom", f'g2("a:" + r.obj, "f{n}:true")'), F("atom", f'g2("a:" + r.obj, "f{n}:false")')
        if isinstance(e, ir.InGroup | ir.InSet) and isinstance(e.operand, ir.SubjectRef) \
                and e.operand.name == "citizenships":
            node = self.citizenship_node(e)
            if node is None:
                return FALSE, TRUE
            a = F("atom", f'g("u:" + r.sub, "{node}")')
            return a, neg(a)
        vals = {c: evaluate(e, _Env({}, subject=_Subject(*c))) for c in _COMBOS}
        return _table({c for c, v in vals.items() if v is True}), _table({c for c, v in vals.items() if v is False})

    def citizenship_node(self, e: ir.InGroup | ir.InSet) -> str | None:
        """``grp:NAME`` when the condition names a group of the slice as it stands, else a value-set node."""
        if isinstance(e, ir.InGroup):
            if not e.members:
                return None
            if self.groups.get(e.group) == e.members:
                return "grp:" + _part(e.group)
            members = tuple(e.members)
        else:
            members = tuple(sorted({v.value for v in e.values if isinstance(v, ir.StringLit)}))
            if not members:
                return None
        node = "in:" + _join(members)
        self.sets[node] = members
        return node

    def applies(self, r: ir.AccessRule) -> F:
        """As the reference: an ``allow`` applies when ``when`` is true; a release or deny unless it is false."""
        if r.when is None:
            return TRUE
        t, f = self.tf(r.when, r)
        return t if r.effect == "allow" else neg(f)

    def effective(self, r: ir.AccessRule) -> F:
        """The rule applies and its ``unless`` is not true (then its own effect holds)."""
        return conj(self.applies(r), neg(self.tf(r.unless, r)[0] if r.unless is not None else FALSE))


# ---------------------------------------------------------------------------------------------------------
# Policy rows of one slice


@dataclass(frozen=True)
class Row:
    tag: str  # allow | deny | license_required
    cond: str
    ctl: str
    eccn: str
    acts: str
    amode: str
    dest: str
    dmode: str
    since: str
    until: str
    eft: str
    rule: str
    cite: str

    def fields(self) -> tuple[str, ...]:
        return (self.tag, self.cond, self.ctl, self.eccn, self.acts, self.amode, self.dest, self.dmode, self.since,
                self.until, self.eft, self.rule, self.cite)


@dataclass
class _Slice:
    """Rows and links of one IR slice."""

    rules: ir.IR
    reg: _Registry
    conds: _Conditions = field(init=False)
    rows: list[Row] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)  # control id -> comment lines
    actsets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dsets: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.conds = _Conditions(self.reg, self.rules)

    def actset(self, actions: Iterable[str]) -> str:
        acts = tuple(sorted(set(actions)))
        name = "acts:" + _join(acts)
        self.actsets[name] = acts
        return name

    def dset(self, d: ir.Destinations) -> tuple[str, str, tuple[str, ...]]:
        """(node, mode, members): ``in`` = the linked countries, ``out`` = all but the linked countries."""
        excl = "~" + _join(d.exclude_refs) if d.exclude_refs else ""
        if d.all:
            name, mode, members = "d:all" + excl, "out", tuple(d.exclude)
        else:
            members = tuple(sorted(set(d.include) - set(d.exclude)))
            name, mode = "d:" + _join(d.include_refs) + excl, "in"
        if self.dsets.get(name, members) != members:  # same refs, other members: cannot happen in one slice
            name += "~" + _join(members, 0)
        self.dsets[name] = members
        return name, mode, members

    def row(self, tag: str, cond: str, c: ir.Control | None, acts: str, amode: str, dest: str, dmode: str,
            rule: str, cite: str) -> None:
        since, until = _window(self.rules)
        ctl, eccn = (control_node(c.id), token(c.eccn)) if c else ("inventory", "*")
        r = Row(tag, cond, ctl, eccn, acts, amode, dest, dmode, since, until, "allow" if tag == "allow" else "deny",
                token(rule), token(cite))
        bad = [f for f in r.fields() if not _FIELD.match(f)]
        if bad:  # pragma: no cover - token() makes this impossible; a defect must not reach a policy file
            raise TargetError(f"unsafe policy field {bad[0]!r}")
        self.rows.append(r)

    def build(self) -> None:
        self.row("allow", "*", None, "*", "*", "*", "*", "base", "not controlled, or no rule below matches")
        denies: list[tuple[ir.Control, ir.AccessRule, str]] = []
        lrs: list[tuple[ir.Control, str, str, str]] = []
        for c in self.rules.controls:
            self.notes[c.id] = self.describe(c)
            if not c.binding:
                continue
            rules = [r for r in self.rules.access if any(o == "*" or c.eccn == o or c.eccn.startswith(o + ".")
                                                      for o in r.on)]
            for r in rules:
                if r.effect == "deny":
                    cond = self.reg.pred(self.conds.effective(r), f"deny: access {r.name}")
                    if cond is not None:
                        denies.append((c, r, cond))
            lrs += [(c, cond, acts, amode) for cond, acts, amode in self.release_classes(c, rules)]
        for c, r, cond in denies:
            self.row("deny", cond, c, self.actset(r.actions), "in", "-", "-", f"access:{r.name}", r.citation.text)
        for c, cond, acts, amode in lrs:
            for k, lr in enumerate(c.licenses, 1):
                if not lr.binding:
                    continue
                dest, dmode, members = self.dset(lr.destinations)
                if dmode == "in" and not members:
                    continue
                self.row("license_required", cond, c, acts, amode, dest, dmode, f"license:{c.id}:{k}",
                         lr.citation.text)

    def release_classes(self, c: ir.Control, rules: list[ir.AccessRule]) -> list[tuple[str, str, str]]:
        """(cond, action set, mode) for the actions that release ``c``: grouped by their release predicate.
        An action no rule names is a release (the reference's default), as is one where no rule applies."""
        named = sorted({a for r in rules for a in r.actions})
        by_pred: dict[F, list[str]] = {}
        for a in named:
            ra = [r for r in rules if a in r.actions]
            rel = disj(*(self.conds.effective(r) for r in ra if r.effect == "release"),
                       conj(*(neg(self.conds.applies(r)) for r in ra)))
            by_pred.setdefault(rel, []).append(a)
        out = [("*", self.actset(sorted(set(named) - set(by_pred.get(TRUE, [])))), "out")]
        for pred, acts in by_pred.items():
            cond = self.reg.pred(pred, f"release: {c.eccn} ({', '.join(acts)})")
            if pred != TRUE and cond is not None:
                out.append((cond, self.actset(acts), "in"))
        return out

    def describe(self, c: ir.Control) -> list[str]:
        state = "binding" if c.binding else "NOT binding: never denies nor requires a license"
        lines = [f"title: {c.title or ''}"]
        lines += [f"requirement {k}: {lr.text}" + ("" if lr.binding else " (not binding)") + f"; {lr.citation.text}"
                  for k, lr in enumerate(c.licenses, 1)]
        if c.policies:
            lines.append("licensing policies (informational): " + ", ".join(p.name for p in c.policies))
        exc = sorted({x.label for x in c.exceptions if x.available})
        if exc:
            lines.append("license exceptions that may apply (informational): " + ", ".join(exc))
        head = _note(f"control {c.id} ({c.eccn}): {c.status}, {state}; {c.citation.text}")
        return [head] + ["  " + _note(x) for x in lines]


# ---------------------------------------------------------------------------------------------------------
# Links


def _people_links(people: Sequence[_Person]) -> tuple[list[tuple[str, str]], list[tuple[str, ...]]]:
    g: list[tuple[str, str]] = []
    p2: list[tuple[str, ...]] = []
    for s in sorted(people, key=lambda s: person(s.id)):
        u = person(s.id)
        g += [(u, country(x)) for x in sorted(set(s.citizenships))]
        g += [(u, f"attr:{a}") for a in ("permanent_resident", "us_person") if getattr(s, a)]
        for lic in s.licenses:
            since = lic.valid_from.isoformat() if lic.valid_from else OPEN_SINCE
            until = lic.valid_through.isoformat() if lic.valid_through else OPEN_UNTIL
            number = token(getattr(lic, "number", None) or "")
            p2 += [(u, token(lic.eccn), x, since, until, number)
                   for x in sorted({token(c) for c in lic.countries}) or ["*"]]
    return g, sorted(set(p2))


@dataclass
class _Assets:
    links: list[tuple[str, str]]
    review: dict[ir.Control, set[str]]  # control (version) -> ids of assets that need review


def _asset_links(sl: _Slice, assets: Sequence[AssetLike]) -> _Assets:
    controls = {c.id: c for c in sl.rules.controls}
    out = _Assets([], {})
    for a in sorted(assets, key=lambda a: asset_node(a.id)):
        node = asset_node(a.id)
        cls = ir_classify(sl.rules, a)
        for m in cls.matches:
            if m.certain:
                out.links.append((node, control_node(m.control.id)))
            else:
                out.links.append((node, "review:" + token(m.control.id)))
                out.review.setdefault(m.control, set()).add(a.id)
        if not cls.matches:
            out.links.append((node, "ear99"))
        for n, leaf in sorted(sl.conds.facts.items()):
            v = evaluate(leaf, _Env(controls, asset=a))
            if v is not None:
                out.links.append((node, f"f{n}:{'true' if v else 'false'}"))
    return out


def _slice_links(sl: _Slice) -> list[tuple[str, str, str]]:
    """(section, child, parent) for everything of the rules (not of the inventory)."""
    g = [("g", country(m), "grp:" + _part(gr.name)) for gr in sl.rules.groups for m in gr.members]
    g += [("g", country(m), node) for node, ms in sorted(sl.conds.sets.items()) for m in ms]
    g += [("g", country(m), node) for node, ms in sorted(sl.dsets.items()) for m in ms]
    g += [("g3", "x:" + token(a), node) for node, acts in sorted(sl.actsets.items()) for a in acts]
    return g


# ---------------------------------------------------------------------------------------------------------
# Files


def _csv(*fields: str) -> str:
    return ", ".join(fields)


def _lines(section: str, links: Iterable[tuple[str, ...]]) -> list[str]:
    """Policy lines, first occurrence kept: some engines refuse a policy file with a repeated rule (two
    inventory rows with one id would otherwise repeat a link)."""
    return list(dict.fromkeys(_csv(section, *x) for x in links))


def _policy(unit: CompileUnit, sl: _Slice, inv: InventoryLike | None, people: tuple[list[Any], list[Any]],
            review: dict[ir.Control, set[str]]) -> str:
    assets = _asset_links(sl, inv.assets if inv else [])
    for c, ids in assets.review.items():
        review.setdefault(c, set()).update(ids)
    links = _slice_links(sl)
    reviewed = sorted({c.id for c in assets.review})
    g2 = [("e:" + token(c.id), "inventory") for c in sl.rules.controls] + [("ear99", "inventory")]
    g2 += [("review:" + token(cid), control_node(cid)) for cid in reviewed]
    since, until = _window(sl.rules)
    ctx = {
        "rules_version": _note(unit.rules_version), "mode": unit.mode, "strict": sl.rules.strict,
        "since": since, "until": until,
        "controls": [{"id": _note(c.id), "notes": sl.notes[c.id]} for c in sl.rules.controls],
        "rows": _lines("p", (r.fields() for r in sl.rows)),
        "people": _lines("g", people[0]),
        "groups": _lines("g", ((a, b) for s, a, b in links if s == "g")),
        "actions": _lines("g3", ((a, b) for s, a, b in links if s == "g3")),
        "classes": _lines("g2", g2),
        "assets": _lines("g2", assets.links),
        "licenses": _lines("p2", people[1]),
    }
    return render(NAME, "policy.csv.j2", **ctx)


def _model(unit: CompileUnit, reg: _Registry) -> str:
    preds = [{"id": pid, "expr": to_matcher(x), "origin": _note("; ".join(reg.origins[pid]))}
             for x, pid in reg.preds.items()]
    return render(NAME, "model.conf.j2", rules_version=_note(unit.rules_version), mode=unit.mode,
                  as_of=unit.as_of.isoformat() if unit.as_of else None, strict=unit.timeline.strict, preds=preds)


def _policy_path(unit: CompileUnit, i: int, x: ir.IR) -> str:
    if unit.mode == "as_of":
        return "policy.csv"
    return f"policies/{i:02d}-{x.valid_from.isoformat() if x.valid_from else 'start'}.csv"


def _index(unit: CompileUnit, slices: Sequence[ir.IR]) -> str:
    data = {
        "format": FORMAT, "rules_version": unit.rules_version, "mode": unit.mode, "strict": unit.timeline.strict,
        "as_of": unit.as_of.isoformat() if unit.as_of else None, "model": "model.conf",
        "request": ["sub", "obj", "act", "dest", "date"],
        "encoding": "percent-encoding of the UTF-8 bytes outside [A-Za-z0-9._:/@+-]; '' (no destination) stays ''",
        "slices": [{"since": _window(x)[0], "until": _window(x)[1], "policy": _policy_path(unit, i, x)}
                   for i, x in enumerate(slices)],
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def compile(unit: CompileUnit) -> Bundle:
    reg = _Registry()
    inv: InventoryLike | None = unit.options.get("inventory")
    slices = [_Slice(x, reg) for x in unit.slices]
    for sl in slices:
        sl.build()
    people = _people_links(inv.people if inv else [])
    review: dict[ir.Control, set[str]] = {}
    b = Bundle()
    for i, sl in enumerate(slices):
        b.add(_policy_path(unit, i, sl.rules), _policy(unit, sl, inv, people, review))
    b.add("model.conf", _model(unit, reg))
    b.add("index.json", _index(unit, unit.slices))
    b.add("regwatch_casbin.py", render(NAME, "regwatch_casbin.py.j2", rules_version=unit.rules_version,
                                        open_since=OPEN_SINCE, open_until=OPEN_UNTIL))
    b.add("README.md", render(NAME, "README.md.j2", rules_version=_note(unit.rules_version), mode=unit.mode))
    b.diagnostics = reg.diags + _notices(unit, inv, review)
    return b


def _notices(unit: CompileUnit, inv: InventoryLike | None, review: dict[ir.Control, set[str]]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if inv is None:
        out.append(Diagnostic(level="warn", code="casbin-no-inventory", rule="inventory",
                              message="compiled without --assets: the policy has no asset (g2) or people (g) links, "
                                      "so no request is allowed until you add them"))
    merged: dict[tuple[str, str], tuple[ir.Control, set[str]]] = {}  # one per version of a paragraph
    for c, ids in review.items():
        merged.setdefault((c.id, c.source or ""), (c, set()))[1].update(ids)
    for _, (c, ids) in sorted(merged.items()):
        out.append(Diagnostic(level="warn", code="casbin-needs-review", rule=f"control {c.eccn}", location=c.source,
                              message=f"{len(ids)} inventory asset(s) have an unknown condition for {c.id} "
                                      f"and are treated as controlled (linked through review:{token(c.id)})"))
    if any(x.available for s in unit.slices for c in s.controls for x in c.exceptions):
        out.append(Diagnostic(level="ignore", code="casbin-exceptions-informational", rule="license exceptions",
                              message="license exceptions never change an outcome (as in the reference); they are "
                                      "listed in policy comments only"))
    return out


__all__ = ["DESCRIPTION", "FORMAT", "NAME", "InventoryLike", "Row", "compile"]
