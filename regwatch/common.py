"""Shared pieces of the CLI: errors, option types, the clock, workspace and ruleset resolution.

Kept apart from ``regwatch.cli`` so that command modules (``cli_crawl``, ``cli_schedule``) import them
without a cycle.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from rulesdsl.ruleset import Ruleset
    from rulesdsl.store import RulesStore

    from .workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])


class UserError(Exception):
    """Shown as ``regwatch: <message>`` with exit code 2."""


def _fail(msg: str, code: int = 2) -> NoReturn:
    click.echo(f"regwatch: {msg}", err=True)
    sys.exit(code)


def handle_errors(fn: F) -> F:
    """Turn every known user-facing error into one line on stderr (DSL errors keep their carets)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from rulesdsl.errors import DslError
        from rulesdsl.inventory import InventoryError
        from rulesdsl.store import StoreError

        from .workspace import WorkspaceError

        try:
            return fn(*args, **kwargs)
        except DslError as e:
            click.echo(str(e), err=True)
            n = len(e.diagnostics)
            click.echo(f"regwatch: {n} error{'s' if n != 1 else ''} in the rules", err=True)
            sys.exit(2)
        except (UserError, StoreError, WorkspaceError, InventoryError) as e:
            _fail(str(e))
        except BrokenPipeError:  # pragma: no cover - `regwatch ... | head`
            sys.exit(0)

    return wrapper  # type: ignore[return-value]


class AsOf(click.ParamType):  # type: ignore[type-arg]
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"'{value}' is not a date (expected YYYY-MM-DD)", param, ctx)


class Instant(click.ParamType):  # type: ignore[type-arg]
    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.datetime:
        try:
            t = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"'{value}' is not an ISO 8601 time (e.g. 2025-06-01T12:00:00+00:00)", param, ctx)
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.UTC)
        return t.astimezone(dt.UTC)


def today() -> dt.date:
    """The only place regwatch reads the clock for valid time: the default of ``--as-of``."""
    forced = os.environ.get("REGWATCH_TODAY")
    if forced:
        try:
            return dt.date.fromisoformat(forced)
        except ValueError:
            _fail(f"REGWATCH_TODAY='{forced}' is not a date (expected YYYY-MM-DD)")
    return dt.date.today()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


as_of_option = click.option("--as-of", "as_of", type=AsOf(), default=None,
                             help="Valid time: the date to evaluate the rules on (default: today).")
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")


# ---------------------------------------------------------------------------------------------------------
# Context: workspace and ruleset resolution


class State:
    def __init__(self, workspace: str | None) -> None:
        self.workspace_arg = workspace
        self._ws: Workspace | None = None
        self._ws_loaded = False

    def workspace(self, required: bool = False) -> Workspace | None:
        from .workspace import Workspace, WorkspaceError, find_workspace

        if not self._ws_loaded:
            self._ws_loaded = True
            if self.workspace_arg:
                self._ws = Workspace.open(Path(self.workspace_arg))
            else:
                env = os.environ.get("REGWATCH_WORKSPACE")
                self._ws = Workspace.open(Path(env)) if env else find_workspace(Path.cwd())
        if required and self._ws is None:
            raise WorkspaceError("no workspace here (run 'regwatch init DIR', or pass --workspace DIR)")
        return self._ws

    def store(self) -> RulesStore:
        from rulesdsl.store import RulesStore

        ws = self.workspace(required=True)
        assert ws is not None
        if not ws.store_path.exists():
            raise UserError(f"{ws.store_path}: store missing (run 'regwatch init' again to recreate it)")
        return RulesStore(ws.store_path)

    def ruleset(self, rules: str | None = None) -> tuple[Ruleset, str]:
        """The rules to evaluate and a label saying which: --rules PATH, the workspace's approved head,
        the workspace's rules folder (nothing approved yet), or the embedded default."""
        from rulesdsl.ruleset import Ruleset

        if rules:
            return Ruleset.load(rules), f"file {rules}"
        ws = self.workspace()
        if ws is None:
            rs = Ruleset.default()
            return rs, f"embedded default ({rs.content_hash()[:12]})"
        if ws.store_path.exists():
            with self.store() as st:
                head = st.head()
                if head is not None:
                    return Ruleset.from_bundle(st.text(head), f"version {head.id[:12]}"), f"version {head.id[:12]}"
        return Ruleset.load(ws.rules_dir), f"working rules {ws.rules_dir}"


pass_state = click.make_pass_decorator(State)
