"""What a source declares (see crawler/sources/)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import Context


@dataclass(frozen=True)
class SourceSpec:
    name: str
    title: str
    default_base_url: str
    schedule: str  # default cron for the scheduler
    start: Callable[[Context], Iterable[Any]]
    default_options: dict[str, Any] = field(default_factory=dict)
    # run-level assertions: (description, check(summary_for_source) -> bool); a failed one is a failure
    assertions: tuple[tuple[str, Callable[[dict[str, Any]], bool]], ...] = ()
