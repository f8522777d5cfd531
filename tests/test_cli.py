"""End to end through the installed ``regwatch`` console script (real files, real SQLite)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import jsonschema
import pytest

from rulesdsl.ast import RulesFile
from rulesdsl.ruleset import Ruleset

from .conftest import ROOT, Run, assert_no_traceback

SAMPLE = ROOT / "fixtures" / "inventory" / "sample.yaml"
T0 = "2026-01-01T09:00:00+00:00"
T1 = "2026-02-01T09:00:00+00:00"


def test_when_4e091_text(run: Run) -> None:
    p = run("when", "4E091", "--as-of", "2026-11-26")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "not enforced" in out and "2025-05-13" in out
    assert "2025-01-13" in out and "90 FR 4544" in out and "2025-05-15" in out
    assert "training_operations >= 10^26 operations" in out
    assert "UNRESOLVED" in out  # >= vs > is stated, not silently decided


def test_when_json_contract(run: Run) -> None:
    p = run("when", "4e091", "--as-of", "2025-03-01", "--json")
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    assert j["name"] == "4E091" and j["type"] == "eccn" and j["as_of"] == "2025-03-01"
    assert j["status"] == [{"eccn": "4E091", "status": "compliance_not_required",
                            "note": "compliance not required until 2025-05-15",
                            "citation": "90 FR 4544 (FR Doc. 2025-00636)"}]
    [thr] = j["thresholds"]
    assert thr["value"] == "100000000000000000000000000" and thr["comparator"] == ">="
    assert thr["unit"] == "operations" and thr["from"] == "2025-01-13" and thr["unresolved"]
    kinds = [e["kind"] for e in j["events"]]
    assert "effective" in kinds and "compliance" in kinds and "not_enforced" in kinds
    dates = [e["date"] for e in j["events"]]
    assert dates == sorted(dates)


@pytest.mark.parametrize(("name", "expect"), [
    ("3A090", "3A090.c"), ("ai_training_operations", "10^26"), ("group:AIA", "18 members"),
    ("exception:AIA", "740.27"), ("2025-19001", "suspended"), ("D:5", "members"),
])
def test_when_other_names(run: Run, name: str, expect: str) -> None:
    p = run("when", name, "--as-of", "2026-01-01")
    assert p.returncode == 0, p.stderr
    assert expect in p.stdout


def test_when_unknown_name_and_bad_date(run: Run) -> None:
    p = run("when", "4E09")
    assert p.returncode == 2 and "did you mean" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert_no_traceback(p)
    p = run("when", "4E091", "--as-of", "2025-13-01")
    assert p.returncode == 2 and "not a date" in p.stderr
    assert_no_traceback(p)


def test_rules_check_and_schema(run: Run) -> None:
    p = run("rules", "check")
    assert p.returncode == 0 and "embedded default" in p.stdout
    p = run("rules", "schema")
    assert p.returncode == 0
    schema = json.loads(p.stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    rs = Ruleset.default()
    for _name, rf in rs.files:  # every default file's AST validates against the published schema
        jsonschema.validate(rf.model_dump(mode="json"), schema)
    assert RulesFile.model_validate(rs.files[0][1].model_dump(mode="json")) == rs.files[0][1]


def _init(run: Run, tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    p = run("init", str(ws), "--approved-at", T0)
    assert p.returncode == 0, p.stderr
    assert (ws / "regwatch.toml").is_file() and (ws / "regwatch.db").is_file()
    assert sorted(f.name for f in (ws / "rules").glob("*.rules")) == sorted(
        f.name for f in (ROOT / "rulesdsl" / "default").glob("*.rules"))
    return ws


def test_workspace_lifecycle(run: Run, tmp_path: Path) -> None:
    ws = _init(run, tmp_path)
    sub = ws / "deep" / "er"
    sub.mkdir(parents=True)
    # found from a subdirectory
    p = run("rules", "log", "--json", cwd=sub)
    assert p.returncode == 0, p.stderr
    [v1] = json.loads(p.stdout)
    assert v1["seq"] == 1 and v1["parent"] is None and v1["approver"] == "regwatch init"

    # edit: raise the 4E091 threshold to 10^27 from 2026-06-01, approve it
    params = ws / "rules" / "40-parameters.rules"
    lines = params.read_text().splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.startswith("parameter ai_training_operations"))
    lines.insert(i + 2, "  from 2026-06-01   10^27 cite 2025-00636 confidence low")  # not canonical spacing
    params.write_text("\n".join(lines) + "\n")
    p = run("rules", "fmt", "--check", cwd=ws)
    assert p.returncode == 1 and "would reformat" in p.stdout
    p = run("rules", "fmt", cwd=ws)
    assert p.returncode == 0
    p = run("rules", "fmt", "--check", cwd=ws)
    assert p.returncode == 0, p.stdout
    p = run("rules", "commit", "--as", "Jane Doe", "-m", "raise threshold", "--source", "2025-00636",
            "--approved-at", T1, cwd=ws)
    assert p.returncode == 0, p.stderr
    log = json.loads(run("rules", "log", "--json", cwd=ws).stdout)
    assert [v["seq"] for v in log] == [2, 1] and log[0]["parent"] == log[1]["id"]
    assert log[0]["approver"] == "Jane Doe" and log[0]["source_documents"] == ["2025-00636"]

    # bitemporal: valid time 2026-07-01, knowledge time version 1 vs version 2
    def threshold(*args: str) -> str:
        out = run("rules", "show", "--json", "--as-of", "2026-07-01", *args, cwd=ws)
        assert out.returncode == 0, out.stderr
        return str(json.loads(out.stdout)["parameters"]["ai_training_operations"])

    assert threshold("--version", "@1") == str(10**26)
    assert threshold("--version", log[0]["id"][:10]) == str(10**27)
    assert threshold("--known-at", "2026-01-15T00:00:00Z") == str(10**26)
    assert threshold("--known-at", "2026-03-01T00:00:00Z") == str(10**27)
    p = run("rules", "show", "--known-at", "2025-01-01T00:00:00Z", cwd=ws)
    assert p.returncode == 2 and "no version" in p.stderr
    # 'when' now reads the approved head
    j = json.loads(run("when", "ai_training_operations", "--json", "--as-of", "2026-07-01", cwd=ws).stdout)
    assert j["status"][0]["value"] == str(10**27)

    p = run("rules", "verify", cwd=ws)
    assert p.returncode == 0 and "chain intact" in p.stdout

    # the same text again is refused, the store unchanged
    p = run("rules", "commit", "--as", "Jane Doe", "-m", "again", cwd=ws)
    assert p.returncode == 2 and "no change" in p.stderr.lower()
    assert len(json.loads(run("rules", "log", "--json", cwd=ws).stdout)) == 2


def test_bad_rules_are_not_committed(run: Run, tmp_path: Path) -> None:
    ws = _init(run, tmp_path)
    ctl = ws / "rules" / "50-controls.rules"
    ctl.write_text(ctl.read_text().replace("applies to model, model_weights", "applies to modle, model_weights"))
    p = run("rules", "commit", "--as", "x", "-m", "typo", cwd=ws)
    assert p.returncode == 2
    assert "50-controls.rules:" in p.stderr and "undefined asset kind 'modle' (did you mean 'model'?)" in p.stderr
    assert "^" in p.stderr
    assert_no_traceback(p)
    assert len(json.loads(run("rules", "log", "--json", cwd=ws).stdout)) == 1
    p = run("rules", "check", cwd=ws)
    assert p.returncode == 2
    p = run("rules", "fmt", cwd=ws)  # fmt only needs the syntax to be right
    assert p.returncode == 0


def test_tampering_is_reported_with_the_version_id(run: Run, tmp_path: Path) -> None:
    ws = _init(run, tmp_path)
    log = json.loads(run("rules", "log", "--json", cwd=ws).stdout)
    con = sqlite3.connect(ws / "regwatch.db")
    triggers = [r[0] for r in con.execute("select name from sqlite_master where type='trigger'")]
    for t in triggers:  # a deliberate tamperer drops the append-only guards first
        con.execute(f'drop trigger "{t}"')
    con.execute("update versions set approver = 'mallory'")
    con.commit()
    con.close()
    p = run("rules", "verify", cwd=ws)
    assert p.returncode == 1
    assert log[0]["id"][:12] in p.stdout
    assert_no_traceback(p)


def test_init_refuses_existing_workspace(run: Run, tmp_path: Path) -> None:
    ws = _init(run, tmp_path)
    p = run("init", str(ws))
    assert p.returncode == 2 and "already" in p.stderr


def test_bad_config_is_one_line(run: Run, tmp_path: Path) -> None:
    ws = _init(run, tmp_path)
    (ws / "regwatch.toml").write_text("[semantics]\nstrict = 'yes'\n")
    p = run("rules", "log", cwd=ws)
    assert p.returncode == 2 and "semantics.strict" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    (ws / "regwatch.toml").write_text("[semantics\n")
    p = run("rules", "log", cwd=ws)
    assert p.returncode == 2 and "invalid TOML" in p.stderr
    assert_no_traceback(p)


def test_no_workspace_commands(run: Run) -> None:
    p = run("rules", "log")
    assert p.returncode == 2 and "no workspace" in p.stderr
    p = run("rules", "fmt")
    assert p.returncode == 2


def test_rules_show_text_round_trips(run: Run) -> None:
    p = run("rules", "show", "--text")
    assert p.returncode == 0
    assert Ruleset.from_bundle(p.stdout).bundle_text() == p.stdout == Ruleset.default().bundle_text()


def test_cli_reference_is_current_and_complete() -> None:
    from regwatch.cli import main
    from regwatch.docgen import iter_commands, render

    assert (ROOT / "docs" / "cli.md").read_text() == render(), "run: python -m regwatch.docgen > docs/cli.md"
    readme = (ROOT / "README.md").read_text()
    for full, _cmd in iter_commands(main):
        assert f"`{full}" in readme, f"{full} is not in the README's CLI reference"


# --- classify / decide ---------------------------------------------------------------------------------

def _classify(run: Run, path: Path, *args: str) -> tuple[int, dict[str, object]]:
    p = run("classify", "--assets", str(path), "--json", *args)
    assert p.returncode in (0, 1), p.stderr
    return p.returncode, json.loads(p.stdout)


def test_classify_sample_in_every_format(run: Run) -> None:
    results = {}
    for ext in ("yaml", "json", "csv"):
        code, rep = _classify(run, SAMPLE.with_suffix(f".{ext}"), "--as-of", "2025-03-01", "--strict")
        assert code == 1
        results[ext] = rep
    assert results["yaml"]["assets"] == results["json"]["assets"] == results["csv"]["assets"]
    by_id = {a["asset"]: a for a in results["yaml"]["assets"]}  # type: ignore[attr-defined]
    assert by_id["edge-1e26-weights"]["classification"] == "4E091"      # exactly 10^26, inherited from the model
    assert by_id["edge-just-above"]["classification"] == "4E091"
    assert by_id["small-7b"]["classification"] == "EAR99"               # 6ND estimate 8.4e22
    assert by_id["frontier-open-weights"]["classification"] == "EAR99"  # published
    assert by_id["h100-sxm"]["classification"] == "3A090.a"
    assert by_id["h20"]["classification"] == "EAR99"
    assert by_id["dgx-node"]["classification"] == "4A090.a"
    assert by_id["hbm3e-stack"]["classification"] == "3A090.c"
    m = by_id["frontier-1"]["matches"][0]
    assert m["status"] == "compliance_not_required" and m["compliance"] == "2025-05-15"
    people = {p["person"]: p for p in results["yaml"]["people"]}  # type: ignore[attr-defined]
    assert people["alice"]["read_access_needing_action"] == []
    assert people["chen"]["read_access_needing_action"] == []
    assert {n["outcome"] for n in people["farid"]["read_access_needing_action"]} == {"deny"}
    assert {n["outcome"] for n in people["bob"]["read_access_needing_action"]} == {"license_required"}
    assert people["gwen"]["read_access_needing_action"] == []           # licensed for 2025
    assert people["hana"]["read_access_needing_action"] == []           # AIA destination


def test_classify_before_any_control_is_all_ear99(run: Run) -> None:
    code, rep = _classify(run, SAMPLE, "--as-of", "2022-10-06")
    assert code == 0
    assert {a["classification"] for a in rep["assets"]} == {"EAR99"}  # type: ignore[attr-defined]


def test_classify_text_output(run: Run) -> None:
    p = run("classify", "--assets", str(SAMPLE), "--as-of", "2025-06-01")
    assert p.returncode == 1
    assert "not enforced (announced)" in p.stdout and "3A090.a" in p.stdout and "assets:" in p.stdout


def test_classify_bad_inventories(run: Run, tmp_path: Path) -> None:
    bad_kind = tmp_path / "k.yaml"
    bad_kind.write_text("assets:\n  - id: x\n    kind: chipp\n")
    p = run("classify", "--assets", str(bad_kind))
    assert p.returncode == 2 and "unknown kind 'chipp'" in p.stderr and str(bad_kind) in p.stderr
    broken = tmp_path / "b.yaml"
    broken.write_text("models:\n  - id: [unclosed\n")
    p = run("classify", "--assets", str(broken))
    assert p.returncode == 2 and str(broken) in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert_no_traceback(p)
    p = run("classify", "--assets", str(tmp_path / "missing.yaml"))
    assert p.returncode == 2 and "no such file" in p.stderr


def test_classify_hostile_strings_are_data(run: Run, tmp_path: Path) -> None:
    inv = tmp_path / "h.json"
    hostile = 'x"; rm -rf / $(id) `whoami`\n\\'
    inv.write_text(json.dumps({"models": [{"id": "m1", "name": hostile, "training_operations": "1e27",
                                           "published": False}]}))
    code, rep = _classify(run, inv, "--as-of", "2025-03-01")
    assert code == 1 and rep["assets"][0]["name"] == hostile  # type: ignore[index]


@pytest.mark.parametrize(("args", "code", "expect"), [
    (["--person", "bob", "--asset", "frontier-1-shard-1", "--action", "read", "--strict"], 1, "LICENSE_REQUIRED"),
    (["--person", "bob", "--asset", "frontier-1-shard-1", "--action", "query_api", "--strict"], 0, "ALLOW"),
    (["--person", "farid", "--asset", "frontier-1", "--action", "clone", "--strict"], 1, "DENY"),
    (["--person", "bob", "--asset", "frontier-1-shard-1", "--action", "read"], 0, "not binding"),
    (["--person", "alice", "--asset", "h100-sxm", "--action", "export", "--destination", "cn"], 1, "for CN"),
    (["--person", "alice", "--asset", "h100-sxm", "--action", "export", "--destination", "JP"], 0, "ALLOW"),
])
def test_decide(run: Run, args: list[str], code: int, expect: str) -> None:
    p = run("decide", "--assets", str(SAMPLE), "--as-of", "2025-06-01", *args)
    assert p.returncode == code, p.stdout + p.stderr
    assert expect in p.stdout


def test_decide_bad_arguments(run: Run) -> None:
    base = ["decide", "--assets", str(SAMPLE), "--action", "read"]
    p = run(*base, "--person", "nobody", "--asset", "h20")
    assert p.returncode == 2 and "no person 'nobody'" in p.stderr
    p = run(*base, "--person", "bob", "--asset", "h20", "--destination", "XX")
    assert p.returncode == 2 and "ISO 3166" in p.stderr
    p = run("decide", "--assets", str(SAMPLE), "--action", "fly", "--person", "bob", "--asset", "h20")
    assert p.returncode == 2


def test_demo_runs_the_whole_pipeline_offline(run: Run, tmp_path: Path) -> None:
    root = tmp_path / "demo"
    p = run("demo", "--dir", str(root))
    assert p.returncode == 0, p.stderr
    assert_no_traceback(p)
    out = p.stdout
    for step in ("crawl: crawl ", "2 new, 0 changed, 0 unchanged, 0 failed", "extract: 2 extracted",
                 "propose: 2 new proposals", "approve: proposal #1 -> version ", "approve: proposal #2 -> version ",
                 "compile: constants (", "Where everything is:"):
        assert step in out, step
    log = json.loads(run("rules", "log", "--json", cwd=root).stdout)
    assert [v["approver"].startswith("regwatch demo") for v in log] == [True, True, False]
    assert log[0]["source_documents"] == ["2027-04410", "2027-05120"]
    limits = json.loads((root / "build" / "constants" / "flop_limits.json").read_text())
    tpp = next(t for t in limits["thresholds"] if t["name"] == "tpp_3a090a1")
    assert tpp["value"]["decimal"] == "6400" and tpp["effective"] == "2027-03-01"  # the corrected value
    assert limits["as_of"] == "2027-03-15"
    for target in ("casbin", "rego", "githooks"):
        assert any((root / "build" / target).iterdir())
    assert (root / "outbox" / "digest-2027-03-15.html").is_file()
    digest = json.loads((root / "outbox" / "digest-2027-03-15.json").read_text())
    assert digest["summary"]["approved"] == 3 and digest["summary"]["pending"] == 0
    # the new 3A090.d skeleton compares a transistor count the sample chips do not give: they need review
    assert {r["asset"] for r in digest["reclassified"]} >= {"h100-sxm", "h20"}
    report = json.loads(next((root / "reports").glob("diff-*-head-2027-03-15.json")).read_text())
    assert report["to"]["valid_date"] == "2027-03-15" and report["axes"] == ["knowledge"]
    assert len(report["rule_changes"]) >= 5
    # a second run replaces its own folder; a folder it did not create is refused
    assert run("demo", "--dir", str(root)).returncode == 0
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    p = run("demo", "--dir", str(other))
    assert p.returncode == 2 and "is not a regwatch demo folder" in p.stderr and (other / "notes.txt").exists()


@pytest.mark.parametrize("args", [
    ("classify", "--as-of", "2025-06-01"),
    ("compile", "--target", "casbin", "--as-of", "2025-06-01", "--out", "OUT"),
    ("diff", "2024-12-01", "2025-06-01"),
])
def test_an_attribute_of_the_wrong_type_is_an_input_error(run: Run, tmp_path: Path, args: tuple[str, ...]) -> None:
    """'training_operations: abc' would otherwise only make the conditions unknown ("needs review")."""
    inv = tmp_path / "inv.yaml"
    inv.write_text("models:\n  - {id: m1, training_operations: abc, published: false}\n", encoding="utf-8")
    out = tmp_path / "out"
    p = run(*[str(out) if a == "OUT" else a for a in args], "--assets", str(inv))
    assert p.returncode == 2
    assert p.stderr.strip() == (f"regwatch: {inv}: asset 'm1': attribute 'training_operations' must be a number, "
                                "got 'abc'")
    assert not out.exists()
