"""Tests for :mod:`rulesdsl.store` against real SQLite files (no mocks), including multi-process writers."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulesdsl.store import UNSET, RulesStore, StoreError, Version, version_id

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)

# The exact recipe documented in docs/store.md (kept here so the docs cannot drift from the code).
ID_RECIPE_SQL = (
    "json_object('approved_at', approved_at, 'approver', approver, 'changeset', changeset, "
    "'content_hash', content_hash, 'message', message, 'parent', parent, "
    "'source_documents', json(source_documents))"
)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def raw(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection, as a tamperer (or an auditor) would use."""
    return sqlite3.connect(str(path), isolation_level=None)


def unprotect(path: Path) -> sqlite3.Connection:
    """Raw connection with the append-only triggers and the no-fork index dropped: a deliberate tamperer."""
    conn = raw(path)
    for name in ("versions_no_update", "versions_no_delete", "blobs_no_update", "blobs_no_delete"):
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("DROP INDEX versions_one_child_per_parent")
    return conn


def snapshot(path: Path) -> tuple[object, ...]:
    """Everything a failed operation must not change."""
    conn = raw(path)
    try:
        return (
            conn.execute("SELECT id FROM versions ORDER BY seq DESC LIMIT 1").fetchone(),
            conn.execute("SELECT count(*) FROM versions").fetchone()[0],
            conn.execute("SELECT count(*) FROM blobs").fetchone()[0],
            conn.execute("SELECT * FROM versions ORDER BY seq").fetchall(),
        )
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "rules.db"


@pytest.fixture
def store(db: Path) -> Iterator[RulesStore]:
    s = RulesStore(db)
    yield s
    s.close()


def fill(store: RulesStore, n: int) -> list[Version]:
    return [
        store.commit(f"ruleset v{i}\n", approver=f"user{i % 3}", approved_at=at(i), message=f"change {i}")
        for i in range(n)
    ]


# ----------------------------------------------------------------------------- round trip


def test_round_trip_commit_head_get_log_text(db: Path) -> None:
    cest = timezone(timedelta(hours=2))
    with RulesStore(db) as s:
        assert s.head() is None
        assert s.log() == []
        v1 = s.commit(
            "ruleset a\n",
            approver="alice",
            approved_at=datetime(2025, 1, 1, 14, 0, tzinfo=cest),
            message="initial",
            changeset="+ everything",
            source_documents=["2025-00636", "2024-12345"],
            expected_parent=None,
        )
        v2 = s.commit("ruleset b\n", approver="bob", approved_at=at(0), expected_parent=v1.id)
        v3 = s.commit("ruleset a\n", approver="carol", approved_at=at(1))  # revert to an earlier text

        assert (v1.seq, v2.seq, v3.seq) == (1, 2, 3)
        assert v1.parent is None and v2.parent == v1.id and v3.parent == v2.id
        assert v1.approved_at == datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
        assert v1.approved_at.utcoffset() == timedelta(0)
        assert v1.source_documents == ("2025-00636", "2024-12345")
        assert v1.content_hash == hashlib.sha256(b"ruleset a\n").hexdigest() == v3.content_hash
        assert len(v1.id) == 64 and v1.short_id == v1.id[:12]

        assert s.head() == v3
        assert s.log() == [v3, v2, v1]
        assert s.get(v1.id) == v1
        assert s.get(v2.id[:6]) == v2
        assert s.get(v2.id[:20].upper()) == v2
        assert s.get("HEAD") == s.get("head") == v3
        assert s.get("@1") == v1 and s.get("@3") == v3
        assert s.text(v1) == "ruleset a\n" == s.text(v1.id)
        assert s.text("@2") == "ruleset b\n"
        assert s.text("HEAD") == "ruleset a\n"
        assert s.verify() == []

    conn = raw(db)
    assert conn.execute("SELECT count(*) FROM blobs").fetchone()[0] == 2  # identical texts stored once
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()

    with RulesStore(db) as again:  # persisted, and reopening validates the schema
        assert again.log() == [v3, v2, v1]


def test_refs_unknown_and_invalid(store: RulesStore) -> None:
    with pytest.raises(StoreError, match=r"'HEAD'.*empty"):
        store.get("HEAD")
    fill(store, 3)
    for ref, pattern in [
        ("@0", "unknown version '@0'"),
        ("@4", "unknown version '@4'"),
        ("ffffff", "unknown version 'ffffff'"),
        ("f" * 64, "unknown version"),
        ("abc", "invalid version ref 'abc'"),
        ("xyz123", "invalid version ref 'xyz123'"),
        ("f" * 65, "invalid version ref"),
        ("", "invalid version ref ''"),
        ("@-1", "invalid version ref '@-1'"),
    ]:
        with pytest.raises(StoreError, match=pattern):
            store.get(ref)
    with pytest.raises(StoreError, match="unknown version 'ffffff'"):
        store.text("ffffff")


def _commit_colliding(store: RulesStore, width: int = 6) -> tuple[Version, Version]:
    """Commit a real version whose id shares its first ``width`` hex digits with an existing one.

    Searches over the message only (prefix/suffix of the canonical JSON precomputed), ~16**6/N hashes.
    """
    head = store.head()
    assert head is not None
    known = {v.id[:width]: v for v in store.log()}
    when = head.approved_at + timedelta(seconds=1)
    base = {
        "approved_at": when.isoformat(timespec="microseconds"),
        "approver": "mallory",
        "changeset": "",
        "content_hash": hashlib.sha256(b"collide\n").hexdigest(),
        "message": "\x00MARK\x00",
        "parent": head.id,
        "source_documents": [],
    }
    doc = json.dumps(base, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    before, after = doc.split("\\u0000MARK\\u0000")
    h0 = hashlib.sha256(before.encode())
    tail = after.encode()
    for i in range(50_000_000):
        h = h0.copy()
        h.update(b"%d" % i + tail)
        digest = h.hexdigest()
        if digest[:width] in known:
            new = store.commit("collide\n", approver="mallory", approved_at=when, message=str(i))
            assert new.id == digest
            return known[digest[:width]], new
    raise AssertionError("no collision found")


def test_ambiguous_prefix(store: RulesStore) -> None:
    fill(store, 120)
    old, new = _commit_colliding(store)
    prefix = new.id[:6]
    with pytest.raises(StoreError, match=f"ambiguous version '{prefix}'") as info:
        store.get(prefix)
    assert old.short_id in str(info.value) and new.short_id in str(info.value)
    # a longer prefix disambiguates
    k = next(k for k in range(7, 65) if old.id[:k] != new.id[:k])
    assert store.get(new.id[:k]) == new
    assert store.verify() == []


# ----------------------------------------------------------------------------- chain / ids


def test_id_depends_on_every_field_and_is_deterministic() -> None:
    base: dict[str, object] = {
        "parent": "a" * 64,
        "content_hash": "b" * 64,
        "approver": "alice",
        "approved_at": "2025-01-15T12:00:00.000000+00:00",
        "message": "m",
        "changeset": "c",
        "source_documents": ("2025-00636",),
    }
    reference = version_id(**base)  # type: ignore[arg-type]
    assert reference == version_id(**base)  # type: ignore[arg-type]
    variants = {
        "parent": None,
        "content_hash": "c" * 64,
        "approver": "alice ",
        "approved_at": "2025-01-15T12:00:00.000001+00:00",
        "message": "m2",
        "changeset": "",
        "source_documents": ("2025-00636", "x"),
    }
    seen = {reference}
    for field, value in variants.items():
        changed = version_id(**{**base, field: value})  # type: ignore[arg-type]
        assert changed not in seen, field
        seen.add(changed)
    # document order is part of the record
    assert version_id(**{**base, "source_documents": ("b", "a")}) != version_id(  # type: ignore[arg-type]
        **{**base, "source_documents": ("a", "b")}  # type: ignore[arg-type]
    )


def test_same_history_same_ids_and_parent_linkage(tmp_path: Path) -> None:
    with RulesStore(tmp_path / "a.db") as a, RulesStore(tmp_path / "b.db") as b:
        va, vb = fill(a, 4), fill(b, 4)
        assert [v.id for v in va] == [v.id for v in vb]  # content-addressed: same records, same ids
        for prev, cur in itertools.pairwise(va):
            assert cur.parent == prev.id
        # a different first version changes every later id (hash chain)
        c = RulesStore(tmp_path / "c.db")
        c.commit("ruleset v0\n", approver="someone else", approved_at=at(0), message="change 0")
        for i in range(1, 4):
            c.commit(f"ruleset v{i}\n", approver=f"user{i % 3}", approved_at=at(i), message=f"change {i}")
        assert not {v.id for v in c.log()} & {v.id for v in va}
        c.close()


def test_documented_sqlite_recipe_reproduces_ids(store: RulesStore, db: Path) -> None:
    store.commit(
        'quote " backslash \\ tab\t nl\n ctl\x01 é ü 中 \u2028',
        approver="Zoë",
        approved_at=at(0),
        message="m\r\n",
        changeset="@@ -1 +1 @@\n-a\n+b\n",
        source_documents=["2025-00636", 'we"ird\\'],
    )
    fill(store, 2)
    conn = raw(db)
    rows = conn.execute(
        f"SELECT id, content_hash, CAST({ID_RECIPE_SQL} AS BLOB), "
        "(SELECT CAST(text AS BLOB) FROM blobs b WHERE b.content_hash = v.content_hash) FROM versions v"
    ).fetchall()
    conn.close()
    assert len(rows) == 3
    for vid, content_hash, record, text in rows:
        assert hashlib.sha256(record).hexdigest() == vid
        assert hashlib.sha256(text).hexdigest() == content_hash


@pytest.mark.skipif(shutil.which("sqlite3") is None or shutil.which("sha256sum") is None, reason="no CLI")
def test_documented_shell_recipe(store: RulesStore, db: Path, tmp_path: Path) -> None:
    v1, v2 = fill(store, 2)
    store.close()
    out = tmp_path / "record.json"
    content = tmp_path / "content.txt"
    subprocess.run(
        [
            "sqlite3",
            str(db),
            f"SELECT writefile('{out}', {ID_RECIPE_SQL}) FROM versions WHERE seq = 2;"
            f"SELECT writefile('{content}', text) FROM blobs WHERE content_hash = '{v2.content_hash}';",
        ],
        check=True,
        capture_output=True,
    )
    sums = subprocess.run(
        ["sha256sum", str(out), str(content)], check=True, capture_output=True, text=True
    ).stdout.split()
    assert sums[0] == v2.id and sums[2] == v2.content_hash
    assert json.loads(out.read_text())["parent"] == v1.id
    broken_links = subprocess.run(
        [
            "sqlite3",
            str(db),
            "SELECT v.seq FROM versions v LEFT JOIN versions p ON p.seq = v.seq - 1"
            " WHERE v.parent IS NOT p.id",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert broken_links == ""


# ----------------------------------------------------------------------------- tampering


def test_append_only_triggers_refuse_casual_edits(store: RulesStore, db: Path) -> None:
    fill(store, 2)
    conn = raw(db)
    for sql in (
        "UPDATE versions SET approver = 'x'",
        "DELETE FROM versions WHERE seq = 2",
        "UPDATE blobs SET text = 'x'",
        "DELETE FROM blobs",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(sql)
    conn.close()
    assert store.verify() == []


def test_tampered_blob_is_reported_and_unreadable(store: RulesStore, db: Path) -> None:
    v1, v2, v3 = fill(store, 3)
    v4 = store.commit("ruleset v1\n", approver="dave", approved_at=at(5))  # shares v2's blob
    conn = unprotect(db)
    conn.execute(
        "UPDATE blobs SET text = 'ruleset v1 (quietly widened)\n' WHERE content_hash = ?", [v2.content_hash]
    )
    conn.close()

    problems = store.verify()
    assert problems == [
        f"version {v2.short_id} (seq 2): content does not match its hash",
        f"version {v4.short_id} (seq 4): content does not match its hash",
    ]
    with pytest.raises(StoreError, match=f"version {v2.short_id} \\(seq 2\\): content does not match"):
        store.text(v2)
    with pytest.raises(StoreError, match=v4.short_id):
        store.text("HEAD")
    assert store.text(v1) == "ruleset v0\n" and store.text(v3) == "ruleset v2\n"
    # committing that text again must not build on the corrupt blob
    store.commit("something else\n", approver="eve", approved_at=at(8))
    before = snapshot(db)
    with pytest.raises(StoreError, match=f"stored content {v2.content_hash[:12]} is corrupt"):
        store.commit("ruleset v1\n", approver="eve", approved_at=at(9))
    assert snapshot(db) == before


def test_tampered_approver_is_reported(store: RulesStore, db: Path) -> None:
    versions = fill(store, 4)
    conn = unprotect(db)
    conn.execute("UPDATE versions SET approver = 'ceo' WHERE seq = 3")
    conn.close()
    assert store.verify() == [
        f"version {versions[2].short_id} (seq 3): record does not match its id (fields altered)"
    ]
    assert store.get("@3").approver == "ceo"  # reads still work; verify is what catches it


def test_repointed_parent_is_reported(store: RulesStore, db: Path) -> None:
    v1, v2, v3, _v4 = fill(store, 4)
    conn = unprotect(db)
    conn.execute("UPDATE versions SET parent = ? WHERE seq = 3", [v1.id])  # skip v2
    conn.close()
    problems = store.verify()
    mine = [p for p in problems if p.startswith(f"version {v3.short_id} (seq 3)")]
    assert any("record does not match its id" in p for p in mine)
    assert any(
        f"parent is {v1.short_id} (seq 1), expected the previous version {v2.short_id}" in p for p in mine
    )
    assert any(f"fork: shares parent {v1.short_id} with {v2.short_id}" in p for p in mine)
    assert any(p.startswith(f"version {v2.short_id} (seq 2): fork") for p in problems)


def test_missing_parent_seq_gap_and_second_root(store: RulesStore, db: Path) -> None:
    v1, v2, v3, v4, v5 = fill(store, 5)
    conn = unprotect(db)
    conn.execute("DELETE FROM versions WHERE seq = 2")
    conn.execute("UPDATE versions SET parent = NULL WHERE seq = 5")
    conn.close()
    problems = store.verify()
    assert f"version {v3.short_id} (seq 3): seq gap, expected seq 2" in problems
    assert f"version {v3.short_id} (seq 3): parent {v2.short_id} does not exist" in problems
    assert (
        f"version {v5.short_id} (seq 5): has no parent but is not the first version (second root)" in problems
    )
    assert f"version {v5.short_id} (seq 5): record does not match its id (fields altered)" in problems
    assert not any(v1.short_id in p or v4.short_id in p for p in problems)


def test_garbage_bytes_in_a_record_are_reported_not_crashing(store: RulesStore, db: Path) -> None:
    versions = fill(store, 2)
    conn = unprotect(db)
    conn.execute("UPDATE versions SET approver = CAST(x'ff00fe' AS TEXT) WHERE seq = 1")
    conn.execute("UPDATE versions SET source_documents = 'not json' WHERE seq = 2")
    conn.close()
    problems = store.verify()
    assert (
        f"version {versions[0].short_id} (seq 1): record does not match its id (fields altered)" in problems
    )
    assert f"version {versions[1].short_id} (seq 2): source_documents is not a JSON list" in problems
    with pytest.raises(StoreError):
        store.log()


# ----------------------------------------------------------------------------- knowledge time


def test_as_known_at_boundaries(store: RulesStore) -> None:
    v1 = store.commit("a", approver="x", approved_at=at(1))
    v2 = store.commit("b", approver="x", approved_at=at(2))
    v3 = store.commit("c", approver="x", approved_at=at(2))  # same instant: the later commit wins
    v4 = store.commit("d", approver="x", approved_at=at(3))
    tick = timedelta(microseconds=1)
    assert store.as_known_at(at(1) - tick) is None
    assert store.as_known_at(at(1)) == v1
    assert store.as_known_at(at(1) + tick) == v1
    assert store.as_known_at(at(1.5)) == v1
    assert store.as_known_at(at(2) - tick) == v1
    assert store.as_known_at(at(2)) == v3 != v2
    assert store.as_known_at(at(3) - tick) == v3
    assert store.as_known_at(at(3)) == v4
    assert store.as_known_at(at(1000)) == v4
    # same instant expressed in another zone
    est = timezone(timedelta(hours=-5))
    assert store.as_known_at(at(1).astimezone(est)) == v1
    assert store.as_known_at((at(1) - tick).astimezone(est)) is None
    with pytest.raises(StoreError, match="timezone-aware"):
        store.as_known_at(datetime(2025, 6, 1))


def test_as_known_at_empty_store(store: RulesStore) -> None:
    assert store.as_known_at(at(0)) is None


# ----------------------------------------------------------------------------- bad inputs


def test_rejected_commits_leave_store_unchanged(store: RulesStore, db: Path) -> None:
    v1, v2 = fill(store, 2)
    before = snapshot(db)
    cases: list[tuple[str, dict[str, object]]] = [
        ("timezone-aware", {"text": "new", "approved_at": datetime(2025, 6, 1)}),
        ("no change: text is identical to head version " + v2.short_id, {"text": "ruleset v1\n"}),
        (f"head moved: expected head {v1.short_id} but head is {v2.short_id}", {"expected_parent": v1.id}),
        ("head moved: expected an empty store", {"expected_parent": None}),
        ("earlier than head version", {"approved_at": at(0.5)}),
        ("approver must not be empty", {"approver": "  "}),
        ("not a single string", {"source_documents": "2025-00636"}),
        ("NUL", {"message": "a\x00b"}),
        ("not valid Unicode", {"text": "bad \ud800 surrogate"}),
        ("must be a datetime", {"approved_at": "2025-06-01"}),
    ]
    for pattern, overrides in cases:
        kwargs: dict[str, object] = {"text": "new text", "approver": "eve", "approved_at": at(10)}
        kwargs.update(overrides)
        text = kwargs.pop("text")
        with pytest.raises(StoreError, match=pattern):
            store.commit(text, **kwargs)  # type: ignore[arg-type]
        assert snapshot(db) == before, pattern
    assert store.head() == v2
    assert store.verify() == []
    # and the store still accepts a good commit afterwards (no transaction left open)
    v3 = store.commit("new text", approver="eve", approved_at=at(10), expected_parent=v2.id)
    assert v3.parent == v2.id and store.verify() == []


def test_expected_parent_unset_is_default(store: RulesStore) -> None:
    v1 = store.commit("a", approver="x", approved_at=at(0), expected_parent=UNSET)
    assert store.commit("b", approver="x", approved_at=at(0)).parent == v1.id


def test_not_a_database_file(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    junk = os.urandom(4096)
    path.write_bytes(b"definitely not sqlite " + junk)
    with pytest.raises(StoreError, match=str(path).replace("\\", "\\\\")):
        RulesStore(path)
    assert path.read_bytes() == b"definitely not sqlite " + junk
    assert not Path(str(path) + "-wal").exists()


def test_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = raw(path)
    conn.execute("CREATE TABLE customers (name TEXT)")
    conn.close()
    with pytest.raises(StoreError, match=f"{path}.*not a regwatch rules store"):
        RulesStore(path)


def test_newer_or_unknown_schema_is_refused(db: Path) -> None:
    RulesStore(db).close()
    conn = raw(db)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(StoreError, match=f"{db}: rules store schema version 99 is newer"):
        RulesStore(db)
    conn = raw(db)
    conn.execute("UPDATE meta SET value = 'banana' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(StoreError, match=f"{db}: unknown rules store schema version 'banana'"):
        RulesStore(db)


def test_unopenable_path(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"cannot open|not a usable"):
        RulesStore(tmp_path / "no" / "such" / "dir" / "rules.db")


def test_closed_store_and_pragmas(db: Path) -> None:
    s = RulesStore(db)
    pragmas = {
        name: s._db.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
    }
    assert pragmas == {"journal_mode": "wal", "busy_timeout": 30000, "foreign_keys": 1, "synchronous": 2}
    s.close()
    s.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        s.head()


# ----------------------------------------------------------------------------- concurrency

WORKER = textwrap.dedent(
    """
    import json, os, sys, time, traceback
    from datetime import datetime, timezone
    from rulesdsl.store import RulesStore
    path, worker, n, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    while not os.path.exists(go):
        time.sleep(0.001)
    errors, ids = [], []
    try:
        with RulesStore(path) as s:
            for i in range(n):
                try:
                    v = s.commit(f"worker {worker} commit {i}\\n", approver=f"w{worker}",
                                 approved_at=datetime(2025, 1, 1, tzinfo=timezone.utc),
                                 message=f"{worker}/{i}")
                    ids.append(v.id)
                    time.sleep(0.001)  # a little work between commits, so the writers interleave
                except Exception as e:
                    errors.append(f"{type(e).__name__}: {e}")
    except Exception:
        errors.append(traceback.format_exc())
    print(json.dumps({"errors": errors, "ids": ids}))
    """
)

READER = textwrap.dedent(
    """
    import json, os, sys, time, traceback
    from rulesdsl.store import RulesStore
    path, go, stop = sys.argv[1], sys.argv[2], sys.argv[3]
    while not os.path.exists(go):
        time.sleep(0.001)
    errors, reads, longest = [], 0, 0
    with RulesStore(path) as s:
        while True:
            last = os.path.exists(stop)
            try:
                log = s.log()
                reads += 1
                longest = max(longest, len(log))
                seqs = [v.seq for v in log]
                if seqs != list(range(len(log), 0, -1)):
                    errors.append(f"non-contiguous snapshot: {seqs[:5]}...")
                for newer, older in zip(log, log[1:]):
                    if newer.parent != older.id:
                        errors.append(f"broken link at seq {newer.seq}")
            except Exception:
                errors.append(traceback.format_exc())
            if last:
                break
    print(json.dumps({"errors": errors, "reads": reads, "longest": longest}))
    """
)


def _spawn(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_four_concurrent_writer_processes_and_a_reader(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"  # fresh: the processes also race to create the schema
    go, stop = tmp_path / "go", tmp_path / "stop"
    writers = [_spawn(WORKER, str(db), str(w), "25", str(go)) for w in range(4)]
    reader = _spawn(READER, str(db), str(go), str(stop))
    time.sleep(0.3)  # let interpreters start so they really do hit the file at the same moment
    go.touch()
    results = []
    for p in writers:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    stop.touch()
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    read = json.loads(out)

    all_errors = [e for r in results for e in r["errors"]]
    assert all_errors == []
    assert not any("locked" in e for e in all_errors + read["errors"])
    assert read["errors"] == [], read["errors"][:3]
    assert read["reads"] > 0

    with RulesStore(db) as s:
        log = s.log()
        assert len(log) == 100
        assert [v.seq for v in reversed(log)] == list(range(1, 101))
        chain = list(reversed(log))
        assert chain[0].parent is None
        assert all(cur.parent == prev.id for prev, cur in itertools.pairwise(chain))
        assert {v.id for v in log} == {i for r in results for i in r["ids"]}
        assert s.verify() == []
        # each worker's own commits appear in its own order
        for w in range(4):
            mine = [int(v.message.split("/")[1]) for v in chain if v.approver == f"w{w}"]
            assert mine == list(range(25))


def test_lock_timeout_is_a_store_error_and_readers_are_not_blocked(db: Path) -> None:
    with RulesStore(db) as s:
        v1 = s.commit("a", approver="x", approved_at=at(0))
    holder = raw(db)
    holder.execute("BEGIN IMMEDIATE")  # another writer holding the write lock
    try:
        with RulesStore(db, timeout=0.2) as s:
            before = snapshot(db)
            started = time.monotonic()
            with pytest.raises(StoreError, match=r"commit failed: store stayed locked .* more than 0.2s"):
                s.commit("b", approver="x", approved_at=at(1))
            assert time.monotonic() - started >= 0.15
            assert snapshot(db) == before
            # WAL: reads and verification proceed while a writer holds the lock
            assert s.log() == [v1] and s.verify() == [] and s.text("HEAD") == "a"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with RulesStore(db) as s:  # and once the lock is released, commits go through
        assert s.commit("b", approver="x", approved_at=at(1)).parent == v1.id


# ----------------------------------------------------------------------------- property


record = st.tuples(
    st.text(max_size=40),  # ruleset text
    st.text(min_size=1, max_size=10).filter(lambda a: a.strip() != "" and "\x00" not in a),
    st.text(max_size=10).filter(lambda m: "\x00" not in m),
    st.lists(st.from_regex(r"\A20\d\d-\d{5}\Z"), max_size=3),
    st.integers(min_value=0, max_value=10**9),  # microseconds after the previous approval
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(record, min_size=1, max_size=8))
def test_random_histories_verify_and_keep_order(records: list[tuple[str, str, str, list[str], int]]) -> None:
    texts = [r[0].replace("\x00", "") for r in records]
    with tempfile.TemporaryDirectory() as tmp, RulesStore(Path(tmp) / "h.db") as s:
        when = T0
        committed: list[Version] = []
        for text, (_, approver, message, docs, delta) in zip(texts, records, strict=True):
            when += timedelta(microseconds=delta)
            head = s.head()
            if head is not None and s.text(head) == text:
                with pytest.raises(StoreError, match="no change"):
                    s.commit(text, approver=approver, approved_at=when)
                continue
            v = s.commit(text, approver=approver, approved_at=when, message=message, source_documents=docs)
            committed.append(v)
            assert s.text(v) == text
        assert s.log() == list(reversed(committed))
        assert [v.seq for v in committed] == list(range(1, len(committed) + 1))
        assert s.verify() == []
        for v in committed:
            assert s.get(v.id) == v == s.get(f"@{v.seq}")
            assert s.as_known_at(v.approved_at).seq >= v.seq  # type: ignore[union-attr]
        conn = sqlite3.connect(str(Path(tmp) / "h.db"))
        for vid, rec in conn.execute(f"SELECT id, CAST({ID_RECIPE_SQL} AS BLOB) FROM versions"):
            assert hashlib.sha256(rec).hexdigest() == vid
        conn.close()
