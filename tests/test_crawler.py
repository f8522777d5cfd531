"""Full crawls: the installed ``regwatch crawl`` in a subprocess (one reactor per process) against a real
HTTP server on loopback serving recorded responses, with faults injected."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.fixture_server import FixtureServer

from .conftest import ROOT, Run, assert_no_traceback, regwatch_exe

HTTP = ROOT / "fixtures" / "http"
XML_636 = "/fr/documents/full_text/xml/2025/01/15/2025-00636.xml"
XML_711 = "/fr/documents/full_text/xml/2025/01/16/2025-00711.xml"
SEARCH = "/fr/api/v1/documents.json"


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer(HTTP) as srv:
        yield srv


@pytest.fixture
def ws(run: Run, tmp_path: Path) -> Path:
    w = tmp_path / "ws"
    p = run("init", str(w), "--approved-at", "2026-01-01T00:00:00+00:00")
    assert p.returncode == 0, p.stderr
    cfg = w / "regwatch.toml"
    text = cfg.read_text()
    assert 'contact = ""' in text  # the documented template
    cfg.write_text(text.replace('contact = ""', 'contact = "tests@example.invalid"\nretries = 2\n'
                                'backoff_base_seconds = 0.2\nbackoff_max_seconds = 2.0\ntimeout_seconds = 3')
                   + "\n[crawler.ecfr]\nparts = [774]\n")
    return w


def crawl(run: Run, ws: Path, srv: FixtureServer, *args: str) -> tuple[int, dict[str, Any], str]:
    base = srv.base_url
    p = run("crawl", "--json", "--fr-base-url", f"{base}/fr", "--ecfr-base-url", f"{base}/ecfr",
            "--bis-base-url", f"{base}/bis", *args, cwd=ws)
    assert_no_traceback(p)
    assert p.returncode in (0, 1), p.stderr
    return p.returncode, json.loads(p.stdout), p.stderr


def docs(run: Run, ws: Path, source: str | None = None) -> list[dict[str, Any]]:
    p = run("documents", "list", "--json", *(["--source", source] if source else []), cwd=ws)
    assert p.returncode == 0, p.stderr
    out: list[dict[str, Any]] = json.loads(p.stdout)
    return out


def reasons(report: dict[str, Any]) -> str:
    return " | ".join(f"{f['url']}: {f['reason']}" for f in report["failures"])


def test_first_crawl_then_nothing_new_downloads_no_document_body(run: Run, ws: Path, server: FixtureServer) -> None:
    code, rep, _ = crawl(run, ws, server, "--source", "fr", "--source", "ecfr")
    assert code == 0, reasons(rep)
    assert rep["sources"]["fr"]["new"] >= 8 and rep["sources"]["ecfr"]["new"] == 2
    stored = {d["id"] for d in docs(run, ws, "fr")}
    assert {"2025-00636", "2025-00711", "2025-02655", "2026-00789"} <= stored
    ua = {r.headers.get("User-Agent", "") for r in server.requests}
    assert all(u.startswith("regwatch/") and "tests@example.invalid" in u for u in ua), ua
    search = server.requests_for(SEARCH)
    q = search[0].params
    assert q["conditions[agencies][]"] == ["industry-and-security-bureau"] and q["order"] == ["oldest"]
    assert {"full_text_xml_url", "effective_on", "correction_of", "cfr_references"} <= set(q["fields[]"])

    server.reset_log()
    code, rep, _ = crawl(run, ws, server, "--source", "fr", "--source", "ecfr")
    assert code == 0, reasons(rep)
    t = rep["totals"]
    assert t["new"] == 0 and t["changed"] == 0 and t["unchanged"] >= 10
    stats = rep["stats"]
    assert "regwatch/document_bodies_downloaded" not in stats          # no document body downloaded again
    assert stats["downloader/response_status_count/304"] >= 10
    assert stats["httpcache/revalidate"] >= 10
    xml_requests = server.requests_for(XML_636)
    assert xml_requests and all(r.status == 304 for r in xml_requests)
    assert xml_requests[0].headers.get("If-None-Match")
    # the incremental cursor moved to the newest publication date seen
    assert server.requests_for(SEARCH)[0].params["conditions[publication_date][gte]"] == ["2026-01-15"]
    assert len(docs(run, ws, "fr")) == len(stored)


def test_changed_document_becomes_a_new_version(run: Run, ws: Path, server: FixtureServer) -> None:
    code, rep, _ = crawl(run, ws, server, "--source", "fr")
    assert code == 0, reasons(rep)
    original = (HTTP / XML_636.lstrip("/")).read_bytes()
    server.replace(XML_636, original.replace(b"</SUM>", b" Corrected.</SUM>", 1))
    code, rep, _ = crawl(run, ws, server, "--source", "fr", "--since", "2022-10-01")
    assert code == 0, reasons(rep)
    assert rep["sources"]["fr"]["changed"] == 1 and rep["sources"]["fr"]["new"] == 0
    p = run("documents", "show", "2025-00636", "--json", cwd=ws)
    rec = json.loads(p.stdout)
    assert rec["version"] == 2 and rec["versions"] == [1, 2]
    body = run("documents", "show", "2025-00636", "--version", "1", "--body", cwd=ws).stdout
    assert "Corrected." not in body and "2025-00636" in body
    body2 = subprocess.run([regwatch_exe(), "-w", str(ws), "documents", "show", "2025-00636", "--body"],
                           capture_output=True, check=True).stdout
    assert b"Corrected." in body2
    assert rec["sha256"] and rec["url"].endswith(XML_636) and rec["metadata"]["api"]["citation"] == "90 FR 4544"


@pytest.mark.parametrize(("fault", "expect"), [
    ({"status": 500}, "HTTP 500 after retries"),
    ({"body": b"<html><body>Service unavailable</body></html>", "content_type": "text/html"},
     "expected XML, got content type 'text/html'"),
    ({"body": b"<RULE><PREAMB>unclosed", "content_type": "application/xml"}, "invalid XML"),
    ({"body": b"", "content_type": "application/xml"}, "empty body"),
    ({"body": b"<html/>", "content_type": "application/xml"}, "unexpected XML root <html>"),
    ({"truncate": 100}, "truncated"),
    ({"delay": 4}, "timed out"),
])
def test_document_faults_are_failures_and_store_nothing(run: Run, ws: Path, server: FixtureServer,
                                                        fault: dict[str, Any], expect: str) -> None:
    server.set_fault(XML_711, fault)  # type: ignore[arg-type]
    code, rep, _ = crawl(run, ws, server, "--source", "fr")
    assert code == 1
    [f] = rep["failures"]
    assert f["url"].endswith(XML_711) and expect in f["reason"], f
    stored = {d["id"] for d in docs(run, ws, "fr")}
    assert "2025-00711" not in stored and "2025-00636" in stored   # the rest of the run went on
    # the next run (fault gone) fetches the failed document: the cursor did not skip it
    server.clear_faults()
    code, rep, _ = crawl(run, ws, server, "--source", "fr")
    assert code == 0, reasons(rep)
    assert "2025-00711" in {d["id"] for d in docs(run, ws, "fr")}


@pytest.mark.parametrize(("fault", "expect"), [
    ({"body": b"<!DOCTYPE html><html><body>Error</body></html>", "content_type": "text/html"},
     "expected JSON, got an HTML page"),
    ({"truncate": 50}, "truncated"),
    ({"body": b'{"count": 3, "results": [', "content_type": "application/json"}, "invalid or truncated JSON"),
    ({"body": b'{"hello": 1}', "content_type": "application/json"}, "not a Federal Register search envelope"),
])
def test_search_faults(run: Run, ws: Path, server: FixtureServer, fault: dict[str, Any], expect: str) -> None:
    server.set_fault(SEARCH, fault)  # type: ignore[arg-type]
    code, rep, _ = crawl(run, ws, server, "--source", "fr")
    assert code == 1
    assert expect in reasons(rep)
    assert "assertion failed: the search returned a valid envelope" in reasons(rep)
    assert not [d for d in docs(run, ws, "fr") if not d["id"].startswith("public-inspection/")]


def test_429_with_retry_after_is_retried(run: Run, ws: Path, server: FixtureServer) -> None:
    server.set_fault(XML_711, {"status": 429, "retry_after": "1", "times": 2})
    t0 = time.monotonic()
    code, rep, _ = crawl(run, ws, server, "--source", "fr")
    assert code == 0, reasons(rep)
    hits = server.requests_for(XML_711)
    assert [r.status for r in hits] == [429, 429, 200]
    assert time.monotonic() - t0 >= 2  # two waits of Retry-After: 1 s (the backoff alone would be 0.2 + 0.4 s)


def test_oversized_body_is_a_failure(run: Run, ws: Path, server: FixtureServer) -> None:
    cfg = ws / "regwatch.toml"
    cfg.write_text(cfg.read_text().replace("retries = 2", "retries = 2\nmax_body_mb = 0.005"))
    code, rep, _ = crawl(run, ws, server, "--source", "fr")
    assert code == 1
    assert "larger than the configured maximum" in reasons(rep)


def test_robots_txt_is_obeyed(run: Run, ws: Path, server: FixtureServer) -> None:
    server.set_fault("/robots.txt", {"status": 200, "body": b"User-agent: *\nDisallow: /fr/documents/\n",
                                     "content_type": "text/plain"})
    code, rep, _ = crawl(run, ws, server, "--source", "fr")
    assert code == 1
    assert "robots.txt" in reasons(rep)
    assert not server.requests_for(XML_636)


def test_bad_configuration_exits_2(run: Run, ws: Path) -> None:
    p = run("crawl", "--fr-base-url", "ftp://example.invalid", cwd=ws)
    assert p.returncode == 2 and "not an http(s) URL" in p.stderr
    cfg = ws / "regwatch.toml"
    cfg.write_text(cfg.read_text() + "\n[crawler.bis]\npagez = []\n")
    p = run("crawl", cwd=ws)
    assert p.returncode == 2 and "unknown setting 'crawler.bis.pagez'" in p.stderr
    assert_no_traceback(p)


def test_kill_9_mid_crawl_then_resume(ws: Path, server: FixtureServer) -> None:
    # slow every XML document down so the crawl can be killed half way
    server.set_fault("/fr/documents/full_text/xml/*", {"delay": 0.6})
    base = server.base_url
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    cmd = [regwatch_exe(), "-w", str(ws), "crawl", "--source", "fr", "--fr-base-url", f"{base}/fr", "--quiet"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = ws / "documents.db"
    deadline = time.monotonic() + 30
    stored = 0
    while time.monotonic() < deadline:
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=5) as con:
                    stored = con.execute("select count(*) from documents where source='fr'").fetchone()[0]
            except sqlite3.Error:
                stored = 0
            if stored >= 2:
                break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert stored >= 2
    with sqlite3.connect(db) as con:
        before = con.execute("select count(*) from documents").fetchone()[0]
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert before < 10  # killed before the end
    server.clear_faults()
    p = subprocess.run([*cmd[:-1], "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    with sqlite3.connect(db) as con:
        rows = con.execute("select doc_id, count(*) from documents where source='fr' group by doc_id").fetchall()
        for doc_id, n in rows:
            assert n == 1, f"{doc_id} stored {n} times"
        for (sha,) in con.execute("select sha256 from documents"):
            assert (ws / "documents" / "blobs" / sha[:2] / sha).is_file()
    assert len(rows) >= 8


def test_documents_commands_without_data(run: Run, ws: Path) -> None:
    p = run("documents", "list", cwd=ws)
    assert p.returncode == 2 and "no documents yet" in p.stderr
    p = run("crawl", "--source", "fr")  # outside any workspace
    assert p.returncode == 2 and "no workspace" in p.stderr


# --- BIS pages: change detection on the content node ----------------------------------------------------

LISTING = "/bis/news-updates"
ALT = HTTP / "_alt" / "bis"


def test_bis_pages_hash_the_content_node(run: Run, ws: Path, server: FixtureServer) -> None:
    code, rep, _ = crawl(run, ws, server, "--source", "bis")
    assert code == 0, reasons(rep)
    stored = {d["id"]: d for d in docs(run, ws, "bis")}
    assert "/bis/news-updates" in stored and "/bis/advanced-compute-resources" in stored
    releases = [k for k in stored if k.startswith("/bis/press-release/")]
    assert len(releases) >= 2                      # followed from the listing's content node only
    assert "/bis/privacy-policy" not in stored     # chrome links are not followed
    listing = stored["/bis/news-updates"]
    assert listing["metadata"]["selector"] and "Diffusion" in listing["metadata"]["text"]

    # a new footer date / banner only: the page is unchanged
    server.replace(LISTING, (ALT / "news-updates.v2-chrome.html").read_bytes())
    code, rep, _ = crawl(run, ws, server, "--source", "bis")
    assert code == 0, reasons(rep)
    assert rep["sources"]["bis"]["changed"] == 0 and rep["sources"]["bis"]["new"] == 0
    assert server.requests_for(LISTING)[-1].status == 200  # it was downloaded (new ETag) but is not a change

    # a new item in the listing: changed, and the new press release is fetched
    server.replace(LISTING, (ALT / "news-updates.v3-new-item.html").read_bytes())
    code, rep, _ = crawl(run, ws, server, "--source", "bis")
    assert code == 0, reasons(rep)
    assert rep["sources"]["bis"]["changed"] == 1
    after = {d["id"]: d for d in docs(run, ws, "bis")}
    assert after["/bis/news-updates"]["version"] == 2
    assert len([k for k in after if k.startswith("/bis/press-release/")]) >= len(releases)


# --- all sources with the default configuration, eCFR versions, progress, the pipeline ------------------

VERSIONS_774 = "/ecfr/api/versioner/v1/versions/title-15.json?part=774"


def _default_ws(run: Run, tmp_path: Path, srv: FixtureServer) -> Path:
    w = tmp_path / "dws"
    assert run("init", str(w)).returncode == 0
    cfg = w / "regwatch.toml"
    base = srv.base_url
    cfg.write_text(cfg.read_text() + f'\n[crawler.fr]\nbase_url = "{base}/fr"\n[crawler.ecfr]\nbase_url = '
                   f'"{base}/ecfr"\n[crawler.bis]\nbase_url = "{base}/bis"\n')
    return w


def test_all_sources_with_default_settings(run: Run, tmp_path: Path, server: FixtureServer) -> None:
    w = _default_ws(run, tmp_path, server)
    p = run("crawl", "--json", cwd=w)
    rep = json.loads(p.stdout)
    assert p.returncode == 0, reasons(rep)
    s = rep["sources"]
    assert s["fr"]["new"] >= 10 and s["ecfr"]["new"] == 10 and s["bis"]["new"] >= 4
    ids = {(d["source"], d["id"]) for d in docs(run, w)}
    assert ("fr", "public-inspection/2025-00636") in ids            # early warning
    assert ("ecfr", "title-15/part-774/versions") in ids and ("ecfr", "title-15/part-774@2025-02-11") in ids
    assert rep["stats"]["regwatch/document_bodies_downloaded"] == len(ids)
    # the text summary and progress lines
    server.reset_log()
    p = run("crawl", "--progress", cwd=w)
    assert p.returncode == 0 and "0 new, 0 changed" in p.stdout
    assert "fr    0 new" in p.stdout and "FAILED" not in p.stdout


def test_new_ecfr_versions_are_reported(run: Run, ws: Path, server: FixtureServer) -> None:
    code, rep, _ = crawl(run, ws, server, "--source", "ecfr")
    assert code == 0, reasons(rep)
    data = json.loads((HTTP / "ecfr/api/versioner/v1/versions/title-15.json/part-774.json").read_text())
    extra = dict(data["content_versions"][-1], date="2026-04-07", amendment_date="2026-04-07",
                 issue_date="2026-04-09")
    data["content_versions"].append(extra)
    server.replace(VERSIONS_774, json.dumps(data).encode(), content_type="application/json")
    code, rep, _ = crawl(run, ws, server, "--source", "ecfr")
    assert code == 0, reasons(rep)
    assert rep["sources"]["ecfr"]["notes"]["ecfr_new_versions"] == {"774": ["2026-04-07"]}
    assert "new eCFR versions: part 774: 2026-04-07" in rep["sources"]["ecfr"]["notes_text"]
    # the part as of the new version is fetched (the server answers with the nearest earlier recording)
    assert any(r.path.endswith("/full/2026-04-07/title-15.xml") for r in server.requests)


def test_weekly_pipeline_runs_the_crawl(run: Run, tmp_path: Path, server: FixtureServer) -> None:
    w = _default_ws(run, tmp_path, server)
    p = run("run", "--json", cwd=w)
    assert p.returncode == 0, p.stdout + p.stderr
    assert len(docs(run, w, "fr")) >= 10
    # crawl -> extract: every stored FR XML document has its extraction, written once
    out = sorted((w / "extractions").glob("*.json"))
    assert {f.name.split(".v")[0] for f in out} >= {"2025-00636", "2025-02655", "2026-00789"}
    r = json.loads((w / "extractions" / "2025-00636.v1.json").read_text())
    assert r["document"]["publication_date"] == "2025-01-15" and r["eccn_changes"]
    p = run("run", "--json", cwd=w)
    assert p.returncode == 0 and "already extracted" in p.stdout
