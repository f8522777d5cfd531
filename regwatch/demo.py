"""The main job on the embedded defaults, offline: the whole weekly pipeline against a recorded week.

A loopback fixture server (``crawler.fixture_server``) replays ``fixtures/demo/``: a week in which BIS
publishes an interim final rule and, ten days later, its correcting amendment (synthetic documents written in
the real FEDREG vocabulary, clearly marked as such). The demo then does what a compliance team's weekly job
does, in a fresh workspace seeded with the embedded default ruleset:

crawl the Federal Register (scrapy, over HTTP) -> extract the XML -> propose DSL changes -> approve them (in
demo mode, by "regwatch demo") -> compile every target -> write the reports and the digest,

and prints where everything is. Nothing leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import UserError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MARKER = ".regwatch-demo"
DEMO_AS_OF = dt.date(2027, 3, 15)
APPROVER = "regwatch demo (approved automatically for the demonstration)"


@dataclass
class DemoResult:
    root: Path
    as_of: dt.date
    crawl: str = ""
    extracted: list[str] = field(default_factory=list)
    proposals: list[tuple[int, str, int]] = field(default_factory=list)  # id, document, items
    approved: list[tuple[int, str]] = field(default_factory=list)  # id, version
    built: list[tuple[str, int, Path]] = field(default_factory=list)
    reports: dict[str, Path] = field(default_factory=dict)
    digest: dict[str, Path] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def _fresh(root: Path) -> None:
    """The demo owns its folder: it may only wipe a folder it created before (it holds the marker)."""
    if root.exists():
        if not (root / MARKER).exists():
            raise UserError(f"{root}: exists and is not a regwatch demo folder; choose another --dir")
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / MARKER).write_text("created by `regwatch demo`; safe to delete\n", encoding="utf-8")


def run_demo(root: Path, *, as_of: dt.date = DEMO_AS_OF, now: Callable[[], dt.datetime],
             log: Callable[[str], None] = lambda s: None) -> DemoResult:
    from crawler.config import load_crawl_config
    from crawler.fixture_server import FixtureServer
    from crawler.runner import crawl
    from extraction.batch import extract_stored
    from rulesdsl.ruleset import Ruleset, default_rules_files
    from rulesdsl.store import RulesStore

    from .digest import build, write
    from .reporting import compile_workspace, reclassifier, write_reports
    from .review import ReviewQueue, approve, load_extractions, propose_from, queue_path, workspace_extractions
    from .workspace import CONFIG_NAME, CONFIG_TEMPLATE, Workspace

    _fresh(root)
    res = DemoResult(root=root, as_of=as_of)
    # a workspace seeded with the embedded default ruleset, the sample inventory configured for reports
    (root / "rules").mkdir()
    for name, body in default_rules_files():
        (root / "rules" / name).write_text(body, encoding="utf-8")
    inventory = FIXTURES / "inventory" / "sample.yaml"
    cfg = CONFIG_TEMPLATE.replace('assets = ""', f"assets = {str(inventory)!r}".replace("'", '"'))
    (root / CONFIG_NAME).write_text(cfg, encoding="utf-8")
    ws = Workspace.open(root)
    rs = Ruleset.load(ws.rules_dir)
    with RulesStore(ws.store_path) as st:
        seed = st.commit(rs.bundle_text(), approver="regwatch init", approved_at=now(),
                         message="Seed from the embedded default ruleset", source_documents=sorted(rs.documents))
    log(f"workspace {root} (seed version {seed.id[:12]})")

    with FixtureServer(FIXTURES / "demo") as srv:
        config = load_crawl_config(ws.config_path, ws.root / "documents.db").with_overrides(
            {"fr": srv.url("/fr")})
        summary = crawl(config, ["fr"], dt.date(2027, 3, 1))
    res.crawl = summary.text().splitlines()[0] if summary.text() else ""
    if summary.exit_code != 0:
        raise UserError(f"demo crawl failed: {summary.text()}")
    log(f"crawl: {res.crawl}")

    batch = extract_stored(ws.root)
    res.extracted = batch.extracted
    log(f"extract: {batch.summary()}")

    proposed = propose_from(ws, load_extractions(workspace_extractions(ws)), at=now(), auto_approve=False)
    res.proposals = [(p.id, p.document, len(p.items)) for p in proposed.created]
    log(f"propose: {proposed.summary()}")
    with ReviewQueue(queue_path(ws)) as q:
        pending = [p.id for p in q.select("pending")]
    for pid in pending:
        vid = approve(ws, pid, approver=APPROVER, at=now(), note="demo mode: approved without review")
        res.approved.append((pid, vid))
        log(f"approve: proposal #{pid} -> version {vid[:12]}")

    res.built = compile_workspace(ws, as_of)
    log("compile: " + ", ".join(f"{n} ({c} files)" for n, c, _p in res.built))
    res.reports = write_reports(ws, seed.id, as_of)
    digest = build(ws, at=now(), today=as_of, reclassify=reclassifier(ws))
    res.digest = write(ws, digest)
    res.summary = digest.to_json()["summary"]
    log(f"digest: {digest.headline()}")
    return res
