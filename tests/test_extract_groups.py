"""Country-group changes (extraction/groups.py) and the membership edits they propose (rulesdsl/proposals.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from extraction.document import extract_bytes, extract_xml_bytes
from extraction.groups import extract_country_group_changes
from rulesdsl.proposals import apply_items, propose
from rulesdsl.ruleset import Ruleset
from tests.conftest import Run

ROOT = Path(__file__).resolve().parent.parent
D = dt.date

PART740 = """
<AMDPAR>12. Supplement No. 1 to part 740 is amended by:</AMDPAR>
<AMDPAR>a. Adding Nicaragua to Country Groups D:1 and D:3; and</AMDPAR>
<AMDPAR>b. Removing Cyprus from Country Group D:5 and adding Cyprus to Country Group A:6.</AMDPAR>
<AMDPAR>13. Supplement No. 1 to part 740 is amended by revising the entries for \u201cBurma\u201d and \u201cKorea,
North\u201d in the Country Group D table to read as follows:</AMDPAR>
<GPOTABLE COLS="6"><BOXHD><CHED H="1">Country</CHED><CHED H="1">[D:1] National security</CHED>
<CHED H="1">[D:2] Nuclear</CHED><CHED H="1">[D:3] Chemical &amp; biological</CHED>
<CHED H="1">[D:4] Missile technology</CHED><CHED H="1">[D:5] U.S. Arms embargoed countries</CHED></BOXHD>
<ROW><ENT I="01">Burma</ENT><ENT>X</ENT><ENT/><ENT>X</ENT><ENT/><ENT>X</ENT></ROW>
<ROW><ENT I="01">Korea, North</ENT><ENT>X</ENT><ENT>X</ENT><ENT>X</ENT><ENT>X</ENT><ENT>X</ENT></ROW>
</GPOTABLE>
<AMDPAR>14. Add supplement no. 5 to part 740 to read as follows:</AMDPAR>
<HD SOURCE="HD1">Supplement No. 5 to Part 740\u2014Artificial Intelligence Authorization Destinations</HD>
<P>(a) <E T="03">Destinations.</E> Australia, Belgium, Canada, Denmark, Finland, France, Germany, Ireland, Italy,
Japan, the Netherlands, New Zealand, Norway, Republic of Korea, Spain, Sweden, and the United Kingdom.</P>
<P>(b) Other destinations: all other countries, including Taiwan.</P>
<AMDPAR>15. In \u00a7 740.27, revise paragraph (b) to read as follows:</AMDPAR>
<P>(b) License Exception AIA is not available for destinations in Country Group D:5 or Macau, such as Iran.</P>
"""


def rule(part740: str = PART740, effective: str = "March 3, 2027", extra: str = "") -> bytes:
    return f"""<RULE><PREAMB><SUBJECT>Revisions to the Country Groups</SUBJECT><ACT><P>Final rule.</P></ACT>
<DATES><P>This rule is effective {effective}.</P></DATES></PREAMB>
<SUPLINF><P>This rule adds Nicaragua to Country Group D:1; destinations in Country Group D:5 such as Iran stay.</P>
<REGTEXT PART="740" TITLE="15">{part740}</REGTEXT>{extra}
</SUPLINF><FRDOC>[FR Doc. 2027-01234 Filed 3-1-27; 8:45 am]</FRDOC></RULE>""".encode()


def facts(changes: list[Any]) -> set[tuple[str, str, str, str | None, str | None]]:
    return {(c.group, c.country, c.action, c.restated, c.instruction) for c in changes}


def test_instructions_tables_and_lists_of_part_740() -> None:
    (ex,) = extract_xml_bytes(rule(), "rule.xml")
    got = facts(ex.country_group_changes)
    # the instruction's own words, per clause; a lettered sub-instruction carries its number
    assert {("D:1", "NI", "added", None, "12"), ("D:3", "NI", "added", None, "12"),
            ("D:5", "CY", "removed", None, "12"), ("A:6", "CY", "added", None, "12")} <= got
    # a restated table entry: every column of the revised rows (X: member, empty: not)
    assert {("D:1", "MM", "added", "entry", "13"), ("D:2", "MM", "removed", "entry", "13"),
            ("D:3", "MM", "added", "entry", "13"), ("D:4", "MM", "removed", "entry", "13"),
            ("D:5", "MM", "added", "entry", "13")} <= got
    assert {g for g, c, a, _r, _i in got if c == "KP" and a == "added"} == {"D:1", "D:2", "D:3", "D:4", "D:5"}
    # the restated list of paragraph (a): 17 destinations, Taiwan (named in paragraph (b)) is not one of them
    aia = {c for g, c, a, r, i in got if g == "AIA"}
    assert aia == {"AU", "BE", "CA", "DK", "FI", "FR", "DE", "IE", "IT", "JP", "NL", "NZ", "NO", "KR", "ES", "SE",
                   "GB"}
    assert {(a, r, i) for g, _c, a, r, i in got if g == "AIA"} == {("added", "list", "14")}
    # the preamble and the text of a revised section name groups and countries but change none
    assert not {c for _g, c, _a, _r, _i in got} & {"IR", "MO", "TW"}
    assert len(got) == 4 + 10 + 17
    by_key = {(c.group, c.country, c.action): c for c in ex.country_group_changes}
    table = by_key[("D:2", "MM", "removed")]
    assert table.location.endswith("GPOTABLE/ROW[1]") and table.quote.startswith("Burma | X")
    assert by_key[("D:1", "NI", "added")].location == "RULE/SUPLINF/REGTEXT/AMDPAR[2]"
    assert by_key[("AIA", "JP", "added")].name == "Japan" and by_key[("D:1", "KP", "added")].name == "Korea, North"


def test_other_parts_other_titles_and_notices_give_no_group_changes() -> None:
    xml = rule(part740="<AMDPAR>1. In \u00a7 740.2, revise paragraph (a)(9).</AMDPAR>",
               extra=f'<REGTEXT PART="744" TITLE="15">{PART740}</REGTEXT>')
    (ex,) = extract_xml_bytes(xml, "rule.xml")
    assert ex.country_group_changes == []
    notice = rule().replace(b"<RULE>", b"<NOTICE>").replace(b"</RULE>", b"</NOTICE>")
    (n,) = extract_xml_bytes(notice, "notice.xml")
    assert n.document.type == "Notice" and n.country_group_changes == []
    title10 = rule().replace(b'TITLE="15"', b'TITLE="10"')
    assert extract_xml_bytes(title10, "t.xml")[0].country_group_changes == []


def test_a_removal_from_the_list_by_instruction() -> None:
    part = ("<AMDPAR>3. Supplement No. 5 to part 740 is amended by removing \u201cTaiwan\u201d from paragraph (a) "
            "and adding \u201cPoland\u201d to paragraph (a).</AMDPAR>")
    root = etree.fromstring(rule(part740=part))
    assert facts(extract_country_group_changes(root)) == {("AIA", "TW", "removed", None, "3"),
                                                         ("AIA", "PL", "added", None, "3")}


def test_a_country_moved_between_groups_named_once() -> None:
    part = ("<AMDPAR>4. Supplement No. 1 to part 740 is amended by removing Belarus from Country Group D:1 and "
            "adding it to Country Groups D:4 and D:5, and by revising the heading of Country Group E.</AMDPAR>")
    root = etree.fromstring(rule(part740=part))
    assert facts(extract_country_group_changes(root)) == {("D:1", "BY", "removed", None, "4"),
                                                         ("D:4", "BY", "added", None, "4"),
                                                         ("D:5", "BY", "added", None, "4")}


def test_plain_text_rendition_reads_instructions_and_the_list() -> None:
    text = """[Federal Register Volume 92, Number 40 (Tuesday, March 2, 2027)]
[Rules and Regulations]
[Pages 12001-12003]
[FR Doc No: 2027-01234]

ACTION: Final rule.

DATES: This rule is effective March 3, 2027.

    For the reasons stated in the preamble, part 740 of the EAR is amended as follows:

PART 740--LICENSE EXCEPTIONS

0
12. Supplement No. 1 to part 740 is amended by adding Nicaragua to Country Groups D:1 and D:3.

0
14. Add supplement no. 5 to part 740 to read as follows:

Supplement No. 5 to Part 740--Artificial Intelligence Authorization Destinations

    (a) Destinations. Australia, Belgium, Canada, and the United Kingdom.

    (b) Other destinations: Taiwan.

[FR Doc. 2027-01234 Filed 3-1-27; 8:45 am]
"""
    (ex,) = extract_bytes(text.encode(), "rule.txt")
    assert facts(ex.country_group_changes) == {
        ("D:1", "NI", "added", None, "12"), ("D:3", "NI", "added", None, "12"),
        *{("AIA", c, "added", "list", "14") for c in ("AU", "BE", "CA", "GB")}}
    assert {c.confidence for c in ex.country_group_changes} <= {0.7, 0.63}  # plain text: lower confidence


def test_extract_json_has_the_key_even_when_empty(run: Run, tmp_path: Path) -> None:
    p = run("extract", "--json", str(ROOT / "fixtures/http/fr/documents/full_text/xml/2023/10/25/2023-23055.xml"))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["country_group_changes"] == []
    f = tmp_path / "rule.xml"
    f.write_bytes(rule())
    p = run("extract", str(f))  # the human-readable listing names them too
    assert p.returncode == 0 and "country group D:1 added NI (Nicaragua)" in p.stdout


# ---------------------------------------------------------------------------------------------------------
# proposals


@pytest.fixture(scope="module")
def rs() -> Ruleset:
    return Ruleset.default()


def extraction(changes: list[dict[str, Any]], dates: list[dict[str, Any]] | None = None,
               doc: str = "2027-01234") -> dict[str, Any]:
    return {"document": {"document_number": doc, "citation": "92 FR 12001", "publication_date": "2027-03-02",
                         "type": "Rule", "action": "Final rule.", "title": "Country groups", "rin": [],
                         "agency_docket": None, "cfr_parts": [740], "corrects": None},
            "dates": dates if dates is not None else [{"kind": "effective", "date": "2027-03-03", "end_date": None,
                                                       "scope": "whole rule", "quote": "effective March 3, 2027"}],
            "eccn_changes": [], "thresholds": [], "license_exceptions": [], "country_group_changes": changes}


def change(group: str, country: str, action: str = "added", restated: str | None = None) -> dict[str, Any]:
    return {"group": group, "country": country, "action": action, "restated": restated, "instruction": "12",
            "quote": "Supplement No. 1 to part 740 is amended", "location": "RULE/SUPLINF/REGTEXT/AMDPAR",
            "confidence": 0.85}


def test_membership_edits_only_where_the_rules_differ(rs: Ruleset) -> None:
    assert "NI" in rs.group_members("D:5", D(2027, 3, 3)) and "NI" not in rs.group_members("D:1", D(2027, 3, 3))
    _doc, items = propose(rs, extraction([change("D:1", "NI"), change("D:5", "NI"), change("D:5", "CY", "removed"),
                                          change("D:5", "SY", "removed")]))
    ops = [i.op for i in items if i.kind == "group_membership"]
    assert ops == [{"op": "group_membership", "group": "D:1", "action": "add", "members": ["NI"],
                    "start": "2027-03-03", "cite": {"docs": ["2027-01234"]}},
                   {"op": "group_membership", "group": "D:5", "action": "remove", "members": ["SY"],
                    "start": "2027-03-03", "cite": {"docs": ["2027-01234"]}}]
    after = apply_items(rs, items)
    assert "NI" in after.group_members("D:1", D(2027, 3, 3)) and "NI" not in after.group_members("D:1", D(2027, 3, 2))
    assert "SY" not in after.group_members("D:5", D(2027, 3, 3)) and "SY" in after.group_members("D:5", D(2027, 3, 2))
    assert "from 2027-03-03 add NI cite 2027-01234" in after.bundle_text()
    # proposed again against the approved rules: nothing left to do
    _doc, again = propose(after, extraction([change("D:1", "NI"), change("D:5", "SY", "removed")]))
    assert not [i for i in again if i.kind == "group_membership"]


def test_a_restated_list_removes_the_members_it_omits(rs: Ruleset) -> None:
    aia = sorted(rs.group_members("AIA", D(2027, 3, 2)))
    assert "TW" in aia and len(aia) == 18
    listed = [change("AIA", c, restated="list") for c in aia if c != "TW"] + [change("AIA", "PL", restated="list")]
    _doc, items = propose(rs, extraction(listed))
    ops = {(i.op["action"], tuple(i.op["members"])) for i in items if i.kind == "group_membership"}
    assert ops == {("add", ("PL",)), ("remove", ("TW",))}
    after = apply_items(rs, items)
    assert after.group_members("AIA", D(2027, 3, 3)) == (set(aia) - {"TW"}) | {"PL"}
    # a restated table entry does not imply removals from other countries
    _doc, items = propose(rs, extraction([change("D:1", "NI", restated="entry")]))
    assert {(i.op["action"], tuple(i.op["members"])) for i in items if i.kind == "group_membership"} == {
        ("add", ("NI",))}


def test_unknown_groups_missing_dates_and_bad_values_are_notes_or_ignored(rs: Ruleset) -> None:
    _doc, items = propose(rs, extraction([change("D:2", "NI"), change("D:1", "ZZ"), change("D:1", "Nicaragua"),
                                          change("D:1; rm -rf", "NI")]))
    assert [i.kind for i in items if i.kind != "add_document"] == ["note"]
    assert items[-1].low and "D:2 is not in the rules" in items[-1].summary
    _doc, items = propose(rs, extraction([change("D:1", "NI")], dates=[]))
    assert [i.summary for i in items if i.kind == "note"] == ["country group D:1 changes; no effective date stated"]
