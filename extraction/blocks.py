"""Regulatory text as a list of blocks: the amendatory instructions, section headings, headings and paragraphs
of each ``REGTEXT`` (FR XML) or of the amendment part of a plain-text rendition.

Why a module of its own: the three CCL extractors (ECCN changes, thresholds, license exceptions) read the same
blocks, so they are built once per document; and building them is most of the cost of extraction.

XML: one XSLT pass (libxslt, in C) prints every block's kind and text for the whole document, with the
contents of ``<SU>`` *marked*; :func:`~extraction.xmltext.resolve_superscripts` then decides exponent vs
footnote vs unit power, so the rule lives in one place. Walking the tree from Python instead cost a few
microseconds per element, more than everything else together. Elements are looked up only for blocks that
yield a fact (their location is the element's XPath), by :func:`_walk`, which follows the same traversal and
is also the fallback when XSLT is not available.

Traversal: ``AMDPAR``, ``P``, ``FP`` and ``HD`` are blocks (not entered); ``SECTION`` is a block (its
``SECTNO`` and ``SUBJECT``) and is entered; ``AUTH``, ``GPOTABLE``, ``FTNT``, ``GPH`` and ``MATH`` are skipped;
any other element is entered. Only the REGTEXTs of the parts the extractors read (:data:`FULL_PARTS`, and
REGTEXTs without a part) are listed whole; of the others only the instructions are listed.

(XPath's ``normalize-space()`` on the blocks without superscripts was tried: testing each block for them
cost the XSLT more than the Python whitespace pass it saved.)
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .xmltext import SU_CLOSE, SU_OPEN, element_path, normalise_plain, resolve_superscripts, text_of

__all__ = ["Block", "Group", "document_blocks", "document_groups", "final_text", "text_blocks"]

SKIP = frozenset({"AUTH", "GPOTABLE", "FTNT", "GPH", "MATH"})
_KIND = {"AMDPAR": "amdpar", "P": "p", "FP": "p", "HD": "hd", "SECTION": "section"}
_RT, _SEP, _BLK, _HEAD = "\ue000", "\ue001", "\ue002", "\ue005"  # private-use separators in the XSLT output
# the parts whose REGTEXTs are read whole by default: the CCL (774) and license exceptions (740); of every other
# part only the amendatory instructions are listed (one of them may still amend the CCL), which spares most of
# the text of a large rule (new sections of part 744, the EAR's general parts)
FULL_PARTS = frozenset({"740", "774"})
_XSLT = f"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="text" encoding="UTF-8"/>
  <xsl:param name="full" select="' '"/>
  <xsl:template match="/">
    <xsl:for-each select="//REGTEXT">
      <xsl:text>{_RT}</xsl:text><xsl:value-of select="@PART"/><xsl:text>{_SEP}</xsl:text>
      <xsl:value-of select="@TITLE"/>
      <xsl:choose>
        <xsl:when test="normalize-space(@PART)='' or contains($full, concat(' ', normalize-space(@PART), ' '))">
          <xsl:text>{_SEP}F</xsl:text><xsl:apply-templates select="*" mode="walk"/>
        </xsl:when>
        <xsl:otherwise><xsl:text>{_SEP}A</xsl:text><xsl:apply-templates select="*" mode="amd"/></xsl:otherwise>
      </xsl:choose>
    </xsl:for-each>
  </xsl:template>
  <xsl:template match="AUTH|GPOTABLE|FTNT|GPH|MATH|SECTNO|SUBJECT" mode="walk"/>
  <xsl:template match="AMDPAR" mode="walk">
    <xsl:text>{_BLK}amdpar{_SEP}</xsl:text><xsl:apply-templates mode="text"/>
  </xsl:template>
  <xsl:template match="P|FP" mode="walk">
    <xsl:text>{_BLK}p{_SEP}</xsl:text><xsl:apply-templates mode="text"/>
  </xsl:template>
  <xsl:template match="HD" mode="walk">
    <xsl:text>{_BLK}hd{_SEP}</xsl:text><xsl:apply-templates mode="text"/>
  </xsl:template>
  <xsl:template match="SECTION" mode="walk">
    <xsl:text>{_BLK}section{_SEP}</xsl:text><xsl:value-of select="count(SECTNO|SUBJECT)"/>
    <xsl:for-each select="SECTNO|SUBJECT"><xsl:text>{_HEAD}</xsl:text><xsl:apply-templates mode="text"/></xsl:for-each>
    <xsl:apply-templates select="*" mode="walk"/>
  </xsl:template>
  <xsl:template match="*" mode="walk"><xsl:apply-templates select="*" mode="walk"/></xsl:template>
  <xsl:template match="AUTH|GPOTABLE|FTNT|GPH|MATH|SECTNO|SUBJECT|P|FP|HD" mode="amd"/>
  <xsl:template match="AMDPAR" mode="amd">
    <xsl:text>{_BLK}amdpar{_SEP}</xsl:text><xsl:apply-templates mode="text"/>
  </xsl:template>
  <xsl:template match="*" mode="amd"><xsl:apply-templates select="*" mode="amd"/></xsl:template>
  <xsl:template match="PRTPAGE|FTREF|GPH|GID|MATH" mode="text"/>
  <xsl:template match="SU" mode="text">
    <xsl:text>{SU_OPEN}</xsl:text><xsl:value-of select="."/><xsl:text>{SU_CLOSE}</xsl:text>
  </xsl:template>
  <xsl:template match="comment()|processing-instruction()" mode="text"/>
</xsl:stylesheet>"""


@dataclass(eq=False, slots=True)
class Block:
    """A paragraph of regulatory text. ``raw`` is its text as the XSLT printed it (whitespace as in the
    document, superscripts marked) or, from the other builders, its final text; ``text`` is the final text
    (as :func:`~extraction.xmltext.text_of` gives it), made on first use (:func:`final_text`)."""

    kind: str  # amdpar | p | section | hd
    raw: str
    loc: str | None  # "paragraph 14" (plain text); None: the XPath of the element, found when a fact needs it
    part: str | None
    el: Any = None
    doc: _Document | None = None
    index: tuple[int, int] = (0, 0)  # (REGTEXT, block) position, to find ``el`` when it is needed
    _text: str | None = None

    @property
    def text(self) -> str:
        t = self._text
        if t is None:
            t = self._text = final_text(self.raw)
        return t

    @property
    def location(self) -> str:
        if self.loc is None:
            if self.el is None and self.doc is not None:
                self.el = self.doc.element(*self.index)
            if self.el is None:
                self.loc = ""
            elif self.doc is not None:
                self.loc = self.doc.path(self.index[0], self.el)
            else:
                self.loc = element_path(self.el)
        return self.loc


def _tag(el: Any) -> str:
    t = getattr(el, "tag", None)
    return t.rsplit("}", 1)[-1] if isinstance(t, str) else ""


def _walk(el: Any, instructions_only: bool = False) -> Iterator[tuple[str, Any]]:
    """(kind, element) of the blocks under ``el``, in document order (see the module docstring); only the
    ``amdpar`` ones with ``instructions_only``."""
    for child in el:
        tag = _tag(child)
        if not tag or tag in SKIP or tag in ("SECTNO", "SUBJECT"):
            continue
        kind = _KIND.get(tag)
        if kind is not None and (not instructions_only or kind == "amdpar"):
            yield kind, child
        if kind is None or kind == "section":
            yield from _walk(child, instructions_only)


def _is_full(part: str | None, full: frozenset[str]) -> bool:
    """Whether a REGTEXT of ``part`` is read whole (a REGTEXT without a part always is)."""
    return part is None or part in full


def _python_text(kind: str, el: Any) -> str:
    if kind == "section":
        return " ".join(text_of(c) for c in el if _tag(c) in ("SECTNO", "SUBJECT"))
    return text_of(el)


class _Document:
    """The REGTEXTs of one document and, lazily, their block elements."""

    def __init__(self, root: Any, full: frozenset[str] = FULL_PARTS) -> None:
        self.root = root
        self.full = full
        self.regtexts = list(root.iter("REGTEXT"))
        self.partial: set[int] = set()  # REGTEXTs of which only the instructions are listed
        self._elements: dict[int, list[Any]] = {}
        self._paths: dict[int, str] = {}

    def path(self, rt: int, el: Any) -> str:
        """``element_path(el)`` of an element inside REGTEXT ``rt``: the REGTEXT's own path once, then the
        path below it (libxml2 counts a node's siblings at every level, and a large rule has hundreds of
        REGTEXTs side by side)."""
        from lxml import etree

        base = self._paths.get(rt)
        if base is None:
            base = self._paths[rt] = element_path(self.regtexts[rt])
        below = str(etree.ElementTree(self.regtexts[rt]).getpath(el))  # "/REGTEXT/SECTION/P[2]"
        return base + below[below.find("/", 1):] if below.count("/") > 1 else element_path(el)

    def walk(self, rt: int) -> Iterator[tuple[str, Any]]:
        return _walk(self.regtexts[rt], rt in self.partial)

    def element(self, rt: int, k: int) -> Any:
        if rt not in self._elements:
            if k < 4:  # the instruction at the top of a REGTEXT: no need to list the rest
                found = next(itertools.islice(self.walk(rt), k, None), None)
                return found[1] if found else None
            self._elements[rt] = [el for _kind, el in self.walk(rt)]
        els = self._elements[rt]
        return els[k] if k < len(els) else None


@lru_cache(maxsize=1)
def _transform() -> Any:
    from lxml import etree

    return etree.XSLT(etree.XML(_XSLT), access_control=etree.XSLTAccessControl.DENY_ALL)


def _collapse(text: str) -> str:
    """``" ".join(text.split())``, skipped when it would change nothing: a stripped text that is printable
    (Python counts newlines, tabs, no-break and other Unicode spaces as not printable) and has no double
    space has nothing to collapse. Most paragraphs are single lines of text."""
    text = text.strip()
    return text if text.isprintable() and "  " not in text else " ".join(text.split())


def final_text(marked: str) -> str:
    """The final text of a block's raw text: collapsed whitespace, then superscripts decided on that text, as
    :func:`~extraction.xmltext.text_of` does. A final text is its own final text."""
    marked = _collapse(marked)
    return _collapse(resolve_superscripts(marked)) if SU_OPEN in marked else marked


class Group:
    """The blocks of one REGTEXT (or of a plain-text rendition): ``items``, its (kind, raw text) pairs in order,
    and :class:`Block` objects made when first asked for (:meth:`block`, :attr:`blocks`). The CCL state
    machine reads the items and makes a block only for a paragraph that yields a fact: most paragraphs of a
    large rule never need one."""

    __slots__ = ("_blocks", "doc", "index", "items", "part")

    def __init__(self, part: str | None, items: list[tuple[str, str]], doc: _Document | None = None,
                 index: int = 0, blocks: list[Block] | None = None) -> None:
        self.part = part
        self.items = items
        self.doc = doc
        self.index = index  # the REGTEXT's position in ``doc``
        self._blocks: dict[int, Block] | list[Block] = blocks if blocks is not None else {}

    @classmethod
    def of(cls, blocks: list[Block], part: str | None = None) -> Group:
        """A group of blocks made elsewhere (Python walk, plain text): their texts are final."""
        return cls(part if part is not None or not blocks else blocks[0].part,
                   [(b.kind, b.raw) for b in blocks], blocks=blocks)

    def block(self, k: int) -> Block:
        made = self._blocks
        if isinstance(made, list):
            return made[k]
        b = made.get(k)
        if b is None:
            kind, raw = self.items[k]
            b = made[k] = Block(kind, raw, None, self.part, None, self.doc, (self.index, k))
        return b

    @property
    def blocks(self) -> list[Block]:
        if not isinstance(self._blocks, list):
            self._blocks = [self.block(k) for k in range(len(self.items))]
        return self._blocks

    def of_kind(self, kind: str) -> list[Block]:
        return [self.block(k) for k, (kd, _raw) in enumerate(self.items) if kd == kind]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Block]:
        return iter(self.blocks)


# the head of a block in the XSLT output (its kind); the raw text follows, up to the next block
_ITEM = re.compile(f"{_BLK}(amdpar|p|hd|section){_SEP}")


def _section_text(raw: str) -> str | None:
    """A SECTION's text (its SECTNO and SUBJECT), or None when the XSLT output does not add up."""
    count, *heads = raw.split(_HEAD)
    if not count.strip().isdigit() or int(count) != len(heads):
        return None
    return " ".join(final_text(h) for h in heads)


def _from_xslt(doc: _Document) -> list[Group] | None:
    """The groups, from one XSLT pass; None when its output does not add up (the document's own text holds
    one of the private-use separators), and the Python walk must do it. (Only a text holding a whole block
    header, separator, kind and separator in a row, would pass the counts: that paragraph would be listed as
    two.)"""
    from lxml import etree

    full = etree.XSLT.strparam(" " + " ".join(sorted(doc.full)) + " ")
    out = str(_transform()(doc.root, full=full))
    groups = out.split(_RT)[1:]
    if len(groups) != len(doc.regtexts) or out.count(SU_OPEN) != out.count(SU_CLOSE):
        return None
    heads = listed = 0
    result: list[Group] = []
    for i, group in enumerate(groups):
        parts = _ITEM.split(group)  # [head, kind, raw, kind, raw, ...]
        items = list(zip(parts[1::2], parts[2::2], strict=True))
        listed += len(items)
        part, sep1, rest = parts[0].partition(_SEP)  # attribute values: whitespace kept as written, then stripped
        title, sep2, how = rest.partition(_SEP)
        if not (sep1 and sep2) or how not in ("F", "A"):
            return None
        part_ = part.strip() or None
        if how == "A":
            doc.partial.add(i)
        if (how == "A") == _is_full(part_, doc.full):
            return None  # a PART value that XPath and Python strip differently
        if f"{_BLK}section{_SEP}" in group:
            for k, (kind, raw) in enumerate(items):
                if kind == "section":
                    text = _section_text(raw)
                    if text is None:
                        return None
                    heads += raw.count(_HEAD)
                    items[k] = (kind, text)  # final already (making it again changes nothing)
        if title.strip() in ("", "15"):  # (not another CFR title)
            result.append(Group(part_, items, doc, i))
    # every separator must belong to a block (a stray one in the text adds one or breaks a block), counted over
    # the whole output at once: a separator the document holds can only add to a count
    if out.count(_HEAD) != heads or out.count(_BLK) != listed or out.count(_SEP) != listed + 2 * len(groups):
        return None
    return result


def _from_python(doc: _Document) -> list[Group]:
    result: list[Group] = []
    for i, rt in enumerate(doc.regtexts):
        if (rt.get("TITLE") or "").strip() not in ("", "15"):
            continue
        part = (rt.get("PART") or "").strip() or None
        if not _is_full(part, doc.full):
            doc.partial.add(i)
        blocks = [Block(kind, t, None, part, el, _text=t) for kind, el in doc.walk(i)
                  for t in (_python_text(kind, el),)]
        result.append(Group(part, [(b.kind, b.raw) for b in blocks], doc, i, blocks))
    return result


def document_groups(root: Any, full: frozenset[str] = FULL_PARTS) -> list[Group]:
    """A :class:`Group` for every title-15 REGTEXT of ``root`` (a document, or a daily issue's document
    element): all of its blocks for the parts in ``full`` (and REGTEXTs without a part), only the
    instructions otherwise."""
    doc = _Document(root, full)
    if not doc.regtexts:
        return []
    try:
        from_xslt = _from_xslt(doc)
    except Exception:  # libxslt unavailable or refusing the input: same result, slower
        from_xslt = None
    if from_xslt is None:
        doc.partial.clear()
        return _from_python(doc)
    return from_xslt


def document_blocks(root: Any, full: frozenset[str] = FULL_PARTS) -> list[list[Block]]:
    """The blocks of :func:`document_groups`, every one made."""
    return [g.blocks for g in document_groups(root, full)]


# -------------------------------------------------------------------------------------------- plain text

_START = re.compile(r"amended\s+as\s+follows|making\s+the\s+following\s+correcting\s+amendments|"
                    r"^\s*PART\s+\d+\s*[—-]", re.I | re.M)
_PART_HD = re.compile(r"^\s*PART\s+(\d+)\s*(?:—|--|-)", re.I)
_SU_TEXT = re.compile(r"<su>\s*(-?\d{1,3})\s*</su>|<sup>\s*(-?\d{1,3})\s*</sup>", re.I)
INSTRUCTION = re.compile(r"^\s*(\d+[a-z]?)\s*\.\s+")
# a line that starts a paragraph of regulatory text (instruction, section, ECCN heading, item, note, ...)
_PARA_START = re.compile(
    r"^[ \t]*(?:\d{1,3}[a-z]?\.[ \t]+[A-Z]|[a-z]\.[ \t]+[A-Z]|[a-z](?:\.(?:\d{1,2}|[a-z]))+\.[ \t]|§|PART[ \t]+\d"
    r"|Supplement[ \t]+No\.|\d[A-E]\d{3}[ \t]|(?:Technical[ \t]+)?Notes?\b|\*[ \t]*\*[ \t]*\*|\([a-z0-9]{1,4}\)[ \t]"
    r"|License[ \t]+Requirements?|Reason[ \t]+for[ \t]+Control|List[ \t]+Based|List[ \t]+of[ \t]+Items"
    r"|Related[ \t]+(?:Controls|Definitions)|Items:|Authority:|[A-Z]{2,4}(?:/[A-Z]{2,4})*:[ \t])")
_LONG_LINE = 160


def _paragraphs(body: str) -> list[str]:
    """Paragraphs of plain text. govinfo wraps lines at ~72 characters and separates paragraphs by blank
    lines or indentation; renderings that drop the XML tags print one paragraph per (long) line; PDF text
    may have neither, so a line that follows a finished sentence and starts like a paragraph of regulatory
    text (an instruction, a section, an ECCN heading, an item, a note) starts a new one."""
    lines = body.splitlines()
    if lines and max(len(ln) for ln in lines) > _LONG_LINE:
        return lines
    out: list[str] = []
    for chunk in re.split(r"\n\s*\n|\n(?=[ \t]{2,}\S)", body):
        cur: list[str] = []
        for ln in chunk.split("\n"):
            if cur and re.search(r"[.:;]\s*$", cur[-1]) and _PARA_START.match(ln):
                out.append("\n".join(cur))
                cur = []
            cur.append(ln)
        out.append("\n".join(cur))
    return out


def _instruction_part(para: str, part: str | None) -> str | None:
    """The CFR part an instruction amends: the running PART heading unless the instruction names another."""
    ipart = part
    pm = re.search(r"\bpart\s+(\d{3})\b", para, re.I)
    if pm and (ipart is None or not re.search(rf"\bpart\s+{ipart}\b", para)):
        ipart = pm.group(1) if re.search(r"supplement|§|section", para, re.I) else ipart
    sm = re.search(r"§§?\s*(\d{3})\.\d+", para)
    return sm.group(1) if sm else ipart


def text_blocks(text: str) -> list[Block]:
    """Blocks of the amendment part ("... are amended as follows:") of a plain-text rendition."""
    t = normalise_plain(text)
    t = re.sub(r"(?<![\d.,])10\s*<(su|sup)>\s*(-?\d{1,3})\s*</\1>", r"10^\2", t, flags=re.I)
    t = _SU_TEXT.sub("", t)
    t = re.sub(r"<[^>]{1,40}>", " ", t)
    m = _START.search(t)
    if not m:
        return []
    body = t[m.end():] if not m.group(0).lstrip().upper().startswith("PART") else t[m.start():]
    blocks: list[Block] = []
    part: str | None = None
    for idx, chunk in enumerate(_paragraphs(body)):
        para = re.sub(r"\s+", " ", chunk).strip()
        if not para:
            continue
        loc = f"paragraph {idx + 1}"
        pm = _PART_HD.match(para)
        if pm:
            part = pm.group(1)
            blocks.append(Block("hd", para, loc, part, _text=para))
        elif INSTRUCTION.match(para) and re.search(r"\b(amend\w*|add\w*|revis\w*|remov\w*|reserv\w*|authority)\b",
                                                   para, re.I):
            part = _instruction_part(para, part) or part
            blocks.append(Block("amdpar", para, loc, part, _text=para))
        elif re.match(r"^§\s*\d{3}\.\d+\s", para):
            blocks.append(Block("section", para, loc, part, _text=para))
        else:
            blocks.append(Block("p", para, loc, part, _text=para))
    return blocks
