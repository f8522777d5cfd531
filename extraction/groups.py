"""Country-group changes: countries added to or removed from the EAR's Country Groups (Supplement No. 1 to
part 740: A:5, A:6, D:1 ... D:5, E:1, E:2) and from the AIA destinations (Supplement No. 5 to part 740,
paragraph (a)), where a rule states them.

Three ways a rule states them, all inside the regulatory text of part 740:

* **an instruction** (``AMDPAR``) that names the change: "adding Nicaragua to Country Group D:5", "removing
  Russia from Country Groups A:5 and A:6", "adding an 'X' in the D:5 column for Nicaragua", "adding Albania to
  paragraph (a) of supplement no. 5 to part 740";
* **a restated list**: an instruction that adds or revises Supplement No. 5 to part 740 and its paragraph (a)
  naming every destination. Each listed country is reported ``added`` with ``restated="list"``: the list is
  complete, so a destination the rules hold and the list omits was removed (the proposals draw that
  conclusion against the rules);
* **a restated table entry**: an instruction that adds or revises entries of the Country Group table, followed
  by a ``GPOTABLE`` whose columns are groups and whose rows are countries with an "X" where the country is a
  member. Each cell is reported (``added`` for an X, ``removed`` for an empty cell of a revised entry), with
  ``restated="entry"``.

Country names become ISO 3166 alpha-2 codes (:mod:`extraction.country_names`); a name that is not a country
("all destinations") gives nothing. Mentions of country groups in the preamble, in license requirements
("destinations in Country Groups D:1, D:4, or D:5") or in other parts are not changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .blocks import Block, Group
from .country_names import find_countries
from .model import CountryGroupChange
from .xmltext import element_path, text_of

__all__ = ["extract_country_group_changes", "group_changes_in_blocks"]

_GROUP = re.compile(r"\b([A-E])\s?:\s?(\d)\b")
_SUPP1 = re.compile(r"supplement\s+no\.?\s*1\s+to\s+part\s+740|country\s+groups?\b", re.I)
_SUPP5 = re.compile(r"supplement\s+no\.?\s*5\s+to\s+part\s+740", re.I)
_ADD = re.compile(r"\b(?:add|adds|adding|added|insert|inserts|inserting|inserted|include|including)\b", re.I)
_REMOVE = re.compile(r"\b(?:remove|removes|removing|removed|delete|deletes|deleting|deleted)\b", re.I)
_REVISE = re.compile(r"\b(?:revise|revises|revising|revised|amend|amends|amending|amended)\b", re.I)
_ENTRY = re.compile(r"\bentr(?:y|ies)\b", re.I)
# one clause of an instruction: lettered sub-items ("a. Adding ...; b. Removing ...") and semicolons
_CLAUSES = re.compile(r";\s*(?:and\s+)?|\s(?=\(?[a-z]\)?\.?\s+(?:Add|Remov|Revis|Insert|Delet)[a-z]*\b)"
                      r"|,?\s+and\s+(?=(?:add|remov|revis|insert|delet)[a-z]*\b)", re.I)
_INSTR = re.compile(r"^\s*(\d+[a-z]?)\s*\.\s+")
_SUB = re.compile(r"^\s*(?:[a-z]|[ivx]{1,4})\.\s+[A-Z]|^\s*\([a-z0-9]{1,4}\)\s+[A-Z]")
_PARA_A = re.compile(r"^\s*\(a\)\s")
_PRONOUN = re.compile(r"\b(?:it|them|each)\b")
_AIA = "AIA"  # the rules' name for Supplement No. 5 to part 740, paragraph (a)


def _groups_in(text: str) -> list[str]:
    """Country groups named in ``text`` ("D:5", "Country Groups A:5 and A:6"; "supplement no. 5" is AIA)."""
    found = list(dict.fromkeys(f"{m.group(1)}:{m.group(2)}" for m in _GROUP.finditer(text)))
    if _SUPP5.search(text) and (not found or re.search(r"paragraph\s+\(a\)", text, re.I)):
        found.append(_AIA)
    return found


def _direction(clause: str) -> str | None:
    """``added`` or ``removed``: the verb nearest the start of the clause decides ("removing X from D:1 and
    adding it to D:5" is split into clauses first)."""
    add, rem = _ADD.search(clause), _REMOVE.search(clause)
    if add and rem:
        return "added" if add.start() < rem.start() else "removed"
    return "added" if add else "removed" if rem else None


def _countries(text: str) -> list[tuple[str, str]]:
    """(code, name as written) of every country named in ``text``, once each, in order."""
    seen: dict[str, str] = {}
    for _s, _e, code, name in find_countries(text):
        seen.setdefault(code, name)
    return list(seen.items())


def _from_instruction(text: str) -> list[tuple[str, str, str, str]]:
    """(group, code, name, action) stated by one instruction's own words."""
    out: list[tuple[str, str, str, str]] = []
    groups: list[str] = []
    countries: list[tuple[str, str]] = []
    for clause in _CLAUSES.split(text):
        # a clause that names no group continues the previous one's ("removing Taiwan from paragraph (a) of
        # supplement no. 5 to part 740 and adding Poland to paragraph (a)"), one that names no country but
        # "it" / "them" the previous one's ("removing Belarus from D:1 and adding it to D:5")
        groups = _groups_in(clause) or groups
        countries = _countries(clause) or (countries if _PRONOUN.search(clause) else [])
        action = _direction(clause)
        if not groups or action is None:
            continue
        # "adding an 'X' in the D:5 column for Nicaragua" / "adding Nicaragua to Country Group D:5"
        for code, name in countries:
            out.extend((g, code, name, action) for g in groups)
    return out


def _is_group_instruction(text: str) -> bool:
    return bool(_SUPP1.search(text) or _SUPP5.search(text) or _GROUP.search(text))


class _Collector:
    def __init__(self, confidence: float) -> None:
        self.out: list[CountryGroupChange] = []
        self.seen: set[tuple[str, str, str]] = set()
        self.confidence = confidence

    def add(self, group: str, code: str, name: str, action: str, instr: str | None, quote: str, location: str,
            confidence: float, restated: str | None = None) -> None:
        if (group, code, action) in self.seen:
            return
        self.seen.add((group, code, action))
        self.out.append(CountryGroupChange(group=group, country=code, name=name, action=action,  # type: ignore[arg-type]
                                           restated=restated, instruction=instr, quote=quote[:500],
                                           location=location, confidence=round(confidence, 3)))


def group_changes_in_blocks(blocks: Iterable[Block], confidence: float = 0.85) -> list[CountryGroupChange]:
    """Changes stated by the instructions of part 740 and by a restated Supplement No. 5 list (blocks of one
    document, in order; the instructions of other parts are skipped)."""
    col = _Collector(confidence)
    parent: str | None = None
    supp5: tuple[str | None, Block] | None = None  # an instruction that adds or revises supplement no. 5
    for b in blocks:
        if b.kind == "amdpar":
            supp5 = None
            text = b.text
            number = _INSTR.match(text)
            instr = number.group(1) if number else parent if _SUB.match(text) else None
            if number:
                parent = number.group(1)
            if b.part not in ("740", None) or not _is_group_instruction(text):
                continue
            for group, code, name, action in _from_instruction(text):
                col.add(group, code, name, action, instr, text, b.location, confidence)
            if _SUPP5.search(text) and (_ADD.search(text) or _REVISE.search(text)) and not _REMOVE.search(text) \
                    and not _countries(text):
                supp5 = (instr, b)
        elif supp5 is not None and b.kind == "p" and _PARA_A.match(b.text):
            instr, _amd = supp5
            for code, name in _countries(b.text):
                col.add(_AIA, code, name, "added", instr, b.text, b.location, confidence * 0.9, restated="list")
            supp5 = None
    return col.out


def _cell_text(el: Any) -> str:
    return text_of(el).strip(" .")


def _table_changes(rt: Any, col: _Collector) -> None:
    """Restated entries of the Country Group table: the GPOTABLEs after an instruction that adds or revises
    entries of Supplement No. 1 to part 740."""
    instr: str | None = None
    parent: str | None = None
    revising = adding = False
    for el in rt.iter("AMDPAR", "GPOTABLE"):
        if el.tag == "AMDPAR":
            text = text_of(el)
            number = _INSTR.match(text)
            instr = number.group(1) if number else parent if _SUB.match(text) else None
            if number:
                parent = number.group(1)
            table = bool(_SUPP1.search(text)) and bool(_ENTRY.search(text) or re.search(r"\btable\b", text, re.I))
            adding = table and bool(_ADD.search(text))
            revising = table and bool(_REVISE.search(text))
            continue
        if not (adding or revising):
            continue
        heads = [_cell_text(h) for h in el.iter("CHED")]
        columns = [_groups_in(h) for h in heads]
        if not any(columns):
            continue
        ncols = len(columns)
        for row in el.iter("ROW"):
            cells = [_cell_text(c) for c in row.iter("ENT")]
            if not cells:
                continue
            countries = _countries(cells[0])
            if len(countries) != 1:
                continue
            code, name = countries[0]
            # (a row may have fewer cells than headings: trailing empty cells are left out)
            for k in range(1, ncols):
                for group in columns[k]:
                    mark = cells[k] if k < len(cells) else ""
                    member = mark.upper() in ("X", "\u2713", "YES")
                    if member or revising:
                        col.add(group, code, name, "added" if member else "removed", instr, " | ".join(cells),
                                element_path(row), col.confidence * 0.9, restated="entry")


def extract_country_group_changes(root: Any, groups: list[Group] | None = None) -> list[CountryGroupChange]:
    """Country-group changes of an FR XML document element (``groups``: its REGTEXT blocks, if already made)."""
    from .ccl import _all_blocks, _root

    r = _root(root)
    if r is None or not hasattr(r, "iter"):
        return []
    groups = groups if groups is not None else _all_blocks(r)
    part740 = [g for g in groups if g.part in ("740", None)]
    if not part740:
        return []
    col = _Collector(0.85)
    col.out = group_changes_in_blocks((b for g in part740 for b in g.blocks), 0.85)
    col.seen = {(c.group, c.country, c.action) for c in col.out}
    if any(kind == "amdpar" and _SUPP1.search(raw) for g in part740 for kind, raw in g.items):
        for rt in r.iter("REGTEXT"):
            if (rt.get("PART") or "").strip() in ("740", "") and (rt.get("TITLE") or "").strip() in ("", "15"):
                _table_changes(rt, col)
    return col.out
