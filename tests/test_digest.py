"""The weekly digest (regwatch/digest.py) and its webhook delivery (regwatch/notify.py), against real workspaces
(SQLite files) and a real loopback HTTP server."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from regwatch.digest import build, to_html, to_markdown, upcoming_dates, write
from regwatch.notify import post_json
from regwatch.review import propose_from
from regwatch.workspace import Workspace
from rulesdsl.ruleset import Ruleset
from tests.conftest import ROOT, Run, assert_no_traceback

AT = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
HOSTILE = 'Evil | title `code` <script>alert(1)</script>\n# heading [link](http://x) *bold*'


@pytest.fixture
def ws(run: Run, tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    assert run("init", str(root), "--approved-at", "2026-01-01T00:00:00Z").returncode == 0
    return Workspace.open(root)


def extraction(title: str) -> dict[str, Any]:
    return {"document": {"document_number": "2027-01000", "citation": "92 FR 1000", "publication_date": "2027-01-05",
                         "type": "Rule", "action": "Final rule.", "title": title, "rin": [], "agency_docket": None,
                         "cfr_parts": [774], "corrects": None},
            "dates": [{"kind": "effective", "date": "2027-01-03", "scope": "whole rule"}],
            "eccn_changes": [], "thresholds": [], "license_exceptions": []}


def test_digest_sections_and_span(ws: Workspace) -> None:
    propose_from(ws, [("x.json", extraction(HOSTILE))], at=AT)
    d = build(ws, at=AT, today=dt.date(2026, 12, 1))
    j = d.to_json()
    assert j["summary"] == {"new_documents": 0, "pending": 1, "approved": 1, "reclassified": 0,
                            "upcoming": len(d.upcoming)}
    assert j["pending_proposals"][0]["document"] == "2027-01000"
    assert j["approved_changes"][0]["approver"] == "regwatch init"
    # upcoming: the 2027-01-01 transistor-count change of Note 1 to 3A090.a is 31 days ahead
    assert any(u["date"] == "2027-01-01" and "note1_transistors" in u["what"] for u in d.upcoming)
    assert all("2026-12-01" <= u["date"] <= "2027-03-31" for u in d.upcoming)
    files = write(ws, d)
    assert sorted(files) == ["html", "json", "md"] and files["md"].name == "digest-2026-12-01.md"
    assert json.loads(files["json"].read_text())["summary"]["pending"] == 1
    # the next digest covers only what happened since
    later = build(ws, at=AT + dt.timedelta(days=7), today=dt.date(2026, 12, 8))
    assert later.since == AT and later.approved_changes == [] and len(later.pending_proposals) == 1


def test_hostile_titles_cannot_break_markdown_or_html(ws: Workspace) -> None:
    propose_from(ws, [("x.json", extraction(HOSTILE))], at=AT)
    d = build(ws, at=AT, today=dt.date(2026, 12, 1))
    md = to_markdown(d)
    line = next(x for x in md.splitlines() if x.startswith("- #1 "))
    assert "<script>" not in md and "\\<script\\>" in line and "\\|" in line and "\\`code\\`" in line
    assert "\n# heading" not in md  # the newline in the title does not start a heading
    page = to_html(d)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_upcoming_dates_include_returns_from_suspension() -> None:
    rs = Ruleset.default()
    ups = upcoming_dates(rs, dt.date(2026, 10, 1), horizon_days=60)
    # the Affiliates rule suspension (2025-11-10 through 2026-11-09) ends: the rule applies again on 2026-11-10
    assert any(u["date"] == "2026-11-10" and u["kind"] == "suspended_ends" and u["document"] == "2025-19001"
               for u in ups), ups


# ---------------------------------------------------------------------------------------------------------
# webhook


class Hook:
    def __init__(self, script: list[tuple[int, dict[str, str]]]) -> None:
        self.script = list(script)
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []


@pytest.fixture
def hook() -> Iterator[tuple[Hook, str, ThreadingHTTPServer]]:
    state = Hook([])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            n = int(self.headers.get("Content-Length", "0"))
            state.bodies.append(self.rfile.read(n))
            state.headers.append(dict(self.headers))
            code, extra = state.script.pop(0) if state.script else (200, {})
            self.send_response(code)
            for k, v in extra.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield state, f"http://127.0.0.1:{srv.server_address[1]}/hooks/T0KEN-secret", srv
    srv.shutdown()
    srv.server_close()


def test_webhook_retries_then_delivers(hook: tuple[Hook, str, ThreadingHTTPServer]) -> None:
    state, url, _srv = hook
    state.script = [(500, {}), (429, {"Retry-After": "7"}), (200, {})]
    waits: list[float] = []
    d = post_json(url, {"a": 1, "t": "é"}, retries=3, sleep=waits.append)
    assert d.ok and d.attempts == 3 and d.status == 200
    assert waits == [1.0, 7.0]  # backoff, then the server's Retry-After
    assert [json.loads(b) for b in state.bodies] == [{"a": 1, "t": "é"}] * 3
    assert state.headers[0]["Content-Type"].startswith("application/json")


def test_webhook_client_errors_fail_at_once_and_never_show_the_token(
        hook: tuple[Hook, str, ThreadingHTTPServer]) -> None:
    state, url, _srv = hook
    state.script = [(404, {})]
    d = post_json(url, {}, retries=3, sleep=lambda s: None)
    assert not d.ok and d.attempts == 1 and d.status == 404 and "T0KEN" not in d.message


def test_webhook_unreachable_gives_up(hook: tuple[Hook, str, ThreadingHTTPServer]) -> None:
    _state, _url, srv = hook
    port = srv.server_address[1]
    srv.shutdown()
    srv.server_close()
    d = post_json(f"http://127.0.0.1:{port}/x?token=SECRET", {}, retries=2, timeout=2, sleep=lambda s: None)
    assert not d.ok and d.attempts == 3 and "gave up after 3 attempts" in d.message and "SECRET" not in d.message
    assert not post_json("file:///etc/passwd", {}).ok


def test_pipeline_posts_the_digest(run: Run, ws: Workspace, hook: tuple[Hook, str, ThreadingHTTPServer]) -> None:
    state, url, _srv = hook
    cfg = ws.config_path
    cfg.write_text(cfg.read_text().replace('webhook_url = ""', f'webhook_url = "{url}"')
                   .replace("webhook_retries = 3", "webhook_retries = 1"), encoding="utf-8")
    env = {"PYTHONPATH": str(ROOT), "REGWATCH_TEST_JOBS": "tests.test_scheduler:register_test_jobs"}
    p = run("run", "--json", "--quiet", cwd=ws.root, env=env)
    assert p.returncode == 0, p.stderr
    step = next(s for s in json.loads(p.stdout)["steps"] if s["step"] == "report")
    assert step["details"]["webhook"]["ok"] is True and len(state.bodies) == 1
    body = json.loads(state.bodies[0])
    assert body["schema"] == "regwatch-digest/1" and body["today"] == "2026-11-26"
    # a failing webhook fails the step (the digest is still written) and says why without the token
    state.script = [(503, {}), (503, {})]
    p = run("run", "--json", "--quiet", cwd=ws.root, env=env)
    assert p.returncode == 1
    assert_no_traceback(p)
    step = next(s for s in json.loads(p.stdout)["steps"] if s["step"] == "report")
    assert step["status"] == "failed" and "gave up after 2 attempts (HTTP 503)" in step["summary"]
    assert "T0KEN" not in p.stdout and (ws.root / "outbox" / "digest-2026-11-26.json").is_file()
