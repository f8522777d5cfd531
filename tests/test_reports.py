"""Diff reports (reports/, ``regwatch diff``): both time axes, every section, escaping, goldens, the CLI."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import struct
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from regwatch.cli_report import diff as diff_command
from regwatch.common import State
from reports.diff import DiffError, build_diff
from reports.model import DiffReport
from reports.render import md, render, to_html, to_json, to_markdown
from reports.sides import PointError, Side, content_ref, parse_point, rules_of_version
from rulesdsl.ruleset import Ruleset
from rulesdsl.store import RulesStore

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "fixtures" / "inventory" / "sample.yaml"
D = dt.date
TEN_26 = str(10**26)

DEMO_INVENTORY = """\
# A small company inventory for report tests (not real data).
models:
  - {id: frontier-2, name: Frontier 2, owner: research, training_operations: 3e26, published: false}
  - {id: frontier-open, name: Frontier Open, owner: research, training_operations: 2e26, published: true}
  - {id: edge-1e26, name: Edge case at exactly 10^26, owner: research, training_operations: 10^26, published: false}
  - id: mid-100b
    name: Mid 100B (estimated, 6ND)
    owner: applied
    parameters: 1e11
    tokens: 1.2e14                       # 6 x 1e11 x 1.2e14 = 7.2e25, +-50% by default: straddles 10^26
    published: false
  - {id: big-disclosed, name: Big (disclosed +-10%), owner: applied, training_operations: 9.5e25,
     training_operations_uncertainty: 10%, published: false}
  - {id: small-7b, owner: applied, parameters: 7e9, tokens: 2e12, published: false}
weights:
  - {id: frontier-2-weights, path: models/frontier-2/model.safetensors, model: frontier-2}
  - {id: edge-1e26-weights, path: models/edge-1e26/model.safetensors, model: edge-1e26}
chips:
  - {id: h100-sxm, name: NVIDIA H100 SXM5 80GB, tpp: 15832, die_area_mm2: 814, datacenter: true}
assets:
  - {id: hbm3e-stack, kind: hbm, name: HBM3E 12-high stack, memory_bandwidth: 1229, package_area_mm2: 110}
repositories:
  - {id: research-repo, path: "git@example.com:research/models.git", cleared_eccns: [4E091, 3A090]}
people:
  - {id: alice, name: Alice Anders, citizenships: [US], us_person: true}
  - {id: bob, name: Bob Bai, citizenships: [CN]}
  - {id: gwen, name: Gwen Li, citizenships: [CN], licenses: ["4E091@CN:D123456:2025-01-01..2025-12-31"]}
  - {id: farid, name: Farid Karimi, citizenships: [IR]}
"""

HOSTILE = "<script>alert('x')</script> | `rm -rf` *bold* [link](http://evil) \n# heading"
HOSTILE_INVENTORY = """\
models:
  - id: "evil|model`x`"
    name: "<script>alert('x')</script> | `rm -rf` *bold* [link](http://evil) \\n# heading"
    owner: "<b>owner</b>\\r\\n| x |"
    training_operations: 3e26
    published: false
weights:
  - id: w1
    model: "evil|model`x`"
    path: "models/<img src=x onerror=alert(1)>|`$(touch /tmp/pwned)`\\nnext.safetensors"
people:
  - {id: "p<i>", name: "</td><script>bad()</script>", citizenships: [CN]}
"""


@pytest.fixture(scope="module")
def rules() -> Ruleset:
    return Ruleset.default()


def side(rs: Ruleset, day: dt.date, label: str = "embedded default") -> Side:
    return Side(rs, content_ref(rs, label), day, day.isoformat())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("inv") / "demo.yaml"
    p.write_text(DEMO_INVENTORY, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def sample_report(rules: Ruleset) -> DiffReport:
    return build_diff(side(rules, D(2024, 12, 1)), side(rules, D(2025, 6, 1)), assets=SAMPLE,
                      inventory_label="fixtures/inventory/sample.yaml")


def floats(value: Any) -> Iterator[Any]:
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from floats(v)
    elif isinstance(value, list):
        for v in value:
            yield from floats(v)


# ---------------------------------------------------------------------------------------------------------
# FROM / TO


@pytest.mark.parametrize(("text", "date", "version"), [
    ("2025-06-01", D(2025, 6, 1), None), (" 2024-12-01 ", D(2024, 12, 1), None), ("@1", None, "@1"),
    ("head", None, "head"), ("3f2a9c1d", None, "3f2a9c1d"),
])
def test_points_are_dates_or_versions(text: str, date: dt.date | None, version: str | None) -> None:
    p = parse_point(text)
    assert (p.date, p.version) == (date, version)


@pytest.mark.parametrize(("text", "needle"), [
    ("2025-13-01", "not a valid date"), ("2025-02-30", "not a valid date"), ("", "is empty"),
    ("2025-06", "not a date"),
])
def test_bad_points(text: str, needle: str) -> None:
    with pytest.raises(PointError, match=needle):
        parse_point(text, "FROM")


# ---------------------------------------------------------------------------------------------------------
# Valid time: the default rules between 2024-12-01 and 2025-06-01


def test_valid_diff_rule_changes(sample_report: DiffReport) -> None:
    r = sample_report
    assert r.axes == ("valid",) and r.from_.rules == r.to.rules
    by = {(c.kind, c.subject): c for c in r.rule_changes}
    added = by[("paragraph_added", "4E091")]
    assert added.date == D(2025, 1, 13) and added.source.citation == "90 FR 4544 (FR Doc. 2025-00636), ECCN 4E091"
    assert added.source.quote == 'cite 2025-00636 at "ECCN 4E091"'
    assert added.source.unresolved and "10^26" in added.source.unresolved
    th = by[("threshold_added", "4E091")]
    assert th.data["new"] == {"comparator": ">=", "value": TEN_26, "display": "10^26", "unit": "operations"}
    assert th.source.citation.endswith("ECCN 4E091")
    assert th.source.quote == 'cite 2025-00636 at "Supp. No. 1 to part 774, ECCN 4E091"'
    hbm = by[("paragraph_added", "3A090.c")]
    assert hbm.date == D(2024, 12, 2) and "license required to D:5, Macau" in " ".join(hbm.details)
    assert by[("threshold_added", "3A090.c")].data["new"]["value"] == "2"  # type: ignore[index]
    group = by[("group_members", "AIA")]
    assert group.date == D(2025, 1, 13) and "DE" in group.data["added"]  # type: ignore[operator]
    assert group.source.quote == 'cite 2025-00636 at "Supp. No. 5 to part 740, para. (a)"'
    status = by[("status", "4E091")]
    assert status.date == D(2025, 5, 13) and status.data == {"old": "compliance_not_required", "new": "not_enforced"}
    assert status.source.citation == "BIS press release of 2025-05-13 (bis-pr-2025-05-13)"
    assert by[("status", "3A090.c")].date == D(2024, 12, 31)  # its compliance date
    cited = {c.subject for c in r.rule_changes if c.kind == "document_cited"}
    assert {"2024-28270", "2025-00636", "2025-00711", "bis-pr-2025-05-13"} <= cited
    merged = next(c for c in r.rule_changes if c.kind == "license_requirement")
    assert "3A090.a" in merged.subject and "5D992.z" in merged.subject and "all except AIA" in merged.text
    assert [c.date for c in r.rule_changes] == sorted(c.date for c in r.rule_changes if c.date)
    assert all(D(2024, 12, 1) < c.date <= D(2025, 6, 1) for c in r.rule_changes if c.date)
    assert all(c.source.citation != "uncited" for c in r.rule_changes)


def test_valid_diff_reclassifies_with_dates_and_sources(sample_report: DiffReport) -> None:
    r = sample_report
    by = {x.asset.id: x for x in r.reclassified}
    assert r.reclassified_count == 11 and set(by) == {
        "frontier-1", "edge-1e26", "edge-just-above", "frontier-1-shard-1", "frontier-1-shard-2",
        "frontier-1-shard-3", "frontier-1-shard-4", "edge-1e26-weights", "edge-just-above-weights",
        "frontier-1-step-120000", "hbm3e-stack"}
    f1 = by["frontier-1"]
    assert (f1.kind, f1.old.label, f1.new.label, f1.changed_on, f1.cause) == (
        "newly_controlled", "EAR99", "4E091", D(2025, 1, 13), "valid")
    (m,) = f1.new.matches
    assert (m.effective, m.compliance, m.status) == (D(2025, 1, 13), D(2025, 5, 15), "not_enforced")
    assert m.source.citation == "90 FR 4544 (FR Doc. 2025-00636), ECCN 4E091"
    assert m.source.quote == 'cite 2025-00636 at "ECCN 4E091"'
    assert m.condition == "training_operations >= ai_training_operations and not published"
    assert "4E091: training_operations = 3 x 10^26 >= ai_training_operations = 10^26" in f1.evidence
    assert any("unresolved" in flag for flag in f1.review) and any("not binding" in flag for flag in f1.review)
    # exactly 10^26 and 10^26 + 1 are controlled under >=, shown exactly
    assert "4E091: training_operations = 1.00000000000000000000000001 x 10^26 >= ai_training_operations = 10^26" \
        in by["edge-just-above"].evidence
    assert by["hbm3e-stack"].changed_on == D(2024, 12, 2) and by["hbm3e-stack"].new.label == "3A090.c"
    assert "small-7b" not in by and "h100-sxm" not in by  # EAR99 -> EAR99, 3A090.a -> 3A090.a
    # the 6ND estimate of small-7b is far from 10^26: nothing near a threshold
    assert r.near_threshold == []
    # no access change: 4E091 is never binding between these dates unless strict
    assert r.access == []
    assert r.inventory == {"file": "fixtures/inventory/sample.yaml", "assets": 20, "people": 8}


def test_status_only_changes_are_listed_but_not_counted(rules: Ruleset) -> None:
    r = build_diff(side(rules, D(2024, 12, 15)), side(rules, D(2025, 1, 5)), assets=SAMPLE)
    (hbm,) = r.reclassified
    assert (hbm.asset.id, hbm.kind, hbm.changed_on) == ("hbm3e-stack", "status", D(2024, 12, 31))
    assert [m.status for m in hbm.old.matches] == ["compliance_not_required"]
    assert [m.status for m in hbm.new.matches] == ["in_force"]
    assert r.reclassified_count == 0 and r.summary()["reclassified_by_kind"] == {"status": 1}


def test_shared_classifications_are_interned(sample_report: DiffReport) -> None:
    shards = [x for x in sample_report.reclassified if x.asset.id.startswith("frontier-1-shard")]
    assert len(shards) == 4 and all(x.new is shards[0].new for x in shards)


def test_strict_access_changes_with_license_dates(rules: Ruleset, demo: Path) -> None:
    r = build_diff(side(rules, D(2024, 12, 1)), side(rules, D(2025, 6, 1)), assets=demo, strict=True)
    by = {(a.person, a.kind): a for a in r.access}
    bob = by[("bob", "needs_license")]
    assert bob.changed_on == D(2025, 1, 13) and (bob.old, bob.new) == ("allow", "license_required")
    assert [a.id for a in bob.assets] == ["frontier-2", "edge-1e26", "frontier-2-weights", "edge-1e26-weights"]
    assert any(c == "90 FR 4544 (FR Doc. 2025-00636), 742.6(a)(11)" for _, c in bob.reasons)
    assert by[("farid", "lost")].new == "deny"
    assert "alice" not in {a.person for a in r.access}  # a U.S. person
    assert "gwen" not in {a.person for a in r.access}  # licensed from 2025-01-01 through 2025-12-31
    later = build_diff(side(rules, D(2025, 6, 1)), side(rules, D(2026, 1, 5)), assets=demo, strict=True)
    (gwen,) = [a for a in later.access if a.person == "gwen"]
    assert (gwen.kind, gwen.changed_on) == ("needs_license", D(2026, 1, 1))  # the day after the license ends
    assert later.reclassified_count == 0


def test_near_threshold_uses_the_uncertainty(rules: Ruleset, demo: Path) -> None:
    r = build_diff(side(rules, D(2024, 12, 1)), side(rules, D(2025, 6, 1)), assets=demo)
    near = {n.asset.id: n for n in r.near_threshold}
    assert set(near) == {"mid-100b", "big-disclosed"}
    mid = near["mid-100b"]
    assert (mid.value, mid.low, mid.high) == (str(72 * 10**24), str(36 * 10**24), str(108 * 10**24))
    assert mid.estimated and mid.eccn == "4E091" and (mid.comparator, mid.threshold) == (">=", TEN_26)
    assert (mid.point, mid.low_result, mid.high_result) == (False, False, True)
    big = near["big-disclosed"]
    assert (big.low, big.high, big.estimated) == (str(855 * 10**23), str(1045 * 10**23), False)
    assert "mid-100b" not in {x.asset.id for x in r.reclassified}  # below the threshold at the point estimate


def test_unknown_kind_and_reversed_dates(rules: Ruleset, tmp_path: Path) -> None:
    inv = tmp_path / "k.csv"
    inv.write_text("id,kind\nx,gpu\n", encoding="utf-8")
    with pytest.raises(DiffError, match=r"asset 'x': unknown kind 'gpu'"):
        build_diff(side(rules, D(2024, 1, 1)), side(rules, D(2025, 1, 1)), assets=inv)
    with pytest.raises(DiffError, match="is after TO's date"):
        build_diff(side(rules, D(2025, 1, 1)), side(rules, D(2024, 1, 1)))


def test_same_point_is_empty(rules: Ruleset) -> None:
    r = build_diff(side(rules, D(2025, 6, 1)), side(rules, D(2025, 6, 1)), assets=SAMPLE)
    assert r.axes == () and r.rule_changes == [] and r.reclassified == [] and r.reclassified_count == 0


# ---------------------------------------------------------------------------------------------------------
# Knowledge time: two rules versions in a store

T1 = datetime(2025, 1, 20, 12, 0, tzinfo=UTC)
T2 = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)

NEW_DOC = '''document 2027-00001
  citation "92 FR 1000"
  published 2027-01-05
  title "Clarification: 4E091 applies to more than 10^26 operations (illustrative, not a real document)"
  confidence low

'''


def version_two(text: str) -> str:
    """The default rules, re-read: 4E091 is "more than 10^26", India joins AIA, AI Diffusion rescinded in 2026."""
    old_when = next(ln for ln in text.splitlines() if ln.startswith("  when training_operations >= "))
    new = text.replace(old_when, '  when training_operations > ai_training_operations and not published cite '
                                 '2025-00636, 2027-00001 at "ECCN 4E091" confidence medium')
    aia = next(ln for ln in new.splitlines() if ln.startswith("  from 2025-01-13 add AU,"))
    new = new.replace(aia, aia + "\n  from 2026-01-01 add IN cite 2027-00001 confidence low")
    status = "  status not_enforced from 2025-05-13 cite bis-pr-2025-05-13 confidence high"
    new = new.replace(status, status + "\n  status rescinded from 2026-06-01 cite 2027-00001 confidence low")
    marker = "document 2025-00637"
    return new.replace(marker, NEW_DOC + marker, 1)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from regwatch.cli import main

    ws = tmp_path_factory.mktemp("reports") / "ws"
    res = CliRunner().invoke(main, ["init", str(ws), "--approved-at", T1.isoformat()])
    assert res.exit_code == 0, res.output
    with RulesStore(ws / "regwatch.db") as store:
        text = version_two(store.text("head"))
        Ruleset.from_bundle(text, "v2")  # validates
        store.commit(text, approver="Jane Doe", approved_at=T2, message="4E091 reads 'more than 10^26'",
                     source_documents=["2027-00001"])
    return ws


def version_sides(ws: Path, day: dt.date) -> tuple[Side, Side]:
    with RulesStore(ws / "regwatch.db") as store:
        (r1, ref1), (r2, ref2) = rules_of_version(store, "@1"), rules_of_version(store, "@2")
    return Side(r1, ref1, day, "@1"), Side(r2, ref2, day, "@2")


@pytest.fixture(scope="module")
def version_report(workspace: Path, demo: Path) -> DiffReport:
    old, new = version_sides(workspace, D(2025, 6, 1))
    return build_diff(old, new, assets=demo, strict=True, inventory_label="demo.yaml")


def test_knowledge_diff_rule_changes(version_report: DiffReport) -> None:
    r = version_report
    assert r.axes == ("knowledge",) and r.from_.rules.seq == 1 and r.to.rules.seq == 2
    assert r.to.rules.approver == "Jane Doe" and r.from_.valid == r.to.valid == D(2025, 6, 1)
    assert {c.axis for c in r.rule_changes} == {"knowledge"}
    by = {(c.kind, c.subject): c for c in r.rule_changes}
    th = by[("threshold_changed", "4E091")]
    assert th.data["old"]["comparator"] == ">=" and th.data["new"]["comparator"] == ">"  # type: ignore[index]
    assert th.data["new"]["value"] == TEN_26 and th.date == D(2025, 1, 13)  # type: ignore[index]
    revised = by[("paragraph_revised", "4E091")]
    assert any(d.startswith("- when training_operations >= ") for d in revised.details)
    assert any(d.startswith("+ when training_operations > ") for d in revised.details)
    assert by[("group_members", "AIA")].data["added"] == ["IN"]
    assert by[("status", "2025-00636")].date == D(2026, 6, 1) and by[("status", "2025-00636")].new == "rescinded"
    doc = by[("document_cited", "2027-00001")]
    assert doc.date == D(2027, 1, 5) and doc.source.citation == "92 FR 1000 (FR Doc. 2027-00001)"


def test_knowledge_diff_decontrols_exactly_ten_26(version_report: DiffReport) -> None:
    r = version_report
    by = {x.asset.id: x for x in r.reclassified}
    assert set(by) == {"edge-1e26", "edge-1e26-weights"}
    edge = by["edge-1e26"]
    assert (edge.kind, edge.old.label, edge.new.label, edge.changed_on, edge.cause) == (
        "decontrolled", "4E091", "EAR99", None, "knowledge")
    assert "now: 4E091: training_operations = 10^26 > ai_training_operations = 10^26" in edge.evidence
    assert "was: 4E091: training_operations = 10^26 >= ai_training_operations = 10^26" in edge.evidence
    # strict: bob and farid regain access to the edge assets
    kinds = {(a.person, a.kind): [x.id for x in a.assets] for a in r.access}
    assert kinds[("bob", "license_no_longer_needed")] == ["edge-1e26", "edge-1e26-weights"]
    assert kinds[("farid", "gained")] == ["edge-1e26", "edge-1e26-weights"]
    # TO rules (>): 10^26 sits on the threshold's open side, still inside the intervals
    assert {n.asset.id for n in r.near_threshold} == {"mid-100b", "big-disclosed"}
    upcoming = {(u.date, u.kind, u.subject) for u in r.upcoming}
    assert (D(2026, 1, 1), "members_add", "AIA") in upcoming


def test_both_axes(workspace: Path, demo: Path) -> None:
    old, _ = version_sides(workspace, D(2024, 12, 1))
    _, new = version_sides(workspace, D(2025, 6, 1))
    r = build_diff(old, new, assets=demo)
    assert r.axes == ("knowledge", "valid")
    assert {c.axis for c in r.rule_changes} == {"knowledge", "valid"}
    edge = {x.asset.id: x for x in r.reclassified}
    assert "edge-1e26" not in edge  # EAR99 on 2024-12-01 (v1) and on 2025-06-01 (v2, '>')
    f2 = edge["frontier-2"]
    assert (f2.kind, f2.changed_on, f2.cause) == ("newly_controlled", D(2025, 1, 13), "valid")


# ---------------------------------------------------------------------------------------------------------
# Renderers


def test_json_is_exact_and_deterministic(sample_report: DiffReport) -> None:
    text = to_json(sample_report)
    assert text == to_json(sample_report) and text.endswith("}\n") and not text.endswith("\n\n")
    data = json.loads(text)
    assert list(floats(data)) == []  # 10^26 is never a float
    assert data["schema"] == "regwatch-diff/1" and data["summary"]["assets_reclassified"] == 11
    th = next(c for c in data["rule_changes"] if c["kind"] == "threshold_added" and c["subject"] == "4E091")
    assert th["data"]["new"]["value"] == TEN_26 and Decimal(th["data"]["new"]["value"]) == Decimal(10) ** 26


def test_markdown_and_html_show_the_summary_first(sample_report: DiffReport) -> None:
    md_text = to_markdown(sample_report)
    order = ["## Summary", "### Most important", "## Assets reclassified", "## Access changes",
             "## Assets near a threshold", "## Upcoming dates", "## Rule changes"]  # impact first, then the rules
    assert [md_text.index(h) for h in order] == sorted(md_text.index(h) for h in order)
    assert "| Assets reclassified | **11**: 11 newly controlled |" in md_text
    assert "Valid time moves" in md_text and "embedded default on both sides" in md_text
    html = to_html(sample_report)
    assert html.startswith("<!DOCTYPE html>") and html.endswith("</html>\n")
    assert '<span class="n" id="n-reclassified">11</span>' in html
    ids = ['id="n-reclassified"', 'id="important"', 'id="reclassified"', 'id="access"', 'id="near"',
           'id="upcoming"', 'id="rule-changes"']
    assert [html.index(i) for i in ids] == sorted(html.index(i) for i in ids)
    assert "<script" not in html and not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "@import" not in html


def _tables(text: str) -> list[list[str]]:
    """Markdown tables: runs of consecutive lines starting with ``|``."""
    tables: list[list[str]] = []
    previous = False
    for ln in text.splitlines():
        row = ln.startswith("|")
        if row and not previous:
            tables.append([])
        if row:
            tables[-1].append(ln)
        previous = row
    return tables


def _cells(row: str) -> int:
    return len(re.findall(r"(?<!\\)\|", row))


def test_hostile_strings_are_escaped(rules: Ruleset, tmp_path: Path) -> None:
    inv = tmp_path / "hostile.yaml"
    inv.write_text(HOSTILE_INVENTORY, encoding="utf-8")
    r = build_diff(side(rules, D(2024, 12, 1)), side(rules, D(2025, 6, 1)), assets=inv, strict=True)
    assert r.reclassified_count == 2 and r.access  # the hostile model and its weights; the person loses access
    html = to_html(r)
    assert "<script>" not in html and "</td><script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html and "&lt;b&gt;owner&lt;/b&gt;" in html
    text = to_markdown(r)
    assert "<script" not in text and "<img" not in text and "<b>" not in text
    assert "&lt;script&gt;" in text and r"evil\|model\`x\`" in text
    tables = _tables(text)
    assert len(tables) >= 4
    for table in tables:  # every row keeps the header's column count: no unescaped | or newline from the data
        assert all(_cells(row) == _cells(table[0]) for row in table), table
    assert "\n# heading" not in text and "[link](http://evil)" not in text
    data = json.loads(to_json(r))
    names = {x["asset"]["name"] for x in data["reclassified"]}
    assert HOSTILE in names  # JSON keeps the data exact


@pytest.mark.parametrize(("value", "expected"), [
    ("a|b", r"a\|b"), ("`x`", r"\`x\`"), ("<s>", "&lt;s&gt;"), ("a\nb", "a ↵ b"), ("*_[]~#", r"\*\_\[\]\~\#"),
    ("x & y", "x &amp; y"), (None, ""), ("back\\slash", "back\\\\slash"),
])
def test_md_escape(value: str | None, expected: str) -> None:
    assert md(value) == expected


# ---------------------------------------------------------------------------------------------------------
# Goldens (tests/golden/reports/<case>/): pytest --update-goldens, then review the diff


def _files(report: DiffReport) -> dict[str, bytes]:
    return {f"report.{fmt}": render(report, fmt).encode() for fmt in ("md", "json", "html")}


def test_golden_default_sample(rules: Ruleset, golden: Callable[[str, dict[str, bytes]], None]) -> None:
    r = build_diff(side(rules, D(2024, 12, 1)), side(rules, D(2025, 6, 1)), assets=SAMPLE,
                   inventory_label="fixtures/inventory/sample.yaml")
    golden("reports/default-sample-2024-12-01-2025-06-01", _files(r))


def test_golden_versions(version_report: DiffReport, golden: Callable[[str, dict[str, bytes]], None]) -> None:
    golden("reports/versions-demo-2025-06-01-strict", _files(version_report))


# ---------------------------------------------------------------------------------------------------------
# CLI (invoked directly until `diff` is registered in regwatch/cli.py)


def invoke(args: list[str], ws: Path | None = None) -> Any:
    return CliRunner().invoke(diff_command, args, obj=State(str(ws) if ws else None),
                              env={"REGWATCH_TODAY": "2026-11-26", "REGWATCH_WORKSPACE": None})


def test_cli_exit_codes_and_formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    sample_report: DiffReport) -> None:
    monkeypatch.chdir(ROOT)
    res = invoke(["2024-12-01", "2025-06-01", "--assets", "fixtures/inventory/sample.yaml", "--format", "json"])
    assert res.exit_code == 1, res.output
    assert res.output == to_json(sample_report)  # the CLI is the library
    res = invoke(["2025-06-01", "2025-09-01", "--assets", "fixtures/inventory/sample.yaml"])
    assert res.exit_code == 0 and "## Summary" in res.output  # nothing reclassified
    res = invoke(["2024-12-01", "2025-06-01"])  # no inventory: nothing can be reclassified
    assert res.exit_code == 0 and "none given" in res.output
    out = tmp_path / "r.html"
    res = invoke(["2024-12-01", "2025-06-01", "--assets", "fixtures/inventory/sample.yaml", "--format", "html",
                  "--out", str(out)])
    assert res.exit_code == 1 and out.read_text(encoding="utf-8") == to_html(sample_report)
    assert f"html report written to {out}" in res.output
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


@pytest.mark.parametrize(("args", "needle"), [
    (["2025-13-01", "2025-06-01"], "FROM '2025-13-01' is not a valid date"),
    (["2025-06-01", "2024-06-01"], "is after TO's date"),
    (["@1", "head"], "is a rules version, but versions live in a workspace"),
    (["2024-01-01", "2025-01-01", "--as-of", "2025-01-01"], "--as-of gives the date of a side given as a rules"),
    (["2024-01-01", "2025-01-01", "--out", "/nonexistent/dir/r.md"], "/nonexistent/dir does not exist"),
    (["2024-01-01", "2025-01-01", "--rules", "/nonexistent.rules"], "no such file or directory"),
    (["2024-01-01", "2025-01-01", "--format", "pdf"], "Invalid value for '--format'"),
])
def test_cli_usage_errors(args: list[str], needle: str) -> None:
    res = invoke(args)
    assert res.exit_code == 2, res.output
    assert needle in res.output and "Traceback" not in res.output


def test_cli_broken_inventory_names_file_row_field(tmp_path: Path) -> None:
    dup = tmp_path / "inv.csv"
    dup.write_text("id,kind\na,model\na,model\n", encoding="utf-8")
    wide = tmp_path / "inv.yaml"
    wide.write_text("models:\n  - {id: m, training_operations: 1e26, training_operations_uncertainty: 2}\n",
                    encoding="utf-8")
    for path, where in ((dup, f"{dup}:3:id"), (wide, f"{wide}:1:training_operations_uncertainty"),
                        (tmp_path / "none.yaml", f"{tmp_path / 'none.yaml'}:0:file")):
        res = invoke(["2024-12-01", "2025-06-01", "--assets", str(path)])
        assert res.exit_code == 2 and res.output.startswith(f"regwatch: {where}: "), res.output
        assert len(res.output.strip().splitlines()) == 1


def test_cli_versions_in_a_workspace(workspace: Path, demo: Path, version_report: DiffReport) -> None:
    res = invoke(["@1", "head", "--as-of", "2025-06-01", "--assets", str(demo), "--strict", "--format", "json"],
                 workspace)
    assert res.exit_code == 1, res.output
    data = json.loads(res.output)
    assert data["axes"] == ["knowledge"] and data["summary"]["reclassified_by_kind"] == {"decontrolled": 2}
    assert data["reclassified"] == json.loads(to_json(version_report))["reclassified"]
    # a date side takes the workspace's head; --version picks another
    res = invoke(["2024-12-01", "2025-06-01", "--format", "json"], workspace)
    assert json.loads(res.output)["to"]["rules"]["seq"] == 2
    res = invoke(["2024-12-01", "2025-06-01", "--version", "@1", "--format", "json"], workspace)
    assert json.loads(res.output)["from"]["rules"]["seq"] == 1
    res = invoke(["@1", "2025-06-01", "--as-of", "2024-12-01", "--format", "json"], workspace)
    assert json.loads(res.output)["axes"] == ["knowledge", "valid"]
    for args, needle in ((["@7", "head"], "FROM '@7': unknown version '@7': the store has 2 versions"),
                         (["@1", "zzzz"], "TO 'zzzz': invalid version ref")):
        res = invoke(args, workspace)
        assert res.exit_code == 2 and needle in res.output, res.output


# ---------------------------------------------------------------------------------------------------------
# The HTML page in a real browser (headless Chromium, Debian package `chromium`; .ci/run installs it)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
EXAMPLE_PNG = ROOT / "docs" / "img" / "report-example.png"


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-domain-reliability", "--no-pings",
             "--hide-scrollbars", f"--user-data-dir={tmp_path / 'chromium-profile'}"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120, cwd=tmp_path)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium (Debian package 'chromium') is not installed here; "
                                             ".ci/run installs it so CI renders the HTML report in a real browser")
def test_html_report_renders_in_headless_chromium(rules: Ruleset, demo: Path, tmp_path: Path,
                                                  request: pytest.FixtureRequest) -> None:
    r = build_diff(side(rules, D(2024, 12, 1)), side(rules, D(2025, 6, 1)), assets=demo, strict=True,
                   inventory_label="demo.yaml")
    page = tmp_path / "report.html"
    page.write_text(to_html(r), encoding="utf-8")
    s = r.summary()
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<title>Export-control diff: 2024-12-01 → 2025-06-01</title>" in dom.stdout
    for element, value in (("n-reclassified", s["assets_reclassified"]), ("n-rule-changes", s["rule_changes"]),
                           ("n-access", s["access_changes"]), ("n-near", s["near_threshold"]),
                           ("n-upcoming", s["upcoming"])):
        assert f'id="{element}">{value}</span>' in dom.stdout, element
    assert r.reclassified_count == 5 and s["near_threshold"] == 2
    assert "Next effective or compliance date: <strong>2025-09-29</strong>" in dom.stdout
    assert "frontier-2" in dom.stdout and "90 FR 4544 (FR Doc. 2025-00636)" in dom.stdout
    shot = tmp_path / "report.png"
    res = _chromium(tmp_path, "--window-size=1280,1900", f"--screenshot={shot}", page.as_uri())
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    data = shot.read_bytes()
    assert _png_size(data) == (1280, 1900) and len(data) > 50_000  # a painted page, not a blank one
    if request.config.getoption("--update-goldens"):  # the README's example, reviewed like a golden file
        EXAMPLE_PNG.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, EXAMPLE_PNG)


def test_json_reports_validate_against_the_schema(sample_report: DiffReport, version_report: DiffReport) -> None:
    import jsonschema

    from reports.schema import diff_report_schema

    schema = diff_report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for report in (sample_report, version_report):
        data = json.loads(to_json(report))
        assert [e.message for e in validator.iter_errors(data)] == []
    assert list(validator.iter_errors({"schema": "regwatch-diff/1"})) != []
