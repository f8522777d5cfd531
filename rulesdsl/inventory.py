"""Inventories: the assets (models, weight files, chips, computers, ...) and people a company has.

One row shape, four file formats (YAML, JSON, JSONL, CSV), documented in ``docs/inventory.md`` and described
by the JSON Schema in ``docs/inventory.schema.json`` (:func:`inventory_json_schema`).

Numbers stay exact :class:`~decimal.Decimal` from the text of the file to the rules: JSON is parsed with
``parse_float=Decimal``, YAML floats are rebuilt from their source text, and numeric-looking strings
(``"1e26"``, ``"10^26"``, ``"5 x 10^25"``, ``"26,900,000"``) go through :func:`rulesdsl.numbers.to_decimal`.
Derived attributes (a 6ND estimate of training operations, performance and memory-bandwidth densities) and
the intervals of uncertain values (``X_uncertainty`` or ``X_low`` / ``X_high``; a 6ND estimate is +-50% unless
the row says otherwise) are added after model inheritance; the diff report flags an interval that straddles a
control threshold. Every problem is an :class:`InventoryError` with a one-line ``FILE:ROW:FIELD: message``.
"""

from __future__ import annotations

import csv
import json
import re
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_EVEN, Context, Decimal, localcontext
from pathlib import Path
from typing import IO, Any, Final, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .countries import is_country
from .errors import did_you_mean
from .numbers import NumberFormatError, to_decimal

__all__ = [
    "ATTRIBUTE_PATTERN",
    "BOUND_SUFFIXES",
    "CLEARANCE_KEYS",
    "COUNTRY_PATTERN",
    "DEFAULT_6ND_UNCERTAINTY",
    "ECCN_PATTERN",
    "EXTENSION_PREFIX",
    "KIND_PATTERN",
    "SECTIONS",
    "Asset",
    "AttributeValue",
    "Inventory",
    "InventoryError",
    "License",
    "Subject",
    "dump_inventory_json_schema",
    "inventory_json_schema",
    "iter_inventory",
    "load_inventory",
]

AttributeValue = Decimal | bool | str

ECCN_PATTERN: Final = r"^\d[A-E]\d{3}(\.[a-z0-9]+)*$"
COUNTRY_PATTERN: Final = r"^[A-Z]{2}$"
KIND_PATTERN: Final = r"^[a-z][a-z0-9_]*$"
ATTRIBUTE_PATTERN: Final = r"^[A-Za-z_][A-Za-z0-9_-]*$"
DATE_PATTERN: Final = r"^\d{4}-\d{2}-\d{2}$"

PERSON_KIND: Final = "person"
#: Top-level keys starting with this are ignored (a place for YAML anchors and tool metadata).
EXTENSION_PREFIX: Final = "x-"
#: Top-level sections of a YAML/JSON inventory and the kind their rows imply (``None``: explicit ``kind``).
SECTIONS: Final[Mapping[str, str | None]] = {
    "assets": None,
    "people": PERSON_KIND,
    "models": "model",
    "weights": "model_weights",
    "checkpoints": "checkpoint",
    "training_configs": "training_config",
    "chips": "ic",
    "computers": "computer",
    "repositories": "repository",
}
ROW_FIELDS: Final = ("id", "kind", "name", "path", "model", "owner")
PERSON_FIELDS: Final = ("id", "kind", "name", "citizenships", "permanent_resident", "us_person", "licenses")
PERSON_ONLY: Final = frozenset({"citizenships", "permanent_resident", "us_person", "licenses"})
_NOT_ATTRIBUTES: Final = frozenset({*ROW_FIELDS, "attributes"})
LICENSE_FIELDS: Final = ("eccn", "number", "countries", "valid_from", "valid_through")
#: Asset kinds for which ``performance_density`` is derived from ``tpp`` / ``die_area_mm2``.
DENSITY_KINDS: Final = frozenset({"ic", "computer"})
#: Asset kinds for which ``memory_bandwidth_density`` is derived from ``memory_bandwidth`` / ``package_area_mm2``.
MEMORY_DENSITY_KINDS: Final = frozenset({"ic", "hbm"})
#: Relative uncertainty given to a 6ND estimate of ``training_operations`` when the row states none (+-50%:
#: the approximation ignores attention, re-computation and repeated epochs, and token counts are rounded).
DEFAULT_6ND_UNCERTAINTY: Final = Decimal("0.5")
#: ``X_uncertainty`` (relative, 0..1) or ``X_low`` / ``X_high`` give any numeric attribute ``X`` an interval.
BOUND_SUFFIXES: Final = ("_uncertainty", "_low", "_high")
#: Clearance of a repository row (read by the git hooks target): words, or a list of words in YAML/JSON.
CLEARANCE_KEYS: Final = ("cleared_eccns", "cleared_refs", "cleared_pushers")
#: Significant digits of a derived ``performance_density`` (rounded half-even).
DENSITY_PRECISION: Final = 28

_ECCN_RE = re.compile(ECCN_PATTERN)
_COUNTRY_RE = re.compile(COUNTRY_PATTERN)
_ATTR_RE = re.compile(ATTRIBUTE_PATTERN)
_DATE_RE = re.compile(DATE_PATTERN)
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_LIST_SPLIT_RE = re.compile(r"[;,]")
_WORDS_SPLIT_RE = re.compile(r"[\s,;]+")
_TRUE_WORDS: Final = frozenset({"true", "yes"})
_FALSE_WORDS: Final = frozenset({"false", "no"})
_FLAG_WORDS: Final = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_EXTENSIONS: Final = (".yaml", ".yml", ".json", ".jsonl", ".csv")
# Wide enough that no exact operation (normalize, scaleb, products) rounds, whatever the caller's context.
_EXACT: Final = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_MAX_EXPONENT: Final = 400
_DENSITY_CTX: Final = Context(prec=DENSITY_PRECISION, rounding=ROUND_HALF_EVEN, Emax=MAX_EMAX, Emin=MIN_EMIN)


# ---------------------------------------------------------------------------------------------------------
# Errors


def _one_line(text: str) -> str:
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")


class InventoryError(Exception):
    """A problem with an inventory file: ``FILE:ROW:FIELD: message`` on one line.

    ``row`` is the 1-based record number within its section (YAML/JSON) or the line number (CSV, with the
    header as line 1; JSONL); 0 means the file as a whole. ``field`` names the offending field or column,
    or ``file`` / ``syntax`` / ``row`` for problems that are not about one field.
    """

    def __init__(self, file: str, row: int, field: str, message: str) -> None:
        self.file = _one_line(file)
        self.row = row
        self.field = _one_line(field)
        self.message = _one_line(message)
        super().__init__(f"{self.file}:{self.row}:{self.field}: {self.message}")

    def __reduce__(self) -> tuple[Any, ...]:  # picklable (e.g. across multiprocessing workers)
        return (type(self), (self.file, self.row, self.field, self.message))


@dataclass(slots=True)
class _Loc:
    file: str
    row: int
    context: str = ""  # e.g. "in 'chips', line 14"

    def err(self, field: str, message: str) -> InventoryError:
        return InventoryError(self.file, self.row, field, f"{message} ({self.context})" if self.context else message)

    def describe(self) -> str:
        return f"row {self.row}" + (f" {self.context}" if self.context else "")


def _show(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float | Decimal):
        return f"the number {value}"
    if isinstance(value, datetime):
        return f"the timestamp {value.isoformat()}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, str):
        return f"the string {_show(value)}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _quote_hint(value: object) -> str:
    return " (quote it in YAML)" if isinstance(value, bool | int | float | Decimal | date) else ""


# ---------------------------------------------------------------------------------------------------------
# Values


def _exact_decimal(value: object) -> Decimal:
    if isinstance(value, Decimal) and value.is_finite() and abs(value.adjusted()) > _MAX_EXPONENT:
        # the limit of rulesdsl.numbers for text; also keeps 1e999999999 from becoming a giant integer
        raise NumberFormatError(f"exponent out of range in {value}")
    with localcontext(_EXACT):
        return to_decimal(value)


def _typed_string(text: str) -> AttributeValue:
    """A string attribute value: numeric-looking text becomes an exact Decimal, anything else stays text.

    ECCN-shaped text (``4E091``, ``3E001``) stays text: ``4E091`` is a classification, not 4 x 10^91.
    """
    s = text.strip()
    if not s or not (s[0].isdigit() or s[0] in "+-.") or _ECCN_RE.match(s):
        return text
    try:
        return _exact_decimal(s)
    except NumberFormatError as exc:
        if "out of range" in str(exc):  # a number, but not one the rules can hold: say so
            raise
        return text


def _csv_typed(text: str) -> AttributeValue:
    word = text.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    return _typed_string(text)


def _attribute_value(value: object, loc: _Loc, key: str) -> AttributeValue | None:
    """Type one attribute value from YAML/JSON (``None``: absent)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    try:
        if isinstance(value, str):
            return None if not value.strip() else _typed_string(value)
        if isinstance(value, int | float | Decimal):
            return _exact_decimal(value)
    except NumberFormatError as exc:
        raise loc.err(key, str(exc)) from None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise loc.err(key, f"expected a single value (string, number or boolean) for {key}, got {_describe(value)}")


def _normal_attributes(value: object) -> dict[str, AttributeValue]:
    """Pydantic-side normalisation for programmatic construction (ints/floats/Decimals -> exact Decimal)."""
    if not isinstance(value, Mapping):
        raise ValueError("attributes must be a mapping")
    out: dict[str, AttributeValue] = {}
    for key, v in value.items():
        if not isinstance(key, str):
            raise ValueError(f"attribute names must be strings, got {key!r}")
        if isinstance(v, bool | str):
            out[key] = v
        elif isinstance(v, int | float | Decimal):
            try:
                out[key] = _exact_decimal(v)
            except NumberFormatError as exc:
                raise ValueError(f"{key}: {exc}") from None
        else:
            raise ValueError(f"{key}: expected a Decimal, bool or str, got {type(v).__name__}")
    return out


def _country_problem(code: object) -> str | None:
    if isinstance(code, bool):
        return ("expected a country code, got a boolean (YAML reads an unquoted NO/no/off as false: "
                "quote country codes, e.g. 'NO')")
    if not isinstance(code, str):
        return f"expected an ISO 3166-1 alpha-2 country code, got {_describe(code)}"
    if not _COUNTRY_RE.match(code):
        if _COUNTRY_RE.match(code.upper()):
            return f"country codes are upper case: {code!r} should be {code.upper()!r}"
        return f"invalid country code {_show(code)}: expected ISO 3166-1 alpha-2, e.g. 'CN'"
    if not is_country(code):
        return f"unknown country code {code!r} (not an ISO 3166-1 alpha-2 code)"
    return None


def _check_countries(codes: list[str]) -> list[str]:
    for code in codes:
        problem = _country_problem(code)
        if problem:
            raise ValueError(problem)
    return codes


# ---------------------------------------------------------------------------------------------------------
# Models


class License(BaseModel):
    """An export license (or other authorization) held by a person, for an ECCN or one of its paragraphs."""

    model_config = ConfigDict(extra="forbid")

    eccn: str = Field(pattern=ECCN_PATTERN, description="ECCN or paragraph, e.g. 4E091 or 3A090.a")
    number: str | None = None
    countries: list[str] = Field(default_factory=list, description="ISO alpha-2; empty = any destination")
    valid_from: date | None = None
    valid_through: date | None = Field(default=None, description="inclusive")

    @field_validator("countries")
    @classmethod
    def _countries_ok(cls, value: list[str]) -> list[str]:
        return _check_countries(value)

    @model_validator(mode="after")
    def _window_ok(self) -> License:
        if self.valid_from and self.valid_through and self.valid_from > self.valid_through:
            raise ValueError(f"valid_from {self.valid_from} is after valid_through {self.valid_through}")
        return self

    def valid_on(self, day: date) -> bool:
        """True when ``valid_from <= day <= valid_through`` (open sides for ``None``)."""
        if self.valid_from is not None and day < self.valid_from:
            return False
        return not (self.valid_through is not None and day > self.valid_through)


class Asset(BaseModel):
    """Something the rules classify: a model, a weight file, a chip, a computer, a repository, ..."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: str
    name: str | None = None
    path: str | None = None
    model: str | None = None
    owner: str | None = None
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)

    @field_validator("attributes", mode="before")
    @classmethod
    def _attributes_exact(cls, value: object) -> dict[str, AttributeValue]:
        return _normal_attributes(value)


class Subject(BaseModel):
    """A person, for deemed exports (release of technology or software to a foreign person in the U.S.)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str | None = None
    citizenships: list[str] = Field(default_factory=list)
    permanent_resident: bool = False
    us_person: bool = False
    licenses: list[License] = Field(default_factory=list)

    @field_validator("citizenships")
    @classmethod
    def _citizenships_ok(cls, value: list[str]) -> list[str]:
        return _check_countries(value)

    @model_validator(mode="after")
    def _someone(self) -> Subject:
        if not self.citizenships and not self.us_person:
            raise ValueError("a person needs at least one citizenship unless us_person is true")
        return self


class Inventory(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assets: list[Asset] = Field(default_factory=list)
    people: list[Subject] = Field(default_factory=list)

    def asset(self, asset_id: str) -> Asset:
        """The asset with this id (``KeyError`` if none)."""
        for a in self.assets:
            if a.id == asset_id:
                return a
        raise KeyError(asset_id)

    def person(self, person_id: str) -> Subject:
        """The person with this id (``KeyError`` if none)."""
        for p in self.people:
            if p.id == person_id:
                return p
        raise KeyError(person_id)


_M = TypeVar("_M", bound=BaseModel)


def _loc_field(parts: Iterable[object]) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p + 1}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def _build(cls: type[_M], loc: _Loc, prefix: str = "", **values: Any) -> _M:
    try:
        return cls(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = _loc_field(first.get("loc", ()))
        field = f"{prefix}.{name}" if prefix and name else (prefix or name or "row")
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        raise loc.err(field, message) from None


# ---------------------------------------------------------------------------------------------------------
# Rows (format independent)


@dataclass(slots=True)
class _RawAsset:
    loc: _Loc
    id: str
    kind: str
    name: str | None
    path: str | None
    model: str | None
    owner: str | None
    attrs: dict[str, AttributeValue]


@dataclass(slots=True)
class _RawPerson:
    loc: _Loc
    id: str
    subject: Subject


_Raw = _RawAsset | _RawPerson


def _reference(value: object, loc: _Loc, key: str) -> str | None:
    """``id``/``kind``/``model``: a string, surrounding whitespace dropped, no control characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise loc.err(key, f"{key} must be a string, got {_describe(value)}{_quote_hint(value)}")
    text = value.strip()
    if not text:
        return None
    if _CONTROL_RE.search(text):
        raise loc.err(key, f"{key} {_show(text)} contains a control character (newline, tab, ...)")
    return text


def _text(value: object, loc: _Loc, key: str) -> str | None:
    """``name``/``path``/``owner``: kept verbatim (blank means absent)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise loc.err(key, f"{key} must be a string, got {_describe(value)}{_quote_hint(value)}")
    return value if value.strip() else None


def _flag(value: object, loc: _Loc, key: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if not word:
            return False
        if word in _FLAG_WORDS:
            return _FLAG_WORDS[word]
    raise loc.err(key, f"{key} must be true or false, got {_describe(value)}")


def _countries(value: object, loc: _Loc, key: str) -> list[str]:
    """A list of country codes, or one string separated by ``;`` or ``,`` (``"CN;IN"``)."""
    if value is None:
        return []
    if isinstance(value, str):
        items: list[object] = [c.strip() for c in _LIST_SPLIT_RE.split(value) if c.strip()]
    elif isinstance(value, list):
        items = [c.strip() if isinstance(c, str) else c for c in value]
    else:
        raise loc.err(key, f"{key} must be a list of country codes, got {_describe(value)}")
    out: list[str] = []
    for i, code in enumerate(items, 1):
        problem = _country_problem(code)
        if problem:
            raise loc.err(key if isinstance(value, str) else f"{key}[{i}]", problem)
        assert isinstance(code, str)
        if code not in out:
            out.append(code)
    return out


def _date(value: object, loc: _Loc, key: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        raise loc.err(key, f"{key} must be a date (YYYY-MM-DD), got {_describe(value)}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if _DATE_RE.match(text):
            try:
                return date.fromisoformat(text)
            except ValueError as exc:
                raise loc.err(key, f"invalid date {text!r}: {exc}") from None
        raise loc.err(key, f"invalid date {_show(text)}: expected YYYY-MM-DD")
    raise loc.err(key, f"{key} must be a date (YYYY-MM-DD), got {_describe(value)}")


def _eccn(value: object, loc: _Loc, key: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise loc.err(key, "a license needs an eccn")
    if not isinstance(value, str):
        raise loc.err(key, f"eccn must be a string such as '4E091', got {_describe(value)}")
    text = value.strip()
    if not _ECCN_RE.match(text):
        raise loc.err(key, f"invalid ECCN {_show(text)}: expected e.g. 4E091 or 3A090.a")
    return text


_COMPACT_FORM = "ECCN[@CC,CC...][:NUMBER[:FROM..THROUGH]]"


def _compact_license(text: str, loc: _Loc, key: str) -> License:
    """``4E091@CN,IN:D123456:2025-01-01..2026-12-31`` (see docs/inventory.md, "Licenses")."""
    parts = text.split(":")
    if len(parts) > 3:
        raise loc.err(key, f"license {_show(text.strip())} has too many ':'; the form is {_COMPACT_FORM}")
    head = parts[0].strip()
    number = parts[1].strip() if len(parts) > 1 else ""
    window = parts[2].strip() if len(parts) > 2 else ""
    eccn_text, at, countries_text = head.partition("@")
    eccn = _eccn(eccn_text, loc, key)
    countries: list[str] = []
    if at:
        if not countries_text.strip():
            raise loc.err(key, f"license {_show(text.strip())}: no countries after '@'")
        countries = _countries(countries_text, loc, key)
    if ".." in number and len(parts) == 2:
        raise loc.err(key, f"license {_show(text.strip())}: {number!r} is in the license-number position; "
                           f"write ECCN::FROM..THROUGH for a license without a number")
    valid_from = valid_through = None
    if window:
        if ".." not in window:
            raise loc.err(key, f"license validity {_show(window)} must be FROM..THROUGH "
                               f"(either side may be empty)")
        start, _, end = window.partition("..")
        valid_from = _date(start, loc, key)
        valid_through = _date(end, loc, key)
    return _build(License, loc, key, eccn=eccn, number=number or None, countries=countries,
                  valid_from=valid_from, valid_through=valid_through)


def _license_mapping(data: dict[Any, Any], loc: _Loc, key: str) -> License:
    _check_keys(data, loc, key)
    for k in data:
        if k not in LICENSE_FIELDS:
            raise loc.err(f"{key}.{k}", f"unknown license field {_show(k)}{did_you_mean(str(k), LICENSE_FIELDS)}; "
                                        f"licenses take {', '.join(LICENSE_FIELDS)}")
    number = data.get("number")
    if number is not None and not isinstance(number, str):
        raise loc.err(f"{key}.number", f"number must be a string, got {_describe(number)}{_quote_hint(number)}")
    return _build(
        License, loc, key,
        eccn=_eccn(data.get("eccn"), loc, f"{key}.eccn"),
        number=(number.strip() or None) if isinstance(number, str) else None,
        countries=_countries(data.get("countries"), loc, f"{key}.countries"),
        valid_from=_date(data.get("valid_from"), loc, f"{key}.valid_from"),
        valid_through=_date(data.get("valid_through"), loc, f"{key}.valid_through"),
    )


def _licenses(value: object, loc: _Loc) -> list[License]:
    if value is None:
        return []
    if isinstance(value, str):
        return [_compact_license(t, loc, "licenses") for t in value.split(";") if t.strip()]
    if not isinstance(value, list):
        raise loc.err("licenses", f"licenses must be a list, got {_describe(value)}")
    out: list[License] = []
    for i, item in enumerate(value, 1):
        key = f"licenses[{i}]"
        if isinstance(item, dict):
            out.append(_license_mapping(item, loc, key))
        elif isinstance(item, str):
            out.extend(_compact_license(t, loc, key) for t in item.split(";") if t.strip())
        else:
            raise loc.err(key, f"a license is a mapping or a compact string, got {_describe(item)}")
    return out


def _check_keys(data: Mapping[Any, Any], loc: _Loc, prefix: str = "") -> None:
    dups: Sequence[str] = getattr(data, "dups", ())
    if dups:
        raise loc.err(f"{prefix}.{dups[0]}" if prefix else dups[0], f"key {_show(dups[0])} appears twice")
    for k in data:
        if not isinstance(k, str):
            raise loc.err(prefix or "row", f"field names must be strings, got {_describe(k)}")


def _is_kind(text: str) -> bool:
    """``KIND_PATTERN`` without a regex match object per row: ``^[a-z][a-z0-9_]*$``."""
    return text.isascii() and text.isidentifier() and "a" <= text[0] <= "z" and text.islower()


def _row(data: object, loc: _Loc, section: str | None, *, from_csv: bool = False) -> _Raw:
    """One asset or person from a mapping. ``section``: the YAML/JSON section, ``None`` for CSV/JSONL."""
    if not isinstance(data, dict):
        raise loc.err("row", f"expected a mapping of fields, got {_describe(data)}")
    if not from_csv:  # CSV keys are the (checked) header names
        _check_keys(data, loc)
    row_id = _reference(data.get("id"), loc, "id")
    if row_id is None:
        raise loc.err("id", "missing id")
    implied = SECTIONS.get(section) if section else None
    kind = _reference(data.get("kind"), loc, "kind")
    if kind is None:
        if implied is None:
            raise loc.err("kind", f"missing kind for {row_id!r}")
        kind = implied
    elif not _is_kind(kind):
        raise loc.err("kind", f"invalid kind {_show(kind)}: kinds are lower-case names such as model or ic")
    elif implied is not None and kind != implied:
        raise loc.err("kind", f"rows in {section!r} have kind {implied!r}, this one says {kind!r} "
                              f"(move it to 'assets' or drop its kind)")
    if kind == PERSON_KIND:
        if section == "assets":
            raise loc.err("kind", f"{row_id!r} is a person: people go in the 'people' section")
        return _person(data, loc, row_id)
    return _asset(data, loc, row_id, kind, from_csv)


def _asset(data: dict[str, Any], loc: _Loc, row_id: str, kind: str, from_csv: bool) -> _RawAsset:
    attrs: dict[str, AttributeValue] = {}
    for key, value in data.items():
        if key not in _NOT_ATTRIBUTES:
            _add_attribute(attrs, key, value, loc, kind, from_csv)
    nested = data.get("attributes")
    if nested is not None:
        if not isinstance(nested, dict):
            raise loc.err("attributes", f"attributes must be a mapping, got {_describe(nested)}")
        _check_keys(nested, loc, "attributes")
        for key, value in nested.items():
            if key in _NOT_ATTRIBUTES:
                raise loc.err(key, f"{key!r} is a row field; put it on the row, not under attributes")
            if key in data:
                raise loc.err(key, f"{key!r} is given both on the row and under attributes")
            _add_attribute(attrs, key, value, loc, kind, from_csv)
    return _RawAsset(loc, row_id, kind, _text(data.get("name"), loc, "name"), _text(data.get("path"), loc, "path"),
                     _reference(data.get("model"), loc, "model"), _text(data.get("owner"), loc, "owner"), attrs)


def _add_attribute(attrs: dict[str, AttributeValue], key: str, value: object, loc: _Loc, kind: str,
                   from_csv: bool) -> None:
    if key in PERSON_ONLY:
        raise loc.err(key, f"{key} applies to people (kind person), not to a {kind} row")
    if not _ATTR_RE.match(key):
        raise loc.err(key, f"invalid attribute name {_show(key)}: use letters, digits, '_' and '-'")
    if key in CLEARANCE_KEYS:
        words = _clearance(value, loc, key, kind)
        if words:
            attrs[key] = words
        return
    if from_csv and isinstance(value, str):
        try:
            typed: AttributeValue | None = _csv_typed(value)
        except NumberFormatError as exc:
            raise loc.err(key, str(exc)) from None
    else:
        typed = _attribute_value(value, loc, key)
    if typed is not None:
        attrs[key] = typed


def _clearance(value: object, loc: _Loc, key: str, kind: str) -> str:
    """``cleared_eccns: [4E091, 3A090]`` or ``"4E091 3A090"`` (``;``/``,`` also separate): one space-separated
    string, the shape the git hooks target reads. ECCNs are checked here, where the row is known."""
    if kind != "repository":
        raise loc.err(key, f"{key} is the clearance of a repository row (kind repository), not of a {kind} row")
    if value is None:
        return ""
    items: list[tuple[str, str]] = []
    if isinstance(value, str):
        items = [(key, w) for w in _WORDS_SPLIT_RE.split(value) if w]
    elif isinstance(value, list):
        for i, item in enumerate(value, 1):
            if not isinstance(item, str):
                raise loc.err(f"{key}[{i}]", f"expected text, got {_describe(item)}{_quote_hint(item)}")
            items += [(f"{key}[{i}]", w) for w in _WORDS_SPLIT_RE.split(item) if w]
    else:
        raise loc.err(key, f"{key} must be words or a list of words, got {_describe(value)}{_quote_hint(value)}")
    for field, word in items:
        if _CONTROL_RE.search(word):
            raise loc.err(field, f"{_show(word)} contains a control character")
        if key == "cleared_eccns" and word != "*" and not _ECCN_RE.match(word):
            raise loc.err(field, f"invalid ECCN {_show(word)} in cleared_eccns: expected e.g. 4E091, 3A090.a or '*'")
    return " ".join(w for _, w in items)


def _person(data: dict[str, Any], loc: _Loc, row_id: str) -> _RawPerson:
    for key in data:
        if key not in PERSON_FIELDS:
            raise loc.err(key, f"unknown field {_show(key)} for a person{did_you_mean(key, PERSON_FIELDS)}; "
                               f"people take {', '.join(PERSON_FIELDS)}")
    us_person = _flag(data.get("us_person"), loc, "us_person")
    citizenships = _countries(data.get("citizenships"), loc, "citizenships")
    if not citizenships and not us_person:
        raise loc.err("citizenships", f"{row_id!r} needs at least one citizenship (ISO 3166-1 alpha-2, e.g. CN) "
                                      f"unless us_person is true")
    subject = _build(
        Subject, loc,
        id=row_id,
        name=_text(data.get("name"), loc, "name"),
        citizenships=citizenships,
        permanent_resident=_flag(data.get("permanent_resident"), loc, "permanent_resident"),
        us_person=us_person,
        licenses=_licenses(data.get("licenses"), loc),
    )
    return _RawPerson(loc, row_id, subject)


# ---------------------------------------------------------------------------------------------------------
# Derived attributes and model inheritance


def _number(attrs: Mapping[str, AttributeValue], key: str, loc: _Loc, why: str, inherited: bool) -> Decimal:
    value = attrs[key]
    if isinstance(value, bool) or not isinstance(value, Decimal):
        suffix = " (inherited from its model)" if inherited else ""
        raise loc.err(key, f"{key} must be a number {why}, got {_describe(value)}{suffix}")
    return value


def _derive(raw: _RawAsset, attrs: dict[str, AttributeValue]) -> dict[str, AttributeValue]:
    """Add what can be derived (6ND training operations, densities, intervals of uncertain values). Mutates."""
    if "training_operations" not in attrs and "parameters" in attrs and "tokens" in attrs:
        why = "to estimate training_operations = 6 x parameters x tokens"
        n = _number(attrs, "parameters", raw.loc, why, "parameters" not in raw.attrs)
        d = _number(attrs, "tokens", raw.loc, why, "tokens" not in raw.attrs)
        with localcontext(_EXACT):
            attrs["training_operations"] = to_decimal(6 * n * d)
        attrs["training_operations_estimated"] = True
        if not any(f"training_operations{s}" in attrs for s in BOUND_SUFFIXES):
            attrs["training_operations_uncertainty"] = DEFAULT_6ND_UNCERTAINTY
    _ratio(raw, attrs, DENSITY_KINDS, "performance_density", "tpp", "die_area_mm2")
    _ratio(raw, attrs, MEMORY_DENSITY_KINDS, "memory_bandwidth_density", "memory_bandwidth", "package_area_mm2")
    if any(k.endswith(BOUND_SUFFIXES) for k in attrs):
        _intervals(raw, attrs)
    return attrs


def _ratio(raw: _RawAsset, attrs: dict[str, AttributeValue], kinds: frozenset[str], out: str, num: str,
           den: str) -> None:
    """``out = num / den`` to 28 significant digits, for rows of ``kinds`` that give both and not ``out``."""
    if raw.kind not in kinds or out in attrs or num not in attrs or den not in attrs:
        return
    why = f"to derive {out} = {num} / {den}"
    top = _number(attrs, num, raw.loc, why, num not in raw.attrs)
    bottom = _number(attrs, den, raw.loc, why, den not in raw.attrs)
    if bottom <= 0:
        raise raw.loc.err(den, f"{den} must be positive {why}, got {bottom}")
    with localcontext(_DENSITY_CTX):
        quotient = top / bottom
    attrs[out] = _exact_decimal(quotient)


def _intervals(raw: _RawAsset, attrs: dict[str, AttributeValue]) -> None:
    """``X_low`` / ``X_high`` for every numeric ``X`` given an uncertainty or a bound (docs/inventory.md,
    "Uncertain values"): the report flags an asset whose interval straddles a control threshold."""
    bases = {k[: -len(s)] for k in list(attrs) for s in BOUND_SUFFIXES if k.endswith(s) and len(k) > len(s)}
    for base in sorted(bases):
        u_key, lo_key, hi_key = (base + s for s in BOUND_SUFFIXES)
        if base not in attrs:
            if u_key in attrs:  # X_low / X_high alone are ordinary attributes (e.g. a 'risk_high' flag)
                raise raw.loc.err(u_key, f"{u_key} needs {base}, the value it is the uncertainty of")
            continue
        value = attrs[base]
        if isinstance(value, bool) or not isinstance(value, Decimal):
            if u_key in attrs:
                raise raw.loc.err(base, f"{base} must be a number to have an uncertainty, got {_describe(value)}")
            continue
        why = f"as a bound of {base}"
        if u_key in attrs:
            if lo_key in attrs or hi_key in attrs:
                raise raw.loc.err(u_key, f"give {u_key} or {lo_key} / {hi_key}, not both")
            u = _fraction(attrs[u_key], raw.loc, u_key)
            attrs[u_key] = u
            with localcontext(_EXACT):
                spread = abs(value) * u
                attrs[lo_key], attrs[hi_key] = to_decimal(value - spread), to_decimal(value + spread)
            continue
        low = _number(attrs, lo_key, raw.loc, why, lo_key not in raw.attrs) if lo_key in attrs else value
        high = _number(attrs, hi_key, raw.loc, why, hi_key not in raw.attrs) if hi_key in attrs else value
        if low > value:
            raise raw.loc.err(lo_key, f"{lo_key} {low} is above {base} {value}")
        if high < value:
            raise raw.loc.err(hi_key, f"{hi_key} {high} is below {base} {value}")
        attrs[lo_key], attrs[hi_key] = low, high


def _fraction(value: AttributeValue, loc: _Loc, key: str) -> Decimal:
    """A relative uncertainty: ``0.3`` or ``"30%"``, between 0 and 1."""
    u: Decimal | None = value if isinstance(value, Decimal) and not isinstance(value, bool) else None
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            u = _exact_decimal(value.strip()[:-1].strip()).scaleb(-2, _EXACT)
        except NumberFormatError:
            u = None
    if u is None or not 0 <= u <= 1:
        shown = _describe(value) if u is None else f"{value}"
        raise loc.err(key, f"{key} must be a relative uncertainty between 0 and 1 (0.5 or '50%' = +-50%), got "
                           f"{shown}; for a wider or one-sided range give the _low and _high bounds")
    return to_decimal(u)


def _asset_model(raw: _RawAsset, merged: Mapping[str, AttributeValue]) -> Asset:
    attrs = _derive(raw, dict(merged))
    # Values are typed already; model_construct skips re-validating every attribute of every row.
    return Asset.model_construct(id=raw.id, kind=raw.kind, name=raw.name, path=raw.path, model=raw.model,
                                 owner=raw.owner, attributes=attrs)


def _resolve_all(raws: list[_Raw]) -> list[Asset | Subject]:
    """Whole-file resolution: duplicate ids, model references in any order, chains, cycles."""
    by_id: dict[str, _Raw] = {}
    for r in raws:
        first = by_id.get(r.id)
        if first is not None:
            raise r.loc.err("id", f"duplicate id {r.id!r} (first used at {first.loc.describe()})")
        by_id[r.id] = r
    merged: dict[str, dict[str, AttributeValue]] = {}

    def attributes_of(r: _RawAsset) -> dict[str, AttributeValue]:
        chain: list[_RawAsset] = []
        on_chain: set[str] = set()
        cur = r
        while cur.id not in merged and cur.model is not None:
            if cur.id in on_chain:
                raise r.loc.err("model", f"model references form a cycle: "
                                         f"{' -> '.join([c.id for c in chain] + [cur.id])}")
            chain.append(cur)
            on_chain.add(cur.id)
            parent = by_id.get(cur.model)
            if parent is None:
                ids = [k for k, v in by_id.items() if isinstance(v, _RawAsset) and v.kind == "model"]
                raise cur.loc.err("model", f"unknown model {cur.model!r}{did_you_mean(cur.model, ids)}")
            if not isinstance(parent, _RawAsset) or parent.kind != "model":
                what = "a person" if isinstance(parent, _RawPerson) else f"a {parent.kind} row"
                raise cur.loc.err("model", f"{cur.model!r} is {what}; model must name a row of kind model")
            cur = parent
        base = merged.setdefault(cur.id, cur.attrs)
        for c in reversed(chain):
            base = {**base, **c.attrs}
            merged[c.id] = base
        return merged[r.id]

    return [r.subject if isinstance(r, _RawPerson) else _asset_model(r, attributes_of(r)) for r in raws]


class _SeenIds:
    """A compact set of 64-bit string hashes (8 bytes a slot, linear probing, load <= 1/2).

    ``add`` answers "maybe seen before"; a yes is confirmed against the file before it is reported, so a
    hash collision can never produce a false duplicate-id error.
    """

    __slots__ = ("_count", "_mask", "_table")

    def __init__(self) -> None:
        self._table = array("Q", [0]) * 1024
        self._mask = 1023
        self._count = 0

    @staticmethod
    def _key(text: str) -> int:
        return (hash(text) & 0xFFFF_FFFF_FFFF_FFFF) or 1

    def add(self, text: str) -> bool:
        h = self._key(text)
        table, mask = self._table, self._mask
        i = h & mask
        while True:
            v = table[i]
            if v == 0:
                table[i] = h
                self._count += 1
                if self._count * 2 > mask:
                    self._grow()
                return False
            if v == h:
                return True
            i = (i + 1) & mask

    def _grow(self) -> None:
        old = self._table
        self._mask = mask = self._mask * 2 + 1
        self._table = table = array("Q", [0]) * (mask + 1)
        for h in old:
            if h:
                i = h & mask
                while table[i]:
                    i = (i + 1) & mask
                table[i] = h


def _resolve_stream(raws: Iterator[_Raw], path: Path, display: str) -> Iterator[Asset | Subject]:
    """Row-by-row resolution: a model must appear before the rows that reference it."""
    seen = _SeenIds()
    models: dict[str, dict[str, AttributeValue]] = {}
    for r in raws:
        if seen.add(r.id):
            first = _first_use(path, display, r.id, r.loc.row)
            if first is not None:
                raise r.loc.err("id", f"duplicate id {r.id!r} (first used at {first.describe()})")
        if isinstance(r, _RawPerson):
            yield r.subject
            continue
        attrs = r.attrs
        if r.model is not None:
            parent = models.get(r.model)
            if parent is None:
                raise r.loc.err("model", f"unknown model {r.model!r}{did_you_mean(r.model, models)}: no row of "
                                         f"kind model with that id comes before this row (CSV and JSONL are "
                                         f"streamed, so models must come first)")
            attrs = {**parent, **attrs}
        if r.kind == "model":
            models[r.id] = attrs
        yield _asset_model(r, attrs)


def _first_use(path: Path, display: str, row_id: str, before: int) -> _Loc | None:
    for r in _raw_rows(path, display):
        if r.loc.row >= before:
            return None
        if r.id == row_id:
            return r.loc
    return None  # pragma: no cover - the current row always ends the scan


# ---------------------------------------------------------------------------------------------------------
# Readers


class _Obj(dict[Any, Any]):
    """A mapping from YAML/JSON that remembers where it started and which keys it repeated."""

    line: int | None = None
    key_lines: dict[str, int] | None = None
    dups: list[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dups = []


class _YamlLoader(yaml.SafeLoader):
    """SafeLoader + exact floats, line numbers and duplicate keys on mappings, invalid dates kept as text."""


def _yaml_map(loader: _YamlLoader, node: yaml.MappingNode) -> Iterator[_Obj]:
    data = _Obj()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    seen: set[str] = set()
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            if key_node.value in seen and key_node.value not in data.dups:
                data.dups.append(key_node.value)
            seen.add(key_node.value)
            data.key_lines.setdefault(key_node.value, key_node.start_mark.line + 1)
    data.update(loader.construct_mapping(node))


def _yaml_float(loader: _YamlLoader, node: yaml.ScalarNode) -> object:
    text = str(loader.construct_scalar(node))
    try:
        return _exact_decimal(text.replace("_", ""))
    except NumberFormatError:
        return loader.construct_yaml_float(node)  # .inf, .nan, 1:30.5 (the typing step rejects non-finite)


def _yaml_timestamp(loader: _YamlLoader, node: yaml.ScalarNode) -> object:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:  # 2025-02-30: keep the text, the field check reports it with its row
        return str(loader.construct_scalar(node))


_YamlLoader.add_constructor("tag:yaml.org,2002:map", _yaml_map)
_YamlLoader.add_constructor("tag:yaml.org,2002:float", _yaml_float)
_YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _yaml_timestamp)


def _json_object(pairs: list[tuple[str, Any]]) -> _Obj:
    data = _Obj()
    for k, v in pairs:
        if k in data and k not in data.dups:
            data.dups.append(k)
        data[k] = v
    return data


def _json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number an inventory can hold")


def _json_loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal, parse_constant=_json_constant, object_pairs_hook=_json_object)


def _open(path: Path, display: str) -> IO[str]:
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InventoryError(display, 0, "file", f"cannot read the inventory: {exc.strerror or exc}") from None


def _read_text(path: Path, display: str) -> str:
    with _open(path, display) as f:
        try:
            text = f.read()
        except UnicodeDecodeError as exc:
            raise InventoryError(display, 0, "file", f"not UTF-8 text (byte {exc.start})") from None
        except OSError as exc:
            raise InventoryError(display, 0, "file", f"cannot read the inventory: {exc.strerror or exc}") from None
    if not text.strip():
        raise InventoryError(display, 0, "file", "empty inventory file")
    return text


def _document_rows(doc: object, display: str, fmt: str) -> Iterator[_Raw]:
    if doc is None:
        raise InventoryError(display, 0, "file", "empty inventory file")
    if not isinstance(doc, dict):
        raise InventoryError(display, 0, "file", f"expected a mapping of sections ({', '.join(SECTIONS)}), "
                                                 f"got {_describe(doc)}")
    key_lines: dict[str, int] = getattr(doc, "key_lines", None) or {}
    dups: list[str] = getattr(doc, "dups", [])
    if dups:
        raise InventoryError(display, 0, dups[0], f"section {_show(dups[0])} appears twice")
    for section, rows in doc.items():
        where = f" (line {key_lines[section]})" if isinstance(section, str) and section in key_lines else ""
        if isinstance(section, str) and section.startswith(EXTENSION_PREFIX):
            continue  # x-...: ignored (YAML anchors, tool metadata)
        if not isinstance(section, str) or section not in SECTIONS:
            name = str(section)
            raise InventoryError(display, 0, name, f"unknown top-level key {_show(section)}"
                                                   f"{did_you_mean(name, SECTIONS)}; expected "
                                                   f"{', '.join(SECTIONS)} or x-...{where}")
        if rows is None:
            continue
        if not isinstance(rows, list):
            raise InventoryError(display, 0, section, f"section {section!r} must be a list of rows, got "
                                                      f"{_describe(rows)}{where}")
        for i, item in enumerate(rows, 1):
            line = getattr(item, "line", None)
            context = f"in {section!r}, line {line}" if fmt == "yaml" and line else f"in {section!r}"
            yield _row(item, _Loc(display, i, context), section)


def _yaml_rows(path: Path, display: str) -> Iterator[_Raw]:
    text = _read_text(path, display)
    try:
        doc = yaml.load(text, Loader=_YamlLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        col = f" (column {mark.column + 1})" if mark else ""
        what = " ".join(p for p in (exc.context, exc.problem) if p) or "malformed YAML"
        raise InventoryError(display, line, "syntax", f"malformed YAML: {what}{col}") from None
    except yaml.YAMLError as exc:
        raise InventoryError(display, 0, "syntax", f"malformed YAML: {exc}") from None
    except RecursionError:
        raise InventoryError(display, 0, "syntax", "malformed YAML: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer longer than Python's int/str conversion limit
        raise InventoryError(display, 0, "syntax", f"malformed YAML: {exc}") from None
    yield from _document_rows(doc, display, "yaml")


def _json_rows(path: Path, display: str) -> Iterator[_Raw]:
    text = _read_text(path, display)
    try:
        doc = _json_loads(text)
    except json.JSONDecodeError as exc:
        raise InventoryError(display, exc.lineno, "syntax", f"malformed JSON: {exc.msg} (column {exc.colno})") \
            from None
    except (ValueError, RecursionError) as exc:
        raise InventoryError(display, 0, "syntax", f"malformed JSON: {exc or 'nested too deeply'}") from None
    yield from _document_rows(doc, display, "json")


def _jsonl_rows(path: Path, display: str) -> Iterator[_Raw]:
    content = False
    lineno = 0
    with _open(path, display) as f:
        try:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                content = True
                try:
                    obj = _json_loads(line)
                except json.JSONDecodeError as exc:
                    raise InventoryError(display, lineno, "syntax",
                                         f"malformed JSON: {exc.msg} (column {exc.colno})") from None
                except (ValueError, RecursionError) as exc:
                    raise InventoryError(display, lineno, "syntax",
                                         f"malformed JSON: {exc or 'nested too deeply'}") from None
                yield _row(obj, _Loc(display, lineno), None)
        except UnicodeDecodeError:
            raise InventoryError(display, lineno + 1, "file", "not UTF-8 text") from None
    if not content:
        raise InventoryError(display, 0, "file", "empty inventory file")


def _csv_header(cells: list[str], display: str, line: int) -> list[str]:
    columns = [c.strip() for c in cells]
    known = set(ROW_FIELDS) | PERSON_ONLY
    for i, name in enumerate(columns, 1):
        if not name:
            raise InventoryError(display, line, f"column {i}", "empty column name in the header")
        if name == "attributes":
            raise InventoryError(display, line, name, "CSV has no nested attributes: give each attribute a column")
        if name not in known and not _ATTR_RE.match(name):
            raise InventoryError(display, line, name, f"invalid column name {_show(name)}: use letters, digits, "
                                                   f"'_' and '-'")
        if name in columns[: i - 1]:
            raise InventoryError(display, line, name, f"column {name!r} appears twice in the header")
    for required in ("id", "kind"):
        if required not in columns:
            raise InventoryError(display, line, required, f"missing required column {required!r} "
                                                       f"(the header is: {', '.join(columns)})")
    return columns


def _csv_rows(path: Path, display: str) -> Iterator[_Raw]:
    with _open(path, display) as f:
        reader = csv.reader(f, strict=True)
        columns: list[str] | None = None
        prev = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                at = f" (detected at line {reader.line_num})" if reader.line_num != prev + 1 else ""
                raise InventoryError(display, prev + 1, "syntax", f"malformed CSV: {exc}{at}") from None
            except UnicodeDecodeError:
                raise InventoryError(display, prev + 1, "file", "not UTF-8 text") from None
            line, prev = prev + 1, reader.line_num
            if columns is None:
                if any(c.strip() for c in cells):
                    columns = _csv_header(cells, display, line)
                continue
            if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns):]):
                raise InventoryError(display, line, "row", f"{len(cells)} cells but the header has "
                                                           f"{len(columns)} columns")
            data = {col: cell for col, cell in zip(columns, cells, strict=False) if cell and not cell.isspace()}
            if not data:
                continue
            yield _row(data, _Loc(display, line), None, from_csv=True)
        if columns is None:
            raise InventoryError(display, 0, "file", "empty inventory file")


def _raw_rows(path: Path, display: str) -> Iterator[_Raw]:
    ext = path.suffix.lower()
    if ext in (".yaml", ".yml"):
        return _yaml_rows(path, display)
    if ext == ".json":
        return _json_rows(path, display)
    if ext == ".jsonl":
        return _jsonl_rows(path, display)
    return _csv_rows(path, display)


def _checked_path(path: str | Path) -> tuple[Path, str]:
    p = Path(path)
    display = str(path)
    if p.suffix.lower() not in _EXTENSIONS:
        raise InventoryError(display, 0, "file", f"unknown inventory file extension {p.suffix or '(none)'!r}; "
                                                 f"expected {', '.join(_EXTENSIONS)}")
    if not p.exists():
        raise InventoryError(display, 0, "file", "cannot read the inventory: no such file")
    return p, display


# ---------------------------------------------------------------------------------------------------------
# Public API


def load_inventory(path: str | Path) -> Inventory:
    """Load a whole inventory (.yaml/.yml, .json, .jsonl or .csv). Raises :class:`InventoryError`.

    Model references may point forward or backward in any format; rows keep their file order.
    """
    p, display = _checked_path(path)
    rows = _resolve_all(list(_raw_rows(p, display)))
    return Inventory.model_construct(assets=[r for r in rows if isinstance(r, Asset)],
                                     people=[r for r in rows if isinstance(r, Subject)])


def iter_inventory(path: str | Path) -> Iterator[Asset | Subject]:
    """Assets and people in file order. CSV and JSONL are read row by row (memory does not grow with the
    file beyond 16-32 bytes an id and the attributes of ``model`` rows), so there a ``model:`` reference
    must name a model that appears earlier in the file. YAML and JSON are loaded whole.

    The extension and existence of the file are checked at the call; everything else while iterating.
    """
    p, display = _checked_path(path)
    if p.suffix.lower() in (".csv", ".jsonl"):
        return _resolve_stream(_raw_rows(p, display), p, display)
    return _whole(p, display)


def _whole(p: Path, display: str) -> Iterator[Asset | Subject]:
    yield from _resolve_all(list(_raw_rows(p, display)))


# ---------------------------------------------------------------------------------------------------------
# JSON Schema of the YAML/JSON format


def _ci(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)


def inventory_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a YAML/JSON inventory document; ``$defs/jsonl_row`` is one JSONL line.

    The schema checks shapes and spellings; the loader additionally checks what a schema cannot say well
    (country codes exist, dates exist, ids are unique, model references resolve, numeric strings parse).
    """
    date_re = r"\d{4}-\d{2}-\d{2}"
    cc = r"[A-Z]{2}"
    eccn = ECCN_PATTERN[1:-1]
    compact = (rf"\s*{eccn}\s*(@\s*{cc}(\s*,\s*{cc})*\s*)?"
               rf"(:[^:;]*(:\s*(({date_re})?\s*\.\.\s*({date_re})?)?\s*)?)?\s*")
    flag_words = "|".join(_ci(w) for w in _FLAG_WORDS)
    scalar = {"type": ["string", "number", "boolean", "null"]}
    nothing = {"type": "null"}
    defs: dict[str, Any] = {
        "id": {"type": "string", "pattern": r"^\s*[^\s\u0000-\u001f\u007f][^\u0000-\u001f\u007f]*$",
               "description": "Unique within the inventory (assets and people); surrounding spaces dropped."},
        "text": {"type": ["string", "null"], "description": "Kept verbatim; blank means absent."},
        "scalar": {**scalar, "description": "An attribute value. Numbers and numeric-looking strings ('1e26', "
                                             "'10^26', '5 x 10^25', '26,900,000') become exact decimals; "
                                             "null or blank means absent."},
        "flag": {"anyOf": [{"type": ["boolean", "null"]}, {"type": "string", "pattern": rf"^\s*({flag_words})?\s*$"}]},
        "country": {"type": "string", "pattern": COUNTRY_PATTERN, "description": "ISO 3166-1 alpha-2"},
        "countries": {"anyOf": [
            {"type": "array", "items": {"$ref": "#/$defs/country"}},
            {"type": "string", "pattern": rf"^\s*({cc}(\s*[;,]\s*{cc})*)?\s*$"},
            nothing,
        ]},
        "date": {"anyOf": [{"type": "string", "format": "date", "pattern": rf"^\s*{date_re}\s*$"}, nothing]},
        "attributes": {
            "type": ["object", "null"],
            "propertyNames": {"pattern": ATTRIBUTE_PATTERN},
            "properties": {**{k: False for k in (*ROW_FIELDS, "attributes", *sorted(PERSON_ONLY))},
                           **{k: {"$ref": "#/$defs/clearance"} for k in CLEARANCE_KEYS}},
            "additionalProperties": {"$ref": "#/$defs/scalar"},
        },
        "license": {
            "type": "object",
            "required": ["eccn"],
            "additionalProperties": False,
            "properties": {
                "eccn": {"type": "string", "pattern": rf"^\s*{eccn}\s*$"},
                "number": {"$ref": "#/$defs/text"},
                "countries": {"$ref": "#/$defs/countries"},
                "valid_from": {"$ref": "#/$defs/date"},
                "valid_through": {"$ref": "#/$defs/date"},
            },
        },
        "compact_licenses": {
            "type": "string",
            "pattern": rf"^(\s*|{compact})(;(\s*|{compact}))*$",
            "description": f"{_COMPACT_FORM}, several separated by ';'",
        },
        "person": {
            "type": "object",
            "required": ["id"],
            "additionalProperties": False,
            "properties": {
                "id": {"$ref": "#/$defs/id"},
                "kind": {"const": PERSON_KIND},
                "name": {"$ref": "#/$defs/text"},
                "citizenships": {"$ref": "#/$defs/countries"},
                "permanent_resident": {"$ref": "#/$defs/flag"},
                "us_person": {"$ref": "#/$defs/flag"},
                "licenses": {"anyOf": [
                    {"type": "array", "items": {"anyOf": [{"$ref": "#/$defs/license"},
                                                          {"$ref": "#/$defs/compact_licenses"}]}},
                    {"$ref": "#/$defs/compact_licenses"},
                    nothing,
                ]},
            },
            "anyOf": [
                {"required": ["citizenships"],
                 "properties": {"citizenships": {"type": ["array", "string"], "minItems": 1, "minLength": 2}}},
                {"required": ["us_person"], "properties": {"us_person": {"const": True}}},
            ],
        },
    }

    words = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, nothing],
             "description": "Words (space, ',' or ';' separated) or a list of them; repository rows only."}
    defs["clearance"] = words
    uncertain = ("Any numeric attribute X may carry X_uncertainty (relative, 0..1 or 'N%') or X_low / X_high "
                 "bounds; the report flags intervals that straddle a control threshold.")

    def asset_row(kind: dict[str, Any], required: list[str], description: str, clearance: bool) -> dict[str, Any]:
        return {
            "type": "object",
            "description": description,
            "required": required,
            "propertyNames": {"pattern": ATTRIBUTE_PATTERN},
            "properties": {
                "id": {"$ref": "#/$defs/id"},
                "kind": kind,
                "name": {"$ref": "#/$defs/text"},
                "path": {"$ref": "#/$defs/text"},
                "model": {"anyOf": [{"$ref": "#/$defs/id"}, nothing],
                          "description": "Id of a row of kind model whose attributes this row inherits."},
                "owner": {"$ref": "#/$defs/text"},
                "attributes": {"$ref": "#/$defs/attributes"},
                **{k: False for k in sorted(PERSON_ONLY)},
                **{k: {"$ref": "#/$defs/clearance"} if clearance else False for k in CLEARANCE_KEYS},
            },
            "additionalProperties": {"$ref": "#/$defs/scalar"},
            "$comment": uncertain,
        }

    kind_any = {"type": "string", "pattern": KIND_PATTERN, "not": {"const": PERSON_KIND}}
    defs["asset"] = asset_row(kind_any, ["id", "kind"], "An asset with an explicit kind (section 'assets').", True)
    properties: dict[str, Any] = {
        "assets": {"type": ["array", "null"], "items": {"$ref": "#/$defs/asset"}},
        "people": {"type": ["array", "null"], "items": {"$ref": "#/$defs/person"}},
    }
    for section, kind in SECTIONS.items():
        if section in ("assets", "people"):
            continue
        assert kind is not None
        defs[f"{section}_row"] = asset_row({"const": kind}, ["id"], f"A row of section '{section}' (kind {kind}).",
                                           kind == "repository")
        properties[section] = {"type": ["array", "null"], "items": {"$ref": f"#/$defs/{section}_row"}}
    defs["jsonl_row"] = {
        "description": "One line of a JSONL inventory: an asset, or a person with kind 'person'.",
        "anyOf": [{"$ref": "#/$defs/asset"}, {"allOf": [{"$ref": "#/$defs/person"}, {"required": ["kind"]}]}],
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:regwatch:inventory",
        "title": "regwatch inventory",
        "description": "Assets and people for regwatch (docs/inventory.md). Shortcut sections imply the kind.",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "patternProperties": {f"^{EXTENSION_PREFIX}": True},
        "$defs": defs,
    }


def dump_inventory_json_schema() -> str:
    """The schema as committed in ``docs/inventory.schema.json``."""
    return json.dumps(inventory_json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":  # python -m rulesdsl.inventory > docs/inventory.schema.json
    import sys

    sys.stdout.write(dump_inventory_json_schema())
