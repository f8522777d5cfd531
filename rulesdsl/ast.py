"""The rules DSL abstract syntax tree (pydantic models).

The AST is the single data model of the rules: the parser builds it, the formatter prints it, the store
hashes its canonical text, the semantics evaluate it, and (later) the compiler lowers it.

Design choices worth knowing:

* Numbers are exact (:class:`Number` wraps a :class:`~decimal.Decimal`). ``10^26`` is stored as the exact
  integer, never as a float, because ``10**26 >= 1e26`` is False in Python.
* Source locations (:class:`Loc`) ride along on every node for diagnostics but are *not* part of equality
  or of serialisation, so ``parse(format(ast)) == ast`` compares meaning, comments and notation only.
* Comments are part of the tree (leading comment lines and a trailing end-of-line comment per item), so
  ``regwatch rules fmt`` never throws away what a compliance officer wrote.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.json_schema import SkipJsonSchema


class Loc:
    """Where a node came from. Always compares equal so that it never affects AST equality."""

    __slots__ = ("col", "file", "line")

    def __init__(self, file: str, line: int, col: int) -> None:
        self.file = file
        self.line = line
        self.col = col

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Loc) or other is None

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


LocField = Annotated[SkipJsonSchema[Any], Field(exclude=True, repr=False)]

Confidence = Literal["high", "medium", "low"]
StatusKind = Literal["suspended", "not_enforced", "rescinded"]
Action = Literal["read", "clone", "modify", "execute_compiled", "query_api", "export"]
ACTIONS: tuple[str, ...] = ("read", "clone", "modify", "execute_compiled", "query_api", "export")
ParamRole = Literal["control", "exclusion", "exception_ceiling", "policy_eligibility", "presumption", "definition"]
AttrType = Literal["number", "bool", "string"]
FileKind = Literal[
    "weights", "checkpoint", "training_config", "hyperparameters", "source", "dataset", "marker", "other"
]
FILE_KINDS: tuple[str, ...] = (
    "weights", "checkpoint", "training_config", "hyperparameters", "source", "dataset", "marker", "other",
)
DocKind = Literal["fr_rule", "fr_notice", "press_release", "guidance", "letter", "other"]
CompareOp = Literal[">=", ">", "<=", "<", "==", "!="]


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, arbitrary_types_allowed=True)

    loc: LocField = None
    comments: list[str] = Field(default_factory=list, description="Comment lines written above this item.")
    trailing_comment: str | None = Field(default=None, description="Comment at the end of this item's line.")


class ClauseComments(BaseModel):
    """Comments of a one-value clause (``citation``, ``applies to``, ``on`` ...), kept by the formatter."""

    model_config = ConfigDict(extra="forbid")

    leading: list[str] = Field(default_factory=list)
    trailing: str | None = None


class HasClauseComments(BaseModel):
    clause_comments: dict[str, ClauseComments] = Field(
        default_factory=dict, description="Comments of one-value clauses, keyed by the clause keyword.")


DecimalField = Annotated[Decimal, PlainSerializer(lambda d: str(d), return_type=str, when_used="json")]


class Number(BaseModel):
    """An exact number. ``notation`` only remembers how it was written (``10^26`` vs ``100000``)."""

    model_config = ConfigDict(extra="forbid")

    value: DecimalField
    notation: Literal["plain", "sci"] = "plain"


class Cite(Node):
    """Where a fact comes from: one or more documents declared with ``document``."""

    docs: list[str]
    at: str | None = Field(default=None, description="Locator inside the document (paragraph, instruction).")
    confidence: Confidence | None = None
    unresolved: str | None = Field(default=None, description="An open question about this fact, stated.")


# ---------------------------------------------------------------------------------------------------------
# Expressions (conditions over asset and subject attributes)


class Ref(Node):
    """A name: an asset attribute, a parameter, or ``subject.<attr>``. Resolved during validation."""

    type: Literal["ref"] = "ref"
    name: str


class Lit(Node):
    type: Literal["lit"] = "lit"
    value: Number | str | bool


Operand = Annotated[Ref | Lit, Field(discriminator="type")]


class Compare(Node):
    type: Literal["compare"] = "compare"
    op: CompareOp
    left: Operand
    right: Operand


class InSet(Node):
    type: Literal["in_set"] = "in_set"
    left: Operand
    values: list[Lit]


class InGroup(Node):
    """``subject.citizenships in group D:5`` / ``country in group AIA``: membership at the evaluation date."""

    type: Literal["in_group"] = "in_group"
    left: Operand
    group: str


class Meets(Node):
    """``meets 3A090.a``: the asset satisfies that ECCN paragraph's condition (kinds aside)."""

    type: Literal["meets"] = "meets"
    eccn: str


class Truth(Node):
    """A boolean attribute used on its own, or the constants ``true`` / ``false``."""

    type: Literal["truth"] = "truth"
    operand: Operand


class Not(Node):
    type: Literal["not"] = "not"
    item: Expr


class And(Node):
    type: Literal["and"] = "and"
    items: list[Expr]


class Or(Node):
    type: Literal["or"] = "or"
    items: list[Expr]


Expr = Annotated[Compare | InSet | InGroup | Meets | Truth | Not | And | Or, Field(discriminator="type")]


# ---------------------------------------------------------------------------------------------------------
# Dated clauses


class DestSet(BaseModel):
    """Destinations: ``all`` or a list of groups / ISO country codes, minus ``except`` items."""

    model_config = ConfigDict(extra="forbid")

    all: bool = False
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)


class Dated(Node):
    """Base of every clause with a validity window: from ``start`` (inclusive) through ``end`` (inclusive)."""

    start: dt.date | None = None
    end: dt.date | None = None
    cite: Cite | None = None


class StatusEvent(Dated):
    """Suspension, announced non-enforcement or rescission, from ``start`` (through ``end`` if given)."""

    kind: StatusKind


class DocDate(Node):
    """A date a document states: effective (possibly a window, with a scope), compliance, comments due."""

    kind: Literal["effective", "compliance", "comments_due"]
    date: dt.date
    end: dt.date | None = None
    scope: str | None = None
    cite: Cite | None = None


class LicenseReq(Dated):
    dest: DestSet


class Policy(Dated):
    """Licensing policy for destinations, e.g. presumption_of_denial or case_by_case (optionally conditional)."""

    name: str
    dest: DestSet
    when: Expr | None = None


class ExceptionsClause(Dated):
    codes: list[str]


class Exclusion(Node):
    """``except when COND``: a decontrol / "does not apply" note."""

    when: Expr
    cite: Cite | None = None


class ParamValue(Node):
    """One dated value of a parameter; ``value is None`` ends the parameter (OpenFisca's ``null``)."""

    start: dt.date
    value: Number | None
    cite: Cite | None = None


class Membership(Node):
    """``[from D] add|remove CC, ... [through D]``: dated group membership. No ``from``: baseline."""

    op: Literal["add", "remove"]
    members: list[str]
    start: dt.date | None = None
    end: dt.date | None = None
    cite: Cite | None = None


# ---------------------------------------------------------------------------------------------------------
# Declarations


class DocumentDecl(Node, HasClauseComments):
    decl: Literal["document"] = "document"
    id: str
    kind: DocKind = "fr_rule"
    citation: str | None = None
    published: dt.date | None = None
    title: str | None = None
    action: str | None = None
    rin: list[str] = Field(default_factory=list)
    docket: str | None = None
    url: str | None = None
    corrects: str | None = None
    suspends: str | None = None
    confidence: Confidence | None = None
    note: str | None = None
    dates: list[DocDate] = Field(default_factory=list)
    statuses: list[StatusEvent] = Field(default_factory=list)


class UnitDecl(Node):
    decl: Literal["unit"] = "unit"
    name: str
    description: str | None = None


class KindDecl(Node):
    decl: Literal["kind"] = "kind"
    name: str
    description: str | None = None


class AttributeDecl(Node):
    decl: Literal["attribute"] = "attribute"
    name: str
    type: AttrType
    unit: str | None = None
    kinds: list[str] = Field(default_factory=list)
    default: Number | str | bool | None = Field(
        default=None, description="Value used when an asset does not give the attribute (else: unknown).")
    description: str | None = None


class ParameterDecl(Node):
    decl: Literal["parameter"] = "parameter"
    name: str
    unit: str
    role: ParamRole = "control"
    description: str | None = None
    values: list[ParamValue] = Field(default_factory=list)


class GroupDecl(Node):
    decl: Literal["group"] = "group"
    name: str
    description: str | None = None
    members: list[Membership] = Field(default_factory=list)


class ExceptionDecl(Node, HasClauseComments):
    decl: Literal["exception"] = "exception"
    code: str
    title: str | None = None
    section: str | None = None
    effective: Dated | None = None
    statuses: list[StatusEvent] = Field(default_factory=list)


class ControlDecl(Node, HasClauseComments):
    """One version of the control of an ECCN paragraph, valid from ``effective`` through its ``end``."""

    decl: Literal["control"] = "control"
    eccn: str
    title: str | None = None
    applies_to: list[str] = Field(default_factory=list)
    when: Expr | None = None
    when_cite: Cite | None = None
    exclusions: list[Exclusion] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    effective: Dated | None = None
    compliance: Dated | None = None
    licenses: list[LicenseReq] = Field(default_factory=list)
    policies: list[Policy] = Field(default_factory=list)
    exceptions: list[ExceptionsClause] = Field(default_factory=list)
    statuses: list[StatusEvent] = Field(default_factory=list)


class AccessDecl(Node, HasClauseComments):
    """Deemed-export access rule: what ``actions`` on assets classified under ``on`` mean for a person.

    ``effect`` is ``release`` (the action releases the item to the person: a deemed export to each of their
    countries, so license requirements apply), ``allow`` (not a release) or ``deny``.
    """

    decl: Literal["access"] = "access"
    name: str
    title: str | None = None
    on: list[str] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    effect: Literal["release", "allow", "deny"] = "release"
    when: Expr | None = None
    unless: Expr | None = None
    effective: Dated | None = None


class HintDecl(Node):
    """Classification hint for repository files: globs of a file kind map to an asset kind."""

    decl: Literal["hint"] = "hint"
    file_kind: FileKind
    asset_kind: str
    patterns: list[str]


Decl = Annotated[
    DocumentDecl | UnitDecl | KindDecl | AttributeDecl | ParameterDecl | GroupDecl | ExceptionDecl
    | ControlDecl | AccessDecl | HintDecl,
    Field(discriminator="decl"),
]


class RulesFile(Node):
    """A parsed ``.rules`` file (or several concatenated: a ruleset)."""

    title: str | None = None
    decls: list[Decl] = Field(default_factory=list)
    end_comments: list[str] = Field(default_factory=list)


def iter_conditions(e: Expr | None) -> Iterator[Expr]:
    """Every node of a condition tree, parents before children (``None`` yields nothing)."""
    if e is None:
        return
    yield e
    if isinstance(e, Not):
        yield from iter_conditions(e.item)
    elif isinstance(e, And | Or):
        for item in e.items:
            yield from iter_conditions(item)


for _m in (Not, And, Or, Policy, ControlDecl, AccessDecl, Exclusion, RulesFile):
    _m.model_rebuild()
