"""The one object a source sees: fetch, emit, fail, note, cursor and strict parse helpers.

Parse helpers raise :class:`BadResponse` for anything that is not what the source expects (an HTML error
page instead of JSON, truncated JSON, invalid XML, a wrong content type, an empty body); the engine records
it as a failure with the URL and reason and stores nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import scrapy

if TYPE_CHECKING:
    from bs4 import BeautifulSoup
    from lxml import etree

    from .docstore import DocumentStore

Callback = Callable[["Context", Any], Iterable[Any]]


class BadResponse(Exception):
    """The response is not a valid document of the expected kind."""


class Context:
    def __init__(self, source: str, base_url: str, options: dict[str, Any], since: dt.date | None,
                 store: DocumentStore, run_id: str) -> None:
        self.source = source
        self.base_url = base_url
        self.options = options
        self.since = since
        self.store = store
        self.run_id = run_id
        self.notes: dict[str, Any] = {}
        self.cursor_candidates: list[str] = []
        self.failed = 0

    # -- requests and items --------------------------------------------------------------------------
    def fetch(self, url: str, callback: Callback, *, kind: str = "raw", meta: dict[str, Any] | None = None,
              priority: int = 0) -> scrapy.Request:
        m = dict(meta or {})
        m.update({"regwatch_source": self.source, "regwatch_callback": callback, "regwatch_kind": kind})
        return scrapy.Request(url, meta=m, priority=priority, dont_filter=False)

    def emit(self, doc_id: str, response: Any, metadata: dict[str, Any] | None = None, *,
             content_hash: str | None = None, body: bytes | None = None, cursor: str | None = None) -> dict[str, Any]:
        data = body if body is not None else response.body
        headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
        if cursor:
            self.cursor_candidates.append(cursor)
        return {"regwatch_item": True, "source": self.source, "doc_id": doc_id, "url": response.url,
                "body": data, "headers": headers, "content_type": headers.get("Content-Type"),
                "metadata": metadata or {}, "content_hash": content_hash,
                "not_modified": bool(response.meta.get("regwatch_not_modified"))}

    def fail(self, url: str, reason: str) -> None:
        self.failed += 1
        self.store.record_failure(self.run_id, self.source, url, reason)

    def note(self, key: str, value: Any) -> None:
        self.notes[key] = value

    def cursor(self) -> str | None:
        return self.store.cursor(self.source)

    def previous(self, doc_id: str) -> dict[str, Any] | None:
        """Metadata of the latest stored version of ``doc_id`` (to tell what is new since the last run)."""
        versions = self.store.versions(doc_id, self.source)
        return versions[-1].metadata if versions else None

    # -- strict parsing ------------------------------------------------------------------------------
    @staticmethod
    def _ctype(response: Any) -> str:
        raw = response.headers.get(b"Content-Type") or b""
        return bytes(raw).decode("latin-1").lower()

    def json(self, response: Any) -> Any:
        body = response.body
        if not body.strip():
            raise BadResponse("empty body where JSON was expected")
        ctype = self._ctype(response)
        if "json" not in ctype:
            head = body.lstrip()[:1]
            what = "an HTML page" if head == b"<" else f"content type '{ctype or 'none'}'"
            raise BadResponse(f"expected JSON, got {what}")
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadResponse(f"invalid or truncated JSON ({exc})") from None

    def xml(self, response: Any, roots: tuple[str, ...]) -> etree._Element:
        from lxml import etree

        body = response.body
        if not body.strip():
            raise BadResponse("empty body where XML was expected")
        ctype = self._ctype(response)
        if "html" in ctype or ("xml" not in ctype and ctype and "octet-stream" not in ctype):
            raise BadResponse(f"expected XML, got content type '{ctype}'")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)
        try:
            root = etree.fromstring(body, parser=parser)
        except etree.XMLSyntaxError as exc:
            raise BadResponse(f"invalid XML: {exc}") from None
        if root.tag not in roots:
            raise BadResponse(f"unexpected XML root <{root.tag}> (expected {', '.join(roots)})")
        return root

    def html(self, response: Any) -> BeautifulSoup:
        from bs4 import BeautifulSoup

        body = response.body
        if not body.strip():
            raise BadResponse("empty body where HTML was expected")
        ctype = self._ctype(response)
        if ctype and "html" not in ctype:
            raise BadResponse(f"expected HTML, got content type '{ctype}'")
        return BeautifulSoup(body, "lxml")
