"""Citations, quotes and exact numbers as a report shows them.

Every line of a report must be traceable to its source, so each fact carries two forms of its citation:
the human one (``90 FR 4544 (FR Doc. 2025-00636), ECCN 4E091``, from :meth:`Ruleset.citation`) and the
*quote*: the DSL clause it comes from (``cite 2025-00636 at "ECCN 4E091"``), which a reader can grep for in
the rules. Numbers are printed from their exact :class:`~decimal.Decimal` value, never through a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from rulesdsl import ast as A
from rulesdsl.formatter import q
from rulesdsl.numbers import format_number

if TYPE_CHECKING:
    from rulesdsl.ruleset import Ruleset

#: Integers at least this large are shown in scientific notation (exactly: ``1.00000000000000000000000001 x 10^26``).
SCI_FROM = Decimal(10) ** 6


@dataclass(frozen=True)
class Source:
    """Where a fact comes from: human citation, DSL quote, and the rules' own doubts about it."""

    citation: str
    quote: str
    confidence: str | None = None
    unresolved: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"citation": self.citation, "quote": self.quote, "confidence": self.confidence,
                "unresolved": self.unresolved}


NO_SOURCE = Source("uncited", "")


def quote(cite: A.Cite | None) -> str:
    """The locating part of a DSL ``cite`` clause: documents and ``at`` (not confidence or notes)."""
    if cite is None or not cite.docs:
        return ""
    text = "cite " + ", ".join(cite.docs)
    return text + (f" at {q(cite.at)}" if cite.at is not None else "")


def source(rs: Ruleset, *cites: A.Cite | None) -> Source:
    """The first cite that names a document, with the lowest confidence and every open question of all."""
    order = {"low": 0, "medium": 1, "high": 2}
    main = next((c for c in cites if c is not None and c.docs), None)
    conf: str | None = None
    notes: list[str] = []
    for c in cites:
        if c is None:
            continue
        if c.confidence and (conf is None or order[c.confidence] < order[conf]):
            conf = c.confidence
        if c.unresolved and c.unresolved not in notes:
            notes.append(c.unresolved)
    if main is None:
        return Source("uncited", "", conf, "; ".join(notes) or None)
    return Source(rs.citation(main), quote(main), conf, "; ".join(notes) or None)


def show_number(value: Decimal) -> str:
    """Exact and readable: ``3 x 10^26``, ``100_000_000_000_000_000_000_000_001`` stays exact as
    ``1.00000000000000000000000001 x 10^26``, small values plain (``19.44963144963144963144963145``)."""
    if value == value.to_integral_value() and abs(value) >= SCI_FROM:
        return format_number(value, "sci")
    return format_number(value, "plain").replace("_", ",")


def show_value(value: object) -> str:
    """An attribute value of an asset: exact numbers, booleans as true/false, text as is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return show_number(value)
    return str(value)


def exact(value: Decimal) -> str:
    """The exact decimal text for JSON (``300000000000000000000000000``, ``19.44963144963144963144963145``)."""
    return format_number(value, "plain").replace("_", "")
