"""extraction.ccl: ECCN changes, control thresholds and license-exception changes from FR regulatory text."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from extraction.ccl import (
    extract_eccn_changes,
    extract_eligibility,
    extract_license_exceptions,
    extract_text,
    extract_thresholds,
    parse_instruction,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures/http/fr/documents/full_text/xml"
DAILY = Path("/work/shared/corpus/fr-daily-2016-04-15-rules.xml")


def rule(regtext: str, preamble: str = "") -> Any:
    xml = (f"<RULE><PREAMB><SUM><HD SOURCE=\"HED\">SUMMARY:</HD><P>{preamble}</P></SUM></PREAMB>"
           f"<SUPLINF><P>{preamble}</P>{regtext}</SUPLINF></RULE>")
    return etree.fromstring(xml.encode())


def ccl(*amdpars_and_text: str) -> str:
    return '<REGTEXT PART="774" TITLE="15">' + "".join(amdpars_and_text) + "</REGTEXT>"


def changes(root: Any) -> set[tuple[str, str, str | None]]:
    return {(c.eccn, c.action, c.instruction) for c in extract_eccn_changes(root)}


def facts(root: Any) -> set[tuple[str | None, str, str, Decimal, str]]:
    return {(t.eccn, t.parameter, t.comparator, t.value, t.unit) for t in extract_thresholds(root)}


# ------------------------------------------------------------------------------------- ECCN changes


def test_add_eccn_with_instruction_number_and_location() -> None:
    root = rule(ccl("<AMDPAR>25. In Supplement No. 1 to part 774, Category 4, add ECCN 4E091 after ECCN 4E001 "
                    "to read as follows:</AMDPAR>"))
    [c] = extract_eccn_changes(root)
    assert (c.eccn, c.action, c.instruction) == ("4E091", "added", "25")
    assert c.quote.startswith("25. In Supplement No. 1")
    assert c.location == "RULE/SUPLINF/REGTEXT/AMDPAR"
    assert 0 < c.confidence <= 1


def test_several_eccns_several_actions() -> None:
    root = rule(ccl("<AMDPAR>3. Supplement No. 1 to part 774 is amended by revising ECCNs 3A090 and 4A090 and "
                    "adding 4E091 to read as follows:</AMDPAR>"))
    assert changes(root) == {("3A090", "revised", "3"), ("4A090", "revised", "3"), ("4E091", "added", "3")}


def test_remove_and_remove_and_reserve() -> None:
    root = rule(ccl("<AMDPAR>7. Supplement No. 1 to part 774 is amended by removing ECCN 3B090.</AMDPAR>",
                    "<AMDPAR>8. In Supplement No. 1 to part 774, Category 3, ECCN 3B991 is removed and "
                    "reserved.</AMDPAR>"))
    assert changes(root) == {("3B090", "removed", "7"), ("3B991", "removed", "8")}


def test_revise_whole_entry() -> None:
    root = rule(ccl("<AMDPAR>27. In Supplement No. 1 to part 774, Category 3, revise ECCN 3A090 to read as "
                    "follows:</AMDPAR>"))
    assert changes(root) == {("3A090", "revised", "27")}


def test_paragraph_granularity() -> None:
    root = rule(ccl("<AMDPAR>4. In Supplement No. 1 to part 774, Category 3, amend ECCN 3A090 by revising "
                    "paragraph .a of ECCN 3A090.</AMDPAR>",
                    "<AMDPAR>5. In Supplement No. 1 to part 774, Category 5, Part 2, ECCN 5A992 is amended by "
                    "adding paragraphs 5A992.z.</AMDPAR>",
                    "<AMDPAR>6. In Supplement No. 1 to part 774, Category 3, ECCN 3A001 is amended by revising "
                    "paragraph 3A001.z.1.a.</AMDPAR>"))
    got = changes(root)
    assert ("3A090.a", "revised", "4") in got
    assert ("5A992.z", "added", "5") in got
    assert ("3A001.z.1.a", "revised", "6") in got
    assert ("5A992", "revised", "5") not in got


def test_z_paragraphs_for_several_eccns() -> None:
    root = rule(ccl("<AMDPAR>30. In Supplement No. 1 to part 774, ECCNs 3A001, 4A003, and 5A992 are amended "
                    "by adding .z paragraphs to read as follows:</AMDPAR>",
                    "<AMDPAR>31. Supplement No. 1 to part 774 is amended by adding paragraph .z to ECCNs 4A004 "
                    "and 5D002.</AMDPAR>"))
    got = changes(root)
    assert {("3A001.z", "added", "30"), ("4A003.z", "added", "30"), ("5A992.z", "added", "30")} <= got
    assert {("4A004.z", "added", "31"), ("5D002.z", "added", "31")} <= got


def test_heading_revised_and_paragraph_added() -> None:
    root = rule(ccl("<AMDPAR>32. In Supplement No. 1 to part 774, Category 3, ECCN 3A090 is amended by revising "
                    "the heading and the License Requirements section, and by adding paragraph .c and a "
                    "Technical Note to paragraph .c, to read as follows:</AMDPAR>"))
    assert changes(root) == {("3A090", "revised", "32"), ("3A090.c", "added", "32")}


def test_preamble_summary_and_other_parts_ignored() -> None:
    text = "BIS adds ECCN 4E091 and revises ECCN 3A090; see § 740.8(a)(2)."
    root = rule('<REGTEXT PART="740" TITLE="15"><AMDPAR>9. Section 740.8 is amended by revising paragraph '
                "(a)(2) to read as follows:</AMDPAR></REGTEXT>", preamble=text)
    assert extract_eccn_changes(root) == []
    notice = etree.fromstring(f"<NOTICE><PREAMB><SUM><P>{text}</P></SUM></PREAMB></NOTICE>".encode())
    assert extract_eccn_changes(notice) == []


def test_authority_citation_is_not_a_change() -> None:
    root = rule(ccl("<AMDPAR>22. The authority citation for part 774 continues to read as follows:</AMDPAR>"))
    assert extract_eccn_changes(root) == []


def test_other_title_ignored() -> None:
    root = rule('<REGTEXT PART="774" TITLE="33"><AMDPAR>1. Add ECCN 3A090.</AMDPAR></REGTEXT>')
    assert extract_eccn_changes(root) == []


def test_parse_instruction_odd_input() -> None:
    assert parse_instruction("") == []
    assert parse_instruction("1. Something unrelated.") == []


# --------------------------------------------------------------------------------------- thresholds

ENTRY_3A090 = ccl(
    "<AMDPAR>27. In Supplement No. 1 to part 774, Category 3, revise ECCN 3A090 to read as follows:</AMDPAR>",
    '<HD SOURCE="HD1">Supplement No. 1 to Part 774—The Commerce Control List</HD><STARS/>',
    '<P><E T="04">3A090 Integrated circuits as follows (see List of Items Controlled).</E></P>',
    '<P><E T="03">NAC:</E> Yes, for items with a memory bandwidth density less than 3.3 GB/s/mm<SU>2</SU>.</P>',
    '<P><E T="03">Items:</E></P>',
    "<P>a. Integrated circuits having one or more digital processing units having either of the following:</P>",
    "<P>a.1. A ‘total processing performance’ of 4800 or more; or</P>",
    "<P>a.2. A ‘total processing performance’ of 1600 or more and a ‘performance density’ of 5.92 or more.</P>",
    '<P>b.1. A ‘total processing performance’ of 2400 or more but less than 4800 and a ‘performance density’ of '
    "1.6 or more and less than 5.92; or</P>",
    "<PRTPAGE P=\"73515\"/>",
    "<P>c. High bandwidth memory (HBM) having a ‘memory bandwidth density’ greater than 2 gigabytes per second per "
    "square millimeter.</P>",
    '<P><E T="03">Note 2 to 3A090:</E> 3A090 does not apply to items that are not designed or marketed for use in '
    "datacenters and do not have a ‘total processing performance’ of 4800 or more.</P>",
    '<P><E T="03">Technical Notes:</E> 1. ‘Performance density’ is ‘TPP’ divided by ‘applicable die area’ in '
    "mm<SU>2</SU>, e.g. a TPP of more than 100.</P>",
    "<STARS/>",
)


def test_3a090_thresholds_by_paragraph() -> None:
    got = facts(rule(ENTRY_3A090))
    assert ("3A090.a.1", "tpp", ">=", Decimal(4800), "TPP") in got
    assert ("3A090.a.2", "tpp", ">=", Decimal(1600), "TPP") in got
    assert ("3A090.a.2", "performance_density", ">=", Decimal("5.92"), "TPP per mm2") in got
    # "X or more but less than Y" -> two bounds
    assert ("3A090.b.1", "tpp", ">=", Decimal(2400), "TPP") in got
    assert ("3A090.b.1", "tpp", "<", Decimal(4800), "TPP") in got
    assert ("3A090.b.1", "performance_density", ">=", Decimal("1.6"), "TPP per mm2") in got
    assert ("3A090.b.1", "performance_density", "<", Decimal("5.92"), "TPP per mm2") in got
    # strict comparator and canonical unit
    assert ("3A090.c", "memory_bandwidth_density", ">", Decimal(2), "GB/s per mm2") in got
    # Note 2 exclusion, Technical Notes and license-exception lines are not thresholds
    assert all(f[0] != "3A090" for f in got)
    assert all(f[3] not in (Decimal("3.3"), Decimal(100)) for f in got)
    assert len(got) == 8


def test_exponent_vs_footnote_su_and_exact_value() -> None:
    root = rule(ccl("<AMDPAR>25. In Supplement No. 1 to part 774, Category 4, add ECCN 4E091 after ECCN 4E001 "
                    "to read as follows:</AMDPAR>",
                    '<P><E T="04">4E091 “Parameters,” of an artificial intelligence model trained<SU>1</SU> '
                    "utilizing 10<SU>26</SU> or more “operations.”</E></P>"))
    [t] = extract_thresholds(root)
    assert (t.eccn, t.parameter, t.comparator, t.unit) == ("4E091", "training_operations", ">=", "operations")
    assert isinstance(t.value, Decimal) and t.value == Decimal(10) ** 26
    assert int(t.value) == 10**26 and int(t.value) != int(1e26)  # the float 1e26 is not 10^26
    assert t.to_json()["value_exact"] == "1" + "0" * 26


def test_strict_greater_than_and_scientific_mantissa() -> None:
    root = rule(ccl("<AMDPAR>2. Supplement No. 1 to part 774 is amended by adding ECCN 4E092.</AMDPAR>",
                    "<P>4E092 Models trained using more than 5 x 10<SU>25</SU> operations.</P>",
                    "<P>a. Items having an aggregate bidirectional transfer rate of 600 Gbyte/s or more.</P>",
                    "<P>b. Items having a DRAM bandwidth not exceeding 26,900,000 GB/s.</P>"))
    got = facts(root)
    assert ("4E092", "training_operations", ">", Decimal(5) * Decimal(10) ** 25, "operations") in got
    assert ("4E092.a", "io_bandwidth", ">=", Decimal(600), "GB/s") in got
    assert ("4E092.b", "dram_bandwidth", "<=", Decimal(26900000), "GB/s") in got


def test_preamble_thresholds_ignored() -> None:
    root = rule(ccl("<AMDPAR>1. The authority citation for part 774 continues to read as follows:</AMDPAR>"),
                preamble="models trained with more than 10<SU>26</SU> computational operations")
    assert extract_thresholds(root) == []


def test_eligibility_is_not_a_control_threshold() -> None:
    root = rule('<REGTEXT PART="740" TITLE="15"><AMDPAR>12. Add § 740.29 to read as follows:</AMDPAR><SECTION>'
                "<SECTNO>§ 740.29</SECTNO><SUBJECT>Low Processing Performance (LPP).</SUBJECT>"
                "<P>(a) License Exception LPP authorizes the export of up to 26,900,000 cumulative total processing "
                "performance (TPP) per calendar year.</P></SECTION></REGTEXT>"
                '<REGTEXT PART="740" TITLE="15"><AMDPAR>13. Add § 740.25 to read as follows:</AMDPAR><SECTION>'
                "<SECTNO>§ 740.25</SECTNO><SUBJECT>License Exception High Bandwidth Memory (HBM).</SUBJECT>"
                "<P>(a) 3A090.c items with a memory bandwidth density less than 3.3 GB/s/mm<SU>2</SU>.</P>"
                "</SECTION></REGTEXT>"
                '<REGTEXT PART="742" TITLE="15"><AMDPAR>2. Section 742.6 is amended by revising paragraph (b)(10)'
                "</AMDPAR><SECTION><SECTNO>§ 742.6</SECTNO><P>(ii) commodities that have a ‘total processing "
                "performance’ less than 21,000 and a total DRAM bandwidth less than 6,500 GB/s</P></SECTION>"
                "</REGTEXT>")
    assert extract_thresholds(root) == []
    assert extract_eccn_changes(root) == []
    elig = {(t.eccn, t.parameter, t.comparator, t.value, t.unit) for t in extract_eligibility(root)}
    assert elig == {(None, "tpp", "<=", Decimal(26900000), "TPP"),
                    (None, "memory_bandwidth_density", "<", Decimal("3.3"), "GB/s per mm2"),
                    (None, "tpp", "<", Decimal(21000), "TPP"),
                    (None, "dram_bandwidth", "<", Decimal(6500), "GB/s")}


# ------------------------------------------------------------------------------- license exceptions


def test_license_exceptions_added_revised_removed() -> None:
    root = rule('<REGTEXT PART="740" TITLE="15"><AMDPAR>7. The authority citation for part 740 continues to read '
                "as follows:</AMDPAR></REGTEXT>"
                '<REGTEXT PART="740" TITLE="15"><AMDPAR>10. Add § 740.27 to read as follows:</AMDPAR><SECTION>'
                "<SECTNO>§ 740.27</SECTNO><SUBJECT>License Exception Artificial Intelligence Authorization (AIA)."
                "</SUBJECT><P>(a) Scope.</P></SECTION></REGTEXT>"
                '<REGTEXT PART="740" TITLE="15"><AMDPAR>11. Section 740.8 is revised to read as follows:</AMDPAR>'
                "<SECTION><SECTNO>§ 740.8</SECTNO><SUBJECT>Notified Advanced Computing (NAC) and Advanced "
                "Computing Authorized (ACA).</SUBJECT></SECTION></REGTEXT>"
                '<REGTEXT PART="740" TITLE="15"><AMDPAR>12. Section 740.25 is amended by revising paragraph '
                "(b).</AMDPAR></REGTEXT>"
                '<REGTEXT PART="740" TITLE="15"><AMDPAR>13. Remove and reserve § 740.28.</AMDPAR></REGTEXT>'
                '<REGTEXT PART="740" TITLE="15"><AMDPAR>14. Add supplement no. 5 to part 740 to read as follows:'
                "</AMDPAR></REGTEXT>")
    got = {(x.code, x.action, x.section) for x in extract_license_exceptions(root)}
    assert got == {("AIA", "added", "740.27"), ("NAC", "revised", "740.8"), ("ACA", "revised", "740.8"),
                   ("HBM", "revised", "740.25"), ("ACM", "removed", "740.28")}


def test_license_exception_other_title_part_ignored() -> None:
    root = rule('<REGTEXT PART="100" TITLE="33"><AMDPAR>2. Add § 100.35T09-0208 to read as follows:</AMDPAR>'
                "</REGTEXT>")
    assert extract_license_exceptions(root) == []


# -------------------------------------------------------------------------------------- plain text

GOVINFO = """[Federal Register Volume 90, Number 9 (Wednesday, January 15, 2025)]

    BIS adds ECCN 4E091 for models trained with more than 10\\26\\ operations.

    Accordingly, parts 740 and 774 of the Export Administration Regulations
(15 CFR parts 730 through 774) are amended as follows:

PART 740--LICENSE EXCEPTIONS

    12. Add Sec.  740.29 to read as follows:

Sec.  740.29  Low Processing Performance (LPP).

    (a) up to 26,900,000 cumulative total processing performance (TPP).

PART 774--THE COMMERCE CONTROL LIST

    25. In Supplement No. 1 to part 774, Category 4, add ECCN 4E091 after
ECCN 4E001 to read as follows:

    4E091 ``Parameters,'' of an artificial intelligence model trained\\1\\
utilizing 10\\26\\ or more ``operations.''
"""


def test_extract_text_govinfo() -> None:
    ch, th, le = extract_text(GOVINFO.replace("Sec.  ", "§ "))
    assert [(c.eccn, c.action, c.instruction) for c in ch] == [("4E091", "added", "25")]
    assert [(t.eccn, t.parameter, t.comparator, t.value) for t in th] == [
        ("4E091", "training_operations", ">=", Decimal(10) ** 26)]
    assert [(x.code, x.action) for x in le] == [("LPP", "added")]
    assert all(c.confidence < 0.9 for c in ch)


def test_extract_text_without_amendments_and_odd_input() -> None:
    assert extract_text("BIS adds ECCN 4E091 trained with more than 10\\26\\ operations.") == ([], [], [])
    assert extract_text("") == ([], [], [])


@pytest.mark.parametrize("bad", [None, 42, b"<not xml", "<RULE/>", etree.fromstring(b"<RULE><REGTEXT/></RULE>")])
def test_never_raises(bad: Any) -> None:
    assert extract_eccn_changes(bad) == []
    assert extract_thresholds(bad) == []
    assert extract_license_exceptions(bad) == []
    assert extract_eligibility(bad) == []


# ------------------------------------------------------------------------------------ real documents


@pytest.mark.skipif(not DAILY.exists(), reason="shared corpus not available")
def test_real_daily_sample_has_no_ccl_facts() -> None:
    root = etree.parse(str(DAILY)).getroot()
    assert extract_eccn_changes(root) == []
    assert extract_thresholds(root) == []
    assert extract_license_exceptions(root) == []


def fixture(docnum: str) -> Any:
    [path] = FIXTURES.glob(f"**/{docnum}.xml")
    return etree.parse(str(path)).getroot()


def test_fixture_2025_00636_ai_diffusion() -> None:
    root = fixture("2025-00636")
    assert changes(root) == {("3A090", "revised", "23"), ("4E091", "added", "25")}
    [t] = extract_thresholds(root)
    assert (t.eccn, t.parameter, t.comparator, t.value, t.unit) == (
        "4E091", "training_operations", ">=", Decimal(10) ** 26, "operations")
    assert "REGTEXT" in t.location
    assert [(x.code, x.action, x.section) for x in extract_license_exceptions(root)] == [
        ("LPP", "added", "740.29")]
    assert [(t.parameter, t.comparator, t.value) for t in extract_eligibility(root)] == [
        ("tpp", "<=", Decimal(26900000))]


def test_fixture_2025_00637_briefing_notice() -> None:
    root = fixture("2025-00637")
    assert extract_eccn_changes(root) == []
    assert extract_thresholds(root) == []
    assert extract_license_exceptions(root) == []


def test_fixture_2023_23055() -> None:
    root = fixture("2023-23055")
    assert changes(root) == {("3A090", "revised", "27")}
    got = facts(root)
    assert ("3A090.a.1", "tpp", ">=", Decimal(4800), "TPP") in got
    assert ("3A090.b.1", "tpp", "<", Decimal(4800), "TPP") in got
    assert ("3A090.b.2", "performance_density", ">=", Decimal("3.2"), "TPP per mm2") in got
    assert len(got) == 10  # Note 2 (exclusion) adds nothing
    assert extract_license_exceptions(root) == []


def test_fixture_2024_28270_hbm() -> None:
    root = fixture("2024-28270")
    assert changes(root) == {("3A090", "revised", "32"), ("3A090.c", "added", "32")}
    assert facts(root) == {("3A090.c", "memory_bandwidth_density", ">", Decimal(2), "GB/s per mm2")}


def test_fixture_2025_00711_note_1_presumption_is_not_a_control_threshold() -> None:
    root = fixture("2025-00711")
    assert changes(root) == {("3A090", "revised", "29"), ("3A090.a", "revised", "29")}
    # Note 1 to 3A090.a (30/35/40 billion transistors by year) is a presumption, not a control threshold
    assert extract_thresholds(root) == []


def test_fixture_2025_02655_correction() -> None:
    root = fixture("2025-02655")
    assert changes(root) == {("3A090", "revised", "2")}
    assert extract_thresholds(root) == []


@pytest.mark.parametrize("docnum", ["2025-19846", "2026-00789"])
def test_fixtures_without_ccl_changes(docnum: str) -> None:
    root = fixture(docnum)
    assert extract_eccn_changes(root) == []
    assert extract_thresholds(root) == []
    assert extract_license_exceptions(root) == []


def test_fixture_2026_00789_policy_eligibility_only() -> None:
    got = {(t.parameter, t.comparator, t.value, t.unit) for t in extract_eligibility(fixture("2026-00789"))}
    assert got == {("tpp", "<", Decimal(21000), "TPP"), ("dram_bandwidth", "<", Decimal(6500), "GB/s")}


def test_every_fixture_is_covered() -> None:
    names = {p.stem for p in FIXTURES.glob("**/*.xml")}
    covered = {"2025-00636", "2025-00637", "2023-23055", "2024-28270", "2025-00711", "2025-02655",
               "2025-19846", "2026-00789"}
    assert names <= covered, names - covered


# ------------------------------------------------------------------ traps corpus rules, unit by unit

def test_license_requirements_section_and_exception_lines_carry_no_control_thresholds() -> None:
    root = rule(ccl(
        "<AMDPAR>21. In Supplement No. 1 to part 774, Category 3, revise ECCN 3A090 to read as follows:</AMDPAR>",
        '<P><E T="04">3A090 Integrated circuits as follows (see List of Items Controlled).</E></P>',
        '<P><E T="03">License Requirements</E></P>',
        '<P><E T="03">License Requirement Note:</E> Applications for 3A090.a items with a ‘total processing '
        "performance’ less than 21,000 and a total DRAM bandwidth less than 6,500 GB/s will be reviewed "
        "case-by-case.</P>",
        '<P><E T="03">List Based License Exceptions (See Part 740 for a Description of All License Exceptions)</E></P>',
        '<P><E T="03">NAC/ACA:</E> Yes, for items with a ‘total processing performance’ less than 4800.</P>',
        '<P><E T="03">Items:</E></P>',
        "<P>a. Integrated circuits having a ‘total processing performance’ of 4800 or more.</P>"))
    assert facts(root) == {("3A090.a", "tpp", ">=", Decimal(4800), "TPP")}


@pytest.mark.parametrize(("text", "expected"), [
    ("models trained utilizing 10^26 or more operations", ("training_operations", ">=", Decimal(10) ** 26)),
    # the superscript lost by a scraper: 10^26, not one thousand and twenty-six
    ("models trained utilizing 1026 or more “operations.”", ("training_operations", ">=", Decimal(10) ** 26)),
    ("trained using 5 × 1025 or more operations", ("training_operations", ">=", 5 * Decimal(10) ** 25)),
    ("a ‘total processing performance’ of 1026 or more", ("tpp", ">=", Decimal(1026))),  # only for operations
    ("a TPP of not less than 2400", ("tpp", ">=", Decimal(2400))),
    ("a TPP of no more than 2400", ("tpp", "<=", Decimal(2400))),
    ("a TPP of more than 2400", ("tpp", ">", Decimal(2400))),
    ("a TPP of less than or equal to 2400", ("tpp", "<=", Decimal(2400))),
    ("a TPP ≥ 2400", ("tpp", ">=", Decimal(2400))),
    ("a memory bandwidth density greater than 2 GB/s per millimeters squared",
     ("memory_bandwidth_density", ">", Decimal(2))),
])
def test_thresholds_in_forms(text: str, expected: tuple[str, str, Decimal]) -> None:
    from extraction.ccl import thresholds_in

    assert [(p, c, v) for p, c, v, _u, _q in thresholds_in(text)] == [expected]


@pytest.mark.parametrize("text", [
    "a theoretical maximum performance greater than 10^20 computational operations (e.g., integer or "
    "floating-point operations) per second for AI training",  # a rate, not a count of training operations
    "a cluster performing 10^20 or more operations per second",
    "processing units, aggregated over all 4800 units",  # "over all" is no comparator for the number
    "having one or more digital processing units",
    "moreover 4800 TPP",
])
def test_thresholds_in_rejects(text: str) -> None:
    from extraction.ccl import thresholds_in

    assert thresholds_in(text) == []


def test_lettered_sub_instructions_belong_to_their_numbered_instruction() -> None:
    root = rule(ccl("<AMDPAR>25. Supplement No. 1 to part 774 is amended by:</AMDPAR>",
                    "<AMDPAR>a. Adding, in Category 3, ECCN 3A090 after ECCN 3A611;</AMDPAR>",
                    "<AMDPAR>b. Revising, in Category 3, ECCNs 3D001 and 3E001; and</AMDPAR>",
                    "<AMDPAR>26. In Supplement No. 1 to part 774, remove ECCN 3B090.</AMDPAR>"))
    assert changes(root) == {("3A090", "added", "25"), ("3D001", "revised", "25"), ("3E001", "revised", "25"),
                             ("3B090", "removed", "26")}


def test_license_exception_introduced_by_an_added_paragraph_or_called_new_by_the_summary() -> None:
    section = ('<REGTEXT PART="740" TITLE="15"><AMDPAR>10. Section 740.8 is amended by revising the section heading '
               "and paragraph (b) and by adding paragraph (c) to read as follows:</AMDPAR><SECTION>"
               "<SECTNO>§ 740.8</SECTNO><SUBJECT>Notified Advanced Computing (NAC) and Advanced Computing "
               "Authorized (ACA).</SUBJECT><P>(b) <E T=\"03\">Notified Advanced Computing (NAC).</E> ...</P>"
               "<P>(c) <E T=\"03\">Advanced Computing Authorized (ACA).</E> License Exception ACA ...</P>"
               "</SECTION></REGTEXT>")
    got = {(x.code, x.action) for x in extract_license_exceptions(rule(section))}
    assert got == {("NAC", "revised"), ("ACA", "added")}
    whole = section.replace("is amended by revising the section heading and paragraph (b) and by adding paragraph "
                            "(c)", "is revised")
    assert {(x.code, x.action) for x in extract_license_exceptions(rule(whole))} == {("NAC", "revised"),
                                                                                       ("ACA", "revised")}
    told = rule(whole, preamble="BIS revises License Exception NAC and adds a new License Exception Advanced "
                                "Computing Authorized (ACA).")
    assert {(x.code, x.action) for x in extract_license_exceptions(told)} == {("NAC", "revised"), ("ACA", "added")}


def _all_xml() -> list[Path]:
    paths = [p for p in (ROOT / "fixtures").rglob("*.xml") if p.is_file()]
    return paths + ([DAILY] if DAILY.exists() else [])


def test_bulk_xslt_blocks_equal_the_python_walk() -> None:
    """The XSLT that extracts REGTEXT text in bulk and the Python walk (its fallback, and the way elements are
    found for locations) must agree block for block, on every XML we have, documents of a daily issue too."""
    from extraction import blocks
    from extraction.xmltext import element_path

    checked = 0
    for path in _all_xml():
        tree = etree.parse(str(path)).getroot()
        for el in [tree, *tree.iter("RULE", "PRORULE", "NOTICE", "CORRECT")]:
            doc = blocks._Document(el)
            if not doc.regtexts:
                continue
            fast, slow = blocks._from_xslt(doc), blocks._from_python(doc)
            assert fast is not None, path
            assert [[(b.kind, b.text, b.part) for b in g] for g in fast] == \
                [[(b.kind, b.text, b.part) for b in g] for g in slow], path
            for g_fast, g_slow in zip(fast, slow, strict=True):
                for a, b in zip(g_fast, g_slow, strict=True):
                    assert a.location == element_path(b.el)
            checked += 1
    assert checked >= 20


def test_bulk_blocks_fall_back_when_the_text_holds_the_separators() -> None:
    from extraction import blocks

    root = rule(ccl("<AMDPAR>1. In Supplement No. 1 to part 774, revise ECCN 3A090 \ue002 to read:</AMDPAR>",
                    "<P>3A090 Integrated circuits (see List of Items Controlled).</P>",
                    "<P>a. A TPP of 4800 or more.</P>"))
    assert blocks._from_xslt(blocks._Document(root)) is None  # the private-use separator is in the text
    assert facts(root) == {("3A090.a", "tpp", ">=", Decimal(4800), "TPP")}


def test_extract_text_reads_govinfo_sec_and_one_paragraph_per_line() -> None:
    ch, _th, le = extract_text(GOVINFO)  # "Sec.  740.29" as govinfo prints "§ 740.29"
    assert [(x.code, x.action, x.section) for x in le] == [("LPP", "added", "740.29")]
    assert [(c.eccn, c.action) for c in ch] == [("4E091", "added")]
    flat = ("Accordingly, part 774 is amended as follows:\nPART 774—THE COMMERCE CONTROL LIST\n"
            "25. In Supplement No. 1 to part 774, Category 4, add ECCN 4E091 after ECCN 4E001 to read as follows:\n"
            "4E091 “Parameters,” as described in the Technical Notes to this entry, of an artificial intelligence "
            "model trained utilizing 1026 or more “operations.”\n"
            "Technical Notes: 1. “Operations” counts every operation used to train the model; the 1026 value is a "
            "total, not a rate, and models trained with more than 1025 operations are not all controlled.\n")
    ch, th, _le = extract_text(flat)
    assert [(c.eccn, c.action, c.instruction) for c in ch] == [("4E091", "added", "25")]
    assert [(t.eccn, t.comparator, t.value) for t in th] == [("4E091", ">=", Decimal(10) ** 26)]


@pytest.mark.parametrize(("text", "expected"), [
    ("4. In Supplement No. 1 to part 774, Category 3, ECCN 3A090 is amended by revising paragraph a.1 and adding "
     "paragraph d to read as follows:", [("3A090.a.1", "revised"), ("3A090.d", "added")]),
    ("5. In Supplement No. 1 to part 774, Category 4, ECCN 4A090 is amended by removing paragraph b.",
     [("4A090.b", "removed")]),
    ("5. ECCN 4A090 is amended by removing paragraphs b.1, b.2, and b.3.",
     [("4A090.b.1", "removed"), ("4A090.b.2", "removed"), ("4A090.b.3", "removed")]),
    ("5. ECCN 4A090 is amended by removing paragraphs b.1 and b.2 and revising paragraph .c.",
     [("4A090.b.1", "removed"), ("4A090.b.2", "removed"), ("4A090.c", "revised")]),
    # "a" is the article here, not paragraph a
    ("32. In Supplement No. 1 to part 774, ECCN 3A090 is amended by adding paragraph .c and a Technical Note to "
     "paragraph .c, to read as follows:", [("3A090.c", "added")]),
    # a CFR paragraph is not an ECCN paragraph
    ("7. Section 740.8 is amended by revising paragraph (a)(2) to read as follows:", []),
])
def test_paragraphs_named_without_their_dot(text: str, expected: list[tuple[str, str]]) -> None:
    """BIS names CCL paragraphs both ".c" and "a.1"/"d": a removal of paragraph b must not remove the ECCN."""
    from extraction.ccl import parse_instruction

    got = [(e, a) for e, a, _c in parse_instruction(text) if e != "3A090"]
    assert got == expected


@pytest.mark.parametrize(("instruction", "expected"), [
    # a placement reference is not a change, however many ECCNs it names
    ("In Supplement No. 1 to part 774, Category 4, add ECCN 4E091 between ECCNs 4E001 and 4E992 to read as "
     "follows:", {"4E091": "added"}),
    ("Add ECCN 3B993 after ECCN 3B992 and revise ECCN 3B001.", {"3B993": "added", "3B001": "revised"}),
    # paragraphs of the ECCN a verb acts on, through "by ..."
    ("In Supplement No. 1 to part 774, Category 5\u2014Part 1, revise ECCN 5A992 by adding paragraph .z to read as "
     "follows:", {"5A992": "revised", "5A992.z": "added"}),
    ("In Supplement No. 1 to part 774, Category 3, revise ECCN 3A001 by revising paragraph .z.1 and adding "
     "paragraphs .z.2 and .z.3.",
     {"3A001": "revised", "3A001.z.1": "revised", "3A001.z.2": "added", "3A001.z.3": "added"}),
    ("Revise ECCNs 3A001 and 4A003 by adding paragraph .z.",
     {"3A001": "revised", "4A003": "revised", "3A001.z": "added", "4A003.z": "added"}),
    # the owner named after an object is the object's, not the paragraphs'
    ("In Supplement No. 1 to part 774, Category 5\u2014Part 1, revise ECCN 5A992 by adding paragraph .z and a Note "
     "to 5A992.z to read as follows:", {"5A992": "revised", "5A992.z": "added"}),
    ("Amend ECCN 5A992 by adding paragraph .z and a Note to 5A992.z.", {"5A992.z": "added"}),
    # a Note added to a paragraph revises that paragraph; the ECCN restated as its owner adds nothing
    ("Amend ECCN 3A001 by adding a Note to paragraph .z of ECCN 3A001.", {"3A001.z": "revised"}),
    ("Remove ECCN 3B991 and add paragraph .z to ECCN 3B001.", {"3B991": "removed", "3B001.z": "added"}),
])
def test_instruction_phrasings_of_real_ccl_amendments(instruction: str, expected: dict[str, str]) -> None:
    assert {e: a for e, a, _c in parse_instruction(instruction)} == expected


@pytest.mark.parametrize(("instruction", "expected"), [
    ("9. Add \u00a7\u00a7 740.27, 740.28, and 740.29 to read as follows:",
     [("AIA", "added"), ("ACM", "added"), ("LPP", "added")]),
    ("9. Remove and reserve \u00a7\u00a7 740.27 and 740.28.", [("AIA", "removed"), ("ACM", "removed")]),
    ("9. Sections 740.25, and 740.26 are revised to read as follows:", [("HBM", "revised"), ("RFF", "revised")]),
])
def test_license_exception_sections_listed_with_a_serial_comma(instruction: str,
                                                                  expected: list[tuple[str, str]]) -> None:
    from extraction.ccl import extract_license_exceptions

    root = etree.fromstring(f"<RULE><SUPLINF><REGTEXT PART='740' TITLE='15'><AMDPAR>{instruction}</AMDPAR>"
                            f"</REGTEXT></SUPLINF></RULE>")
    assert [(c.code, c.action) for c in extract_license_exceptions(root)] == expected
