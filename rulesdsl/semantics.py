"""Reference semantics: ``classify(asset, at)`` and ``decide(subject, action, asset, at)``.

This is the oracle every compiled target (Casbin, Rego, git hooks, constants) must agree with, so it is
written for clarity over speed. Conditions use three-valued logic: a condition over an attribute the asset
does not have is *unknown*, and a control whose condition is unknown is reported as "needs review" instead
of silently deciding either way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, Protocol

from . import ast as A
from .intervals import in_window

if TYPE_CHECKING:
    from .ruleset import Ruleset

Status = Literal["in_force", "compliance_not_required", "suspended", "not_enforced"]
Outcome = Literal["allow", "license_required", "deny"]
_ORDER: dict[str, int] = {"allow": 0, "license_required": 1, "deny": 2}
Value = Decimal | bool | str


class AssetLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def attributes(self) -> Mapping[str, Value]: ...


class LicenseLike(Protocol):
    @property
    def eccn(self) -> str: ...
    @property
    def countries(self) -> Sequence[str]: ...
    @property
    def valid_from(self) -> dt.date | None: ...
    @property
    def valid_through(self) -> dt.date | None: ...


class SubjectLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def citizenships(self) -> Sequence[str]: ...
    @property
    def permanent_resident(self) -> bool: ...
    @property
    def us_person(self) -> bool: ...
    @property
    def licenses(self) -> Sequence[LicenseLike]: ...


@dataclass(frozen=True)
class SimpleAsset:
    """A minimal asset for library users and tests (the inventory loader has a richer model)."""

    id: str
    kind: str
    attributes: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class SimpleLicense:
    eccn: str
    countries: Sequence[str] = ()
    valid_from: dt.date | None = None
    valid_through: dt.date | None = None
    number: str | None = None


@dataclass(frozen=True)
class SimpleSubject:
    id: str
    citizenships: Sequence[str] = ()
    permanent_resident: bool = False
    us_person: bool = False
    licenses: Sequence[SimpleLicense] = ()


# ---------------------------------------------------------------------------------------------------------
# Status


@dataclass(frozen=True)
class StatusInfo:
    status: Status | Literal["rescinded"]
    since: dt.date | None
    until: dt.date | None
    cite: str
    note: str


def status_events(rs: Ruleset, own: Sequence[A.StatusEvent], cite: A.Cite | None) -> list[A.StatusEvent]:
    """A clause's own status events plus those of the documents it cites (a rule's status carries over
    to everything the rule introduced)."""
    events = list(own)
    for doc_id in cite.docs if cite else []:
        doc = rs.documents.get(doc_id)
        if doc is not None:
            events.extend(doc.statuses)
    return events


def status_at(rs: Ruleset, events: Sequence[A.StatusEvent], compliance: dt.date | None,
              at: dt.date) -> StatusInfo:
    """Precedence: rescinded > suspended > not_enforced > compliance_not_required > in_force."""
    active = [e for e in events if in_window(at, e.start, e.end)]
    for kind in ("rescinded", "suspended", "not_enforced"):
        for e in active:
            if e.kind == kind:
                return StatusInfo(kind, e.start, e.end, rs.citation(e.cite),
                                  f"{kind.replace('_', ' ')} since {e.start}"
                                  + (f" through {e.end}" if e.end else ""))
    if compliance is not None and at < compliance:
        return StatusInfo("compliance_not_required", None, compliance, "",
                          f"compliance not required until {compliance}")
    return StatusInfo("in_force", None, None, "", "in force")


def control_in_effect(c: A.ControlDecl, at: dt.date) -> bool:
    return c.effective is not None and in_window(at, c.effective.start, c.effective.end)


def control_status(rs: Ruleset, c: A.ControlDecl, at: dt.date) -> StatusInfo:
    eff = c.effective
    events = status_events(rs, c.statuses, eff.cite if eff else None)
    return status_at(rs, events, c.compliance.start if c.compliance else None, at)


# ---------------------------------------------------------------------------------------------------------
# Conditions (Kleene three-valued logic: True / False / None = unknown)


@dataclass
class EvalContext:
    rs: Ruleset
    at: dt.date
    asset: AssetLike | None = None
    subject: SubjectLike | None = None
    missing: set[str] = field(default_factory=set)
    depth: int = 0


def _operand(ctx: EvalContext, o: A.Ref | A.Lit) -> Value | list[str] | None:
    if isinstance(o, A.Lit):
        v = o.value
        return v.value if isinstance(v, A.Number) else v
    name = o.name
    if name.startswith("subject."):
        attr = name[len("subject."):]
        if ctx.subject is None:
            ctx.missing.add(name)
            return None
        if attr == "citizenships":
            return list(ctx.subject.citizenships)
        if attr in ("us_person", "permanent_resident"):
            return bool(getattr(ctx.subject, attr))
        if attr == "foreign_person":
            return not (ctx.subject.us_person or ctx.subject.permanent_resident)
        ctx.missing.add(name)
        return None
    if name in ctx.rs.parameters:
        return ctx.rs.param_value(name, ctx.at)
    if ctx.asset is None or name not in ctx.asset.attributes:
        decl = ctx.rs.attributes.get(name)
        if decl is not None and decl.default is not None:
            d = decl.default
            return d.value if isinstance(d, A.Number) else d
        ctx.missing.add(name)
        return None
    return ctx.asset.attributes[name]


def _cmp(op: str, a: Value, b: Value) -> bool | None:
    if isinstance(a, bool) or isinstance(b, bool):
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        return None
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return {">=": a >= b, ">": a > b, "<=": a <= b, "<": a < b, "==": a == b, "!=": a != b}[op]
    if isinstance(a, str) and isinstance(b, str) and op in ("==", "!="):
        return (a == b) if op == "==" else (a != b)
    return None


def evaluate(e: A.Expr, ctx: EvalContext) -> bool | None:
    if isinstance(e, A.Compare):
        a, b = _operand(ctx, e.left), _operand(ctx, e.right)
        if a is None or b is None or isinstance(a, list) or isinstance(b, list):
            return None
        return _cmp(e.op, a, b)
    if isinstance(e, A.InSet):
        a = _operand(ctx, e.left)
        if a is None:
            return None
        values = [v.value.value if isinstance(v.value, A.Number) else v.value for v in e.values]
        if isinstance(a, list):
            return any(x in values for x in a)
        return a in values
    if isinstance(e, A.InGroup):
        a = _operand(ctx, e.left)
        if a is None:
            return None
        members = ctx.rs.group_members(e.group, ctx.at) if e.group in ctx.rs.groups else {e.group}
        items = a if isinstance(a, list) else [a]
        return any(isinstance(x, str) and x in members for x in items)
    if isinstance(e, A.Meets):
        return meets(ctx, e.eccn)
    if isinstance(e, A.Truth):
        v = _operand(ctx, e.operand)
        return v if isinstance(v, bool) else None
    if isinstance(e, A.Not):
        r = evaluate(e.item, ctx)
        return None if r is None else not r
    if isinstance(e, A.And):
        result: bool | None = True
        for item in e.items:
            r = evaluate(item, ctx)
            if r is False:
                return False
            if r is None:
                result = None
        return result
    if isinstance(e, A.Or):
        result = False
        for item in e.items:
            r = evaluate(item, ctx)
            if r is True:
                return True
            if r is None:
                result = None
        return result
    raise TypeError(type(e))  # pragma: no cover


def condition_holds(c: A.ControlDecl, ctx: EvalContext) -> tuple[bool | None, A.Exclusion | None]:
    """The control's condition minus its exclusions: (True/False/None, the exclusion that applied)."""
    base = True if c.when is None else evaluate(c.when, ctx)
    if base is False:
        return False, None
    for ex in c.exclusions:
        r = evaluate(ex.when, ctx)
        if r is True:
            return False, ex
        if r is None:
            base = None
    return base, None


def meets(ctx: EvalContext, eccn: str) -> bool | None:
    """``meets X``: some version of X (or a sub-paragraph) in effect at ``ctx.at`` holds for the asset."""
    if ctx.depth > 16:
        return None
    ctx.depth += 1
    try:
        result: bool | None = False
        for c in ctx.rs.controls_for(eccn):
            if not control_in_effect(c, ctx.at):
                continue
            r, _ = condition_holds(c, ctx)
            if r is True:
                return True
            if r is None:
                result = None
        return result
    finally:
        ctx.depth -= 1


# ---------------------------------------------------------------------------------------------------------
# classify


@dataclass(frozen=True)
class Match:
    eccn: str
    title: str | None
    status: Status
    status_note: str
    status_cite: str
    effective: dt.date | None
    effective_through: dt.date | None
    compliance: dt.date | None
    reasons: tuple[str, ...]
    citation: str
    confidence: str | None
    unresolved: tuple[str, ...]
    certain: bool  # False when the condition is unknown (missing attributes): needs review
    missing: tuple[str, ...]
    control: A.ControlDecl = field(repr=False, compare=False)

    def to_json(self) -> dict[str, object]:
        return {
            "eccn": self.eccn, "title": self.title, "status": self.status, "status_note": self.status_note,
            "status_citation": self.status_cite or None,
            "effective": _iso(self.effective), "effective_through": _iso(self.effective_through),
            "compliance": _iso(self.compliance), "reasons_for_control": list(self.reasons),
            "citation": self.citation, "confidence": self.confidence, "unresolved": list(self.unresolved),
            "needs_review": not self.certain, "missing_attributes": list(self.missing),
        }


@dataclass(frozen=True)
class Excluded:
    eccn: str
    citation: str
    reason: str


class _Matched(Protocol):
    @property
    def eccn(self) -> str: ...
    @property
    def certain(self) -> bool: ...


class MatchSummary:
    """What a classification says from its matches: the firm label ("EAR99" when none is certain), whether
    anything is controlled, whether anything needs review. Shared with the IR evaluator's classification."""

    matches: Sequence[_Matched]

    @property
    def label(self) -> str:
        firm = [m.eccn for m in self.matches if m.certain]
        return ", ".join(firm) if firm else "EAR99"

    @property
    def controlled(self) -> bool:
        return any(m.certain for m in self.matches)

    @property
    def needs_review(self) -> bool:
        return any(not m.certain for m in self.matches)


@dataclass(frozen=True)
class Classification(MatchSummary):
    asset_id: str
    kind: str
    at: dt.date
    matches: tuple[Match, ...]
    excluded: tuple[Excluded, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "asset": self.asset_id, "kind": self.kind, "as_of": self.at.isoformat(), "classification": self.label,
            "controlled": self.controlled, "needs_review": self.needs_review,
            "matches": [m.to_json() for m in self.matches],
            "excluded": [{"eccn": x.eccn, "citation": x.citation, "reason": x.reason} for x in self.excluded],
        }


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def _cite_notes(*cites: A.Cite | None) -> tuple[str | None, tuple[str, ...]]:
    order = {"low": 0, "medium": 1, "high": 2}
    conf: str | None = None
    notes: list[str] = []
    for c in cites:
        if c is None:
            continue
        if c.confidence and (conf is None or order[c.confidence] < order[conf]):
            conf = c.confidence
        if c.unresolved:
            notes.append(c.unresolved)
    return conf, tuple(notes)


def classify(rs: Ruleset, asset: AssetLike, at: dt.date) -> Classification:
    matches: list[Match] = []
    excluded: list[Excluded] = []
    for c in rs.controls:
        if asset.kind not in c.applies_to or not control_in_effect(c, at):
            continue
        ctx = EvalContext(rs, at, asset=asset)
        holds, ex = condition_holds(c, ctx)
        if holds is False:
            if ex is not None:
                excluded.append(Excluded(c.eccn, rs.citation(ex.cite), "exclusion applies"))
            continue
        st = control_status(rs, c, at)
        if st.status == "rescinded":
            continue
        eff = c.effective
        conf, unresolved = _cite_notes(eff.cite if eff else None, c.when_cite)
        matches.append(Match(
            eccn=c.eccn, title=c.title, status=st.status, status_note=st.note,
            status_cite=st.cite, effective=eff.start if eff else None, effective_through=eff.end if eff else None,
            compliance=c.compliance.start if c.compliance else None, reasons=tuple(c.reasons),
            citation=rs.citation(eff.cite if eff else None), confidence=conf, unresolved=unresolved,
            certain=holds is True, missing=tuple(sorted(ctx.missing)) if holds is None else (), control=c,
        ))
    matches.sort(key=lambda m: m.eccn)
    return Classification(asset.id, asset.kind, at, tuple(matches), tuple(excluded))


# ---------------------------------------------------------------------------------------------------------
# decide


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    eccn: str | None = None
    citation: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"code": self.code, "text": self.text, "eccn": self.eccn, "citation": self.citation}


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reasons: tuple[Reason, ...]
    classification: Classification

    def to_json(self) -> dict[str, object]:
        return {"outcome": self.outcome, "reasons": [r.to_json() for r in self.reasons],
                "classification": self.classification.to_json()}


def _access_rules(rs: Ruleset, eccn: str, action: str, at: dt.date) -> list[A.AccessDecl]:
    out = []
    for a in rs.access:
        if action not in a.actions:
            continue
        if a.effective is not None and not in_window(at, a.effective.start, a.effective.end):
            continue
        if any(o == "*" or eccn == o or eccn.startswith(o + ".") for o in a.on):
            out.append(a)
    return out


def _holds_license(subject: SubjectLike, eccn: str, country: str, at: dt.date) -> LicenseLike | None:
    for lic in subject.licenses:
        covers = eccn == lic.eccn or eccn.startswith(lic.eccn + ".")
        if covers and in_window(at, lic.valid_from, lic.valid_through) and (
                not lic.countries or country in lic.countries):
            return lic
    return None


def decide(rs: Ruleset, subject: SubjectLike, action: str, asset: AssetLike, at: dt.date,
           destination: str | None = None, *, strict: bool = False) -> Decision:
    """Decide whether ``subject`` may take ``action`` on ``asset`` on ``at``.

    ``strict=True`` treats controls that are announced as not enforced, or whose compliance date has not
    come, as binding (the rule text is still in the CFR); the default follows the announced status and says
    so in the reasons.
    """
    cls = classify(rs, asset, at)
    reasons: list[Reason] = []
    outcome: str = "allow"
    if not cls.matches:
        reasons.append(Reason("not_controlled", f"{asset.id} is {cls.label} on {at}: no control applies"))
        return Decision("allow", tuple(reasons), cls)
    binding: set[str] = {"in_force"} | ({"not_enforced", "compliance_not_required"} if strict else set())
    foreign = not (subject.us_person or subject.permanent_resident)
    for m in cls.matches:
        if not m.certain:
            reasons.append(Reason("needs_review", f"{m.eccn}: condition unknown, missing "
                                  f"{', '.join(m.missing)}; treated as controlled", m.eccn, m.citation))
        if m.status not in binding:
            reasons.append(Reason(m.status, f"{m.eccn}: {m.status_note}; not binding on {at}"
                                  + ("" if strict else " (use strict mode to treat it as binding)"),
                                  m.eccn, m.status_cite or m.citation))
            continue
        rules = _access_rules(rs, m.eccn, action, at)
        effects: list[tuple[A.AccessDecl | None, str]] = []
        for r in rules:
            ctx = EvalContext(rs, at, asset=asset, subject=subject)
            applies = True if r.when is None else evaluate(r.when, ctx)
            if applies is False or (applies is None and r.effect == "allow"):
                continue  # an 'allow' that may not apply cannot lift anything
            if applies is None:  # unknown: a release or deny rule is applied, conservatively
                reasons.append(Reason("needs_review", f"{m.eccn}: access rule '{r.name}': its condition is "
                                      "unknown for this person; applied", m.eccn))
            if r.unless is not None and evaluate(r.unless, ctx) is True:
                reasons.append(Reason("access_rule", f"{m.eccn}: access rule '{r.name}' does not apply "
                                      f"(its 'unless' condition holds)", m.eccn))
                effects.append((r, "allow"))
                continue
            effects.append((r, r.effect))
        if not effects:  # no rule for the action, or none whose condition holds: conservative default
            effects.append((None, "release"))
            reasons.append(Reason("default_release", f"{m.eccn}: no access rule for '{action}'"
                                  + (" applies" if rules else "") + "; treated as a release of the item", m.eccn))
        if any(e == "deny" for _, e in effects):
            deny_rule = next(r for r, e in effects if e == "deny")
            assert deny_rule is not None
            reasons.append(Reason("denied", f"{m.eccn}: access rule '{deny_rule.name}' denies '{action}'", m.eccn,
                                  rs.citation(deny_rule.effective.cite if deny_rule.effective else None)))
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
            req = _license_requirement(rs, m.control, country, at, binding)
            if req is None:
                reasons.append(Reason("no_license_required", f"{m.eccn}: no license required for {country}",
                                      m.eccn))
                continue
            lic = _holds_license(subject, m.eccn, country, at)
            if lic is not None:
                reasons.append(Reason("licensed", f"{m.eccn}: {subject.id} holds a license covering {country} "
                                      f"on {at}", m.eccn))
                continue
            text = f"{m.eccn}: license required for {country} ({req_text(rs, req)})"
            pols = _policies(rs, m.control, country, asset, at)
            if pols:
                text += "; licensing policy: " + ", ".join(pols)
            exc = _exceptions(rs, m.control, at)
            if exc:
                text += "; license exceptions that may apply: " + ", ".join(exc)
            reasons.append(Reason("license_required", text, m.eccn, rs.citation(req.cite)))
            if _ORDER[outcome] < _ORDER["license_required"]:
                outcome = "license_required"
    return Decision(outcome, tuple(reasons), cls)  # type: ignore[arg-type]


def req_text(rs: Ruleset, req: A.LicenseReq) -> str:
    from .formatter import fmt_dest

    return "license required to " + fmt_dest(req.dest) + (f" from {req.start}" if req.start else "")


def _license_requirement(rs: Ruleset, c: A.ControlDecl, country: str, at: dt.date,
                         binding: set[str]) -> A.LicenseReq | None:
    for lr in c.licenses:
        if not in_window(at, lr.start, lr.end):
            continue
        st = status_at(rs, status_events(rs, [], lr.cite), None, at)
        if st.status not in binding:
            continue
        if rs.in_dest(lr.dest, country, at):
            return lr
    return None


def _policies(rs: Ruleset, c: A.ControlDecl, country: str, asset: AssetLike, at: dt.date) -> list[str]:
    """The licensing policy for ``country``: of the policies that apply, the most recent one wins (a later
    rule such as the 2026 case-by-case review for eligible chips supersedes an earlier presumption)."""
    applicable: list[A.Policy] = []
    for p in c.policies:
        if not in_window(at, p.start, p.end) or not rs.in_dest(p.dest, country, at):
            continue
        if p.when is not None and evaluate(p.when, EvalContext(rs, at, asset=asset)) is not True:
            continue
        applicable.append(p)
    if not applicable:
        return []
    latest = max(p.start or dt.date.min for p in applicable)
    return sorted({p.name for p in applicable if (p.start or dt.date.min) == latest})


def _exceptions(rs: Ruleset, c: A.ControlDecl, at: dt.date) -> list[str]:
    out: list[str] = []
    for ec in c.exceptions:
        if not in_window(at, ec.start, ec.end):
            continue
        for code in ec.codes:
            x = rs.exceptions.get(code)
            if x is None:
                continue
            if x.effective is not None and not in_window(at, x.effective.start, x.effective.end):
                continue
            st = status_at(rs, status_events(rs, x.statuses, x.effective.cite if x.effective else None), None, at)
            if st.status in ("rescinded", "suspended"):
                continue
            out.append(code if st.status == "in_force" else f"{code} ({st.status.replace('_', ' ')})")
    return sorted(set(out))
