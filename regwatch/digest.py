"""The weekly digest: what a compliance team reads at the end of the pipeline.

Sections: new documents (stored by the crawler since the last digest), proposals awaiting review, approved
rule changes (store versions since the last digest), reclassified assets (a diff report over the same span,
when an inventory is configured), and upcoming effective and compliance dates (and the ends of suspensions,
when rules come back on their own). Written to ``<workspace>/outbox/`` as Markdown, HTML and JSON with the same
content, and optionally POSTed to a webhook (``regwatch.notify``).

The span is from the previous digest (``outbox/.last-digest.json``) to ``at``; the first digest covers
everything. Nothing here reads the clock: ``at`` (knowledge time) and ``today`` (valid time) are arguments.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .workspace import Workspace

STATE = ".last-digest.json"
HORIZON_DAYS = 120


@dataclass
class Digest:
    at: dt.datetime
    today: dt.date
    since: dt.datetime | None
    rules_version: str | None
    new_documents: list[dict[str, Any]] = field(default_factory=list)
    pending_proposals: list[dict[str, Any]] = field(default_factory=list)
    approved_changes: list[dict[str, Any]] = field(default_factory=list)
    reclassified: list[dict[str, Any]] = field(default_factory=list)
    reclassified_note: str | None = None
    upcoming: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"schema": "regwatch-digest/1", "at": self.at.isoformat(timespec="seconds"),
                "today": self.today.isoformat(), "since": self.since.isoformat(timespec="seconds") if self.since
                else None, "rules_version": self.rules_version, "new_documents": self.new_documents,
                "pending_proposals": self.pending_proposals, "approved_changes": self.approved_changes,
                "reclassified": self.reclassified, "reclassified_note": self.reclassified_note,
                "upcoming": self.upcoming,
                "summary": {"new_documents": len(self.new_documents), "pending": len(self.pending_proposals),
                            "approved": len(self.approved_changes), "reclassified": len(self.reclassified),
                            "upcoming": len(self.upcoming)}}

    def headline(self) -> str:
        s = self.to_json()["summary"]
        return (f"{s['new_documents']} new document{'s' if s['new_documents'] != 1 else ''}, {s['pending']} "
                f"awaiting review, {s['approved']} approved, {s['reclassified']} reclassified, {s['upcoming']} "
                f"upcoming date{'s' if s['upcoming'] != 1 else ''}")


def _since(ws: Workspace) -> dt.datetime | None:
    p = ws.root / "outbox" / STATE
    try:
        return dt.datetime.fromisoformat(json.loads(p.read_text(encoding="utf-8"))["at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _documents(ws: Workspace, since: dt.datetime | None) -> list[dict[str, Any]]:
    db = ws.root / "documents.db"
    if not db.exists():
        return []
    from crawler.docstore import DocumentStore

    out = []
    with DocumentStore(db) as store:
        for d in store.latest():
            try:
                fetched = dt.datetime.fromisoformat(d.fetched_at.replace("Z", "+00:00"))
            except ValueError:
                fetched = None
            if since is not None and fetched is not None and fetched <= since:
                continue
            api = d.metadata.get("api") or {}
            out.append({"source": d.source, "id": d.doc_id, "version": d.version, "fetched_at": d.fetched_at,
                        "title": str(api.get("title") or d.metadata.get("title") or ""),
                        "citation": api.get("citation"), "publication_date": api.get("publication_date"),
                        "url": d.url, "changed": d.version > 1})
    return sorted(out, key=lambda x: (x["source"], str(x["publication_date"] or ""), x["id"]))


def _proposals(ws: Workspace) -> list[dict[str, Any]]:
    from .review import REVIEW_DB, ReviewQueue

    if not (ws.root / REVIEW_DB).exists():
        return []
    with ReviewQueue(ws.root / REVIEW_DB) as q:
        return [{"id": p.id, "document": p.document, "title": p.title, "confidence": p.confidence,
                 "low_confidence": p.low_confidence, "edits": sum(1 for i in p.items if i.kind != "note"),
                 "created_at": p.created_at, "items": [i.summary for i in p.items]} for p in q.select("pending")]


def _approved(ws: Workspace, since: dt.datetime | None) -> tuple[list[dict[str, Any]], str | None]:
    from rulesdsl.store import RulesStore

    if not ws.store_path.exists():
        return [], None
    with RulesStore(ws.store_path) as st:
        log = st.log()
        head = st.head()
    out = [{"version": v.id, "seq": v.seq, "approver": v.approver, "approved_at": v.approved_at.isoformat(),
            "message": v.message, "sources": list(v.source_documents)}
           for v in log if since is None or v.approved_at > since]
    return out, head.id if head else None


def upcoming_dates(rs: Any, today: dt.date, horizon_days: int = HORIZON_DAYS) -> list[dict[str, Any]]:
    """Effective and compliance dates, and status changes (a suspension ending, a non-enforcement starting),
    from ``today`` through the horizon, each with its document."""
    end = today + dt.timedelta(days=horizon_days)
    out: list[dict[str, Any]] = []

    def add(day: dt.date | None, kind: str, what: str, doc: str | None) -> None:
        if day is not None and today <= day <= end:
            d = rs.documents.get(doc) if doc else None
            out.append({"date": day.isoformat(), "kind": kind, "what": what, "document": doc,
                        "citation": d.citation if d is not None else None})

    for doc in rs.documents.values():
        for dd in doc.dates:
            if dd.kind in ("effective", "compliance", "comments_due"):
                add(dd.date, dd.kind, f"{doc.title or doc.id}" + (f" ({dd.scope})" if dd.scope else ""), doc.id)
                if dd.end is not None:
                    add(dd.end + dt.timedelta(days=1), "window_ends", f"{doc.title or doc.id}: window "
                        f"{dd.date}..{dd.end} ends" + (f" ({dd.scope})" if dd.scope else ""), doc.id)
        for ev in doc.statuses:
            add(ev.start, ev.kind, f"{doc.title or doc.id}: {ev.kind.replace('_', ' ')}", doc.id)
            if ev.end is not None:
                add(ev.end + dt.timedelta(days=1), f"{ev.kind}_ends",
                    f"{doc.title or doc.id}: {ev.kind.replace('_', ' ')} ends; the rule applies again", doc.id)
    for p in rs.parameters.values():
        for v in p.values:
            doc = v.cite.docs[0] if v.cite and v.cite.docs else None
            new = "ends" if v.value is None else f"becomes {v.value.value:f}"
            add(v.start, "threshold", f"parameter {p.name} ({p.unit}) {new}", doc)
    for c in rs.controls:
        if c.compliance is not None and c.compliance.start is not None:
            add(c.compliance.start, "compliance", f"{c.eccn}: compliance required",
                c.compliance.cite.docs[0] if c.compliance.cite and c.compliance.cite.docs else None)
        if c.effective is not None:
            doc = c.effective.cite.docs[0] if c.effective.cite and c.effective.cite.docs else None
            add(c.effective.start, "effective", f"{c.eccn} takes effect", doc)
            if c.effective.end is not None:
                add(c.effective.end + dt.timedelta(days=1), "removed", f"{c.eccn} no longer in effect", doc)
    seen: set[tuple[str, str, str]] = set()
    uniq = []
    for x in sorted(out, key=lambda x: (x["date"], x["kind"], x["what"])):
        k = (x["date"], x["kind"], x["what"])
        if k not in seen:
            seen.add(k)
            uniq.append(x)
    return uniq


Reclassifier = Callable[[Workspace, dt.datetime | None, dt.date], tuple[list[dict[str, Any]], str | None]]


def build(ws: Workspace, *, at: dt.datetime, today: dt.date, reclassify: Reclassifier | None = None) -> Digest:
    from .review import approved_rules

    since = _since(ws)
    approved, head = _approved(ws, since)
    rs, _v = approved_rules(ws)
    d = Digest(at=at, today=today, since=since, rules_version=head)
    d.new_documents = _documents(ws, since)
    d.pending_proposals = _proposals(ws)
    d.approved_changes = approved
    d.upcoming = upcoming_dates(rs, today)
    if reclassify is not None:
        d.reclassified, d.reclassified_note = reclassify(ws, since, today)
    else:
        d.reclassified_note = "no inventory configured ([report] assets in regwatch.toml)"
    return d


# ---------------------------------------------------------------------------------------------------------
# rendering: the same content three ways

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md(text: object) -> str:
    """Markdown-safe one-line text: no line breaks, no markup, no table breaks, no raw HTML."""
    s = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", str(text)).strip()
    return _MD_SPECIAL.sub(r"\\\1", s)


def to_markdown(d: Digest) -> str:
    lines = [f"# regwatch weekly digest, {d.today.isoformat()}", "",
             f"{md(d.headline())}. Rules version {md((d.rules_version or 'none')[:12])}; covering "
             f"{md(d.since.isoformat(timespec='seconds')) if d.since else 'everything so far'} to "
             f"{md(d.at.isoformat(timespec='seconds'))}.", ""]
    lines += ["## Awaiting review", ""]
    lines += [f"- #{p['id']} {md(p['document'])}: {md(p['title'] or '')} ({p['edits']} edits, confidence "
              f"{p['confidence']:.2f}{', ' + str(p['low_confidence']) + ' flagged' if p['low_confidence'] else ''})"
              for p in d.pending_proposals] or ["- none"]
    lines += ["", "## Approved changes", ""]
    lines += [f"- {md(v['version'][:12])} by {md(v['approver'])} at {md(v['approved_at'])}: {md(v['message'])}"
              for v in d.approved_changes] or ["- none"]
    lines += ["", "## Reclassified assets", ""]
    lines += [f"- {md(r.get('asset'))}: {md(r.get('from'))} → {md(r.get('to'))} from {md(r.get('effective'))}"
              + (f", needs review: {md(', '.join(r['needs_review']))}" if r.get("needs_review") else "")
              + (f" ({md(r.get('citation'))})" if r.get("citation") else "") for r in d.reclassified] or [
        f"- none{' (' + md(d.reclassified_note) + ')' if d.reclassified_note else ''}"]
    lines += ["", "## Upcoming dates", ""]
    lines += [f"- {md(u['date'])} {md(u['kind'])}: {md(u['what'])}"
              + (f" ({md(u['citation'])})" if u.get("citation") else "") for u in d.upcoming] or ["- none"]
    lines += ["", "## New documents", ""]
    lines += [f"- {md(x['source'])} {md(x['id'])}{' (changed)' if x['changed'] else ''}: {md(x['title'])}"
              for x in d.new_documents] or ["- none"]
    return "\n".join(lines) + "\n"


def _h(x: object) -> str:
    return html.escape(str(x if x is not None else ""), quote=True)


def to_html(d: Digest) -> str:
    def section(title: str, rows: list[str], empty: str = "none") -> str:
        body = "".join(f"<li>{r}</li>" for r in rows) or f"<li class=muted>{_h(empty)}</li>"
        return f"<section><h2>{_h(title)}</h2><ul>{body}</ul></section>"

    summary = d.to_json()["summary"]
    cards = "".join(f"<div class=card><b>{summary[k]}</b><span>{_h(label)}</span></div>" for k, label in (
        ("pending", "awaiting review"), ("approved", "approved"), ("reclassified", "reclassified"),
        ("upcoming", "upcoming dates"), ("new_documents", "new documents")))
    parts = [
        section("Awaiting review", [f"#{p['id']} <b>{_h(p['document'])}</b> {_h(p['title'] or '')} "
                                    f"<span class=muted>({p['edits']} edits, confidence {p['confidence']:.2f})</span>"
                                    for p in d.pending_proposals]),
        section("Approved changes", [f"<code>{_h(v['version'][:12])}</code> {_h(v['approver'])}: {_h(v['message'])}"
                                     for v in d.approved_changes]),
        section("Reclassified assets", [f"<b>{_h(r.get('asset'))}</b>: {_h(r.get('from'))} → {_h(r.get('to'))} "
                                        f"from {_h(r.get('effective'))}"
                                        + (f", needs review: {_h(', '.join(r['needs_review']))}"
                                           if r.get("needs_review") else "")
                                        + f" <span class=muted>{_h(r.get('citation'))}</span>"
                                        for r in d.reclassified], d.reclassified_note or "none"),
        section("Upcoming dates", [f"<b>{_h(u['date'])}</b> {_h(u['kind'])}: {_h(u['what'])} "
                                   f"<span class=muted>{_h(u.get('citation'))}</span>" for u in d.upcoming]),
        section("New documents", [f"{_h(x['source'])} <b>{_h(x['id'])}</b>: {_h(x['title'])}"
                                  for x in d.new_documents]),
    ]
    css = ("body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}"
           "h1{font-size:1.5rem}h2{font-size:1.1rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}"
           ".cards{display:flex;gap:.75rem;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:8px;"
           "padding:.6rem 1rem;min-width:8rem}.card b{display:block;font-size:1.6rem}.muted{color:#667}")
    return ("<!doctype html><html lang=en><head><meta charset=utf-8><title>regwatch digest "
            f"{_h(d.today.isoformat())}</title><style>{css}</style></head><body>"
            f"<h1>regwatch weekly digest, {_h(d.today.isoformat())}</h1><p>{_h(d.headline())}. Rules version "
            f"<code>{_h((d.rules_version or 'none')[:12])}</code>.</p><div class=cards>{cards}</div>"
            + "".join(parts) + "</body></html>\n")


def write(ws: Workspace, d: Digest) -> dict[str, Path]:
    """Write the digest to the outbox (atomically) and remember its time for the next one."""
    out = ws.root / "outbox"
    out.mkdir(exist_ok=True)
    stem = f"digest-{d.today.isoformat()}"
    files = {"md": (out / f"{stem}.md", to_markdown(d)), "html": (out / f"{stem}.html", to_html(d)),
             "json": (out / f"{stem}.json", json.dumps(d.to_json(), indent=2, sort_keys=True,
                                                       ensure_ascii=False) + "\n"),
             "state": (out / STATE, json.dumps({"at": d.at.isoformat(), "rules_version": d.rules_version}) + "\n")}
    for path, text in files.values():
        fd, tmp = tempfile.mkstemp(dir=out, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    return {k: p for k, (p, _t) in files.items() if k != "state"}
