"""Leaves of the IR: exact numbers, citations, diagnostics and the three-valued condition language.

Split from :mod:`compiler.ir` (which re-exports every name) to keep modules small. Operands are tagged by
``kind`` (``number``, ``string``, ``bool``, ``attribute``, ``parameter``, ``subject``) and condition nodes by
``type`` (``compare``, ``in_set``, ``in_group``, ``meets``, ``truth``, ``not``, ``and``, ``or``); the
evaluation rules are in each class's docstring and implemented once in :mod:`compiler.evaluate`.
"""

from __future__ import annotations

from decimal import Context, Decimal, localcontext
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CompareOp = Literal[">=", ">", "<=", "<", "==", "!="]
DiagLevel = Literal["ignore", "warn", "error"]

# Exact arithmetic only: far wider than any number a regulation writes (rulesdsl.numbers bounds them to 10^400).
_EXACT = Context(prec=1000, Emax=10_000, Emin=-10_000)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ---------------------------------------------------------------------------------------------------------
# Numbers, citations, diagnostics


class ExactNumber(Frozen):
    """An exact number. ``decimal`` is the source of truth; never compare a threshold as a float.

    ``value == mantissa x 10^exponent`` with no trailing zeros in ``mantissa`` (10^26 is ``1`` and ``26``,
    5.92 is ``592`` and ``-2``). ``float_exact`` says whether the nearest binary64 equals the value: it is
    False for 10^26 (the double is 100000000000000004764729344) and for 5.92, so an f64 engine (regorus,
    JavaScript, C ``double``) misjudges values next to the threshold unless the target scales or compares
    integers.
    """

    decimal: str = Field(description="canonical exact text: '100000000000000000000000000', '5.92', '-3'")
    mantissa: str = Field(description="signed integer text without trailing zeros")
    exponent: int
    integer: bool
    display: str = Field(description="as written in the rules: '10^26', '26_900_000', '5.92'")
    float_exact: bool

    @model_validator(mode="after")
    def _consistent(self) -> ExactNumber:
        with localcontext(_EXACT):
            if Decimal(self.mantissa).scaleb(self.exponent) != Decimal(self.decimal):
                raise ValueError(f"mantissa/exponent {self.mantissa}e{self.exponent} != {self.decimal}")
        return self

    def to_decimal(self) -> Decimal:
        return Decimal(self.decimal)

    @classmethod
    def from_decimal(cls, value: Decimal, display: str | None = None) -> ExactNumber:
        with localcontext(_EXACT):
            v = Decimal(int(value)) if value == value.to_integral_value() else value.normalize()
            sign, digits, exp = v.as_tuple()
            assert isinstance(exp, int)
            all_digits = "".join(map(str, digits))
            text = all_digits.rstrip("0")
            if not text:  # zero
                text, exp, sign = "0", 0, 0
            else:
                exp += len(all_digits) - len(text)
            mantissa = ("-" if sign else "") + text
            return cls(decimal=format(v, "f"), mantissa=mantissa, exponent=exp, integer=exp >= 0,
                       display=display if display is not None else format(v, "f"),
                       float_exact=Decimal(float(v)) == v)


class Citation(Frozen):
    """Where a fact comes from. ``text`` is the human form, e.g. ``90 FR 4544 (FR Doc. 2025-00636), ECCN 4E091``
    (``uncited`` when the rules give no source; then ``documents`` is empty)."""

    text: str
    documents: tuple[str, ...] = ()
    at: str | None = None
    confidence: Literal["high", "medium", "low"] | None = None
    unresolved: str | None = None


class Diagnostic(Frozen):
    """Something a target may be unable to express, or should know. ``ignore``: informational; ``warn``: the
    target can express it but the result may surprise; ``error``: no faithful translation exists."""

    level: DiagLevel
    code: str
    message: str
    rule: str = Field(description="the rule it is about, e.g. 'control 4E091', 'parameter ai_training_operations'")
    location: str | None = Field(default=None, description="FILE:LINE:COL of that rule in the rules source")


# ---------------------------------------------------------------------------------------------------------
# Expressions. Operands are tagged by ``kind``, condition nodes by ``type``.


class NumberLit(Frozen):
    kind: Literal["number"] = "number"
    value: ExactNumber


class StringLit(Frozen):
    kind: Literal["string"] = "string"
    value: str


class BoolLit(Frozen):
    kind: Literal["bool"] = "bool"
    value: bool


Lit = Annotated[NumberLit | StringLit | BoolLit, Field(discriminator="kind")]


class AttributeRef(Frozen):
    """An asset attribute; when the asset lacks it, ``default`` (if any) else *unknown* (missing)."""

    kind: Literal["attribute"] = "attribute"
    name: str
    default: Lit | None = None


class ParameterRef(Frozen):
    """A parameter with its value for this slice. ``value is None`` (no value on these days): *unknown*,
    without making the asset's attributes missing."""

    kind: Literal["parameter"] = "parameter"
    name: str
    role: str
    value: ExactNumber | None


class SubjectRef(Frozen):
    """``subject.NAME``: ``citizenships`` (a list), ``us_person``, ``permanent_resident``, ``foreign_person``;
    any other name (or no subject, as when classifying) is unknown and missing as ``subject.NAME``."""

    kind: Literal["subject"] = "subject"
    name: str


Operand = Annotated[NumberLit | StringLit | BoolLit | AttributeRef | ParameterRef | SubjectRef,
                    Field(discriminator="kind")]


class Compare(Frozen):
    """``left OP right``. Numbers compare exactly; strings only with ``==``/``!=``; a boolean compares with
    ``==``/``!=`` to anything by Python equality (``true == 1`` holds, ``true == "x"`` does not), other
    operators on a boolean are unknown; any other mix (number vs string), or a list, is unknown."""

    type: Literal["compare"] = "compare"
    op: CompareOp
    left: Operand
    right: Operand


class InSet(Frozen):
    """``operand in {values}``; for a list operand (citizenships) any element."""

    type: Literal["in_set"] = "in_set"
    operand: Operand
    values: tuple[Lit, ...]


class InGroup(Frozen):
    """``operand in group G`` with G's members resolved for this slice (a name that is not a group stands
    for itself: ``members == (G,)``)."""

    type: Literal["in_group"] = "in_group"
    operand: Operand
    group: str
    members: tuple[str, ...]


class Meets(Frozen):
    """``meets ECCN``: some control of ``controls`` (ids in this IR, evaluation order) holds for the asset,
    its kinds and status aside. Rescinded controls still count, which is why they stay in the IR."""

    type: Literal["meets"] = "meets"
    eccn: str
    controls: tuple[str, ...]


class Truth(Frozen):
    """A boolean operand on its own (a non-boolean value is unknown)."""

    type: Literal["truth"] = "truth"
    operand: Operand


class Not(Frozen):
    type: Literal["not"] = "not"
    item: Expr


class And(Frozen):
    type: Literal["and"] = "and"
    items: tuple[Expr, ...]


class Or(Frozen):
    type: Literal["or"] = "or"
    items: tuple[Expr, ...]


Expr = Annotated[Compare | InSet | InGroup | Meets | Truth | Not | And | Or, Field(discriminator="type")]


for _m in (AttributeRef, Compare, InSet, InGroup, Truth, Not, And, Or):
    _m.model_rebuild()
