"""Extracted facts. Every fact keeps the quote it came from, where (an element path such as
``RULE/PREAMB/DATES/P[2]`` or ``paragraph 14``) and a confidence in [0, 1]."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

DateKind = Literal["effective", "compliance", "comments_due"]
EccnAction = Literal["added", "revised", "removed"]
Comparator = Literal[">=", ">", "<=", "<", "=="]


@dataclass
class DocumentMeta:
    document_number: str | None = None
    citation: str | None = None
    publication_date: dt.date | None = None
    type: str | None = None  # "Rule" | "Proposed Rule" | "Notice" | "Presidential Document"
    action: str | None = None
    title: str | None = None
    rin: list[str] = field(default_factory=list)
    agency_docket: str | None = None
    cfr_parts: list[int] = field(default_factory=list)
    corrects: str | None = None
    agency: str | None = None
    subagency: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"document_number": self.document_number, "citation": self.citation,
                "publication_date": self.publication_date.isoformat() if self.publication_date else None,
                "type": self.type, "action": self.action, "title": self.title, "rin": list(self.rin),
                "agency_docket": self.agency_docket, "cfr_parts": list(self.cfr_parts), "corrects": self.corrects,
                "agency": self.agency, "subagency": self.subagency}


@dataclass
class DateFact:
    kind: DateKind
    date: dt.date
    end_date: dt.date | None = None
    scope: str = "whole rule"
    quote: str = ""
    location: str = ""
    confidence: float = 0.9

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "date": self.date.isoformat(),
                "end_date": self.end_date.isoformat() if self.end_date else None, "scope": self.scope,
                "quote": self.quote, "location": self.location, "confidence": self.confidence}


@dataclass
class EccnChange:
    eccn: str
    action: EccnAction
    instruction: str | None = None
    quote: str = ""
    location: str = ""
    confidence: float = 0.9

    def to_json(self) -> dict[str, Any]:
        return {"eccn": self.eccn, "action": self.action, "instruction": self.instruction, "quote": self.quote,
                "location": self.location, "confidence": self.confidence}


@dataclass
class Threshold:
    eccn: str | None
    parameter: str
    comparator: Comparator
    value: Decimal
    unit: str
    quote: str = ""
    location: str = ""
    confidence: float = 0.8

    def to_json(self) -> dict[str, Any]:
        v = self.value
        return {"eccn": self.eccn, "parameter": self.parameter, "comparator": self.comparator,
                "value": int(v) if v == v.to_integral_value() and abs(v) < 2**53 else float(v),
                "value_exact": format(v, "f") if abs(v.adjusted()) < 40 else str(v),
                "unit": self.unit, "quote": self.quote, "location": self.location, "confidence": self.confidence}


@dataclass
class LicenseExceptionChange:
    code: str
    action: EccnAction
    section: str | None = None
    quote: str = ""
    location: str = ""
    confidence: float = 0.85

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "action": self.action, "section": self.section, "quote": self.quote,
                "location": self.location, "confidence": self.confidence}


@dataclass
class CountryGroupChange:
    """A country added to or removed from a country group (``D:5``, ``A:6``, ``AIA`` ...). ``restated``: read
    not from an instruction's words but from a restated ``"list"`` (every member of the group, changed or not)
    or a restated table ``"entry"`` (every group of the country, changed or not)."""

    group: str
    country: str  # ISO 3166 alpha-2
    action: EccnAction  # added | removed
    name: str = ""  # as written
    restated: str | None = None  # None | "list" | "entry"
    instruction: str | None = None
    quote: str = ""
    location: str = ""
    confidence: float = 0.85

    def to_json(self) -> dict[str, Any]:
        return {"group": self.group, "country": self.country, "name": self.name, "action": self.action,
                "restated": self.restated, "instruction": self.instruction, "quote": self.quote,
                "location": self.location, "confidence": self.confidence}


@dataclass
class Extraction:
    document: DocumentMeta
    dates: list[DateFact] = field(default_factory=list)
    eccn_changes: list[EccnChange] = field(default_factory=list)
    thresholds: list[Threshold] = field(default_factory=list)
    license_exceptions: list[LicenseExceptionChange] = field(default_factory=list)
    country_group_changes: list[CountryGroupChange] = field(default_factory=list)
    source: str = ""  # file or stored document
    format: str = ""  # fr-xml | govinfo-html | text
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"document": self.document.to_json(), "dates": [d.to_json() for d in self.dates],
                "eccn_changes": [c.to_json() for c in self.eccn_changes],
                "thresholds": [t.to_json() for t in self.thresholds],
                "license_exceptions": [x.to_json() for x in self.license_exceptions],
                "country_group_changes": [c.to_json() for c in self.country_group_changes],
                "source": self.source, "format": self.format, "warnings": list(self.warnings)}
