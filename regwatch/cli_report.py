"""``regwatch diff FROM TO``: what changed in the rules between two points, and which assets it reclassifies.

FROM and TO are each a date (valid time) or a rules version (knowledge time: ``@N``, ``head``, an id or a
unique prefix); ``--as-of`` gives the date of a side given as a version, ``--version`` / ``--rules`` the rules
of a side given as a date. The command wraps :func:`reports.diff.build_diff`. Exit code: 0 nothing
reclassified, 1 some asset reclassified, 2 usage or input error (one line on stderr).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import AsOf, State, UserError, handle_errors, pass_state, today

if TYPE_CHECKING:
    from reports.model import RulesRef
    from reports.sides import Point, Side
    from rulesdsl.ruleset import Ruleset

ACTIONS = ("read", "clone", "modify", "execute_compiled", "query_api")


@click.command("diff")
@click.argument("from_", metavar="FROM")
@click.argument("to", metavar="TO")
@click.option("--assets", "assets", default=None, type=click.Path(dir_okay=False),
              help="Inventory (YAML, JSON, JSONL or CSV; docs/inventory.md): which assets and people are affected.")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True,
              help="Markdown for PRs and chat, a self-contained HTML page, or JSON (docs/reports.md).")
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False),
              help="Write the report to this file (default: standard output).")
@click.option("--as-of", "as_of", type=AsOf(), default=None,
              help="Valid date of a side given as a rules version (default: today).")
@click.option("--version", "version", default=None, metavar="K",
              help="Rules version of a side given as a date (default: the workspace's head, else the embedded "
                   "default rules).")
@click.option("--rules", metavar="PATH", default=None, help="Rules of a side given as a date: this file or folder.")
@click.option("--strict/--no-strict", default=None,
              help="Treat announced non-enforcement and pending compliance as binding (default: workspace "
                   "setting).")
@click.option("--horizon", "horizon", type=click.IntRange(min=0), default=365, show_default=True, metavar="DAYS",
              help="Upcoming dates within this many days after TO (0: all).")
@click.option("--action", "actions", multiple=True, type=click.Choice(ACTIONS),
              help="Access checked for each person and controlled asset (repeatable; default: read).")
@pass_state
@handle_errors
def diff(state: State, from_: str, to: str, assets: str | None, fmt: str, out: str | None, as_of: dt.date | None,
         version: str | None, rules: str | None, strict: bool | None, horizon: int, actions: tuple[str, ...]) -> None:
    """Rule changes between FROM and TO and the assets they reclassify, with dates and sources.

    FROM and TO are dates (YYYY-MM-DD: valid time, what is in force on that day) or rules versions (@N,
    head, an id or unique prefix: knowledge time, what the rules said when that version was approved).
    Examples: `regwatch diff 2024-12-01 2025-06-01 --assets inventory.yaml`,
    `regwatch diff @1 head --as-of 2025-06-01 --format html --out report.html`.
    Exit code 1 when some asset is reclassified, 0 when none is, 2 on a usage or input error.
    """
    from reports.diff import DiffError, build_diff
    from reports.render import render
    from reports.sides import PointError, parse_point

    try:
        points = parse_point(from_, "FROM"), parse_point(to, "TO")
    except PointError as e:
        raise UserError(str(e)) from None
    dates = [p for p in points if p.date is not None]
    versions = [p for p in points if p.version is not None]
    if as_of is not None and not versions:
        raise UserError("--as-of gives the date of a side given as a rules version, but FROM and TO are both dates")
    if (version is not None or rules is not None) and not dates:
        raise UserError(f"{'--version' if version else '--rules'} gives the rules of a side given as a date, but "
                        "FROM and TO are both rules versions")
    if version is not None and rules is not None:
        raise UserError("give --version or --rules, not both")
    ws = state.workspace()
    strict_mode = strict if strict is not None else (ws.settings.strict if ws else False)
    resolver = _Resolver(state, version, rules, as_of or today())
    old, new = resolver.side(points[0], "FROM"), resolver.side(points[1], "TO")
    try:
        report = build_diff(old, new, assets=assets, strict=strict_mode, horizon_days=horizon,
                            actions=actions or ("read",))
    except DiffError as e:
        raise UserError(str(e)) from None
    text = render(report, fmt)
    if out is None:
        click.echo(text, nl=False)
    else:
        _write(Path(out), text)
        n = report.reclassified_count
        click.echo(f"{fmt} report written to {out}: {len(report.rule_changes)} rule changes, {n} asset"
                   f"{'s' if n != 1 else ''} reclassified", err=True)
    sys.exit(1 if report.reclassified_count else 0)


class _Resolver:
    """Turns the two points into sides, loading each distinct ruleset once (same rules: same object)."""

    def __init__(self, state: State, version: str | None, rules: str | None, as_of: dt.date) -> None:
        self.state, self.version, self.rules, self.as_of = state, version, rules, as_of
        self._cache: dict[str, tuple[Ruleset, RulesRef]] = {}

    def side(self, p: Point, name: str) -> Side:
        from reports.sides import Side

        if p.version is not None:
            rs, ref = self._version(p.version, f"{name} '{p.text}'")
            return Side(rs, ref, self.as_of, p.text)
        assert p.date is not None
        rs, ref = self._version(self.version, "--version") if self.version is not None else self._default()
        return Side(rs, ref, p.date, p.text)

    def _version(self, ref: str, what: str) -> tuple[Ruleset, RulesRef]:
        from reports.sides import rules_of_version
        from rulesdsl.store import StoreError

        if self.state.workspace() is None:
            raise UserError(f"{what} is a rules version, but versions live in a workspace's store and there is no "
                            "workspace here (run 'regwatch init DIR', or pass --workspace DIR); without one, give "
                            "dates (they use the embedded default rules)")
        with self.state.store() as store:
            try:
                v = store.get(ref)
            except StoreError as e:
                raise UserError(f"{what}: {e}") from None
            if v.id not in self._cache:
                self._cache[v.id] = rules_of_version(store, v.id)
        return self._cache[v.id]

    def _default(self) -> tuple[Ruleset, RulesRef]:
        from reports.sides import content_ref, rules_of_version
        from rulesdsl.ruleset import Ruleset

        if "default" in self._cache:
            return self._cache["default"]
        ws = self.state.workspace()
        if self.rules:
            rs = Ruleset.load(self.rules)
            found = rs, content_ref(rs, f"file {self.rules}")
        elif ws is None:
            rs = Ruleset.default()
            found = rs, content_ref(rs, "embedded default")
        elif ws.store_path.exists() and (head := self._head()) is not None:
            with self.state.store() as store:
                found = rules_of_version(store, head)
        else:
            rs = Ruleset.load(ws.rules_dir)
            found = rs, content_ref(rs, f"working rules {ws.rules_dir}")
        self._cache["default"] = found
        return found

    def _head(self) -> str | None:
        with self.state.store() as store:
            v = store.head()
            return v.id if v else None


def _write(path: Path, text: str) -> None:
    """Atomically: a reader never sees half a report, and a failed write leaves the old one."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(f"--out {path}: the folder {parent} does not exist")
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=".tmp-regwatch-")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        raise UserError(f"--out {path}: cannot write: {e.strerror or e}") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
