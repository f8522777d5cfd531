"""Text of Federal Register XML elements and govinfo text, normalised for matching.

Traps handled here, once (SOURCES.md section 6):

* ``<SU>`` is both a superscript exponent and a footnote marker: ``10<SU>26</SU>`` becomes ``10^26``
  only when the superscript follows the base ``10``; otherwise (``rule<SU>1</SU>``) it is a footnote
  marker and is dropped.
* ``<PRTPAGE>`` page breaks interrupt sentences: they carry no text.
* ``<E T="nn">`` emphasis and ``<E T="52">`` subscripts are kept as plain text.
* govinfo text renders superscripts as ``10\\26\\`` and footnotes as ``\\1\\``, quotes as ````x''``,
  dashes as ``--`` and page breaks as ``[[Page 1685]]``.
"""

from __future__ import annotations

import re
from typing import Any

_BASE10 = re.compile(r"(?:^|[^\d.,])10\s*$")
_WS = re.compile(r"\s+")
SKIP_TAGS = {"PRTPAGE", "FTREF", "GPH", "GID", "MATH"}


def _tag(el: Any) -> str:
    t = el.tag
    return t if isinstance(t, str) else ""


def render(el: Any, parts: list[str]) -> None:
    """Append the text of ``el`` (and its tail is handled by the caller) to ``parts``."""
    tag = _tag(el)
    if tag in SKIP_TAGS:
        return
    if tag == "SU":
        inner = "".join(el.itertext()).strip()
        before = "".join(parts)
        if re.fullmatch(r"[-−–]?\d{1,3}", inner) and _BASE10.search(before):
            parts.append("^" + inner.replace("−", "-").replace("–", "-"))
        # else: a footnote marker: dropped
        return
    if el.text:
        parts.append(el.text)
    for child in el:
        render(child, parts)
        if child.tail:
            parts.append(child.tail)


def text_of(el: Any) -> str:
    """Normalised text of an element (exponents as ``^``, footnote markers and page breaks dropped)."""
    parts: list[str] = []
    render(el, parts)
    return _WS.sub(" ", "".join(parts)).strip()


def element_path(el: Any) -> str:
    """``RULE/PREAMB/DATES/P[2]``: the element's XPath from the document root (positions only where a tag
    repeats among siblings). lxml computes it in C; a Python walk over siblings was quadratic."""
    try:
        return str(el.getroottree().getpath(el)).lstrip("/")
    except (AttributeError, ValueError):
        return _tag(el)


_GOV_SUP = re.compile(r"(?<![\d.,])10\\(-?\d{1,3})\\")
_GOV_FOOT = re.compile(r"\\\d{1,3}\\")
_PAGE = re.compile(r"\[\[Page \d+\]\]")


def normalise_plain(text: str) -> str:
    """govinfo / plain text to the same conventions as :func:`text_of` (keeps line breaks)."""
    t = _PAGE.sub(" ", text)
    t = _GOV_SUP.sub(lambda m: f"10^{m.group(1)}", t)
    t = _GOV_FOOT.sub("", t)
    t = t.replace("``", "\u201c").replace("''", "\u201d").replace("--", "\u2014")
    t = t.replace("\u2013", "-") if re.search(r"\d\u2013\d", t) is None else t
    return t
