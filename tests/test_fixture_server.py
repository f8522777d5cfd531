"""The loopback fixture server (crawler/fixture_server.py) and the recorded fixtures under fixtures/http.

Real HTTP on an ephemeral 127.0.0.1 port, through urllib / http.client.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.fixture_server import FixtureServer
from tests.conftest import ROOT

FIX = ROOT / "fixtures" / "http"
SEARCH = "/fr/api/v1/documents.json"
BIS_QUERY = "conditions[agencies][]=industry-and-security-bureau&order=oldest&per_page=1000"
XML_00636 = "/fr/documents/full_text/xml/2025/01/15/2025-00636.xml"
RESCISSION = (
    "/bis/press-release/"
    "department-commerce-announces-rescission-biden-era-artificial-intelligence-diffusion-rule-strengthens"
)
EXPECTED_DOCS = [
    "2023-23055", "2024-28270", "2025-00636", "2025-00637", "2025-00711", "2025-02655", "2025-19846", "2026-00789",
]  # fmt: skip


class Resp:
    def __init__(self, status: int, headers: Message, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 5.0, method: str = "GET") -> Resp:
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Resp(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        body = e.read()
        e.close()
        return Resp(e.code, e.headers, body)


@pytest.fixture
def srv() -> Iterator[FixtureServer]:
    with FixtureServer(FIX) as server:
        yield server


# ---------------------------------------------------------------------------------------------- routing


def test_fr_search_pages_and_base_substitution(srv: FixtureServer) -> None:
    r1 = get(srv.url(f"{SEARCH}?{BIS_QUERY}"))
    assert r1.status == 200
    assert r1.headers["Content-Type"] == "application/json; charset=utf-8"
    page1 = r1.json()
    assert page1["count"] == 8 and page1["total_pages"] == 2 and len(page1["results"]) == 5
    nxt = page1["next_page_url"]
    assert nxt.startswith(srv.base_url + SEARCH + "?") and "page=2" in nxt
    assert b"{{BASE}}" not in r1.body
    page2 = get(nxt).json()
    assert "next_page_url" not in page2 and page2["previous_page_url"].startswith(srv.base_url)
    numbers = [d["document_number"] for d in page1["results"] + page2["results"]]
    assert numbers == EXPECTED_DOCS
    for doc in page1["results"] + page2["results"]:
        assert doc["full_text_xml_url"].startswith(srv.base_url + "/fr/documents/full_text/xml/")
        xml = get(doc["full_text_xml_url"])
        assert xml.status == 200 and xml.headers["Content-Type"].startswith("text/xml")
        assert doc["document_number"].encode() in xml.body
    # explicit page=1 is the same document as the default
    assert get(srv.url(f"{SEARCH}?page=1")).headers["ETag"] == r1.headers["ETag"]
    assert [r.file for r in srv.requests[:2]] == [
        "fr/api/v1/documents.json/page-1.json",
        "fr/api/v1/documents.json/page-2.json",
    ]


def test_fr_single_documents_corrections_and_public_inspection(srv: FixtureServer) -> None:
    page2 = get(srv.url(f"{SEARCH}?page=2")).json()
    corr = next(d for d in page2["results"] if d["document_number"] == "2025-02655")
    assert corr["correction_of"] == srv.url("/fr/api/v1/documents/2025-00711.json")
    original = get(corr["correction_of"]).json()
    assert original["document_number"] == "2025-00711"
    assert original["corrections"] == [srv.url("/fr/api/v1/documents/2025-02655.json")]
    assert get(original["json_url"]).json()["citation"] == "90 FR 5298"  # json_url carries a query: ignored
    pi = get(srv.url("/fr/api/v1/public-inspection-documents/current.json")).json()
    assert [d["document_number"] for d in pi["results"]] == ["2025-00636", "2025-00637"]
    assert all(d["agencies"][1]["slug"] == "industry-and-security-bureau" for d in pi["results"])


def test_fr_search_empty_after_newest_and_bad_agency(srv: FixtureServer) -> None:
    empty = get(srv.url(f"{SEARCH}?{BIS_QUERY}&conditions[publication_date][gte]=2026-01-16"))
    assert empty.status == 200 and empty.json() == {
        "count": 0, "description": "Documents from Industry and Security Bureau", "total_pages": 0, "results": [],
    }  # fmt: skip
    same_day = get(srv.url(f"{SEARCH}?{BIS_QUERY}&conditions[publication_date][gte]=2026-01-15")).json()
    assert same_day["count"] == 8
    bad = get(srv.url(f"{SEARCH}?conditions[agencies][]=industry-and-security"))
    assert bad.status == 400 and bad.headers["Content-Type"].startswith("application/json")
    assert bad.json()["status"] == 400


def test_ecfr_routes(srv: FixtureServer) -> None:
    for part in ("734", "740", "742", "744", "774"):
        r = get(srv.url(f"/ecfr/api/versioner/v1/versions/title-15.json?part={part}"))
        assert r.status == 200
        versions = r.json()["content_versions"]
        assert versions and all(v["part"] == part for v in versions)
    assert get(srv.url("/ecfr/api/versioner/v1/versions/title-15.json")).status == 404  # part is required
    assert get(srv.url("/ecfr/api/versioner/v1/versions/title-15.json?part=999")).status == 404
    old = get(srv.url("/ecfr/api/versioner/v1/full/2024-12-02/title-15.xml?part=774"))
    new = get(srv.url("/ecfr/api/versioner/v1/full/2025-01-13/title-15.xml?part=774"))
    assert old.status == new.status == 200
    assert b"4E091" not in old.body and b"4E091" in new.body
    # any later date is served from the latest recorded version on or before it (as the real versioner)
    later = get(srv.url("/ecfr/api/versioner/v1/full/2025-02-11/title-15.xml?part=774"))
    assert later.body == new.body
    between = get(srv.url("/ecfr/api/versioner/v1/full/2025-01-12/title-15.xml?part=774"))
    assert between.body == old.body
    assert get(srv.url("/ecfr/api/versioner/v1/full/2020-01-01/title-15.xml?part=774")).status == 404


def test_bis_html_and_robots(srv: FixtureServer) -> None:
    listing = get(srv.url("/bis/news-updates"))
    assert listing.status == 200 and listing.headers["Content-Type"] == "text/html; charset=utf-8"
    assert get(srv.url("/bis/news-updates.html")).body == listing.body
    hrefs = re.findall(rb'<h3 class="node__title"><a href="([^"]+)"', listing.body)
    assert len(hrefs) == 2
    for href in hrefs:
        assert get(href.decode()).status == 200  # links point back at the server
    pr = get(srv.url(RESCISSION))
    assert b'<main id="main-content"' in pr.body and b"node--press-release" in pr.body
    assert b'datetime="2025-05-13"' in pr.body
    assert get(srv.url("/bis/advanced-compute-resources")).status == 200
    for prefix in ("", "/fr", "/ecfr", "/bis"):
        robots = get(srv.url(f"{prefix}/robots.txt"))
        assert robots.status == 200 and b"Allow: /" in robots.body


def test_404s(srv: FixtureServer) -> None:
    for path in ("/nothing/here", "/_meta.json", "/_alt/bis/news-updates.v2-chrome.html",
                 "/fr/api/v1/documents.json/_route.json", "/fr/%2e%2e/_meta.json", "/fr/../robots.txt",
                 f"{SEARCH}?page=..%2F..%2F_meta"):  # fmt: skip
        r = get(srv.url(path))
        assert r.status == 404, path
        assert r.headers["Content-Type"] == "text/html; charset=utf-8" and b"404" in r.body


def test_head_and_keep_alive(srv: FixtureServer) -> None:
    head = get(srv.url(XML_00636), method="HEAD")
    full = get(srv.url(XML_00636))
    assert head.status == 200 and head.body == b""
    assert head.headers["Content-Length"] == str(len(full.body)) and head.headers["ETag"] == full.headers["ETag"]
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        for _ in range(3):  # HTTP/1.1 persistent connection, as scrapy uses
            conn.request("GET", XML_00636)
            resp = conn.getresponse()
            assert resp.status == 200 and len(resp.read()) == len(full.body)
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------- caching


def test_etag_last_modified_stable_across_instances() -> None:
    # bodies without {{BASE}}: identical on any port
    paths = [
        XML_00636,
        "/ecfr/api/versioner/v1/full/2025-01-13/title-15.xml?part=774",
        "/ecfr/api/versioner/v1/versions/title-15.json?part=774",
    ]
    with FixtureServer(FIX) as a, FixtureServer(FIX) as b:
        assert a.port != b.port
        for path in paths:
            ra, rb = get(a.url(path)), get(b.url(path))
            assert ra.headers["ETag"] == rb.headers["ETag"], path
            assert ra.headers["Last-Modified"] == rb.headers["Last-Modified"], path
            assert re.fullmatch(r'"[0-9a-f]{20}"', ra.headers["ETag"])
        assert get(a.url(XML_00636)).headers["Last-Modified"] == "Wed, 15 Jan 2025 09:00:00 GMT"
        port = a.port
        first = [get(a.url(p)) for p in (SEARCH, "/bis/news-updates")]
    # bodies with {{BASE}} embed the port: same port, same ETag and Last-Modified
    with FixtureServer(FIX, port=port) as c:
        again = [get(c.url(p)) for p in (SEARCH, "/bis/news-updates")]
    for r1, r2 in zip(first, again, strict=True):
        assert r1.body == r2.body and r1.headers["ETag"] == r2.headers["ETag"]
        assert r1.headers["Last-Modified"] == r2.headers["Last-Modified"]


def test_conditional_requests(srv: FixtureServer) -> None:
    first = get(srv.url(XML_00636))
    etag, lm = first.headers["ETag"], first.headers["Last-Modified"]
    r = get(srv.url(XML_00636), {"If-None-Match": etag})
    assert r.status == 304 and r.body == b"" and r.headers["ETag"] == etag
    assert get(srv.url(XML_00636), {"If-None-Match": f'"nope", W/{etag}'}).status == 304
    assert get(srv.url(XML_00636), {"If-None-Match": '"other"'}).status == 200
    assert get(srv.url(XML_00636), {"If-Modified-Since": lm}).status == 304
    later = format_datetime(parsedate_to_datetime(lm).replace(year=2030), usegmt=True)
    earlier = format_datetime(parsedate_to_datetime(lm).replace(year=2020), usegmt=True)
    assert get(srv.url(XML_00636), {"If-Modified-Since": later}).status == 304
    assert get(srv.url(XML_00636), {"If-Modified-Since": earlier}).status == 200
    # If-None-Match wins over If-Modified-Since
    assert get(srv.url(XML_00636), {"If-None-Match": '"other"', "If-Modified-Since": later}).status == 200
    assert get(srv.url(XML_00636), {"If-Modified-Since": "garbage"}).status == 200
    statuses = [rec.status for rec in srv.requests]
    assert statuses == [200, 304, 304, 200, 304, 304, 200, 200, 200]
    assert srv.requests[1].bytes_sent == 0 and srv.requests[1].file == XML_00636.lstrip("/")


def test_replace_changes_etag_and_last_modified(srv: FixtureServer) -> None:
    before = get(srv.url("/bis/news-updates"))
    v3 = (FIX / "_alt/bis/news-updates.v3-new-item.html").read_bytes()
    srv.replace("/bis/news-updates", v3)
    after = get(srv.url("/bis/news-updates"), {"If-None-Match": before.headers["ETag"]})
    assert after.status == 200 and b"commerce-revises-license-review-policy" in after.body
    assert b"{{BASE}}" not in after.body
    assert after.headers["ETag"] != before.headers["ETag"]
    lm_before, lm_after = (parsedate_to_datetime(r.headers["Last-Modified"]) for r in (before, after))
    assert lm_after > lm_before
    assert get(srv.url("/bis/news-updates"), {"If-Modified-Since": before.headers["Last-Modified"]}).status == 200
    # routed documents can be replaced too (query picks the file)
    srv.replace(f"{SEARCH}?page=2", b'{"count": 0, "results": []}')
    assert get(srv.url(f"{SEARCH}?page=2&per_page=5")).json() == {"count": 0, "results": []}
    assert get(srv.url(SEARCH)).json()["count"] == 8
    # new documents, removal, restore
    srv.replace("/bis/press-release/brand-new", b"<html><body><main id='main-content'>x</main></body></html>")
    created = get(srv.url("/bis/press-release/brand-new"))
    assert created.status == 200 and created.headers["Content-Type"].startswith("text/html")
    srv.remove(XML_00636)
    assert get(srv.url(XML_00636)).status == 404
    srv.restore()
    assert get(srv.url(XML_00636)).status == 200
    assert get(srv.url("/bis/news-updates")).body == before.body
    assert get(srv.url("/bis/press-release/brand-new")).status == 404
    assert srv.fixture_key(f"{SEARCH}?page=2") == "fr/api/v1/documents.json/page-2.json"


def test_bis_listing_versions_differ_only_where_documented() -> None:
    def main_node(text: str) -> str:
        m = re.search(r'<main id="main-content".*?</main>', text, re.S)
        assert m
        return m.group(0)

    v1 = (FIX / "bis/news-updates.html").read_text(encoding="utf-8")
    v2 = (FIX / "_alt/bis/news-updates.v2-chrome.html").read_text(encoding="utf-8")
    v3 = (FIX / "_alt/bis/news-updates.v3-new-item.html").read_text(encoding="utf-8")
    assert v1 != v2 and main_node(v1) == main_node(v2)
    assert [a for a, b in zip(v1.splitlines(), v2.splitlines(), strict=True) if a != b] == [
        '    <p class="site-footer__updated">Last updated: <time datetime="2025-05-13">May 13, 2025</time></p>'
    ]
    assert main_node(v3) != main_node(v2) and v3.replace(main_node(v3), "") == v2.replace(main_node(v2), "")


# ---------------------------------------------------------------------------------------------- faults


def test_fault_status_retry_after_and_times(srv: FixtureServer) -> None:
    srv.set_fault(XML_00636, {"status": 503, "retry_after": "1", "times": 2})
    for _ in range(2):
        r = get(srv.url(XML_00636))
        assert r.status == 503 and r.headers["Retry-After"] == "1" and b"503" in r.body
    assert get(srv.url(XML_00636)).status == 200
    srv.set_fault(SEARCH, {"status": 429, "retry_after": "2"})
    for _ in range(3):  # forever until cleared; the query string is ignored
        r = get(srv.url(f"{SEARCH}?page=2"))
        assert r.status == 429 and r.headers["Retry-After"] == "2"
    srv.clear_faults()
    assert get(srv.url(SEARCH)).status == 200
    srv.set_fault("/fr/documents/*", {"status": 500, "times": 1})
    srv.set_fault("/fr/documents/full_text/xml/2025/*", {"status": 404, "times": 1})  # longest prefix wins
    assert get(srv.url(XML_00636)).status == 404
    assert get(srv.url("/fr/documents/full_text/xml/2023/10/25/2023-23055.xml")).status == 500
    assert get(srv.url(XML_00636)).status == 200
    logged = [(r.status, r.fault) for r in srv.requests]
    assert logged == [(503, True), (503, True), (200, False), (429, True), (429, True), (429, True), (200, False),
                      (404, True), (500, True), (200, False)]  # fmt: skip


def test_fault_delay_times_out_client(srv: FixtureServer) -> None:
    srv.set_fault(XML_00636, {"delay": 0.6, "times": 1})
    t0 = time.monotonic()
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        get(srv.url(XML_00636), timeout=0.2)
    assert time.monotonic() - t0 < 0.55
    srv.set_fault("/bis/news-updates", {"delay": 0.2})
    t0 = time.monotonic()
    assert get(srv.url("/bis/news-updates"), timeout=3).status == 200  # delay only: then served normally
    assert time.monotonic() - t0 >= 0.2


def test_fault_truncate_gives_incomplete_read(srv: FixtureServer) -> None:
    full_len = len((FIX / XML_00636.lstrip("/")).read_bytes())
    srv.set_fault(XML_00636, {"truncate": 100, "times": 1})
    with urllib.request.urlopen(srv.url(XML_00636), timeout=5) as r:
        assert r.headers["Content-Length"] == str(full_len)
        with pytest.raises(http.client.IncompleteRead) as info:
            r.read()
    assert len(info.value.partial) == 100
    assert srv.requests[-1].bytes_sent == 100 and srv.requests[-1].status == 200
    assert len(get(srv.url(XML_00636)).body) == full_len


def test_fault_body_and_content_type_override(srv: FixtureServer) -> None:
    page = b"<html><body><h1>Service temporarily unavailable</h1></body></html>"
    srv.set_fault(SEARCH, {"body": page, "content_type": "text/html; charset=utf-8", "times": 1})
    r = get(srv.url(SEARCH))
    assert r.status == 200 and r.body == page and r.headers["Content-Type"] == "text/html; charset=utf-8"
    with pytest.raises(json.JSONDecodeError):
        r.json()
    assert get(srv.url(SEARCH)).json()["count"] == 8
    srv.set_fault(SEARCH, {"status": 502, "body": b'{"error": "bad gateway"}', "content_type": "application/json"})
    r = get(srv.url(SEARCH))
    assert r.status == 502 and r.json() == {"error": "bad gateway"} and r.headers["Content-Type"] == "application/json"


def test_request_log(srv: FixtureServer) -> None:
    get(srv.url(f"{SEARCH}?{BIS_QUERY}"), {"User-Agent": "regwatch-test/1"})
    get(srv.url("/missing"))
    assert len(srv.requests) == 2
    first, second = srv.requests
    assert first.method == "GET" and first.path == SEARCH and first.query == BIS_QUERY
    assert first.param("conditions[agencies][]") == "industry-and-security-bureau"
    assert first.headers["User-Agent"] == "regwatch-test/1"
    assert first.status == 200 and first.bytes_sent > 1000 and first.file == "fr/api/v1/documents.json/page-1.json"
    assert second.status == 404 and second.file is None and second.path == "/missing"
    assert srv.requests_for(SEARCH) == [first]
    srv.reset_log()
    assert srv.requests == []


def test_cli_prints_base_url() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler.fixture_server", "--root", str(FIX), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", line), line
        assert get(line + "/robots.txt").status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=5)


# ---------------------------------------------------------------------------------------------- fixtures


def _search_results() -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for page in ("page-1.json", "page-2.json"):
        results += json.loads((FIX / "fr/api/v1/documents.json" / page).read_text(encoding="utf-8"))["results"]
    return results


def test_every_json_parses_and_every_xml_is_well_formed() -> None:
    jsons = [p for p in FIX.rglob("*.json") if p.is_file()]
    xmls = [p for p in FIX.rglob("*.xml") if p.is_file()]
    assert len(jsons) >= 20 and len(xmls) == 14  # 8 FR documents, part 774 at two dates, parts 734/740/742/744
    for p in jsons:
        json.loads(p.read_text(encoding="utf-8"))
    for p in xmls:
        ET.parse(p)
    for p in FIX.rglob("*.html"):
        text = p.read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>") and text.count('<main id="main-content"') == 1, p


def test_fr_xml_matches_file_name_and_search_result() -> None:
    frdoc_re = re.compile(r"\[FR Doc\. (\d{4}-\d{5}) Filed (\d{1,2})-(\d{1,2})-(\d{2}); \d{1,2}:\d{2} [ap]m\]")
    by_path = {urlsplit(r["full_text_xml_url"].replace("{{BASE}}", "http://x")).path.lstrip("/"): r
               for r in _search_results()}  # fmt: skip
    files = sorted((FIX / "fr/documents/full_text/xml").rglob("*.xml"))
    assert sorted(by_path) == [p.relative_to(FIX).as_posix() for p in files]
    for path in files:
        size = path.stat().st_size
        assert 2_000 <= size <= 20_000, (path, size)
        root = ET.parse(path).getroot()
        result = by_path[path.relative_to(FIX).as_posix()]
        assert root.tag == {"Rule": "RULE", "Notice": "NOTICE"}[result["type"]]
        frdoc = root.findtext("FRDOC") or ""
        m = frdoc_re.fullmatch(frdoc)
        assert m, frdoc
        assert m.group(1) == path.stem == result["document_number"]
        y, mo, d = path.parent.relative_to(FIX / "fr/documents/full_text/xml").parts
        assert result["publication_date"] == f"{y}-{mo}-{d}"
        assert (root.findtext("BILCOD") or "").strip() == "BILLING CODE 3510-33-P"
        pre = root.find("PREAMB")
        assert pre is not None
        assert pre.findtext("AGENCY") == "DEPARTMENT OF COMMERCE"
        assert pre.findtext("SUBAGY") == "Bureau of Industry and Security"
        assert pre.findtext("SUBJECT") == result["title"]
        assert pre.findtext("RIN") == f"RIN {result['regulation_id_numbers'][0]}"
        assert pre.findtext("DEPDOC") == f"[{result['docket_ids'][0]}]"
        act = pre.find("ACT")
        assert act is not None and " ".join("".join(act.itertext()).split()) == f"ACTION: {result['action']}"
        assert pre.find("DATES") is not None or pre.find("EFFDATE") is not None
        first_page = pre.find("PRTPAGE")
        assert first_page is not None and result["citation"].endswith(f"FR {first_page.get('P')}")
        assert root.find("SUPLINF/SIG") is not None
        if root.tag == "RULE":
            assert root.find(".//FTNT/P/SU") is not None  # <SU> as a footnote marker
            amdpars = [a.text or "" for a in root.iter("AMDPAR")]
            assert amdpars and all(re.match(r"\d+\. ", a) for a in amdpars)
            parts = {int(r.get("PART", "0")) for r in root.iter("REGTEXT")}
            assert parts <= {c["part"] for c in result["cfr_references"]}
            assert all(r.get("TITLE") == "15" for r in root.iter("REGTEXT"))
            cfr = pre.findtext("CFR") or ""
            assert [int(p) for p in re.findall(r"\d{3}", cfr)] == [c["part"] for c in result["cfr_references"]]
        else:
            assert root.find(".//REGTEXT") is None and result["cfr_references"] == []


def test_fr_fixture_traps_present() -> None:
    def text(num: str) -> str:
        return next((FIX / "fr/documents/full_text/xml").rglob(f"{num}.xml")).read_text(encoding="utf-8")

    ai = text("2025-00636")
    assert "effective January 13. 2025" in ai and "10<SU>26</SU> or more" in ai and "more than 10<SU>26</SU>" in ai
    assert "120 days from date of publication" in ai and "365 days from date of publication" in ai
    assert '<E T="03">Effective date:</E>' in ai and "Filed 1-13-25; 8:45 am" in ai
    assert "until January 1, 2026" in text("2023-23055") and "<EFFDATE>" in text("2023-23055")
    assert "Filed 2-11-25; 4:15 pm" in text("2025-02655")
    assert "extended to March 14, 2025" in text("2025-00711")
    results = {r["document_number"]: r for r in _search_results()}
    assert results["2025-00636"]["effective_on"] < results["2025-00636"]["publication_date"]
    assert results["2024-28270"]["effective_on"] == "2024-12-02"
    assert results["2025-02655"]["correction_of"].endswith("/2025-00711.json")
    assert results["2025-00711"]["corrections"] == ["{{BASE}}/fr/api/v1/documents/2025-02655.json"]
    route = json.loads((FIX / "fr/api/v1/documents.json/_route.json").read_text(encoding="utf-8"))
    assert route["empty"]["after"] == max(r["publication_date"] for r in results.values())
    pi = json.loads((FIX / "fr/api/v1/public-inspection-documents/current.json").read_text(encoding="utf-8"))
    assert {d["document_number"] for d in pi["results"]} <= set(results)


def test_ecfr_fixture_shapes() -> None:
    keys = {"date", "amendment_date", "issue_date", "identifier", "name", "part", "substantive", "removed", "type"}
    for path in sorted((FIX / "ecfr/api/versioner/v1/versions/title-15.json").glob("part-*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["meta"]["result_count"] == len(data["content_versions"])
        for v in data["content_versions"]:
            assert keys <= set(v) and v["part"] == path.stem.removeprefix("part-")
            assert v["date"] == v["amendment_date"]
    for date in ("2024-12-02", "2025-01-13"):
        root = ET.parse(FIX / f"ecfr/api/versioner/v1/full/{date}/title-15.xml/part-774.xml").getroot()
        assert root.tag == "DIV5" and root.get("N") == "774" and root.get("TYPE") == "PART"
        assert json.loads(root.get("hierarchy_metadata", ""))["path"].startswith(f"/on/{date}/")
        supp = root.find("DIV9")
        assert supp is not None and supp.get("TYPE") == "APPENDIX" and supp.get("N") == "Supplement No. 1 to Part 774"
        heads = ["".join(fp.itertext()) for fp in supp.iter("FP-2")]
        assert heads[0].startswith("3A090") and supp.find("TABLE/TR/TD") is not None
        assert (supp.findtext("CITA") or "").startswith("[61 FR 12937")
        assert any(h.startswith("4E091") for h in heads) == (date == "2025-01-13")


# ---------------------------------------------------------------------------------------------- large


def test_gen_large_tree_serves_1000_documents(tmp_path: Path) -> None:
    out = tmp_path / "large"
    proc = subprocess.run([sys.executable, str(FIX / "gen_large.py"), str(out)], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["documents"] == 1000 and summary["pages"] == 10 and summary["per_page"] == 100
    refused = subprocess.run([sys.executable, str(FIX / "gen_large.py"), str(FIX / "tmp-large")],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert refused.returncode == 2 and not (FIX / "tmp-large").exists()
    with FixtureServer(out) as srv:
        url: str | None = srv.url(f"{SEARCH}?{BIS_QUERY}")
        numbers: list[str] = []
        pages = 0
        while url:
            body = get(url).json()
            numbers += [r["document_number"] for r in body["results"]]
            url = body.get("next_page_url")
            pages += 1
        assert pages == 10 and len(numbers) == len(set(numbers)) == 1000
        last = body["results"][-1]
        xml = get(last["full_text_xml_url"])
        assert xml.status == 200
        assert ET.fromstring(xml.body).findtext("FRDOC", "").startswith(f"[FR Doc. {last['document_number']} ")
        newest = summary["newest_publication_date"]
        assert get(srv.url(f"{SEARCH}?conditions[publication_date][gte]={newest}")).json()["count"] == 1000
        assert get(srv.url(f"{SEARCH}?conditions[publication_date][gte]=2099-01-01")).json()["count"] == 0
        etag = get(last["full_text_xml_url"]).headers["ETag"]
        assert get(last["full_text_xml_url"], {"If-None-Match": etag}).status == 304
