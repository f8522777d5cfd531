"""``regwatch crawl`` and ``regwatch documents``: watch the sources, inspect what was stored."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from .common import AsOf, State, UserError, handle_errors, json_option, pass_state

SOURCE_NAMES = ("fr", "ecfr", "bis")


def _documents_db(state: State) -> Path:
    ws = state.workspace(required=True)
    assert ws is not None
    return ws.root / "documents.db"


@click.command()
@click.option("--source", "sources", multiple=True, type=click.Choice([*SOURCE_NAMES, "all"]), default=("all",),
              show_default=True, help="Source to crawl (repeatable).")
@click.option("--since", type=AsOf(), default=None,
              help="Federal Register: publication date to start from (default: the last seen date).")
@click.option("--fr-base-url", default=None, metavar="URL", help="Federal Register base URL.")
@click.option("--ecfr-base-url", default=None, metavar="URL", help="eCFR base URL.")
@click.option("--bis-base-url", default=None, metavar="URL", help="BIS website base URL.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines (the summary is still printed).")
@click.option("--progress/--no-progress", default=None, help="Progress lines (default: when stderr is a terminal).")
@json_option
@pass_state
@handle_errors
def crawl(state: State, sources: tuple[str, ...], since: dt.date | None, fr_base_url: str | None,
          ecfr_base_url: str | None, bis_base_url: str | None, quiet: bool, progress: bool | None,
          as_json: bool) -> None:
    """Fetch what is new from the Federal Register, the eCFR and BIS; store it verbatim.

    Exit code 0 when every URL succeeded, 1 when some failed (listed), 2 on usage or configuration errors.
    """
    from crawler.config import CrawlConfigError, load_crawl_config
    from crawler.runner import crawl as run

    ws = state.workspace(required=True)
    assert ws is not None
    names = list(SOURCE_NAMES) if "all" in sources else list(dict.fromkeys(sources))
    try:
        config = load_crawl_config(ws.config_path, ws.root / "documents.db")
        config = config.with_overrides({k: v for k, v in (("fr", fr_base_url), ("ecfr", ecfr_base_url),
                                                           ("bis", bis_base_url)) if v})
    except CrawlConfigError as exc:
        raise UserError(str(exc)) from None
    show = (progress if progress is not None else sys.stderr.isatty()) and not quiet

    def emit(line: str) -> None:
        click.echo(f"  {line}", err=True)

    summary = run(config, names, since, progress=emit if show else None)
    if as_json:
        click.echo(json.dumps(summary.to_json(), indent=2, default=str))
    else:
        click.echo(summary.text())
    sys.exit(summary.exit_code)


@click.group()
def documents() -> None:
    """Inspect the stored documents (documents.db in the workspace)."""


@documents.command("list")
@click.option("--source", default=None, help="Only this source (fr, ecfr, bis).")
@json_option
@pass_state
@handle_errors
def documents_list(state: State, source: str | None, as_json: bool) -> None:
    """Latest version of every stored document."""
    from crawler.docstore import DocumentStore

    db = _documents_db(state)
    if not db.exists():
        raise UserError(f"{db}: no documents yet (run 'regwatch crawl')")
    with DocumentStore(db) as store:
        docs = store.latest(source)
    if as_json:
        click.echo(json.dumps([d.to_json() for d in docs], indent=2, default=str))
        return
    for d in docs:
        title = d.metadata.get("title") or (d.metadata.get("api") or {}).get("title") or ""
        click.echo(f"{d.source:<5} {d.doc_id:<40} v{d.version}  {d.fetched_at[:19]}  {d.size:>8} B  {title[:60]}")
    click.echo(f"{len(docs)} documents")


@documents.command("show")
@click.argument("doc_id")
@click.option("--source", default=None, help="Source, when an id exists in several.")
@click.option("--version", "version", type=int, default=None, help="Version number (default: latest).")
@click.option("--body", is_flag=True, help="Print the stored body verbatim instead of the record.")
@json_option
@pass_state
@handle_errors
def documents_show(state: State, doc_id: str, source: str | None, version: int | None, body: bool,
                   as_json: bool) -> None:
    """One stored document: its record (URL, fetch time, headers, sha256, metadata) or its body."""
    from crawler.docstore import DocumentStore

    db = _documents_db(state)
    if not db.exists():
        raise UserError(f"{db}: no documents yet (run 'regwatch crawl')")
    with DocumentStore(db) as store:
        versions = store.versions(doc_id, source)
        if not versions:
            raise UserError(f"no stored document '{doc_id}'" + (f" from {source}" if source else ""))
        if len({v.source for v in versions}) > 1:
            raise UserError(f"'{doc_id}' exists in several sources; pass --source")
        chosen = versions[-1] if version is None else next((v for v in versions if v.version == version), None)
        if chosen is None:
            raise UserError(f"'{doc_id}' has no version {version} (versions 1..{versions[-1].version})")
        data = store.get_blob(chosen.sha256)
    if body:
        sys.stdout.buffer.write(data)
        return
    record = chosen.to_json()
    record["versions"] = [v.version for v in versions]
    if as_json:
        click.echo(json.dumps(record, indent=2, default=str))
    else:
        for k in ("source", "id", "version", "versions", "url", "fetched_at", "content_type", "size", "sha256"):
            click.echo(f"{k:<13} {record[k]}")
        click.echo(f"{'headers':<13} {json.dumps(record['headers'], sort_keys=True)}")
        meta = {k: v for k, v in chosen.metadata.items() if k != "text"}
        click.echo(f"{'metadata':<13} {json.dumps(meta, sort_keys=True, default=str)[:2000]}")
