"""Behaviour of the extraction internals that were reworked for speed: the spaCy date matcher (ISO dates,
lexeme flags, the "no digit, no spaCy" shortcut), the XPath pre-selection of SUPLINF paragraphs, the linear
sentence splitter, the XSLT block listing (full parts vs instructions only) and its Python fallback, the
eligibility reading of parts 742/744/748 and the cached citation -> document number table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from extraction import blocks, dates
from extraction.ccl import extract_eccn_changes, extract_eligibility, extract_thresholds
from extraction.dates import extract_dates, extract_dates_text
from extraction.document import corrects_from, known_document_for
from extraction.model import DateFact
from extraction.nlp import matcher, regex_flag, tokens, words_flag
from extraction.xmltext import element_path, text_of

D = dt.date
PUB = D(2025, 1, 15)


def kinds_dates(facts: list[DateFact]) -> list[tuple[str, dt.date]]:
    return [(f.kind, f.date) for f in facts]


# =============================================================================== 1. dates in plain text


@pytest.mark.parametrize(("text", "kind", "date"), [
    # ISO: the blank tokenizer splits "2025-01-13" at its hyphens (see test below); the pattern is
    # year "-" two digits "-" two digits
    ("This rule is effective 2025-01-13.", "effective", D(2025, 1, 13)),
    ("Compliance with this rule is not required until 2025-03-31.", "compliance", D(2025, 3, 31)),
    # the last valid day of February right next to the impossible one below
    ("This rule is effective 2025-02-28.", "effective", D(2025, 2, 28)),
    ("This rule is effective JANUARY 5, 2024.", "effective", D(2024, 1, 5)),  # month flag is case-insensitive
    ("This rule is effective Jan. 15th, 2025.", "effective", D(2025, 1, 15)),  # abbreviation + ordinal day
    ("This rule is effective 11/17/2023.", "effective", D(2023, 11, 17)),  # month/day/year
    ("This rule is effective January 1, 1800.", "effective", D(1800, 1, 1)),  # lowest accepted year
], ids=["iso", "iso-compliance", "iso-feb-28", "upper-case", "abbrev-ordinal", "numeric", "year-1800"])
def test_absolute_date_forms(text: str, kind: str, date: dt.date) -> None:
    facts = extract_dates_text(text, PUB)
    assert kinds_dates(facts) == [(kind, date)]
    [f] = facts
    assert f.scope == "whole rule"
    assert f.quote == text
    assert 0.0 < f.confidence <= 1.0


def test_iso_date_is_five_tokens_for_the_blank_tokenizer() -> None:
    # the reason the ISO pattern is year, "-", two digits, "-", two digits: if spaCy ever stops splitting,
    # the pattern no longer matches and test_absolute_date_forms[iso] tells why
    assert [t.text for t in tokens("effective 2025-01-13.")] == ["effective", "2025", "-", "01", "-", "13", "."]


@pytest.mark.parametrize("text", [
    "This rule is effective 2025-02-30.",  # impossible day: dropped, no exception
    "This rule is effective 2025-13-01.",  # impossible month
    "This rule is effective February 30, 2025.",
    "This rule is effective January 1, 1700.",  # year outside 1800..2999
    "This rule is effective 1700-01-01.",
    "This rule is effective 2025-1-13.",  # not two digits: not an ISO date
])
def test_impossible_or_out_of_range_dates_give_no_fact(text: str) -> None:
    assert extract_dates_text(text, PUB) == []


def test_impossible_date_does_not_hide_a_valid_one_in_the_same_text() -> None:
    facts = extract_dates_text("This rule is effective 2025-02-30. Comments must be received by 2025-03-17.", PUB)
    assert kinds_dates(facts) == [("comments_due", D(2025, 3, 17))]


def test_relative_word_and_number_days_after_publication() -> None:
    # day of publication is day 0: 2025-01-15 + 30 days = 2025-02-14
    facts = extract_dates_text("This rule is effective thirty (30) days after publication.", PUB)
    assert kinds_dates(facts) == [("effective", D(2025, 2, 14))]
    # relative dates are less certain than written ones
    explicit = extract_dates_text("This rule is effective February 14, 2025.", PUB)
    assert facts[0].confidence < explicit[0].confidence
    # without a publication date a relative date cannot be computed: no fact
    assert extract_dates_text("This rule is effective thirty (30) days after publication.", None) == []


def test_publication_placeholder_is_the_publication_date() -> None:
    text = "This rule is effective [INSERT DATE OF PUBLICATION IN THE FEDERAL REGISTER]."
    facts = extract_dates_text(text, PUB)
    assert kinds_dates(facts) == [("effective", PUB)]
    assert facts[0].quote == text
    # a placeholder is the least certain form (module docstring: placeholders 0.6)
    assert facts[0].confidence <= 0.6
    # another publication date moves the fact with it: it is computed, not parsed
    assert kinds_dates(extract_dates_text(text, D(2024, 6, 3))) == [("effective", D(2024, 6, 3))]
    assert extract_dates_text(text, None) == []


def test_placeholder_mention_covers_the_whole_bracket() -> None:
    text = "Comments must be received by [INSERT DATE 30 DAYS AFTER DATE OF PUBLICATION IN THE FEDERAL REGISTER]."
    [m] = dates._mentions(text)
    assert (m.days, m.placeholder) == (30, True)
    assert m.text == "[INSERT DATE 30 DAYS AFTER DATE OF PUBLICATION IN THE FEDERAL REGISTER]"
    assert kinds_dates(extract_dates_text(text, PUB)) == [("comments_due", D(2025, 2, 14))]


def test_sentences_without_digit_or_publication_skip_spacy(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    original = dates._mentions

    def spy(sentence: str) -> list[Any]:
        seen.append(sentence)
        return original(sentence)

    monkeypatch.setattr(dates, "_mentions", spy)
    facts = extract_dates_text("DATES: See section VIII. This rule is effective April 15, 2016.", D(2016, 4, 15))
    assert kinds_dates(facts) == [("effective", D(2016, 4, 15))]
    assert facts[0].quote == "This rule is effective April 15, 2016."
    assert seen == ["This rule is effective April 15, 2016."]  # "See section VIII." never reached spaCy

    # "publication" without a digit still reaches the matcher / the upon-publication reading
    seen.clear()
    facts = extract_dates_text("This rule is effective upon publication.", PUB)
    assert kinds_dates(facts) == [("effective", PUB)]
    assert seen == ["This rule is effective upon publication."]


def test_delayed_compliance_scope_sentence_without_digit_still_applies() -> None:
    # "This delayed compliance date applies only to X" has no date of its own (so no spaCy): it must still
    # narrow the scope of the previous compliance fact
    facts = extract_dates_text("Compliance with this rule is not required until June 1, 2025. This delayed "
                               "compliance date applies only to the changes to part 748.", PUB)
    assert kinds_dates(facts) == [("compliance", D(2025, 6, 1))]
    assert facts[0].scope == "only the changes to part 748"


# =============================================================================== 2. dates in FR XML


def fr_rule(dates_ps: str, supl: str = "") -> Any:
    xml = (f'<RULE><PREAMB><AGENCY TYPE="F">Department of Commerce</AGENCY><DATES><HD SOURCE="HED">DATES:</HD>'
           f"{dates_ps}</DATES></PREAMB><SUPLINF>{supl}</SUPLINF></RULE>")
    return etree.fromstring(xml.encode())


COMMENTS_ONLY = "<P>Comments must be received by March 17, 2025.</P>"
EFFECTIVE_APRIL = "<P>This rule is effective April 1, 2025.</P>"
SELF_MAY = "<P>This rule is effective May 1, 2025.</P>"
COMPLY_JUNE = "<P>Compliance with the requirements is not required until June 1, 2025.</P>"


def test_suplinf_self_reference_used_only_without_a_dates_effective_fact() -> None:
    root = fr_rule(COMMENTS_ONLY, '<HD SOURCE="HD1">Background</HD>' + SELF_MAY)
    facts = extract_dates(root, PUB)
    assert kinds_dates(facts) == [("comments_due", D(2025, 3, 17)), ("effective", D(2025, 5, 1))]
    eff = facts[1]
    assert eff.confidence <= 0.6  # SUPLINF is less certain than the DATES section
    assert eff.location == element_path(root.find("SUPLINF/P"))
    assert eff.quote == "This rule is effective May 1, 2025."

    # the DATES section has an effective date: precision first, SUPLINF's is not added
    root = fr_rule(EFFECTIVE_APRIL, SELF_MAY)
    facts = extract_dates(root, PUB)
    assert kinds_dates(facts) == [("effective", D(2025, 4, 1))]
    assert facts[0].location == element_path(root.find("PREAMB/DATES/P"))


@pytest.mark.parametrize("para", [
    "<P>Section 1758 of ECRA became effective on August 13, 2018.</P>",  # not about this rule
    "<P>The rule published on May 1, 2025 is effective May 1, 2025.</P>",  # not "This rule ..."
    "<P>This rule is Effective May 1, 2025.</P>",  # no lower-case 'effective' (XPath contains() is exact)
    '<REGTEXT PART="774" TITLE="15"><P>This rule is effective May 1, 2025.</P></REGTEXT>',  # regulatory text
])
def test_suplinf_other_paragraphs_are_not_read(para: str) -> None:
    assert kinds_dates(extract_dates(fr_rule(COMMENTS_ONLY, para), PUB)) == [("comments_due", D(2025, 3, 17))]


@pytest.mark.parametrize("heading", ["Compliance Date", "Effective Dates", "Applicability date",
                                     "V. Effective Date and Compliance Date", "COMPLIANCE DATE",
                                     "Compliance <E T='03'>Da</E>te"])
def test_suplinf_paragraph_under_a_date_heading_is_read_without_the_word_effective(heading: str) -> None:
    root = fr_rule(EFFECTIVE_APRIL, f'<HD SOURCE="HD1">Background</HD><P>Nothing here.</P>'
                                    f'<HD SOURCE="HD1">{heading}</HD>{COMPLY_JUNE}')
    facts = extract_dates(root, PUB)
    assert kinds_dates(facts) == [("effective", D(2025, 4, 1)), ("compliance", D(2025, 6, 1))]
    comp = facts[1]
    assert comp.confidence <= 0.6
    assert comp.location == element_path(root.find("SUPLINF/P[2]"))


def test_suplinf_date_heading_ends_at_the_next_heading() -> None:
    supl = (f'<HD SOURCE="HD1">Compliance Date</HD>{COMPLY_JUNE}'
            '<HD SOURCE="HD1">Regulatory Analysis</HD>'
            "<P>Compliance with the reporting requirements is not required until July 1, 2025.</P>")
    facts = extract_dates(fr_rule(EFFECTIVE_APRIL, supl), PUB)
    assert kinds_dates(facts) == [("effective", D(2025, 4, 1)), ("compliance", D(2025, 6, 1))]

    # the same paragraph, only after the unrelated heading: not read at all
    supl = ('<HD SOURCE="HD1">Compliance Date</HD><P>See below.</P><HD SOURCE="HD1">Regulatory Analysis</HD>'
            + COMPLY_JUNE)
    assert kinds_dates(extract_dates(fr_rule(EFFECTIVE_APRIL, supl), PUB)) == [("effective", D(2025, 4, 1))]


def test_suplinf_self_reference_after_an_unrelated_heading_is_still_read() -> None:
    # with a date heading present, the paragraphs outside it are still checked for "This rule is effective"
    supl = ('<HD SOURCE="HD1">Compliance Date</HD>' + COMPLY_JUNE + '<HD SOURCE="HD1">Other</HD>' + SELF_MAY)
    root = fr_rule(COMMENTS_ONLY, supl)
    facts = extract_dates(root, PUB)
    assert sorted(kinds_dates(facts)) == [("comments_due", D(2025, 3, 17)), ("compliance", D(2025, 6, 1)),
                                          ("effective", D(2025, 5, 1))]
    eff = next(f for f in facts if f.kind == "effective")
    assert eff.location == element_path(root.find("SUPLINF/P[2]"))


# abbreviations that must not end a sentence ("e.g. U", "U.S. Dept", "etc. See" ...); "on. This" does
ABBREV_UNIT = "See e.g. U.S. Dept. of Commerce, No. 5, Sec. 3, Supp. No. 2, et al., etc. "


def big_paragraph() -> str:
    return ABBREV_UNIT * (50_000 // len(ABBREV_UNIT) + 1) + "and so on. This rule is effective May 1, 2025."


def small_paragraphs(n: int) -> list[str]:
    return [f"<P>Paragraph {i}: see e.g. U.S. Dept. of Commerce, No. {i}, Sec. 3 et al. for the "
            f"{'effective' if i % 2 else 'current'} controls.</P>" for i in range(n)]


def test_sentence_splitter_on_a_long_abbreviation_heavy_paragraph() -> None:
    big = big_paragraph()
    assert len(big) >= 50_000
    sents = dates._sentences(big)
    assert len(sents) == 2  # none of the abbreviations ended a sentence
    assert sents[0].startswith("See e.g. U.S. Dept.") and sents[0].endswith("and so on.")
    assert sents[1] == "This rule is effective May 1, 2025."
    assert "".join(sents).replace(" ", "") == big.replace(" ", "")  # nothing lost


@pytest.mark.parametrize("under_heading", [False, True])
def test_suplinf_long_paragraph_among_300(under_heading: bool) -> None:
    smalls = small_paragraphs(299)
    head = '<HD SOURCE="HD1">Effective Date</HD>' if under_heading else '<HD SOURCE="HD1">Background</HD>'
    supl = "".join(smalls[:150]) + head + f"<P>{big_paragraph()}</P>" + "".join(smalls[150:])
    root = fr_rule(COMMENTS_ONLY, supl)
    assert len(root.findall("SUPLINF/P")) == 300
    facts = extract_dates(root, PUB)
    assert kinds_dates(facts) == [("comments_due", D(2025, 3, 17)), ("effective", D(2025, 5, 1))]
    eff = facts[1]
    assert eff.location == element_path(root.find("SUPLINF/P[151]"))
    assert eff.quote == "This rule is effective May 1, 2025."
    assert eff.confidence <= 0.6


# =============================================================================== 3. blocks


P744_A = "(a) General\u00a0prohibition.\tYou may not\n   export\u00a0 items\n\n to end users."
P744_B = "models trained on more than 10<SU>26</SU> operations<SU>1</SU> are <E T=\"03\">controlled</E>."
P774_A = "4A090 Computers\u00a0and\t\telectronic assemblies:"
P774_B = "a. Having a TPP of 4800 or more or a total of 10<SU>26</SU>\n operations;<SU>2</SU>"

DOC = f"""<RULE><PREAMB><SUM><P>Summary 10<SU>26</SU>.</P></SUM></PREAMB><SUPLINF><P>Prose.</P>
<REGTEXT PART="744" TITLE="15">
  <AMDPAR>1. The authority citation for part 744 continues to read as follows:</AMDPAR>
  <AUTH><HD SOURCE="HED">Authority:</HD><P>50 U.S.C. 4801-4852.</P></AUTH>
  <AMDPAR>2. Section 744.23 is amended by revising paragraph (a) to read as follows:</AMDPAR>
  <SECTION>
    <SECTNO>§\u00a0744.23</SECTNO>
    <SUBJECT>Supercomputer and\tsemiconductor end uses.</SUBJECT>
    <P>{P744_A}</P>
    <P>{P744_B}</P>
    <FP>(b) [Reserved]</FP>
    <AMDPAR>3. Add paragraph (c) to read as follows:</AMDPAR>
    <P>(c) More text.</P>
  </SECTION>
  <AMDPAR>4. Section 744.24 is added.</AMDPAR>
  <HD SOURCE="HD1">Note</HD>
  <AMDPAR>5. Section 744.25 is removed.</AMDPAR>
  <AMDPAR>6. Section 744.26 is removed.</AMDPAR>
</REGTEXT>
<REGTEXT PART="774" TITLE="15">
  <AMDPAR>7. In Supplement No. 1 to part 774, Category 4, revise ECCN 4A090 to read as follows:</AMDPAR>
  <HD SOURCE="HD1">Category 4</HD>
  <P>{P774_A}</P>
  <P>{P774_B}</P>
  <GPOTABLE><ROW><ENT>table text</ENT></ROW></GPOTABLE>
  <FP>b. Other.<PRTPAGE P="5300"/> continued</FP>
  <P>c. Last.</P>
</REGTEXT>
</SUPLINF></RULE>"""


def doc() -> Any:
    return etree.fromstring(DOC.encode())


def expected_elements(regtext: Any, instructions_only: bool) -> list[tuple[str, Any]]:
    """The blocks as the module docstring defines them, written out for this document."""
    names = {"AMDPAR": "amdpar", "P": "p", "FP": "p", "HD": "hd", "SECTION": "section"}
    out: list[tuple[str, Any]] = []

    def visit(el: Any) -> None:
        for c in el:
            if c.tag in ("AUTH", "GPOTABLE", "FTNT", "GPH", "MATH", "SECTNO", "SUBJECT"):
                continue
            kind = names.get(c.tag)
            if kind is not None and (not instructions_only or kind == "amdpar"):
                out.append((kind, c))
            if kind in (None, "section"):
                visit(c)

    visit(regtext)
    return out


def expected_text(kind: str, el: Any) -> str:
    if kind == "section":
        return " ".join(text_of(c) for c in el if c.tag in ("SECTNO", "SUBJECT"))
    return text_of(el)


def summary(groups: Sequence[Iterable[blocks.Block]]) -> list[list[tuple[str, str, str | None, str]]]:
    return [[(b.kind, b.text, b.part, b.location) for b in g] for g in groups]


def test_default_lists_every_block_of_774_but_only_the_instructions_of_744() -> None:
    root = doc()
    rt744, rt774 = root.findall("SUPLINF/REGTEXT")
    g744, g774 = blocks.document_blocks(root)
    assert [b.kind for b in g744] == ["amdpar"] * 6  # incl. the AMDPAR inside SECTION; no P, HD, SECTION
    assert [b.kind for b in g774] == ["amdpar", "hd", "p", "p", "p", "p"]  # GPOTABLE skipped
    assert {b.part for b in g744} == {"744"} and {b.part for b in g774} == {"774"}
    for group, rt, only in ((g744, rt744, True), (g774, rt774, False)):
        exp = expected_elements(rt, only)
        assert [(b.kind, b.text) for b in group] == [(k, expected_text(k, el)) for k, el in exp]
        assert [b.location for b in group] == [element_path(el) for _k, el in exp]


def test_locations_of_the_instructions_of_a_partial_regtext() -> None:
    root = doc()
    amdpars = root.findall("SUPLINF/REGTEXT[@PART='744']//AMDPAR")
    g744 = blocks.document_blocks(root)[0]
    assert g744[0].location == element_path(amdpars[0]) == "RULE/SUPLINF/REGTEXT[1]/AMDPAR[1]"
    assert g744[1].location == element_path(amdpars[1]) == "RULE/SUPLINF/REGTEXT[1]/AMDPAR[2]"
    # an instruction nested in a SECTION, and the ones past the first four (a different lookup path)
    assert g744[2].location == element_path(amdpars[2]) == "RULE/SUPLINF/REGTEXT[1]/SECTION/AMDPAR"
    assert [b.location for b in g744[4:]] == [element_path(a) for a in amdpars[4:]]
    assert g744[5].text == "6. Section 744.26 is removed."


def test_texts_equal_text_of_with_whitespace_and_superscripts() -> None:
    root = doc()
    g744, g774 = blocks.document_blocks(root, full=frozenset({"744", "774"}))
    texts = {b.text for b in g744 + g774}
    # whitespace collapsed (no-break spaces, tabs, newlines), exponent kept as ^, footnote markers dropped
    assert "(a) General prohibition. You may not export items to end users." in texts
    assert "models trained on more than 10^26 operations are controlled." in texts
    assert "4A090 Computers and electronic assemblies:" in texts
    assert "a. Having a TPP of 4800 or more or a total of 10^26 operations;" in texts
    assert "§ 744.23 Supercomputer and semiconductor end uses." in texts
    assert "b. Other. continued" in texts  # page break carries no text
    for b in g744 + g774:
        assert not any(ch in b.text for ch in "\u00a0\t\n\ue000\ue001\ue002\ue003\ue004\ue005"), b.text
        assert "  " not in b.text and b.text == b.text.strip()


def test_custom_full_set_lists_the_paragraphs_of_744() -> None:
    root = doc()
    rt744, _rt774 = root.findall("SUPLINF/REGTEXT")
    g744, g774 = blocks.document_blocks(root, full=frozenset({"744", "774"}))
    assert [b.kind for b in g744] == ["amdpar", "amdpar", "section", "p", "p", "p", "amdpar", "p", "amdpar", "hd",
                                      "amdpar", "amdpar"]
    exp = expected_elements(rt744, False)
    assert [(b.kind, b.text, b.location) for b in g744] == [
        (k, expected_text(k, el), element_path(el)) for k, el in exp]
    assert summary([g774]) == summary([blocks.document_blocks(root)[1]])  # 774 read whole either way
    # and a set without 774 lists only its instructions
    _g744, g774_only_instr = blocks.document_blocks(root, full=frozenset({"744"}))
    assert [b.kind for b in g774_only_instr] == ["amdpar"]


def test_regtext_without_part_is_read_whole() -> None:
    root = etree.fromstring(b"<RULE><REGTEXT TITLE='15'><AMDPAR>1. x</AMDPAR><P>y</P></REGTEXT>"
                            b"<REGTEXT PART='' TITLE='15'><AMDPAR>2. x</AMDPAR><P>z</P></REGTEXT></RULE>")
    assert [[(b.kind, b.text, b.part) for b in g] for g in blocks.document_blocks(root)] == [
        [("amdpar", "1. x", None), ("p", "y", None)], [("amdpar", "2. x", None), ("p", "z", None)]]


@pytest.mark.parametrize("full", [blocks.FULL_PARTS, frozenset({"744", "774"}), frozenset({"744"}), frozenset()])
def test_xslt_and_python_agree(full: frozenset[str]) -> None:
    root = doc()
    from_xslt = blocks._from_xslt(blocks._Document(root, full))
    assert from_xslt is not None  # otherwise the comparison below would prove nothing
    from_python = blocks._from_python(blocks._Document(root, full))
    assert summary(from_xslt) == summary(from_python)
    assert len(from_xslt) == 2


def test_fallback_without_xslt_gives_the_same_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    root = doc()
    expected = summary(blocks.document_blocks(root))

    def broken() -> Any:
        raise RuntimeError("no libxslt")

    monkeypatch.setattr(blocks, "_transform", broken)
    assert summary(blocks.document_blocks(root)) == expected


def test_blocks_of_one_document_of_a_daily_issue() -> None:
    # XSLT on an element sees only that element's subtree; locations are still paths from the issue root
    issue = etree.fromstring(
        b"<FEDREG><RULES>"
        b"<RULE><REGTEXT PART='774' TITLE='15'><AMDPAR>1. first</AMDPAR><P>one</P></REGTEXT></RULE>"
        b"<RULE><REGTEXT PART='10' TITLE='10'><AMDPAR>9. other title</AMDPAR></REGTEXT>"
        b"<REGTEXT PART='744' TITLE='15'><AMDPAR>2. a</AMDPAR><P>skip</P><AMDPAR>3. b</AMDPAR></REGTEXT>"
        b"<REGTEXT PART='774' TITLE='15'><AMDPAR>4. c</AMDPAR><P>two</P></REGTEXT></RULE>"
        b"</RULES></FEDREG>")
    second = issue.findall("RULES/RULE")[1]
    got = blocks.document_blocks(second)
    assert [[(b.kind, b.text) for b in g] for g in got] == [
        [("amdpar", "2. a"), ("amdpar", "3. b")], [("amdpar", "4. c"), ("p", "two")]]
    assert [b.location for b in got[0]] == [element_path(a) for a in second.findall("REGTEXT[2]/AMDPAR")]
    assert got[0][1].location == "FEDREG/RULES/RULE[2]/REGTEXT[2]/AMDPAR[2]"
    assert got[1][1].location == "FEDREG/RULES/RULE[2]/REGTEXT[3]/P"
    python = blocks._from_python(blocks._Document(second))
    assert summary(got) == summary(python)


def test_xslt_and_python_agree_on_a_padded_title() -> None:
    root = etree.fromstring(b"<RULE><REGTEXT PART='774' TITLE=' 15 '><AMDPAR>1. x</AMDPAR></REGTEXT></RULE>")
    from_xslt = blocks._from_xslt(blocks._Document(root))
    assert from_xslt is not None
    assert summary(from_xslt) == summary(blocks._from_python(blocks._Document(root)))


# =============================================================================== 4. CCL facts of other parts


CCL_DOC = """<RULE><PREAMB/><SUPLINF>
<REGTEXT PART="742" TITLE="15">
  <AMDPAR>1. Section 742.6 is amended by revising paragraph (b)(10) to read as follows:</AMDPAR>
  <SECTION><SECTNO>§ 742.6</SECTNO><SUBJECT>Regional stability.</SUBJECT>
  <P>(b)(10) License applications for items that have a ‘total processing performance’ of less than 21,000
  will be reviewed on a case-by-case basis.</P></SECTION>
</REGTEXT>
<REGTEXT PART="744" TITLE="15">
  <AMDPAR>2. Section 744.23 is amended by revising paragraph (a) to read as follows:</AMDPAR>
  <P>(a) Items having a ‘total processing performance’ of 4800 or more.</P>
  <AMDPAR>3. In Supplement No. 1 to part 774, Category 4, revise ECCN 4A090 to read as follows:</AMDPAR>
</REGTEXT>
</SUPLINF></RULE>"""


def test_ccl_instruction_inside_a_744_regtext_is_reported() -> None:
    root = etree.fromstring(CCL_DOC.encode())
    [c] = extract_eccn_changes(root)
    assert (c.eccn, c.action, c.instruction) == ("4A090", "revised", "3")
    assert c.location == element_path(root.find("SUPLINF/REGTEXT[@PART='744']/AMDPAR[2]"))
    assert c.quote.startswith("3. In Supplement No. 1 to part 774")


def test_eligibility_reads_742_and_744_paragraphs_but_thresholds_do_not() -> None:
    root = etree.fromstring(CCL_DOC.encode())
    elig = extract_eligibility(root)
    got = {(t.eccn, t.parameter, t.comparator, t.value, t.unit) for t in elig}
    assert got == {(None, "tpp", "<", Decimal(21000), "TPP"), (None, "tpp", ">=", Decimal(4800), "TPP")}
    t742 = next(t for t in elig if t.value == 21000)
    assert t742.location == element_path(root.find("SUPLINF/REGTEXT[@PART='742']/SECTION/P"))
    # licensing policy ceilings are not control thresholds (and parts 742/744 are not the CCL)
    assert extract_thresholds(root) == []


def test_eligibility_ignores_parts_outside_740_742_744_748() -> None:
    root = etree.fromstring(CCL_DOC.replace('PART="742"', 'PART="746"').encode())
    assert {t.value for t in extract_eligibility(root)} == {Decimal(4800)}


# =============================================================================== 5. nlp flags


def test_flags_are_registered_once_per_name() -> None:
    first = regex_flag("TEST_INTERNALS_DIGITS", r"\d+")
    assert regex_flag("TEST_INTERNALS_DIGITS", r"\d+") == first
    # the name decides: a second registration under the same name keeps the first getter
    assert regex_flag("TEST_INTERNALS_DIGITS", r"[a-z]+") == first
    w = words_flag("TEST_INTERNALS_WORDS", ["alpha"])
    assert words_flag("TEST_INTERNALS_WORDS", ["alpha"]) == w
    assert w != first


def test_words_flag_in_a_matcher_pattern_is_case_insensitive() -> None:
    m = matcher()
    m.add("COLOR", [[{words_flag("TEST_COLOR", ["red"]): True}]])
    doc = tokens("A Red car and a red bus, not a redder one.")
    assert [doc[s:e].text for _id, s, e in m(doc)] == ["Red", "red"]


def test_regex_flag_in_a_matcher_pattern_matches_whole_words() -> None:
    m = matcher()
    m.add("YEAR", [[{regex_flag("TEST_INTERNALS_YEAR", r"20\d\d"): True}]])
    doc = tokens("In 2025 and 12025 and 2025a, not 202.")
    assert [doc[s:e].text for _id, s, e in m(doc)] == ["2025"]


# =============================================================================== 6. known documents


def test_known_document_for_a_default_ruleset_citation() -> None:
    from rulesdsl.ruleset import Ruleset

    matches = [d.id for d in Ruleset.default().documents.values()
               if d.citation == "90 FR 5298" and d.kind.startswith("fr_")]
    assert matches, "the default ruleset no longer declares 90 FR 5298"
    assert known_document_for("90 FR 5298") == matches[0]
    assert known_document_for("90 FR 5298") == known_document_for("90 FR 5298")  # cached table, same answer
    # a correction that cites it by page is resolved to the document number
    assert corrects_from(["This document corrects the rule published at 90 FR 5298."], None) == matches[0]


def test_unknown_citation_is_none() -> None:
    assert known_document_for("89 FR 99999") is None
    assert known_document_for("") is None
    # an unknown citation is kept as written
    assert corrects_from(["This document corrects 89 FR 99999."], None) == "89 FR 99999"


# ========================================================= 7. lower-cased parameter patterns agree with re.I ones


def test_lower_cased_parameter_patterns_find_what_the_case_insensitive_ones_find() -> None:
    """``thresholds_in`` runs case-sensitive copies of the parameter patterns on the lower-cased text (faster);
    they must find the same spans as the case-insensitive originals on the original text."""
    from extraction import ccl

    texts = [
        "A ‘Total Processing Performance’ (‘TPP’) of 4800 or more and a ‘Performance Density’ of 5.92 or more",
        "a TPP of 1600; sTPP and UPD are not parameters; PD of 3.2 or more",
        "DRAM Bandwidth of 1,400 GB/s; aggregate Bidirectional Transfer Rate of 600 GB/s or more",
        "Memory Bandwidth Density of 3.3 GB/s/mm2; Transistor Count of 50 billion",
        "bit length per operation multiplied by processing performance; Bit × TOPS of 4800",
        "models Trained using 10^26 or more computational operations; retrained in 10^25 operations",
    ]
    assert [n for n, _ in ccl._PARAMS] == [n for n, _ in ccl._PARAMS_LOW]
    for text in texts:
        for (name, ci), (_n, cs) in zip(ccl._PARAMS, ccl._PARAMS_LOW, strict=True):
            assert [m.span() for m in cs.finditer(text.lower())] == [m.span() for m in ci.finditer(text)], (name, text)
    assert any(m for _n, rx in ccl._PARAMS_LOW for m in rx.finditer(texts[0].lower()))  # not vacuous


# ================================================= 8. the CCL state machine reads raw XSLT text like final text


def _threshold_facts(groups: list[blocks.Group]) -> list[tuple[Any, ...]]:
    from extraction import ccl

    return [(t.eccn, t.parameter, t.comparator, t.value, t.unit, t.quote, t.location, t.confidence)
            for t in ccl._ccl_thresholds([g for g in groups if g.part == "774"], 0.85)]


def test_thresholds_from_raw_xslt_text_equal_those_from_final_text() -> None:
    """The XSLT builder leaves whitespace and superscript marks in ``Block.raw`` and makes the final text on
    first use; the state machine reads how a paragraph starts from the raw text. Its facts must equal those
    read from the Python walk's final texts: pretty-printed XML, tabs, no-break spaces, a footnote marker right
    after an item label, an exponent, a Note, a License Requirements section."""
    from pathlib import Path

    xml = """<RULE><REGTEXT PART="774" TITLE="15">
      <AMDPAR>
        5. In Supplement No. 1 to part 774, Category 3, revise ECCN 3A090 to read as follows:
      </AMDPAR>
      <P>
        3A090\tIntegrated circuits, as follows (see List of Items Controlled).
      </P>
      <P>License Requirements</P>
      <P>NS applies to 3A090, a TPP of 4800 or more.</P>
      <P>List of Items Controlled</P>
      <P>a.<SU>1</SU> A \u2018total processing performance\u2019 of 4800 or more; or</P>
      <P>
        b.\u00a0A \u2018total processing performance\u2019 of
        1600 or more and a \u2018performance density\u2019 of 5.92 or more.
      </P>
      <P>Note to 3A090: 3A090 does not apply to items with a TPP of 100 or more.</P>
      <P>c. Models trained using 10<SU>26</SU> or more operations.</P>
    </REGTEXT></RULE>"""
    root = etree.fromstring(xml)
    fast = blocks._from_xslt(blocks._Document(root))
    assert fast is not None
    assert any(b.raw != b.text for g in fast for b in g)  # the raw texts really differ from the final ones
    slow = blocks._from_python(blocks._Document(root))
    got = _threshold_facts(fast)
    assert got == _threshold_facts(slow)
    assert {(e, p, c, v) for e, p, c, v, *_rest in got} == {
        ("3A090.a", "tpp", ">=", Decimal(4800)),
        ("3A090.b", "tpp", ">=", Decimal(1600)), ("3A090.b", "performance_density", ">=", Decimal("5.92")),
        ("3A090.c", "training_operations", ">=", Decimal(10) ** 26)}
    root_dir = Path(__file__).resolve().parents[1]
    checked = 0
    for path in [p for p in (root_dir / "fixtures").rglob("*.xml") if p.is_file()]:
        tree = etree.parse(str(path)).getroot()
        for el in [tree, *tree.iter("RULE", "PRORULE", "CORRECT")]:
            fast = blocks._from_xslt(blocks._Document(el))
            if not fast:
                continue
            assert _threshold_facts(fast) == _threshold_facts(blocks._from_python(blocks._Document(el))), path
            checked += 1
    assert checked >= 10


def test_xslt_blocks_with_sections_in_a_regtext_of_another_title() -> None:
    # a SECTION under a REGTEXT of another title is listed by the XSLT (its part is read whole) and skipped:
    # the separator counts must still add up, so the XSLT result is used, not the fallback
    root = etree.fromstring(
        b"<RULE><REGTEXT TITLE='33'><AMDPAR>1. x</AMDPAR><SECTION><SECTNO>\xc2\xa7 117.1</SECTNO>"
        b"<SUBJECT>Bridges.</SUBJECT><P>y</P></SECTION></REGTEXT>"
        b"<REGTEXT PART='774' TITLE='15'><AMDPAR>2. z</AMDPAR><SECTION><SECTNO>\xc2\xa7 774.1</SECTNO>"
        b"<SUBJECT>Scope.</SUBJECT></SECTION><P>w</P></REGTEXT></RULE>")
    fast = blocks._from_xslt(blocks._Document(root))
    assert fast is not None
    assert [[(b.kind, b.text) for b in g] for g in fast] == [
        [("amdpar", "2. z"), ("section", "\u00a7 774.1 Scope."), ("p", "w")]]
    assert summary(fast) == summary(blocks._from_python(blocks._Document(root)))


@pytest.mark.parametrize("stray", ["\ue001", "\ue002", "\ue005", "\ue000", "\ue003", "\ue004"])
def test_xslt_blocks_fall_back_on_any_stray_separator(stray: str) -> None:
    root = etree.fromstring(
        f"<RULE><REGTEXT PART='774' TITLE='15'><AMDPAR>1. x</AMDPAR><P>a{stray}b</P></REGTEXT></RULE>".encode())
    assert blocks._from_xslt(blocks._Document(root)) is None
    assert [(b.kind, b.text) for g in blocks.document_groups(root) for b in g] == [
        ("amdpar", "1. x"), ("p", f"a{stray}b")]


# ============================================= 9. paragraph classes, lazy blocks, superscript windows, date forms


@pytest.mark.parametrize(("raw", "expected"), [
    ("3A090 Integrated circuits, as follows (see List of Items Controlled).", ("eccn", "3A090")),
    ("\n   a.1. A \u2018total processing performance\u2019 of 4800 or more", ("label", "a.1")),
    ("a.\ue0031\ue004 A TPP of 4800 or more", ("label", "a")),  # footnote mark after the label: final text
    ("License Requirements", ("section", "lr")),
    ("List Based License Exceptions (See Part 740 for a description of all license exceptions)", ("section", "le")),
    ("List of Items Controlled", ("section", "items")),
    ("Related Controls: N/A", ("section", "items")),
    ("Technical Notes: 1. \u2018TPP\u2019 is 2 \u00d7 \u2018MacTOPS\u2019.", ("note", "technical")),
    ("Note to 3A090: 3A090 does not apply to items with a TPP of 100 or more.", ("note", "exclusion")),
    ("Note 1 to 3A090.a: ICs with 30 billion transistors are presumed", ("note", "note")),
    ("LVS: $5000 for 3A090.a; N/A for items with a TPP of 4800 or more", ("license", "")),
    ("See License Exception ACA for these items.", ("license", "")),
    ("integrated circuits with a TPP of 4800 or more.", ("text", "")),
])
def test_classify_paragraphs_of_a_ccl_entry(raw: str, expected: tuple[str, str]) -> None:
    from extraction import ccl

    assert ccl._classify(raw) == expected
    assert ccl._classify(blocks.final_text(raw)) == expected  # the same class from the final text


def test_groups_make_blocks_only_when_asked() -> None:
    root = etree.fromstring(b"<RULE><REGTEXT PART='774' TITLE='15'><AMDPAR>1. x</AMDPAR><P>a</P><P>b</P>"
                            b"</REGTEXT></RULE>")
    (group,) = blocks.document_groups(root)
    assert group.items == [("amdpar", "1. x"), ("p", "a"), ("p", "b")] and len(group) == 3
    assert group._blocks == {}  # nothing made yet
    b2 = group.block(2)
    assert (b2.kind, b2.text, b2.location) == ("p", "b", "RULE/REGTEXT/P[2]")
    assert group.block(2) is b2 and list(group._blocks) == [2]  # made once, only that one
    assert [b.text for b in group.of_kind("p")] == ["a", "b"] and group.block(2) is b2
    assert [b.kind for b in group] == ["amdpar", "p", "p"] and group.blocks[2] is b2


@pytest.mark.parametrize("before", [
    "10", " 10", "a 10", "x10 ", "10\n", "510", "5.10", "1,10", "part 10", "supplement no. 10", "of 10 ",
    "mm", "(mm", "amm", "in", "within", "km ", "µm", "2 cm", "",
])
@pytest.mark.parametrize("inner", ["2", "26", "-3", "1"])
def test_superscript_decision_looks_only_at_the_end_as_the_full_search_did(before: str, inner: str) -> None:
    import re

    from extraction import xmltext

    tail = before[-40:]
    full_search = ("^" + inner if xmltext._EXPONENT.fullmatch(inner) and re.search(xmltext._BASE10.pattern, tail)
                   and not xmltext._LABEL10.search(tail) else
                   inner if inner in ("2", "3") and re.search(xmltext._UNIT_POWER.pattern, tail) else "")
    assert xmltext._superscript(inner, before) == full_search


def test_date_with_a_separator_token_before_the_year() -> None:
    got = {(f.kind, f.date) for f in extract_dates_text(
        "Effective date: This rule is effective January 13. 2025; comments must be received by "
        "March 14, 2025.", None)}
    assert got == {("effective", dt.date(2025, 1, 13)), ("comments_due", dt.date(2025, 3, 14))}


@pytest.mark.parametrize("sentence", [
    "This rule is effective January 13, 2025, and compliance is required 120 days after publication.",
    "Effective Jan. 17,2023; comments by 11/17/2023 or 2023-12-01 [INSERT DATE OF PUBLICATION IN THE FEDERAL "
    "REGISTER].",
    "Compliance is required ninety (90) days from the date of publication in the Federal Register.",
    "The rule of March 1, 2016 (81 FR 10477) is delayed from April 15, 2016 to May 16, 2016.",
    "Sept. 5 2024, then thirty days following publication of this rule.",
])
def test_date_mentions_keep_the_longest_match_per_token_as_spacys_filter_spans(sentence: str) -> None:
    from spacy.util import filter_spans

    from extraction.nlp import tokens

    doc = tokens(sentence)
    matches = dates._matcher("publication" in sentence.lower())(doc)
    assert matches
    expected = [(sp.start_char, sp.end_char) for sp in filter_spans([doc[s:e] for _m, s, e in matches])]
    got = [(m.start, m.end) for m in dates._mentions(sentence)]
    # (a placeholder mention extends to its closing bracket; impossible dates are dropped: neither occurs here
    # except the bracket, which only moves an end)
    assert [s for s, _e in got] == [s for s, _e in expected]
    assert all(e >= ee for (_s, e), (_ss, ee) in zip(got, expected, strict=True))


def _correction(suplinf: str, summary: str = "This document corrects a final rule.") -> Any:
    from extraction.document import meta_from_xml

    xml = (f"<CORRECT><PREAMB><AGENCY>Bureau of Industry and Security</AGENCY><ACT><HD>ACTION:</HD>"
           f"<P>Correcting amendment.</P></ACT><SUM><HD>SUMMARY:</HD><P>{summary}</P></SUM></PREAMB>"
           f"<SUPLINF>{suplinf}</SUPLINF><FRDOC>[FR Doc. 2027-00999 Filed 1-2-27; 8:45 am]</FRDOC></CORRECT>")
    return meta_from_xml(etree.fromstring(xml))


@pytest.mark.parametrize(("suplinf", "expected"), [
    # an FR Doc. number anywhere beats an earlier page citation, its own number never counts
    ("<P>The rule at 89 FR 99999 had an error.</P><P>In 15 CFR 774, see the entry.</P>"
     "<P>In FR Doc. 2026-01234, on page 5, correct the table.</P>", "2026-01234"),
    ("<P>In <E T='03'>FR Doc.</E> 2026-01234 correct the table.</P>", "2026-01234"),
    ("<P>In FR DOC. 2026-01234 correct the table.</P>", "2026-01234"),
    ("<HD>Correction</HD><P>See FR Doc. 2027-00999 for this one; it corrects 89 FR 99999.</P>", "89 FR 99999"),
    # the first page citation, from the paragraphs in order, when no other document number is given
    ("<P>Background only, 15 CFR part 774.</P><P>The rule published at 89 FR 99999 (docket 1) had an error."
     "</P><P>Also 88 FR 11111.</P>", "89 FR 99999"),
    ("<P>Nothing cited here.</P>", None),
])
def test_correction_target_from_the_supplementary_information(suplinf: str, expected: str | None) -> None:
    assert _correction(suplinf).corrects == expected


def test_correction_target_from_the_summary_comes_first() -> None:
    meta = _correction("<P>In FR Doc. 2026-01234 correct the table.</P>",
                       summary="This document corrects FR Doc. 2026-05555.")
    assert meta.corrects == "2026-05555"


def test_identifiers_written_with_en_dashes_in_fr_xml() -> None:
    from extraction.document import meta_from_xml

    root = etree.fromstring(
        "<RULE><PREAMB><PRTPAGE P='4544'/><DEPDOC>[Docket No. 250107\u20130007]</DEPDOC><RIN>RIN 0694\u2013AJ90</RIN>"
        "<SUBJECT>Framework</SUBJECT></PREAMB><FRDOC>[FR Doc. 2025\u201300636 Filed 1\u201313\u201325; 8:45 am]"
        "</FRDOC></RULE>")
    meta = meta_from_xml(root)
    assert (meta.document_number, meta.citation, meta.rin, meta.agency_docket) == (
        "2025-00636", "90 FR 4544", ["0694-AJ90"], "250107-0007")
    assert corrects_from(["In FR Doc. 2024\u201330723 correct the date."], "2025-02655") == "2024-30723"
