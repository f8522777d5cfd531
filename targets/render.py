"""The jinja2 environment of every target: templates from ``targets/templates/<target>/``, StrictUndefined (a
missing value is an error, never an empty string), no autoescape (each language escapes through the filters of
``targets.escape``), LF line ends and one trailing newline."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from .escape import FILTERS


@cache
def environment(target: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("targets", f"templates/{target}"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        newline_sequence="\n",
    )
    env.filters.update(FILTERS)
    return env


def render(target: str, template: str, **context: Any) -> str:
    text = environment(target).get_template(template).render(**context)
    return text.rstrip("\n") + "\n"
