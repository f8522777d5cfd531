"""Per-asset reclassification between two sides, and the assets whose uncertainty straddles a threshold.

One asset at a time (an inventory can be streamed): classify it on FROM and on TO with the reference
semantics; if the classification differs, find the rules' change date between the two dates that causes it
(the last date on which the TO rules change it), and say why (the rule, its source, the asset's values).

Classifications are *interned*: the :class:`~reports.model.ClassInfo` of every asset with the same matches
on a side is one shared object, so a report on a large inventory holds little more than the asset ids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from rulesdsl import ast as A
from rulesdsl.formatter import fmt_expr
from rulesdsl.numbers import format_number
from rulesdsl.semantics import (
    Classification,
    EvalContext,
    Match,
    SimpleAsset,
    condition_holds,
    control_in_effect,
    status_events,
)

from .cites import Source, exact, show_number, show_value, source
from .model import AssetRef, ClassInfo, MatchInfo, NearThreshold, Reclassification
from .snapshot import status_words

if TYPE_CHECKING:
    from rulesdsl.inventory import Asset
    from rulesdsl.ruleset import Ruleset

    from .sides import Side

_ONE = dt.timedelta(days=1)
Sig = tuple[tuple[str, ...], tuple[str, ...]]


def signature(c: Classification) -> Sig:
    """What "the classification" is: the firm ECCNs and the ECCNs that need review."""
    return (tuple(m.eccn for m in c.matches if m.certain), tuple(m.eccn for m in c.matches if not m.certain))


def status_signature(c: Classification) -> tuple[tuple[str, str], ...]:
    return tuple((m.eccn, m.status) for m in c.matches)


@dataclass
class SideEval:
    """One side's rules and date, with caches shared by every asset of a report."""

    rules: Ruleset
    at: dt.date
    _infos: dict[tuple[object, ...], ClassInfo] = field(default_factory=dict)
    _sources: dict[int, tuple[str | None, Source]] = field(default_factory=dict)

    @classmethod
    def of(cls, side: Side) -> SideEval:
        return cls(side.rules, side.valid)

    def classify(self, asset: Asset, at: dt.date | None = None) -> Classification:
        return self.rules.classify(asset, at or self.at)

    def _control(self, c: A.ControlDecl) -> tuple[str | None, Source]:
        hit = self._sources.get(id(c))
        if hit is None:
            hit = (fmt_expr(c.when) if c.when is not None else None,
                   source(self.rules, c.when_cite, c.effective.cite if c.effective else None))
            self._sources[id(c)] = hit
        return hit

    def info(self, c: Classification) -> ClassInfo:
        key = tuple((id(m.control), m.status, m.certain, m.missing) for m in c.matches)
        hit = self._infos.get(key)
        if hit is None:
            hit = ClassInfo(c.label, tuple(self._match(m) for m in c.matches))
            self._infos[key] = hit
        return hit

    def _match(self, m: Match) -> MatchInfo:
        condition, src = self._control(m.control)
        return MatchInfo(m.eccn, m.title, m.status, m.status_note, m.status_cite or None, m.effective, m.compliance,
                         condition, src, not m.certain, m.missing)


def asset_ref(a: Asset) -> AssetRef:
    return AssetRef(a.id, a.kind, a.name, a.path, a.owner, a.model)


def _kind(old: Sig, new: Sig) -> str:
    if not old[0] and new[0]:
        return "newly_controlled"
    if old[0] and not new[0]:
        return "decontrolled"
    if old[0] != new[0]:
        return "reclassified"
    return "review"


# ---------------------------------------------------------------------------------------------------------
# Evidence and review flags


def _operand(o: A.Ref | A.Lit, rs: Ruleset, attrs: Mapping[str, object], at: dt.date) -> tuple[str, bool]:
    """How an operand reads for this asset, and whether it is an asset attribute."""
    if isinstance(o, A.Lit):
        v = o.value
        return (show_number(v.value) if isinstance(v, A.Number) else show_value(v)), False
    if o.name in rs.parameters:
        value = rs.param_value(o.name, at)
        return (f"{o.name} = {show_number(value)}" if value is not None else f"{o.name}: no value"), False
    if o.name.startswith("subject."):
        return o.name, False
    if o.name in attrs:
        return f"{o.name} = {show_value(attrs[o.name])}", True
    decl = rs.attributes.get(o.name)
    if decl is not None and decl.default is not None:
        d = decl.default
        return f"{o.name} = {show_number(d.value) if isinstance(d, A.Number) else show_value(d)} (default)", True
    return f"{o.name}: not given", True


def evidence(rs: Ruleset, c: A.ControlDecl, asset: Asset, at: dt.date) -> list[str]:
    """The comparisons of the control's condition, filled in with the asset's values: why it (does not) apply."""
    out: list[str] = []
    for node in [*A.iter_conditions(c.when), *(n for ex in c.exclusions for n in A.iter_conditions(ex.when))]:
        if isinstance(node, A.Compare):
            (left, lattr), (right, rattr) = (_operand(node.left, rs, asset.attributes, at),
                                             _operand(node.right, rs, asset.attributes, at))
            if lattr or rattr:
                out.append(f"{c.eccn}: {left} {node.op} {right}")
        elif isinstance(node, A.Truth) and isinstance(node.operand, A.Ref):
            text, is_attr = _operand(node.operand, rs, asset.attributes, at)
            if is_attr:
                out.append(f"{c.eccn}: {text}")
        elif isinstance(node, A.Meets):
            out.append(f"{c.eccn}: meets {node.eccn}")
    return list(dict.fromkeys(out))


def review_flags(info: ClassInfo, asset: Asset, near: list[NearThreshold], strict: bool) -> tuple[str, ...]:
    out: list[str] = []
    for m in info.matches:
        if m.needs_review:
            out.append(f"{m.eccn}: condition unknown, missing {', '.join(m.missing)}")
        if m.source.confidence in ("low", "medium"):
            out.append(f"{m.eccn}: the rule's confidence is {m.source.confidence}")
        if m.source.unresolved:
            out.append(f"{m.eccn}: unresolved: {m.source.unresolved}")
        if m.status != "in_force" and not strict:
            out.append(f"{m.eccn}: {status_words(m.status)}: not binding on this date unless --strict")
    for key, value in asset.attributes.items():
        if key.endswith("_estimated") and value is True:
            out.append(f"{key.removesuffix('_estimated')} is an estimate")
    for n in near:
        out.append(f"{n.eccn}: {n.attribute} between {show_number(Decimal(n.low))} and "
                   f"{show_number(Decimal(n.high))} straddles {n.comparator} {n.threshold_display} {n.unit}")
    return tuple(dict.fromkeys(out))


# ---------------------------------------------------------------------------------------------------------
# Near a threshold


def _bounds(asset: Asset) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """``(X, value, X_low, X_high)`` for every numeric attribute with a non-empty interval (the inventory
    derives the bounds from ``X_uncertainty``, or the 6ND default)."""
    out = []
    for key, low in asset.attributes.items():
        if not key.endswith("_low"):
            continue
        base = key[: -len("_low")]
        value, high = asset.attributes.get(base), asset.attributes.get(base + "_high")
        if isinstance(value, Decimal) and isinstance(low, Decimal) and isinstance(high, Decimal) and low != high:
            out.append((base, value, low, high))
    return out


def _compares(rs: Ruleset, e: A.Expr | None, at: dt.date, depth: int = 0) -> list[A.Compare]:
    """Comparisons of a condition, following ``meets X`` into X's conditions in effect on ``at``."""
    out: list[A.Compare] = []
    for node in A.iter_conditions(e):
        if isinstance(node, A.Compare):
            out.append(node)
        elif isinstance(node, A.Meets) and depth < 8:
            for c in rs.controls_for(node.eccn):
                if control_in_effect(c, at):
                    out += _compares(rs, c.when, at, depth + 1)
    return out


def near_thresholds(side: SideEval, asset: Asset, ref: AssetRef) -> list[NearThreshold]:
    """Controls whose condition gives different answers at the low and high end of an uncertain value."""
    bounds = _bounds(asset)
    if not bounds:
        return []
    rs, at = side.rules, side.at
    out: list[NearThreshold] = []
    for c in rs.controls:
        if asset.kind not in c.applies_to or not control_in_effect(c, at):
            continue
        for attr, value, low, high in bounds:
            results = []
            for v in (low, value, high):
                probe = SimpleAsset(asset.id, asset.kind, {**asset.attributes, attr: v})
                results.append(condition_holds(c, EvalContext(rs, at, asset=probe))[0])
            if len(set(results)) == 1:
                continue
            cmp_ = _threshold_for(rs, c, attr, low, high, at)
            if cmp_ is None:
                continue
            op, thr, notation, unit, param = cmp_
            out.append(NearThreshold(ref, c.eccn, attr, exact(value), exact(low), exact(high), op, exact(thr),
                                     notation, unit, param, results[1], results[0], results[2],
                                     asset.attributes.get(f"{attr}_estimated") is True,
                                     source(rs, c.when_cite, c.effective.cite if c.effective else None)))
    return out


def _threshold_for(rs: Ruleset, c: A.ControlDecl, attr: str, low: Decimal, high: Decimal,
                   at: dt.date) -> tuple[str, Decimal, str, str, str] | None:
    """The comparison of ``attr`` whose threshold lies in ``[low, high]`` (the one the interval straddles)."""
    found = []
    for cmp_ in _compares(rs, c.when, at) + [n for ex in c.exclusions for n in _compares(rs, ex.when, at)]:
        for mine, other, op in ((cmp_.left, cmp_.right, cmp_.op), (cmp_.right, cmp_.left, _FLIP[cmp_.op])):
            if not (isinstance(mine, A.Ref) and mine.name == attr):
                continue
            if isinstance(other, A.Ref) and other.name in rs.parameters:
                entry = rs.param_entry(other.name, at)
                if entry is None or entry.value is None:
                    continue
                p = rs.parameters[other.name]
                found.append((op, entry.value.value, format_number(entry.value.value, entry.value.notation), p.unit,
                              other.name))
            elif isinstance(other, A.Lit) and isinstance(other.value, A.Number):
                found.append((op, other.value.value, show_number(other.value.value), "", ""))
    inside = [f for f in found if low <= f[1] <= high]
    return (inside or found)[0] if found else None


_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}


# ---------------------------------------------------------------------------------------------------------
# One asset


def classification_dates(rs: Ruleset, after: dt.date, through: dt.date) -> list[dt.date]:
    """Dates in ``(after, through]`` on which a classification or a control's status can change: controls
    start or end, parameters take a value, compliance dates arrive, status events start or end."""
    days: set[dt.date] = set()
    for c in rs.controls:
        for clause in (c.effective, c.compliance):
            if clause is not None:
                days |= {d for d in (clause.start, clause.end + _ONE if clause.end else None) if d}
        for ev in status_events(rs, c.statuses, c.effective.cite if c.effective else None):
            days |= {d for d in (ev.start, ev.end + _ONE if ev.end else None) if d}
    for p in rs.parameters.values():
        days |= {v.start for v in p.values}
    return sorted(d for d in days if after < d <= through)


@dataclass
class AssetOutcome:
    asset: Asset
    old: Classification
    new: Classification
    change: Reclassification | None
    near: list[NearThreshold]


class Reclassifier:
    """Compares each asset's classification on FROM and TO (``old`` and ``new`` sides)."""

    def __init__(self, old: SideEval, new: SideEval, *, strict: bool) -> None:
        self.old, self.new, self.strict = old, new, strict
        self.same_rules = old.rules is new.rules or old.rules.content_hash() == new.rules.content_hash()
        self.dates = classification_dates(new.rules, old.at, new.at) if new.at > old.at else []
        self._texts: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._when_memo: dict[tuple[object, ...], tuple[dt.date | None, str]] = {}

    def asset(self, a: Asset) -> AssetOutcome:
        old, new = self.old.classify(a), self.new.classify(a)
        ref = asset_ref(a)
        near = near_thresholds(self.new, a, ref)
        so, sn = signature(old), signature(new)
        kind = None
        if so != sn:
            kind = _kind(so, sn)
        elif status_signature(old) != status_signature(new):
            kind = "status"
        if kind is None:
            return AssetOutcome(a, old, new, None, near)
        key: Callable[[Classification], object] = signature if kind != "status" else status_signature
        changed_on, cause = self._when(a, key)
        info_new = self.new.info(new)
        ev = [e for m in new.matches for e in evidence(self.new.rules, m.control, a, self.new.at)]
        ev += [f"was: {e}" for m in old.matches if m.eccn not in {x.eccn for x in new.matches}
               for e in evidence(self.old.rules, m.control, a, self.old.at)]
        ev += [f"now: {e}" for e in self._lost_evidence(a, old, new)]
        change = Reclassification(ref, kind, self.old.info(old), info_new, changed_on, cause,
                                  self._shared(tuple(dict.fromkeys(ev))),
                                  self._shared(review_flags(info_new, a, near, self.strict)))
        return AssetOutcome(a, old, new, change, near)

    def _shared(self, texts: tuple[str, ...]) -> tuple[str, ...]:
        """One copy of equal evidence: the weight files of one model all read the same."""
        return self._texts.setdefault(texts, texts)

    def _lost_evidence(self, a: Asset, old: Classification, new: Classification) -> list[str]:
        """For a decontrolled asset: why the old control no longer applies (its TO version, if any)."""
        out: list[str] = []
        gone = {m.eccn for m in old.matches} - {m.eccn for m in new.matches}
        for c in self.new.rules.controls:
            if c.eccn in gone and a.kind in c.applies_to and control_in_effect(c, self.new.at):
                out += evidence(self.new.rules, c, a, self.new.at)
        return out

    def _when(self, a: Asset, key: Callable[[Classification], object]) -> tuple[dt.date | None, str]:
        """The last change date in (FROM, TO] of the TO rules after which the asset has its TO result, and
        the cause: ``valid`` (a dated change), ``knowledge`` (only the rules version), ``both``. Assets with
        the same kind and attributes (the weight files of one model) share the answer."""
        memo = (key is signature, a.kind, tuple(sorted(a.attributes.items())))
        hit = self._when_memo.get(memo)
        if hit is None:
            hit = self._when_memo[memo] = self._scan(a, key)
        return hit

    def _scan(self, a: Asset, key: Callable[[Classification], object]) -> tuple[dt.date | None, str]:
        final = key(self.new.classify(a))
        for day in reversed(self.dates):
            if key(self.new.classify(a, day - _ONE)) != final:
                if self.same_rules or key(self.new.classify(a, self.old.at)) == key(self.old.classify(a)):
                    return day, "valid"
                return day, "both"
        return None, "knowledge"
