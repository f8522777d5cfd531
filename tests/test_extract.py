"""``regwatch extract``: metadata, the JSON contract, daily issues, text renditions, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, Run, assert_no_traceback

XML = ROOT / "fixtures" / "http" / "fr" / "documents" / "full_text" / "xml"
DAILY = Path("/work/shared/corpus/fr-daily-2016-04-15-rules.xml")
if not DAILY.exists():
    DAILY = ROOT.parent / "shared" / "corpus" / "fr-daily-2016-04-15-rules.xml"
REQUIRED_DOC = {"document_number", "citation", "publication_date", "type", "action", "title", "rin", "agency_docket",
                "cfr_parts", "corrects"}


def extract(run: Run, *args: str) -> Any:
    p = run("extract", "--json", *args)
    assert p.returncode == 0, p.stderr
    assert_no_traceback(p)
    return json.loads(p.stdout)


def check_contract(r: dict[str, Any]) -> None:
    assert set(r["document"]) >= REQUIRED_DOC
    for key in ("dates", "eccn_changes", "thresholds", "license_exceptions"):
        assert isinstance(r[key], list)
    for d in r["dates"]:
        assert d["kind"] in ("effective", "compliance", "comments_due") and len(d["date"]) == 10 and "quote" in d
    for c in r["eccn_changes"]:
        assert c["action"] in ("added", "revised", "removed") and c["eccn"]
    for t in r["thresholds"]:
        assert t["comparator"] in (">=", ">", "<=", "<", "==") and isinstance(t["value"], int | float)


def test_ai_diffusion_rule(run: Run) -> None:
    r = extract(run, str(XML / "2025" / "01" / "15" / "2025-00636.xml"))
    check_contract(r)
    d = r["document"]
    assert d["document_number"] == "2025-00636" and d["citation"] == "90 FR 4544"
    assert d["publication_date"] == "2025-01-15"          # from the full_text_xml_url path layout
    assert d["rin"] == ["0694-AJ90"] and d["agency_docket"] == "250107-0007"
    assert d["action"].startswith("Interim final rule") and d["type"] == "Rule"
    assert {732, 734, 740, 742, 744, 774} <= set(d["cfr_parts"])
    eff = [x for x in r["dates"] if x["kind"] == "effective"]
    assert eff and eff[0]["date"] == "2025-01-13"          # before publication, never defaulted
    assert any(x["kind"] == "compliance" and x["date"] == "2025-05-15" for x in r["dates"])
    assert any(c["eccn"].startswith("4E091") and c["action"] == "added" for c in r["eccn_changes"])
    t = [x for x in r["thresholds"] if x["eccn"] and x["eccn"].startswith("4E091")]
    assert t and t[0]["value"] == 1e26 and t[0]["unit"] == "operations"


def test_correction_names_the_corrected_document(run: Run) -> None:
    r = extract(run, str(XML / "2025" / "02" / "14" / "2025-02655.xml"))
    assert r["document"]["corrects"] == "2025-00711"
    assert any(x["kind"] == "effective" and x["date"] == "2025-02-11" for x in r["dates"])


def test_briefing_notice_changes_nothing(run: Run) -> None:
    r = extract(run, str(XML / "2025" / "01" / "15" / "2025-00637.xml"))
    check_contract(r)
    assert r["eccn_changes"] == [] and r["thresholds"] == []


@pytest.mark.skipif(not DAILY.exists(), reason="shared corpus not present")
def test_real_daily_issue(run: Run) -> None:
    out = extract(run, str(DAILY))
    assert isinstance(out, list) and len(out) == 9
    for r in out:
        check_contract(r)
        assert r["document"]["publication_date"] == "2016-04-15"
        assert r["document"]["citation"].startswith("81 FR ")
        assert r["eccn_changes"] == [] and r["thresholds"] == [] and r["license_exceptions"] == []
        assert r["document"]["document_number"].startswith("2016-")
    first = out[0]["document"]
    assert first["citation"] == "81 FR 22173" and first["action"] == "Correcting amendment."
    assert first["rin"] == ["3064-AE12"] and first["cfr_parts"] == [324]


def test_govinfo_text_rendition(run: Run, tmp_path: Path) -> None:
    text = """[Federal Register Volume 91, Number 10 (Thursday, January 15, 2026)]
[Rules and Regulations]
[Pages 1684-1689]
From the Federal Register Online via the Government Publishing Office [www.gpo.gov]
[FR Doc No: 2026-00789]

=======================================================================
-----------------------------------------------------------------------

DEPARTMENT OF COMMERCE

Bureau of Industry and Security

15 CFR Parts 742, 744, and 748

[Docket No. 260112-0028]
RIN 0694-AK43


Revision to License Review Policy for Advanced Computing Commodities

AGENCY: Bureau of Industry and Security, Commerce.

ACTION: Final rule.

-----------------------------------------------------------------------

SUMMARY: In this final rule, the Bureau of Industry and Security revises
the license review policy for certain ``advanced computing'' commodities.

DATES: This rule is effective January 15, 2026.

[[Page 1685]]

SUPPLEMENTARY INFORMATION: ...
"""
    f = tmp_path / "2026-00789.htm"
    f.write_text("<html><body><pre>" + text + "</pre></body></html>")
    r = extract(run, str(f))
    check_contract(r)
    d = r["document"]
    assert d["document_number"] == "2026-00789" and d["citation"] == "91 FR 1684"
    assert d["publication_date"] == "2026-01-15" and d["rin"] == ["0694-AK43"] and d["agency_docket"] == "260112-0028"
    assert d["cfr_parts"] == [742, 744, 748] and d["action"] == "Final rule."
    assert d["title"] == "Revision to License Review Policy for Advanced Computing Commodities"
    assert any(x["kind"] == "effective" and x["date"] == "2026-01-15" for x in r["dates"])


@pytest.mark.parametrize(("content", "message"), [
    (b"<RULE><PREAMB>", "invalid XML"),
    (b"", "empty file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not a parsable document"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a Federal Register document"),
    (b"just some words", "not a parsable document"),
])
def test_bad_input_is_one_line_exit_2(run: Run, tmp_path: Path, content: bytes, message: str) -> None:
    f = tmp_path / "bad.xml"
    f.write_bytes(content)
    p = run("extract", "--json", str(f))
    assert p.returncode == 2
    assert message in p.stderr and str(f) in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert_no_traceback(p)


def test_missing_file_and_unknown_document(run: Run) -> None:
    p = run("extract", "nope.xml")
    assert p.returncode == 2 and "no such file" in p.stderr
    p = run("extract", "2025-99999")
    assert p.returncode == 2 and "2025-99999" in p.stderr


def test_extract_a_stored_document_by_number(run: Run, tmp_path: Path) -> None:
    from crawler.fixture_server import FixtureServer

    ws = tmp_path / "ws"
    assert run("init", str(ws)).returncode == 0
    with FixtureServer(ROOT / "fixtures" / "http") as srv:
        p = run("crawl", "--source", "fr", "--fr-base-url", f"{srv.base_url}/fr", cwd=ws)
        assert p.returncode == 0, p.stdout + p.stderr
    p = run("extract", "--json", "2025-02655", cwd=ws)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    d = r["document"]
    assert d["publication_date"] == "2025-02-14" and d["corrects"] == "2025-00711" and d["citation"] == "90 FR 9604"
    assert "stored" in r["source"]


def test_eval_scores_the_corpus_and_detects_misses(run: Run, tmp_path: Path) -> None:
    p = run("eval", str(ROOT / "fixtures" / "corpus"), "--json")
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert rep["documents"] == 8 and set(rep["groups"]) == {"document", "dates", "eccn_changes", "thresholds",
                                                             "license_exceptions"}
    assert rep["groups"]["thresholds"]["tp"] >= 12
    # a corpus whose expectation names a fact the extractor does not produce: recall drops, the miss is listed
    spec = json.loads((ROOT / "fixtures" / "corpus" / "2025-00636.expected.json").read_text())
    spec["input"] = str(ROOT / "fixtures" / "http" / "fr" / "documents" / "full_text" / "xml" / "2025" / "01" / "15"
                        / "2025-00636.xml")
    spec["expected"]["eccn_changes"].append({"eccn": "4A090.a", "action": "revised", "instruction": "24"})
    spec["expected"]["license_exceptions"] = []
    (tmp_path / "x.expected.json").write_text(json.dumps(spec))
    rep = json.loads(run("eval", str(tmp_path), "--json").stdout)
    e = rep["groups"]["eccn_changes"]
    assert e["fn"] == 1 and e["recall"] < 1 and "4A090.a" in e["misses"][0]
    assert rep["groups"]["license_exceptions"]["fp"] == 1 and rep["groups"]["license_exceptions"]["precision"] == 0
    p = run("eval", str(tmp_path / "nothing"))
    assert p.returncode == 2


def test_ofr_printing_correction_in_a_daily_issue(run: Run, tmp_path: Path) -> None:
    f = tmp_path / "issue.xml"
    f.write_bytes(b"""<?xml version="1.0"?><FEDREG><VOL>90</VOL><DATE>Friday, February 14, 2025</DATE>
<CORRECTIONS><CORRECT><PREAMB><PRTPAGE P="9700"/><SUBJECT>Implementation of Additional Due Diligence Measures;
Correction</SUBJECT></PREAMB><FRDOC>[FR Doc. C1-2025-00711 Filed 2-13-25; 8:45 am]</FRDOC></CORRECT></CORRECTIONS>
</FEDREG>""")
    r = extract(run, str(f))
    d = r["document"]
    assert d["document_number"] == "C1-2025-00711" and d["corrects"] == "2025-00711"
    assert d["citation"] == "90 FR 9700" and d["publication_date"] == "2025-02-14" and d["type"] == "Rule"
