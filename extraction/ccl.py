"""Commerce Control List facts: ECCN changes, control thresholds and license-exception changes.

Only regulatory text counts. In Federal Register XML that is ``REGTEXT`` (``PART="774"`` for the CCL,
``PART="740"`` for license exceptions); the preamble (``SUM``, ``SUPLINF`` prose) and notices merely
*describe* changes and are ignored. Each ``AMDPAR`` is one numbered amendatory instruction; the amended
CCL entry follows it as flowing ``P``/``FP`` text (heading ``3A090 Integrated circuits ...``, item
paragraphs ``a.``, ``a.1.``, ``b.``, Notes and Technical Notes).

Rules (SOURCES.md section 6, traps 10-14):

* ECCN tokens (``3A090``, ``3A090.a``, ``3A001.z.1.a``), ``.z``-style paragraph references and the
  action verbs of an instruction are found with a spaCy ``Matcher`` on the shared blank pipeline; an
  instruction is then read left to right (subject ECCNs, verb, objects, ``of``/``to`` owners,
  ``after ECCN X`` placement references are skipped).
* Thresholds are read only from the amended entry text inside ``REGTEXT PART="774"``. A number counts
  only with a comparator (``or more``, ``greater than`` ...) and a parameter (stated before it, implied
  by its unit, or stated right after it). Values are exact :class:`~decimal.Decimal` values.
* ``does not apply`` Notes are exclusions and Technical Notes are definitions: no thresholds.
* License-exception and licensing-policy ceilings (parts 740/742/744/748) are not control thresholds;
  :func:`extract_eligibility` returns them separately with ``eccn=None``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from extraction.model import Comparator, EccnAction, EccnChange, LicenseExceptionChange, Threshold
from extraction.xmltext import element_path, normalise_plain, text_of
from rulesdsl.numbers import NumberFormatError, parse_number

__all__ = [
    "LICENSE_EXCEPTION_SECTIONS",
    "extract_eccn_changes",
    "extract_eligibility",
    "extract_license_exceptions",
    "extract_text",
    "extract_thresholds",
    "thresholds_in",
]

ECCN_RE = r"\d[A-E]\d{3}(?:\.[a-z0-9]+)*"
_ECCN_FULL = re.compile(rf"^{ECCN_RE}$")
_PARA_REF = re.compile(r"^\.[a-z](?:\.[a-z0-9]+)*$")

# § 740.x -> code(s), used when the SECTION heading gives no code in parentheses.
LICENSE_EXCEPTION_SECTIONS: dict[str, tuple[str, ...]] = {
    "740.3": ("LVS",), "740.4": ("GBS",), "740.5": ("CIV",), "740.6": ("TSR",), "740.7": ("APP",),
    "740.8": ("NAC",), "740.9": ("TMP",), "740.10": ("RPL",), "740.11": ("GOV",), "740.12": ("GFT",),
    "740.13": ("TSU",), "740.14": ("BAG",), "740.15": ("AVS",), "740.16": ("APR",), "740.17": ("ENC",),
    "740.18": ("AGR",), "740.19": ("CCD",), "740.20": ("STA",), "740.25": ("HBM",), "740.26": ("RFF",),
    "740.27": ("AIA",), "740.28": ("ACM",), "740.29": ("LPP",),
}

_VERBS: dict[str, str] = {}
for _w in ("add", "adds", "adding", "added"):
    _VERBS[_w] = "added"
for _w in ("revise", "revises", "revising", "revised", "redesignate", "redesignating", "redesignated",
           "correct", "correcting", "corrected", "replace", "replacing", "replaced"):
    _VERBS[_w] = "revised"
for _w in ("remove", "removes", "removing", "removed", "reserve", "reserving", "reserved", "delete",
           "deleting", "deleted"):
    _VERBS[_w] = "removed"
for _w in ("amend", "amends", "amending", "amended"):
    _VERBS[_w] = "amend"

_OBJECT_WORDS = {"heading", "note", "notes", "requirements", "controls", "definitions", "items", "entry",
                 "section", "sections", "table", "exceptions", "reason", "text", "sentence", "header",
                 "introductory"}
_LOCATION_WORDS = {"after", "before", "following", "preceding", "between"}
_OWNER_WORDS = {"to", "of", "in", "under", "within"}


# --------------------------------------------------------------------------------------------- spaCy


@lru_cache(maxsize=1)
def _matcher() -> Any:
    from spacy.matcher import Matcher

    from extraction.nlp import blank

    m = Matcher(blank().vocab)
    m.add("ECCN", [[{"TEXT": {"REGEX": rf"^{ECCN_RE}\.?$"}}]])
    m.add("PARA", [[{"TEXT": {"REGEX": r"^\.[a-z](?:\.[a-z0-9]+)*$"}}]])
    m.add("VERB", [[{"LOWER": {"IN": sorted(_VERBS)}}]])
    m.add("OBJ", [[{"LOWER": {"IN": sorted(_OBJECT_WORDS)}}]])
    return m


@dataclass
class _Event:
    kind: str  # ECCN | PARA | VERB | OBJ
    value: str
    prev: str  # lower-cased previous word(s), for "after ECCN X", "to paragraph .c", "is removed"
    prev2: str


def _events(text: str) -> list[_Event]:
    from extraction.nlp import blank

    doc = blank()(text)
    m = _matcher()
    vocab = doc.vocab
    out: list[tuple[int, _Event]] = []
    for match_id, start, _end in m(doc):
        kind = vocab.strings[match_id]
        tok = doc[start]
        words = [t.lower_ for t in doc[max(0, start - 3):start] if not t.is_punct]
        if kind == "ECCN" and words and words[-1] in {"eccn", "eccns", "paragraph", "paragraphs"}:
            words = words[:-1]
        prev = words[-1] if words else ""
        prev2 = words[-2] if len(words) > 1 else ""
        value = tok.text.rstrip(".") if kind == "ECCN" else (tok.lower_ if kind != "PARA" else tok.text)
        out.append((start, _Event(kind, value, prev, prev2)))
    out.sort(key=lambda p: p[0])
    return [e for _, e in out]


# --------------------------------------------------------------------------------------- ECCN changes

_INSTR = re.compile(r"^\s*(\d+[a-z]?)\s*\.\s+")
_AUTH = re.compile(r"authority citation", re.I)
_SUPP774 = re.compile(r"supplement\s+no\.?\s*(\d+)\s+to\s+part\s+774", re.I)


def _instruction_number(text: str) -> str | None:
    m = _INSTR.match(text)
    return m.group(1) if m else None


def _is_ccl_instruction(text: str, part: str | None) -> bool:
    if _AUTH.search(text):
        return False
    supps = {int(s) for s in _SUPP774.findall(text)}
    if supps and 1 not in supps:
        return False
    return part == "774" or 1 in supps or bool(re.search(r"\bpart\s+774\b", text, re.I))


def parse_instruction(text: str) -> list[tuple[str, EccnAction, float]]:
    """ECCN changes of one amendatory instruction (memoised: the extractors read each instruction twice)."""
    return list(_parse_instruction_cached(text))


@lru_cache(maxsize=4096)
def _parse_instruction_cached(text: str) -> tuple[tuple[str, EccnAction, float], ...]:
    return tuple(_parse_instruction(text))


def _parse_instruction(text: str) -> list[tuple[str, EccnAction, float]]:
    """ECCN (paragraph) changes stated in one amendatory instruction, in order of first mention."""
    results: dict[str, tuple[EccnAction, float]] = {}

    def put(eccn: str, action: EccnAction, conf: float) -> None:
        if not _ECCN_FULL.match(eccn):
            return
        old = results.get(eccn)
        if old is None or (old[0] == "revised" and action != "revised"):
            results[eccn] = (action, conf)

    subjects: list[str] = []
    verb: str | None = None
    pending_paras: list[tuple[str, str]] = []  # (label, verb)
    pending_obj = False
    seen_real_verb = False

    def act(v: str | None) -> EccnAction:
        return "revised" if v in (None, "amend") else v  # type: ignore[return-value]

    def flush_to_subjects() -> None:
        nonlocal pending_obj
        for label, v in pending_paras:
            for s in subjects:
                put(s + label, act(v), 0.85)
        if pending_obj:
            for s in subjects:
                put(s, "revised", 0.85)
        pending_paras.clear()
        pending_obj = False

    try:
        events = _events(text)
    except Exception:
        return []
    for ev in events:
        if ev.kind == "VERB":
            action = _VERBS.get(ev.value, "amend")
            if verb == "removed" and action == "removed":
                continue  # "removing and reserving"
            flush_to_subjects()
            if ev.prev in {"is", "are", "be", "being", "been"} and subjects and action != "amend":
                for s in subjects:
                    put(s, action, 0.9)  # type: ignore[arg-type]
            verb = action
            seen_real_verb = seen_real_verb or action != "amend"
        elif ev.kind == "ECCN":
            if ev.prev in _LOCATION_WORDS or (ev.prev2 in _LOCATION_WORDS and ev.prev in {"and", "or"}):
                continue
            if verb is None:
                subjects.append(ev.value)
            elif ev.prev in _OWNER_WORDS and (pending_paras or pending_obj):
                for label, v in pending_paras:
                    put(ev.value + label, act(v), 0.9)
                if pending_obj:
                    put(ev.value, "revised", 0.85)
                pending_paras.clear()
                pending_obj = False
            elif ev.prev in {"and", "or"} and not pending_paras and not pending_obj and results:
                # "... of ECCNs 3A001 and 4A003": continue the previous owner/target list
                last_eccn, (last_action, last_conf) = next(reversed(results.items()))
                tail = last_eccn[5:] if "." in last_eccn and last_eccn[:5] not in subjects else ""
                put(ev.value + tail if tail and "." not in ev.value else ev.value, last_action, last_conf)
            elif verb == "amend" and not seen_real_verb:
                subjects.append(ev.value)
            else:
                put(ev.value, act(verb), 0.9)
        elif ev.kind == "PARA":
            if ev.prev in _OWNER_WORDS:
                # "a Technical Note to paragraph .c": the paragraph owns the object
                flush_paras = list(pending_paras)
                pending_paras.clear()
                for label, v in flush_paras:
                    for s in subjects:
                        put(s + label, act(v), 0.85)
                if pending_obj:
                    for s in subjects:
                        put(s + ev.value, "revised", 0.8)
                    pending_obj = False
            else:
                pending_paras.append((ev.value, verb or "amend"))
        elif ev.kind == "OBJ" and verb is not None:
            pending_obj = True
    flush_to_subjects()
    for s in subjects:
        if not any(e == s or e.startswith(s + ".") for e in results):
            put(s, act(verb), 0.75)
    # a paragraph "added" that also shows up as "revised" (note added to it) stays added; drop
    # "revised" parents only when nothing but their own paragraphs changed is not inferable: keep.
    return [(e, a, c) for e, (a, c) in results.items()]


# ----------------------------------------------------------------------------------------- blocks


@dataclass
class _Block:
    kind: str  # amdpar | p | section | hd
    text: str
    location: str
    part: str | None
    el: Any = None


_SKIP_ANCESTORS = {"AUTH", "GPOTABLE", "FTNT", "GPH", "MATH"}


def _tag(el: Any) -> str:
    t = getattr(el, "tag", None)
    if not isinstance(t, str):
        return ""
    return t.rsplit("}", 1)[-1]


def _root(root: Any) -> Any:
    if root is None:
        return None
    if isinstance(root, (bytes, str)):
        from lxml import etree

        data = root.encode("utf-8") if isinstance(root, str) else root
        parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=True)
        return etree.fromstring(data, parser)
    if hasattr(root, "getroot"):
        return root.getroot()
    return root


def _regtexts(root: Any) -> Iterator[Any]:
    for el in root.iter():
        if _tag(el) == "REGTEXT":
            title = el.get("TITLE")
            if title not in (None, "", "15"):
                continue
            yield el


def _xml_blocks(regtext: Any) -> list[_Block]:
    part = (regtext.get("PART") or "").strip() or None
    blocks: list[_Block] = []

    def walk(el: Any) -> None:
        for child in el:
            tag = _tag(child)
            if not tag or tag in _SKIP_ANCESTORS:
                continue
            if tag == "AMDPAR":
                blocks.append(_Block("amdpar", text_of(child), element_path(child), part, child))
            elif tag in ("P", "FP"):
                blocks.append(_Block("p", text_of(child), element_path(child), part, child))
            elif tag == "HD":
                blocks.append(_Block("hd", text_of(child), element_path(child), part, child))
            elif tag == "SECTION":
                head = " ".join(text_of(c) for c in child if _tag(c) in ("SECTNO", "SUBJECT"))
                blocks.append(_Block("section", head, element_path(child), part, child))
                walk(child)
            elif tag in ("SECTNO", "SUBJECT"):
                continue
            else:
                walk(child)

    walk(regtext)
    return blocks


# ------------------------------------------------------------------------------------- thresholds

_SCALE = {"thousand": 3, "million": 6, "billion": 9, "trillion": 12}
_NUM = re.compile(
    r"(?<![\w.,^§/])(?P<num>(?:\d+(?:\.\d+)?\s*(?:x|×|\*)\s*)?10\s*\^\s*-?\d{1,3}"
    r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\w^]|[.,]\d)"
    r"(?:\s+(?P<scale>thousand|million|billion|trillion)\b)?",
    re.I,
)
_RIGHT_CMP: list[tuple[re.Pattern[str], Comparator]] = [
    (re.compile(r"^\s*or\s+(?:more|greater|above|higher|larger)\b", re.I), ">="),
    (re.compile(r"^\s*or\s+(?:less|fewer|below|lower|smaller)\b", re.I), "<="),
]
_LEFT_CMP: list[tuple[re.Pattern[str], Comparator]] = [
    (re.compile(r"\b(?:not\s+less\s+than|at\s+least|no\s+less\s+than|equal\s+to\s+or\s+greater\s+than|"
                r"greater\s+than\s+or\s+equal\s+to)\s*$", re.I), ">="),
    (re.compile(r"\b(?:not\s+(?:more\s+than|exceeding|to\s+exceed|greater\s+than)|no\s+more\s+than|up\s+to|"
                r"at\s+most|equal\s+to\s+or\s+less\s+than|less\s+than\s+or\s+equal\s+to)\s*$", re.I), "<="),
    (re.compile(r"\b(?:greater\s+than|more\s+than|exceeding|in\s+excess\s+of|above|over|higher\s+than)\s*$",
                re.I), ">"),
    (re.compile(r"\b(?:less\s+than|fewer\s+than|below|under|lower\s+than)\s*$", re.I), "<"),
    (re.compile(r"[≥]\s*$"), ">="), (re.compile(r"[≤]\s*$"), "<="),
    (re.compile(r">\s*$"), ">"), (re.compile(r"<\s*$"), "<"),
]
_Q = r"[‘’“”'\"]?"
_PARAMS: list[tuple[str, re.Pattern[str]]] = [
    ("bit_tops", re.compile(r"bit\s+length\s+per\s+operation\s+multiplied\s+by\s+processing\s+performance"
                            r"|bit\s*(?:x|×)\s*TOPS", re.I)),
    ("memory_bandwidth_density", re.compile(rf"memory\s+bandwidth\s+density{_Q}", re.I)),
    ("performance_density", re.compile(rf"performance\s+density{_Q}|\bPD\b", re.I)),
    ("tpp", re.compile(rf"total\s+processing\s+performance{_Q}|\bTPP\b", re.I)),
    ("io_bandwidth", re.compile(r"(?:aggregate\s+)?bidirectional\s+transfer\s+rate", re.I)),
    ("dram_bandwidth", re.compile(r"DRAM\s+bandwidth", re.I)),
    ("transistors", re.compile(r"transistor\s+count", re.I)),
    ("training_operations", re.compile(r"\btrain(?:ed|ing)\b[^.;]*?\boperations\b", re.I)),
]
_UNIT_PARAM: list[tuple[re.Pattern[str], str | None, str, Decimal]] = [
    # pattern on the text right after the number (and its "or more"), param implied, unit, factor
    (re.compile(r"^\s*(?:[‘’“”'\"]?\s*)(?:computational\s+|total\s+)?operations\b|^\s*(?:FLOP|flop)s?\b"),
     "training_operations", "operations", Decimal(1)),
    (re.compile(r"^\s*transistors\b", re.I), "transistors", "transistors", Decimal(1)),
    (re.compile(r"^\s*(?:GB/s|Gbyte/s|GB/sec|gigabytes?\s+per\s+second)\s*(?:/|per)\s*"
                r"(?:mm\s*\^?\s*2|mm|square\s+millimeters?|millimeters?\s+squared)", re.I),
     None, "GB/s per mm2", Decimal(1)),
    (re.compile(r"^\s*(?:GB/s|Gbyte/s|GB/sec|GBps|gigabytes?\s+per\s+second)", re.I), None, "GB/s", Decimal(1)),
    (re.compile(r"^\s*(?:TB/s|Tbyte/s|terabytes?\s+per\s+second)", re.I), None, "GB/s", Decimal(1000)),
]
_PARAM_UNIT = {"training_operations": "operations", "tpp": "TPP", "performance_density": "TPP per mm2",
               "memory_bandwidth_density": "GB/s per mm2", "io_bandwidth": "GB/s", "dram_bandwidth": "GB/s",
               "bit_tops": "bit x TOPS", "transistors": "transistors"}
_ADJ_GAP = re.compile(r"^\s*(?:(?:cumulative|aggregate|aggregated|total|combined|of)\s+)*$", re.I)


def _value(num: str, scale: str | None) -> Decimal | None:
    s = re.sub(r"\s+", "", num).replace("×", "x").replace("*", "x")
    s = re.sub(r"^(\d+(?:\.\d+)?)x", r"\1 x ", s)
    try:
        v, _ = parse_number(s, allow_commas=True)
    except (NumberFormatError, ValueError, ArithmeticError):
        return None
    if scale:
        v = v.scaleb(_SCALE[scale.lower()])
        v = Decimal(int(v)) if v == v.to_integral_value() else v.normalize()
    return v


def thresholds_in(text: str, *, list_comparator: Comparator | None = None
                  ) -> list[tuple[str, Comparator, Decimal, str, str]]:
    """(parameter, comparator, value, unit, quote) for every number with a comparator and a parameter."""
    out: list[tuple[str, Comparator, Decimal, str, str]] = []
    if not text or len(text) > 20000:
        return out
    params = [(m.start(), m.end(), name) for name, rx in _PARAMS for m in rx.finditer(text)]
    for m in _NUM.finditer(text):
        num, scale = m.group("num"), m.group("scale")
        right = text[m.end():]
        left = text[max(0, m.start() - 60):m.start()]
        cmp: Comparator | None = None
        after = right
        for rx, c in _RIGHT_CMP:
            mm = rx.match(right)
            if mm:
                cmp, after = c, right[mm.end():]
                break
        if cmp is None:
            # "600 Gbyte/s or more": the unit sits between the number and the comparator
            for urx, _p, _u, _f in _UNIT_PARAM:
                um0 = urx.match(right)
                if um0:
                    for rx, c in _RIGHT_CMP:
                        if rx.match(right[um0.end():]):
                            cmp = c
                            break
                    break
        if cmp is None:
            for rx, c in _LEFT_CMP:
                if rx.search(left):
                    cmp = c
                    break
        if cmp is None and list_comparator is not None and re.match(r"^\s*(?:\([ivxlc]+\)|[a-z0-9]\.)?\s*$",
                                                                    text[:m.start()]):
            cmp = list_comparator
        if cmp is None:
            continue
        value = _value(num, scale)
        if value is None:
            continue
        # unit right after the number
        param: str | None = None
        unit: str | None = None
        factor = Decimal(1)
        for rx, p, u, f in _UNIT_PARAM:
            um = rx.match(after) or rx.match(right)
            if um:
                param, unit, factor = p, u, f
                break
        if param is None:
            # a parameter stated right after ("26,900,000 cumulative total processing performance")
            for s_, _e, name in sorted(params):
                if s_ >= m.end() and _ADJ_GAP.match(text[m.end():s_]):
                    param = name
                    break
        if param is None:
            before = [(e, name) for s, e, name in params if e <= m.start()]
            if before:
                param = max(before)[1]
        if param is None:
            continue
        if unit is None or (unit == "GB/s" and param in ("memory_bandwidth_density",)) or (
                unit == "GB/s per mm2" and param not in ("memory_bandwidth_density",)):
            unit = _PARAM_UNIT.get(param, unit or "")
        if factor != 1:
            value = value * factor
        out.append((param, cmp, value, unit, text))
    return out


_HEADING = re.compile(r"^(?P<eccn>\d[A-E]\d{3})\s+(?=\S)(?!(?:is|are|does|and|or|to)\b)")
_LABEL = re.compile(r"^(?P<label>[a-z](?:\.(?:\d{1,2}|[a-z]))*)\.\s")
_NOTE = re.compile(r"^(?P<tech>Technical\s+)?Notes?\b(?:\s+\d+)?(?:\s+to\s+(?P<target>[^:]+))?:?", re.I)
_LE_LINE = re.compile(r"^[A-Z]{2,4}:\s")
_LIST_CMP = re.compile(r"\b(below|less than|fewer than|more than|greater than|at least|exceeding)\s*:\s*$", re.I)
_LIST_MAP: dict[str, Comparator] = {"below": "<", "less than": "<", "fewer than": "<", "more than": ">",
                                    "greater than": ">", "at least": ">=", "exceeding": ">"}


@dataclass
class _EntryState:
    eccn: str | None = None
    label: str | None = None
    note: str = ""  # "" | "note" | "exclusion" | "technical"
    note_target: str | None = None
    list_cmp: Comparator | None = None
    in_items: bool = False
    facts: list[Threshold] = field(default_factory=list)


def _ccl_thresholds(blocks: Iterable[_Block], confidence: float) -> list[Threshold]:
    st = _EntryState()
    for b in blocks:
        text = b.text.strip()
        if not text:
            continue
        if b.kind == "amdpar":
            st = _EntryState(facts=st.facts)
            changes = parse_instruction(text)
            bases = {e.split(".")[0] for e, _a, _c in changes}
            if len(bases) == 1:
                st.eccn = bases.pop()
            continue
        if b.kind != "p":
            continue
        hm = _HEADING.match(text)
        if hm:
            st.eccn, st.label, st.note, st.list_cmp = hm.group("eccn"), None, "", None
            _emit(st, text, b.location, st.eccn, confidence)
            continue
        nm = _NOTE.match(text)
        if nm:
            target = (nm.group("target") or "").strip()
            tm = re.search(ECCN_RE, target)
            st.note_target = tm.group(0) if tm else (st.eccn if not st.label else f"{st.eccn}.{st.label}")
            if nm.group("tech"):
                st.note = "technical"
            elif re.search(r"\bdoes\s+not\s+apply\b|\bnot\s+(?:controlled|subject)\b|\bexcludes?\b", text, re.I):
                st.note = "exclusion"
            else:
                st.note = "note"
            st.list_cmp = None
            # Notes carry presumptions (Note 1 to 3A090.a: transistor counts by year), exclusions and
            # definitions, never control thresholds (SOURCES.md trap 11): nothing is emitted from them
            continue
        lm_ = _LABEL.match(text)
        if lm_ and st.eccn:
            st.label, st.note, st.list_cmp = lm_.group("label"), "", None
            _emit(st, text, b.location, f"{st.eccn}.{st.label}", confidence)
            continue
        if st.note in ("technical", "exclusion"):
            continue
        if _LE_LINE.match(text) or re.search(r"\bLicense\s+Exception\b", text):
            continue
        if st.note == "note":
            continue
        if st.eccn:
            _emit(st, text, b.location, st.eccn if not st.label else f"{st.eccn}.{st.label}", confidence * 0.9)
    return st.facts


def _emit(st: _EntryState, text: str, location: str, eccn: str | None, confidence: float,
          list_cmp: Comparator | None = None) -> None:
    for param, cmp, value, unit, quote in thresholds_in(text, list_comparator=list_cmp):
        fact = Threshold(eccn=eccn, parameter=param, comparator=cmp, value=value, unit=unit,
                         quote=quote[:500], location=location, confidence=round(confidence, 3))
        if not any((f.eccn, f.parameter, f.comparator, f.value) == (eccn, param, cmp, value) for f in st.facts):
            st.facts.append(fact)


def _eligibility(blocks: Iterable[_Block], confidence: float) -> list[Threshold]:
    out: list[Threshold] = []
    for b in blocks:
        if b.kind != "p":
            continue
        for param, cmp, value, unit, quote in thresholds_in(b.text):
            out.append(Threshold(eccn=None, parameter=param, comparator=cmp, value=value, unit=unit,
                                 quote=quote[:500], location=b.location, confidence=confidence))
    return out


# ------------------------------------------------------------------------------ license exceptions

_SEC740 = re.compile(r"(?:§§?|[Ss]ections?)\s*(740\.\d+)((?:\s*(?:,|and|or|through)\s*(?:§\s*)?740\.\d+)*)")
_SEC_NUM = re.compile(r"740\.\d+")
_CODE_PAREN = re.compile(r"\(([A-Z]{2,4})\)")


def _section_action(text: str, sec: str) -> EccnAction:
    s = re.escape(sec)
    if re.search(rf"\b(?:remove|removing)\s+(?:and\s+reserv\w+\s+)?(?:§§?\s*|[Ss]ections?\s+)[\d.,\s§and]*?{s}\b"
                 rf"|{s}\s+(?:is|are)\s+(?:removed|reserved)", text, re.I):
        return "removed"
    if re.search(rf"\b(?:add|adding)\s+(?:a\s+)?(?:new\s+)?(?:§§?\s*|[Ss]ections?\s+)[\d.,\s§and]*?{s}\b"
                 rf"|{s}\s+(?:is|are)\s+added", text, re.I):
        return "added"
    return "revised"


def _le_changes(blocks: list[_Block], confidence: float) -> list[LicenseExceptionChange]:
    out: list[LicenseExceptionChange] = []
    for i, b in enumerate(blocks):
        if b.kind != "amdpar" or b.part not in ("740", None) or _AUTH.search(b.text):
            continue
        text = b.text
        if b.part is None and not re.search(r"\bpart\s+740\b|740\.\d", text):
            continue
        secs: list[str] = []
        for m in _SEC740.finditer(text):
            for n in _SEC_NUM.findall(m.group(0)):
                if n not in secs:
                    secs.append(n)
        if not secs:
            continue
        # the section heading(s) that follow this instruction, up to the next instruction
        heads: dict[str, str] = {}
        context = text
        for nb in blocks[i + 1:]:
            if nb.kind == "amdpar":
                break
            context += " " + nb.text
            if nb.kind in ("section", "p", "hd"):
                hm = re.match(r"^\s*§\s*(740\.\d+)\s+(.*)", nb.text)
                if hm:
                    heads.setdefault(hm.group(1), hm.group(2))
        for sec in secs:
            action = _section_action(text, sec)
            head = heads.get(sec, "")
            codes = list(dict.fromkeys(_CODE_PAREN.findall(head)))
            conf = confidence
            if not codes:
                codes = list(LICENSE_EXCEPTION_SECTIONS.get(sec, ()))
                conf = confidence * 0.9
                if sec == "740.8" and re.search(r"\bACA\b|Advanced\s+Computing\s+Authorized", context):
                    codes.append("ACA")
            for code in codes:
                out.append(LicenseExceptionChange(code=code, action=action, section=sec, quote=text,
                                                  location=b.location, confidence=round(conf, 3)))
    return out


# ------------------------------------------------------------------------------------------ public


_BLOCKS_CACHE: dict[int, tuple[Any, list[list[_Block]]]] = {}


def _all_blocks(root: Any) -> list[list[_Block]]:
    """The REGTEXT blocks of a document, computed once per document for the three extractors."""
    r = _root(root)
    if r is None or not hasattr(r, "iter"):
        return []
    hit = _BLOCKS_CACHE.get(id(r))
    if hit is not None and hit[0] is r:
        return hit[1]
    blocks = [_xml_blocks(rt) for rt in _regtexts(r)]
    _BLOCKS_CACHE.clear()  # keep only the latest document (and the element alive while cached)
    _BLOCKS_CACHE[id(r)] = (r, blocks)
    return blocks


def _ccl_blocks(groups: list[list[_Block]]) -> list[_Block]:
    out: list[_Block] = []
    for blocks in groups:
        part = blocks[0].part if blocks else None
        if part == "774" or any(b.kind == "amdpar" and _is_ccl_instruction(b.text, part) for b in blocks):
            out.extend(blocks)
    return out


def _changes(blocks: Iterable[_Block], confidence_scale: float) -> list[EccnChange]:
    out: list[EccnChange] = []
    for b in blocks:
        if b.kind != "amdpar" or not _is_ccl_instruction(b.text, b.part):
            continue
        instr = _instruction_number(b.text)
        for eccn, action, conf in parse_instruction(b.text):
            if not any(c.eccn == eccn and c.action == action and c.instruction == instr for c in out):
                out.append(EccnChange(eccn=eccn, action=action, instruction=instr, quote=b.text,
                                      location=b.location, confidence=round(conf * confidence_scale, 3)))
    return out


def extract_eccn_changes(root: Any) -> list[EccnChange]:
    """ECCN additions, revisions and removals stated by the amendatory instructions for part 774."""
    try:
        return _changes(_ccl_blocks(_all_blocks(root)), 1.0)
    except Exception:
        return []


def extract_thresholds(root: Any) -> list[Threshold]:
    """Control thresholds in the amended CCL entries (REGTEXT PART="774"), by ECCN paragraph."""
    try:
        groups = _all_blocks(root)
        return _ccl_thresholds([b for g in groups if g and g[0].part == "774" for b in g], 0.85)
    except Exception:
        return []


def extract_eligibility(root: Any) -> list[Threshold]:
    """License-exception and licensing-policy ceilings (parts 740, 742, 744, 748): NOT control thresholds.

    Returned with ``eccn=None``; e.g. LPP ``tpp <= 26900000``, 2026-00789 ``tpp < 21000``."""
    try:
        groups = _all_blocks(root)
        return _eligibility([b for g in groups if g and g[0].part in ("740", "742", "744", "748") for b in g], 0.7)
    except Exception:
        return []


def extract_license_exceptions(root: Any) -> list[LicenseExceptionChange]:
    """License exceptions added, revised or removed by REGTEXT PART="740" instructions."""
    try:
        groups = _all_blocks(root)
        return _le_changes([b for g in groups if g and g[0].part == "740" for b in g], 0.85)
    except Exception:
        return []


# -------------------------------------------------------------------------------------- plain text

_START = re.compile(r"amended\s+as\s+follows|making\s+the\s+following\s+correcting\s+amendments|"
                    r"^\s*PART\s+\d+\s*[—-]", re.I | re.M)
_PART_HD = re.compile(r"^\s*PART\s+(\d+)\s*(?:—|--|-)", re.I)
_SU_TEXT = re.compile(r"<su>\s*(-?\d{1,3})\s*</su>|<sup>\s*(-?\d{1,3})\s*</sup>", re.I)


def _text_blocks(text: str) -> list[_Block]:
    t = normalise_plain(text)
    t = re.sub(r"(?<![\d.,])10\s*<(su|sup)>\s*(-?\d{1,3})\s*</\1>", r"10^\2", t, flags=re.I)
    t = _SU_TEXT.sub("", t)
    t = re.sub(r"<[^>]{1,40}>", " ", t)
    m = _START.search(t)
    if not m:
        return []
    body = t[m.end():] if not m.group(0).lstrip().upper().startswith("PART") else t[m.start():]
    raw = re.split(r"\n\s*\n|\n(?=[ \t]{2,}\S)", body)
    blocks: list[_Block] = []
    part: str | None = None
    for idx, chunk in enumerate(raw):
        para = re.sub(r"\s+", " ", chunk).strip()
        if not para:
            continue
        loc = f"paragraph {idx + 1}"
        pm = _PART_HD.match(para)
        if pm:
            part = pm.group(1)
            blocks.append(_Block("hd", para, loc, part))
            continue
        if _INSTR.match(para) and re.search(r"\b(amend\w*|add\w*|revis\w*|remov\w*|reserv\w*|authority)\b",
                                            para, re.I):
            ipart = part
            pm2 = re.search(r"\bpart\s+(\d{3})\b", para, re.I)
            if pm2 and (ipart is None or not re.search(rf"\bpart\s+{ipart}\b", para)):
                ipart = pm2.group(1) if re.search(r"supplement|§|section", para, re.I) else ipart
            sm = re.search(r"§§?\s*(\d{3})\.\d+", para)
            if sm:
                ipart = sm.group(1)
            if ipart:
                part = ipart
            blocks.append(_Block("amdpar", para, loc, part))
            continue
        if re.match(r"^§\s*\d{3}\.\d+\s", para):
            blocks.append(_Block("section", para, loc, part))
            continue
        blocks.append(_Block("p", para, loc, part))
    return blocks


def extract_text(text: str) -> tuple[list[EccnChange], list[Threshold], list[LicenseExceptionChange]]:
    """Plain-text fallback (govinfo text, HTML stripped to text): same rules, lower confidence."""
    try:
        blocks = _text_blocks(text or "")
        ccl = [b for b in blocks if b.part == "774"]
        changes = _changes(ccl, 0.85)
        thresholds = _ccl_thresholds(ccl, 0.7)
        les = _le_changes([b for b in blocks if b.part == "740"], 0.7)
        return changes, thresholds, les
    except Exception:
        return [], [], []
