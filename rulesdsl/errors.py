"""Located diagnostics for the rules DSL: ``file:line:col: message``, the source line, and a caret."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Diagnostic:
    file: str
    line: int
    col: int
    message: str
    source_line: str = ""
    level: Literal["error", "warning"] = "error"
    width: int = 1

    def render(self) -> str:
        head = f"{self.file}:{self.line}:{self.col}: {self.level}: {self.message}"
        if not self.source_line:
            return head
        text = self.source_line.rstrip("\n").replace("\t", " ")
        caret = " " * max(self.col - 1, 0) + "^" + "~" * max(self.width - 1, 0)
        return f"{head}\n    {text}\n    {caret}"

    def one_line(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.level}: {self.message}"


@dataclass
class DslError(Exception):
    """The only exception the parser and validator raise for bad input. Holds every diagnostic found."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)

    @property
    def first(self) -> Diagnostic:
        return self.diagnostics[0]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest known name, or ``""``."""
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in pool}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f" (did you mean '{close[0]}'?)" if close else ""
