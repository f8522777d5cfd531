"""Crawl benchmark: 1,000 synthetic BIS documents from the loopback fixture server.

Measured in one run, against baselines from the same run (the machines are noisy):

* ``first crawl``: ``regwatch crawl --source fr`` of N documents (search pages + one XML each), end to end
  through the installed console script, against ``baseline_fetch``: the same URLs fetched sequentially
  with a bare ``http.client`` keep-alive connection (no parsing, no storing);
* ``no-change re-crawl``: the same command again: every request revalidated (304), no body downloaded;
  reported against the first crawl and against the baseline;
* documents per second, requests per document, bodies downloaded on the re-crawl.

Usage: ``python bench/bench_crawl.py [--count 1000] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.fixture_server import FixtureServer  # noqa: E402


def regwatch() -> str:
    cand = Path(sys.executable).parent / "regwatch"
    return str(cand) if cand.exists() else "regwatch"


def baseline_fetch(srv: FixtureServer, count_hint: int) -> tuple[float, int, int]:
    """Fetch every search page and every XML document sequentially with bare ``urllib`` (one connection per
    request: the stdlib server's keep-alive replies stall on delayed ACKs, which would flatter the crawler)."""
    t0 = time.perf_counter()
    requests = docs = 0
    url: str | None = (srv.base_url + "/fr/api/v1/documents.json?conditions%5Bagencies%5D%5B%5D="
                       "industry-and-security-bureau&order=oldest&per_page=100&page=1")
    while url:
        with urllib.request.urlopen(url, timeout=30) as resp:
            data = json.loads(resp.read())
        requests += 1
        for r in data.get("results", []):
            with urllib.request.urlopen(r["full_text_xml_url"], timeout=30) as resp:
                resp.read()
            requests += 1
            docs += 1
        url = data.get("next_page_url")
    return time.perf_counter() - t0, requests, docs


def crawl(ws: Path, srv: FixtureServer) -> tuple[float, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    t0 = time.perf_counter()
    p = subprocess.run([regwatch(), "-w", str(ws), "crawl", "--source", "fr", "--fr-base-url",
                        f"{srv.base_url}/fr", "--json", "--quiet", "--since", "2000-01-01"],
                       capture_output=True, text=True, env=env, timeout=1800)
    elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"crawl failed ({p.returncode}): {p.stderr[-2000:]}")
    return elapsed, json.loads(p.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="regwatch crawl benchmark")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--json", dest="json_out", default=None, help="write results as JSON to this path ('-' = stdout)")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="regwatch-bench-crawl-"))
    try:
        fixtures = tmp / "http"
        subprocess.run([sys.executable, str(ROOT / "fixtures" / "http" / "gen_large.py"), str(fixtures),
                        "--count", str(args.count), "--per-page", "100"], check=True, capture_output=True)
        ws = tmp / "ws"
        subprocess.run([regwatch(), "init", str(ws)], check=True, capture_output=True)
        cfg = ws / "regwatch.toml"
        cfg.write_text(cfg.read_text() + "\n[crawler.fr]\nper_page = 100\npublic_inspection = false\n")
        with FixtureServer(fixtures) as srv:
            base_t, base_req, base_docs = baseline_fetch(srv, args.count)
            srv.reset_log()
            first_t, first = crawl(ws, srv)
            first_requests = len(srv.requests)
            srv.reset_log()
            again_t, again = crawl(ws, srv)
            again_requests = len(srv.requests)
            not_modified = sum(1 for r in srv.requests if r.status == 304)
            base2_t, _, _ = baseline_fetch(srv, args.count)
        n = first["totals"]["new"]
        res = {
            "documents": n,
            "baseline_fetch_s": round(base_t, 3), "baseline_fetch_again_s": round(base2_t, 3),
            "baseline_requests": base_req, "baseline_documents": base_docs,
            "first_crawl_s": round(first_t, 3), "first_crawl_docs_per_s": round(n / first_t, 1),
            "first_crawl_requests_per_doc": round(first_requests / max(n, 1), 3),
            "first_crawl_vs_baseline": round(first_t / base_t, 2),
            "recrawl_s": round(again_t, 3), "recrawl_requests_per_doc": round(again_requests / max(n, 1), 3),
            "recrawl_304": not_modified,
            "recrawl_document_bodies": int(again["stats"].get("regwatch/document_bodies_downloaded", 0)),
            "recrawl_vs_first": round(again_t / first_t, 2),
            "recrawl_vs_baseline": round(again_t / ((base_t + base2_t) / 2), 2),
            "recrawl_unchanged": again["totals"]["unchanged"],
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows = [
        ("baseline: bare sequential fetch", res["baseline_fetch_s"], f"{base_req} requests"),
        ("first crawl", res["first_crawl_s"], f"{res['first_crawl_docs_per_s']} docs/s, "
         f"{res['first_crawl_requests_per_doc']} requests/doc, {res['first_crawl_vs_baseline']}x baseline"),
        ("no-change re-crawl", res["recrawl_s"],
         f"{res['recrawl_304']} x 304, {res['recrawl_document_bodies']} bodies, "
         f"{res['recrawl_vs_first']}x first crawl, {res['recrawl_vs_baseline']}x baseline"),
    ]
    print(f"crawl benchmark: {n} documents, loopback fixture server, {os.cpu_count()} CPUs", file=sys.stderr)
    for name, secs, note in rows:
        print(f"  {name:<34} {secs:>8.3f} s  {note}", file=sys.stderr)
    if args.json_out:
        text = json.dumps(res, indent=2)
        if args.json_out == "-":
            print(text)
        else:
            Path(args.json_out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
