"""Proposals from extraction results (rulesdsl/proposals.py): what a document proposes against the rules, and
that applying it gives valid rules with the intended meaning."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rulesdsl.proposals import ApplyError, Item, ProposalError, apply_items, effective_for, fingerprint, propose
from rulesdsl.ruleset import Ruleset
from rulesdsl.semantics import SimpleAsset, classify

D = dt.date


@pytest.fixture(scope="module")
def rs() -> Ruleset:
    return Ruleset.default()


def extraction(doc: str = "2027-01000", *, dates: list[dict[str, Any]] | None = None,
               thresholds: list[dict[str, Any]] | None = None, eccn_changes: list[dict[str, Any]] | None = None,
               license_exceptions: list[dict[str, Any]] | None = None, corrects: str | None = None,
               title: str = "Synthetic rule", citation: str | None = "92 FR 1000",
               published: str | None = "2027-01-05") -> dict[str, Any]:
    return {"document": {"document_number": doc, "citation": citation, "publication_date": published,
                         "type": "Rule", "action": "Interim final rule; request for comments.", "title": title,
                         "rin": ["0694-AK77"], "agency_docket": "270101-0001", "cfr_parts": [774],
                         "corrects": corrects},
            "dates": dates if dates is not None else [{"kind": "effective", "date": "2027-01-03", "end_date": None,
                                                       "scope": "whole rule", "quote": "effective January 3, 2027"}],
            "eccn_changes": eccn_changes or [], "thresholds": thresholds or [],
            "license_exceptions": license_exceptions or []}


def thr(eccn: str, parameter: str, value: str, unit: str, cmp: str = ">=", conf: float = 0.8) -> dict[str, Any]:
    return {"eccn": eccn, "parameter": parameter, "comparator": cmp, "value": float(value), "value_exact": value,
            "unit": unit, "quote": f"{parameter} of {value} or more", "location": "RULE/SUPLINF/REGTEXT[2]/P[4]",
            "confidence": conf}


def kinds(items: list[Item]) -> list[str]:
    return [i.kind for i in items]


def chip(**attrs: Any) -> SimpleAsset:
    return SimpleAsset("chip", "ic", {k: Decimal(str(v)) if isinstance(v, int | float | str) and not isinstance(
        v, bool) else v for k, v in attrs.items()})


def eccns(rs: Ruleset, asset: SimpleAsset, at: dt.date) -> set[str]:
    return {m.eccn for m in classify(rs, asset, at).matches}


# ---------------------------------------------------------------------------------------------------------
# thresholds


def test_new_threshold_value_goes_to_the_parameter_of_its_paragraph(rs: Ruleset) -> None:
    doc, items = propose(rs, extraction(
        thresholds=[thr("3A090.a.1", "tpp", "6000", "TPP")],
        eccn_changes=[{"eccn": "3A090.a.1", "action": "revised", "instruction": "4", "quote": "revise a.1"}]))
    assert doc == "2027-01000"
    edits = [i for i in items if i.kind == "set_parameter_value"]
    assert len(edits) == 1
    op = edits[0].op
    # 3A090.a compares tpp with two parameters (a.1 and a.2): the one citing 3A090.a.1 is chosen
    assert (op["parameter"], op["start"], op["value"], op["replace"]) == ("tpp_3a090a1", "2027-01-03", "6000", False)
    assert op["cite"]["docs"] == ["2027-01000"] and op["cite"]["at"] == "ECCN 3A090.a.1"
    assert edits[0].provenance["instruction"] == "4" and "6000" in edits[0].provenance["quote"]
    after = apply_items(rs, items)
    # a chip at TPP 5000 (non-datacenter excluded by Note 2 only below 4800): 3A090.a before, not after
    c = chip(tpp=5000, performance_density=1, datacenter=True)
    assert "3A090.a" in eccns(after, c, D(2027, 1, 2))
    assert "3A090.a" not in eccns(after, c, D(2027, 1, 3))
    assert "3A090.a" in eccns(rs, c, D(2027, 1, 3))  # the input ruleset is unchanged


def test_value_already_in_the_rules_proposes_nothing(rs: Ruleset) -> None:
    ex = extraction("2023-23055", dates=[{"kind": "effective", "date": "2023-11-17", "scope": "whole rule"}],
                    thresholds=[thr("3A090.a.1", "tpp", "4800", "TPP"), thr("3A090.a.2", "performance_density",
                                                                            "5.92", "TPP per mm2")])
    assert propose(rs, ex) == ("2023-23055", [])


def test_no_effective_date_is_never_the_publication_date(rs: Ruleset) -> None:
    _doc, items = propose(rs, extraction(dates=[], thresholds=[thr("4E091", "training_operations", "1" + "0" * 27,
                                                                   "operations")]))
    assert "set_parameter_value" not in kinds(items)
    notes = [i for i in items if i.kind == "note"]
    assert notes and all(i.low for i in notes) and "no effective date" in notes[0].summary
    add = next(i for i in items if i.kind == "add_document")
    assert add.low and add.op["dates"] == []


def test_exact_exponent_values_stay_exact(rs: Ruleset) -> None:
    big = "1" + "0" * 27  # 10^27
    _doc, items = propose(rs, extraction(thresholds=[thr("4E091", "training_operations", big, "operations")]))
    op = next(i.op for i in items if i.kind == "set_parameter_value")
    assert op["parameter"] == "ai_training_operations" and op["value"] == big
    after = apply_items(rs, items)
    vals = after.parameters["ai_training_operations"].values
    assert vals[-1].value is not None and vals[-1].value.value == Decimal(10) ** 27
    assert "from 2027-01-03 10^27 cite 2027-01000" in after.bundle_text()


def test_comparator_that_differs_from_the_rules_is_flagged(rs: Ruleset) -> None:
    _doc, items = propose(rs, extraction(thresholds=[thr("4E091", "training_operations", "1" + "0" * 26,
                                                         "operations", cmp=">")]))
    # same value as the rules (10^26), but 'more than' vs the rules' '>=': a note for the reviewer, no edit
    assert kinds(items) == ["add_document", "note"]
    assert items[1].low and "check the comparator" in items[1].summary


def test_unit_mismatch_is_a_note_not_an_edit(rs: Ruleset) -> None:
    _doc, items = propose(rs, extraction(thresholds=[thr("3A090.a.1", "tpp", "6000", "GB/s")]))
    assert "set_parameter_value" not in kinds(items)
    assert any("unit" in i.summary for i in items if i.kind == "note")


def test_instruction_scoped_effective_dates() -> None:
    dates = [{"kind": "effective", "date": "2023-11-17", "scope": "whole rule except amendatory instruction 11"},
             {"kind": "effective", "date": "2023-11-17", "end_date": "2026-01-01",
              "scope": "amendatory instruction 11 (window ends 'until' January 1, 2026)"},
             {"kind": "effective", "date": "2026-01-01", "scope": "amendatory instructions 5 and 7"}]
    assert effective_for(dates, "11").end == D(2026, 1, 1)
    assert effective_for(dates, "7").date == D(2026, 1, 1)
    assert effective_for(dates, "3").date == D(2023, 11, 17) and effective_for(dates, "3").end is None
    assert effective_for([], "3").date is None


def test_until_window_becomes_an_inclusive_through(rs: Ruleset) -> None:
    _doc, items = propose(rs, extraction(dates=[
        {"kind": "effective", "date": "2027-01-03", "end_date": "2028-01-01",
         "scope": "amendatory instruction 2 (window ends 'until' January 1, 2028)"},
        {"kind": "effective", "date": "2027-02-01", "end_date": "2027-06-30",
         "scope": "amendatory instruction 3 (window ends 'through' June 30, 2027)"}]))
    dates = next(i.op for i in items if i.kind == "add_document")["dates"]
    assert [(d["date"], d["end"]) for d in dates] == [("2027-01-03", "2027-12-31"), ("2027-02-01", "2027-06-30")]


# ---------------------------------------------------------------------------------------------------------
# documents, corrections, removals, exceptions, skeletons


def test_known_document_gains_only_its_new_dates(rs: Ruleset) -> None:
    ex = extraction("2024-28270", dates=[
        {"kind": "effective", "date": "2024-12-02", "scope": "whole rule"},
        {"kind": "comments_due", "date": "2025-04-14", "scope": "extended again", "quote": "extended"}])
    _doc, items = propose(rs, ex)
    assert kinds(items) == ["add_document_date"]
    assert items[0].op == {"op": "add_document_date", "document": "2024-28270", "kind": "comments_due",
                           "date": "2025-04-14", "end": None, "scope": "extended again"}
    after = apply_items(rs, items)
    assert any(d.kind == "comments_due" and d.date == D(2025, 4, 14) for d in after.documents["2024-28270"].dates)
    # applying twice is refused rather than duplicating
    with pytest.raises(ApplyError, match="already states"):
        apply_items(after, items)


def test_correction_changes_what_its_target_introduced(rs: Ruleset) -> None:
    rule = extraction("2027-01000", thresholds=[thr("3A090.a.1", "tpp", "6000", "TPP")])
    after = apply_items(rs, propose(rs, rule)[1])
    corr = extraction("2027-01555", corrects="2027-01000", title="Synthetic rule; Correction", citation="92 FR 2000",
                      dates=[{"kind": "effective", "date": "2027-01-20", "scope": "whole rule"}],
                      thresholds=[thr("3A090.a.1", "tpp", "6400", "TPP")])
    _doc, items = propose(after, corr)
    op = next(i.op for i in items if i.kind == "set_parameter_value")
    # the corrected value replaces the target's, from the date the target took effect, citing both
    assert (op["start"], op["value"], op["replace"], op["cite"]["docs"]) == (
        "2027-01-03", "6400", True, ["2027-01000", "2027-01555"])
    fixed = apply_items(after, items)
    values = [(v.start, v.value.value if v.value else None) for v in fixed.parameters["tpp_3a090a1"].values]
    assert values == [(D(2023, 11, 17), 4800), (D(2027, 1, 3), 6400)]
    assert fixed.documents["2027-01555"].corrects == "2027-01000"
    assert "corrected by: 2027-01555" in fixed.bundle_text()
    # a correction citing its target by page resolves through the rules' citations
    _d, items2 = propose(after, {**corr, "document": {**corr["document"], "corrects": "92 FR 1000"}})
    assert next(i.op for i in items2 if i.kind == "set_parameter_value")["replace"] is True


def test_removed_paragraph_ends_the_day_before(rs: Ruleset) -> None:
    _doc, items = propose(rs, extraction(eccn_changes=[{"eccn": "4A090.b", "action": "removed", "instruction": "5",
                                                        "quote": "removing paragraph b"}]))
    ends = [i.op for i in items if i.kind == "end_control"]
    assert ends == [{"op": "end_control", "eccn": "4A090.b", "start": "2023-11-17", "through": "2027-01-02",
                     "cite": {"docs": ["2027-01000"], "confidence": "medium"}}]
    after = apply_items(rs, items)
    ctl = next(c for c in after.controls if c.eccn == "4A090.b")
    assert ctl.effective is not None and ctl.effective.end == D(2027, 1, 2)
    assert "removed by: 2027-01000 instruction 5" in after.bundle_text()
    a = next(c for c in after.controls if c.eccn == "4A090.a")  # the sibling paragraph is untouched
    assert a.effective is not None and a.effective.end is None


def test_license_exceptions_added_and_removed(rs: Ruleset) -> None:
    _doc, items = propose(rs, extraction(license_exceptions=[
        {"code": "SCL", "action": "added", "section": "740.31", "quote": "Add § 740.31"},
        {"code": "ACM", "action": "removed", "quote": "Remove and reserve § 740.28"},
        {"code": "NAC", "action": "revised"}]))
    assert kinds(items) == ["add_document", "add_exception", "end_exception", "note"]
    after = apply_items(rs, items)
    scl = after.exceptions["SCL"]
    assert scl.section == "740.31" and scl.effective is not None and scl.effective.start == D(2027, 1, 3)
    acm = after.exceptions["ACM"]
    assert acm.effective is not None and acm.effective.end == D(2027, 1, 2)


def test_unknown_eccn_with_thresholds_gets_a_flagged_skeleton(rs: Ruleset) -> None:
    _doc, items = propose(rs, extraction(
        eccn_changes=[{"eccn": "3A090.d", "action": "added", "instruction": "4"}],
        thresholds=[thr("3A090.d", "transistors", "50000000000", "transistors")]))
    sk = next(i for i in items if i.kind == "add_control")
    assert sk.low and sk.confidence < 0.7
    assert sk.op["applies_to"] == ["ic"] and sk.op["all_of"] == [
        {"attribute": "transistors", "op": ">=", "parameter": "transistors_3a090d"}]
    after = apply_items(rs, items)
    big, small = chip(transistors=60_000_000_000), chip(transistors=10_000_000_000)
    assert "3A090.d" in eccns(after, big, D(2027, 1, 3))
    assert "3A090.d" not in eccns(after, big, D(2027, 1, 2)) and "3A090.d" not in eccns(after, small, D(2027, 1, 3))
    text = after.bundle_text()
    assert "# proposed skeleton from: 2027-01000 instruction 4" in text and "confidence low unresolved" in text


def test_unknown_eccn_without_thresholds_reclassifies_nothing(rs: Ruleset) -> None:
    _doc, items = propose(rs, extraction(eccn_changes=[{"eccn": "4A091", "action": "added",
                                                        "instruction": "2"}]))
    sk = next(i for i in items if i.kind == "add_control")
    after = apply_items(rs, items)
    ctl = next(c for c in after.controls if c.eccn == "4A091")
    assert sk.low and "when false" in after.bundle_text().split("control 4A091", 1)[1].split("\n\n")[0]
    assert ctl.applies_to == ["computer"]  # a placeholder from the ECCN (4A: computers), flagged
    assert "4A091" not in eccns(after, chip(tpp=99999), D(2027, 6, 1))


def test_whole_eccn_removed_ends_every_open_paragraph(rs: Ruleset) -> None:
    _doc, items = propose(rs, extraction(eccn_changes=[{"eccn": "4E091", "action": "removed", "instruction": "9"}]))
    assert [i.op["eccn"] for i in items if i.kind == "end_control"] == ["4E091"]


# ---------------------------------------------------------------------------------------------------------
# identity, bad and hostile input


def test_fingerprint_ignores_quotes_and_confidence(rs: Ruleset) -> None:
    a = propose(rs, extraction(thresholds=[thr("3A090.a.1", "tpp", "6000", "TPP", conf=0.8)]))[1]
    b = propose(rs, extraction(thresholds=[{**thr("3A090.a.1", "tpp", "6000", "TPP", conf=0.9), "quote": "x"}]))[1]
    c = propose(rs, extraction(thresholds=[thr("3A090.a.1", "tpp", "6100", "TPP")]))[1]
    assert fingerprint("d", a) == fingerprint("d", b) != fingerprint("d", c)


@pytest.mark.parametrize("number", [None, "", "12345", "2027-01000; rm -rf /", "2027-01000\nparameter x"])
def test_bad_document_number(rs: Ruleset, number: str | None) -> None:
    ex = extraction()
    ex["document"]["document_number"] = number
    with pytest.raises(ProposalError, match="no valid document number"):
        propose(rs, ex)


def test_hostile_strings_cannot_inject_into_the_rules(rs: Ruleset) -> None:
    evil = 'X" \n parameter evil unit tpp\n  from 2020-01-01 1 cite 2027-01000 # \\ `$(rm -rf /)` \u2028 \x00 end'
    ex = extraction(title=evil, citation='92 FR 1" cite', thresholds=[{**thr("3A090.a.1", "tpp", "6000", "TPP"),
                                                                      "quote": evil}])
    ex["document"]["agency_docket"] = evil
    ex["document"]["rin"] = ["0694-AK77", "0694-AK77\nparameter", evil]
    ex["dates"][0]["scope"] = evil
    _doc, items = propose(rs, ex)
    after = apply_items(rs, items)
    assert "evil" not in after.parameters
    decl = after.documents["2027-01000"]
    assert decl.title is not None and "parameter evil unit tpp" in decl.title and "\n" not in decl.title
    assert decl.rin == ["0694-AK77"]
    # the text round-trips: what was written is what is read back
    again = Ruleset.from_bundle(after.bundle_text())
    assert again.documents["2027-01000"].title == decl.title and again.bundle_text() == after.bundle_text()


def test_apply_refuses_items_that_no_longer_fit(rs: Ruleset) -> None:
    _doc, items = propose(rs, extraction(thresholds=[thr("3A090.a.1", "tpp", "6000", "TPP")]))
    after = apply_items(rs, items)
    with pytest.raises(ApplyError, match="already declared"):
        apply_items(after, items)
    gone = Item("set_parameter_value", {"op": "set_parameter_value", "parameter": "no_such", "start": "2027-01-01",
                                        "value": "1", "replace": False, "cite": {"docs": ["2023-23055"]}}, "x", 0.9)
    with pytest.raises(ApplyError, match="no longer exists"):
        apply_items(rs, [gone])


def test_documents_that_do_not_concern_the_ear_are_out_of_scope(rs: Ruleset) -> None:
    """A daily issue also holds other agencies' rules (a drawbridge, a food additive): never proposed."""
    from rulesdsl.proposals import in_scope

    other = extraction("2016-08690", title="Drawbridge Operation Regulation; Delaware River")
    other["document"].update(cfr_parts=[117], agency="DEPARTMENT OF HOMELAND SECURITY", subagency="Coast Guard")
    assert not in_scope(rs, other)
    bis = {**other, "document": {**other["document"], "cfr_parts": [], "subagency": "Bureau of Industry and Security"}}
    assert in_scope(rs, bis)
    assert in_scope(rs, {**other, "document": {**other["document"], "cfr_parts": [744]}})
    assert in_scope(rs, {**other, "eccn_changes": [{"eccn": "3A090.a", "action": "revised"}]})
    known = {**other, "document": {**other["document"], "document_number": "2025-00636"}}
    assert in_scope(rs, known)  # a document the rules cite is always in scope


def test_propose_from_skips_out_of_scope_documents(tmp_path: Path) -> None:
    import subprocess

    from regwatch.review import propose_from
    from regwatch.workspace import Workspace
    from tests.conftest import regwatch_exe

    subprocess.run([regwatch_exe(), "init", str(tmp_path / "ws")], check=True, capture_output=True, timeout=60)
    ws = Workspace.open(tmp_path / "ws")
    other = extraction("2016-08690", title="Drawbridge Operation Regulation")
    other["document"].update(cfr_parts=[117], agency="DEPARTMENT OF HOMELAND SECURITY", subagency="Coast Guard")
    res = propose_from(ws, [("a.json", other), ("b.json", extraction())], at=dt.datetime(2027, 1, 6, tzinfo=dt.UTC))
    assert res.out_of_scope == ["2016-08690"] and [p.document for p in res.created] == ["2027-01000"]
    assert res.summary().endswith("1 not about the EAR")


def test_added_sub_paragraph_does_not_move_the_parent_threshold(rs: Ruleset) -> None:
    """A rule that splits 4E091 into paragraphs .a and .b adds controls; it does not change the threshold of
    the 4E091 control that models the whole ECCN (a sub-paragraph's threshold belongs to the enclosing
    control only when a parameter names the sub-paragraph, as tpp_3a090a1 does for 3A090.a.1)."""
    _doc, items = propose(rs, extraction(
        eccn_changes=[{"eccn": "4E091", "action": "revised", "instruction": "22"},
                      {"eccn": "4E091.b", "action": "added", "instruction": "22"}],
        thresholds=[thr("4E091.b", "training_operations", "5" + "0" * 25, "operations"),
                    thr("4E091.b", "training_operations", "1" + "0" * 26, "operations", cmp="<")]))
    assert "set_parameter_value" not in kinds(items)
    sk = next(i for i in items if i.kind == "add_control")
    assert sk.op["eccn"] == "4E091.b" and sk.low
    assert {(c["op"], c["attribute"]) for c in sk.op["all_of"]} == {(">=", "training_operations"),
                                                                  ("<", "training_operations")}
    after = apply_items(rs, items)
    assert after.parameters["ai_training_operations"].values == rs.parameters["ai_training_operations"].values
