"""Plain-text renditions of Federal Register documents: govinfo "text" HTML, PDF-derived text and third-party
renderings (frnow, justia, trackers) that drop the XML tags.

They carry the same document as the XML, laid out differently, and each layout has its traps (SOURCES.md
section 6, traps 16, 19 and 24):

* govinfo starts with ``[Federal Register Volume 90, Number 10 (Thursday, January 16, 2025)]`` and
  ``[Pages 5298-5321]``; a big rule printed as its own Part of the issue starts with a cover page ("Part
  VIII", page 5297) whose CFR line is truncated ("15 CFR Parts 734, 736, 740, et al."): the heading inside the
  document has the full list, and the title printed after the ``RIN`` line (wrapped over several lines) is
  the document's, without the cover's "; Interim Final Rule" suffix.
* PDF-derived text has running headers ("4545 Federal Register / Vol. 90, No. 9 / Wednesday, January 15,
  2025 / Rules and Regulations") that give the volume, date and pages, and en dashes in identifiers.
* Renderings that drop tags glue page numbers to the text ("4544DEPARTMENT", "is 4545published",
  "45814582PART 774"), print one paragraph per line, flatten ``10<SU>26</SU>`` to "1026" and may move the
  SUMMARY before the agency heading: RIN, docket and CFR lines are looked for in the whole front matter
  (everything before SUPPLEMENTARY INFORMATION), each on a line of its own.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass

from .document import (
    _DOCKET,
    _FRDOC,
    _NUM,
    _PARTS,
    _RIN,
    ExtractError,
    _clean,
    _date_from_path,
    _frdoc_number,
    _long_date,
    _volume_for,
    corrects_from,
    is_correction,
)
from .model import DocumentMeta, Extraction
from .xmltext import normalise_plain

__all__ = ["extract_text"]

_HDR_VOL = re.compile(r"\[Federal Register Volume (\d+), Number \d+ \((\w+day, \w+ \d{1,2}, \d{4})\)\]")
_HDR_PAGES = re.compile(r"\[Pages? (\d+)(?:-(\d+))?\]")
_SECTION = re.compile(r"^\s*(AGENCY|ACTION|SUMMARY|DATES|ADDRESSES|FOR FURTHER INFORMATION CONTACT|"
                      r"SUPPLEMENTARY INFORMATION):", re.M)
_RULE_LINE = re.compile(r"^\s*[-=\u2014_]{5,}\s*$", re.M)
_RUNNING = re.compile(  # a PDF page's running header, with the line breaks around it (it interrupts sentences)
    r"\n?[ \t]*(?P<p1>\d{1,6})?[ \t]*Federal Register\s*/\s*Vol\.\s*(?P<vol>\d+),\s*No\.\s*\d+\s*/\s*"
    r"(?P<date>\w+day,\s*\w+\s+\d{1,2},\s*\d{4})\s*/\s*"
    r"(?P<section>Rules and Regulations|Proposed Rules|Notices|Presidential Documents)[ \t]*(?P<p2>\d{1,6})?"
    r"[ \t]*\n?")
_RIN_LINE = re.compile(r"^[ \t]*RIN[ \t]+\d{4}[ \t]*-[ \t]*[A-Z]{2}\d{2}.*$", re.M)
_DOCKET_LINE = re.compile(r"^[ \t]*\[Docket\s+(?:No\.?|Number)\s*:?\s*([^\]\n]+)\]", re.M | re.I)
_CFR_LINE = re.compile(r"^[ \t]*(\d+)[ \t]+CFR[ \t]+(?:Parts?|Ch(?:apter)?\.?[ \t]*[IVXL]+)[ \t]*"
                       r"([0-9,\s and\-]+?)(?:,?[ \t]*et al\.)?[ \t]*$", re.M)
_LEADING_PAGE = re.compile(r"\A\s*(\d{1,6})(?=[A-Z]|[ \t]*\n)")
_GLUED = re.compile(r"(?:^|(?<=[\s.,;:)\]]))(\d{2,12})(?=[A-Za-z])", re.M)
_PAGE_LINE = re.compile(r"^[ \t]*(\d{2,12})[ \t]*$", re.M)


@dataclass
class _Pages:
    first: int | None = None
    volume: int | None = None
    publication_date: dt.date | None = None
    section: str | None = None


def _running_headers(text: str, pages: _Pages) -> str:
    """Remove PDF running headers; the first one gives the volume, date, section and page."""
    def repl(m: re.Match[str]) -> str:
        if pages.volume is None:
            pages.volume = int(m.group("vol"))
            pages.publication_date = _long_date(m.group("date"))
            pages.section = m.group("section")
            p = m.group("p1") or m.group("p2")
            pages.first = int(p) if p else pages.first
        return "\n"

    return _RUNNING.sub(repl, text)


def _split_pages(digits: str, last: int, horizon: int) -> list[int] | None:
    """``"45814582"`` -> ``[4581, 4582]`` when the digits are one or more consecutive page numbers after
    ``last`` (pages of one document never jump more than ``horizon``)."""
    for width in range(2, 7):
        if len(digits) % width or digits[0] == "0":
            continue
        nums = [int(digits[i:i + width]) for i in range(0, len(digits), width)]
        if all(b == a + 1 for a, b in itertools.pairwise(nums)) and last <= nums[0] <= last + horizon:
            return nums
    return None


def _glued_pages(text: str, pages: _Pages, horizon: int = 50) -> str:
    """Remove page numbers that a tag-dropping renderer printed into the text. A number counts as a page
    number only when it is glued to the next word (or alone on its line) and continues the page sequence: at
    most ``horizon`` pages after the last one seen (renderings print every page; abridged ones skip some).
    "3A090", "4800 or more", "§ 740.29" and, in a document starting on page 4544, "4800TPP" never qualify."""
    lead = _LEADING_PAGE.match(text)
    if lead and pages.first is None:
        pages.first = int(lead.group(1))
        text = text[:lead.start(1)] + text[lead.end(1):]
    if pages.first is None:
        return text
    last = pages.first

    def repl(m: re.Match[str]) -> str:
        nonlocal last
        nums = _split_pages(m.group(1), last, horizon)
        if nums is None:
            return m.group(0)
        last = nums[-1]
        return m.group(0)[: m.start(1) - m.start(0)]

    text = _GLUED.sub(repl, text)
    return _PAGE_LINE.sub(repl, text)


def _sections(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    marks = list(_SECTION.finditer(text))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = _RULE_LINE.split(text[m.end():end])[0]  # a ---- rule line ends the section
        out.setdefault(m.group(1), body.strip())
    return out


def _front(text: str) -> str:
    """The front matter: everything before SUPPLEMENTARY INFORMATION (the first 8,000 characters without it)."""
    m = re.search(r"^\s*SUPPLEMENTARY INFORMATION:", text, re.M)
    return text[: m.start()] if m else text[:8000]


def _title(front: str) -> str | None:
    """The lines after the (last) RIN line, up to a blank line or a labelled section: titles wrap."""
    rins = list(_RIN_LINE.finditer(front))
    if not rins:
        return None
    lines: list[str] = []
    for ln in front[rins[-1].end():].splitlines():
        s = ln.strip()
        if not s:
            if lines:
                break
            continue
        if _SECTION.match(ln) or re.match(r"^(?:AGENCY|ACTION|SUMMARY|DATES)\b", s):
            break
        lines.append(s)
    return _clean(" ".join(lines))


def _identifiers(front: str, head: str) -> tuple[list[str], str | None, list[int]]:
    """RINs, agency docket and CFR parts from lines of their own in the front matter (the ADDRESSES section
    also names the RIN, and sometimes a regulations.gov docket id, inside sentences)."""
    rins = [f"{a}-{b}" for ln in _RIN_LINE.finditer(front) for a, b in _RIN.findall(ln.group(0))]
    dk = _DOCKET_LINE.search(front)
    docket = _clean(dk.group(1)) if dk else None
    if docket is None:
        md = _DOCKET.search(head)
        docket = md.group(1) if md else None
    parts: set[int] = set()
    for m in _CFR_LINE.finditer(front):
        parts.update(int(n) for n in _NUM.findall(m.group(2)))
    if not parts:
        for mm in _PARTS.finditer(head):
            parts.update(int(n) for n in _NUM.findall(mm.group(2)))
    return list(dict.fromkeys(rins)), docket, sorted(parts)


def _type_from_text(text: str, action: str | None, section: str | None) -> str | None:
    low = (action or "").lower()
    if "[Rules and Regulations]" in text or section == "Rules and Regulations" or (
            "rule" in low and "proposed" not in low):
        return "Rule"
    if "[Proposed Rules]" in text or section == "Proposed Rules" or "proposed" in low:
        return "Proposed Rule"
    if "[Notices]" in text or section == "Notices" or "notice" in low:
        return "Notice"
    return None


def extract_text(raw: str, source: str, publication_date: dt.date | None = None,
                 fmt: str = "text") -> list[Extraction]:
    """One document from its plain text (govinfo, PDF-derived or a third-party rendering)."""
    pages = _Pages()
    text = _running_headers(normalise_plain(raw), pages)
    hdr = _HDR_VOL.search(text)
    hdr_pages = _HDR_PAGES.search(text)
    if hdr_pages:
        pages.first = int(hdr_pages.group(1))
    if hdr is None:  # govinfo marks its pages ("[[Page 5299]]"); only other renderings glue numbers to text
        text = _glued_pages(text, pages)
    if not hdr and "FR Doc" not in text and "ACTION:" not in text:
        raise ExtractError(f"{source}: not a parsable document (no Federal Register header, FR Doc line or "
                           "ACTION: section)")
    pub = (publication_date or (_long_date(hdr.group(2)) if hdr else None) or pages.publication_date
           or _date_from_path(source))
    volume = int(hdr.group(1)) if hdr else pages.volume or _volume_for(pub, None)
    secs = _sections(text)
    m = _FRDOC.search(text)
    number = _frdoc_number(m) if m else None
    first_section = _SECTION.search(text)
    head = text[: first_section.start() if first_section else 2000]
    front = _front(text)
    rins, docket, parts = _identifiers(front, head)
    action = _clean(secs.get("ACTION"))
    meta = DocumentMeta(document_number=number,
                        citation=f"{volume} FR {pages.first}" if volume and pages.first else None,
                        publication_date=pub, type=_type_from_text(text, action, pages.section), action=action,
                        title=_title(front), rin=rins, agency_docket=docket, cfr_parts=parts)
    ex = Extraction(meta, source=source, format=fmt)
    _text_facts(ex, text, secs)
    if number and re.match(r"^[A-Z]\d-", number):  # OFR printing correction "C1-2025-00711" of 2025-00711
        meta.corrects = number[3:]
    elif is_correction(action, meta.title):
        meta.corrects = corrects_from([secs.get(k, "") for k in ("SUMMARY", "SUPPLEMENTARY INFORMATION", "ACTION")],
                                      number)
    return [ex]


def _text_facts(ex: Extraction, text: str, secs: dict[str, str]) -> None:
    from . import ccl, dates

    if "DATES" in secs:
        try:
            ex.dates = dates.extract_dates_text(secs["DATES"], ex.document.publication_date, location="DATES")
        except Exception as exc:
            ex.warnings.append(f"dates: {type(exc).__name__}: {exc}")
    if ex.document.type == "Rule":
        from .blocks import text_blocks
        from .groups import group_changes_in_blocks

        try:
            blocks = text_blocks(text)
        except Exception as exc:
            blocks = []
            ex.warnings.append(f"blocks: {type(exc).__name__}: {exc}")
        try:
            ex.eccn_changes, ex.thresholds, ex.license_exceptions = ccl.extract_text(text, blocks)
        except Exception as exc:
            ex.warnings.append(f"ccl: {type(exc).__name__}: {exc}")
        try:
            ex.country_group_changes = group_changes_in_blocks(blocks, 0.7)
        except Exception as exc:
            ex.warnings.append(f"country groups: {type(exc).__name__}: {exc}")
