"""`regwatch propose` and `regwatch review`: proposals from real FR XML into a workspace's review queue, approval
into the bitemporal store (real SQLite files) and the rules folder, rejection, idempotence, auto-approve."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from rulesdsl.ruleset import Ruleset
from tests.conftest import ROOT, Run, assert_no_traceback

DEMO_XML = ROOT / "fixtures" / "demo" / "fr" / "documents" / "full_text" / "xml" / "2027"
RULE = DEMO_XML / "03" / "02" / "2027-04410.xml"
CORRECTION = DEMO_XML / "03" / "12" / "2027-05120.xml"


@pytest.fixture
def ws(run: Run, tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    p = run("init", str(root), "--approved-at", "2026-01-01T00:00:00Z")
    assert p.returncode == 0, p.stderr
    return root


def ok(p: object) -> str:
    assert getattr(p, "returncode", None) == 0, getattr(p, "stderr", "")
    assert_no_traceback(p)  # type: ignore[arg-type]
    return str(getattr(p, "stdout", ""))


def fail(p: object, text: str) -> None:
    assert getattr(p, "returncode", None) == 2, (getattr(p, "stdout", ""), getattr(p, "stderr", ""))
    assert_no_traceback(p)  # type: ignore[arg-type]
    err = str(getattr(p, "stderr", ""))
    assert len(err.strip().splitlines()) == 1 and err.startswith("regwatch: ") and text in err, err


def store_versions(ws: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(ws / "regwatch.db") as db:
        return [(r[0], r[1]) for r in db.execute("SELECT id, approver FROM versions ORDER BY seq")]


def test_propose_review_approve(run: Run, ws: Path) -> None:
    out = ok(run("propose", str(RULE), cwd=ws))
    assert out.startswith("#1  2027-04410  ") and "1 new proposal, 0 already proposed" in out
    # idempotent: the same document again is recognised
    assert "#1  2027-04410  already proposed (pending)" in ok(run("propose", str(RULE), cwd=ws))
    assert ok(run("review", "list", cwd=ws)).startswith("#1  pending  2027-04410  ")

    show = ok(run("review", "show", "1", cwd=ws))
    assert "tpp_3a090a1 (3A090.a.1 tpp >=): 4800 -> 6000 tpp, from 2027-03-01" in show
    assert "quote: \u201ca.1. A \u2018total processing performance\u2019 of 6000 or more; or\u201d" in show
    assert "+  from 2027-03-01 6000 cite 2027-04410 at \"ECCN 3A090.a.1\"" in show
    assert "+exception SCL" in show and "+document 2027-04410" in show
    j = json.loads(ok(run("review", "show", "1", "--json", cwd=ws)))
    assert j["status"] == "pending" and j["problem"] is None and j["diff"].startswith("--- rules (approved)")
    edit = next(i for i in j["items"] if i["kind"] == "set_parameter_value")
    assert edit["provenance"]["document"] == "2027-04410" and edit["provenance"]["instruction"] == "4"
    assert edit["provenance"]["location"].startswith("RULE/SUPLINF/REGTEXT")

    before = store_versions(ws)
    fail(run("review", "approve", "1", cwd=ws), "no approver")
    # a rules folder with edits that are not in the store is not silently overwritten
    params = ws / "rules" / "40-parameters.rules"
    original = params.read_text(encoding="utf-8")
    params.write_text(original + "\n# my edit\n", encoding="utf-8")
    fail(run("review", "approve", "1", "--as", "Jane Doe", cwd=ws), "differs from the approved version")
    assert store_versions(ws) == before
    params.write_text(original, encoding="utf-8")

    out = ok(run("review", "approve", "1", "--as", "Jane Doe", "--note", "checked against the FR text",
                 "--approved-at", "2026-12-01T09:00:00Z", cwd=ws))
    assert out.startswith("proposal #1 approved by Jane Doe: version ")
    after = store_versions(ws)
    assert len(after) == len(before) + 1 and after[-1][1] == "Jane Doe" and out.strip().endswith(after[-1][0][:12])
    log = json.loads(ok(run("rules", "log", "--json", cwd=ws)))
    assert log[0]["approver"] == "Jane Doe" and log[0]["approved_at"].startswith("2026-12-01T09:00:00")
    assert "2027-04410" in log[0]["source_documents"] and log[0]["message"].startswith("Proposal #1 (2027-04410)")
    assert "checked against the FR text" in log[0]["message"]
    ok(run("rules", "verify", cwd=ws))
    # the rules folder now holds the approved head, and it validates
    assert "from 2027-03-01 6000 cite 2027-04410" in params.read_text(encoding="utf-8")
    ok(run("rules", "check", cwd=ws))
    rs = Ruleset.load(ws / "rules")
    assert "2027-04410" in rs.documents and "SCL" in rs.exceptions
    # knowledge time: the version known before the approval does not have it, the head does
    old = ok(run("rules", "show", "--known-at", "2026-11-30T00:00:00Z", "--text", cwd=ws))
    new = ok(run("rules", "show", "--known-at", "2026-12-02T00:00:00Z", "--text", cwd=ws))
    assert "2027-04410" not in old and "2027-04410" in new

    listed = ok(run("review", "list", "--status", "approved", cwd=ws))
    assert listed.startswith("#1  approved by Jane Doe  2027-04410")
    assert ok(run("review", "list", cwd=ws)).strip() == "no pending proposals"
    # re-running on the approved document proposes nothing new
    again = ok(run("propose", str(RULE), cwd=ws))
    assert "#1  2027-04410  already proposed (approved)" in again or "2027-04410  nothing new" in again
    assert "0 new proposals" in again
    fail(run("review", "approve", "1", "--as", "Jane Doe", cwd=ws), "proposal #1 is approved, not pending")


def test_correction_reject_and_errors(run: Run, ws: Path) -> None:
    ok(run("propose", str(RULE), cwd=ws))
    ok(run("review", "approve", "1", "--as", "Jane Doe", cwd=ws))
    out = ok(run("propose", str(CORRECTION), cwd=ws))
    assert out.startswith("#2  2027-05120  ")
    show = ok(run("review", "show", "2", cwd=ws))
    # the correction changes what 2027-04410 introduced: same start date, corrected value, both cited
    assert "6000 -> 6400 tpp, corrected" in show
    assert "+  from 2027-03-01 6400 cite 2027-04410, 2027-05120" in show and "corrected by: 2027-05120" in show
    assert "+  corrects 2027-04410" in show

    fail(run("review", "reject", "2", "--as", "Jane Doe", "--note", "  ", cwd=ws), "needs a reason")
    out = ok(run("review", "reject", "2", "--as", "Jane Doe", "--note", "waiting for the eCFR text", cwd=ws))
    assert out.strip() == "proposal #2 rejected by Jane Doe: waiting for the eCFR text"
    assert ok(run("review", "list", "--status", "rejected", cwd=ws)).startswith("#2  rejected by Jane Doe  2027-05120")
    j = json.loads(ok(run("review", "show", "2", "--json", cwd=ws)))
    assert j["note"] == "waiting for the eCFR text" and [e["action"] for e in j["log"]] == ["proposed", "rejected"]
    # re-proposing does not bring a rejected proposal back
    assert "#2  2027-05120  already proposed (rejected)" in ok(run("propose", str(CORRECTION), cwd=ws))
    fail(run("review", "approve", "2", "--as", "Jane Doe", cwd=ws), "proposal #2 is rejected, not pending")
    fail(run("review", "approve", "99", "--as", "Jane Doe", cwd=ws), "no proposal #99")
    fail(run("review", "show", "abc", cwd=ws), "'abc' is not a proposal number")
    fail(run("propose", "no-such-file.json", cwd=ws), "no-such-file.json: no such file or stored document")
    bad = ws / "bad.json"
    bad.write_text('{"not": "an extraction"}', encoding="utf-8")
    fail(run("propose", str(bad), cwd=ws), "is not an extraction result")
    fail(run("review", "list"), "no workspace here")


def test_auto_approve_is_off_by_default_and_configurable(run: Run, ws: Path, tmp_path: Path) -> None:
    def extracted(path: Path, published: str) -> Path:
        out = tmp_path / f"{path.stem}-{published}.json"
        out.write_text(ok(run("extract", str(path), "--publication-date", published, "--json")), encoding="utf-8")
        return out

    assert "auto-approved" not in ok(run("propose", str(extracted(RULE, "2027-03-02")), cwd=ws))
    assert ok(run("review", "list", cwd=ws)).startswith("#1  pending")
    cfg = ws / "regwatch.toml"
    text = cfg.read_text(encoding="utf-8")
    assert "auto_approve = false" in text  # documented in the template, off
    cfg.write_text(text.replace("auto_approve = false", "auto_approve = true")
                   .replace("auto_approve_min_confidence = 0.9", "auto_approve_min_confidence = 0.5"),
                   encoding="utf-8")
    # the rule's proposal holds a skeleton for the new 3A090.d: flagged, so it always waits for a person
    out = ok(run("propose", str(extracted(RULE, "2027-03-03")), cwd=ws))
    assert "#2  2027-04410" in out and "auto-approved" not in out
    assert json.loads(ok(run("review", "show", "1", "--json", cwd=ws)))["status"] == "superseded"
    ok(run("review", "approve", "2", "--as", "Jane Doe", cwd=ws))
    # the correction has no flagged item: approved at once, the approver recorded as such
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("auto_approve_min_confidence = 0.5",
                                                          "auto_approve_min_confidence = 0.99"), encoding="utf-8")
    fix = extracted(CORRECTION, "2027-03-12")
    out = ok(run("propose", str(fix), cwd=ws))
    assert "#3  2027-05120" in out and "auto-approved" not in out  # below the 0.99 floor: waits
    ok(run("review", "reject", "3", "--as", "Jane Doe", "--note", "testing auto-approve", cwd=ws))
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("auto_approve_min_confidence = 0.99",
                                                          "auto_approve_min_confidence = 0.5"), encoding="utf-8")
    out = ok(run("propose", str(extracted(CORRECTION, "2027-03-13")), cwd=ws))
    assert "#4  auto-approved as version" in out
    log = json.loads(ok(run("rules", "log", "--json", cwd=ws)))
    assert log[0]["approver"] == "regwatch auto-approve" and log[1]["approver"] == "Jane Doe"
    j = json.loads(ok(run("review", "show", "4", "--json", cwd=ws)))
    assert j["status"] == "approved" and "auto-approved" in j["note"]

    cfg.write_text(cfg.read_text(encoding="utf-8").replace("auto_approve_min_confidence = 0.5",
                                                          "auto_approve_min_confidence = 2"), encoding="utf-8")
    fail(run("review", "list", cwd=ws), "'review.auto_approve_min_confidence' must be between 0 and 1")


def test_a_proposal_that_depends_on_another_waits_for_it(run: Run, ws: Path) -> None:
    """Proposed together, the correction sees the rule it corrects; it can be approved only after it."""
    out = ok(run("propose", str(RULE), str(CORRECTION), cwd=ws))
    assert "#1  2027-04410" in out and "#2  2027-05120" in out
    before = store_versions(ws)
    show = ok(run("review", "show", "2", cwd=ws))
    assert "proposal #2 would make invalid rules:" in show and "2027-04410" in show
    assert json.loads(ok(run("review", "show", "2", "--json", cwd=ws)))["problem"].startswith("proposal #2 would")
    fail(run("review", "approve", "2", "--as", "Jane Doe", cwd=ws), "proposal #2 would make invalid rules")
    assert store_versions(ws) == before
    ok(run("review", "approve", "1", "--as", "Jane Doe", cwd=ws))
    assert "6000 -> 6400 tpp, corrected" in ok(run("review", "show", "2", cwd=ws))
    ok(run("review", "approve", "2", "--as", "Jane Doe", cwd=ws))
    assert "from 2027-03-01 6400 cite 2027-04410, 2027-05120" in (ws / "rules" / "40-parameters.rules").read_text()
