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
* Only the heading and the List of Items Controlled of an entry carry control parameters: the License
  Requirements section (with its "License Requirement Note" on licensing policy) and the List Based License
  Exceptions section do not.
* License-exception and licensing-policy ceilings (parts 740/742/744/748) are not control thresholds;
  :func:`extract_eligibility` returns them separately with ``eccn=None``.
* "10^20 operations per second" is a rate, not a count of training operations: no threshold. Text that lost
  the superscript ("1026 operations", "5 × 1025 operations") is read as a power of ten, for training
  operations only (a count of a thousand operations is meaningless; real thresholds lie in 10^15..10^40).
* Lettered sub-instructions ("a. Adding ECCN 3A090 ...") carry the number of their instruction. A license
  exception whose section is revised counts as *added* when an added paragraph introduces it ("adding
  paragraph (c)" with "(c) Advanced Computing Authorized (ACA)") or the summary calls it new.

The paragraphs themselves come from :mod:`extraction.blocks`, built once per document.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from extraction.blocks import Block, Group, document_groups, final_text, text_blocks
from extraction.model import Comparator, EccnAction, EccnChange, LicenseExceptionChange, Threshold
from extraction.nlp import attr_ids, blank  # (spaCy itself is imported on first use)
from extraction.quantities import UNITS, unit_index
from extraction.xmltext import SU_OPEN, text_of
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
    """ECCN / paragraph / verb / object tokens, as lexeme flags (see :mod:`extraction.nlp`)."""
    from extraction.nlp import matcher, regex_flag, words_flag

    m = matcher()
    m.add("ECCN", [[{regex_flag("CCL_ECCN", rf"{ECCN_RE}\.?"): True}]])
    m.add("PARA", [[{regex_flag("CCL_PARA", r"\.[a-z](?:\.[a-z0-9]+)*"): True}]])
    m.add("VERB", [[{words_flag("CCL_VERB", _VERBS): True}]])
    m.add("OBJ", [[{words_flag("CCL_OBJECT", _OBJECT_WORDS): True}]])
    return m


@dataclass
class _Event:
    kind: str  # ECCN | PARA | VERB | OBJ
    value: str
    prev: str  # lower-cased previous word(s), for "after ECCN X", "to paragraph .c", "is removed"
    prev2: str


def _events(text: str) -> list[_Event]:
    """The ECCN / paragraph / verb / object tokens of an instruction, in order, each with the two words
    before it. Token texts come from the offsets array: creating a spaCy ``Token`` object per look-back
    word cost more than tokenising and matching together."""
    doc = blank().tokenizer(text)
    matches = _matcher()(doc)
    if not matches:
        return []
    arr = doc.to_array(attr_ids("IDX", "LENGTH", "IS_PUNCT")).tolist()
    toks = [(text[i:i + n], bool(p)) for i, n, p in arr]
    starts = [row[0] for row in arr]
    strings = doc.vocab.strings
    out: list[tuple[int, _Event]] = []
    for match_id, start, _end in matches:
        kind = strings[match_id]
        tok = toks[start][0]
        words = [w.lower() for w, punct in toks[max(0, start - 3):start] if not punct]
        if words and (words[-1] in {"paragraph", "paragraphs"} or (kind == "ECCN" and words[-1] in {"eccn", "eccns"})):
            words = words[:-1]  # "to paragraph .z", "of ECCN 3A001": the word before the noun counts
        prev = words[-1] if words else ""
        prev2 = words[-2] if len(words) > 1 else ""
        value = tok.rstrip(".") if kind == "ECCN" else (tok.lower() if kind != "PARA" else tok)
        out.append((start, _Event(kind, value, prev, prev2)))
    have = {start for start, e in out if e.kind == "PARA"}
    for label, at in _bare_paragraphs(text):
        i = bisect_right(starts, at) - 1
        if i < 0 or i in have:
            continue
        words = [w.lower() for w, punct in toks[max(0, i - 4):i] if not punct]
        if words and words[-1] in {"paragraph", "paragraphs"}:
            words = words[:-1]
        out.append((i, _Event("PARA", "." + label, words[-1] if words else "",
                              words[-2] if len(words) > 1 else "")))
    out.sort(key=lambda p: p[0])
    return [e for _, e in out]


# "revising paragraph a.1 and adding paragraph d", "removing paragraphs b.1 and b.2": CCL paragraphs named
# without their leading dot, only right after "paragraph(s)" (CFR paragraphs are written "(a)(2)")
_CCL_PARA = r"\.?[a-z](?:\.[a-z0-9]+)*(?![\w(])"
_BARE_PARAS = re.compile(rf"\bparagraphs?\s+({_CCL_PARA}(?:\s*(?:,\s*and|,\s*or|,|and|or)\s+{_CCL_PARA})*)")
_ONE_PARA = re.compile(r"(?<![\w.])" + _CCL_PARA)


_LIST_END = re.compile(r"\s*(?:[,.;:)]|$|(?:and|or|to|of|in|is|are|as|with)\b)")


def _bare_paragraphs(text: str) -> list[tuple[str, int]]:
    """(label without its dot, character offset) of every CCL paragraph named after "paragraph(s)". A bare
    one-letter label later in a list must end the item ("paragraph .c and a Technical Note": "a" is the
    article, not paragraph a)."""
    out = []
    for m in _BARE_PARAS.finditer(text):
        for k, p in enumerate(_ONE_PARA.finditer(m.group(1))):
            raw = p.group(0)
            label = raw.lstrip(".").rstrip(".")
            if not label:
                continue
            if k > 0 and "." not in raw and not _LIST_END.match(text, m.start(1) + p.end()):
                break
            out.append((label, m.start(1) + p.start()))
    return out


# --------------------------------------------------------------------------------------- ECCN changes

_INSTR = re.compile(r"^\s*(\d+[a-z]?)\s*\.\s+")
_AUTH = re.compile(r"authority citation", re.I)
_SUPP774 = re.compile(r"supplement\s+no\.?\s*(\d+)\s+to\s+part\s+774", re.I)


def _instruction_number(text: str) -> str | None:
    m = _INSTR.match(text)
    return m.group(1) if m else None


_SUPP774_LOW = re.compile(r"supplement\s+no\.?\s*(\d+)\s+to\s+part\s+774")
_PART774_LOW = re.compile(r"\bpart\s+774\b")


@lru_cache(maxsize=4096)
def _is_ccl_instruction(text: str, part: str | None) -> bool:
    """Whether an instruction amends the CCL: one of a part 774 REGTEXT (not its authority citation), or one
    that names part 774 or its Supplement No. 1 (but not only its other supplements)."""
    low = text.lower()  # (case-sensitive patterns on the lower-cased text: several times faster than re.I)
    if "authority citation" in low:
        return False
    if "774" not in low:
        return part == "774"
    supps = {int(s) for s in _SUPP774_LOW.findall(low)}
    if supps and 1 not in supps:
        return False
    return part == "774" or 1 in supps or _PART774_LOW.search(low) is not None


# an instruction can change an ECCN (paragraph) only if it names one: "3A090", "ECCN 4E091", ".z"
# (each alternative starts with a character, its left boundary a lookbehind after it, so that the regex
# engine scans for first characters instead of trying every position)
_MAY_NAME_ECCN = re.compile(r"\d[A-E]\d{3}|\.(?<!\S\.)[a-z]\b")


def parse_instruction(text: str) -> list[tuple[str, EccnAction, float]]:
    """ECCN changes of one amendatory instruction. spaCy runs only on instructions that name an ECCN or a
    paragraph (the authority citations and the instructions of other parts do not), and only once per
    instruction body: the leading number ("25.") does not change what an instruction says, and the
    extractors read each instruction twice."""
    if not _MAY_NAME_ECCN.search(text):
        return []
    return list(_parse_instruction_cached(_INSTR.sub("", text, count=1)))


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
    obj_last = False  # the latest pending item is an object ("... paragraph .z and a Note"), not a paragraph
    seen_real_verb = False
    # the ECCNs the current verb acts on, kept through "by ..." ("revise ECCN 5A992 by adding paragraph .z and
    # revising paragraph .a")
    targets: list[str] = []
    in_by = False
    after_location = False  # the last ECCN was a placement reference ("between ECCNs 4E001 and 4E992")

    def act(v: str | None) -> EccnAction:
        return "revised" if v in (None, "amend") else v  # type: ignore[return-value]

    def owners() -> tuple[list[str], float]:
        """Whose paragraphs the pending ones are: the subjects, else the ECCNs the instruction acts on."""
        return (subjects, 0.85) if subjects else (list(targets), 0.8)

    def paragraph_of(owner: str, label: str) -> str:
        return owner if owner.endswith(label) else owner + label  # ("a Note to 5A992.z": .z is the owner)

    def flush_to_subjects() -> None:
        nonlocal pending_obj
        who, conf = owners()
        for label, v in pending_paras:
            for s in who:
                put(paragraph_of(s, label), act(v), conf)
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
        if ev.kind != "ECCN":
            after_location = False
        if ev.kind == "VERB":
            action = _VERBS.get(ev.value, "amend")
            if verb == "removed" and action == "removed":
                continue  # "removing and reserving"
            flush_to_subjects()
            if ev.prev == "by":
                in_by = True
            elif not in_by:
                targets.clear()
            if ev.prev in {"is", "are", "be", "being", "been"} and subjects and action != "amend":
                for s in subjects:
                    put(s, action, 0.9)  # type: ignore[arg-type]
            verb = action
            seen_real_verb = seen_real_verb or action != "amend"
        elif ev.kind == "ECCN":
            if ev.prev in _LOCATION_WORDS or (ev.prev in {"and", "or"} and (
                    ev.prev2 in _LOCATION_WORDS or after_location)):
                after_location = True
                continue
            after_location = False
            if verb is None:
                subjects.append(ev.value)
            elif ev.prev in _OWNER_WORDS and pending_paras and pending_obj and obj_last and owners()[0]:
                # "adding paragraph .z and a Note to 5A992.z": the owner named last is the object's; the
                # paragraphs before the object belong to the ECCN the instruction is about
                who, conf = owners()
                for label, v in pending_paras:
                    for s in who:
                        put(paragraph_of(s, label), act(v), conf)
                put(ev.value, "revised", 0.85)
                pending_paras.clear()
                pending_obj = False
            elif ev.prev in _OWNER_WORDS and (pending_paras or pending_obj):
                for label, v in pending_paras:
                    put(paragraph_of(ev.value, label), act(v), 0.9)
                if pending_obj:
                    put(ev.value, "revised", 0.85)
                pending_paras.clear()
                pending_obj = False
            elif ev.prev in _OWNER_WORDS and ev.value in subjects:
                continue  # "... to paragraph .z of ECCN 3A001", 3A001 being what the instruction amends
            elif ev.prev in {"and", "or"} and not pending_paras and not pending_obj and results:
                # "... of ECCNs 3A001 and 4A003": continue the previous owner/target list
                last_eccn, (last_action, last_conf) = next(reversed(results.items()))
                tail = last_eccn[5:] if "." in last_eccn and last_eccn[:5] not in subjects else ""
                eccn = ev.value + tail if tail and "." not in ev.value else ev.value
                put(eccn, last_action, last_conf)
                targets.append(eccn)
            elif verb == "amend" and not seen_real_verb:
                subjects.append(ev.value)
            else:
                put(ev.value, act(verb), 0.9)
                targets.append(ev.value)
        elif ev.kind == "PARA":
            if ev.prev in _OWNER_WORDS:
                # "a Technical Note to paragraph .c": the paragraph owns the object
                who, conf = owners()
                flush_paras = list(pending_paras)
                pending_paras.clear()
                for label, v in flush_paras:
                    for s in who:
                        put(paragraph_of(s, label), act(v), conf)
                if pending_obj:
                    for s in who:
                        put(paragraph_of(s, ev.value), "revised", 0.8)
                    pending_obj = False
            else:
                pending_paras.append((ev.value, verb or "amend"))
                obj_last = False
        elif ev.kind == "OBJ" and verb is not None:
            pending_obj = obj_last = True
    flush_to_subjects()
    for s in subjects:
        if not any(e == s or e.startswith(s + ".") for e in results):
            put(s, act(verb), 0.75)
    # a paragraph "added" that also shows up as "revised" (note added to it) stays added; drop
    # "revised" parents only when nothing but their own paragraphs changed is not inferable: keep.
    return [(e, a, c) for e, (a, c) in results.items()]


# ----------------------------------------------------------------------------------------- blocks


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


# ------------------------------------------------------------------------------------- thresholds

_SCALE = {"thousand": 3, "million": 6, "billion": 9, "trillion": 12}
_NUM = re.compile(  # "(?=[0-9])" first: lets the regex engine skip to digits instead of trying every position
    r"(?=[0-9])(?<![\w.,^§/])(?P<num>(?:\d+(?:\.\d+)?\s*(?:x|×|\*)\s*)?10\s*\^\s*-?\d{1,3}"
    r"|\d+(?:\.\d+)?\s*(?:x|×)\s*10\d{2}(?!\d)"
    r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\w^]|[.,]\d)"
    r"(?:\s+(?P<scale>thousand|million|billion|trillion)\b)?",
    re.I,
)
# "4800 or more": the comparator after the number (matched at a position, without slicing the text)
_RIGHT = re.compile(r"\s*or\s+(?:(?P<ge>more|greater|above|higher|larger)|(?P<le>less|fewer|below|lower|smaller))\b",
                    re.I)
_RIGHT_NAME: dict[str, Comparator] = {"ge": ">=", "le": "<="}
# Comparator phrases written before a number, strongest first: "not less than" before "less than", "no more
# than" before "more than". They are matched on the reversed text before the number, anchored at its start:
# one attempt instead of one per position, which an end-anchored search over the left context costs.
_LEFT_PHRASES: list[tuple[Comparator, tuple[str, ...]]] = [
    (">=", ("not less than", "at least", "no less than", "equal to or greater than", "greater than or equal to",
            "≥")),
    ("<=", ("not more than", "not exceeding", "not to exceed", "not greater than", "no more than", "up to",
            "at most", "equal to or less than", "less than or equal to", "≤")),
    (">", ("greater than", "more than", "exceeding", "in excess of", "above", "over", "higher than", ">")),
    ("<", ("less than", "fewer than", "below", "under", "lower than", "<")),
]


def _reversed_phrase(phrase: str) -> str:
    words = [re.escape(w[::-1]) for w in reversed(phrase.split())]
    body = r"\s+".join(words)
    return body + (r"\b" if phrase[0].isalnum() else "")


_LEFT_REV = re.compile(
    r"\s*(?:" + "|".join(f"(?P<c{i}>{'|'.join(_reversed_phrase(p) for p in phrases)})"
                          for i, (_c, phrases) in enumerate(_LEFT_PHRASES)) + ")", re.I)
_LEFT_NAME: dict[str, Comparator] = {f"c{i}": c for i, (c, _p) in enumerate(_LEFT_PHRASES)}


def _left_comparator(left: str) -> Comparator | None:
    """The comparator that ends ``left`` (the text right before a number), if any."""
    m = _LEFT_REV.match(left[::-1])
    return _LEFT_NAME[m.lastgroup] if m is not None and m.lastgroup is not None else None


_Q = r"[‘’“”'\"]?"
# Every alternative starts with a literal letter (a word boundary before one is a lookbehind after it:
# "tpp(?<!\wtpp)"), so that the regex engine scans for its first letters instead of trying every position.
_PARAMS: list[tuple[str, re.Pattern[str]]] = [
    ("bit_tops", re.compile(r"bit\s+length\s+per\s+operation\s+multiplied\s+by\s+processing\s+performance"
                            r"|bit\s*(?:x|×)\s*TOPS", re.I)),
    ("memory_bandwidth_density", re.compile(rf"memory\s+bandwidth\s+density{_Q}", re.I)),
    ("performance_density", re.compile(rf"performance\s+density{_Q}|PD(?<!\wPD)\b", re.I)),
    ("tpp", re.compile(rf"total\s+processing\s+performance{_Q}|TPP(?<!\wTPP)\b", re.I)),
    ("io_bandwidth", re.compile(r"(?:aggregate\s+)?bidirectional\s+transfer\s+rate", re.I)),
    ("dram_bandwidth", re.compile(r"DRAM\s+bandwidth", re.I)),
    ("transistors", re.compile(r"transistor\s+count", re.I)),
    ("training_operations", re.compile(r"train(?<!\wtrain)(?:ed|ing)\b[^.;]*?\boperations\b", re.I)),
]
# the same patterns for the lower-cased text (several times faster than re.I on the original)
_PARAMS_LOW: list[tuple[str, re.Pattern[str]]] = [(name, re.compile(rx.pattern.lower())) for name, rx in _PARAMS]
# a word every match of the parameter's pattern contains: its pattern is not run on text without it
_PARAM_HINTS: dict[str, tuple[str, ...]] = {
    "bit_tops": ("bit",), "memory_bandwidth_density": ("memory",), "performance_density": ("density", "pd"),
    "tpp": ("processing", "tpp"), "io_bandwidth": ("transfer",), "dram_bandwidth": ("dram",),
    "transistors": ("transistor",), "training_operations": ("operations",)}
# the units that follow a number (what each implies: parameter, canonical unit, factor) are found by the spaCy
# matcher of extraction.quantities
_PARAM_UNIT = {"training_operations": "operations", "tpp": "TPP", "performance_density": "TPP per mm2",
               "memory_bandwidth_density": "GB/s per mm2", "io_bandwidth": "GB/s", "dram_bandwidth": "GB/s",
               "bit_tops": "bit x TOPS", "transistors": "transistors"}
_ADJ_GAP = re.compile(r"^\s*(?:(?:cumulative|aggregate|aggregated|total|combined|of)\s+)*$", re.I)


_RATE = re.compile(r"[\s\"”’',]*(?:\([^)]*\)\s*)?(?:per\s+second|/\s*s(?:ec)?\b|\(?OP/s\)?)", re.I)
_FLAT_POWER = re.compile(r"(?:(?P<m>\d+(?:\.\d+)?)\s*[x×]\s*)?10(?P<e>\d{2})")


def _flattened_power(num: str) -> Decimal | None:
    """``1026`` / ``5 × 1025`` as 10^26 / 5 x 10^25: text that lost the superscript of ``10<SU>26</SU>``
    (scraped CCL pages, tag-dropping renderers). Only for training operations, where a count of a few
    thousand is meaningless and every real threshold lies between 10^15 and 10^40."""
    m = _FLAT_POWER.fullmatch(num.strip())
    if m is None or not 15 <= int(m.group("e")) <= 40:
        return None
    return Decimal(m.group("m") or 1) * Decimal(10) ** int(m.group("e"))


_DECIMAL = re.compile(r"\d+\.\d+")


def _value(num: str, scale: str | None) -> Decimal | None:
    if scale is None and num.isdigit():
        return Decimal(num.lstrip("0") or "0")  # the common case, without the general parser
    if scale is None and len(num) <= 24 and _DECIMAL.fullmatch(num):  # "5.92": exact within the context's 28 digits
        d = Decimal(num)
        return Decimal(int(d)) if d == d.to_integral_value() else d.normalize()
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


# cheap pre-filters: a threshold needs a digit and a comparator (most CCL paragraphs have neither)
_MAY_HAVE_THRESHOLD = re.compile(r"\d")
# ... and the comparator next to a number: a left phrase ("less than", "up to", "≥") right before a digit, or
# "or more"/"or less" after a number and at most a unit ("600 Gbyte/s or more"). "One or more digital
# processing units" and "aggregated over all" do not qualify. (One regex for both, with a lazy gap after
# every digit, cost ten microseconds a paragraph: the right cue is found first and the digit looked for
# in the 60 characters before it.)
# Both run on the lower-cased text: Python's re is several times slower on an alternation with re.I.
_LEFT_CUE = re.compile(
    r"(?:\b(?:than|least|most|exceed|exceeding|excess\s+of|above|over|below|under|up\s+to|equal\s+to)|[<>≤≥])\s*\d")
_RIGHT_CUE = re.compile(r"\bor\s+(?:more|greater|above|higher|larger|less|fewer|below|lower|smaller)\b")
_DIGIT = re.compile(r"\d")


def _comparator_cue(low: str) -> bool:
    """Whether the lower-cased text has a comparator next to a number."""
    if _LEFT_CUE.search(low):
        return True
    for m in _RIGHT_CUE.finditer(low):
        window = low[max(0, m.start() - 61):m.start()]  # a digit, then up to 60 characters without . or ;
        if _DIGIT.search(window, max(window.rfind("."), window.rfind(";")) + 1):
            return True
    return False


# A number yields a threshold only with a parameter, named (each parameter's pattern contains one of its
# hints) or implied by a unit after it (each unit pattern contains one of these words, lower-cased): a
# paragraph with none of them is not read further. Most CCL paragraphs (lithography, lasers) have none.
_UNIT_HINTS = ("operations", "flop", "transistor", "gb", "gigabyte", "tb/s", "tbyte", "terabyte")


_ALL_HINTS = tuple(dict.fromkeys([*_UNIT_HINTS, *(h for hs in _PARAM_HINTS.values() for h in hs)]))
_HINT_PARAMS: dict[str, tuple[str, ...]] = {
    h: tuple(name for name, hs in _PARAM_HINTS.items() if h in hs) for h in _ALL_HINTS}


def thresholds_in(text: str) -> list[tuple[str, Comparator, Decimal, str, str]]:
    """(parameter, comparator, value, unit, quote) for every number with a comparator and a parameter."""
    out: list[tuple[str, Comparator, Decimal, str, str]] = []
    if not text or len(text) > 20000 or not _MAY_HAVE_THRESHOLD.search(text):
        return out
    low = text.lower()
    present = [h for h in _ALL_HINTS if h in low]
    if not present or not _comparator_cue(low):
        return out
    params_: list[tuple[int, int, str]] | None = None

    def params() -> list[tuple[int, int, str]]:  # where each parameter is named; computed when first needed
        nonlocal params_
        if params_ is None:
            named = {name for h in present for name in _HINT_PARAMS.get(h, ())}
            same = len(low) == len(text)  # (lower() lengthens a few letters, such as "İ": then positions differ)
            params_ = sorted((m.start(), m.end(), name) for name, rx in (_PARAMS_LOW if same else _PARAMS)
                             if name in named for m in rx.finditer(low if same else text))
        return params_

    units_: dict[int, tuple[int, int]] | None = None

    def unit_at(pos: int) -> tuple[int, int] | None:  # (index into UNITS, end) of the unit that starts at pos
        nonlocal units_
        if units_ is None:
            units_ = unit_index(text)  # tokenized and matched once, when the first number needs it
        while pos < len(text) and text[pos].isspace():
            pos += 1
        return units_.get(pos)

    for m in _NUM.finditer(text):
        num, scale = m.group("num"), m.group("scale")
        end = after = m.end()  # positions: after the number; after its comparator ("or more"), if any
        cmp: Comparator | None = None
        rm = _RIGHT.match(text, end)
        if rm is not None and rm.lastgroup is not None:
            cmp, after = _RIGHT_NAME[rm.lastgroup], rm.end()
        else:
            # "600 Gbyte/s or more": the unit sits between the number and the comparator
            um0 = unit_at(end)
            rm = _RIGHT.match(text, um0[1]) if um0 is not None else None
            if rm is not None and rm.lastgroup is not None:
                cmp = _RIGHT_NAME[rm.lastgroup]
        if cmp is None:
            cmp = _left_comparator(text[max(0, m.start() - 60):m.start()])
        if cmp is None:
            continue
        value = _value(num, scale)
        # unit right after the number
        param: str | None = None
        unit: str | None = None
        factor = Decimal(1)
        beyond = len(text)  # where the text after the unit starts
        # (after "or more" if one follows the number, else right after it: then no unit can start at the number's
        # end, which is followed by "or ...")
        um = unit_at(after) or unit_at(end)
        if um is not None:
            param, unit, factor = UNITS[um[0]]
            beyond = um[1]
        if param is None:
            # a parameter stated right after ("26,900,000 cumulative total processing performance")
            for s_, _e, name in params():  # (in order of position)
                if s_ >= m.end() and _ADJ_GAP.match(text[m.end():s_]):
                    param = name
                    break
        if param is None:
            before = [(e, name) for s, e, name in params() if e <= m.start()]
            if before:
                param = max(before)[1]
        if param is None:
            continue
        if param == "training_operations":
            if _RATE.match(text, beyond):
                continue  # "10^20 operations per second" is a rate, not a count of training operations
            value = _flattened_power(num) or value
        if value is None:
            continue
        if unit is None or (unit == "GB/s" and param in ("memory_bandwidth_density",)) or (
                unit == "GB/s per mm2" and param not in ("memory_bandwidth_density",)):
            unit = _PARAM_UNIT.get(param, unit or "")
        if factor != 1:
            value = value * factor
        out.append((param, cmp, value, unit, text))
    return out


# _LE_LINE and _LEAD allow leading whitespace (possessively: no backtracking into it): they also read a
# paragraph's raw text (the state machine reads the raw XSLT text of a paragraph without superscript marks)
_LE_LINE = re.compile(r"\s*+[A-Z]{2,4}(?:/[A-Z]{2,4})*:\s")
_LICENSE_EXCEPTION = re.compile(r"\bLicense\s+Exception\b")
# on the lower-cased text, tried only when "not" or "exclud" occurs (a Note is often a long Technical Note)
_EXCLUSION = re.compile(r"does(?<!\wdoes)\s+not\s+apply\b|not(?<!\wnot)\s+(?:controlled|subject)\b"
                        r"|exclude(?<!\wexclude)s?\b")
# How a paragraph of a CCL entry starts, in order of precedence: an ECCN heading; one of the parts of the
# entry (only the heading and the List of Items Controlled carry control parameters; the License
# Requirements section, with its "License Requirement Note" on licensing policy, and the List Based License
# Exceptions section carry eligibility limits, which are not: SOURCES.md trap 13); a Note or Technical Note;
# an item label ("a.", "b.1.", "z.1.a."). One regex instead of one per case: it runs on every paragraph.
_LEAD = re.compile(
    r"\s*+(?:(?P<eccn>\d[A-E]\d{3})\s+(?=\S)(?!(?:is|are|does|and|or|to)\b)"
    r"|(?i:(?P<lr>License\s+Requirements?\b)|(?P<le>List\s+Based\s+License\s+Exceptions\b)"
    r"|(?P<items>List\s+of\s+Items\s+Controlled|Items\s*:|Related\s+(?:Controls|Definitions)\b|Unit\s*:))"
    r"|(?i:(?P<tech>Technical\s+)?(?P<note>Notes?)\b(?:\s+\d+)?(?:\s+to\s+(?P<target>[^:]+))?:?)"
    r"|(?P<label>[a-z](?:\.(?:\d{1,2}|[a-z]))*)\.\s)")


def _is_exclusion(text: str) -> bool:
    low = text.lower()
    return ("not" in low or "exclud" in low) and _EXCLUSION.search(low) is not None


class _Facts:
    """Thresholds found so far in a document: one per (ECCN paragraph, parameter, comparator, value); identical
    paragraphs (boilerplate, entries restated by several instructions) are read once; a paragraph's block
    (for its element path) is made only for a fact."""

    def __init__(self) -> None:
        self.facts: list[Threshold] = []
        self.seen: set[tuple[str | None, str, str, Decimal]] = set()
        self.memo: dict[str, list[tuple[str, Comparator, Decimal, str, str]]] = {}

    def emit(self, group: Group, k: int, raw: str, eccn: str | None, confidence: float) -> None:
        # (the same raw text is the same final text; without a digit there is nothing to read)
        found = self.memo.get(raw)
        if found is None:
            found = self.memo[raw] = thresholds_in(final_text(raw)) if _MAY_HAVE_THRESHOLD.search(raw) else []
        for param, cmp, value, unit, quote in found:
            key = (eccn, param, cmp, value)
            if key in self.seen:
                continue
            self.seen.add(key)
            self.facts.append(Threshold(eccn=eccn, parameter=param, comparator=cmp, value=value, unit=unit,
                                        quote=quote[:500], location=group.block(k).location,
                                        confidence=round(confidence, 3)))


def _classify(raw: str) -> tuple[str, str]:
    """What a paragraph of a CCL entry is, from how it starts (``_LEAD``), for the state machine: ("eccn",
    ECCN) a heading; ("section", "lr" | "le" | "items") a part of the entry; ("note", "technical" | "exclusion"
    | "note"); ("label", "a.1") an item paragraph; ("license", "") text about a license exception; ("text", "")
    any other paragraph. Read from the raw text (whitespace-tolerant patterns) unless superscript marks make
    it differ from the final text in more than whitespace."""
    text = raw if SU_OPEN not in raw else final_text(raw)
    lead = _LEAD.match(text)
    if lead is not None:
        what = lead.lastgroup
        if what == "label":
            return "label", lead.group("label")
        if what == "eccn":
            return "eccn", lead.group("eccn")
        if what in ("lr", "le", "items"):
            return "section", str(what)
        if what in ("note", "target"):
            # Notes carry presumptions (Note 1 to 3A090.a: transistor counts by year), exclusions and
            # definitions, never control thresholds (SOURCES.md trap 11): nothing is emitted from them
            return "note", "technical" if lead.group("tech") else "exclusion" if _is_exclusion(text) else "note"
    if _LE_LINE.match(text) or ("License" in text and _LICENSE_EXCEPTION.search(text)):
        return "license", ""
    return "text", ""


def _ccl_thresholds(groups: Iterable[Group], confidence: float) -> list[Threshold]:
    """The state machine over the paragraphs of the CCL entries: which ECCN and item paragraph a paragraph
    belongs to, and whether it is in a Note or a licensing section (then it yields nothing). A paragraph is
    classified once per distinct text (:func:`_classify`; entries repeat boilerplate: "List of Items
    Controlled", "Related Controls: N/A", the same Notes); the state is in local variables: this loop runs for
    every paragraph of part 774, and the state carries over from one REGTEXT to the next."""
    out = _Facts()
    emit = out.emit
    classes: dict[str, tuple[str, str]] = {}
    eccn: str | None = None
    label: str | None = None
    note = ""  # "" | "note" | "exclusion" | "technical"
    section = ""  # "" (heading) | "lr" (License Requirements) | "le" (License Exceptions) | "items"
    for g in groups:
        for k, (kind, raw) in enumerate(g.items):
            if kind == "p":
                what, value = classes.get(raw) or classes.setdefault(raw, _classify(raw))
                if what == "label":
                    if eccn:
                        label, note, section = value, "", "items"
                        emit(g, k, raw, f"{eccn}.{value}", confidence)
                elif what == "text":
                    if eccn and not note and section not in ("lr", "le"):
                        emit(g, k, raw, eccn if not label else f"{eccn}.{label}", confidence * 0.9)
                elif what == "section":
                    section, note = value, ""
                elif what == "note":
                    note = value
                elif what == "eccn":
                    eccn, label, note, section = value, None, "", ""
                    emit(g, k, raw, eccn, confidence)
            elif kind == "amdpar":  # a new instruction starts a new entry: its ECCN when it names exactly one
                text = final_text(raw)
                if not text:
                    continue
                bases = {e.split(".")[0] for e, _a, _c in parse_instruction(text)}
                eccn = bases.pop() if len(bases) == 1 else None
                label, note, section = None, "", ""
    return out.facts


def _eligibility(blocks: Iterable[Block], confidence: float) -> list[Threshold]:
    out: list[Threshold] = []
    for b in blocks:
        if b.kind != "p":
            continue
        for param, cmp, value, unit, quote in thresholds_in(b.text):
            out.append(Threshold(eccn=None, parameter=param, comparator=cmp, value=value, unit=unit,
                                 quote=quote[:500], location=b.location, confidence=confidence))
    return out


# ------------------------------------------------------------------------------ license exceptions

_SEC740 = re.compile(r"(?:§§?|[Ss]ections?)\s*(740\.\d+)"
                     r"((?:\s*(?:,\s*and|,\s*or|,|and|or|through)\s*(?:§\s*)?740\.\d+)*)")
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


_ADDED_PARAS = re.compile(r"\badd(?:s|ing)?\s+(?:new\s+)?paragraphs?\s+(?P<labels>(?:\([a-z0-9]{1,4}\))+"
                          r"(?:\s*(?:,|and|,\s*and|through)\s*(?:\([a-z0-9]{1,4}\))+)*)", re.I)
_PARA_LABEL = re.compile(r"^\s*\(([a-z0-9]{1,4})\)\s")


def _added_paragraphs(instruction: str) -> set[str]:
    """Top-level paragraph letters an instruction adds: "adding paragraphs (c) and (d)" -> {"c", "d"}."""
    out: set[str] = set()
    for m in _ADDED_PARAS.finditer(instruction):
        out.update(re.findall(r"(?:^|[\s,d])\(([a-z0-9]{1,4})\)", m.group("labels")))
    return out


def _codes_in_added_paragraphs(context: list[Block], added: set[str]) -> set[str]:
    """License-exception codes introduced by the heading of an added paragraph ("(c) Advanced Computing
    Authorized (ACA). License Exception ACA authorizes ..."): the exception is new, not revised."""
    out: set[str] = set()
    for b in context:
        lm = _PARA_LABEL.match(b.text)
        if lm and lm.group(1) in added:
            out.update(_CODE_PAREN.findall(b.text[:160]))
    return out


_NEW_LE = re.compile(r"\b(?:adds?|adding|creates?|creating|establish(?:es|ing)?)\s+(?:a\s+|two\s+|three\s+)?"
                     r"(?:new\s+)?License\s+Exceptions?\b(?P<rest>[^.;]*)", re.I)
_OTHER_VERB = re.compile(r"\b(?:revis|amend|remov|correct|modif|clarif|expand)\w*", re.I)


def new_codes_in_summary(summary: str) -> set[str]:
    """Codes the summary says a rule adds ("adds a new License Exception Advanced Computing Authorized (ACA)").
    Used only to tell "added" from "revised" for an exception whose section the regulatory text revises."""
    out: set[str] = set()
    for m in _NEW_LE.finditer(summary or ""):
        rest = m.group("rest")
        other = _OTHER_VERB.search(rest)
        out.update(_CODE_PAREN.findall(rest[: other.start()] if other else rest))
    return out


def _le_changes(blocks: list[Block], confidence: float, new_codes: set[str] | None = None
                ) -> list[LicenseExceptionChange]:
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
        following: list[Block] = []
        for nb in blocks[i + 1:]:
            if nb.kind == "amdpar":
                break
            following.append(nb)
            if nb.kind in ("section", "p", "hd"):
                hm = re.match(r"^\s*§\s*(740\.\d+)\s+(.*)", nb.text)
                if hm:
                    heads.setdefault(hm.group(1), hm.group(2))
        context = " ".join([text, *(nb.text for nb in following)])
        introduced = _codes_in_added_paragraphs(following, _added_paragraphs(text)) | (new_codes or set())
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
                act: EccnAction = "added" if action == "revised" and code in introduced else action
                out.append(LicenseExceptionChange(code=code, action=act, section=sec, quote=text,
                                                  location=b.location, confidence=round(conf, 3)))
    return out


# ------------------------------------------------------------------------------------------ public


ELIGIBILITY_PARTS = frozenset({"740", "742", "744", "748"})
_BLOCKS_CACHE: dict[int, tuple[Any, list[Group]]] = {}


def release_blocks() -> None:
    """Forget the cached blocks (and with them the document tree they point into)."""
    _BLOCKS_CACHE.clear()


def _all_blocks(root: Any) -> list[Group]:
    """The REGTEXT groups of a document, computed once per document for the three extractors."""
    r = _root(root)
    if r is None or not hasattr(r, "iter"):
        return []
    hit = _BLOCKS_CACHE.get(id(r))
    if hit is not None and hit[0] is r:
        return hit[1]
    blocks = document_groups(r)
    _BLOCKS_CACHE.clear()  # keep only the latest document (and the element alive while cached)
    _BLOCKS_CACHE[id(r)] = (r, blocks)
    return blocks


def _ccl_instructions(groups: list[Group]) -> list[Block]:
    """The instructions of the REGTEXTs that amend the CCL: part 774, or with an instruction that does."""
    out: list[Block] = []
    for g in groups:
        amd = g.of_kind("amdpar")
        if g.part == "774" or any(_is_ccl_instruction(b.text, g.part) for b in amd):
            out.extend(amd)
    return out


_SUB_INSTR = re.compile(r"^\s*(?:[a-z]|[ivx]{1,4})\.\s+[A-Z]|^\s*\([a-z0-9]{1,4}\)\s+[A-Z]")


def _changes(blocks: Iterable[Block], confidence_scale: float) -> list[EccnChange]:
    """ECCN changes of the CCL instructions. Lettered sub-instructions ("25. Supplement No. 1 to part 774 is
    amended by:" then "a. Adding ECCN 3A090 ...") are separate AMDPARs that belong to the numbered one."""
    out: list[EccnChange] = []
    seen: set[tuple[str, str, str | None]] = set()
    parent: str | None = None
    parent_ccl = False
    for b in blocks:
        if b.kind != "amdpar":
            continue
        instr = _instruction_number(b.text)
        if instr is not None:
            parent, parent_ccl = instr, _is_ccl_instruction(b.text, b.part)
            is_ccl = parent_ccl
        elif _SUB_INSTR.match(b.text) and parent is not None:
            instr, is_ccl = parent, parent_ccl or _is_ccl_instruction(b.text, b.part)
        else:
            is_ccl = _is_ccl_instruction(b.text, b.part)
        if not is_ccl:
            continue
        for eccn, action, conf in parse_instruction(b.text):
            if (eccn, action, instr) not in seen:
                seen.add((eccn, action, instr))
                out.append(EccnChange(eccn=eccn, action=action, instruction=instr, quote=b.text,
                                      location=b.location, confidence=round(conf * confidence_scale, 3)))
    return out


def extract_eccn_changes(root: Any) -> list[EccnChange]:
    """ECCN additions, revisions and removals stated by the amendatory instructions for part 774."""
    try:
        return _changes(_ccl_instructions(_all_blocks(root)), 1.0)
    except Exception:
        return []


def extract_thresholds(root: Any) -> list[Threshold]:
    """Control thresholds in the amended CCL entries (REGTEXT PART="774"), by ECCN paragraph."""
    try:
        return _ccl_thresholds([g for g in _all_blocks(root) if g.part == "774"], 0.85)
    except Exception:
        return []


def extract_eligibility(root: Any) -> list[Threshold]:
    """License-exception and licensing-policy ceilings (parts 740, 742, 744, 748): NOT control thresholds.

    Returned with ``eccn=None``; e.g. LPP ``tpp <= 26900000``, 2026-00789 ``tpp < 21000``."""
    try:
        r = _root(root)
        if r is None or not hasattr(r, "iter"):
            return []
        groups = document_groups(r, ELIGIBILITY_PARTS)
        return _eligibility([b for g in groups if g.part in ELIGIBILITY_PARTS for b in g.blocks], 0.7)
    except Exception:
        return []


def extract_license_exceptions(root: Any) -> list[LicenseExceptionChange]:
    """License exceptions added, revised or removed by REGTEXT PART="740" instructions. A code whose
    section is revised counts as added when an added paragraph introduces it or the summary calls it new."""
    try:
        blocks = [b for g in _all_blocks(root) if g.part == "740" for b in g.blocks]
        if not blocks:
            return []  # (the summary is read only for a document that amends part 740)
        r = _root(root)
        summary = None
        if r is not None and hasattr(r, "find"):
            summary = r.find("PREAMB/SUM")
            summary = summary if summary is not None else r.find(".//SUM")
        new_codes = new_codes_in_summary(text_of(summary)) if summary is not None else set()
        return _le_changes(blocks, 0.85, new_codes)
    except Exception:
        return []


# -------------------------------------------------------------------------------------- plain text

def extract_text(text: str, blocks: list[Block] | None = None
                 ) -> tuple[list[EccnChange], list[Threshold], list[LicenseExceptionChange]]:
    """Plain-text fallback (govinfo text, HTML stripped to text): same rules, lower confidence. ``blocks``:
    the text's blocks (:func:`~extraction.blocks.text_blocks`), if already made."""
    try:
        blocks = blocks if blocks is not None else text_blocks(text or "")
        ccl = [b for b in blocks if b.part == "774"]
        changes = _changes(ccl, 0.85)
        thresholds = _ccl_thresholds([Group.of(ccl)], 0.7)
        les = _le_changes([b for b in blocks if b.part == "740"], 0.7)
        return changes, thresholds, les
    except Exception:
        return [], [], []
