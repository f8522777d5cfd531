"""A real HTTP server on loopback that replays recorded fixtures (tests and the offline demo).

One server stands in for every source, each under its own path prefix:

* ``/fr/...``     https://www.federalregister.gov/...  (API v1 search, documents, public inspection, full-text XML)
* ``/ecfr/...``   https://www.ecfr.gov/...             (versioner API: versions JSON, full XML)
* ``/bis/...``    https://www.bis.gov/...              (HTML pages)

Files under ``root`` map to URL paths (layout: ``fixtures/http/README.md``):

1. A URL path that names a file is served as is (``/bis/news-updates`` also finds ``bis/news-updates.html``).
2. A URL path that names a *directory* is routed by the query string: the routing keys (``page``, ``part``
   unless the directory's ``_route.json`` says otherwise) present in the query, sorted, give the file name
   ``<key>-<value>[_<key>-<value>...]<ext>`` where ``<ext>`` is the suffix of the directory name
   (``documents.json/page-2.json``, ``title-15.xml/part-774.xml``). ``_route.json`` can also set
   defaults (``{"page": "1"}``), an "empty" rule (serve ``empty.json`` when
   ``conditions[publication_date][gte]`` is later than the newest recorded date), allowed values for a
   parameter (anything else gets a 400, like the FR API on an unknown agency slug) and a
   nearest-earlier-date rule for date segments (``full/<date>/`` serves the latest recorded date <= <date>).
3. Anything else is a 404 with a small HTML page. Names starting with ``_`` or ``.`` are never served.

``{{BASE}}`` in a fixture is replaced by the live base URL before the ETag is computed, so recorded
``next_page_url``/``full_text_xml_url`` values point back at this server. ETag is a quoted sha256 prefix of
the served body; Last-Modified comes from ``_meta.json`` (never the wall clock), so both are stable across
runs and instances (for bodies with ``{{BASE}}``: as long as the port is the same).

Faults (status, Retry-After, delay, truncated body, replaced body/content type, a number of times) and
run-time document replacement support retry, timeout, conditional-request and "changed document" tests.

Run ``python -m crawler.fixture_server --root fixtures/http --port 8765`` for a foreground demo server.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import re
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, TypedDict
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["BASE_PLACEHOLDER", "Fault", "FixtureServer", "RequestRecord", "main"]

BASE_PLACEHOLDER = b"{{BASE}}"
DEFAULT_ROUTE_KEYS: tuple[str, ...] = ("page", "part")
# Used when a fixture root has no _meta.json entry for a file: a fixed instant, never the wall clock.
DEFAULT_LAST_MODIFIED = datetime(2025, 1, 1, tzinfo=UTC)
_VALUE_RE = re.compile(r"[A-Za-z0-9._-]{1,100}")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")

CONTENT_TYPES: dict[str, str] = {
    ".json": "application/json; charset=utf-8",
    ".xml": "text/xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".pdf": "application/pdf",
}


class Fault(TypedDict, total=False):
    """What to do wrong when a path is requested. All keys optional; combine freely."""

    status: int  # respond with this status (500, 503, 429, 404, ...) instead of the document
    retry_after: str  # Retry-After header value, e.g. "1"
    delay: float  # sleep this many seconds before answering
    truncate: int  # send only the first N bytes of the body, Content-Length of the full body, then close
    body: bytes  # replace the body (e.g. an HTML error page instead of JSON)
    content_type: str  # override Content-Type
    times: int  # apply this many times, then serve normally (default: forever)


@dataclass
class RequestRecord:
    """One request as the server saw and answered it."""

    method: str
    path: str  # URL path, percent-decoded
    query: str  # raw query string ("" when none)
    headers: dict[str, str]
    status: int = 0
    bytes_sent: int = 0  # body bytes written (0 for HEAD and 304)
    file: str | None = None  # fixture key served (path relative to root), None when no document was served
    fault: bool = False  # a fault was applied to this request
    error: str | None = None  # client went away while we were writing, etc.

    @property
    def params(self) -> dict[str, list[str]]:
        return parse_qs(self.query, keep_blank_values=True)

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class _Doc:
    key: str
    body: bytes
    etag: str
    last_modified: datetime
    content_type: str


@dataclass
class _Override:
    body: bytes
    content_type: str | None
    last_modified: datetime


@dataclass
class _FaultEntry:
    fault: Fault
    remaining: int | None  # None = forever


@dataclass
class _Resolution:
    candidates: list[str] = field(default_factory=list)  # fixture keys, in priority order
    error: int | None = None  # HTTP status to answer instead (400/404)
    message: str = ""
    json_errors: bool = False  # the route is a JSON API: answer errors as JSON


def _http_date(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC), usegmt=True)


def _parse_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).replace(microsecond=0)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def _guess_content_type(key: str, body: bytes) -> str:
    suffix = Path(key).suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    head = body.lstrip()[:64]
    if head[:1] in (b"{", b"["):
        return CONTENT_TYPES[".json"]
    if head.startswith(b"<?xml"):
        return CONTENT_TYPES[".xml"]
    if head[:1] == b"<":
        return CONTENT_TYPES[".html"]
    return "application/octet-stream"


def _error_page(status: int, detail: str = "") -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    extra = f"<p>{detail}</p>" if detail else ""
    return (
        f"<!DOCTYPE html>\n<html><head><title>{status} {phrase}</title></head>"
        f"<body><h1>{status} {phrase}</h1>{extra}</body></html>\n"
    ).encode()


def _etag_matches(header: str, etag: str) -> bool:
    for raw in header.split(","):
        tag = raw.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == etag:
            return True
    return False


class FixtureServer:
    """Serve a fixture tree over real HTTP on loopback, with faults, replacements and a request log."""

    def __init__(self, root: str | Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"fixture root is not a directory: {self.root}")
        self.host = host
        self.port = port
        self.base_url = ""
        self.requests: list[RequestRecord] = []
        self.verbose = False
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._cache: dict[str, _Doc] = {}
        self._routes: dict[str, dict[str, Any]] = {}
        self._overrides: dict[str, _Override] = {}
        self._removed: set[str] = set()
        self._faults: dict[str, _FaultEntry] = {}
        self._default_lm, self._lm_patterns = self._load_meta()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FixtureServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer((self.host, self.port), self)
        self._httpd = httpd
        self.port = int(httpd.server_address[1])
        self.base_url = f"http://{self.host}:{self.port}"
        with self._lock:
            self._cache.clear()  # bodies embed the base URL
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"fixture-server-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()  # wakes handlers sleeping on a delay fault
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Start and block until interrupted (the CLI)."""
        self.start()
        try:
            while not self._stopping.wait(0.5):
                pass
        finally:
            self.stop()

    # ------------------------------------------------------------------ public API

    def url(self, path: str) -> str:
        if not self.base_url:
            raise RuntimeError("server not started")
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def set_fault(self, path: str, fault: Fault) -> None:
        """Apply ``fault`` to requests for ``path`` (URL path, query ignored) or a prefix ending with ``*``."""
        path = urlsplit(path).path if not path.endswith("*") else path
        times = fault.get("times")
        with self._lock:
            self._faults[path] = _FaultEntry(fault.copy(), None if times is None else int(times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def replace(
        self, path: str, body: bytes, *, content_type: str | None = None, last_modified: datetime | None = None
    ) -> None:
        """Serve ``body`` for ``path`` from now on (path may carry a query used for routing).

        The new document gets a new ETag and a Last-Modified one day after the one it replaces (or
        ``last_modified``), so conditional requests see a change. A path with no fixture creates one.
        """
        key = self._key_for(path)
        with self._lock:
            self._removed.discard(key)
            previous = self._cache.get(key)
        if last_modified is None:
            current = previous.last_modified if previous is not None else self._current_last_modified(key)
            last_modified = current + timedelta(days=1)
        stamp = last_modified.astimezone(UTC).replace(microsecond=0)
        with self._lock:
            self._overrides[key] = _Override(bytes(body), content_type, stamp)
            self._cache.pop(key, None)

    def remove(self, path: str) -> None:
        """Answer 404 for ``path`` from now on (a document that disappeared)."""
        key = self._key_for(path)
        with self._lock:
            self._overrides.pop(key, None)
            self._cache.pop(key, None)
            self._removed.add(key)

    def restore(self) -> None:
        """Undo every replace() and remove()."""
        with self._lock:
            for key in list(self._overrides) + list(self._removed):
                self._cache.pop(key, None)
            self._overrides.clear()
            self._removed.clear()

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def requests_for(self, path: str) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def fixture_key(self, path: str) -> str | None:
        """The fixture file (relative to root) a request for ``path`` (with query) would be served from."""
        split = urlsplit(path)
        res = self._resolve(split.path, parse_qs(split.query, keep_blank_values=True))
        for key in res.candidates:
            if self._exists(key):
                return key
        return None

    # ------------------------------------------------------------------ metadata

    def _load_meta(self) -> tuple[datetime, list[tuple[str, datetime]]]:
        meta_path = self.root / "_meta.json"
        if not meta_path.is_file():
            return DEFAULT_LAST_MODIFIED, []
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        default = _parse_iso(str(meta.get("default_last_modified", DEFAULT_LAST_MODIFIED.isoformat())))
        patterns: list[tuple[str, datetime]] = []
        for pattern, value in dict(meta.get("last_modified", {})).items():
            patterns.append((str(pattern), _parse_iso(str(value))))
        # exact names first, then patterns in file order
        patterns.sort(key=lambda item: any(ch in item[0] for ch in "*?["))
        return default, patterns

    def _file_last_modified(self, key: str) -> datetime:
        for pattern, value in self._lm_patterns:
            if pattern == key or fnmatch.fnmatchcase(key, pattern):
                return value
        return self._default_lm

    def _current_last_modified(self, key: str) -> datetime:
        with self._lock:
            override = self._overrides.get(key)
        if override is not None:
            return override.last_modified
        return self._file_last_modified(key)

    # ------------------------------------------------------------------ routing

    def _route(self, directory: Path) -> dict[str, Any]:
        rel = directory.relative_to(self.root).as_posix()
        with self._lock:
            cached = self._routes.get(rel)
        if cached is not None:
            return cached
        route_file = directory / "_route.json"
        route: dict[str, Any] = {}
        if route_file.is_file():
            loaded = json.loads(route_file.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                route = loaded
        with self._lock:
            self._routes[rel] = route
        return route

    def _rel(self, p: Path) -> str:
        return p.relative_to(self.root).as_posix()

    def _resolve(self, url_path: str, params: Mapping[str, list[str]]) -> _Resolution:
        segments = [s for s in unquote(url_path).split("/") if s]
        for seg in segments:
            if seg in (".", "..") or seg.startswith(("_", ".")) or "\\" in seg or "\x00" in seg:
                return _Resolution(error=404)
        cur = self.root
        for i, seg in enumerate(segments):
            nxt = cur / seg
            last = i == len(segments) - 1
            if nxt.is_dir():
                cur = nxt
                continue
            route = self._route(cur)
            if route.get("nearest_earlier_date") and _DATE_RE.fullmatch(seg) and not last:
                earlier = sorted(
                    d.name for d in cur.iterdir() if d.is_dir() and _DATE_RE.fullmatch(d.name) and d.name <= seg
                )
                if earlier:
                    cur = cur / earlier[-1]
                    continue
                return _Resolution(error=404, message=f"no version on or before {seg}")
            rest = "/".join(segments[i:])
            base = f"{self._rel(cur)}/{rest}" if cur != self.root else rest
            candidates = [base]
            if last and not Path(seg).suffix:
                candidates.append(base + ".html")
            return _Resolution(candidates=candidates)
        # the path names a directory: route by query
        route = self._route(cur)
        for name, allowed in dict(route.get("allowed_values", {})).items():
            for value in params.get(str(name), []):
                if value not in list(allowed):
                    return _Resolution(
                        error=400, message=f"{name}: {value!r} is not a valid value", json_errors=cur.suffix == ".json"
                    )
        empty = route.get("empty")
        if isinstance(empty, dict):
            after = str(empty.get("after", ""))
            for value in params.get(str(empty.get("param", "")), []):
                if after and value[:10] > after:
                    return _Resolution(candidates=[f"{self._rel(cur)}/{empty.get('file', 'empty.json')}"])
        keys = [str(k) for k in route.get("keys", DEFAULT_ROUTE_KEYS)]
        defaults = {str(k): str(v) for k, v in dict(route.get("defaults", {})).items()}
        parts: list[str] = []
        for k in sorted(keys):
            values = params.get(k)
            chosen = values[0] if values else defaults.get(k)
            if chosen is None:
                continue
            if not _VALUE_RE.fullmatch(chosen):
                return _Resolution(error=404, message=f"unsupported value for {k}")
            parts.append(f"{k}-{chosen}")
        ext = str(route.get("ext", Path(cur.name).suffix))
        rel = self._rel(cur) if cur != self.root else ""
        prefix = f"{rel}/" if rel else ""
        if parts:
            return _Resolution(candidates=[f"{prefix}{'_'.join(parts)}{ext}"])
        return _Resolution(candidates=[f"{prefix}default{ext}", f"{prefix}index.html"])

    def _key_for(self, path: str) -> str:
        split = urlsplit(path)
        res = self._resolve(split.path, parse_qs(split.query, keep_blank_values=True))
        if res.error is not None or not res.candidates:
            raise ValueError(f"cannot map {path!r} to a fixture ({res.message or res.error})")
        for key in res.candidates:
            if self._exists(key):
                return key
        return res.candidates[0]

    def _exists(self, key: str) -> bool:
        with self._lock:
            if key in self._removed:
                return False
            if key in self._overrides:
                return True
        return (self.root / key).is_file()

    def _load(self, key: str) -> _Doc | None:
        with self._lock:
            if key in self._removed:
                return None
            doc = self._cache.get(key)
            override = self._overrides.get(key)
        if doc is not None:
            return doc
        if override is not None:
            raw, lm, ctype = override.body, override.last_modified, override.content_type
        else:
            path = self.root / key
            if not path.is_file():
                return None
            raw, lm, ctype = path.read_bytes(), self._file_last_modified(key), None
        body = raw.replace(BASE_PLACEHOLDER, self.base_url.encode()) if BASE_PLACEHOLDER in raw else raw
        doc = _Doc(key, body, _etag(body), lm, ctype or _guess_content_type(key, body))
        with self._lock:
            self._cache[key] = doc
        return doc

    def _lookup(self, url_path: str, params: Mapping[str, list[str]]) -> tuple[_Doc | None, int, bytes, str]:
        """The document, or (None, status, error body, content type)."""
        res = self._resolve(url_path, params)
        if res.error is not None:
            if res.json_errors:
                body = json.dumps({"status": res.error, "errors": [res.message]}).encode() + b"\n"
                return None, res.error, body, CONTENT_TYPES[".json"]
            return None, res.error, _error_page(res.error, res.message), CONTENT_TYPES[".html"]
        for key in res.candidates:
            doc = self._load(key)
            if doc is not None:
                return doc, 200, b"", ""
        return None, 404, _error_page(404), CONTENT_TYPES[".html"]

    def _take_fault(self, url_path: str) -> Fault | None:
        with self._lock:
            entry = self._faults.get(url_path)
            if entry is None:
                best = ""
                for pattern, candidate in self._faults.items():
                    if pattern.endswith("*") and url_path.startswith(pattern[:-1]) and len(pattern) > len(best):
                        best, entry = pattern, candidate
            if entry is None:
                return None
            if entry.remaining is not None:
                if entry.remaining <= 0:
                    return None
                entry.remaining -= 1
            return entry.fault

    def _log(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fixture: FixtureServer) -> None:
        self.fixture = fixture
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in separate writes: without TCP_NODELAY a keep-alive client waits ~40 ms for a
    # delayed ACK on every response, which would make every client look slow
    disable_nagle_algorithm = True
    server_version = "regwatch-fixtures/1.0"
    sys_version = ""

    @property
    def fixture(self) -> FixtureServer:
        server = self.server
        assert isinstance(server, _HTTPServer)
        return server.fixture

    def log_message(self, format: str, *args: Any) -> None:
        if self.fixture.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    def do_GET(self) -> None:
        self._handle(head=False)

    def do_HEAD(self) -> None:
        self._handle(head=True)

    def _handle(self, head: bool) -> None:
        fx = self.fixture
        split = urlsplit(self.path)
        url_path = unquote(split.path) or "/"
        params = parse_qs(split.query, keep_blank_values=True)
        record = RequestRecord(self.command, url_path, split.query, {k: v for k, v in self.headers.items()})
        fault = fx._take_fault(url_path)
        if fault is not None:
            record.fault = True
            delay = float(fault.get("delay", 0) or 0)
            if delay > 0 and fx._stopping.wait(delay):
                record.status, record.error = 0, "server stopping"
                fx._log(record)
                self.close_connection = True
                return
        status_override = fault.get("status") if fault else None
        if fault is not None and status_override is not None and status_override != 200:
            body = fault.get("body", _error_page(status_override))
            headers = {"Content-Type": fault.get("content_type", CONTENT_TYPES[".html"])}
            if "retry_after" in fault:
                headers["Retry-After"] = str(fault["retry_after"])
            self._send(record, status_override, headers, body, head, fault.get("truncate"))
            return
        doc, status, error_body, error_type = fx._lookup(url_path, params)
        if doc is None:
            body = error_body
            headers = {"Content-Type": error_type}
            if fault is not None and "body" in fault:
                body = fault["body"]
                headers["Content-Type"] = fault.get("content_type", _guess_content_type(url_path, body))
            self._send(record, status, headers, body, head, fault.get("truncate") if fault else None)
            return
        record.file = doc.key
        body, etag = doc.body, doc.etag
        ctype: str = doc.content_type
        if fault is not None and "body" in fault:
            body = fault["body"]
            etag = _etag(body)
        if fault is not None and "content_type" in fault:
            ctype = fault["content_type"]
        headers = {"Content-Type": ctype, "ETag": etag, "Last-Modified": _http_date(doc.last_modified)}
        if self._not_modified(etag, doc.last_modified):
            record.status = 304
            fx._log(record)
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", headers["Last-Modified"])
            self.end_headers()
            return
        self._send(record, 200, headers, body, head, fault.get("truncate") if fault else None)

    def _not_modified(self, etag: str, last_modified: datetime) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            return _etag_matches(inm, etag)
        ims = self.headers.get("If-Modified-Since")
        if ims is None:
            return False
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError, IndexError):
            return False
        if since is None:
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return since >= last_modified

    def _send(
        self, record: RequestRecord, status: int, headers: dict[str, str], body: bytes, head: bool, truncate: int | None
    ) -> None:
        payload = b"" if head else body
        if truncate is not None and not head:
            payload = body[: max(0, int(truncate))]
            self.close_connection = True
        record.status = status
        record.bytes_sent = len(payload)
        self.fixture._log(record)
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if payload:
                self.wfile.write(payload)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as exc:
            record.error = type(exc).__name__
            self.close_connection = True


def main(argv: list[str] | None = None) -> int:
    default_root = Path(__file__).resolve().parent.parent / "fixtures" / "http"
    parser = argparse.ArgumentParser(prog="python -m crawler.fixture_server", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(default_root), help="fixture tree (default: %(default)s)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port (default: %(default)s)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    try:
        server = FixtureServer(args.root, host=args.host, port=args.port)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    server.verbose = args.verbose
    try:
        server.start()
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    print(server.base_url, flush=True)
    if args.verbose:
        print(f"serving {server.root}; try {server.url('/fr/api/v1/documents.json?page=1')}", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
