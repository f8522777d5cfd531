"""Access changes: for each person and controlled asset, may they still take the action (``read`` by default)?

``decide`` depends on the person and on the asset's *classification* (plus the truth of the licensing
policies' and access rules' conditions on the asset), not on the asset itself. So assets are grouped by that
key, each group is decided once per person with a representative asset, and the result is reported for the
whole group: a million weight files and a hundred people cost a few hundred decisions, and memory holds one
id (and an 8-byte position) per controlled asset.
"""

from __future__ import annotations

import datetime as dt
import heapq
from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rulesdsl import ast as A
from rulesdsl.intervals import in_window
from rulesdsl.semantics import Classification, Decision, EvalContext, evaluate

from .model import ACCESS_KINDS, AccessChange, AssetRef
from .snapshot import change_dates

if TYPE_CHECKING:
    from rulesdsl.inventory import Asset, Subject
    from rulesdsl.ruleset import Ruleset

    from .reclassify import SideEval

_ONE = dt.timedelta(days=1)
_KIND = {("allow", "license_required"): "needs_license", ("allow", "deny"): "lost",
         ("license_required", "deny"): "lost", ("deny", "allow"): "gained",
         ("license_required", "allow"): "license_no_longer_needed", ("deny", "license_required"): "changed"}
#: Reason codes left out of a report (``not_controlled`` names the representative asset; said another way).
_SKIP = frozenset({"not_controlled"})


def _access_attributes(rs: Ruleset) -> frozenset[str]:
    """Asset attributes that access rules look at: their raw values are part of the grouping key (the
    rules' conditions mix them with the person, so they cannot be evaluated per asset alone)."""
    names: set[str] = set()
    for e in (x for a in rs.access for x in (a.when, a.unless)):
        for n in A.iter_conditions(e):
            operands: tuple[A.Ref | A.Lit, ...] = ()
            if isinstance(n, A.Compare):
                operands = (n.left, n.right)
            elif isinstance(n, A.InSet | A.InGroup):
                operands = (n.left,)
            elif isinstance(n, A.Truth):
                operands = (n.operand,)
            names |= {o.name for o in operands if isinstance(o, A.Ref) and not o.name.startswith("subject.")
                      and o.name not in rs.parameters}
    return frozenset(names)


def _policies(side: SideEval, asset: Asset, cls: Classification) -> tuple[bool | None, ...]:
    """Which conditional licensing policies hold for the asset (they change the reasons ``decide`` gives)."""
    out: list[bool | None] = []
    for m in cls.matches:
        for p in m.control.policies:
            if p.when is not None and in_window(side.at, p.start, p.end):
                out.append(evaluate(p.when, EvalContext(side.rules, side.at, asset=asset)))
    return tuple(out)


@dataclass
class _Group:
    rep: Asset
    ids: list[str] = field(default_factory=list)
    positions: array[int] = field(default_factory=lambda: array("Q"))


class AccessDiff:
    """Collects the controlled assets (grouped) while an inventory streams by, then decides per person."""

    def __init__(self, old: SideEval, new: SideEval, *, strict: bool, actions: tuple[str, ...]) -> None:
        self.old, self.new, self.strict, self.actions = old, new, strict, actions
        self._attrs = sorted(_access_attributes(old.rules) | _access_attributes(new.rules))
        self._groups: dict[tuple[object, ...], _Group] = {}
        self._refs: dict[str, AssetRef] = {}
        self._seen = 0

    def add(self, asset: Asset, old: Classification, new: Classification, ref: AssetRef | None = None) -> None:
        """Remember a controlled asset (``ref``: its full reference, when the report keeps one anyway)."""
        self._seen += 1
        if not old.matches and not new.matches:
            return
        key = (asset.kind, tuple((id(m.control), m.status, m.certain) for m in old.matches),
               tuple((id(m.control), m.status, m.certain) for m in new.matches),
               _policies(self.old, asset, old), _policies(self.new, asset, new),
               tuple(str(asset.attributes.get(k)) for k in self._attrs))
        g = self._groups.get(key)
        if g is None:
            g = self._groups[key] = _Group(asset)
        g.ids.append(asset.id)
        g.positions.append(self._seen)
        if ref is not None:
            self._refs[asset.id] = ref

    def changes(self, people: list[Subject]) -> list[AccessChange]:
        """One entry per person, action and outcome change; its assets in inventory order."""
        merged: dict[tuple[object, ...], list[_Group]] = {}
        heads: dict[tuple[object, ...], AccessChange] = {}
        for person in people:
            dates = self._dates(person)
            for action in self.actions:
                for g in self._groups.values():
                    od = self._decide(self.old, person, action, g.rep, self.old.at)
                    nd = self._decide(self.new, person, action, g.rep, self.new.at)
                    if od.outcome == nd.outcome:
                        continue
                    when = self._when(person, action, g.rep, nd.outcome, dates)
                    reasons = tuple((r.text, None if r.citation == "uncited" else r.citation) for r in nd.reasons
                                    if r.code not in _SKIP)
                    if not nd.classification.matches:
                        reasons = (f"no control applies on {self.new.at} (EAR99)", None), *reasons
                    key = (person.id, action, od.outcome, nd.outcome, when, reasons)
                    if key not in heads:
                        heads[key] = AccessChange(person.id, person.name, tuple(person.citizenships), (), action,
                                                  od.outcome, nd.outcome, _KIND.get((od.outcome, nd.outcome),
                                                                                    "changed"), when, reasons)
                    merged.setdefault(key, []).append(g)
        refs: dict[int, tuple[AssetRef, ...]] = {}  # one tuple per group, shared by every person's entry
        out: list[tuple[int, AccessChange]] = []
        for entry, groups in merged.items():
            for g in groups:
                if id(g) not in refs:
                    refs[id(g)] = tuple(self._refs.get(i) or AssetRef(i, g.rep.kind) for i in g.ids)
            if len(groups) == 1:
                assets = refs[id(groups[0])]
            else:
                order = heapq.merge(*(zip(g.positions, refs[id(g)], strict=True) for g in groups),
                                    key=lambda pair: pair[0])
                assets = tuple(ref for _, ref in order)
            first = min(g.positions[0] for g in groups)
            h = heads[entry]
            out.append((first, AccessChange(h.person, h.person_name, h.citizenships, assets, h.action, h.old, h.new,
                                            h.kind, h.changed_on, h.reasons)))
        rank = {k: i for i, k in enumerate(ACCESS_KINDS)}
        people_order = {p.id: i for i, p in enumerate(people)}
        out.sort(key=lambda fc: (rank.get(fc[1].kind, 99), people_order[fc[1].person], fc[1].action, fc[0]))
        return [c for _, c in out]

    def _decide(self, side: SideEval, person: Subject, action: str, asset: Asset, at: dt.date) -> Decision:
        return side.rules.decide(person, action, asset, at, strict=self.strict)

    def _dates(self, person: Subject) -> list[dt.date]:
        """Rule change dates and the person's license dates in (FROM, TO]."""
        lo, hi = self.old.at, self.new.at
        days = set(change_dates(self.new.rules, lo, hi)) if hi > lo else set()
        for lic in person.licenses:
            for d in (lic.valid_from, lic.valid_through + _ONE if lic.valid_through else None):
                if d is not None and lo < d <= hi:
                    days.add(d)
        return sorted(days)

    def _when(self, person: Subject, action: str, asset: Asset, final: str, dates: list[dt.date]) -> dt.date | None:
        """The last date in (FROM, TO] after which the TO outcome holds (``None``: the rules version)."""
        for day in reversed(dates):
            if self._decide(self.new, person, action, asset, day - _ONE).outcome != final:
                return day
        return None
