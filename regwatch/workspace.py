"""Workspaces: a folder with ``regwatch.toml``, ``rules/`` and the SQLite store.

Commands find the workspace from the current directory upward (like git), or take ``--workspace DIR``.
Without one, read-only commands use the embedded default ruleset.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_NAME = "regwatch.toml"

CONFIG_TEMPLATE = """\
# regwatch workspace settings. Every key is optional; the values shown are the defaults.

[workspace]
# Folder of .rules files (read in file-name order). `regwatch rules fmt` rewrites them canonically.
rules_dir = "rules"
# SQLite store of approved rules versions (bitemporal, hash-chained). See docs/store.md.
store = "regwatch.db"

[identity]
# Name recorded as the approver when `--as` is not given (e.g. "Jane Doe <jane@example.com>").
approver = ""

[semantics]
# true: controls whose non-enforcement was announced, or whose compliance date has not come, are treated as
# binding (the text is still in the CFR). false: follow the announced status and say so in every decision.
strict = false

[review]
# Approve proposals without a person when every item's confidence reaches the minimum and none is flagged.
# Off by default: extracted changes wait in `regwatch review list` for someone to approve them.
auto_approve = false
auto_approve_min_confidence = 0.9

[report]
# Inventory (docs/inventory.md) the weekly digest checks for reclassified assets; relative to the workspace.
assets = ""

[notify]
# POST the weekly digest (JSON) here; empty: write it to outbox/ only. Retried on errors, 429 and 5xx.
webhook_url = ""
webhook_retries = 3
webhook_timeout_seconds = 10.0

# The crawler and the scheduler have their own sections; see docs/crawler.md and docs/scheduler.md.
[crawler]
# Put in the User-Agent of every request (an e-mail address or URL).
contact = ""

[schedule]
timezone = "UTC"
misfire_grace_seconds = 3600   # a run missed by less than this still runs when the scheduler is back
coalesce = true                # several missed runs collapse into one

[[schedule.jobs]]
name = "daily-fr"
job = "fr_check"
cron = "15 9 * * 1-5"          # minute hour day month day-of-week (standard cron; 1-5 = Monday to Friday)

[[schedule.jobs]]
name = "weekly"
job = "pipeline"               # crawl -> extract -> propose -> report
cron = "0 6 * * 1"
"""


class WorkspaceError(Exception):
    """A one-line, user-facing problem with the workspace or its settings."""


@dataclass(frozen=True)
class Settings:
    rules_dir: str = "rules"
    store: str = "regwatch.db"
    approver: str = ""
    strict: bool = False
    auto_approve: bool = False
    auto_approve_min_confidence: float = 0.9
    report_assets: str = ""
    webhook_url: str = ""
    webhook_retries: int = 3
    webhook_timeout_seconds: float = 10.0


_KNOWN: dict[str, dict[str, type]] = {
    "workspace": {"rules_dir": str, "store": str},
    "identity": {"approver": str},
    "semantics": {"strict": bool},
    "review": {"auto_approve": bool, "auto_approve_min_confidence": float},
    "report": {"assets": str},
    "notify": {"webhook_url": str, "webhook_retries": int, "webhook_timeout_seconds": float},
}
_RENAME: dict[tuple[str, str], str] = {("report", "assets"): "report_assets"}


def load_settings(path: Path) -> Settings:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{path}: invalid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{path}: cannot read: {exc}") from None
    values: dict[str, Any] = {}
    for section, body in data.items():
        if section not in _KNOWN:
            # later issues add sections (crawler, scheduler, ...): unknown sections are kept for them
            continue
        if not isinstance(body, dict):
            raise WorkspaceError(f"{path}: [{section}] must be a table")
        for key, value in body.items():
            expected = _KNOWN[section].get(key)
            if expected is None:
                raise WorkspaceError(f"{path}: unknown setting '{section}.{key}'")
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise WorkspaceError(f"{path}: '{section}.{key}' must be a {expected.__name__}")
            if key == "auto_approve_min_confidence" and isinstance(value, float) and not 0.0 <= value <= 1.0:
                raise WorkspaceError(f"{path}: '{section}.{key}' must be between 0 and 1")
            if key == "webhook_retries" and isinstance(value, int) and not 0 <= value <= 10:
                raise WorkspaceError(f"{path}: '{section}.{key}' must be between 0 and 10")
            if key == "webhook_timeout_seconds" and isinstance(value, float) and not 0 < value <= 300:
                raise WorkspaceError(f"{path}: '{section}.{key}' must be between 0 and 300 seconds")
            if key == "webhook_url" and value and not str(value).startswith(("http://", "https://")):
                raise WorkspaceError(f"{path}: '{section}.{key}' must be an http(s) URL")
            values[_RENAME.get((section, key)) or key] = value
    return Settings(**values)


@dataclass(frozen=True)
class Workspace:
    root: Path
    settings: Settings

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def rules_dir(self) -> Path:
        return self.root / self.settings.rules_dir

    @property
    def store_path(self) -> Path:
        return self.root / self.settings.store

    @classmethod
    def open(cls, root: Path) -> Workspace:
        cfg = root / CONFIG_NAME
        if not cfg.is_file():
            raise WorkspaceError(f"{root}: not a regwatch workspace (no {CONFIG_NAME}; run 'regwatch init')")
        return cls(root.resolve(), load_settings(cfg))


def find_workspace(start: Path) -> Workspace | None:
    """The nearest workspace at or above ``start``, if any."""
    cur = start.resolve()
    for d in [cur, *cur.parents]:
        if (d / CONFIG_NAME).is_file():
            return Workspace.open(d)
    return None
