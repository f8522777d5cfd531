"""FROM and TO: each side of a diff is a point in two times.

* **valid time** (a date): what is in force on that date, per the rules' own dates;
* **knowledge time** (a rules version): what the rules said, as approved into the store.

A command-line argument gives one coordinate (``2025-06-01`` or ``@1`` / ``head`` / an id prefix); the other
comes from ``--as-of`` / ``--version`` or the defaults (today; the workspace's head, or the embedded default
rules without a workspace). This module only parses and labels; resolving a version needs the store.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .model import RulesRef, SideInfo

if TYPE_CHECKING:
    from rulesdsl.ruleset import Ruleset
    from rulesdsl.store import RulesStore, Version

_DATE_SHAPE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")


class PointError(ValueError):
    """A FROM/TO argument that is neither a date nor a version reference (one line, for the CLI)."""


@dataclass(frozen=True)
class Point:
    """One argument: a valid date, or a rules version reference (``@N``, ``head``, an id or prefix)."""

    text: str
    date: dt.date | None = None
    version: str | None = None


def parse_point(text: str, name: str = "argument") -> Point:
    """``2025-06-01`` is a date; anything else a version reference, checked later against the store."""
    t = text.strip()
    if not t:
        raise PointError(f"{name} is empty: give a date (YYYY-MM-DD) or a rules version (@N, head, an id)")
    if _DATE_SHAPE.match(t):
        try:
            return Point(t, date=dt.date.fromisoformat(t))
        except ValueError as e:
            raise PointError(f"{name} '{t}' is not a valid date: {e}") from None
    if t[0].isdigit() and "-" in t:
        raise PointError(f"{name} '{t}' is not a date (expected YYYY-MM-DD) or a rules version (@N, head, an id)")
    return Point(t, version=t)


@dataclass(frozen=True)
class Side:
    """Rules (knowledge) and a date (valid): everything one side of the diff is evaluated on."""

    rules: Ruleset
    ref: RulesRef
    valid: dt.date
    spec: str

    def info(self) -> SideInfo:
        return SideInfo(self.spec, self.valid, self.ref)


def version_ref(v: Version) -> RulesRef:
    when = v.approved_at.isoformat(timespec="seconds")
    return RulesRef(f"version {v.short_id} (#{v.seq}, approved {when} by {v.approver})", v.id, v.seq,
                    v.approved_at.isoformat(), v.approver)


def rules_of_version(store: RulesStore, ref: str) -> tuple[Ruleset, RulesRef]:
    """The ruleset of a store version (``StoreError`` for an unknown or ambiguous ref)."""
    from rulesdsl.ruleset import Ruleset

    v = store.get(ref)
    return Ruleset.from_bundle(store.text(v), f"version {v.short_id}"), version_ref(v)


def content_ref(rs: Ruleset, label: str) -> RulesRef:
    """For rules that are not a store version (a file, the working folder, the embedded default)."""
    return RulesRef(label, "sha256:" + rs.content_hash())
