"""The scrapy side: one generic spider that runs the declared sources, plus the components it needs.

* :class:`RevalidateMiddleware` always revalidates: every request carries the stored ``If-None-Match`` /
  ``If-Modified-Since``; a 304 is answered from the stored body (an always-revalidating HTTP cache; scrapy's
  stock cache policies either never revalidate or drop validators on ``no-cache``).
* :class:`BackoffRetryMiddleware` retries 429 / 5xx / timeouts with exponential backoff, honouring
  ``Retry-After``.
* :class:`StorePipeline` writes documents to the :class:`~crawler.docstore.DocumentStore`.

Crawler stats are the test surface: ``httpcache/revalidate``, ``downloader/response_status_count/304``,
``regwatch/bodies_downloaded``, ``regwatch/new|changed|unchanged|failed``.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import scrapy
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import defer
from twisted.internet.error import ConnectionLost, DNSLookupError, TCPTimedOutError, TimeoutError
from twisted.web._newclient import ResponseFailed

from .context import BadResponse, Context

RETRY_STATUSES = (429, 500, 502, 503, 504, 522, 524, 408)


class RegwatchSpider(scrapy.Spider):
    name = "regwatch"
    handle_httpstatus_list: ClassVar[list[int]] = [304]

    def __init__(self, contexts: dict[str, Context], starts: dict[str, Any],
                 progress: Any = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.contexts = contexts
        self.starts = starts
        self.progress = progress

    async def start(self) -> Any:  # scrapy >= 2.13
        for req in self.start_requests():
            yield req

    def start_requests(self) -> Iterator[scrapy.Request]:
        for name, ctx in self.contexts.items():
            for out in self.starts[name](ctx):
                yield self._wrap(out)

    def _wrap(self, out: Any) -> Any:
        if isinstance(out, scrapy.Request):
            return out.replace(callback=self.dispatch, errback=self.on_error)
        return out

    def dispatch(self, response: Response) -> Iterator[Any]:
        ctx = self.contexts[response.meta["regwatch_source"]]
        callback = response.meta["regwatch_callback"]
        try:
            for out in callback(ctx, response):
                yield self._wrap(out)
            if not response.meta.get("regwatch_not_modified"):
                # only a response that parsed becomes the cached copy replayed after a 304
                etag = response.headers.get(b"ETag")
                lm = response.headers.get(b"Last-Modified")
                ct = response.headers.get(b"Content-Type")
                ctx.store.remember_response(response.url, response.status,
                                            bytes(etag).decode("latin-1") if etag else None,
                                            bytes(lm).decode("latin-1") if lm else None, response.body,
                                            bytes(ct).decode("latin-1") if ct else None)
        except BadResponse as exc:
            self.crawler.stats.inc_value("regwatch/failed")
            ctx.fail(response.url, str(exc))
            self.logger.warning("failed %s: %s", response.url, exc)

    def on_error(self, failure: Any) -> None:
        request = failure.request
        ctx = self.contexts[request.meta["regwatch_source"]]
        exc = failure.value
        if failure.check(HttpError):
            status = exc.response.status
            reason = f"HTTP {status}" + (" after retries" if status in RETRY_STATUSES else "")
        elif failure.check(TimeoutError, TCPTimedOutError) or type(exc).__name__ == "DownloadTimeoutError":
            reason = "timed out (after retries)"
        elif failure.check(DNSLookupError):
            reason = "DNS lookup failed"
        elif type(exc).__name__ in ("ResponseDataLossError", "_DataLoss") or "dataloss" in str(exc).lower():
            reason = "body truncated (the connection closed before Content-Length bytes arrived)"
        elif failure.check(ResponseFailed, ConnectionLost):
            reason = "connection lost or body truncated"
        elif failure.check(defer.CancelledError):
            reason = "download cancelled: body larger than the configured maximum"
        elif failure.check(IgnoreRequest):
            reason = f"request ignored: {exc}" if str(exc) else "forbidden by robots.txt or ignored"
        else:
            reason = f"{type(exc).__name__}: {exc}"
        if "maxsize" in str(exc).lower() or "max size" in str(exc).lower():
            reason = "response body larger than the configured maximum"
        self.crawler.stats.inc_value("regwatch/failed")
        ctx.fail(request.url, reason)
        self.logger.warning("failed %s: %s", request.url, reason)


class RevalidateMiddleware:
    """Conditional requests on every fetch, and replay of the stored body on 304."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> RevalidateMiddleware:
        return cls(crawler)

    def _store(self, spider: Any) -> Any:
        return next(iter(spider.contexts.values())).store

    def process_request(self, request: scrapy.Request, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        if "regwatch_source" not in request.meta:
            return None  # robots.txt and other internal requests
        etag, last_modified, body_sha = self._store(spider).validators(request.url)
        if body_sha is None:
            return None
        if etag:
            request.headers[b"If-None-Match"] = etag.encode("latin-1")
        if last_modified:
            request.headers[b"If-Modified-Since"] = last_modified.encode("latin-1")
        if etag or last_modified:
            self.stats.inc_value("httpcache/revalidate")
        return None

    def process_response(self, request: scrapy.Request, response: Response, spider: Any = None) -> Response:
        spider = spider or self.crawler.spider
        if "regwatch_source" not in request.meta:
            return response
        store = self._store(spider)
        if response.status == 304:
            _, _, body_sha = store.validators(request.url)
            if body_sha is None:
                return response
            try:
                body = store.get_blob(body_sha)
            except (OSError, Exception):
                return response
            # (no write on a 304: a no-change run must cost no disk syncs)
            self.stats.inc_value("httpcache/hit")
            request.meta["regwatch_not_modified"] = True
            headers = dict(response.headers)
            ctype = store.cached_content_type(request.url)
            if ctype and b"Content-Type" not in response.headers:
                headers[b"Content-Type"] = ctype.encode("latin-1")
            return response.replace(status=200, body=body, headers=headers, flags=[*response.flags, "cached"])
        if 200 <= response.status < 300:
            self.stats.inc_value("regwatch/bodies_downloaded")
            self.stats.inc_value(f"regwatch/bodies_downloaded/{request.meta.get('regwatch_kind', 'raw')}")
            self.stats.inc_value("regwatch/bytes_downloaded", len(response.body))
        return response


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry policy with exponential backoff and ``Retry-After`` (seconds or HTTP date)."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base = float(settings.getfloat("REGWATCH_BACKOFF_BASE", 1.0))
        self.cap = float(settings.getfloat("REGWATCH_BACKOFF_MAX", 60.0))

    def _delay(self, request: scrapy.Request, response: Response | None) -> float:
        tries = int(request.meta.get("retry_times", 0))
        delay = self.base * (2 ** tries)
        if response is not None:
            ra = response.headers.get(b"Retry-After")
            if ra:
                text = bytes(ra).decode("latin-1").strip()
                if text.isdigit():
                    delay = float(text)
                else:
                    when = email.utils.parsedate_to_datetime(text) if text else None
                    if when is not None:
                        delay = max(0.0, when.timestamp() - time.time())
        return float(min(delay, self.cap))

    async def process_response(self, request: scrapy.Request, response: Response,  # type: ignore[override]
                               spider: Any = None) -> Any:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        delay = self._delay(request, response)
        if int(request.meta.get("retry_times", 0)) < self.max_retry_times and delay > 0:
            await asyncio.sleep(delay)
        reason = f"HTTP {response.status}"
        return self._retry(request, reason) or response

    async def process_exception(self, request: scrapy.Request, exception: Exception,  # type: ignore[override]
                                spider: Any = None) -> Any:
        if isinstance(exception, self.exceptions_to_retry) and not request.meta.get("dont_retry", False):
            delay = self._delay(request, None)
            if int(request.meta.get("retry_times", 0)) < self.max_retry_times and delay > 0:
                await asyncio.sleep(delay)
            return self._retry(request, exception)
        return None


class StorePipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def process_item(self, item: dict[str, Any], spider: Any = None) -> dict[str, Any]:
        spider = spider or self.crawler.spider
        ctx: Context = spider.contexts[item["source"]]
        outcome, version = ctx.store.save(source=item["source"], doc_id=item["doc_id"], url=item["url"],
                                          body=item["body"], headers=item["headers"],
                                          content_type=item["content_type"], metadata=item["metadata"],
                                          run_id=ctx.run_id, content_hash=item["content_hash"])
        self.stats.inc_value(f"regwatch/{outcome}")
        if not item["not_modified"]:
            self.stats.inc_value("regwatch/document_bodies_downloaded")
        self.stats.inc_value(f"regwatch/{item['source']}/{outcome}")
        if spider.progress and outcome != "unchanged":
            spider.progress(f"{outcome:<9} {item['source']} {item['doc_id']} (v{version})")
        return {"source": item["source"], "doc_id": item["doc_id"], "outcome": outcome, "version": version}
