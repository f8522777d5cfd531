"""Bitemporal, content-addressed, hash-chained version store for the ruleset (SQLite via ``sqlite_utils``).

Why this exists: an export-control decision must be reproducible later -- "which rules did we apply, who
approved them, and when did we know". The DSL answers *valid time* (what was in force on a date) from a
ruleset text; this store answers *knowledge time*: what the ruleset text was at version K, or as approved
at instant T. Every version is an immutable record whose id is the SHA-256 of its canonical JSON, which
includes the parent id, so the versions form a hash chain: altering any past record, text or link is
detected by :meth:`RulesStore.verify`, and anyone can re-check the chain with ``sqlite3`` + ``sha256sum``
(recipe in ``docs/store.md``).

The store never parses the DSL: a version's content is the canonical ruleset text, stored once per
distinct text (``blobs`` is keyed by the text's SHA-256).
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import sqlite_utils

__all__ = ["DEFAULT_TIMEOUT", "SCHEMA_VERSION", "UNSET", "RulesStore", "StoreError", "Version", "version_id"]

#: Bumped whenever the on-disk layout changes; a store written by a newer regwatch is refused, not guessed at.
SCHEMA_VERSION: Final = 1
#: Seconds a writer waits for another writer's lock before giving up. Commits are tiny, so 30 s only
#: expires when something is genuinely stuck (e.g. a process holding a transaction open).
DEFAULT_TIMEOUT: Final = 30.0
_FORMAT: Final = "regwatch-rules-store"
_SHORT: Final = 12
_MIN_PREFIX: Final = 6
_HEX_RE: Final = re.compile(r"^[0-9a-f]+$")
_SEQ_REF_RE: Final = re.compile(r"^@(\d+)$")
_COLS: Final = "id, seq, parent, content_hash, approver, approved_at, message, changeset, source_documents"

# Append-only by construction: the API never updates or deletes, and the triggers stop accidental edits
# by other tools. A deliberate tamperer can drop them -- which is what verify() is for.
_SCHEMA_SQL: Final = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE blobs (
    content_hash TEXT PRIMARY KEY,
    text         TEXT NOT NULL
);
CREATE TABLE versions (
    id               TEXT PRIMARY KEY,
    seq              INTEGER NOT NULL UNIQUE CHECK (seq >= 1),
    parent           TEXT REFERENCES versions(id),
    content_hash     TEXT NOT NULL REFERENCES blobs(content_hash),
    approver         TEXT NOT NULL,
    approved_at      TEXT NOT NULL,
    message          TEXT NOT NULL,
    changeset        TEXT NOT NULL,
    source_documents TEXT NOT NULL
);
CREATE UNIQUE INDEX versions_one_child_per_parent ON versions(parent);
CREATE INDEX versions_approved_at ON versions(approved_at);
CREATE TRIGGER versions_no_update BEFORE UPDATE ON versions
    BEGIN SELECT RAISE(ABORT, 'regwatch rules store is append-only: versions cannot be updated'); END;
CREATE TRIGGER versions_no_delete BEFORE DELETE ON versions
    BEGIN SELECT RAISE(ABORT, 'regwatch rules store is append-only: versions cannot be deleted'); END;
CREATE TRIGGER blobs_no_update BEFORE UPDATE ON blobs
    BEGIN SELECT RAISE(ABORT, 'regwatch rules store is append-only: blobs cannot be updated'); END;
CREATE TRIGGER blobs_no_delete BEFORE DELETE ON blobs
    BEGIN SELECT RAISE(ABORT, 'regwatch rules store is append-only: blobs cannot be deleted'); END;
"""


class StoreError(Exception):
    """Any failure of the store, as a one-line user-facing message (the CLI prints ``str(e)``, exits 2)."""


class _Unset(enum.Enum):
    """Sentinel type so ``expected_parent=None`` can mean "I expect an empty store"."""

    UNSET = "UNSET"


#: Default for ``commit(expected_parent=...)``: skip the optimistic head check.
UNSET: Final = _Unset.UNSET


@dataclass(frozen=True)
class Version:
    """One immutable, approved ruleset version (metadata only; fetch the text with ``RulesStore.text``)."""

    id: str
    parent: str | None
    content_hash: str
    approver: str
    approved_at: datetime
    message: str
    changeset: str
    source_documents: tuple[str, ...]
    seq: int

    @property
    def short_id(self) -> str:
        """The first 12 hex digits: what messages and logs show (unambiguous in practice, >= 6 accepted)."""
        return self.id[:_SHORT]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _format_time(t: datetime) -> str:
    """Canonical knowledge-time text: UTC, microseconds, ``+00:00`` -- fixed width, so it sorts as text."""
    return t.astimezone(UTC).isoformat(timespec="microseconds")


def _canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8 unescaped -- byte-identical to SQLite's ``json_object``/``json``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogateescape"
    )


def version_id(
    *,
    parent: str | None,
    content_hash: str,
    approver: str,
    approved_at: str,
    message: str,
    changeset: str,
    source_documents: Sequence[str],
) -> str:
    """The version id: SHA-256 of the canonical JSON of the record (``approved_at`` already canonical text).

    Including ``parent`` is what chains the versions: changing any ancestor changes every later id.
    """
    record = {
        "approved_at": approved_at,
        "approver": approver,
        "changeset": changeset,
        "content_hash": content_hash,
        "message": message,
        "parent": parent,
        "source_documents": list(source_documents),
    }
    return _sha256(_canonical_json(record))


def _check_text_field(name: str, value: object) -> str:
    """Reject what would make the record unverifiable with the shell recipe (NUL, lone surrogates)."""
    if not isinstance(value, str):
        raise StoreError(f"{name} must be a string, not {type(value).__name__}")
    if "\x00" in value:
        raise StoreError(f"{name} must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise StoreError(f"{name} is not valid Unicode text ({e.reason} at position {e.start})") from None
    return value


def _check_aware(name: str, t: object) -> datetime:
    if not isinstance(t, datetime):
        raise StoreError(f"{name} must be a datetime, not {type(t).__name__}")
    if t.tzinfo is None or t.utcoffset() is None:
        raise StoreError(f"{name} must be timezone-aware (got naive datetime {t.isoformat()}); use UTC")
    return t


class RulesStore:
    """The version store in one SQLite file. Safe to open from many processes at once.

    Concurrency: WAL mode (readers never block the writer and see a consistent snapshot), a busy timeout
    (writers queue up instead of failing with "database is locked"), and ``BEGIN IMMEDIATE`` around each
    commit (read-head-then-insert happens under the write lock, so two writers serialise into one linear
    chain instead of forking or failing on a lock upgrade).
    """

    def __init__(self, path: str | Path, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Open (creating file and tables if needed) the store at ``path``.

        ``timeout`` is the busy timeout in seconds (the longest a writer waits for another's lock).
        Raises :class:`StoreError` naming the path if the file is not a SQLite database, is a SQLite
        database that is not a rules store, or was written by a newer schema version.
        """
        self.path = Path(path)
        self._closed = True
        self._timeout = float(timeout)
        if self._timeout < 0:
            raise StoreError(f"{self.path}: timeout must be >= 0 seconds")
        try:
            # isolation_level=None: Python never opens implicit transactions; every transaction here is
            # explicit, so we control exactly when the write lock is taken.
            conn = sqlite3.connect(str(self.path), timeout=self._timeout, isolation_level=None)
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot open rules store ({e})") from e
        try:
            self._db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
            self._closed = False
            self._configure()
            self._ensure_schema()
        except StoreError:
            conn.close()
            raise
        except sqlite3.DatabaseError as e:
            conn.close()
            raise StoreError(f"{self.path}: not a usable rules store ({e})") from e

    # ------------------------------------------------------------------ setup

    def _configure(self) -> None:
        ms = int(self._timeout * 1000)
        self._db.execute(f"PRAGMA busy_timeout = {ms}")
        self._db.execute("PRAGMA foreign_keys = ON")
        # FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss. A commit here is a
        # recorded human approval that the CLI has already reported as done; commits are rare, so the
        # extra fsync per commit costs nothing that matters.
        self._db.execute("PRAGMA synchronous = FULL")
        # Read the header first (this is also where a non-database file fails): the pager only learns that
        # the file is already in WAL mode once it has read page 1.
        self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if self._journal_mode() == "wal":
            return
        # WAL is persistent, so this runs once per file -- but when several processes open a fresh file at
        # once, switching needs an exclusive lock, and a connection that already holds a shared lock gets
        # SQLITE_BUSY at once (deadlock avoidance) without the busy handler being called. Retry ourselves,
        # bounded by the same timeout.
        deadline = time.monotonic() + self._timeout
        delay = 0.001
        while True:
            try:
                mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()
                break
            except sqlite3.OperationalError as e:
                if not _is_busy(e) or time.monotonic() >= deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        got = str(mode[0]).lower() if mode else "unknown"
        if got != "wal":
            raise StoreError(f"{self.path}: cannot enable WAL journal mode (got {got!r})")

    def _journal_mode(self) -> str:
        row = self._db.execute("PRAGMA journal_mode").fetchone()
        return str(row[0]).lower() if row else ""

    def _table_names(self) -> set[str]:
        rows = self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {str(r[0]) for r in rows}

    def _ensure_schema(self) -> None:
        """Validate an existing store, or create the tables in a fresh file (race-free across processes)."""
        if self._table_names():
            self._check_schema()
            return
        with self._write_transaction():
            if self._table_names():  # another process initialised it while we waited for the lock
                self._check_schema()
                return
            for statement in _split_sql(_SCHEMA_SQL):
                self._db.execute(statement)
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES ('format', ?), ('schema_version', ?)",
                [_FORMAT, str(SCHEMA_VERSION)],
            )

    def _check_schema(self) -> None:
        tables = self._table_names()
        if "meta" not in tables:
            raise StoreError(f"{self.path}: SQLite database is not a regwatch rules store (no 'meta' table)")
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("format") != _FORMAT:
            raise StoreError(f"{self.path}: SQLite database is not a regwatch rules store")
        raw = meta.get("schema_version")
        try:
            found = int(str(raw))
        except ValueError:
            raise StoreError(f"{self.path}: unknown rules store schema version {raw!r}") from None
        if found > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: rules store schema version {found} is newer than this regwatch supports "
                f"({SCHEMA_VERSION}); upgrade regwatch"
            )
        if found < 1:
            raise StoreError(f"{self.path}: unknown rules store schema version {found}")
        missing = {"blobs", "versions"} - tables
        if missing:
            raise StoreError(f"{self.path}: rules store is missing table(s) {', '.join(sorted(missing))}")

    # ------------------------------------------------------------ plumbing

    def _conn(self) -> sqlite_utils.Database:
        if self._closed:
            raise StoreError(f"{self.path}: rules store is closed")
        return self._db

    class _Txn:
        """``BEGIN <kind>`` ... ``COMMIT``, rolled back on any exception (a failed commit changes nothing)."""

        def __init__(self, db: sqlite_utils.Database, kind: str) -> None:
            self._db = db
            self._kind = kind

        def __enter__(self) -> None:
            self._db.execute(f"BEGIN {self._kind}")

        def __exit__(
            self,
            exc_type: type[BaseException] | None,
            exc: BaseException | None,
            tb: TracebackType | None,
        ) -> None:
            if exc_type is None:
                try:
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.conn.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            elif self._db.conn.in_transaction:
                self._db.execute("ROLLBACK")

    def _write_transaction(self) -> RulesStore._Txn:
        return RulesStore._Txn(self._db, "IMMEDIATE")

    def _read_transaction(self) -> RulesStore._Txn:
        # DEFERRED: takes no lock until the first SELECT, then holds one WAL snapshot until COMMIT.
        return RulesStore._Txn(self._db, "DEFERRED")

    def _sqlite_error(self, e: sqlite3.Error, action: str) -> StoreError:
        text = str(e)
        if _is_busy(e):
            return StoreError(
                f"{self.path}: {action} failed: store stayed locked by another process for more than "
                f"{self._timeout:g}s"
            )
        return StoreError(f"{self.path}: {action} failed ({text})")

    def _to_version(self, row: Sequence[Any]) -> Version:
        vid, seq, parent, content_hash, approver, approved_at, message, changeset, docs = row
        try:
            when = datetime.fromisoformat(approved_at)
            if when.tzinfo is None:
                raise ValueError("approved_at has no timezone")
            documents = json.loads(docs)
            if not isinstance(documents, list) or not all(isinstance(d, str) for d in documents):
                raise ValueError("source_documents is not a JSON list of strings")
            return Version(
                id=str(vid),
                parent=None if parent is None else str(parent),
                content_hash=str(content_hash),
                approver=str(approver),
                approved_at=when.astimezone(UTC),
                message=str(message),
                changeset=str(changeset),
                source_documents=tuple(documents),
                seq=int(seq),
            )
        except (TypeError, ValueError) as e:
            raise StoreError(
                f"version {str(vid)[:_SHORT]} (seq {seq}): corrupt record ({e}); run verify"
            ) from None

    def _select(
        self, where: str = "", params: Sequence[Any] = (), *, order: str = "seq DESC"
    ) -> list[Version]:
        sql = f"SELECT {_COLS} FROM versions {where} ORDER BY {order}"
        try:
            rows = self._conn().execute(sql, list(params)).fetchall()
        except sqlite3.Error as e:
            raise self._sqlite_error(e, "read") from e
        return [self._to_version(r) for r in rows]

    def _head_row(self) -> Version | None:
        found = self._select(order="seq DESC LIMIT 1")
        return found[0] if found else None

    # ------------------------------------------------------------ public API

    def commit(
        self,
        text: str,
        *,
        approver: str,
        approved_at: datetime,
        message: str = "",
        changeset: str = "",
        source_documents: Sequence[str] = (),
        expected_parent: str | _Unset | None = UNSET,
    ) -> Version:
        """Append ``text`` as a new version whose parent is the current head, and return it.

        The head is read and the new row inserted in one ``BEGIN IMMEDIATE`` transaction, so concurrent
        committers serialise into a single linear chain. ``expected_parent`` (a full id, or ``None`` for
        "the store must be empty") turns this into compare-and-swap: if someone else committed since the
        caller looked, the commit is refused rather than silently stacked on top of unseen changes.
        Refused too: naive ``approved_at``, an ``approved_at`` earlier than the parent's (knowledge time
        only moves forward along the chain), and a text identical to the head's (an empty version).
        Any failure leaves the store unchanged.
        """
        _check_text_field("text", text)
        approver = _check_text_field("approver", approver)
        if not approver.strip():
            raise StoreError("approver must not be empty")
        _check_text_field("message", message)
        _check_text_field("changeset", changeset)
        when = _format_time(_check_aware("approved_at", approved_at))
        if isinstance(source_documents, str | bytes):
            raise StoreError("source_documents must be a sequence of document ids, not a single string")
        documents = [_check_text_field("source document id", d) for d in source_documents]
        if not isinstance(expected_parent, _Unset) and expected_parent is not None:
            expected_parent = expected_parent.strip().lower()

        payload = text.encode("utf-8")
        content_hash = _sha256(payload)
        db = self._conn()
        try:
            with self._write_transaction():
                head = self._head_row()
                head_id = head.id if head else None
                if not isinstance(expected_parent, _Unset) and expected_parent != head_id:
                    expected = f"head {expected_parent[:_SHORT]}" if expected_parent else "an empty store"
                    actual = f"head is {head_id[:_SHORT]}" if head_id else "the store is empty"
                    raise StoreError(f"head moved: expected {expected} but {actual}; re-read and retry")
                if head is not None:
                    if head.content_hash == content_hash:
                        raise StoreError(f"no change: text is identical to head version {head.short_id}")
                    if when < _format_time(head.approved_at):
                        raise StoreError(
                            f"approved_at {when} is earlier than head version {head.short_id}'s "
                            f"({_format_time(head.approved_at)}); knowledge time cannot go backwards"
                        )
                existing = db.execute(
                    "SELECT CAST(text AS BLOB) FROM blobs WHERE content_hash = ?", [content_hash]
                ).fetchone()
                if existing is None:
                    db.execute("INSERT INTO blobs (content_hash, text) VALUES (?, ?)", [content_hash, text])
                elif bytes(existing[0]) != payload:
                    raise StoreError(
                        f"{self.path}: stored content {content_hash[:_SHORT]} is corrupt "
                        "(does not match its hash); run verify"
                    )
                vid = version_id(
                    parent=head_id,
                    content_hash=content_hash,
                    approver=approver,
                    approved_at=when,
                    message=message,
                    changeset=changeset,
                    source_documents=documents,
                )
                seq = head.seq + 1 if head else 1
                db.execute(
                    f"INSERT INTO versions ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        vid,
                        seq,
                        head_id,
                        content_hash,
                        approver,
                        when,
                        message,
                        changeset,
                        _canonical_json(documents).decode("utf-8"),
                    ],
                )
        except sqlite3.Error as e:
            raise self._sqlite_error(e, "commit") from e
        return Version(
            id=vid,
            parent=head_id,
            content_hash=content_hash,
            approver=approver,
            approved_at=datetime.fromisoformat(when),
            message=message,
            changeset=changeset,
            source_documents=tuple(documents),
            seq=seq,
        )

    def head(self) -> Version | None:
        """The newest version, or ``None`` for an empty store."""
        return self._head_row()

    def get(self, ref: str) -> Version:
        """Resolve ``ref``: a full id, a unique hex prefix (>= 6 chars), ``head``/``HEAD``, or ``@N`` (seq N).

        Unknown, ambiguous and malformed refs raise :class:`StoreError` naming the ref, because a wrong
        guess here would silently evaluate against the wrong rules.
        """
        if not isinstance(ref, str):
            raise StoreError(f"invalid version ref {ref!r}")
        r = ref.strip()
        if r.lower() == "head":
            head = self._head_row()
            if head is None:
                raise StoreError(f"version {ref!r} does not exist: the store is empty")
            return head
        m = _SEQ_REF_RE.match(r)
        if m:
            seq = int(m.group(1))
            found = self._select("WHERE seq = ?", [seq])
            if not found:
                n = self._count()
                raise StoreError(f"unknown version {ref!r}: the store has {n} version{'s' if n != 1 else ''}")
            return found[0]
        r = r.lower()
        if len(r) < _MIN_PREFIX or len(r) > 64 or not _HEX_RE.match(r):
            raise StoreError(
                f"invalid version ref {ref!r}: use a full id, a hex prefix of at least {_MIN_PREFIX} "
                "characters, 'HEAD' or '@N'"
            )
        # Hex only, so GLOB has no metacharacters to escape; GLOB is case-sensitive and can use the PK index.
        found = self._select("WHERE id GLOB ?", [r + "*"], order="seq DESC LIMIT 3")
        if not found:
            raise StoreError(f"unknown version {ref!r}")
        if len(found) > 1:
            shown = ", ".join(v.short_id for v in found[:2])
            raise StoreError(f"ambiguous version {ref!r}: matches {shown}{' ...' if len(found) > 2 else ''}")
        return found[0]

    def _count(self) -> int:
        try:
            row = self._conn().execute("SELECT count(*) FROM versions").fetchone()
        except sqlite3.Error as e:
            raise self._sqlite_error(e, "read") from e
        return int(row[0])

    def text(self, version: Version | str) -> str:
        """The ruleset text of ``version`` (a :class:`Version` or any ref accepted by :meth:`get`).

        The bytes are re-hashed on every read: evaluating against silently altered rules is the failure
        this store exists to prevent, and hashing a ruleset is cheap.
        """
        v = version if isinstance(version, Version) else self.get(version)
        try:
            row = (
                self._conn()
                .execute("SELECT CAST(text AS BLOB) FROM blobs WHERE content_hash = ?", [v.content_hash])
                .fetchone()
            )
        except sqlite3.Error as e:
            raise self._sqlite_error(e, "read") from e
        if row is None or row[0] is None:
            raise StoreError(
                f"version {v.short_id} (seq {v.seq}): content {v.content_hash[:_SHORT]} is missing"
            )
        data = bytes(row[0])
        if _sha256(data) != v.content_hash:
            raise StoreError(
                f"version {v.short_id} (seq {v.seq}): content does not match its hash (tampered?)"
            )
        return data.decode("utf-8")

    def log(self) -> list[Version]:
        """All versions, newest first."""
        return self._select()

    def as_known_at(self, t: datetime) -> Version | None:
        """The latest version approved at or before ``t`` (knowledge time), or ``None`` if none was yet.

        ``approved_at`` is non-decreasing along the chain, so "latest" is the highest seq among those
        approved by ``t``; for equal timestamps the later commit wins.
        """
        when = _format_time(_check_aware("t", t))
        found = self._select("WHERE approved_at <= ?", [when], order="seq DESC LIMIT 1")
        return found[0] if found else None

    def verify(self) -> list[str]:
        """Re-check every content hash, version id and parent link; one message per problem, ``[]`` if intact.

        Each message names the version (``version <12 hex> (seq N): ...``). Detected: altered text
        (content vs hash), altered records (fields vs id), re-pointed, missing or forked parent links,
        seq gaps, and approval times that go backwards. Reads one consistent snapshot. Not detectable from
        inside the file: removal of the newest versions -- anchor the head id elsewhere for that.
        """
        db = self._conn()
        problems: list[str] = []
        old_factory = db.conn.text_factory
        # Undecodable bytes (only a tamperer can put them there) must be reported, not crash verify;
        # surrogateescape round-trips the exact stored bytes into the hash.
        db.conn.text_factory = lambda b: b.decode("utf-8", "surrogateescape")
        try:
            with self._read_transaction():
                rows = db.execute(f"SELECT {_COLS} FROM versions ORDER BY seq ASC").fetchall()
                blobs = {
                    str(h): (None if b is None else bytes(b))
                    for h, b in db.execute("SELECT content_hash, CAST(text AS BLOB) FROM blobs").fetchall()
                }
        except sqlite3.Error as e:
            raise self._sqlite_error(e, "verify") from e
        finally:
            db.conn.text_factory = old_factory

        by_id = {str(r[0]): r for r in rows}
        children: dict[str, list[str]] = {}
        for r in rows:
            if r[2] is not None:
                children.setdefault(str(r[2]), []).append(str(r[0]))

        prev: Sequence[Any] | None = None
        prev_time: str | None = None
        for r in rows:
            vid, seq, parent, content_hash, approver, approved_at, message, changeset, docs = r
            name = f"version {str(vid)[:_SHORT]} (seq {seq})"
            expected_seq = 1 if prev is None else int(prev[1]) + 1
            if seq != expected_seq:
                if prev is not None and seq == prev[1]:
                    problems.append(f"{name}: duplicate seq")
                else:
                    problems.append(f"{name}: seq gap, expected seq {expected_seq}")

            blob = blobs.get(str(content_hash))
            if blob is None:
                problems.append(f"{name}: content {str(content_hash)[:_SHORT]} is missing")
            elif _sha256(blob) != content_hash:
                problems.append(f"{name}: content does not match its hash")

            try:
                documents = json.loads(docs)
                if not isinstance(documents, list):
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(f"{name}: source_documents is not a JSON list")
                documents = None
            if documents is not None:
                try:
                    recomputed = version_id(
                        parent=parent,
                        content_hash=content_hash,
                        approver=approver,
                        approved_at=approved_at,
                        message=message,
                        changeset=changeset,
                        source_documents=documents,
                    )
                except (TypeError, ValueError):
                    recomputed = None
                if recomputed != vid:
                    problems.append(f"{name}: record does not match its id (fields altered)")

            if prev is None:
                if parent is not None:
                    problems.append(f"{name}: first version has a parent ({str(parent)[:_SHORT]})")
            elif parent is None:
                problems.append(f"{name}: has no parent but is not the first version (second root)")
            elif parent not in by_id:
                problems.append(f"{name}: parent {str(parent)[:_SHORT]} does not exist")
            elif parent != prev[0]:
                problems.append(
                    f"{name}: parent is {str(parent)[:_SHORT]} (seq {by_id[parent][1]}), expected the "
                    f"previous version {str(prev[0])[:_SHORT]} (seq {prev[1]})"
                )
            siblings = children.get(str(parent), []) if parent is not None else []
            if len(siblings) > 1:
                others = ", ".join(s[:_SHORT] for s in siblings if s != vid)
                problems.append(f"{name}: fork: shares parent {str(parent)[:_SHORT]} with {others}")

            try:
                when = _format_time(datetime.fromisoformat(str(approved_at)))
                if when != approved_at:
                    problems.append(f"{name}: approved_at {approved_at!r} is not canonical UTC text")
            except ValueError:
                problems.append(f"{name}: approved_at {approved_at!r} is not a timestamp")
                when = None
            if when is not None and prev_time is not None and when < prev_time:
                problems.append(f"{name}: approved_at {when} is earlier than its predecessor's {prev_time}")
            if when is not None:
                prev_time = when
            prev = r
        return problems

    def close(self) -> None:
        """Close the connection (idempotent). WAL content stays valid for the next opener."""
        if not self._closed:
            self._closed = True
            self._db.close()

    def __enter__(self) -> RulesStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RulesStore({str(self.path)!r})"


def _is_busy(e: sqlite3.Error) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED, which Python only exposes through the message."""
    text = str(e).lower()
    return "locked" in text or "busy" in text


def _split_sql(script: str) -> Iterator[str]:
    """Split the schema script into complete statements (trigger bodies contain ``;``)."""
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                yield buf.strip()
            buf = ""
    if buf.strip():
        yield buf.strip()
