"""Documents in, :class:`~extraction.model.Extraction` out: FR full-text XML (one document or a daily
issue), govinfo HTML / plain text, and documents stored by the crawler.

Metadata comes from the document itself: FRDOC (document number), PRTPAGE + volume (citation), ACT (the
action line, which tells an interim final rule from a final rule where the API type says "Rule"), RIN and
DEPDOC (agency docket), the REGTEXT parts and the List of Subjects (CFR parts; the cover line "15 CFR Parts
734, 736, 740, et al." is truncated), and for corrections the document they correct.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from .model import DocumentMeta, Extraction
from .xmltext import element_path, text_of, xpath

DOC_TAGS = ("RULE", "PRORULE", "NOTICE", "PRESDOCU", "CORRECT")
TYPE_BY_TAG = {"RULE": "Rule", "PRORULE": "Proposed Rule", "NOTICE": "Notice", "PRESDOCU": "Presidential Document",
               "CORRECT": "Rule"}
# (PDF-derived and some typeset text writes the hyphens of identifiers as en dashes: "2025–00636", "1–13–25")
_FRDOC = re.compile(r"FR\s*Doc\.?\s*(?:No\.?:?)?\s*"
                    r"((?:[A-Z]\d[-\u2010\u2011\u2013])?\d{2,4}[-\u2010\u2011\u2013]\d{3,6})", re.I)
_FILED = re.compile(r"Filed\s+(\d{1,2})[-/\u2010\u2011\u2013](\d{1,2})[-/\u2010\u2011\u2013](\d{2,4})", re.I)
_DASHES = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2013": "-"})


def _frdoc_number(m: re.Match[str]) -> str:
    return m.group(1).translate(_DASHES)
_RIN = re.compile(r"\b(\d{4})\s*[-\u2013\u2014]\s*([A-Z]{2}\d{2})\b")
_DOCKET = re.compile(r"Docket\s+(?:No\.?|Number)\s*:?\s*([A-Za-z0-9][A-Za-z0-9\-\u2013]*[A-Za-z0-9])", re.I)
_PARTS = re.compile(r"\b(\d+)\s+CFR\s+(?:Parts?|Ch(?:apter)?\.?\s*[IVXL]+)\s*([0-9,\sand\-\u2013]+)", re.I)
_NUM = re.compile(r"\d+")
_CITATION = re.compile(r"\(?(\d{2,3})\s+FR\s+(\d{3,6})\)?")
_LONG_DATE = re.compile(r"(January|February|March|April|May|June|July|August|September|October|November|"
                        r"December)\s+(\d{1,2}),?\s+(\d{4})")
_PATH_DATE = re.compile(r"(?<!\d)(19|20)(\d{2})[/-](\d{2})[/-](\d{2})(?!\d)")
_MONTHS = {m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                         "september", "october", "november", "december"), start=1)}


class ExtractError(Exception):
    """The input is not a parsable document (one line, names the file)."""


def _long_date(text: str) -> dt.date | None:
    m = _LONG_DATE.search(text)
    if not m:
        return None
    try:
        return dt.date(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))
    except ValueError:
        return None


def _clean(s: str | None) -> str | None:
    if s is None:
        return None
    s = " ".join(s.split())
    return s or None


class _Where:
    """Where a document's metadata elements are: the usual place (``PREAMB/ACT``, ``FRDOC``), else the first
    such element found by one walk of the document, made only if some usual place is empty, which looks for
    every tag at once (a ``.//TAG`` search per tag walked the whole document each time, and for a large rule
    cost more than the rest of the metadata)."""

    TAGS = ("FRDOC", "RIN", "DEPDOC", "LSTSUB", "SUBJECT", "CFR", "ACT", "AGENCY", "SUBAGY", "SUM", "SUPLINF")

    def __init__(self, el: Any) -> None:
        self.el = el
        self._first: dict[str, Any] | None = None
        self._first_in_preamble: dict[str, Any] = {}  # first one whose parent is a PREAMB
        self._children: dict[str, list[Any]] | None = None  # the document's children by tag

    def _index(self) -> dict[str, Any]:
        if self._first is None:
            self._first = {}
            for x in self.el.iter(*self.TAGS):
                tag = x.tag
                self._first.setdefault(tag, x)
                if tag not in self._first_in_preamble:
                    parent = x.getparent()
                    if parent is not None and parent.tag == "PREAMB":
                        self._first_in_preamble[tag] = x
        return self._first

    def _below(self, path: str) -> Any:
        """``el.find(path)`` for a path "TAG" or "TAG/SUB" (lxml's general path search costs more than the rest
        of a small document's metadata)."""
        if self._children is None:
            self._children = {}
            for c in self.el:
                if isinstance(c.tag, str):
                    self._children.setdefault(c.tag, []).append(c)
        head, _, sub = path.partition("/")
        for c in self._children.get(head, ()):
            if not sub:
                return c
            for found in c.iterchildren(sub):
                return found
        return None

    def find(self, path: str, *, anywhere: bool = True) -> Any:
        """``path`` below the document, else (for ``PREAMB/TAG``) a TAG in any PREAMB, else (``anywhere``)
        the first TAG at all."""
        found = self._below(path)
        if found is not None:
            return found
        tag = path.rsplit("/", 1)[-1]
        first = self._index()
        if path.startswith("PREAMB/") and tag in self._first_in_preamble:
            return self._first_in_preamble[tag]
        return first.get(tag) if anywhere else None


def _labelled(where: _Where, tag: str) -> str | None:
    """Text of the P paragraphs of a labelled preamble block (ACT, AGY, SUM), without its "ACTION:" head."""
    block = where.find(f"PREAMB/{tag}")
    if block is None:
        return None
    paras = [text_of(p) for p in block if isinstance(p.tag, str) and p.tag in ("P", "FP")]
    text = " ".join(p for p in paras if p) or re.sub(r"^[A-Z ]+:\s*", "", text_of(block))
    return _clean(text)


def _cfr_parts(where: _Where) -> list[int]:
    parts: set[int] = set()
    # plain attribute values: no element proxy, no "smart" string per REGTEXT
    for p in xpath(".//REGTEXT/@PART | self::REGTEXT/@PART", smart_strings=False)(where.el):
        if p.strip().isdigit():
            parts.add(int(p))
    lst = where.find("SUPLINF/LSTSUB")
    if lst is not None:
        for cfr in lst.iter("CFR"):
            parts.update(int(n) for n in re.findall(r"Parts?\s+(\d+)", text_of(cfr)))
    cover = where.find("PREAMB/CFR", anywhere=False)
    if cover is not None:  # may be truncated ("et al."): completed by REGTEXT and the List of Subjects
        for m in _PARTS.finditer(text_of(cover)):
            parts.update(int(n) for n in _NUM.findall(m.group(2)))
    return sorted(parts)


def _volume_for(pub: dt.date | None, filed_year: int | None) -> int | None:
    year = pub.year if pub else filed_year
    return year - 1935 if year else None  # volume 1 was 1936


def _start_page(el: Any, previous_page: int | None) -> int | None:
    """The first page of a document: a page break at its very start, else the page it begins on."""
    first = next(el.iter("PRTPAGE"), None)
    if first is None:
        return previous_page
    p = first.get("P", "")
    if not p.isdigit():
        return previous_page
    preamb = el.find("PREAMB")
    at_start = preamb is not None and len(preamb) and preamb[0] is first and not (preamb.text or "").strip()
    if at_start:
        return int(p)
    return previous_page if previous_page is not None else int(p) - 1


def is_correction(action: str | None, title: str | None) -> bool:
    """"Correcting amendment." / "Final rule; correction." or a title ending "; Correction"."""
    return (action or "").lower().startswith(("correcting", "correction")) or bool(
        re.search(r"[;:,]\s*corrections?$", (title or "").rstrip(". ").lower()) or
        re.search(r";\s*correction\.?$", (action or "").lower()))


_CITING = "./*[self::P or self::FP or self::HD or self::FTNT][contains(., 'FR')]"
# ... and of those the ones that can hold an "FR Doc." number ("Doc" in any of its usual cases; every contains()
# renders the paragraph's text again, in C: the cheap test first)
_CITING_FRDOC = _CITING + "[contains(., 'Doc') or contains(., 'DOC') or contains(., 'doc')]"


def _corrects(where: _Where, own: str | None) -> str | None:
    """The summary, the supplementary information and the action, in that order (see :func:`corrects_from`);
    of the supplementary information only the paragraphs that can cite a document are rendered, and for the
    citation only until one is found (rendering all of a long correction's text cost more than the rest of
    its metadata)."""
    parts = [x for x in (where.find("PREAMB/SUM"), where.find("SUPLINF"), where.find("PREAMB/ACT")) if x is not None]

    def texts(citing: str) -> Iterator[str]:
        for x in parts:
            if x.tag == "SUPLINF":
                yield from (text_of(p) for p in xpath(citing)(x))
            else:
                yield text_of(x)

    return _frdoc_in(texts(_CITING_FRDOC), own) or _citation_in(texts(_CITING))


def corrects_from(texts: list[str], own: str | None) -> str | None:
    """The document a correction corrects: an "FR Doc." number other than its own, else the first FR
    citation (resolved to a document number when the default ruleset knows it)."""
    return _frdoc_in(texts, own) or _citation_in(texts)


def _frdoc_in(texts: Iterable[str], own: str | None) -> str | None:
    for t in texts:
        for m in _FRDOC.finditer(t):
            if _frdoc_number(m) != own:
                return _frdoc_number(m)
    return None


def _citation_in(texts: Iterable[str]) -> str | None:
    for t in texts:
        cm = _CITATION.search(t)
        if cm:
            citation = f"{cm.group(1)} FR {cm.group(2)}"
            return known_document_for(citation) or citation
    return None


def known_document_for(citation: str) -> str | None:
    """The FR document number of a citation that the embedded default ruleset knows (e.g. 90 FR 5298 is
    2025-00711): corrections cite what they correct by page, the contract wants the document number."""
    return _default_fr_citations().get(citation)


@lru_cache(maxsize=1)
def _default_fr_citations() -> dict[str, str]:
    """Citation -> document number of the default ruleset's FR documents (parsed once per process: a daily
    issue has several corrections, and parsing the ruleset costs more than extracting one of them)."""
    try:
        from rulesdsl.ruleset import Ruleset

        rs = Ruleset.default()
    except Exception:
        return {}
    out: dict[str, str] = {}
    for doc in rs.documents.values():
        if doc.citation and doc.kind.startswith("fr_"):
            out.setdefault(doc.citation, doc.id)
    return out


def meta_from_xml(el: Any, *, volume: int | None = None, publication_date: dt.date | None = None,
                  previous_page: int | None = None) -> DocumentMeta:
    tag = el.tag if isinstance(el.tag, str) else ""
    where = _Where(el)
    frdoc = where.find("FRDOC")
    frdoc_text = text_of(frdoc) if frdoc is not None else ""
    m = _FRDOC.search(frdoc_text)
    number = _frdoc_number(m) if m else None
    filed = _FILED.search(frdoc_text)
    filed_year = None
    if filed:
        y = int(filed.group(3))
        filed_year = y + 2000 if y < 100 else y
    vol = volume or _volume_for(publication_date, filed_year)
    page = _start_page(el, previous_page)
    action = _labelled(where, "ACT")
    rins = []
    for r in el.iter("RIN"):  # (a walk filtered in C: only RIN elements become Python objects)
        for mm in _RIN.finditer(text_of(r)):
            rins.append(f"{mm.group(1)}-{mm.group(2)}")
    docket = None
    dep = where.find("PREAMB/DEPDOC")
    if dep is not None:
        md = _DOCKET.search(text_of(dep))
        docket = md.group(1).replace("\u2013", "-") if md else _clean(text_of(dep).strip("[]"))
    subject = where.find("PREAMB/SUBJECT")
    doc_type = TYPE_BY_TAG.get(tag)
    if tag == "CORRECT":  # the API files corrections under the section they appear in
        section = el.getparent().tag if el.getparent() is not None else ""
        doc_type = {"RULES": "Rule", "PRORULES": "Proposed Rule", "NOTICES": "Notice"}.get(str(section), "Rule")
    meta = DocumentMeta(
        document_number=number,
        citation=f"{vol} FR {page}" if vol and page else None,
        publication_date=publication_date,
        type=doc_type,
        action=action,
        title=_clean(text_of(subject)) if subject is not None else None,
        rin=list(dict.fromkeys(rins)),
        agency_docket=docket,
        cfr_parts=_cfr_parts(where),
        agency=_clean(text_of(a)) if (a := where.find("PREAMB/AGENCY", anywhere=False)) is not None else None,
        subagency=_clean(text_of(s)) if (s := where.find("PREAMB/SUBAGY", anywhere=False)) is not None else None,
    )
    correction = tag == "CORRECT" or is_correction(action, meta.title)
    if number and re.match(r"^[A-Z]\d-", number):  # OFR printing correction "C1-2025-00711" of 2025-00711
        meta.corrects = number[3:]
    elif correction:
        meta.corrects = _corrects(where, number)
    return meta


def _facts(ex: Extraction, el: Any) -> None:
    """Dates, ECCN changes, thresholds and license exceptions (modules of their own)."""
    from . import ccl, dates, groups

    try:
        ex.dates = dates.extract_dates(el, ex.document.publication_date)
    except Exception as exc:
        ex.warnings.append(f"dates: {type(exc).__name__}: {exc}")
    if ex.document.type in ("Notice", "Presidential Document"):
        return  # notices mention ECCNs but change none
    try:
        for name, fn in (("eccn_changes", ccl.extract_eccn_changes), ("thresholds", ccl.extract_thresholds),
                         ("license_exceptions", ccl.extract_license_exceptions),
                         ("country_group_changes", groups.extract_country_group_changes)):
            try:
                setattr(ex, name, fn(el))
            except Exception as exc:
                ex.warnings.append(f"{name}: {type(exc).__name__}: {exc}")
    finally:
        ccl.release_blocks()  # built once for the three extractors above; not kept past this document


@contextmanager
def gc_paused() -> Iterator[None]:
    """Extraction allocates thousands of short-lived objects and no reference cycles (nothing is left for
    ``gc.collect()`` afterwards); without this, CPython's cyclic collector rescans the long-lived heap
    (spaCy's vocabulary, the default ruleset) several times per large document. The caller's setting is
    restored."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def extract_xml_bytes(data: bytes, source: str, publication_date: dt.date | None = None) -> list[Extraction]:
    """Every document of an FR XML file (a single document or a daily issue)."""
    with gc_paused():
        return _extract_xml_bytes(data, source, publication_date)


def _extract_xml_bytes(data: bytes, source: str, publication_date: dt.date | None) -> list[Extraction]:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False, huge_tree=True)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ExtractError(f"{source}: not a parsable document: invalid XML ({exc})") from None
    out: list[Extraction] = []
    if root.tag == "FEDREG":
        vol_el = root.find("VOL")
        volume = int(text_of(vol_el)) if vol_el is not None and text_of(vol_el).isdigit() else None
        date_el = root.find("DATE")
        pub = publication_date or (_long_date(text_of(date_el)) if date_el is not None else None)
        last_page: int | None = None
        for el in root.iter(*DOC_TAGS, "PRTPAGE"):
            if el.tag == "PRTPAGE":
                p = el.get("P", "")
                if p.isdigit():
                    last_page = int(p)
                continue
            if el.getparent() is not None and el.getparent().tag in DOC_TAGS:
                continue  # a correction inside a rule is part of it
            ex = Extraction(meta_from_xml(el, volume=volume, publication_date=pub, previous_page=last_page),
                            source=f"{source}#{element_path(el)}", format="fr-xml")
            _facts(ex, el)
            out.append(ex)
            for p in el.iter("PRTPAGE"):
                if p.get("P", "").isdigit():
                    last_page = int(p.get("P"))
        return out
    if root.tag in DOC_TAGS:
        pub = publication_date or _date_from_path(source)
        ex = Extraction(meta_from_xml(root, publication_date=pub), source=source, format="fr-xml")
        _facts(ex, root)
        return [ex]
    if root.tag.lower() == "html":
        return extract_text(_html_text(data), source, publication_date, fmt="govinfo-html")
    raise ExtractError(f"{source}: not a Federal Register document (XML root <{root.tag}>)")


def _date_from_path(source: str) -> dt.date | None:
    m = _PATH_DATE.search(source)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1) + m.group(2)), int(m.group(3)), int(m.group(4)))
    except ValueError:
        return None


def _html_text(data: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "lxml")
    pre = soup.find("pre")
    node = pre if pre is not None else (soup.body or soup)
    return str(node.get_text("\n"))


def extract_text(raw: str, source: str, publication_date: dt.date | None = None,
                 fmt: str = "text") -> list[Extraction]:
    """Plain-text renditions (govinfo, PDF-derived, third-party): see :mod:`extraction.textdoc`."""
    from .textdoc import extract_text as run

    with gc_paused():
        return run(raw, source, publication_date, fmt)


def extract_bytes(data: bytes, source: str, publication_date: dt.date | None = None) -> list[Extraction]:
    head = data.lstrip()[:200].lower()
    if not data.strip():
        raise ExtractError(f"{source}: not a parsable document (empty file)")
    if head.startswith(b"<?xml") or (head.startswith(b"<") and not head.startswith((b"<!doctype html", b"<html"))):
        return extract_xml_bytes(data, source, publication_date)
    if head.startswith((b"<!doctype html", b"<html")):
        return extract_text(_html_text(data), source, publication_date, fmt="govinfo-html")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ExtractError(f"{source}: not a parsable document (binary or not UTF-8)") from None
    return extract_text(text, source, publication_date)


def extract_path(path: str | Path, publication_date: dt.date | None = None) -> list[Extraction]:
    p = Path(path)
    try:
        data = p.read_bytes()
    except IsADirectoryError:
        raise ExtractError(f"{p}: is a directory") from None
    except OSError as exc:
        raise ExtractError(f"{p}: cannot read ({exc.strerror})") from None
    return extract_bytes(data, str(p), publication_date)
