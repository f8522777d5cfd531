"""The ``regwatch`` command. Each command wraps one library call; heavy imports happen inside commands.

Exit codes: 0 ok, 1 found something (controlled assets, tampering, files that need formatting),
2 usage or input error (one clear line on stderr, never a traceback, stored data unchanged).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .common import (
    AsOf,
    Instant,
    State,
    UserError,
    _fail,
    as_of_option,
    handle_errors,
    json_option,
    now,
    pass_state,
    today,
)

if TYPE_CHECKING:
    from rulesdsl.ruleset import Ruleset

__all__ = ["AsOf", "Instant", "State", "UserError", "handle_errors", "json_option", "main", "pass_state"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("--workspace", "-w", metavar="DIR", default=None,
              help="Workspace folder (default: found from the current directory upward; env REGWATCH_WORKSPACE).")
@click.version_option(package_name="regwatch")
@click.pass_context
def main(ctx: click.Context, workspace: str | None) -> None:
    """regwatch: track US export-control (EAR) changes and compile them into enforceable policy.

    Without a workspace, read-only commands use the embedded default ruleset (BIS advanced-computing and AI
    controls, October 2022 onwards, every value cited to its Federal Register document).
    """
    ctx.obj = State(workspace)


# ---------------------------------------------------------------------------------------------------------
# init


@main.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--as", "approver", default="regwatch init", show_default=True,
              help="Approver recorded for the seed version.")
@click.option("--approved-at", type=Instant(), default=None, help="Knowledge time of the seed version (default: now).")
@handle_errors
def init(directory: str, approver: str, approved_at: dt.datetime | None) -> None:
    """Create a workspace: regwatch.toml, rules/ seeded from the default ruleset, and the store."""
    from rulesdsl.ruleset import Ruleset, default_rules_files
    from rulesdsl.store import RulesStore

    from .workspace import CONFIG_NAME, CONFIG_TEMPLATE, Workspace

    root = Path(directory)
    if (root / CONFIG_NAME).exists():
        raise UserError(f"{root / CONFIG_NAME} already exists: this is a workspace already")
    if root.exists() and not root.is_dir():
        raise UserError(f"{root}: exists and is not a directory")
    rules_dir = root / "rules"
    if rules_dir.exists() and any(rules_dir.glob("*.rules")):
        raise UserError(f"{rules_dir}: already holds .rules files; refusing to overwrite them")
    rules_dir.mkdir(parents=True, exist_ok=True)
    for name, body in default_rules_files():
        (rules_dir / name).write_text(body, encoding="utf-8")
    (root / CONFIG_NAME).write_text(CONFIG_TEMPLATE, encoding="utf-8")
    ws = Workspace.open(root)
    rs = Ruleset.load(ws.rules_dir)
    with RulesStore(ws.store_path) as store:
        v = store.commit(rs.bundle_text(), approver=approver, approved_at=approved_at or now(),
                         message="Seed from the embedded default ruleset", changeset="",
                         source_documents=sorted(rs.documents))
    click.echo(f"Initialised workspace {ws.root}")
    click.echo(f"  settings  {ws.config_path}")
    click.echo(f"  rules     {ws.rules_dir} ({len(rs.controls)} controls, {len(rs.documents)} documents)")
    click.echo(f"  store     {ws.store_path} (version {v.id[:12]})")


# ---------------------------------------------------------------------------------------------------------
# when


@main.command()
@click.argument("name")
@as_of_option
@json_option
@click.option("--rules", metavar="PATH", default=None, help="Use this .rules file or folder.")
@pass_state
@handle_errors
def when(state: State, name: str, as_of: dt.date | None, as_json: bool, rules: str | None) -> None:
    """Timeline of an ECCN, parameter, country group, document or license exception, with citations.

    NAME may be qualified to pick one meaning: group:AIA, exception:AIA, parameter:NAME, document:ID.
    """
    from rulesdsl.errors import did_you_mean
    from rulesdsl.timeline import UnknownName, known_names, timeline

    from . import views

    rs, label = state.ruleset(rules)
    at = as_of or today()
    try:
        tl = timeline(rs, name)
    except UnknownName:
        raise UserError(f"'{name}' is not an ECCN, parameter, group, document or license exception of the "
                        f"rules ({label})" + did_you_mean(name, known_names(rs))) from None
    if as_json:
        out = tl.to_json(rs, at)
        out["ruleset"] = label
        click.echo(json.dumps(out, indent=2))
    else:
        click.echo(views.timeline_text(rs, tl, at, label))


# ---------------------------------------------------------------------------------------------------------
# classify / decide


@main.command()
@click.option("--assets", "assets_path", required=True, type=click.Path(dir_okay=False),
              help="Inventory file: YAML, JSON, JSONL or CSV (docs/inventory.md).")
@as_of_option
@json_option
@click.option("--rules", metavar="PATH", default=None, help="Use this .rules file or folder.")
@click.option("--strict/--no-strict", default=None,
              help="Treat not-enforced / compliance-pending controls as binding (default: workspace setting).")
@pass_state
@handle_errors
def classify(state: State, assets_path: str, as_of: dt.date | None, as_json: bool, rules: str | None,
             strict: bool | None) -> None:
    """Classify every asset of an inventory and check each person's access to the controlled ones.

    Exit code 1 when any asset is controlled or needs review, 0 when everything is EAR99.
    """
    from rulesdsl.inventory import load_inventory

    from . import views

    rs, label = state.ruleset(rules)
    at = as_of or today()
    ws = state.workspace()
    strict_mode = strict if strict is not None else (ws.settings.strict if ws else False)
    if not Path(assets_path).exists():
        raise UserError(f"{assets_path}: no such file")
    inv = load_inventory(assets_path)
    _check_kinds(rs, inv.assets, assets_path)
    report = views.classify_report(rs, inv, at, label, strict_mode)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(views.classify_text(report))
    summary = report["summary"]
    assert isinstance(summary, dict)
    sys.exit(1 if summary["controlled"] or summary["needs_review"] else 0)


def _check_kinds(rs: Ruleset, assets: Any, path: str) -> None:
    for a in assets:
        problem = rs.asset_problem(a)
        if problem:
            raise UserError(f"{path}: {problem}")


@main.command()
@click.option("--assets", "assets_path", required=True, type=click.Path(dir_okay=False), help="Inventory file.")
@click.option("--person", required=True, help="Id of a person in the inventory.")
@click.option("--asset", "asset_id", required=True, help="Id of an asset in the inventory.")
@click.option("--action", required=True,
              type=click.Choice(["read", "clone", "modify", "execute_compiled", "query_api", "export"]))
@click.option("--destination", default=None, metavar="CC", help="ISO country code, for --action export.")
@as_of_option
@json_option
@click.option("--rules", metavar="PATH", default=None, help="Use this .rules file or folder.")
@click.option("--strict/--no-strict", default=None, help="Treat not-enforced / compliance-pending as binding.")
@pass_state
@handle_errors
def decide(state: State, assets_path: str, person: str, asset_id: str, action: str, destination: str | None,
           as_of: dt.date | None, as_json: bool, rules: str | None, strict: bool | None) -> None:
    """May PERSON take ACTION on ASSET? allow (exit 0), license_required or deny (exit 1), with reasons."""
    from rulesdsl.countries import ISO_ALPHA2
    from rulesdsl.inventory import load_inventory

    rs, label = state.ruleset(rules)
    at = as_of or today()
    ws = state.workspace()
    strict_mode = strict if strict is not None else (ws.settings.strict if ws else False)
    if destination is not None and destination.upper() not in ISO_ALPHA2:
        raise UserError(f"--destination '{destination}' is not an ISO 3166 country code")
    inv = load_inventory(assets_path)
    people = {p.id: p for p in inv.people}
    assets = {a.id: a for a in inv.assets}
    if person not in people:
        raise UserError(f"{assets_path}: no person '{person}'")
    if asset_id not in assets:
        raise UserError(f"{assets_path}: no asset '{asset_id}'")
    d = rs.decide(people[person], action, assets[asset_id], at,
                  destination.upper() if destination else None, strict=strict_mode)
    if as_json:
        click.echo(json.dumps({"as_of": at.isoformat(), "ruleset": label, "person": person, "asset": asset_id,
                               "action": action, "destination": destination, "strict": strict_mode,
                               **d.to_json()}, indent=2))
    else:
        click.echo(f"{d.outcome.upper()}: {person} {action} {asset_id} on {at} ({label})")
        for r in d.reasons:
            click.echo(f"  - {r.text}" + (f"  [{r.citation}]" if r.citation else ""))
    sys.exit(0 if d.outcome == "allow" else 1)


# ---------------------------------------------------------------------------------------------------------
# demo (the README's main job, for now)


@main.command()
@click.option("--dir", "directory", default=".regwatch-demo", show_default=True, type=click.Path(file_okay=False),
              help="Workspace folder the demo creates (a folder from an earlier demo is replaced).")
@click.option("--as-of", "as_of", type=AsOf(), default=None,
              help="Valid time of the compiled artifacts and reports (default: 2027-03-15, the demo week).")
@handle_errors
def demo(directory: str, as_of: dt.date | None) -> None:
    """The main job, offline, on the embedded defaults: the whole weekly pipeline against a recorded week.

    A loopback fixture server replays a week of BIS publications (a synthetic interim final rule and its
    correction, in the real Federal Register XML vocabulary). The pipeline crawls it, extracts the changes,
    proposes DSL edits, approves them (demo mode), compiles every target, writes the diff report for the
    sample inventory and the weekly digest, then prints where everything is.
    """
    from .demo import DEMO_AS_OF, run_demo

    root = Path(directory).resolve()
    click.echo(f"regwatch demo: the weekly pipeline on a recorded week (offline), in {root}")
    res = run_demo(root, as_of=as_of or DEMO_AS_OF, now=now, log=lambda line: click.echo(f"  {line}"))
    click.echo("")
    click.echo("Where everything is:")
    rows = [("rules (approved head)", root / "rules"), ("rules store", root / "regwatch.db"),
            ("review queue", root / "review.db"), ("stored documents", root / "documents.db"),
            ("extractions", root / "extractions")]
    rows += [(f"build: {n}", p) for n, _c, p in res.built]
    rows += [(f"report ({k})", p) for k, p in sorted(res.reports.items())]
    rows += [(f"digest ({k})", p) for k, p in sorted(res.digest.items())]
    width = max(len(k) for k, _ in rows)
    for k, p in rows:
        click.echo(f"  {k:<{width}}  {p}")
    click.echo("")
    click.echo(f"Try (with .venv/bin on PATH): cd {root} && regwatch review list --status all && "
               f"regwatch rules log && regwatch when 3A090 --as-of {res.as_of} && open {res.digest.get('html', '')}")


# ---------------------------------------------------------------------------------------------------------
# rules


@main.group()
def rules() -> None:
    """Check, format, version and inspect the rules."""


def _rules_target(state: State, path: str | None) -> Path:
    if path:
        return Path(path)
    ws = state.workspace()
    if ws is None:
        raise UserError("no PATH given and no workspace here (pass a .rules file or folder)")
    return ws.rules_dir


@rules.command("check")
@click.argument("path", required=False)
@pass_state
@handle_errors
def rules_check(state: State, path: str | None) -> None:
    """Parse and validate rules (default: the workspace's rules, else the embedded default)."""
    from rulesdsl.ruleset import Ruleset

    if path is None and state.workspace() is None:
        rs, label = Ruleset.default(), "embedded default"
    else:
        target = _rules_target(state, path)
        rs, label = Ruleset.load(target, validate=False), str(target)
    diags = rs.diagnostics()
    errors = [d for d in diags if d.level == "error"]
    for d in diags:
        click.echo(d.render(), err=True)
    if errors:
        _fail(f"{len(errors)} error{'s' if len(errors) != 1 else ''} in {label}")
    warn = len(diags)
    click.echo(f"ok: {label}: {len(rs.controls)} controls, {len(rs.parameters)} parameters, {len(rs.groups)} "
               f"groups, {len(rs.documents)} documents" + (f", {warn} warnings" if warn else ""))


@rules.command("fmt")
@click.argument("path", required=False)
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if a file is not canonical.")
@pass_state
@handle_errors
def rules_fmt(state: State, path: str | None, check: bool) -> None:
    """Rewrite .rules files in canonical form (idempotent; comments kept)."""
    from rulesdsl.errors import DslError
    from rulesdsl.formatter import format_rules
    from rulesdsl.parser import parse_file

    target = _rules_target(state, path)
    files = sorted(target.glob("*.rules")) if target.is_dir() else [target]
    if not target.exists():
        raise UserError(f"{target}: no such file or directory")
    if not files:
        raise UserError(f"{target}: no .rules files")
    parsed = []
    errors = []
    for f in files:
        try:
            parsed.append((f, parse_file(f)))
        except DslError as e:
            errors.extend(e.diagnostics)
    if errors:  # nothing is rewritten unless every file parses
        raise DslError(errors)
    changed = []
    for f, rf in parsed:
        new = format_rules(rf)
        if new != f.read_text(encoding="utf-8"):
            changed.append(f)
            if not check:
                tmp = f.with_suffix(f.suffix + ".tmp")
                tmp.write_text(new, encoding="utf-8")
                os.replace(tmp, f)
    verb = "would reformat" if check else "reformatted"
    for f in changed:
        click.echo(f"{verb} {f}")
    click.echo(f"{len(changed)} of {len(files)} files {verb}" if changed else f"{len(files)} files already canonical")
    sys.exit(1 if check and changed else 0)


@rules.command("commit")
@click.option("--as", "approver", default=None, help="Approver (default: identity.approver in regwatch.toml).")
@click.option("-m", "--message", required=True, help="Why the rules change.")
@click.option("--source", "sources", multiple=True, metavar="DOC", help="Source document id (repeatable).")
@click.option("--approved-at", type=Instant(), default=None, help="Knowledge time (default: now).")
@pass_state
@handle_errors
def rules_commit(state: State, approver: str | None, message: str, sources: tuple[str, ...],
                 approved_at: dt.datetime | None) -> None:
    """Approve the workspace's rules folder as a new version in the store (validated first)."""
    import difflib

    from rulesdsl.ruleset import Ruleset

    ws = state.workspace(required=True)
    assert ws is not None
    who = approver or ws.settings.approver
    if not who:
        raise UserError("no approver: pass --as NAME or set identity.approver in regwatch.toml")
    rs = Ruleset.load(ws.rules_dir)
    for s in sources:
        if s not in rs.documents:
            raise UserError(f"--source '{s}' is not a document declared in the rules")
    text = rs.bundle_text()
    with state.store() as store:
        head = store.head()
        old = store.text(head) if head else ""
        diff = "".join(difflib.unified_diff(old.splitlines(keepends=True), text.splitlines(keepends=True),
                                            "approved", "proposed"))
        v = store.commit(text, approver=who, approved_at=approved_at or now(), message=message, changeset=diff,
                         source_documents=list(sources), expected_parent=head.id if head else None)
    click.echo(f"version {v.id[:12]} (#{v.seq}) approved by {who}")


@rules.command("log")
@json_option
@pass_state
@handle_errors
def rules_log(state: State, as_json: bool) -> None:
    """Approved versions, newest first (knowledge time)."""
    with state.store() as store:
        versions = store.log()
    if as_json:
        click.echo(json.dumps([{"id": v.id, "seq": v.seq, "parent": v.parent, "approver": v.approver,
                                "approved_at": v.approved_at.isoformat(), "message": v.message,
                                "source_documents": list(v.source_documents), "content_hash": v.content_hash}
                               for v in versions], indent=2))
        return
    for v in versions:
        src = f"  sources: {', '.join(v.source_documents)}" if v.source_documents and len(v.source_documents) <= 6 \
            else (f"  sources: {len(v.source_documents)} documents" if v.source_documents else "")
        click.echo(f"{v.id[:12]}  #{v.seq}  {v.approved_at.isoformat(timespec='seconds')}  {v.approver}")
        click.echo(f"    {v.message}{src}")


@rules.command("show")
@click.option("--version", "version", default=None, metavar="K",
              help="Version id, unique prefix, @N or head (knowledge time).")
@click.option("--known-at", type=Instant(), default=None,
              help="Knowledge time: the rules as approved at this time (instead of --version).")
@as_of_option
@click.option("--text", "as_text", is_flag=True, help="Print the DSL text of the version instead of a summary.")
@json_option
@click.option("--rules", metavar="PATH", default=None, help="Use this .rules file or folder.")
@pass_state
@handle_errors
def rules_show(state: State, version: str | None, known_at: dt.datetime | None, as_of: dt.date | None,
               as_text: bool, as_json: bool, rules: str | None) -> None:
    """What was in force on --as-of (valid time), as the rules stood at --version / --known-at."""
    from rulesdsl.ruleset import Ruleset

    from . import views

    if version and known_at:
        raise UserError("give --version or --known-at, not both")
    if version or known_at:
        with state.store() as store:
            if known_at is not None:
                v = store.as_known_at(known_at)
                if v is None:
                    raise UserError(f"no version had been approved by {known_at.isoformat()}")
            else:
                v = store.get(version or "head")
            text = store.text(v)
        rs = Ruleset.from_bundle(text, f"version {v.id[:12]}")
        when_ = v.approved_at.isoformat(timespec="seconds")
        label = f"version {v.id[:12]} (#{v.seq}, approved {when_} by {v.approver})"
    else:
        rs, label = state.ruleset(rules)
    at = as_of or today()
    if as_text:
        click.echo(rs.bundle_text(), nl=False)
    elif as_json:
        click.echo(json.dumps(views.view_json(rs, at, label), indent=2))
    else:
        click.echo(views.view_text(rs, at, label))


@rules.command("verify")
@pass_state
@handle_errors
def rules_verify(state: State) -> None:
    """Recompute the hash chain of the store; report any edited version. Exit 1 if something is wrong."""
    from rulesdsl.ruleset import Ruleset

    with state.store() as store:
        problems = store.verify()
        head = store.head()
        n = len(store.log())
        head_text = store.text(head) if head and not problems else None
    for p in problems:
        click.echo(p)
    if problems:
        _fail(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the store", code=1)
    click.echo(f"ok: {n} versions, chain intact" + (f", head {head.id[:12]}" if head else ""))
    ws = state.workspace(required=True)
    assert ws is not None
    if head_text is not None and ws.rules_dir.exists():
        try:
            working = Ruleset.load(ws.rules_dir, validate=False).bundle_text()
        except Exception:
            working = None
        if working != head_text:
            click.echo(f"note: {ws.rules_dir} differs from the approved head (unapproved edits; "
                       "'regwatch rules commit' records them)")


@rules.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of the rules AST (from the pydantic models)."""
    from rulesdsl.schema import ast_json_schema

    click.echo(json.dumps(ast_json_schema(), indent=2, sort_keys=True))


# Commands defined in their own modules (imported last: they use the helpers above).
from .cli_bundle import verify_bundle  # noqa: E402
from .cli_compile import compile_  # noqa: E402
from .cli_crawl import crawl, documents  # noqa: E402
from .cli_extract import evaluate, extract  # noqa: E402
from .cli_report import diff  # noqa: E402
from .cli_review import propose, review  # noqa: E402
from .cli_schedule import run, schedule  # noqa: E402

main.add_command(crawl)
main.add_command(documents)
main.add_command(schedule)
main.add_command(run)
main.add_command(extract)
main.add_command(evaluate)
main.add_command(propose)
main.add_command(review)
main.add_command(compile_)
main.add_command(verify_bundle)
main.add_command(diff)

if __name__ == "__main__":  # pragma: no cover
    main()
