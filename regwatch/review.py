"""The review queue: proposals waiting for a person, and what was decided about them.

``propose_from`` turns extraction results into proposals (``rulesdsl.proposals``) against the approved
rules and queues them in ``<workspace>/review.db`` (SQLite). ``approve`` applies a proposal's edits to the
rules *as approved now*, validates the result, commits it to the bitemporal store (knowledge time = the
approval time, the approver recorded, the DSL diff as the changeset) and rewrites the workspace's
``rules/`` folder; ``reject`` records who rejected it and why. Nothing is ever deleted: a proposal is
``pending``, then ``approved``, ``rejected`` or ``superseded`` (a newer proposal for the same document).

Re-proposing is idempotent: a proposal is identified by its document and its edits (``fingerprint``), and
edits that the rules already contain are not proposed at all.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from rulesdsl.errors import DslError
from rulesdsl.formatter import format_rules
from rulesdsl.proposals import (
    LOW,
    ApplyError,
    Item,
    ProposalError,
    apply_items,
    fingerprint,
    in_scope,
    propose,
    render_diff,
)
from rulesdsl.ruleset import Ruleset
from rulesdsl.store import RulesStore

from .workspace import Workspace, WorkspaceError

REVIEW_DB = "review.db"
STATUSES = ("pending", "approved", "rejected", "superseded")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS proposals (
    id INTEGER PRIMARY KEY,
    document TEXT NOT NULL,
    fingerprint TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    base_version TEXT,
    status TEXT NOT NULL,
    confidence REAL NOT NULL,
    low_confidence INTEGER NOT NULL,
    title TEXT,
    items TEXT NOT NULL,
    decided_at TEXT,
    decided_by TEXT,
    note TEXT,
    version_id TEXT,
    superseded_by INTEGER
);
CREATE INDEX IF NOT EXISTS proposals_document ON proposals (document);
CREATE TABLE IF NOT EXISTS review_log (
    seq INTEGER PRIMARY KEY,
    proposal INTEGER NOT NULL,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    note TEXT
);
"""


class ReviewError(WorkspaceError):
    """A one-line, user-facing problem with a proposal or the queue (exit code 2)."""


@dataclass
class Proposal:
    id: int
    document: str
    fingerprint: str
    source: str
    created_at: str
    base_version: str | None
    status: str
    confidence: float
    low_confidence: int
    title: str | None
    items: list[Item]
    decided_at: str | None = None
    decided_by: str | None = None
    note: str | None = None
    version_id: str | None = None
    superseded_by: int | None = None

    def to_json(self, *, with_items: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in (
            "id", "document", "title", "status", "confidence", "low_confidence", "source", "created_at",
            "base_version", "decided_at", "decided_by", "note", "version_id", "superseded_by", "fingerprint")}
        out["edits"] = sum(1 for i in self.items if i.kind != "note")
        if with_items:
            out["items"] = [i.to_json() for i in self.items]
        return out


@dataclass
class ProposeResult:
    created: list[Proposal] = field(default_factory=list)
    existing: list[tuple[str, int, str]] = field(default_factory=list)  # document, proposal id, its status
    unchanged: list[str] = field(default_factory=list)  # documents whose content is already in the rules
    out_of_scope: list[str] = field(default_factory=list)  # documents that do not concern the EAR
    failed: list[tuple[str, str]] = field(default_factory=list)
    auto_approved: list[tuple[int, str]] = field(default_factory=list)  # proposal id, version id

    def summary(self) -> str:
        s = (f"{len(self.created)} new proposal{'s' if len(self.created) != 1 else ''}, "
             f"{len(self.existing)} already proposed, {len(self.unchanged)} already in the rules")
        if self.out_of_scope:
            s += f", {len(self.out_of_scope)} not about the EAR"
        if self.auto_approved:
            s += f", {len(self.auto_approved)} auto-approved"
        if self.failed:
            s += f", {len(self.failed)} failed" + "".join(f"; {d}: {why}" for d, why in self.failed[:3])
        return s


class ReviewQueue:
    """``review.db``: proposals and the log of decisions. Writes take the write lock up front."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._raw = sqlite3.connect(str(path), timeout=30, isolation_level=None)
            self._raw.execute("PRAGMA busy_timeout = 30000")
            self.db = sqlite_utils.Database(self._raw)
            with self.write():
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        self._raw.execute(stmt)
        except sqlite3.DatabaseError as e:
            raise ReviewError(f"{path}: cannot open the review queue: {e}") from None

    @contextmanager
    def write(self) -> Iterator[None]:
        self._raw.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._raw.execute("ROLLBACK")
            raise
        self._raw.execute("COMMIT")

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> ReviewQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------------------------
    @staticmethod
    def _row(r: dict[str, Any]) -> Proposal:
        items = [Item.from_json(x) for x in json.loads(r["items"])]
        return Proposal(**{**r, "items": items})

    def get(self, pid: int | str) -> Proposal:
        try:
            n = int(str(pid).lstrip("#"))
        except ValueError:
            raise ReviewError(f"'{pid}' is not a proposal number") from None
        rows = list(self.db.query("SELECT * FROM proposals WHERE id = ?", [n]))
        if not rows:
            raise ReviewError(f"no proposal #{n} (see 'regwatch review list --status all')")
        return self._row(rows[0])

    def select(self, status: str | None = "pending") -> list[Proposal]:
        if status in (None, "all"):
            rows = self.db.query("SELECT * FROM proposals ORDER BY id")
        else:
            rows = self.db.query("SELECT * FROM proposals WHERE status = ? ORDER BY id", [status])
        return [self._row(r) for r in rows]

    def log(self, pid: int) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT at, who, action, note FROM review_log WHERE proposal = ? ORDER BY seq",
                                  [pid]))

    def by_fingerprint(self, fp: str) -> Proposal | None:
        rows = list(self.db.query("SELECT * FROM proposals WHERE fingerprint = ?", [fp]))
        return self._row(rows[0]) if rows else None

    # -- writing ------------------------------------------------------------------------------------
    def add(self, document: str, items: Sequence[Item], *, source: str, title: str | None,
            base_version: str | None, at: dt.datetime) -> tuple[Proposal, bool]:
        """Queue a proposal; returns it and whether it is new. An identical proposal (same document, same
        edits) is returned as it is, whatever its status; an older pending one for the document is
        superseded."""
        fp = fingerprint(document, items)
        with self.write():
            found = self.by_fingerprint(fp)
            if found is not None:
                return found, False
            conf = min((i.confidence for i in items), default=1.0)
            low = sum(1 for i in items if i.low or i.confidence < LOW)
            when = at.isoformat(timespec="seconds")
            cur = self._raw.execute(
                "INSERT INTO proposals (document, fingerprint, source, created_at, base_version, status, confidence,"
                " low_confidence, title, items) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)",
                [document, fp, source, when, base_version, conf, low, title,
                 json.dumps([i.to_json() for i in items], ensure_ascii=False, sort_keys=True)])
            pid = int(cur.lastrowid or 0)
            older = [r["id"] for r in self.db.query(
                "SELECT id FROM proposals WHERE document = ? AND status = 'pending' AND id != ?", [document, pid])]
            for o in older:
                self._raw.execute("UPDATE proposals SET status = 'superseded', superseded_by = ? WHERE id = ?",
                                  [pid, o])
                self._log(o, when, "regwatch", "superseded", f"by proposal #{pid}")
            self._log(pid, when, "regwatch", "proposed", source)
        return self.get(pid), True

    def _log(self, pid: int, at: str, who: str, action: str, note: str | None) -> None:
        self._raw.execute("INSERT INTO review_log (proposal, at, who, action, note) VALUES (?, ?, ?, ?, ?)",
                          [pid, at, who, action, note])

    def decide(self, pid: int, status: str, *, who: str, at: dt.datetime, note: str | None,
               version_id: str | None = None) -> None:
        when = at.isoformat(timespec="seconds")
        with self.write():
            cur = self._raw.execute(
                "UPDATE proposals SET status = ?, decided_at = ?, decided_by = ?, note = ?, version_id = ? "
                "WHERE id = ? AND status = 'pending'", [status, when, who, note, version_id, pid])
            if cur.rowcount != 1:
                raise ReviewError(f"proposal #{pid} is no longer pending")
            self._log(pid, when, who, status, note)


def queue_path(ws: Workspace) -> Path:
    return ws.root / REVIEW_DB


# ---------------------------------------------------------------------------------------------------------
# proposing


def approved_rules(ws: Workspace) -> tuple[Ruleset, str | None]:
    """The rules proposals are made against: the store's head (else the rules folder) and its version id."""
    if ws.store_path.exists():
        with RulesStore(ws.store_path) as st:
            head = st.head()
            if head is not None:
                return Ruleset.from_bundle(st.text(head), f"version {head.id[:12]}"), head.id
    return Ruleset.load(ws.rules_dir), None


def load_extractions(paths: Iterable[Path]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(source label, one extraction result) from ``extract --json`` files (an object or a list)."""
    for p in paths:
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ReviewError(f"{p}: not an extraction result: {e}") from None
        for i, ex in enumerate(data if isinstance(data, list) else [data]):
            if not isinstance(ex, dict) or not isinstance(ex.get("document"), dict):
                raise ReviewError(f"{p}: item {i + 1} is not an extraction result (no 'document' object)")
            yield (f"{p.name}" + (f"[{i}]" if isinstance(data, list) else ""), ex)


def workspace_extractions(ws: Workspace) -> list[Path]:
    """The newest extraction of each stored document (``extractions/<doc>.v<N>.json``)."""
    newest: dict[str, tuple[int, Path]] = {}
    for p in (ws.root / "extractions").glob("*.json"):
        stem = p.name[:-5]
        doc, _, v = stem.rpartition(".v")
        n = int(v) if v.isdigit() else 0
        if not doc:
            doc = stem
        if doc not in newest or n > newest[doc][0]:
            newest[doc] = (n, p)
    return [p for _n, p in sorted(newest.values(), key=lambda t: t[1].name)]


def _sort_key(item: tuple[str, dict[str, Any]]) -> tuple[str, str]:
    meta = item[1].get("document") or {}
    return (str(meta.get("publication_date") or "9999"), str(meta.get("document_number") or ""))


def propose_from(ws: Workspace, results: Iterable[tuple[str, dict[str, Any]]], *, at: dt.datetime,
                 auto_approve: bool | None = None, min_confidence: float | None = None,
                 approver: str = "regwatch auto-approve") -> ProposeResult:
    """Queue what each extraction result proposes, oldest document first.

    Proposals made in one run see each other (a correction sees the rule it corrects even when both arrive
    together), but each is approved on its own. With auto-approve on (``[review] auto_approve`` in
    regwatch.toml; off by default) a proposal whose every item reaches the minimum confidence and none is
    flagged is approved at once, with ``approver`` recorded."""
    settings = ws.settings
    auto = settings.auto_approve if auto_approve is None else auto_approve
    floor = settings.auto_approve_min_confidence if min_confidence is None else min_confidence
    out = ProposeResult()
    todo = sorted(results, key=_sort_key)
    if not todo:
        return out
    base, base_version = approved_rules(ws)
    virtual = base
    with ReviewQueue(queue_path(ws)) as q:
        for source, ex in todo:
            doc = str((ex.get("document") or {}).get("document_number") or source)
            if not in_scope(virtual, ex):
                out.out_of_scope.append(doc)
                continue
            try:
                doc, items = propose(virtual, ex)
            except ProposalError as e:
                out.failed.append((doc, str(e)))
                continue
            if not items:
                out.unchanged.append(doc)
                continue
            title = (ex.get("document") or {}).get("title")
            prop, new = q.add(doc, items, source=source, title=str(title)[:300] if title else None,
                              base_version=base_version, at=at)
            if not new:
                out.existing.append((doc, prop.id, prop.status))
                continue
            out.created.append(prop)
            with contextlib.suppress(ApplyError, DslError):  # reported when someone tries to approve it
                virtual = apply_items(virtual, items)
            if auto and prop.low_confidence == 0 and prop.confidence >= floor:
                try:
                    v = approve(ws, prop.id, approver=approver, at=at,
                                note=f"auto-approved: every item has confidence >= {floor}")
                    out.auto_approved.append((prop.id, v))
                except ReviewError as e:
                    out.failed.append((doc, f"auto-approve of #{prop.id} failed: {e}"))
    return out


# ---------------------------------------------------------------------------------------------------------
# deciding


def _write_rules(ws: Workspace, rs: Ruleset) -> None:
    ws.rules_dir.mkdir(parents=True, exist_ok=True)
    for name, rf in rs.files:
        target = ws.rules_dir / name
        fd, tmp = tempfile.mkstemp(dir=ws.rules_dir, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(format_rules(rf))
        os.replace(tmp, target)


def _applied(base: Ruleset, prop: Proposal) -> Ruleset:
    """The rules with the proposal's edits, or a :class:`ReviewError` saying why it cannot be applied."""
    try:
        return apply_items(base, prop.items)
    except ApplyError as e:
        raise ReviewError(f"proposal #{prop.id} no longer applies: {e}") from None
    except DslError as e:
        first = e.diagnostics[0] if e.diagnostics else None
        raise ReviewError(f"proposal #{prop.id} would make invalid rules: {first.message if first else e}") from None


def preview(ws: Workspace, prop: Proposal) -> tuple[str, str | None]:
    """The DSL diff the proposal makes against the rules as approved now, or why it no longer applies."""
    base, _v = approved_rules(ws)
    try:
        after = _applied(base, prop)
    except ReviewError as e:
        return "", str(e)
    return render_diff(base.bundle_text(), after.bundle_text()), None


def approve(ws: Workspace, pid: int | str, *, approver: str, at: dt.datetime, note: str | None = None) -> str:
    """Apply a pending proposal to the approved rules, commit a new version, rewrite ``rules/``; returns
    the new version id. The rules folder must hold exactly the approved head (no unsaved edits)."""
    if not approver.strip():
        raise ReviewError("no approver: pass --as NAME or set identity.approver in regwatch.toml")
    with ReviewQueue(queue_path(ws)) as q:
        prop = q.get(pid)
        if prop.status != "pending":
            raise ReviewError(f"proposal #{prop.id} is {prop.status}, not pending")
        if not any(i.kind != "note" for i in prop.items):
            raise ReviewError(f"proposal #{prop.id} has no edits (only notes); reject it with a note instead")
        with RulesStore(ws.store_path) as store:
            head = store.head()
            if head is None:
                raise ReviewError(f"{ws.store_path}: the store has no approved version (run 'regwatch init')")
            text = store.text(head)
            if ws.rules_dir.is_dir() and any(ws.rules_dir.glob("*.rules")):
                try:
                    local = Ruleset.load(ws.rules_dir, validate=False).bundle_text()
                except DslError:
                    local = None
                if local != text:
                    raise ReviewError(f"{ws.rules_dir} differs from the approved version {head.id[:12]}: commit "
                                      "('regwatch rules commit') or discard those edits first")
            base = Ruleset.from_bundle(text, f"version {head.id[:12]}")
            after = _applied(base, prop)
            new_text = after.bundle_text()
            sources = sorted({prop.document} | {d for i in prop.items
                                                for d in (i.op.get("cite") or {}).get("docs", [])})
            sources = [s for s in sources if s in after.documents]
            edits = [i.summary for i in prop.items if i.kind != "note"]
            message = (f"Proposal #{prop.id} ({prop.document}): " + "; ".join(edits[:4])
                       + (f"; and {len(edits) - 4} more" if len(edits) > 4 else "")
                       + (f". Note: {note}" if note else ""))
            v = store.commit(new_text, approver=approver, approved_at=at, message=message[:2000],
                             changeset=render_diff(text, new_text), source_documents=sources,
                             expected_parent=head.id)
        _write_rules(ws, after)
        q.decide(prop.id, "approved", who=approver, at=at, note=note, version_id=v.id)
    return v.id


def reject(ws: Workspace, pid: int | str, *, who: str, at: dt.datetime, note: str) -> Proposal:
    if not note.strip():
        raise ReviewError("a rejection needs a reason: --note TEXT")
    if not who.strip():
        raise ReviewError("no reviewer: pass --as NAME or set identity.approver in regwatch.toml")
    with ReviewQueue(queue_path(ws)) as q:
        prop = q.get(pid)
        if prop.status != "pending":
            raise ReviewError(f"proposal #{prop.id} is {prop.status}, not pending")
        q.decide(prop.id, "rejected", who=who, at=at, note=note)
        return q.get(prop.id)
