"""Smoke test of the benchmarks (bench/): they run and report every number. No timing assertions here:
performance is measured by ``bench/bench_rules.py`` as ratios against same-run baselines."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"

EXPECTED = {
    "default_parse_validate", "generated_parse_validate", "generated_parse", "generated_validate",
    "generated_format", "cli_cold_start", "cli_cold_start_vs_imports", "scaling_parse_validate_500",
}


def _gen_rules() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_gen_rules", BENCH / "gen_rules.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_generated_500_controls_validate_without_errors() -> None:
    from rulesdsl.ruleset import Ruleset

    text = _gen_rules().generate(500)
    rs = Ruleset.from_text(text, "generated.rules")
    diags = rs.check()  # raises DslError on any error
    assert not [d for d in diags if d.level == "error"]
    assert len(rs.controls) == 500
    assert len({(c.eccn, c.effective.start if c.effective else None) for c in rs.controls}) == 500
    assert len(rs.parameters) > 100 and len(rs.documents) >= 30
    assert any(c.statuses for c in rs.controls) and any(c.exclusions for c in rs.controls)
    assert all(len(c.licenses) >= 2 for c in rs.controls)


def test_bench_quick_json_reports_every_benchmark() -> None:
    p = subprocess.run([sys.executable, str(BENCH / "bench_rules.py"), "--quick", "--json"], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    data = json.loads(p.stdout)
    by_name = {b["name"]: b for b in data["benchmarks"]}
    assert not EXPECTED - set(by_name), EXPECTED - set(by_name)
    for b in data["benchmarks"]:
        for key in ("seconds", "baseline_seconds", "ratio", "min", "max", "baseline_min", "baseline_max"):
            assert isinstance(b[key], float) and b[key] > 0, (b["name"], key, b[key])
        assert b["repeats"] == 3
    assert by_name["generated_parse_validate"]["extra"]["per_control_us"] > 0
    assert data["meta"]["quick"] is True and data["meta"]["n_controls"] == 500
    rows = data["scaling"]["rows"]
    assert [r["n_controls"] for r in rows] == data["meta"]["sizes"] and len(rows) >= 3
    for r in rows:
        assert r["seconds"] > 0 and r["per_control_us"] > 0
    assert data["scaling"]["per_control_ratio"] > 0
    assert "per-control time" in p.stderr  # the table goes to stderr when the JSON goes to stdout


def test_crawl_bench_quick() -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    p = subprocess.run([sys.executable, str(root / "bench" / "bench_crawl.py"), "--count", "60", "--json", "-"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["documents"] == 60 and res["recrawl_document_bodies"] == 0 and res["recrawl_304"] == 61
    assert res["first_crawl_s"] > 0 and res["baseline_fetch_s"] > 0


def test_extract_bench_quick() -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    p = subprocess.run([sys.executable, str(root / "bench" / "bench_extract.py"), "--copies", "2", "--repeat", "2",
                        "--json", "-"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["instructions"] > 4 and res["eccn_changes"] > 0 and res["ratio"] > 0
    # a real file plus distinct copies of the fixture's regulatory text
    f = root / "fixtures" / "http" / "fr" / "documents" / "full_text" / "xml" / "2025" / "01" / "16" / "2025-00711.xml"
    plain = subprocess.run([sys.executable, str(root / "bench" / "bench_extract.py"), "--file", str(f), "--repeat", "2",
                            "--json", "-"], capture_output=True, text=True, timeout=300)
    more = subprocess.run([sys.executable, str(root / "bench" / "bench_extract.py"), "--file", str(f), "--add-ccl", "2",
                           "--repeat", "2", "--json", "-"], capture_output=True, text=True, timeout=300)
    assert plain.returncode == 0 and more.returncode == 0, plain.stderr + more.stderr
    a, b = json.loads(plain.stdout), json.loads(more.stdout)
    assert b["add_ccl"] == 2 and b["instructions"] > a["instructions"] and b["thresholds"] > a["thresholds"]
    assert b["xml_kb"] > a["xml_kb"]
    bad = subprocess.run([sys.executable, str(root / "bench" / "bench_extract.py"), "--add-ccl", "2"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "--add-ccl needs --file" in bad.stderr


def test_bench_compile_quick_reports_every_target() -> None:
    from targets import TARGETS

    p = subprocess.run([sys.executable, str(BENCH / "bench_compile.py"), "--quick", "--json"], capture_output=True,
                       text=True, timeout=600, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert [r["ruleset"] for r in data["rows"]] == ["default", "generated-50", "generated-200"]
    for row in data["rows"]:
        assert row["baseline_parse_validate_s"] > 0 and row["lower_one_date_s"] > 0
        for name in TARGETS:
            assert row[f"{name}_s"] > 0 and row[f"{name}_ratio"] > 0
    assert data["timeline_default"]["slices"] > 5 and set(data["per_control_scaling"]) >= set(TARGETS)
