"""Run a crawl: build the contexts, run scrapy once in this process, summarise, update cursors.

Scrapy's reactor runs once per process, so a long-running caller (the scheduler) uses
:func:`run_crawl`, which runs the crawl in a child process and reads its JSON summary.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import CrawlConfig, is_loopback
from .context import Context
from .docstore import DocumentStore
from .sources import SOURCES


@dataclass
class RunSummary:
    run_id: str
    status: str  # "ok" | "failed"
    sources: dict[str, dict[str, Any]]
    failures: list[dict[str, str]]
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 0 if self.status == "ok" else 1

    def totals(self) -> dict[str, int]:
        keys = ("new", "changed", "unchanged", "failed")
        return {k: sum(int(s.get(k, 0)) for s in self.sources.values()) for k in keys}

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "status": self.status, "totals": self.totals(), "sources": self.sources,
                "failures": self.failures, "stats": self.stats}

    def text(self) -> str:
        t = self.totals()
        lines = [f"crawl {self.run_id}: {t['new']} new, {t['changed']} changed, {t['unchanged']} unchanged, "
                 f"{t['failed']} failed"]
        for name, s in self.sources.items():
            lines.append(f"  {name:<5} {s['new']} new, {s['changed']} changed, {s['unchanged']} unchanged, "
                         f"{s['failed']} failed" + (f"; {s['notes_text']}" if s.get("notes_text") else ""))
        for f in self.failures:
            lines.append(f"  FAILED {f['url']}: {f['reason']}")
        return "\n".join(lines)


def scrapy_settings(config: CrawlConfig, sources: Sequence[str]) -> dict[str, Any]:
    remote = any(not is_loopback(config.base_urls[s]) for s in sources)
    return {
        "USER_AGENT": config.user_agent(),
        "ROBOTSTXT_OBEY": config.obey_robots,
        "DOWNLOAD_TIMEOUT": config.timeout_seconds,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": config.retries,
        "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 522, 524, 408],
        "REGWATCH_BACKOFF_BASE": config.backoff_base_seconds,
        "REGWATCH_BACKOFF_MAX": config.backoff_max_seconds,
        "DOWNLOAD_MAXSIZE": int(config.max_body_mb * 1024 * 1024),
        "DOWNLOAD_WARNSIZE": 0,
        "DOWNLOAD_FAIL_ON_DATALOSS": True,
        "CONCURRENT_REQUESTS": config.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": config.concurrency,
        "AUTOTHROTTLE_ENABLED": bool(config.autothrottle and remote),
        "AUTOTHROTTLE_START_DELAY": 1.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "LOG_LEVEL": "ERROR",
        "LOG_ENABLED": True,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.engine.BackoffRetryMiddleware": 550,
            "crawler.engine.RevalidateMiddleware": 580,  # below DownloaderStats (850): stats see the real 304
        },
        "ITEM_PIPELINES": {"crawler.engine.StorePipeline": 300},
    }


def crawl(config: CrawlConfig, sources: Sequence[str], since: dt.date | None = None,
          progress: Callable[[str], None] | None = None) -> RunSummary:
    """Run one crawl of ``sources`` in this process (once per process: scrapy's reactor cannot restart)."""
    from scrapy.crawler import CrawlerProcess

    from .engine import RegwatchSpider

    store = DocumentStore(config.db_path)
    try:
        run_id = store.start_run(sources)
        contexts = {name: Context(name, config.base_urls[name], config.options[name], since, store, run_id)
                    for name in sources}
        logging.getLogger("scrapy").propagate = True
        settings = scrapy_settings(config, sources)
        settings["LOG_INSTALL_ROOT_HANDLER"] = False
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(RegwatchSpider)
        process.crawl(crawler, contexts=contexts, starts={n: SOURCES[n].start for n in sources}, progress=progress)
        process.start()
        stats = {k: (v.isoformat() if isinstance(v, dt.datetime) else v)
                 for k, v in (crawler.stats.get_stats() if crawler.stats else {}).items()}
        failures = store.failures(run_id)
        per_source: dict[str, dict[str, Any]] = {}
        for name, ctx in contexts.items():
            s: dict[str, Any] = {k: int(stats.get(f"regwatch/{name}/{k}", 0)) for k in ("new", "changed", "unchanged")}
            s["failed"] = ctx.failed
            s["notes"] = ctx.notes
            failed_assertions = [desc for desc, check in SOURCES[name].assertions if not check(s)]
            for desc in failed_assertions:
                store.record_failure(run_id, name, config.base_urls[name], f"assertion failed: {desc}")
                s["failed"] += 1
            s["assertions_failed"] = failed_assertions
            new_versions = ctx.notes.get("ecfr_new_versions")
            if new_versions:
                s["notes_text"] = "new eCFR versions: " + "; ".join(f"part {p}: {', '.join(d)}"
                                                                    for p, d in sorted(new_versions.items()))
            if ctx.failed == 0 and not failed_assertions and ctx.cursor_candidates:
                store.set_cursor(name, max(ctx.cursor_candidates))
            per_source[name] = s
        failures = store.failures(run_id)
        status = "ok" if not failures else "failed"
        summary = RunSummary(run_id, status, per_source, failures, stats)
        store.finish_run(run_id, status, summary.to_json())
        return summary
    finally:
        store.close()


def run_crawl(workspace: Path, sources: Sequence[str] = ("fr", "ecfr", "bis"), since: dt.date | None = None,
              timeout: float = 3600.0) -> RunSummary:
    """Run ``regwatch crawl`` in a child process (for long-running callers such as the scheduler)."""
    cmd = [sys.executable, "-m", "regwatch.cli", "--workspace", str(workspace), "crawl", "--json", "--quiet"]
    for s in sources:
        cmd += ["--source", s]
    if since:
        cmd += ["--since", since.isoformat()]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                       start_new_session=True)  # a Ctrl-C to the scheduler must not kill a running crawl
    if p.returncode == 2 or not p.stdout.strip():
        raise RuntimeError((p.stderr.strip().splitlines() or ["crawl failed"])[-1])
    data = json.loads(p.stdout)
    return RunSummary(data["run_id"], data["status"], data["sources"], data["failures"], data.get("stats", {}))
