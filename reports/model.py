"""The diff report's data model: what every renderer (JSON, Markdown, HTML) shows.

The JSON rendering *is* this model (``to_json``), documented in ``docs/reports.md``; Markdown and HTML are
views of the same JSON, so the three never disagree. Dates are ISO strings, numbers exact decimal strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .cites import Source

SCHEMA = "regwatch-diff/1"

Axis = Literal["valid", "knowledge"]
#: Rule-change kinds, in the order reports list them.
CHANGE_KINDS: tuple[str, ...] = (
    "paragraph_added", "paragraph_revised", "paragraph_removed", "threshold_added", "threshold_changed",
    "threshold_removed", "parameter_changed", "license_requirement", "licensing_policy", "license_exceptions",
    "license_exception", "group_members", "status", "document_cited", "document_revised", "document_removed",
    "access_rule",
)
#: Reclassification kinds, most important first.
RECLASS_KINDS: tuple[str, ...] = ("newly_controlled", "reclassified", "decontrolled", "review", "status")
#: Access-change kinds.
ACCESS_KINDS: tuple[str, ...] = ("lost", "needs_license", "gained", "license_no_longer_needed", "changed")


def iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


@dataclass(frozen=True, slots=True)
class RulesRef:
    """Which rules a side of the diff uses (knowledge time)."""

    label: str
    version: str  # store version id, or "sha256:<content hash>" for a file or the embedded default
    seq: int | None = None
    approved_at: str | None = None
    approver: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"label": self.label, "version": self.version, "seq": self.seq, "approved_at": self.approved_at,
                "approver": self.approver}


@dataclass(frozen=True, slots=True)
class RuleChange:
    """One change of the rules. ``date`` is the valid date it takes effect (``None``: undated)."""

    axis: Axis
    kind: str
    subject: str
    date: dt.date | None
    text: str
    source: Source
    old: str | None = None
    new: str | None = None
    details: tuple[str, ...] = ()
    data: Mapping[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {"axis": self.axis, "kind": self.kind, "subject": self.subject, "date": iso(self.date),
                "text": self.text, "old": self.old, "new": self.new, "details": list(self.details),
                "data": dict(self.data), **self.source.to_json()}


@dataclass(frozen=True, slots=True)
class MatchInfo:
    """One ECCN an asset falls under on one side, with the rule and its source."""

    eccn: str
    title: str | None
    status: str
    status_note: str
    status_citation: str | None
    effective: dt.date | None
    compliance: dt.date | None
    condition: str | None
    source: Source
    needs_review: bool
    missing: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"eccn": self.eccn, "title": self.title, "status": self.status, "status_note": self.status_note,
                "status_citation": self.status_citation, "effective": iso(self.effective),
                "compliance": iso(self.compliance), "condition": self.condition, "needs_review": self.needs_review,
                "missing_attributes": list(self.missing), **self.source.to_json()}


@dataclass(frozen=True, slots=True)
class ClassInfo:
    """An asset's classification on one side: the firm label (``EAR99`` when nothing firm) and every match."""

    label: str
    matches: tuple[MatchInfo, ...]

    @property
    def review(self) -> tuple[str, ...]:
        return tuple(m.eccn for m in self.matches if m.needs_review)

    def to_json(self) -> dict[str, object]:
        return {"classification": self.label, "needs_review": list(self.review),
                "matches": [m.to_json() for m in self.matches]}


@dataclass(frozen=True, slots=True)
class AssetRef:
    id: str
    kind: str
    name: str | None = None
    path: str | None = None
    owner: str | None = None
    model: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "kind": self.kind, "name": self.name, "path": self.path, "owner": self.owner,
                "model": self.model}


@dataclass(frozen=True, slots=True)
class Reclassification:
    """An asset whose classification (or, for kind ``status``, the status of its controls) differs."""

    asset: AssetRef
    kind: str  # RECLASS_KINDS
    old: ClassInfo
    new: ClassInfo
    changed_on: dt.date | None  # the rules' change date between FROM and TO that causes it (valid axis)
    cause: str  # "valid", "knowledge" or "both"
    evidence: tuple[str, ...]  # the asset's values of the attributes the deciding rules compare
    review: tuple[str, ...]  # why a person should look at it

    def to_json(self) -> dict[str, object]:
        return {"asset": self.asset.to_json(), "kind": self.kind, "old": self.old.to_json(),
                "new": self.new.to_json(), "changed_on": iso(self.changed_on), "cause": self.cause,
                "evidence": list(self.evidence), "review": list(self.review)}


@dataclass(frozen=True, slots=True)
class AccessChange:
    """A person's access to controlled assets, for one action, before and after: one entry per person and
    outcome, listing every asset that changes the same way for the same reasons."""

    person: str
    person_name: str | None
    citizenships: tuple[str, ...]
    assets: tuple[AssetRef, ...]
    action: str
    old: str  # allow | license_required | deny
    new: str
    kind: str  # ACCESS_KINDS
    changed_on: dt.date | None
    reasons: tuple[tuple[str, str | None], ...]  # (text, citation) of the TO decision

    def to_json(self) -> dict[str, object]:
        return {"person": self.person, "person_name": self.person_name, "citizenships": list(self.citizenships),
                "assets": [a.to_json() for a in self.assets], "action": self.action, "old": self.old, "new": self.new,
                "kind": self.kind, "changed_on": iso(self.changed_on),
                "reasons": [{"text": t, "citation": c} for t, c in self.reasons]}


@dataclass(frozen=True, slots=True)
class NearThreshold:
    """An asset whose uncertainty interval straddles a control threshold on the TO side: needs review."""

    asset: AssetRef
    eccn: str
    attribute: str
    value: str  # exact
    low: str
    high: str
    comparator: str
    threshold: str  # exact
    threshold_display: str
    unit: str
    parameter: str
    point: bool | None  # the control's condition with the point value
    low_result: bool | None
    high_result: bool | None
    estimated: bool
    source: Source

    def to_json(self) -> dict[str, object]:
        return {"asset": self.asset.to_json(), "eccn": self.eccn, "attribute": self.attribute,
                "value": self.value, "low": self.low, "high": self.high, "comparator": self.comparator,
                "threshold": self.threshold, "threshold_display": self.threshold_display, "unit": self.unit,
                "parameter": self.parameter, "controlled_at_point": self.point, "controlled_at_low": self.low_result,
                "controlled_at_high": self.high_result, "estimated": self.estimated, **self.source.to_json()}


@dataclass(frozen=True, slots=True)
class Upcoming:
    """A dated fact after TO: an effective or compliance date, a status event, a new threshold value..."""

    date: dt.date
    kind: str
    subject: str
    text: str
    source: Source
    assets: int = 0  # assets of the inventory classified (or needing review) under ``subject`` on TO

    def to_json(self) -> dict[str, object]:
        return {"date": self.date.isoformat(), "kind": self.kind, "subject": self.subject, "text": self.text,
                "assets": self.assets, **self.source.to_json()}


@dataclass(frozen=True, slots=True)
class SideInfo:
    spec: str  # the argument as given
    valid: dt.date
    rules: RulesRef

    def to_json(self) -> dict[str, object]:
        return {"spec": self.spec, "valid_date": self.valid.isoformat(), "rules": self.rules.to_json()}


@dataclass
class DiffReport:
    from_: SideInfo
    to: SideInfo
    axes: tuple[Axis, ...]
    strict: bool
    horizon_days: int
    actions: tuple[str, ...]
    inventory: dict[str, object] | None
    rule_changes: list[RuleChange] = field(default_factory=list)
    reclassified: list[Reclassification] = field(default_factory=list)
    access: list[AccessChange] = field(default_factory=list)
    near_threshold: list[NearThreshold] = field(default_factory=list)
    upcoming: list[Upcoming] = field(default_factory=list)

    @property
    def reclassified_count(self) -> int:
        """Assets whose classification changed (status-only changes do not count): drives the exit code."""
        return sum(1 for r in self.reclassified if r.kind != "status")

    def summary(self) -> dict[str, object]:
        def count(items: list[str], kinds: tuple[str, ...]) -> dict[str, int]:
            return {k: items.count(k) for k in kinds if k in items}

        deadlines = [u for u in self.upcoming if u.kind in ("compliance", "effective")]
        nxt = deadlines[0] if deadlines else (self.upcoming[0] if self.upcoming else None)
        mine = next((u for u in self.upcoming if u.assets), None)
        return {
            "rule_changes": len(self.rule_changes),
            "rule_changes_by_kind": count([c.kind for c in self.rule_changes], CHANGE_KINDS),
            "assets_reclassified": self.reclassified_count,
            "reclassified_by_kind": count([r.kind for r in self.reclassified], RECLASS_KINDS),
            "access_changes": sum(len(a.assets) for a in self.access),
            "access_by_kind": {k: n for k in ACCESS_KINDS
                               if (n := sum(len(a.assets) for a in self.access if a.kind == k))},
            "people_affected": len({a.person for a in self.access}),
            "near_threshold": len(self.near_threshold),
            "upcoming": len(self.upcoming),
            "next_deadline": nxt.to_json() if nxt else None,
            "next_for_inventory": mine.to_json() if mine else None,
        }

    def to_json(self) -> dict[str, object]:
        return {
            "schema": SCHEMA,
            "generator": "regwatch diff",
            "axes": list(self.axes),
            "from": self.from_.to_json(),
            "to": self.to.to_json(),
            "strict": self.strict,
            "horizon_days": self.horizon_days,
            "actions": list(self.actions),
            "inventory": self.inventory,
            "summary": self.summary(),
            "rule_changes": [c.to_json() for c in self.rule_changes],
            "reclassified": [r.to_json() for r in self.reclassified],
            "access_changes": [a.to_json() for a in self.access],
            "near_threshold": [n.to_json() for n in self.near_threshold],
            "upcoming": [u.to_json() for u in self.upcoming],
        }
