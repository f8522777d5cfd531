"""Classification hints: which repository files are weights, checkpoints, training configs, ...

Glob semantics (the same for every consumer, including the git hooks that later issues generate):

* paths use ``/``; a leading ``./`` is ignored;
* a pattern without ``/`` matches the file's base name anywhere in the tree (``*.safetensors``);
* a pattern with ``/`` matches the whole path; ``**`` matches any number of directories (including
  none), ``*`` any characters within one path segment, ``?`` one character, ``[abc]`` a character class;
* a ``marker`` hint names a file (e.g. ``.regwatch-controlled``); every file in the marker's directory
  and below it gets the marker's asset kind.

When several hints match a file, the first in the ruleset wins (file kind order is the author's).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from . import ast as A


@dataclass(frozen=True)
class HintMatch:
    path: str
    file_kind: str
    asset_kind: str
    pattern: str


@lru_cache(maxsize=4096)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a hint glob to an anchored regex (see the module docstring)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append("[\\s\\S]*")  # any characters, newlines too: a path may hold one
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            j = pattern.find("]", i + 1)
            if j == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = pattern[i + 1 : j].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = j + 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out) + r"\Z")


def _norm(path: str) -> str:
    p = path.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p.lstrip("/")


def match_path(pattern: str, path: str) -> bool:
    p = _norm(path)
    target = p if "/" in pattern else p.rsplit("/", 1)[-1]
    return glob_regex(pattern).match(target) is not None


def classify_paths(hints: Sequence[A.HintDecl], paths: Iterable[str]) -> dict[str, HintMatch]:
    """Hint matches for ``paths`` (files of one tree). Files matching no hint are absent."""
    all_paths = [_norm(p) for p in paths]
    out: dict[str, HintMatch] = {}
    markers: list[tuple[str, A.HintDecl, str]] = []  # (directory prefix, hint, pattern)
    for h in hints:
        if h.file_kind != "marker":
            continue
        for p in all_paths:
            base = p.rsplit("/", 1)[-1]
            for pat in h.patterns:
                if base == pat or match_path(pat, p):
                    prefix = p.rsplit("/", 1)[0] + "/" if "/" in p else ""
                    markers.append((prefix, h, pat))
    for p in all_paths:
        for h in hints:
            if h.file_kind == "marker":
                continue
            hit = next((pat for pat in h.patterns if match_path(pat, p)), None)
            if hit is not None:
                out[p] = HintMatch(p, h.file_kind, h.asset_kind, hit)
                break
        else:
            for prefix, h, pat in markers:
                if p.startswith(prefix):
                    out[p] = HintMatch(p, "marker", h.asset_kind, pat)
                    break
    return out
