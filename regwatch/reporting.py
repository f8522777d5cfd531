"""What the pipeline's report step builds: every target compiled from the approved rules into the workspace's
``build/`` folder, and the reclassification section of the digest (from the configured inventory)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from .digest import Reclassifier
from .workspace import Workspace, WorkspaceError


def compile_workspace(ws: Workspace, day: dt.date) -> list[tuple[str, int, Path]]:
    """Compile every target as of ``day`` from the store's head into ``<workspace>/build/<target>/``."""
    from targets import TARGETS, CompileUnit

    from .cli_compile import build_bundles, write_bundles
    from .review import approved_rules

    rs, version = approved_rules(ws)
    options: dict[str, Any] = {"strict": ws.settings.strict}
    inv = inventory_path(ws)
    if inv is not None:
        from rulesdsl.inventory import load_inventory

        options["inventory"] = load_inventory(inv)
        for asset in options["inventory"].assets:
            problem = rs.asset_problem(asset)
            if problem:
                raise WorkspaceError(f"{inv}: {problem}")
    unit = CompileUnit.for_date(rs, day, rules_version=version or "sha256:" + rs.content_hash(),
                                strict=ws.settings.strict, options=options)
    bundles, _shown = build_bundles(unit, list(TARGETS))
    return write_bundles(ws.root / "build", bundles)


def inventory_path(ws: Workspace) -> Path | None:
    if not ws.settings.report_assets:
        return None
    p = Path(ws.settings.report_assets)
    return p if p.is_absolute() else ws.root / p


def _sides(ws: Workspace, old_version: str | None, old_day: dt.date, new_day: dt.date) -> tuple[Any, Any]:
    """FROM = the rules version ``old_version`` (else the head) on ``old_day``; TO = the head on ``new_day``."""
    from reports.sides import Side, rules_of_version
    from rulesdsl.store import RulesStore

    with RulesStore(ws.store_path) as st:
        head_rs, head_ref = rules_of_version(st, "head")
        old_rs, old_ref = rules_of_version(st, old_version) if old_version else (head_rs, head_ref)
    return (Side(old_rs, old_ref, old_day, old_version or old_day.isoformat()),
            Side(head_rs, head_ref, new_day, new_day.isoformat()))


def _entries(report: Any) -> list[dict[str, Any]]:
    out = []
    for r in report.reclassified:
        if r.kind == "status":
            continue
        m = r.new.matches[0] if r.new.matches else (r.old.matches[0] if r.old.matches else None)
        src = m.source.to_json() if m is not None else {}
        out.append({"asset": r.asset.id, "kind": r.asset.kind, "from": r.old.label, "to": r.new.label,
                    "change": r.kind, "effective": (r.changed_on or (m.effective if m else None)),
                    "cause": r.cause, "citation": src.get("citation"), "needs_review": list(r.new.review)})
    for e in out:
        e["effective"] = e["effective"].isoformat() if e["effective"] else None
    return out


def reclassifier(ws: Workspace) -> Reclassifier | None:
    """The digest's reclassification section, from the configured inventory (``[report] assets``): assets
    whose classification changes because of the versions approved since the last digest (knowledge time,
    on the digest's day), and those that change over the next 120 days under the approved rules (valid time).
    """
    inv = inventory_path(ws)
    if inv is None or not ws.store_path.exists():
        return None

    def run(w: Workspace, since: dt.datetime | None, today: dt.date) -> tuple[list[dict[str, Any]], str | None]:
        from reports.diff import build_diff
        from rulesdsl.store import RulesStore

        with RulesStore(w.store_path) as st:
            before = st.as_known_at(since) if since is not None else None
            first = st.log()[-1] if st.log() else None
        base = before or first
        entries: list[dict[str, Any]] = []
        if base is not None:
            entries += _entries(build_diff(*_sides(w, base.id, today, today), assets=inv,
                                           strict=w.settings.strict))
        entries += _entries(build_diff(*_sides(w, None, today, today + dt.timedelta(days=120)), assets=inv,
                                       strict=w.settings.strict))
        return entries, None if entries else f"nothing reclassified in {inv.name}"

    return run


def write_reports(ws: Workspace, base_version: str, day: dt.date) -> dict[str, Path]:
    """The diff report between ``base_version`` and the head (knowledge time) on ``day``, with the configured
    inventory, as Markdown, HTML and JSON in ``<workspace>/reports/``."""
    from reports.diff import build_diff
    from reports.render import render

    inv = inventory_path(ws)
    report = build_diff(*_sides(ws, base_version, day, day), assets=inv, strict=ws.settings.strict)
    out = ws.root / "reports"
    out.mkdir(exist_ok=True)
    stem = f"diff-{base_version[:12]}-head-{day.isoformat()}"
    files = {}
    for fmt, ext in (("md", "md"), ("html", "html"), ("json", "json")):
        path = out / f"{stem}.{ext}"
        path.write_text(render(report, fmt), encoding="utf-8")
        files[fmt] = path
    return files
