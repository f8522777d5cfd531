"""A pure-Python evaluator of the IR: the proof that the IR carries the whole meaning of the rules.

:func:`ir_classify`, :func:`ir_decide` and :func:`ir_classify_paths` read only an :class:`~compiler.ir.IR`
(never the DSL) and give the same results as :mod:`rulesdsl.semantics` and :mod:`rulesdsl.hints`, down to
the reason texts; ``tests/test_compiler_ir.py`` checks that on thousands of requests. Targets translate
this module: each step below is one rule a Casbin matcher, a Rego rule or a hook script has to express.

Conditions are three-valued (Kleene): ``True``, ``False`` or ``None`` (unknown, e.g. a missing attribute).
An unknown control condition means "needs review, treated as controlled". Short-circuit order is the
reference's (left to right, stopping at the first deciding item), which only matters for *which* missing
attributes are reported.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from rulesdsl.semantics import AssetLike, MatchSummary, Reason, SubjectLike

from . import ir

Value = Decimal | bool | str
Outcome = Literal["allow", "license_required", "deny"]
_ORDER: dict[str, int] = {"allow": 0, "license_required": 1, "deny": 2}
_MAX_MEETS_DEPTH = 16  # as rulesdsl.semantics.meets: deeper (only in a cycle) is unknown


# The request types are the reference semantics' own (one definition of what an asset and a subject are).


# ---------------------------------------------------------------------------------------------------------
# Conditions


@lru_cache(maxsize=4096)
def _number(text: str) -> Decimal:
    return Decimal(text)


@dataclass
class _Env:
    controls: Mapping[str, ir.Control]
    asset: AssetLike | None = None
    subject: SubjectLike | None = None
    missing: set[str] = field(default_factory=set)
    depth: int = 0


def _lit(v: ir.NumberLit | ir.StringLit | ir.BoolLit) -> Value:
    return _number(v.value.decimal) if isinstance(v, ir.NumberLit) else v.value


def _operand(o: ir.Operand, env: _Env) -> Value | list[str] | None:
    if isinstance(o, ir.NumberLit | ir.StringLit | ir.BoolLit):
        return _lit(o)
    if isinstance(o, ir.ParameterRef):
        return None if o.value is None else _number(o.value.decimal)
    if isinstance(o, ir.SubjectRef):
        s = env.subject
        if s is not None:
            if o.name == "citizenships":
                return list(s.citizenships)
            if o.name in ("us_person", "permanent_resident"):
                return bool(getattr(s, o.name))
            if o.name == "foreign_person":
                return not (s.us_person or s.permanent_resident)
        env.missing.add("subject." + o.name)
        return None
    if env.asset is None or o.name not in env.asset.attributes:
        if o.default is not None:
            return _lit(o.default)
        env.missing.add(o.name)
        return None
    return env.asset.attributes[o.name]


def _compare(op: str, a: Value, b: Value) -> bool | None:
    if isinstance(a, bool) or isinstance(b, bool):
        return (a == b) if op == "==" else (a != b) if op == "!=" else None
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return {">=": a >= b, ">": a > b, "<=": a <= b, "<": a < b, "==": a == b, "!=": a != b}[op]
    if isinstance(a, str) and isinstance(b, str) and op in ("==", "!="):
        return (a == b) if op == "==" else (a != b)
    return None


def evaluate(e: ir.Expr, env: _Env) -> bool | None:
    if isinstance(e, ir.Compare):
        a, b = _operand(e.left, env), _operand(e.right, env)
        if a is None or b is None or isinstance(a, list) or isinstance(b, list):
            return None
        return _compare(e.op, a, b)
    if isinstance(e, ir.InSet):
        v = _operand(e.operand, env)
        if v is None:
            return None
        values = [_lit(x) for x in e.values]
        return any(x in values for x in v) if isinstance(v, list) else v in values
    if isinstance(e, ir.InGroup):
        v = _operand(e.operand, env)
        if v is None:
            return None
        return any(isinstance(x, str) and x in e.members for x in (v if isinstance(v, list) else [v]))
    if isinstance(e, ir.Meets):
        return _meets(e, env)
    if isinstance(e, ir.Truth):
        v = _operand(e.operand, env)
        return v if isinstance(v, bool) else None
    if isinstance(e, ir.Not):
        r = evaluate(e.item, env)
        return None if r is None else not r
    # and / or: Kleene, stopping at the first deciding item
    stop = isinstance(e, ir.Or)
    result: bool | None = stop is False
    for item in e.items:
        r = evaluate(item, env)
        if r is stop:
            return stop
        if r is None:
            result = None
    return result


def holds(c: ir.Control, env: _Env) -> tuple[bool | None, ir.Exclusion | None]:
    """Kleene ``condition and not exclusion_1 and ...``, with the exclusion that made it false."""
    base = True if c.condition is None else evaluate(c.condition, env)
    if base is False:
        return False, None
    for x in c.exclusions:
        r = evaluate(x.condition, env)
        if r is True:
            return False, x
        if r is None:
            base = None
    return base, None


def _meets(e: ir.Meets, env: _Env) -> bool | None:
    if env.depth > _MAX_MEETS_DEPTH:
        return None
    env.depth += 1
    try:
        result: bool | None = False
        for cid in e.controls:
            r, _ = holds(env.controls[cid], env)
            if r is True:
                return True
            if r is None:
                result = None
        return result
    finally:
        env.depth -= 1


# ---------------------------------------------------------------------------------------------------------
# classify


@dataclass(frozen=True)
class Match:
    eccn: str
    control: ir.Control = field(repr=False)
    certain: bool  # False: the condition is unknown (needs review, treated as controlled)
    missing: tuple[str, ...]


@dataclass(frozen=True)
class Excluded:
    eccn: str
    citation: str


@dataclass(frozen=True)
class Classification(MatchSummary):
    asset_id: str
    kind: str
    matches: tuple[Match, ...]
    excluded: tuple[Excluded, ...]


def _index(ir_: ir.IR) -> dict[str, ir.Control]:
    return {c.id: c for c in ir_.controls}


def ir_classify(ir_: ir.IR, asset: AssetLike) -> Classification:
    """Controls of ``ir_`` (rescinded ones aside) whose kinds include the asset's and whose condition holds
    or is unknown, sorted by ECCN; and those an exclusion took away."""
    controls = _index(ir_)
    matches: list[Match] = []
    excluded: list[Excluded] = []
    for c in ir_.controls:
        if asset.kind not in c.kinds:
            continue
        env = _Env(controls, asset=asset)
        result, x = holds(c, env)
        if result is False:
            if x is not None:
                excluded.append(Excluded(c.eccn, x.citation.text))
            continue
        if c.status == "rescinded":
            continue
        matches.append(Match(c.eccn, c, result is True, tuple(sorted(env.missing)) if result is None else ()))
    return Classification(asset.id, asset.kind, tuple(matches), tuple(excluded))


# ---------------------------------------------------------------------------------------------------------
# decide


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reasons: tuple[Reason, ...]
    classification: Classification


def in_destinations(d: ir.Destinations, country: str) -> bool:
    return (d.all or country in d.include) and country not in d.exclude


def _in(at: dt.date, start: dt.date | None, end: dt.date | None) -> bool:
    return (start is None or start <= at) and (end is None or at <= end)


def _rule_applies(r: ir.AccessRule, eccn: str, action: str) -> bool:
    return action in r.actions and any(o == "*" or eccn == o or eccn.startswith(o + ".") for o in r.on)


def _license(subject: SubjectLike, eccn: str, country: str, at: dt.date) -> bool:
    return any((eccn == lic.eccn or eccn.startswith(lic.eccn + ".")) and _in(at, lic.valid_from, lic.valid_through)
               and (not lic.countries or country in lic.countries) for lic in subject.licenses)


def _policies(c: ir.Control, country: str, env: _Env) -> list[str]:
    """Of the policies that apply to ``country`` (and whose condition holds), those with the latest start."""
    applicable = [p for p in c.policies if in_destinations(p.destinations, country)
                  and (p.condition is None or evaluate(p.condition, env) is True)]
    if not applicable:
        return []
    latest = max(p.start or dt.date.min for p in applicable)
    return sorted({p.name for p in applicable if (p.start or dt.date.min) == latest})


def ir_decide(ir_: ir.IR, subject: SubjectLike, action: str, asset: AssetLike, destination: str | None = None,
              *, at: dt.date | None = None) -> Decision:
    """``allow``, ``license_required`` or ``deny`` for ``subject`` taking ``action`` on ``asset``.

    ``at`` is the request date (default: the day the IR was lowered for); it must lie in the IR's window.
    It only matters for the subject's license windows and the reason texts: the rules are already resolved.
    """
    at = ir_.as_of if at is None else at
    if not ir_.covers(at):
        raise ValueError(f"{at} is outside this IR ({ir_.valid_from} .. {ir_.valid_through})")
    cls = ir_classify(ir_, asset)
    if not cls.matches:
        return Decision("allow", (Reason("not_controlled", f"{asset.id} is {cls.label} on {at}: no control applies"),),
                        cls)
    controls = _index(ir_)
    reasons: list[Reason] = []
    outcome: Outcome = "allow"
    foreign = not (subject.us_person or subject.permanent_resident)
    for m in cls.matches:
        c = m.control
        if not m.certain:
            reasons.append(Reason("needs_review", f"{m.eccn}: condition unknown, missing {', '.join(m.missing)}; "
                                  "treated as controlled", m.eccn, c.citation.text))
        if not c.binding:
            reasons.append(Reason(c.status, f"{m.eccn}: {c.status_note}; not binding on {at}"
                                  + ("" if ir_.strict else " (use strict mode to treat it as binding)"), m.eccn,
                                  c.status_citation.text if c.status_citation else c.citation.text))
            continue
        rules = [r for r in ir_.access if _rule_applies(r, m.eccn, action)]
        effects: list[tuple[ir.AccessRule | None, str]] = []
        for r in rules:
            env = _Env(controls, asset=asset, subject=subject)
            applies = True if r.when is None else evaluate(r.when, env)
            if applies is False or (applies is None and r.effect == "allow"):
                continue  # an 'allow' that may not apply cannot lift anything
            if applies is None:  # unknown: a release or deny rule is applied, conservatively
                reasons.append(Reason("needs_review", f"{m.eccn}: access rule '{r.name}': its condition is "
                                      "unknown for this person; applied", m.eccn))
            if r.unless is not None and evaluate(r.unless, env) is True:
                reasons.append(Reason("access_rule", f"{m.eccn}: access rule '{r.name}' does not apply "
                                      "(its 'unless' condition holds)", m.eccn))
                effects.append((r, "allow"))
                continue
            effects.append((r, r.effect))
        if not effects:  # no rule for the action, or none whose condition holds: conservative default
            effects.append((None, "release"))
            reasons.append(Reason("default_release", f"{m.eccn}: no access rule for '{action}'"
                                  + (" applies" if rules else "") + "; treated as a release of the item", m.eccn))
        deny = next((r for r, e in effects if e == "deny"), None)
        if deny is not None:
            reasons.append(Reason("denied", f"{m.eccn}: access rule '{deny.name}' denies '{action}'", m.eccn,
                                  deny.citation.text))
            outcome = "deny"
            continue
        if not any(e == "release" for _, e in effects):
            names = ", ".join(r.name for r, _ in effects if r is not None)
            reasons.append(Reason("not_a_release", f"{m.eccn}: '{action}' is not a release ({names})", m.eccn))
            continue
        if action == "export" and destination:
            dests = [destination]
        else:
            if not foreign:
                reasons.append(Reason("us_person", f"{subject.id} is a U.S. person or permanent resident: "
                                      "no deemed export", m.eccn))
                continue
            dests = sorted(set(subject.citizenships)) or ["??"]
        for country in dests:
            req = next((lr for lr in c.licenses if lr.binding and in_destinations(lr.destinations, country)), None)
            if req is None:
                reasons.append(Reason("no_license_required", f"{m.eccn}: no license required for {country}", m.eccn))
                continue
            if _license(subject, m.eccn, country, at):
                reasons.append(Reason("licensed", f"{m.eccn}: {subject.id} holds a license covering {country} "
                                      f"on {at}", m.eccn))
                continue
            text = f"{m.eccn}: license required for {country} ({req.text})"
            pols = _policies(c, country, _Env(controls, asset=asset))
            if pols:
                text += "; licensing policy: " + ", ".join(pols)
            exc = sorted({x.label for x in c.exceptions if x.available})
            if exc:
                text += "; license exceptions that may apply: " + ", ".join(exc)
            reasons.append(Reason("license_required", text, m.eccn, req.citation.text))
            if _ORDER[outcome] < _ORDER["license_required"]:
                outcome = "license_required"
    return Decision(outcome, tuple(reasons), cls)


# ---------------------------------------------------------------------------------------------------------
# Repository paths (what the git hooks do)


@dataclass(frozen=True)
class PathMatch:
    path: str
    file_kind: str
    asset_kind: str
    pattern: str


def _norm(path: str) -> str:
    p = path.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p.lstrip("/")


def _matches(pat: ir.HintPattern, path: str) -> bool:
    target = path if pat.scope == "path" else path.rsplit("/", 1)[-1]
    return re.match(pat.regex, target) is not None


def ir_classify_paths(ir_: ir.IR, paths: Iterable[str]) -> dict[str, PathMatch]:
    """Which files of one tree are weights, checkpoints, ...: the first non-marker hint with a matching
    pattern; else the first marker (by hint order, then path order) found in the file's directory or above."""
    all_paths = [_norm(p) for p in paths]
    markers: list[tuple[str, ir.Hint, str]] = []
    for h in ir_.hints:
        if not h.marker:
            continue
        for p in all_paths:
            for pat in h.patterns:
                if p.rsplit("/", 1)[-1] == pat.glob or _matches(pat, p):
                    markers.append((p.rsplit("/", 1)[0] + "/" if "/" in p else "", h, pat.glob))
    out: dict[str, PathMatch] = {}
    for p in all_paths:
        for h in ir_.hints:
            if h.marker:
                continue
            hit = next((pat.glob for pat in h.patterns if _matches(pat, p)), None)
            if hit is not None:
                out[p] = PathMatch(p, h.file_kind, h.asset_kind, hit)
                break
        else:
            for prefix, h, glob in markers:
                if p.startswith(prefix):
                    out[p] = PathMatch(p, "marker", h.asset_kind, glob)
                    break
    return out
