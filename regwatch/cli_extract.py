"""``regwatch extract``: a Federal Register document (file or stored document number) to facts."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path
from typing import Any

import click

from .common import AsOf, State, UserError, handle_errors, json_option, pass_state

_DOCNUM = re.compile(r"^(?:[A-Z]\d-)?\d{4}-\d{4,6}$")


def _from_store(state: State, number: str, publication_date: dt.date | None) -> list[Any]:
    from crawler.docstore import DocumentStore
    from extraction.document import extract_bytes

    ws = state.workspace()
    db = ws.root / "documents.db" if ws else None
    if db is None or not db.exists():
        raise UserError(f"{number}: no such file, and no stored documents to look it up in (run 'regwatch crawl')")
    with DocumentStore(db) as store:
        versions = store.versions(number, "fr")
        if not versions:
            raise UserError(f"{number}: no such file or stored Federal Register document")
        doc = versions[-1]
        data = store.get_blob(doc.sha256)
    api = doc.metadata.get("api") or {}
    pub = publication_date
    if pub is None and api.get("publication_date"):
        try:
            pub = dt.date.fromisoformat(str(api["publication_date"]))
        except ValueError:
            pub = None
    results = extract_bytes(data, f"{number} (stored, v{doc.version})", pub)
    for ex in results:  # the API record fills what the XML does not say
        m = ex.document
        m.document_number = m.document_number or api.get("document_number")
        m.citation = m.citation or api.get("citation")
        m.type = api.get("type") or m.type
        m.action = m.action or api.get("action")
        m.title = m.title or api.get("title")
        m.rin = m.rin or list(api.get("regulation_id_numbers") or [])
        if not m.cfr_parts:
            m.cfr_parts = sorted({int(r["part"]) for r in api.get("cfr_references") or []
                                  if isinstance(r, dict) and str(r.get("part", "")).isdigit()})
        if api.get("correction_of"):  # the API knows the corrected document's number for sure
            found = re.search(r"(?:[A-Z]\d-)?\d{4}-\d{4,6}", str(api["correction_of"]).rsplit("/", 1)[-1])
            m.corrects = found.group(0) if found else m.corrects
    return results


@click.command()
@click.argument("target")
@click.option("--publication-date", type=AsOf(), default=None,
              help="Publication date, when the input does not state it (relative dates are computed from it).")
@json_option
@pass_state
@handle_errors
def extract(state: State, target: str, publication_date: dt.date | None, as_json: bool) -> None:
    """Extract dates, ECCN changes, thresholds and license exceptions from a Federal Register document.

    TARGET is a file (FR full-text XML: one document or a daily issue; govinfo HTML or text) or the number of a
    document stored by 'regwatch crawl'. A daily issue gives one result per document (a JSON array).
    """
    from extraction.document import ExtractError, extract_path

    try:
        if Path(target).exists():
            results = extract_path(target, publication_date)
        elif _DOCNUM.match(target):
            results = _from_store(state, target, publication_date)
        else:
            raise UserError(f"{target}: no such file")
    except ExtractError as exc:
        raise UserError(str(exc)) from None
    if not results:
        raise UserError(f"{target}: no Federal Register document found in it")
    payload = [r.to_json() for r in results]
    if as_json:
        click.echo(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2, ensure_ascii=False))
        return
    for r in results:
        d = r.document
        click.echo(f"{d.document_number or '?'}  {d.citation or ''}  {d.publication_date or ''}  {d.action or ''}")
        click.echo(f"  {d.title or ''}")
        for f in r.dates:
            end = f"..{f.end_date}" if f.end_date else ""
            click.echo(f"  {f.kind:<13} {f.date}{end}  ({f.scope})")
        for c in r.eccn_changes:
            click.echo(f"  ECCN {c.eccn:<10} {c.action:<8} instruction {c.instruction or '?'}")
        for t in r.thresholds:
            click.echo(f"  threshold {t.eccn or '-'} {t.parameter} {t.comparator} {t.value} {t.unit}")
        for x in r.license_exceptions:
            click.echo(f"  license exception {x.code} {x.action}")
        for g in r.country_group_changes:
            click.echo(f"  country group {g.group} {g.action} {g.country} ({g.name})")
        for w in r.warnings:
            click.echo(f"  warning: {w}", err=True)
    sys.exit(0)


@click.command("eval")
@click.argument("corpus", type=click.Path(file_okay=False), default="fixtures/corpus")
@click.option("--verbose", "-v", is_flag=True, help="List every missed and extra fact.")
@json_option
@handle_errors
def evaluate(corpus: str, verbose: bool, as_json: bool) -> None:
    """Precision / recall / F1 of extraction per field group over CORPUS (*.expected.json files)."""
    from extraction.evaluate import evaluate as run

    path = Path(corpus)
    if not path.is_dir() or not any(path.glob("*.expected.json")):
        raise UserError(f"{corpus}: no *.expected.json files (see extraction/evaluate.py for the layout)")
    report = run(path)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(f"{report['documents']} documents in {corpus}")
        click.echo(f"  {'group':<22} {'precision':>9} {'recall':>7} {'F1':>6}   tp  fp  fn")
        for g, s in report["groups"].items():
            click.echo(f"  {g:<22} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>6.3f}  "
                       f"{s['tp']:>3} {s['fp']:>3} {s['fn']:>3}")
            if verbose:
                for m in s["misses"]:
                    click.echo(f"      missed {m}")
                for x in s["extras"]:
                    click.echo(f"      extra  {x}")
        for e in report["errors"]:
            click.echo(f"  ERROR {e}")
    sys.exit(1 if report["errors"] else 0)
