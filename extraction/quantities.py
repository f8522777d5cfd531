"""Units of the CCL's control quantities, found by a spaCy rule-based ``Matcher`` (lexeme flags, see
:mod:`extraction.nlp`): "10^26 computational operations", "5 × 10^25 FLOPs", "50 billion transistors",
"600 Gbyte/s", "1.4 TB/s", "2 GB/s/mm2", "3.3 gigabytes per second per square millimeter".

:func:`unit_index` tokenizes a paragraph once and returns where each unit starts; the threshold reader
(:func:`extraction.ccl.thresholds_in`) asks which unit, if any, starts right after a number (or after its
"or more"). A unit implies its parameter (operations are training operations) and a factor (TB/s is 1000
GB/s); units are tried in the order of :data:`UNITS`, the first one that starts at a position wins
("GB/s/mm2" is a bandwidth density, not a bandwidth).
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from .nlp import attr_ids, blank, flag, matcher, words_flag

__all__ = ["UNITS", "unit_index"]

# (implied parameter, canonical unit, factor), in order of precedence
UNITS: list[tuple[str | None, str, Decimal]] = [
    ("training_operations", "operations", Decimal(1)),
    ("transistors", "transistors", Decimal(1)),
    (None, "GB/s per mm2", Decimal(1)),
    (None, "GB/s", Decimal(1)),
    (None, "GB/s", Decimal(1000)),
]
_QUOTES = frozenset("‘’“”'\"")
# a word every unit contains (lower case): a text without one has no unit and is not tokenized
UNIT_WORDS = ("operations", "flop", "transistors", "gb", "gigabyte", "tb", "terabyte")

Token = dict[Any, Any]


def _spaced(pattern: list[Token]) -> list[Token]:
    """``pattern`` with optional whitespace tokens between its tokens (the tokenizer keeps a run of extra
    spaces or a line break as a token of its own; the units allow any whitespace between their words)."""
    out: list[Token] = []
    for i, tok in enumerate(pattern):
        if i:
            out.append({"IS_SPACE": True, "OP": "*"})
        out.append(tok)
    return out


def _patterns() -> list[tuple[str, list[list[Token]]]]:
    """One or two patterns per unit: the matcher's time grows with the number of patterns, so alternatives
    are flags ("GB"/"Gbyte"/"gigabytes", "/"/"per", "s"/"sec"/"second") rather than patterns."""
    def words(name: str, ws: tuple[str, ...], op: str | None = None) -> Token:  # lower case: "GB", "Gbyte"
        tok: Token = {words_flag(name, ws): True}
        if op:
            tok["OP"] = op
        return tok

    quote: Token = {flag("Q_QUOTE", lambda s: s in _QUOTES): True, "OP": "?"}
    # operations as written, in lower case (a heading's "Operations" is not a unit)
    ops_adjective: Token = {flag("Q_OPS_ADJ", lambda s: s in ("computational", "total")): True, "OP": "?"}
    operations: Token = {flag("Q_OPERATIONS", lambda s: s in ("operations", "FLOP", "FLOPs", "flop", "flops")): True}
    per = words("Q_PER", ("/", "per"))
    second = words("Q_SECOND", ("s", "sec", "second"))
    gigabytes = words("Q_GB", ("gb", "gbyte", "gigabyte", "gigabytes"))
    area = [words("Q_AREA", ("mm", "mm2", "mm^2", "square", "millimeter", "millimeters")), {"ORTH": "^", "OP": "?"},
            {"ORTH": "2", "OP": "?"}, words("Q_AREA_END", ("millimeter", "millimeters", "squared"), "?")]
    return [
        ("0", [[quote, ops_adjective, operations]]),
        ("1", [[words("Q_TRANSISTORS", ("transistors",))]]),
        ("2", [[gigabytes, per, second, per, *area]]),
        ("3", [[gigabytes, per, second], [words("Q_GBPS", ("gbps",))]]),
        ("4", [[words("Q_TB", ("tb", "tbyte", "terabyte", "terabytes")), per, second]]),
    ]


@lru_cache(maxsize=1)
def _matcher() -> Any:
    m = matcher()
    for key, patterns in _patterns():
        m.add(key, [_spaced(p) for p in patterns])
    return m


def unit_index(text: str) -> dict[int, tuple[int, int]]:
    """Character position -> (index into :data:`UNITS`, end position) of every unit that starts there (the
    first in :data:`UNITS` order; of one unit the longest)."""
    low = text.lower()
    if not any(w in low for w in UNIT_WORDS):
        return {}
    doc = blank().tokenizer(text)
    matches = _matcher()(doc)
    if not matches:
        return {}
    offsets = doc.to_array(attr_ids("IDX", "LENGTH")).tolist()
    strings = doc.vocab.strings
    out: dict[int, tuple[int, int]] = {}
    for mid, s, e in matches:
        unit = int(strings[mid])
        start, end = offsets[s][0], offsets[e - 1][0] + offsets[e - 1][1]
        if text[start].isspace():
            continue  # (a pattern whose optional first token is absent may begin with a whitespace token)
        have = out.get(start)
        if have is None or unit < have[0] or (unit == have[0] and end > have[1]):
            out[start] = (unit, end)
    return out
