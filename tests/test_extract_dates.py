"""Tests for extraction.dates: table-driven sentences, small XML documents, the BIS fixtures and the real
2016 daily-issue sample."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from extraction.dates import extract_dates, extract_dates_text
from extraction.model import DateFact

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures/http/fr/documents/full_text/xml"
SAMPLE = Path("/work/shared/corpus/fr-daily-2016-04-15-rules.xml")

D = dt.date
Exp = tuple[str, str, str | None, str]  # kind, date, end_date, scope substring


def _key(f: DateFact) -> tuple[str, str, str | None]:
    return f.kind, f.date.isoformat(), f.end_date.isoformat() if f.end_date else None


def _check(facts: list[DateFact], expected: list[Exp]) -> None:
    got = [(*_key(f), f.scope) for f in facts]
    assert len(facts) == len(expected), got
    for f, (kind, date, end, scope) in zip(facts, expected, strict=True):
        assert _key(f) == (kind, date, end), got
        assert scope.lower() in f.scope.lower(), got
        assert 0.0 < f.confidence <= 1.0
        assert f.quote


def _rule(dates_ps: str, tag: str = "DATES", supl: str = "") -> etree._Element:
    xml = (f'<RULE><PREAMB><AGENCY TYPE="F">Department of Commerce</AGENCY><{tag}><HD SOURCE="HED">DATES:</HD>'
           f"{dates_ps}</{tag}></PREAMB><SUPLINF>{supl}</SUPLINF></RULE>")
    return etree.fromstring(xml)


# ------------------------------------------------------------------------------------------ plain text table

TEXT_CASES: list[tuple[str, str, D | None, list[Exp]]] = [
    ("effective-label-before-publication",
     "Effective date: This rule is effective January 13, 2025.", D(2025, 1, 15),
     [("effective", "2025-01-13", None, "whole rule")]),
    ("Effective Date capitalised",
     "Effective Date: This interim final rule is effective January 16, 2025.", D(2025, 1, 16),
     [("effective", "2025-01-16", None, "whole rule")]),
    ("compliance-dates-label",
     "Compliance dates: Compliance with this rule is not required until January 31, 2025.", D(2025, 1, 16),
     [("compliance", "2025-01-31", None, "whole rule")]),
    ("comments-label",
     "Comments: Comments must be received by BIS no later than May 15, 2025.", D(2025, 1, 15),
     [("comments_due", "2025-05-15", None, "whole rule")]),
    ("comment-date-bare", "Comment date: March 14, 2025.", D(2025, 1, 16),
     [("comments_due", "2025-03-14", None, "whole rule")]),
    ("submit-on-or-before",
     "Submit comments on or before March 14, 2025.", D(2025, 1, 16),
     [("comments_due", "2025-03-14", None, "whole rule")]),
    ("prose-no-labels",
     "This rule is effective April 15, 2016. Comments must be received by May 16, 2016.", D(2016, 4, 15),
     [("effective", "2016-04-15", None, "whole rule"), ("comments_due", "2016-05-16", None, "whole rule")]),
    ("the-effective-date-is", "The effective date is May 1, 2016.", D(2016, 4, 15),
     [("effective", "2016-05-01", None, "whole rule")]),
    ("effective-on", "These amendments are effective on June 1, 2016.", D(2016, 4, 15),
     [("effective", "2016-06-01", None, "whole rule")]),
    ("bare-effective", "Effective: April 15, 2016.", D(2016, 4, 15),
     [("effective", "2016-04-15", None, "whole rule")]),
    ("multi-effective-2022-style",
     "Effective date: This rule is effective October 21, 2022, except for amendatory instructions 7, 9, 11, 17, "
     "and 25, which are effective October 7, 2022, and amendatory instruction 22, which is effective "
     "October 12, 2022.", D(2022, 10, 13),
     [("effective", "2022-10-21", None, "whole rule except amendatory instructions 7, 9, 11, 17, and 25 and "
                                        "amendatory instruction 22"),
      ("effective", "2022-10-07", None, "amendatory instructions 7, 9, 11, 17, and 25"),
      ("effective", "2022-10-12", None, "amendatory instruction 22")]),
    ("multi-effective-two",
     "This rule is effective October 7, 2022, except for amendatory instructions 7, 9, 11, 17 and 25, which "
     "are effective October 12, 2022.", D(2022, 10, 13),
     [("effective", "2022-10-07", None, "whole rule except amendatory instructions 7, 9, 11, 17 and 25"),
      ("effective", "2022-10-12", None, "amendatory instructions 7, 9, 11, 17 and 25")]),
    ("window-until",
     "The amendments in instruction 11 are effective from November 17, 2023 until January 1, 2026.",
     D(2023, 10, 25), [("effective", "2023-11-17", "2026-01-01", "amendatory instruction 11 (window ends 'until'")]),
    ("window-through-suspension",
     "Suspension period: The suspension applies from November 10, 2025, through November 9, 2026.",
     D(2025, 11, 12), [("effective", "2025-11-10", "2026-11-09", "suspension period (window ends 'through'")]),
    ("window-to-with-times",
     "This deviation is effective from 5 a.m. on April 30, 2016 to 5 a.m. on June 11, 2016.", D(2016, 4, 15),
     [("effective", "2016-04-30", "2016-06-11", "whole rule (window ends 'to'")]),
    ("instructions-scope",
     "Amendatory instructions 4 and 7 are effective January 1, 2026.", D(2025, 1, 15),
     [("effective", "2026-01-01", None, "amendatory instructions 4 and 7")]),
    ("except-instruction-11",
     "This rule is effective November 17, 2023, except for amendatory instruction 11, which is effective "
     "from November 17, 2023 until January 1, 2026.", D(2023, 10, 25),
     [("effective", "2023-11-17", None, "whole rule except amendatory instruction 11"),
      ("effective", "2023-11-17", "2026-01-01", "amendatory instruction 11")]),
    ("delayed-effective-date",
     "The effective date of the interim final rule published March 1, 2016 (81 FR 10477) is delayed from "
     "April 15, 2016 to May 16, 2016.", D(2016, 4, 15),
     [("effective", "2016-05-16", None, "81 FR 10477")]),
    ("typo-period", "Effective date: This rule is effective January 13. 2025.", D(2025, 1, 15),
     [("effective", "2025-01-13", None, "whole rule")]),
    ("abbrev-month", "This rule is effective Jan. 17, 2023.", D(2023, 1, 18),
     [("effective", "2023-01-17", None, "whole rule")]),
    ("abbrev-sept", "This rule is effective Sept. 29, 2025.", D(2025, 9, 30),
     [("effective", "2025-09-29", None, "whole rule")]),
    ("glued-comma", "This rule is effective January 17,2023.", D(2023, 1, 18),
     [("effective", "2023-01-17", None, "whole rule")]),
    ("nbsp", "This rule is effective\u00a0January\u00a017,\u00a02023.", D(2023, 1, 18),
     [("effective", "2023-01-17", None, "whole rule")]),
    ("numeric", "Amendatory instruction 11 is effective 11/17/2023 to 01/01/2026.", D(2023, 10, 25),
     [("effective", "2023-11-17", "2026-01-01", "amendatory instruction 11")]),
    ("relative-after", "This rule is effective 30 days after date of publication.", D(2025, 1, 15),
     [("effective", "2025-02-14", None, "whole rule")]),
    ("relative-from-fr",
     "Compliance date: Compliance with this rule is required 120 days from the date of publication in the "
     "Federal Register.", D(2025, 1, 15), [("compliance", "2025-05-15", None, "whole rule")]),
    ("placeholder",
     "This rule is effective [INSERT DATE 120 DAYS AFTER DATE OF PUBLICATION IN THE FEDERAL REGISTER].",
     D(2025, 1, 15), [("effective", "2025-05-15", None, "whole rule")]),
    ("placeholder-publication",
     "Comments must be received by [INSERT DATE OF PUBLICATION IN THE FEDERAL REGISTER].",
     D(2025, 1, 15), [("comments_due", "2025-01-15", None, "whole rule")]),
    ("relative-no-publication-date", "This rule is effective 30 days after publication.", None, []),
    ("upon-publication", "This rule is effective upon publication.", D(2025, 1, 15),
     [("effective", "2025-01-15", None, "whole rule")]),
    ("compliance-365-scope",
     "Compliance date: Compliance with paragraphs 14, 15 and 18 of supplement no. 10 to part 748 is required by "
     "365 days after publication.", D(2025, 1, 15),
     [("compliance", "2026-01-15", None, "paragraphs 14, 15 and 18 of supplement no. 10 to part 748")]),
    ("compliance-2025-00636",
     "Compliance dates: Compliance with the changes made by this rule is not required until 120 days from date "
     "of publication, except that compliance with paragraphs 14, 15, and 18 of supplement no. 10 to part 748 "
     "is not required until 365 days from date of publication.", D(2025, 1, 15),
     [("compliance", "2025-05-15", None, "whole rule except paragraphs 14, 15, and 18 of supplement no. 10"),
      ("compliance", "2026-01-15", None, "paragraphs 14, 15, and 18 of supplement no. 10 to part 748")]),
    ("compliance-only-revised-text",
     "Compliance date: Compliance with the EAR text revised by this rule is not required until January 31, 2025. "
     "This delayed compliance date applies only to the EAR text that this rule revises; it does not delay "
     "compliance with any other provision of the EAR.", D(2025, 1, 16),
     [("compliance", "2025-01-31", None, "only the EAR text that this rule revises")]),
    ("comment-extension-own",
     "The comment period for this rule is extended to January 31, 2023.", D(2022, 12, 7),
     [("comments_due", "2023-01-31", None, "whole rule (comment period extended)")]),
    ("comment-extension-other",
     "The comment period for the interim final rule published October 13, 2022 (87 FR 62186) is extended to "
     "January 31, 2023.", D(2022, 12, 7),
     [("comments_due", "2023-01-31", None, "comment period extended: interim final rule published October 13, "
                                           "2022 (87 FR 62186)")]),
    ("comment-extension-inside-dates",
     "Comments: Comments on this rule must be received by BIS no later than March 14, 2025. The period for "
     "submitting comments on the interim final rule \u201cForeign-Produced Direct Product Rule Additions\u201d "
     "(89 FR 96790, December 5, 2024) is extended to March 14, 2025.", D(2025, 1, 16),
     [("comments_due", "2025-03-14", None, "whole rule"),
      ("comments_due", "2025-03-14", None, "89 FR 96790")]),
    ("two-paragraphs-text",
     "Effective date: This rule is effective December 2, 2024.\nCompliance date: Compliance with the new foreign "
     "direct product rules in \u00a7 734.9 is not required until December 31, 2024.", D(2024, 12, 5),
     [("effective", "2024-12-02", None, "whole rule"),
      ("compliance", "2024-12-31", None, "new foreign direct product rules in \u00a7 734.9")]),
    ("govinfo-wrapped-with-page-marker",
     "DATES: Effective date: This rule is effective January\n16, 2025.\n\nCompliance date: Compliance with the "
     "EAR text revised by this rule is not required until January [[Page 5299]] 31, 2025.", D(2025, 1, 16),
     [("effective", "2025-01-16", None, "whole rule"),
      ("compliance", "2025-01-31", None, "EAR text revised by this rule")]),
    ("extension-of-two-other-rules",
     "Comment period: The comment period for the interim final rules published October 25, 2023 (88 FR 73458 and "
     "88 FR 73424) is extended to January 17, 2024.", D(2023, 12, 18),
     [("comments_due", "2024-01-17", None, "88 FR 73458 and 88 FR 73424")]),
    ("relative-word-number", "This rule is effective thirty days after publication.", D(2025, 1, 15),
     [("effective", "2025-02-14", None, "whole rule")]),
    ("on-date-of-publication", "This rule is effective on the date of publication in the Federal Register.",
     D(2025, 1, 15), [("effective", "2025-01-15", None, "whole rule")]),
    ("business-days-not-computed", "This rule is effective 120 business days after publication.", D(2025, 1, 15),
     []),
    ("section-scope", "Effective Date: The amendments to \u00a7 744.6 in this rule are effective October 12, 2022.",
     D(2022, 10, 13), [("effective", "2022-10-12", None, "amendments to \u00a7 744.6")]),
    ("malformed-date", "This rule is effective February 30, 2025.", D(2025, 1, 15), []),
    ("no-date-stated", "Submit either electronic or written comments on FDA guidances at any time.", D(2016, 4, 15),
     []),
    ("briefing-not-a-fact",
     "The briefing will be held on January 15, 2025, from 1 p.m. to 3 p.m. Eastern Standard Time. Registration "
     "closes at 11:59 p.m. Eastern Standard Time on January 14, 2025.", D(2025, 1, 15), []),
    ("incorporation-by-reference-not-effective",
     "The Director of the Federal Register approves the incorporation by reference of certain publications "
     "listed in the rule as of April 15, 2016.", D(2016, 4, 15), []),
    ("empty", "", D(2025, 1, 15), []),
    ("dates-heading-only", "DATES:", D(2025, 1, 15), []),
]


@pytest.mark.parametrize(("text", "pub", "expected"), [c[1:] for c in TEXT_CASES], ids=[c[0] for c in TEXT_CASES])
def test_text_cases(text: str, pub: D | None, expected: list[Exp]) -> None:
    _check(extract_dates_text(text, pub), expected)


def test_text_location_and_quote() -> None:
    [f] = extract_dates_text("This rule is effective April 15, 2016.", D(2016, 4, 15), location="govinfo DATES")
    assert f.location == "govinfo DATES"
    assert f.quote == "This rule is effective April 15, 2016."


def test_confidence_lower_for_relative_and_odd_formats() -> None:
    plain = extract_dates_text("This rule is effective January 13, 2025.", D(2025, 1, 15))[0].confidence
    typo = extract_dates_text("This rule is effective January 13. 2025.", D(2025, 1, 15))[0].confidence
    rel = extract_dates_text("This rule is effective 30 days after publication.", D(2025, 1, 15))[0].confidence
    ph = extract_dates_text("This rule is effective [INSERT DATE 30 DAYS AFTER DATE OF PUBLICATION IN THE "
                            "FEDERAL REGISTER].", D(2025, 1, 15))[0].confidence
    assert plain > typo
    assert plain > rel > ph


def test_never_defaults_effective_to_publication() -> None:
    facts = extract_dates_text("Comments must be received by May 16, 2016.", D(2016, 4, 15))
    assert [f.kind for f in facts] == ["comments_due"]


@pytest.mark.parametrize("odd", [
    "\x00", "effective", "effective ,,, 2025", "This rule is effective January 2025.", "effective 99/99/2025",
    "Effective date: This rule is effective 0 days after publication", "except for which is effective",
    "This rule is effective ( [INSERT DATE", "Compliance: is not required until", "Comments: ;;;; ..",
    "January 1, 2025 " * 200,
])
def test_odd_input_never_raises(odd: str) -> None:
    facts = extract_dates_text(odd, D(2025, 1, 15))
    assert isinstance(facts, list)
    facts = extract_dates_text(odd, None)
    assert all(f.date.year > 1900 for f in facts)


# ------------------------------------------------------------------------------------------ XML table

XML_CASES: list[tuple[str, etree._Element, D | None, list[Exp]]] = [
    ("e03-label",
     _rule('<P><E T="03">Effective date:</E> This rule is effective January 13, 2025.</P>'
           '<P><E T="03">Comments:</E> Comments must be received by BIS no later than May 15, 2025.</P>'),
     D(2025, 1, 15),
     [("effective", "2025-01-13", None, "whole rule"), ("comments_due", "2025-05-15", None, "whole rule")]),
    ("effdate-element",
     _rule("<P>This rule is effective January 15, 2026.</P>", tag="EFFDATE"), D(2026, 1, 15),
     [("effective", "2026-01-15", None, "whole rule")]),
    ("prtpage-split",
     _rule('<P><E T="03">Effective date:</E> This rule is effective January <PRTPAGE P="5299"/>16, 2025.</P>'),
     D(2025, 1, 16), [("effective", "2025-01-16", None, "whole rule")]),
    ("empty-dates", _rule(""), D(2025, 1, 15), []),
    ("no-dates-section", etree.fromstring("<RULE><PREAMB><SUBJECT>x</SUBJECT></PREAMB></RULE>"), D(2025, 1, 15), []),
    ("suplinf-labelled-heading",
     _rule("<P>Comments must be received by March 14, 2025.</P>",
           supl='<HD SOURCE="HD1">Effective Date</HD><P>This rule is effective February 1, 2025.</P>'),
     D(2025, 1, 15),
     [("comments_due", "2025-03-14", None, "whole rule"), ("effective", "2025-02-01", None, "whole rule")]),
    ("suplinf-other-rule-ignored",
     _rule("<P>Comments must be received by March 14, 2025.</P>",
           supl='<HD SOURCE="HD1">Background</HD><P>On September 30, 2025, BIS published an interim final rule, '
                "effective September 29, 2025, that applied the license requirements.</P>"),
     D(2025, 11, 12), [("comments_due", "2025-03-14", None, "whole rule")]),
    ("suplinf-not-used-when-dates-has-effective",
     _rule("<P>This rule is effective January 16, 2025.</P>",
           supl="<P>This rule is effective January 17, 2025.</P>"),
     D(2025, 1, 16), [("effective", "2025-01-16", None, "whole rule")]),
]


@pytest.mark.parametrize(("root", "pub", "expected"), [c[1:] for c in XML_CASES], ids=[c[0] for c in XML_CASES])
def test_xml_cases(root: etree._Element, pub: D | None, expected: list[Exp]) -> None:
    _check(extract_dates(root, pub), expected)


def test_xml_location_is_element_path() -> None:
    root = _rule("<P>Comments must be received by May 15, 2025.</P><P>This rule is effective January 13, 2025.</P>")
    facts = extract_dates(root, D(2025, 1, 15))
    assert [f.location for f in facts] == ["RULE/PREAMB/DATES/P[1]", "RULE/PREAMB/DATES/P[2]"]
    supl = _rule("", supl='<HD SOURCE="HD1">Effective Date</HD><P>This rule is effective February 1, 2025.</P>')
    [f] = extract_dates(supl, D(2025, 1, 15))
    assert f.location == "RULE/SUPLINF/P" and f.confidence <= 0.6


# ------------------------------------------------------------------------------------------ BIS fixtures

FIXTURE_EXPECTED: dict[str, tuple[D, list[Exp]]] = {
    "2023-23055": (D(2023, 10, 25), [
        ("effective", "2023-11-17", None, "whole rule except amendatory instruction 11"),
        ("effective", "2023-11-17", "2026-01-01", "amendatory instruction 11 (window ends 'until'"),
        ("comments_due", "2023-12-18", None, "whole rule")]),
    "2024-28270": (D(2024, 12, 5), [
        ("effective", "2024-12-02", None, "whole rule"),
        ("compliance", "2024-12-31", None, "3A090, 3D001, and 3E001 concerning high bandwidth memory")]),
    "2025-00636": (D(2025, 1, 15), [
        ("effective", "2025-01-13", None, "whole rule"),
        ("compliance", "2025-05-15", None, "whole rule except paragraphs 14, 15, and 18 of supplement no. 10"),
        ("compliance", "2026-01-15", None, "paragraphs 14, 15, and 18 of supplement no. 10 to part 748"),
        ("comments_due", "2025-05-15", None, "whole rule")]),
    "2025-00637": (D(2025, 1, 15), []),  # briefing notice: no effective/compliance/comment date
    "2025-00711": (D(2025, 1, 16), [
        ("effective", "2025-01-16", None, "whole rule"),
        ("compliance", "2025-01-31", None, "only the EAR text that this rule revises"),
        ("comments_due", "2025-03-14", None, "whole rule"),
        ("comments_due", "2025-03-14", None, "(89 FR 96790, December 5, 2024)")]),
    "2025-02655": (D(2025, 2, 14), [
        ("effective", "2025-02-11", None, "whole rule"),
        ("comments_due", "2025-03-14", None, "interim final rule")]),
    "2025-19846": (D(2025, 11, 12), [
        ("effective", "2025-11-10", None, "whole rule"),
        ("effective", "2025-11-10", "2026-11-09", "suspension period (window ends 'through'")]),
    "2026-00789": (D(2026, 1, 15), [("effective", "2026-01-15", None, "whole rule")]),
}


def _fixture_files() -> list[Path]:
    return sorted(FIXTURES.rglob("*.xml"))


def test_every_fixture_has_expectations() -> None:
    names = {p.stem for p in _fixture_files()}
    assert names, "no fixtures found"
    assert names <= set(FIXTURE_EXPECTED), names - set(FIXTURE_EXPECTED)


@pytest.mark.parametrize("path", _fixture_files(), ids=lambda p: p.stem)
def test_fixture(path: Path) -> None:
    pub, expected = FIXTURE_EXPECTED[path.stem]
    root = etree.parse(str(path)).getroot()
    facts = extract_dates(root, pub)
    _check(facts, expected)
    for f in facts:
        assert f.location.startswith("RULE/PREAMB/") or f.location.startswith("NOTICE/PREAMB/")


def test_fixture_effective_before_publication_kept() -> None:
    root = etree.parse(str(FIXTURES / "2025/01/15/2025-00636.xml")).getroot()
    eff = [f for f in extract_dates(root, D(2025, 1, 15)) if f.kind == "effective"]
    assert [f.date for f in eff] == [D(2025, 1, 13)]
    assert "January 13. 2025" in eff[0].quote


def test_fixture_without_publication_date_skips_relative_only() -> None:
    root = etree.parse(str(FIXTURES / "2025/01/15/2025-00636.xml")).getroot()
    facts = extract_dates(root, None)
    assert [(f.kind, f.date.isoformat()) for f in facts] == [("effective", "2025-01-13"),
                                                            ("comments_due", "2025-05-15")]


# ------------------------------------------------------------------------------------------ real 2016 sample


@pytest.mark.skipif(not SAMPLE.exists(), reason="real FR sample not available")
def test_real_2016_daily_issue() -> None:
    from extraction.xmltext import text_of

    rules = list(etree.parse(str(SAMPLE)).getroot().iter("RULE"))
    assert rules
    for rule in rules:
        facts = extract_dates(rule, D(2016, 4, 15))
        for f in facts:
            assert f.date.year == 2016 and (f.end_date is None or f.end_date.year == 2016)
            assert f.location.startswith("FEDREG/RULES/RULE")
        dates_text = " ".join(text_of(el) for el in rule.xpath("./PREAMB/DATES | ./PREAMB/EFFDATE"))
        if "effective" in dates_text.lower():
            assert any(f.kind == "effective" for f in facts), dates_text
    by_rule = [[(*_key(f), f.scope) for f in extract_dates(r, D(2016, 4, 15))] for r in rules]
    assert by_rule[1] == []  # comments "at any time": no date
    assert ("comments_due", "2016-05-16", None, "objections and requests for a hearing") in by_rule[2]
    assert by_rule[3][0][:3] == ("effective", "2016-05-16", None) and "81 FR 10477" in by_rule[3][0][3]
    assert by_rule[6][0][:3] == ("effective", "2016-04-30", "2016-04-30")
    assert by_rule[7][0][:3] == ("effective", "2016-04-30", "2016-06-11")


# ------------------------------------------------------------------------------------------ packaging


def test_module_imports_without_spacy() -> None:
    code = "import sys, extraction.dates; assert 'spacy' not in sys.modules, 'spacy imported eagerly'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# ------------------------------------------------------------------------------------------ trap corpus rules


def test_extension_scope_drops_the_old_closing_date_clause() -> None:
    facts = extract_dates_text(
        "The comment period for the interim final rule published on October 13, 2022 (87 FR 62186), which was "
        "scheduled to close on December 12, 2022, is extended until January 31, 2023.", D(2022, 12, 7))
    _check(facts, [("comments_due", "2023-01-31", None, "comment period extended: interim final rule published on "
                                                        "October 13, 2022 (87 FR 62186)")])
    assert "which" not in facts[0].scope


def test_reopened_comment_period_of_another_rule() -> None:
    facts = extract_dates_text(
        "Comments: Comments on this rule must be received by BIS no later than May 19, 2025. The comment period "
        "for the interim final rule (89 FR 80080, October 2, 2024), which closed on November 1, 2024, is reopened "
        "until April 18, 2025.", D(2025, 3, 19))
    _check(facts, [("comments_due", "2025-05-19", None, "whole rule"),
                   ("comments_due", "2025-04-18", None, "comment period reopened: interim final rule (89 FR 80080")])


def test_suplinf_sentences_about_another_rule_are_not_facts_of_this_document() -> None:
    """A briefing notice restates the rule's dates in its background ("The interim final rule is effective ...");
    only "This rule ..." sentences describe the document itself."""
    notice = etree.fromstring(
        "<NOTICE><PREAMB><DATES><P>The briefing will be held on November 1, 2023.</P></DATES></PREAMB><SUPLINF>"
        '<HD SOURCE="HD1">Background</HD><P>The interim final rule is effective November 17, 2023, and comments on '
        "it are due by December 18, 2023.</P></SUPLINF></NOTICE>")
    assert extract_dates(notice, D(2023, 10, 27)) == []
    rule = _rule("<P>Comments must be received by March 14, 2025.</P>",
                 supl="<P>This rule is effective February 1, 2025, the date of its release.</P>")
    assert [(f.kind, f.date) for f in extract_dates(rule, D(2025, 2, 3))] == [
        ("comments_due", D(2025, 3, 14)), ("effective", D(2025, 2, 1))]


def test_relative_compliance_dates_with_a_publication_date_in_another_year() -> None:
    facts = extract_dates_text(
        "Compliance dates: Compliance with the revisions to § 748.15 made by this rule is required 120 days after "
        "the date of publication in the Federal Register. Compliance with paragraphs (d)(2) and (d)(3) of "
        "supplement no. 8 to part 748 is required 365 days after the date of publication in the Federal Register.",
        D(2024, 12, 5))
    _check(facts, [("compliance", "2025-04-04", None, "revisions to § 748.15"),
                   ("compliance", "2025-12-05", None, "paragraphs (d)(2) and (d)(3)")])


def test_suspension_until_gives_a_window_and_no_separate_return_date() -> None:
    facts = extract_dates_text(
        "Suspension period: Note 1 to 3A090.a is suspended from March 3, 2026, until March 3, 2027. Unless BIS "
        "extends the suspension, Note 1 to 3A090.a applies again on March 3, 2027, without further action.",
        D(2026, 3, 5))
    _check(facts, [("effective", "2026-03-03", "2027-03-03", "suspension period (window ends 'until'")])


@pytest.mark.parametrize(("text", "expected"), [
    ("The effective date is delayed until May 15, 2025; the compliance date remains January 15, 2026.",
     [("effective", dt.date(2025, 5, 15), "whole rule"), ("compliance", dt.date(2026, 1, 15), "whole rule")]),
    ("The compliance date has been extended to June 1, 2025.", [("compliance", dt.date(2025, 6, 1), "whole rule")]),
    ("The compliance date for paragraph (b) is now March 3, 2026.",
     [("compliance", dt.date(2026, 3, 3), "paragraph (b)")]),
])
def test_compliance_date_that_remains_or_was_moved(text: str, expected: list[tuple[str, dt.date, str]]) -> None:
    assert [(f.kind, f.date, f.scope) for f in extract_dates_text(text, dt.date(2025, 1, 1))] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("The effective date of this rule remains January 13, 2025.", [("effective", dt.date(2025, 1, 13), "whole rule")]),
    ("The effective date of amendatory instruction 3 remains March 1, 2025.",
     [("effective", dt.date(2025, 3, 1), "amendatory instruction 3")]),
    ("Compliance dates: Compliance with the requirements of this rule is required by May 15, 2025, except that "
     "compliance with \u00a7 740.27 is required by January 15, 2026.",
     [("compliance", dt.date(2025, 5, 15), "whole rule except \u00a7 740.27"),
      ("compliance", dt.date(2026, 1, 15), "\u00a7 740.27")]),
])
def test_scopes_that_mean_this_rule(text: str, expected: list[tuple[str, dt.date, str]]) -> None:
    assert [(f.kind, f.date, f.scope) for f in extract_dates_text(text, dt.date(2025, 1, 15))] == expected
