"""``build_diff``: what changed between FROM and TO, and what it means for an inventory.

The library entry point of ``regwatch diff`` (``regwatch/cli_report.py`` wraps it). Each side is a point in
valid time and knowledge time (:class:`~reports.sides.Side`); the report states which axes moved. Sections:

* rule changes (:mod:`reports.rule_changes`): paragraphs, thresholds, groups, statuses, documents;
* assets reclassified (:mod:`reports.reclassify`), with the change date, the rule and its source;
* access changes (:mod:`reports.access`) for each person and controlled asset;
* assets near a threshold (uncertainty interval straddles it) on TO;
* upcoming dates after TO (:mod:`reports.upcoming`).

The inventory is streamed (CSV/JSONL row by row): memory grows with the assets that change, not the file.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rulesdsl.inventory import Asset, Subject, iter_inventory

from .access import AccessDiff
from .model import RECLASS_KINDS, Axis, DiffReport, NearThreshold, Reclassification
from .reclassify import Reclassifier, SideEval
from .rule_changes import rule_changes
from .sides import Side
from .upcoming import upcoming

ACTIONS: tuple[str, ...] = ("read",)
HORIZON_DAYS = 365


class DiffError(ValueError):
    """A diff that cannot be computed as asked (one line, for the CLI's exit code 2)."""


def axes_of(old: Side, new: Side) -> tuple[Axis, ...]:
    out: list[Axis] = []
    if old.ref.version != new.ref.version:
        out.append("knowledge")
    if old.valid != new.valid:
        out.append("valid")
    return tuple(out)


def build_diff(old: Side, new: Side, *, assets: str | Path | None = None, strict: bool = False,
               horizon_days: int = HORIZON_DAYS, actions: tuple[str, ...] = ACTIONS,
               inventory_label: str | None = None) -> DiffReport:
    """The diff from ``old`` (FROM) to ``new`` (TO). Raises :class:`DiffError` for a FROM date after the TO
    date and an asset kind the TO rules do not know; :class:`~rulesdsl.inventory.InventoryError` for a broken
    inventory (``FILE:ROW:FIELD: message``)."""
    if new.valid < old.valid:
        raise DiffError(f"FROM's date {old.valid} is after TO's date {new.valid}: give the earlier point first")
    report = DiffReport(old.info(), new.info(), axes_of(old, new), strict, horizon_days, actions, None)
    report.rule_changes = rule_changes(old.rules, old.valid, new.rules, new.valid)
    counts: Counter[str] = Counter()
    if assets is not None:
        _inventory(report, old, new, Path(assets), inventory_label or str(assets), counts)
    report.upcoming = upcoming(new.rules, new.valid, horizon_days, counts)
    return report


def _inventory(report: DiffReport, old: Side, new: Side, path: Path, label: str, counts: Counter[str]) -> None:
    old_eval, new_eval = SideEval.of(old), SideEval.of(new)
    rc = Reclassifier(old_eval, new_eval, strict=report.strict)
    access = AccessDiff(old_eval, new_eval, strict=report.strict, actions=report.actions)
    people: list[Subject] = []
    changes: list[Reclassification] = []
    near: list[NearThreshold] = []
    n_assets = 0
    for row in iter_inventory(path):
        if isinstance(row, Subject):
            people.append(row)
            continue
        assert isinstance(row, Asset)
        problem = (new.rules if row.kind in new.rules.kinds else old.rules).asset_problem(row)
        if problem:
            raise DiffError(f"{label}: {problem}")
        n_assets += 1
        out = rc.asset(row)
        for m in out.new.matches:
            counts[m.eccn] += 1
        if out.change is not None:
            changes.append(out.change)
        access.add(row, out.old, out.new, out.change.asset if out.change is not None else None)
        near += out.near
    rank = {k: i for i, k in enumerate(RECLASS_KINDS)}
    report.reclassified = sorted(changes, key=lambda r: rank[r.kind])
    report.near_threshold = near
    report.access = access.changes(people) if people else []
    report.inventory = {"file": label, "assets": n_assets, "people": len(people)}
