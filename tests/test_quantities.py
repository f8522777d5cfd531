"""Units of control quantities, found by spaCy's rule-based matcher (extraction/quantities.py), and the shared
tokenizer they run on (extraction/nlp.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from extraction.ccl import thresholds_in
from extraction.nlp import tokens
from extraction.quantities import UNITS, unit_index


def units(text: str) -> list[tuple[str, str]]:
    """(text of the unit, canonical unit) of the units that start after a number (a unit also starts at each of
    its later words: "computational operations" and "operations"; only the first is the number's)."""
    out: list[tuple[str, str]] = []
    last_end = -1
    for s, (u, e) in sorted(unit_index(text).items()):
        if s >= last_end:
            out.append((text[s:e], UNITS[u][1] + (" x1000" if UNITS[u][2] != 1 else "")))
            last_end = e
    return out


@pytest.mark.parametrize(("text", "expected"), [
    ("trained on 10^26 computational operations", [("computational operations", "operations")]),
    ("5 \u00d7 10^25 FLOPs or more", [("FLOPs", "operations")]),
    ("10^26 \u2018total operations\u2019", [("\u2018total operations", "operations")]),
    ("50 billion transistors", [("transistors", "transistors")]),
    ("600 Gbyte/s or more", [("Gbyte/s", "GB/s")]),
    ("1.4 TB/s", [("TB/s", "GB/s x1000")]),
    ("3 terabytes per second", [("terabytes per second", "GB/s x1000")]),
    ("6,500 GBps", [("GBps", "GB/s")]),
    # a bandwidth per area is a density, not a bandwidth (the first unit in order wins at a position)
    ("greater than 2 GB/s/mm2.", [("GB/s/mm2", "GB/s per mm2")]),
    ("3.3 GB/s per mm^2", [("GB/s per mm^2", "GB/s per mm2")]),
    ("2 gigabytes per second per square millimeter", [("gigabytes per second per square millimeter",
                                                      "GB/s per mm2")]),
    ("2 GB/sec/mm 2 or more", [("GB/sec/mm 2", "GB/s per mm2")]),
    # whitespace runs and line breaks between the words of a unit
    ("10^26  computational\n operations", [("computational\n operations", "operations")]),
    # not units: a capitalised heading word, a unit word alone, a paragraph without any
    ("Operations of the Bureau", []), ("per second", []), ("a TPP of 4800 or more", []),
])
def test_units_found_by_the_matcher(text: str, expected: list[tuple[str, str]]) -> None:
    assert units(text) == expected


def test_a_unit_implies_its_parameter_and_factor() -> None:
    got = {(p, c, v, u) for p, c, v, u, _q in thresholds_in(
        "models trained on 10^26 or more operations, with a DRAM bandwidth of 1.4 TB/s or more and a memory "
        "bandwidth density of 2 GB/s/mm2 or more")}
    assert got == {("training_operations", ">=", Decimal(10) ** 26, "operations"),
                   ("dram_bandwidth", ">=", Decimal(1400), "GB/s"),
                   ("memory_bandwidth_density", ">=", Decimal(2), "GB/s per mm2")}
    # a rate is not a count of training operations
    assert thresholds_in("a rate of 10^20 or more operations per second") == []


def test_tokenizer_has_no_special_cases() -> None:
    # spaCy does not cache how it splits the words of a text that holds a special case; without them a
    # trailing period is a token of its own, which the patterns allow
    assert [t.text for t in tokens("a. Revising ECCN 3A090; effective Jan. 17, 2025.")] == [
        "a", ".", "Revising", "ECCN", "3A090", ";", "effective", "Jan", ".", "17", ",", "2025", "."]
