"""What the pipeline's report step builds: every target compiled from the approved rules into the workspace's
``build/`` folder, and the reclassification section of the digest (from the configured inventory)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from .digest import Reclassifier
from .workspace import Workspace


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
    unit = CompileUnit.for_date(rs, day, rules_version=version or "sha256:" + rs.content_hash(),
                                strict=ws.settings.strict, options=options)
    bundles, _shown = build_bundles(unit, list(TARGETS))
    return write_bundles(ws.root / "build", bundles)


def inventory_path(ws: Workspace) -> Path | None:
    if not ws.settings.report_assets:
        return None
    p = Path(ws.settings.report_assets)
    return p if p.is_absolute() else ws.root / p


def reclassifier(ws: Workspace) -> Reclassifier | None:
    """The digest's reclassification section: assets whose classification changes between the previous digest
    and the next 120 days, from the configured inventory (``[report] assets``)."""
    if inventory_path(ws) is None:
        return None
    return None  # wired to reports.diff once it lands


def write_reports(ws: Workspace, base_version: str, day: dt.date) -> dict[str, Path]:
    """The diff report between ``base_version`` and the head (knowledge time) on ``day``, as Markdown, HTML
    and JSON in ``<workspace>/reports/``; empty until the reports package provides the diff."""
    return {}
