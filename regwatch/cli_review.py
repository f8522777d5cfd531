"""``regwatch propose`` and ``regwatch review``: extracted changes become proposals that a person approves."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import click

from .common import Instant, State, UserError, handle_errors, json_option, now, pass_state

_DOCNUM = re.compile(r"^(?:[A-Z]\d-)?\d{4}-\d{4,6}$")


def _gather(state: State, inputs: tuple[str, ...]) -> list[tuple[str, dict[str, Any]]]:
    """Extraction results from INPUTs: ``extract --json`` files, FR documents (extracted here) or the numbers
    of stored documents; none: the workspace's ``extractions/``."""
    from extraction.document import ExtractError, extract_path

    from .review import load_extractions, workspace_extractions

    ws = state.workspace(required=True)
    assert ws is not None
    if not inputs:
        return list(load_extractions(workspace_extractions(ws)))
    out: list[tuple[str, dict[str, Any]]] = []
    for raw in inputs:
        p = Path(raw)
        if p.is_file() and p.suffix.lower() == ".json":
            out.extend(load_extractions([p]))
        elif p.is_file():
            try:
                out.extend((p.name, ex.to_json()) for ex in extract_path(p))
            except ExtractError as exc:
                raise UserError(str(exc)) from None
        elif _DOCNUM.match(raw):
            from .cli_extract import _from_store

            out.extend((f"{raw} (stored)", ex.to_json()) for ex in _from_store(state, raw, None))
        else:
            raise UserError(f"{raw}: no such file or stored document")
    return out


@click.command()
@click.argument("inputs", nargs=-1, metavar="[INPUT]...")
@click.option("--at", "at", type=Instant(), default=None, help="Time recorded for the proposals (default: now).")
@json_option
@pass_state
@handle_errors
def propose(state: State, inputs: tuple[str, ...], at: dt.datetime | None, as_json: bool) -> None:
    """Turn extraction results into proposals against the approved rules (the review queue).

    INPUT is an 'extract --json' file, a Federal Register document file, or the number of a stored document;
    without INPUT, the newest extraction of every stored document ('regwatch run' writes them). A document
    whose changes are already in the rules, or already proposed, gives no new proposal. Exit 0.
    """
    from .review import propose_from

    ws = state.workspace(required=True)
    assert ws is not None
    res = propose_from(ws, _gather(state, inputs), at=at or now())
    if as_json:
        click.echo(json.dumps({"created": [p.to_json() for p in res.created],
                               "existing": [{"document": d, "id": i, "status": s} for d, i, s in res.existing],
                               "unchanged": res.unchanged, "out_of_scope": res.out_of_scope,
                               "failed": [{"document": d, "error": e} for d, e in res.failed],
                               "auto_approved": [{"id": i, "version": v} for i, v in res.auto_approved]},
                              indent=2, ensure_ascii=False))
    else:
        for p in res.created:
            flag = f", {p.low_confidence} flagged" if p.low_confidence else ""
            click.echo(f"#{p.id}  {p.document}  {len(p.items)} item{'s' if len(p.items) != 1 else ''}"
                       f" (confidence {p.confidence:.2f}{flag})  {p.title or ''}")
        for d, i, s in res.existing:
            click.echo(f"#{i}  {d}  already proposed ({s})")
        for d in res.unchanged:
            click.echo(f"-   {d}  nothing new: already in the rules")
        for d in res.out_of_scope:
            click.echo(f"-   {d}  not about the EAR (no 15 CFR 730-774 part, not BIS, no ECCN change)")
        for i, v in res.auto_approved:
            click.echo(f"#{i}  auto-approved as version {v[:12]}")
        for d, e in res.failed:
            click.echo(f"regwatch: {d}: {e}", err=True)
        click.echo(res.summary())
    if res.failed and not (res.created or res.existing or res.unchanged or res.out_of_scope):
        raise SystemExit(2)


@click.group()
def review() -> None:
    """The review queue: list, show, approve or reject proposals."""


def _item_lines(p: Any) -> list[str]:
    lines = []
    for n, it in enumerate(p.items, 1):
        flag = "  [LOW CONFIDENCE]" if it.low or it.confidence < 0.7 else ""
        lines.append(f"  {n}. {it.kind}: {it.summary}  (confidence {it.confidence:.2f}){flag}")
        prov = it.provenance
        where = ", ".join(f"{k} {prov[k]}" for k in ("instruction", "location") if prov.get(k))
        lines.append(f"     source: {prov.get('document', p.document)}" + (f" ({where})" if where else ""))
        if prov.get("effective"):
            lines.append(f"     date: {prov['effective']}")
        if prov.get("quote"):
            lines.append(f"     quote: \u201c{prov['quote']}\u201d")
    return lines


@review.command("list")
@click.option("--status", type=click.Choice(["pending", "approved", "rejected", "superseded", "all"]),
              default="pending", show_default=True)
@json_option
@pass_state
@handle_errors
def review_list(state: State, status: str, as_json: bool) -> None:
    """Proposals with a status (pending by default), oldest first."""
    from .review import ReviewQueue, queue_path

    ws = state.workspace(required=True)
    assert ws is not None
    with ReviewQueue(queue_path(ws)) as q:
        props = q.select(status)
    if as_json:
        click.echo(json.dumps([p.to_json(with_items=False) for p in props], indent=2, ensure_ascii=False))
        return
    if not props:
        click.echo(f"no {status if status != 'all' else ''} proposals".replace("  ", " "))
        return
    for p in props:
        edits = sum(1 for i in p.items if i.kind != "note")
        flag = f", {p.low_confidence} flagged" if p.low_confidence else ""
        extra = f" by {p.decided_by}" if p.decided_by else ""
        click.echo(f"#{p.id}  {p.status}{extra}  {p.document}  {edits} edit{'s' if edits != 1 else ''}, "
                   f"{len(p.items) - edits} note{'s' if len(p.items) - edits != 1 else ''}"
                   f" (confidence {p.confidence:.2f}{flag})  {p.title or ''}")


@review.command("show")
@click.argument("proposal_id", metavar="ID")
@json_option
@pass_state
@handle_errors
def review_show(state: State, proposal_id: str, as_json: bool) -> None:
    """A proposal: its items with provenance (document, instruction, quote) and the DSL diff it would make
    against the rules as approved now."""
    from .review import ReviewQueue, preview, queue_path

    ws = state.workspace(required=True)
    assert ws is not None
    with ReviewQueue(queue_path(ws)) as q:
        p = q.get(proposal_id)
        log = q.log(p.id)
    diff, problem = preview(ws, p) if p.status == "pending" else ("", None)
    if as_json:
        click.echo(json.dumps({**p.to_json(), "diff": diff, "problem": problem, "log": log}, indent=2,
                              ensure_ascii=False))
        return
    click.echo(f"proposal #{p.id}: {p.document} {p.title or ''}")
    click.echo(f"  status {p.status}" + (f" by {p.decided_by} at {p.decided_at}" if p.decided_by else "")
               + (f" (version {p.version_id[:12]})" if p.version_id else "") + (f": {p.note}" if p.note else ""))
    click.echo(f"  from {p.source}, proposed {p.created_at} against version "
               f"{(p.base_version or 'none')[:12]}; confidence {p.confidence:.2f}")
    for line in _item_lines(p):
        click.echo(line)
    if problem:
        click.echo(f"  {problem}")
    elif diff:
        click.echo("")
        click.echo(diff, nl=False)


@review.command("approve")
@click.argument("proposal_id", metavar="ID")
@click.option("--note", default=None, help="Why (kept with the decision and in the version's message).")
@click.option("--as", "who", default=None, help="Approver (default: identity.approver in regwatch.toml).")
@click.option("--approved-at", type=Instant(), default=None, help="Knowledge time of the new version (default: now).")
@pass_state
@handle_errors
def review_approve(state: State, proposal_id: str, note: str | None, who: str | None,
                   approved_at: dt.datetime | None) -> None:
    """Apply a proposal: a new rules version in the store (approver recorded) and the rules folder rewritten."""
    from .review import approve

    ws = state.workspace(required=True)
    assert ws is not None
    name = who or ws.settings.approver
    vid = approve(ws, proposal_id, approver=name, at=approved_at or now(), note=note)
    click.echo(f"proposal #{str(proposal_id).lstrip('#')} approved by {name}: version {vid[:12]}")


@review.command("reject")
@click.argument("proposal_id", metavar="ID")
@click.option("--note", required=True, help="Why it is rejected (required).")
@click.option("--as", "who", default=None, help="Reviewer (default: identity.approver in regwatch.toml).")
@click.option("--at", "at", type=Instant(), default=None, help="Time of the decision (default: now).")
@pass_state
@handle_errors
def review_reject(state: State, proposal_id: str, note: str, who: str | None, at: dt.datetime | None) -> None:
    """Reject a proposal, recording who and why. Re-proposing the same document does not bring it back."""
    from .review import reject

    ws = state.workspace(required=True)
    assert ws is not None
    p = reject(ws, proposal_id, who=who or ws.settings.approver, at=at or now(), note=note)
    click.echo(f"proposal #{p.id} rejected by {p.decided_by}: {p.note}")
