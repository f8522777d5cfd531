"""Raw document store: every fetched document verbatim, versioned per content, crash-safe.

Layout (inside a workspace): ``documents.db`` (SQLite via sqlite-utils, WAL, synchronous=FULL) and
``documents/blobs/<sha[:2]>/<sha256>`` (bodies, content-addressed, written atomically).

Crash safety: a body is written to a temporary file, fsynced and renamed into place *before* the row that
references it is committed in one transaction. A kill -9 at any moment leaves either no row (the next run
fetches the document again) or a row whose blob exists; an orphan blob is harmless and reused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import sqlite_utils

Outcome = Literal["new", "changed", "unchanged"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    source TEXT NOT NULL, doc_id TEXT NOT NULL, version INTEGER NOT NULL,
    sha256 TEXT NOT NULL, content_hash TEXT NOT NULL, url TEXT NOT NULL, fetched_at TEXT NOT NULL,
    content_type TEXT, size INTEGER NOT NULL, headers TEXT NOT NULL, metadata TEXT NOT NULL, run_id TEXT,
    PRIMARY KEY (source, doc_id, version)
);
CREATE INDEX IF NOT EXISTS documents_content ON documents (source, doc_id, content_hash);
CREATE TABLE IF NOT EXISTS http_state (
    url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, body_sha256 TEXT, status INTEGER,
    content_type TEXT, fetched_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT, source TEXT, url TEXT NOT NULL, reason TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, sources TEXT NOT NULL,
    status TEXT NOT NULL, summary TEXT
);
CREATE TABLE IF NOT EXISTS cursors (source TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);
"""


class DocumentStoreError(Exception):
    """A one-line, user-facing problem with the document store."""


@dataclass(frozen=True)
class StoredDocument:
    source: str
    doc_id: str
    version: int
    sha256: str
    content_hash: str
    url: str
    fetched_at: str
    content_type: str | None
    size: int
    headers: dict[str, str]
    metadata: dict[str, Any]
    run_id: str | None

    def to_json(self) -> dict[str, object]:
        return {"source": self.source, "id": self.doc_id, "version": self.version, "sha256": self.sha256,
                "content_hash": self.content_hash, "url": self.url, "fetched_at": self.fetched_at,
                "content_type": self.content_type, "size": self.size, "headers": self.headers,
                "metadata": self.metadata, "run_id": self.run_id}


def utcnow() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class DocumentStore:
    def __init__(self, db_path: str | Path, blob_dir: str | Path | None = None) -> None:
        self.path = Path(db_path)
        self.blob_dir = Path(blob_dir) if blob_dir else self.path.parent / "documents" / "blobs"
        try:
            conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
            conn.execute("PRAGMA busy_timeout = 30000")
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if mode != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise DocumentStoreError(f"{self.path}: not a regwatch document store ({exc})") from None
        self.conn = conn
        self.db = sqlite_utils.Database(conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> DocumentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- blobs ---------------------------------------------------------------------------------------
    def blob_path(self, digest: str) -> Path:
        return self.blob_dir / digest[:2] / digest

    def put_blob(self, body: bytes) -> str:
        digest = sha256(body)
        target = self.blob_path(digest)
        if target.exists() and target.stat().st_size == len(body):
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(body)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get_blob(self, digest: str) -> bytes:
        data = self.blob_path(digest).read_bytes()
        if sha256(data) != digest:
            raise DocumentStoreError(f"blob {digest[:12]} does not match its hash (edited or damaged)")
        return data

    # -- HTTP validators and cache -------------------------------------------------------------------
    def validators(self, url: str) -> tuple[str | None, str | None, str | None]:
        row = self.conn.execute("SELECT etag, last_modified, body_sha256 FROM http_state WHERE url = ?",
                                (url,)).fetchone()
        return (row[0], row[1], row[2]) if row else (None, None, None)

    def cached_content_type(self, url: str) -> str | None:
        row = self.conn.execute("SELECT content_type FROM http_state WHERE url = ?", (url,)).fetchone()
        return str(row[0]) if row and row[0] else None

    def remember_response(self, url: str, status: int, etag: str | None, last_modified: str | None,
                          body: bytes | None, content_type: str | None = None) -> None:
        """Keep the validators (and the body, for replay after a 304) of a successful response."""
        digest = self.put_blob(body) if body is not None else None
        with self.conn:
            self.conn.execute(
                "INSERT INTO http_state (url, etag, last_modified, body_sha256, status, content_type, fetched_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET etag=excluded.etag, "
                "last_modified=excluded.last_modified, body_sha256=COALESCE(excluded.body_sha256, body_sha256), "
                "status=excluded.status, content_type=excluded.content_type, fetched_at=excluded.fetched_at",
                (url, etag, last_modified, digest, status, content_type, utcnow()))

    # -- documents -----------------------------------------------------------------------------------
    def save(self, *, source: str, doc_id: str, url: str, body: bytes, headers: Mapping[str, str],
             content_type: str | None, metadata: Mapping[str, Any], run_id: str | None,
             content_hash: str | None = None) -> tuple[Outcome, int]:
        """Store a document version unless its content is already the latest version of ``doc_id``.

        ``content_hash`` is what identifies the content (the relevant node of an HTML page); it defaults
        to the body's sha256. Returns the outcome and the version number.
        """
        digest = self.put_blob(body)
        chash = content_hash or digest
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            row = self.conn.execute(
                "SELECT version, content_hash FROM documents WHERE source = ? AND doc_id = ? "
                "ORDER BY version DESC LIMIT 1", (source, doc_id)).fetchone()
            if row is not None and row[1] == chash:
                return "unchanged", int(row[0])
            # (content going back to an earlier version, A -> B -> A, is a change too: a new version)
            version = 1 if row is None else int(row[0]) + 1
            self.conn.execute(
                "INSERT INTO documents (source, doc_id, version, sha256, content_hash, url, fetched_at, "
                "content_type, size, headers, metadata, run_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (source, doc_id, version, digest, chash, url, utcnow(), content_type, len(body),
                 json.dumps(dict(headers), sort_keys=True), json.dumps(dict(metadata), sort_keys=True, default=str),
                 run_id))
        return ("new" if row is None else "changed"), version

    def _doc(self, row: Sequence[Any]) -> StoredDocument:
        return StoredDocument(row[0], row[1], int(row[2]), row[3], row[4], row[5], row[6], row[7], int(row[8]),
                              json.loads(row[9]), json.loads(row[10]), row[11])

    _COLS = ("source, doc_id, version, sha256, content_hash, url, fetched_at, content_type, size, headers, "
             "metadata, run_id")

    def latest(self, source: str | None = None) -> list[StoredDocument]:
        sql = (f"SELECT {self._COLS} FROM documents d WHERE version = (SELECT MAX(version) FROM documents "
               "WHERE source = d.source AND doc_id = d.doc_id)")
        args: tuple[str, ...] = ()
        if source:
            sql += " AND source = ?"
            args = (source,)
        return [self._doc(r) for r in self.conn.execute(sql + " ORDER BY source, doc_id", args)]

    def versions(self, doc_id: str, source: str | None = None) -> list[StoredDocument]:
        sql = f"SELECT {self._COLS} FROM documents WHERE doc_id = ?"
        args: tuple[str, ...] = (doc_id,)
        if source:
            sql += " AND source = ?"
            args = (doc_id, source)
        return [self._doc(r) for r in self.conn.execute(sql + " ORDER BY source, version", args)]

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])

    # -- runs, failures, cursors ---------------------------------------------------------------------
    def start_run(self, sources: Sequence[str]) -> str:
        run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
        with self.conn:
            self.conn.execute("INSERT INTO runs (run_id, started_at, sources, status) VALUES (?, ?, ?, 'running')",
                              (run_id, utcnow(), ",".join(sources)))
        return run_id

    def finish_run(self, run_id: str, status: str, summary: Mapping[str, Any]) -> None:
        with self.conn:
            self.conn.execute("UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE run_id = ?",
                              (utcnow(), status, json.dumps(dict(summary), sort_keys=True, default=str), run_id))

    def record_failure(self, run_id: str | None, source: str, url: str, reason: str) -> None:
        with self.conn:
            self.conn.execute("INSERT INTO failures (run_id, source, url, reason, at) VALUES (?, ?, ?, ?, ?)",
                              (run_id, source, url, reason, utcnow()))

    def failures(self, run_id: str) -> list[dict[str, str]]:
        rows = self.conn.execute("SELECT source, url, reason FROM failures WHERE run_id = ? ORDER BY id", (run_id,))
        return [{"source": r[0], "url": r[1], "reason": r[2]} for r in rows]

    def cursor(self, source: str) -> str | None:
        row = self.conn.execute("SELECT value FROM cursors WHERE source = ?", (source,)).fetchone()
        return str(row[0]) if row else None

    def set_cursor(self, source: str, value: str) -> None:
        with self.conn:
            self.conn.execute(
                "INSERT INTO cursors (source, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(source) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (source, value, utcnow()))
