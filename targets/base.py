"""What every target gets and returns.

``CompileUnit``: the timeline of the rules (always) and, in ``--as-of`` mode, the day to compile; a target
compiles ``unit.slices`` (one slice for ``--as-of``, every slice for ``--timeline``) and says in its output
which mode it was. ``Bundle``: relative path -> bytes, plus diagnostics. Outputs are byte-deterministic: sorted
keys, stable order, no timestamps, LF line ends, one trailing newline; every artifact carries
``unit.rules_version``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from compiler.ir import IR, Diagnostic, Timeline

if TYPE_CHECKING:
    from rulesdsl.ruleset import Ruleset


class TargetError(Exception):
    """A target cannot produce a faithful artifact (one line, names the rule and its location)."""


@dataclass(frozen=True)
class CompileUnit:
    timeline: Timeline
    as_of: dt.date | None = None  # None: the whole timeline
    options: dict[str, Any] = field(default_factory=dict)  # target-specific (e.g. signing key for rego)

    @classmethod
    def for_date(cls, rs: Ruleset, as_of: dt.date, *, rules_version: str, strict: bool = False,
                 options: dict[str, Any] | None = None) -> CompileUnit:
        """One date: only that day's slice is lowered (cheap for any size of rules); ``timeline`` then holds
        that slice and the parameter history read from the rules."""
        from compiler.ir import lower
        from compiler.lowering import parameter_history_ir

        one = lower(rs, as_of=as_of, rules_version=rules_version, strict=strict)
        tl = Timeline(rules_version=rules_version, strict=strict, slices=(one,),
                      parameter_history=parameter_history_ir(rs, at=as_of, strict=strict),
                      diagnostics=one.diagnostics)
        return cls(tl, as_of, dict(options or {}))

    @classmethod
    def for_timeline(cls, rs: Ruleset, *, rules_version: str, strict: bool = False,
                     options: dict[str, Any] | None = None) -> CompileUnit:
        """Every slice (the cost grows with the number of change dates times the size of the rules)."""
        from compiler.ir import lower_timeline

        return cls(lower_timeline(rs, rules_version=rules_version, strict=strict), None, dict(options or {}))

    @property
    def rules_version(self) -> str:
        return self.timeline.rules_version

    @property
    def slices(self) -> tuple[IR, ...]:
        """The slices to compile: the one holding ``as_of``, or all of them."""
        if self.as_of is not None:
            return (self.timeline.slice_at(self.as_of),)
        return self.timeline.slices

    @property
    def mode(self) -> str:
        return "as_of" if self.as_of is not None else "timeline"


@dataclass
class Bundle:
    files: dict[str, bytes] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def add(self, path: str, data: bytes | str) -> None:
        p = PurePosixPath(path)
        if p.is_absolute() or ".." in p.parts or not p.parts:
            raise TargetError(f"target produced an unsafe path: {path!r}")
        if path in self.files:
            raise TargetError(f"target produced {path} twice")
        self.files[path] = data.encode("utf-8") if isinstance(data, str) else data
