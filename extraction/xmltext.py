"""Text of Federal Register XML elements and govinfo text, normalised for matching.

Traps handled here, once (SOURCES.md section 6):

* ``<SU>`` is both a superscript exponent and a footnote marker: ``10<SU>26</SU>`` becomes ``10^26``
  only when the superscript follows the number ``10`` used as a base (not "supplement no. 10", "part 10",
  "§ 10" or "footnote 10"); ``mm<SU>2</SU>`` (a unit's power) becomes ``mm2``; otherwise
  (``rule<SU>1</SU>``) it is a footnote marker and is dropped.
* ``<PRTPAGE>`` page breaks interrupt sentences: they carry no text.
* ``<E T="nn">`` emphasis and ``<E T="52">`` subscripts are kept as plain text.
* govinfo text renders superscripts as ``10\\26\\`` and footnotes as ``\\1\\``, quotes as ````x''``,
  dashes as ``--``, ``§`` as ``Sec.``, page breaks as ``[[Page 1685]]`` on a line of their own (often in the
  middle of a sentence) and puts a lone ``0`` line (the amendatory-instruction bullet) before each
  instruction. PDF-derived text writes identifiers with en dashes ("RIN 0694–AJ90").
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_BASE10 = re.compile(r"(?:^|[^\d.,])10\s*$")
# "10" that is a label, not a base: "supplement no. 10", "part 10", "§ 10", "footnote 10", "Table 10"
_LABEL10 = re.compile(r"(?:\bnos?\.|\bnumber|\bparts?|§|\bsections?|\bfootnotes?|\bnotes?|\btables?|\bpages?|"
                      r"\bparagraphs?|\bcategory|\bgroup|\bE\.O\.|\bOrder|\bsupplement)\s*10\s*$", re.I)
_EXPONENT = re.compile(r"[-−–]?\d{1,3}")
_UNIT_POWER = re.compile(r"(?:^|[^A-Za-z])(?:mm|cm|nm|µm|um|km|m|ft|in)$")
_WS = re.compile(r"\s+")
SKIP_TAGS = {"PRTPAGE", "FTREF", "GPH", "GID", "MATH"}


def _tag(el: Any) -> str:
    t = el.tag
    return t if isinstance(t, str) else ""


SU_OPEN, SU_CLOSE = "\ue003", "\ue004"  # marks a superscript's text until it is decided (private use)
_SU_MARK = re.compile(f"{SU_OPEN}([^{SU_CLOSE}]*){SU_CLOSE}")


def _superscript(inner: str, before: str) -> str:
    """What a ``<SU>`` contributes after the text ``before`` (only its last 40 characters matter)."""
    tail = before[-40:]
    # (both patterns end at the end of the text: they are tried only on its last characters)
    if _EXPONENT.fullmatch(inner) and _BASE10.search(tail, max(0, len(tail.rstrip()) - 3)) \
            and not _LABEL10.search(tail):
        return "^" + inner.replace("−", "-").replace("–", "-")
    if inner in ("2", "3") and _UNIT_POWER.search(tail, max(0, len(tail) - 4)):
        return inner  # mm<SU>2</SU>: square millimetres
    return ""  # a footnote marker


def resolve_superscripts(marked: str) -> str:
    """Decide every marked superscript (``SU_OPEN inner SU_CLOSE``) from the text before it: exponent,
    unit power or footnote marker. The one place where that decision is made, for the Python renderer and
    for the XSLT that extracts regulatory text in bulk (:mod:`extraction.blocks`)."""
    if SU_OPEN not in marked:
        return marked
    done, pos = "", 0
    for m in _SU_MARK.finditer(marked):
        done += marked[pos:m.start()]
        done += _superscript(m.group(1).strip(), done)
        pos = m.end()
    return done + marked[pos:]


def render(el: Any, parts: list[str]) -> None:
    """Append the text of ``el`` (and its tail is handled by the caller) to ``parts``; superscripts are
    marked, :func:`resolve_superscripts` decides them."""
    tag = _tag(el)
    if tag in SKIP_TAGS:
        return
    if tag == "SU":
        parts.append(SU_OPEN + "".join(el.itertext()) + SU_CLOSE)
        return
    if el.text and tag:
        parts.append(el.text)
    for child in el:
        render(child, parts)
        if child.tail:
            parts.append(child.tail)


def text_of(el: Any) -> str:
    """Normalised text of an element (exponents as ``^``, footnote markers and page breaks dropped)."""
    parts: list[str] = []
    render(el, parts)
    marked = " ".join("".join(parts).split())
    return " ".join(resolve_superscripts(marked).split()) if SU_OPEN in marked else marked


@lru_cache(maxsize=32)
def xpath(expr: str, smart_strings: bool = True) -> Any:
    """A compiled ``etree.XPath`` (compiling an expression costs more than evaluating it on a small element).
    ``smart_strings=False`` returns plain strings, without a link back to their element (cheaper)."""
    from lxml import etree

    return etree.XPath(expr, smart_strings=smart_strings)


def element_path(el: Any) -> str:
    """``RULE/PREAMB/DATES/P[2]``: the element's XPath from the document root (positions only where a tag
    repeats among siblings). lxml computes it in C; a Python walk over siblings was quadratic."""
    try:
        return str(el.getroottree().getpath(el)).lstrip("/")
    except (AttributeError, ValueError):
        return _tag(el)


_GOV_SUP = re.compile(r"(?<![\d.,])10\\(-?\d{1,3})\\")
_GOV_FOOT = re.compile(r"\\\d{1,3}\\")
# a page marker on a line of its own, between blank lines, after a wrapped line (60+ characters that do not
# end a sentence): the sentence continues after the marker, so the blank lines are not a paragraph break
_PAGE_MID = re.compile(r"(?m)^(?P<line>[^\n]{60,}[^.:;!?)\]\s][ \t]*)\n(?:[ \t]*\n)*[ \t]*\[\[Page \d+\]\][ \t]*\n"
                       r"(?:[ \t]*\n)*")
_PAGE = re.compile(r"\[\[Page \d+\]\]")
_BULLET0 = re.compile(r"(?m)^[ \t]*0[ \t]*\n(?=[ \t]*\d{1,3}[a-z]?\.\s)")
_SEC2 = re.compile(r"\b(?:Sec\.\s*Sec\.|Secs\.)\s*(?=\d{1,3}\.\d)")
_SEC = re.compile(r"\bSec\.\s*(?=\d{1,3}\.\d)")
_ID_DASH = re.compile(r"(?<=[0-9A-Za-z])[\u2010\u2011\u2013](?=[0-9A-Za-z])")


def normalise_plain(text: str) -> str:
    """govinfo / plain text to the same conventions as :func:`text_of` (keeps line breaks)."""
    t = _PAGE_MID.sub(lambda m: m.group("line") + "\n", text)
    t = _PAGE.sub(" ", t)
    t = _BULLET0.sub("", t)
    t = _GOV_SUP.sub(lambda m: f"10^{m.group(1)}", t)
    t = _GOV_FOOT.sub("", t)
    t = t.replace("``", "\u201c").replace("''", "\u201d").replace("--", "\u2014")
    t = _SEC2.sub("§§ ", t)
    t = _SEC.sub("§ ", t)
    return _ID_DASH.sub("-", t)  # "0694–AJ90", "250107–0007", "2025–00636": identifiers use hyphens
