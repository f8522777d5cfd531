"""Source registry: every module in this package with a ``SOURCE`` is a source (found by name, STYLE.md).

A source is one small declared unit: name, default base URL, default schedule, options with defaults,
assertions, and a ``start(ctx)`` generator plus parse callbacks. Sources never touch scrapy or the
database: they get a :class:`crawler.context.Context` (fetch, emit, fail, note, cursor, parse helpers).
Adding a source is adding one module here.
"""

from __future__ import annotations

import importlib
import pkgutil

from ..spec import SourceSpec

SOURCES: dict[str, SourceSpec] = {}

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    _mod = importlib.import_module(f"{__name__}.{_info.name}")
    _spec = getattr(_mod, "SOURCE", None)
    if isinstance(_spec, SourceSpec):
        SOURCES[_spec.name] = _spec
