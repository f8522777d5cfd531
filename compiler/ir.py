"""The compiler's intermediate representation (IR): the rules as plain, resolved data for one span of time.

Every target (Casbin, Rego, git hooks, constants, ...) reads this and nothing else; no target ever sees the
DSL AST. The IR is frozen pydantic models that serialise to deterministic JSON (:meth:`IR.to_json`: sorted
keys, sorted tables, no floats, one trailing newline) and load back (:meth:`IR.from_json`).

Why time slices (and not one IR with a date on every entry)
    Each :class:`IR` is the rules *resolved for a span of days* ``[valid_from, valid_through]`` over which
    nothing in the ruleset changes: group memberships are plain sorted ISO code lists, parameters are single
    exact values, controls, license requirements, policies, exceptions and access rules are only those in
    effect, and every status (in force / not enforced / suspended / ...) is already decided, together with
    ``binding`` for the strict flag. A target therefore only ever compiles *one date's rules*, which is the
    hard part, and the timeline mode (:class:`Timeline`, an ordered list of slices cut at every date where
    anything changes) is a thin date dispatch on top: Rego picks the slice whose window holds
    ``input.date``; the constants target prints :attr:`Timeline.parameter_history`. Dated entries would
    instead push interval logic (inclusive ends, "value holds until the next one", status precedence) into
    every engine, which is exactly what must be defined once (``rulesdsl/intervals.py``).

Evaluation is three-valued, as in :mod:`rulesdsl.semantics`; :mod:`compiler.evaluate` is the reference
evaluator of this IR and the template targets follow. Entry points: :func:`lower` and :func:`lower_timeline`.
The leaves (exact numbers, citations, diagnostics, conditions) live in :mod:`compiler.expr` and are re-exported
here, so ``compiler.ir`` is the one import targets need.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import Field

from .expr import (
    And,
    AttributeRef,
    BoolLit,
    Citation,
    Compare,
    CompareOp,
    DiagLevel,
    Diagnostic,
    ExactNumber,
    Expr,
    Frozen,
    InGroup,
    InSet,
    Lit,
    Meets,
    Not,
    NumberLit,
    Operand,
    Or,
    ParameterRef,
    StringLit,
    SubjectRef,
    Truth,
)

if TYPE_CHECKING:
    from rulesdsl.ruleset import Ruleset

__all__ = [
    "IR",
    "IR_FORMAT",
    "TIMELINE_FORMAT",
    "AccessRule",
    "And",
    "Attribute",
    "AttributeRef",
    "BoolLit",
    "Citation",
    "ClauseStatus",
    "Compare",
    "CompareOp",
    "Control",
    "ControlStatus",
    "Destinations",
    "DiagLevel",
    "Diagnostic",
    "Document",
    "ExactNumber",
    "ExceptionRef",
    "ExceptionStatus",
    "Exclusion",
    "Expr",
    "Frozen",
    "Group",
    "Hint",
    "HintPattern",
    "InGroup",
    "InSet",
    "LicenseRequirement",
    "LicensingPolicy",
    "Lit",
    "Meets",
    "Not",
    "NumberLit",
    "Operand",
    "Or",
    "Parameter",
    "ParameterPeriod",
    "ParameterRef",
    "ParameterUse",
    "StringLit",
    "SubjectRef",
    "Timeline",
    "Truth",
    "UseClause",
    "dump_json",
    "lower",
    "lower_timeline",
]

IR_FORMAT: Final = "regwatch-ir/1"
TIMELINE_FORMAT: Final = "regwatch-ir-timeline/1"

ControlStatus = Literal["in_force", "compliance_not_required", "suspended", "not_enforced", "rescinded"]
ClauseStatus = Literal["in_force", "suspended", "not_enforced", "rescinded"]
ExceptionStatus = Literal["in_force", "suspended", "not_enforced", "rescinded", "not_in_effect", "undefined"]
UseClause = Literal["when", "except", "policy", "unless"]


# ---------------------------------------------------------------------------------------------------------
# Tables


class Document(Frozen):
    id: str
    kind: str
    citation: str | None
    title: str | None
    published: dt.date | None
    url: str | None


class Attribute(Frozen):
    name: str
    type: Literal["number", "bool", "string"]
    unit: str | None
    kinds: tuple[str, ...]
    default: Lit | None


class Group(Frozen):
    name: str
    description: str | None
    members: tuple[str, ...] = Field(description="sorted ISO 3166 alpha-2 codes on these days (nested groups expanded)")


class ParameterUse(Frozen):
    """Where a parameter is compared with an attribute, written ``attribute COMPARATOR parameter``."""

    rule: str = Field(description="'control 4E091', 'access NAME'")
    clause: UseClause
    attribute: str
    comparator: CompareOp


class Parameter(Frozen):
    """A dated parameter as it stands on these days. Only ``role == "control"`` values are control
    thresholds; exclusion, exception_ceiling, policy_eligibility, presumption and definition values must
    never be compiled as one."""

    name: str
    unit: str
    role: str
    description: str | None
    value: ExactNumber | None
    effective: dt.date | None = Field(description="first day of the current value")
    until: dt.date | None = Field(description="last day of the current value (the day before the next one)")
    status: ClauseStatus | None = Field(description="status of the documents the value cites")
    citation: Citation | None
    uses: tuple[ParameterUse, ...]
    source: str | None


class Destinations(Frozen):
    """``country in dest`` iff ``(all or country in include) and country not in exclude``. ``include`` and
    ``exclude`` are resolved sorted ISO codes; ``include_refs``/``exclude_refs`` are the groups and codes as
    written (for targets that keep group links, e.g. Casbin ``g`` rows)."""

    all: bool
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    include_refs: tuple[str, ...]
    exclude_refs: tuple[str, ...]
    text: str


class LicenseRequirement(Frozen):
    destinations: Destinations
    start: dt.date | None
    end: dt.date | None
    status: ClauseStatus = Field(description="status of the documents it cites (not the control's status)")
    binding: bool
    citation: Citation
    text: str = Field(description="e.g. 'license required to all except AIA from 2025-01-13'")


class LicensingPolicy(Frozen):
    """Of the policies that apply to a destination (and whose condition over the asset is true), the ones
    with the latest ``start`` win (``None`` counts as the earliest day)."""

    name: str
    destinations: Destinations
    condition: Expr | None
    start: dt.date | None
    end: dt.date | None
    citation: Citation


class ExceptionRef(Frozen):
    """A license exception a control lists on these days; ``available`` unless rescinded, suspended, not in
    effect or undefined. ``label`` is how reasons show it (``AIA (not enforced)``)."""

    code: str
    title: str | None
    section: str | None
    status: ExceptionStatus
    available: bool
    label: str
    citation: Citation


class Exclusion(Frozen):
    condition: Expr
    citation: Citation


class Control(Frozen):
    """One ECCN paragraph in effect. It holds for an asset of one of ``kinds`` iff (Kleene) ``condition``
    (``None``: true) and not any exclusion; evaluation order: condition, then exclusions in order."""

    id: str = Field(description="unique in the slice: the ECCN paragraph ('#2' appended to a duplicate)")
    eccn: str
    title: str | None
    kinds: tuple[str, ...]
    condition: Expr | None
    condition_citation: Citation | None
    exclusions: tuple[Exclusion, ...]
    reasons: tuple[str, ...]
    effective: dt.date | None
    effective_through: dt.date | None
    compliance: dt.date | None
    status: ControlStatus
    status_note: str
    status_citation: Citation | None
    binding: bool = Field(description="status binds under this IR's strict flag (rescinded: never listed in "
                                      "classifications; kept for 'meets')")
    citation: Citation
    licenses: tuple[LicenseRequirement, ...]
    policies: tuple[LicensingPolicy, ...]
    exceptions: tuple[ExceptionRef, ...]
    source: str | None


class AccessRule(Frozen):
    """Deemed-export access rule. Applies to a matched ECCN ``e`` and an action when ``action in actions`` and
    some ``o in on`` is ``"*"``, ``e`` or a dotted prefix of ``e``. ``when`` must be true (unknown: the rule
    does not apply); if ``unless`` is true the effect is ``allow``."""

    name: str
    title: str | None
    on: tuple[str, ...]
    actions: tuple[str, ...]
    effect: Literal["release", "allow", "deny"]
    when: Expr | None
    unless: Expr | None
    start: dt.date | None
    end: dt.date | None
    citation: Citation
    source: str | None


class HintPattern(Frozen):
    glob: str
    regex: str = Field(description="Python ``re`` pattern equivalent to the glob, anchored with ``^`` and ``\\Z`` "
                                   "(RE2/Go/Rego: write ``\\z`` for ``\\Z``)")
    scope: Literal["basename", "path"] = Field(description="basename: matched against the last path segment")


class Hint(Frozen):
    """Repository file classification. Non-marker hints: the first hint (by ``order``) with a matching
    pattern wins. Marker hints (``marker``): a file named like a pattern marks its directory and below; used
    only for files no other hint matched."""

    order: int
    file_kind: str
    asset_kind: str
    marker: bool
    patterns: tuple[HintPattern, ...]


# ---------------------------------------------------------------------------------------------------------
# The IR and the timeline


class IR(Frozen):
    """The rules resolved for the days ``valid_from..valid_through`` (inclusive; ``None``: open)."""

    format: Literal["regwatch-ir/1"] = IR_FORMAT
    rules_version: str
    strict: bool
    as_of: dt.date = Field(description="the day it was lowered for (default request date of the evaluator)")
    valid_from: dt.date | None
    valid_through: dt.date | None
    documents: tuple[Document, ...]
    attributes: tuple[Attribute, ...]
    groups: tuple[Group, ...]
    parameters: tuple[Parameter, ...]
    controls: tuple[Control, ...]
    access: tuple[AccessRule, ...]
    hints: tuple[Hint, ...]
    diagnostics: tuple[Diagnostic, ...]

    def covers(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_through is None or day <= self.valid_through)

    def control(self, control_id: str) -> Control:
        for c in self.controls:
            if c.id == control_id:
                return c
        raise KeyError(control_id)

    def group(self, name: str) -> Group:
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(name)

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    def content(self) -> dict[str, Any]:
        """The JSON data without the fields that say *when* (for comparing slices)."""
        data = self.model_dump(mode="json")
        for key in ("as_of", "valid_from", "valid_through"):
            data.pop(key)
        return data

    def to_json(self) -> str:
        return dump_json(self.model_dump(mode="json"))

    @classmethod
    def from_json(cls, text: str) -> IR:
        return cls.model_validate_json(text)


class ParameterPeriod(Frozen):
    """One value of a parameter over a span of days (split where its status or citation changes)."""

    name: str
    unit: str
    role: str
    value: ExactNumber
    valid_from: dt.date | None
    valid_through: dt.date | None
    status: ClauseStatus | None
    citation: Citation | None
    uses: tuple[ParameterUse, ...]


class Timeline(Frozen):
    """Ordered, contiguous slices covering all days: slice ``i+1`` starts the day after slice ``i`` ends;
    adjacent slices always differ in content (identical neighbours are merged)."""

    format: Literal["regwatch-ir-timeline/1"] = TIMELINE_FORMAT
    rules_version: str
    strict: bool
    slices: tuple[IR, ...]
    parameter_history: tuple[ParameterPeriod, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def change_dates(self) -> tuple[dt.date, ...]:
        """The first day of every slice but the first."""
        return tuple(s.valid_from for s in self.slices if s.valid_from is not None)

    def slice_at(self, day: dt.date) -> IR:
        for s in self.slices:
            if s.covers(day):
                return s
        raise LookupError(f"no slice covers {day}")  # pragma: no cover - slices cover every day

    def to_json(self) -> str:
        return dump_json(self.model_dump(mode="json"))

    @classmethod
    def from_json(cls, text: str) -> Timeline:
        return cls.model_validate_json(text)


def dump_json(data: Any) -> str:
    """Deterministic JSON: sorted keys, two-space indent, UTF-8 text, one trailing newline."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


for _m in (Attribute, LicensingPolicy, Exclusion, Control, AccessRule, IR, Timeline):
    _m.model_rebuild()


# ---------------------------------------------------------------------------------------------------------
# Entry points (the lowering itself lives in compiler/lowering.py)


def lower(rs: Ruleset, *, as_of: dt.date, rules_version: str, strict: bool = False) -> IR:
    """The rules of ``rs`` as they stand on ``as_of``; ``strict`` makes announced non-enforcement and
    not-yet-required compliance binding (as ``rulesdsl.semantics.decide(strict=True)``)."""
    from .lowering import lower_ir

    return lower_ir(rs, as_of=as_of, rules_version=rules_version, strict=strict)


def lower_timeline(rs: Ruleset, *, rules_version: str, strict: bool = False) -> Timeline:
    """Every slice of ``rs``: one IR per span of days between consecutive change dates."""
    from .lowering import lower_timeline_ir

    return lower_timeline_ir(rs, rules_version=rules_version, strict=strict)
