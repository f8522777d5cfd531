"""Effective, compliance and comment dates from the ``DATES:`` section of Federal Register documents.

Entry points
------------
* :func:`extract_dates` -- a ``RULE``/``PRORULE``/``NOTICE``/``CORRECT`` element (FR XML). Reads every
  ``P``/``FP`` of ``PREAMB/DATES`` and ``PREAMB/EFFDATE`` (both are headed "DATES:"). ``SUPLINF`` is read
  only for self-referencing sentences ("This rule is effective ...", "Amendatory instruction 5 is
  effective ...") or paragraphs under an "Effective date"/"Compliance date" heading, and only for a kind
  (effective/compliance/comments_due) that the DATES section did not already yield (precision first).
* :func:`extract_dates_text` -- the same for plain text (govinfo/HTML fallback): the text of the DATES
  paragraph(s). Paragraphs are separated by blank lines or start with a label on a new line; wrapped lines
  are joined; govinfo conventions (``[[Page 5299]]``, ``--``) are normalised first.

How it works
------------
1. Each paragraph is split off its leading label (``<E T="03">Effective date:</E>``, "Compliance dates:",
   "Comments:", "Suspension period:" ...), then into sentences and ``;`` clauses.
2. Date expressions are found with a spaCy ``Matcher`` over the shared blank pipeline's vocabulary:
   "January 13, 2025", "Jan. 17, 2023", "Sept. 5, 2024", typos "January 13. 2025" / "January 17,2023",
   "11/17/2023", "2025-01-13", relative "120 days from (the) date of publication (in the Federal
   Register)" / "30 days after publication", and "[INSERT DATE (120 DAYS AFTER) (DATE OF) PUBLICATION ...]"
   placeholders. Impossible dates ("February 30, 2025") are dropped (no fact, no exception).
3. Dates that are references, not facts, are masked: "published March 1, 2016", "(89 FR 96790, December 5,
   2024)", "delayed from April 15, 2016".
4. Each clause is classified (compliance > comments > effective, by keyword; else by the paragraph label)
   and read with small patterns on the clause, with the dates replaced by placeholders:
   "X is effective D1, except for Y, which is effective D2 [until D3]" -> ``whole rule except Y`` + ``Y``;
   "effective from D1 until/through/to D2" -> a window (``end_date``); "The effective date of X is delayed
   from D0 to D1" -> D1 for X; "Compliance with X is not required until D, except that compliance with Y
   ..." -> ``whole rule except Y`` + ``Y``; "This delayed compliance date applies only to X" narrows the
   previous compliance scope to ``only X``; comment deadlines take the date after "by / no later than /
   on or before / extended to ..." and name another rule when its comment period is the one extended.

Rules and choices
-----------------
* Relative dates: ``publication_date + N calendar days`` (day of publication is day 0), so 120 days from a
  2025-01-15 publication is 2025-05-15. "Effective on/upon publication" is the publication date. Without
  ``publication_date`` relative dates produce no fact. Confidence is lower (0.75; placeholders 0.6).
* No effective date is ever defaulted to the publication date: no statement, no fact. Effective dates
  before publication are kept as written.
* Windows: ``end_date`` is the date as written for "until", "through" and "to" alike; the scope records
  the word (``(window ends 'until' January 1, 2026)``) because "through" is inclusive in the rules DSL
  while "until" in FR prose usually means the provision stops applying on that date.
* A suspension period ("The suspension applies from D1 through D2") is an ``effective`` fact with the
  window and scope ``suspension period ...``.
* Confidence: 0.95 explicit and keyworded; -0.1 for odd formats (typo period, glued comma, numeric);
  0.8 for a bare date under a label; 0.6 for SUPLINF and for objection deadlines.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from extraction.model import DateFact, DateKind
from extraction.nlp import attr_ids, blank  # (spaCy itself is imported on first use)
from extraction.xmltext import element_path, normalise_plain, text_of, xpath

__all__ = ["extract_dates", "extract_dates_text"]

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
    "nov": 11, "dec": 12,
}
_MONTH_WORDS = [
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
]
_NUM_WORDS = {
    "one": 1, "two": 2, "three": 3, "five": 5, "seven": 7, "ten": 10, "fifteen": 15, "thirty": 30,
    "forty-five": 45, "sixty": 60, "ninety": 90,
}
_WS = re.compile(r"\s+")
_ABBREV = {
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "no", "nos", "a.m",
    "p.m", "u.s", "e.g", "i.e", "mr", "ms", "dr", "st", "inc", "co", "corp", "ltd", "sec", "secs", "supp",
    "pt", "pts", "para", "v", "vs", "etc", "u.s.c", "cf", "approx",
}
_SENT_END = re.compile(r"[.!?][\"”’)]*\s+(?=[A-Z“\"(\[])")
_MAY_HAVE_DATE = re.compile(r"\d|publication", re.I)
_LAST_WORD = re.compile(r"([A-Za-z.]+)\.[\"”’)]*$")
_LABEL = re.compile(r"^\s*(?P<label>[A-Z][A-Za-z()/\- ]{1,40}?)\s*:\s+")

OPEN, CLOSE = "\u27e8", "\u27e9"  # ⟨i⟩ marks a usable date mention in templated text
ROPEN, RCLOSE = "\u00ab", "\u00bb"  # «i» marks a reference date (not a fact)


@dataclass
class _Mention:
    start: int
    end: int
    text: str
    date: dt.date | None = None  # absolute date
    days: int | None = None  # relative: days after publication
    placeholder: bool = False
    odd: bool = False  # typo / unusual format


@dataclass
class _Fact:
    kind: DateKind
    date: dt.date
    end_date: dt.date | None
    scope: str
    confidence: float


# ---------------------------------------------------------------------------------------------- matcher


@lru_cache(maxsize=2)
def _matcher(relative: bool = True) -> Any:
    """Token patterns on lexeme flags (see :mod:`extraction.nlp`). The flags are as strict as the forms they
    stand for; :func:`_parse_abs` still checks each match (and drops impossible dates). Without ``relative``
    only the absolute forms: the relative ones all end in "publication", and a sentence without that word
    is matched with fewer patterns (the matcher's time grows with them)."""
    from extraction.nlp import matcher, regex_flag, words_flag

    m = matcher()
    month = {words_flag("DATE_MONTH", _MONTH_WORDS + [w + "." for w in _MONTH_WORDS if len(w) <= 4]): True}
    dot = {"ORTH": ".", "OP": "?"}
    day = {regex_flag("DATE_DAY", r"\d{1,2}(?:st|nd|rd|th)?"): True}
    year = {regex_flag("DATE_YEAR", r"(?:1[89]|2\d)\d\d"): True}
    m.add("ABS", [[month, dot, day, {words_flag("DATE_SEPARATOR", (",", ".")): True, "OP": "?"}, year]])
    m.add("ABS", [[month, dot, {regex_flag("DATE_DAY_YEAR", r"\d{1,2},(?:1[89]|2\d)\d\d"): True}]])  # "17,2023"
    m.add("NUM", [[{regex_flag("DATE_NUMERIC", r"\d{1,2}/\d{1,2}/(?:1[89]|2\d)\d\d"): True}]])
    # the tokenizer splits "2025-01-13" at its hyphens
    two = {regex_flag("DATE_TWO_DIGITS", r"\d\d"): True}
    m.add("ISO", [[year, {"ORTH": "-"}, two, {"ORTH": "-"}, two]])
    number = {regex_flag("DATE_COUNT", r"\d{1,4}"): True}
    word_number = {words_flag("DATE_COUNT_WORD", _NUM_WORDS): True}
    tail: list[dict[Any, Any]] = [
        {"LOWER": "calendar", "OP": "?"},  # "business days" are not computed
        {words_flag("DATE_DAYS", ("day", "days")): True},
        {words_flag("DATE_AFTER", ("after", "from", "following")): True},
        {words_flag("DATE_FILLER", ("the", "date", "of", "its", "this", "rule", "'s", "document", "day")): True,
         "OP": "*"},
        {"LOWER": "publication"},
    ]
    if not relative:
        return m
    m.add("REL", [[number, *tail], [word_number, *tail],
                  [word_number, {"ORTH": "("}, number, {"ORTH": ")"}, *tail]])
    m.add("PUBPH", [[{"ORTH": "["}, {"LOWER": "insert"}, {"LOWER": "date"}, {"LOWER": "of"},
                     {"LOWER": "publication"}]])
    return m


def _parse_abs(text: str) -> tuple[dt.date, bool] | None:
    """(date, odd format) of an absolute date mention, or None when it is not one (or is impossible)."""
    parsed = _parse_abs_any(text.strip())
    if parsed is None or not 1800 <= parsed[0].year <= 2999:
        return None
    return parsed


_ABS_LONG = re.compile(r"([A-Za-z]+)\.?\s*(\d{1,2})(?:st|nd|rd|th)?\s*([,.]?)\s*(\d{4})")
_ABS_NUMERIC = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ABS_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def _parse_abs_any(t: str) -> tuple[dt.date, bool] | None:
    try:
        mm = _ABS_LONG.fullmatch(t)
        if mm:
            mon = _MONTHS.get(mm.group(1).lower()[:3])
            if mon is None:
                return None
            odd = mm.group(3) in (".", "") or ("," in t and re.search(r",\d", t) is not None)
            return dt.date(int(mm.group(4)), mon, int(mm.group(2))), odd
        mm = _ABS_NUMERIC.fullmatch(t)
        if mm:
            return dt.date(int(mm.group(3)), int(mm.group(1)), int(mm.group(2))), True
        mm = _ABS_ISO.fullmatch(t)
        if mm:
            return dt.date(int(mm.group(1)), int(mm.group(2)), int(mm.group(3))), True
    except ValueError:  # February 30
        return None
    return None


def _mentions(text: str) -> list[_Mention]:
    doc = blank().tokenizer(text)  # (the blank pipeline has no components: its tokenizer is all it does)
    matches = _matcher("publication" in text.lower())(doc)
    if not matches:
        return []
    strings = doc.vocab.strings
    labels = {(s, e): strings[mid] for mid, s, e in matches}
    # one mention per token: the longest first, then the earliest (the rule of spaCy's ``filter_spans``,
    # without making a Span and Token objects per match); offsets from the token array
    kept: list[tuple[int, int]] = []
    taken: set[int] = set()
    for s, e in sorted(labels, key=lambda se: (se[1] - se[0], -se[0]), reverse=True):
        if s not in taken and e - 1 not in taken:
            kept.append((s, e))
            taken.update(range(s, e))
    offsets = doc.to_array(attr_ids("IDX", "LENGTH")).tolist()
    out: list[_Mention] = []
    for s, e in sorted(kept):
        label = labels[(s, e)]
        start, end = offsets[s][0], offsets[e - 1][0] + offsets[e - 1][1]
        mtext = text[start:end]
        if label == "REL" or label == "PUBPH":
            if label == "PUBPH":
                days = 0
            else:
                first = text[start:start + offsets[s][1]].lower()
                num = re.search(r"\d+", mtext)
                days = int(num.group()) if num else _NUM_WORDS.get(first, -1)
                if days < 0:
                    continue
            placeholder = label == "PUBPH"
            pre = re.search(r"\[\s*insert\s+date\s*$", text[:start], re.I)
            if pre:
                start, placeholder = pre.start(), True
            if placeholder:
                close = text.find("]", end)
                if close != -1 and close - end < 80:
                    end = close + 1
            out.append(_Mention(start, end, text[start:end], days=days, placeholder=placeholder))
            continue
        parsed = _parse_abs(mtext)
        if parsed is None:
            continue  # malformed (e.g. February 30): skipped
        out.append(_Mention(start, end, mtext, date=parsed[0], odd=parsed[1]))
    return out


# ---------------------------------------------------------------------------------------------- text helpers

_REFERENCE_BEFORE = re.compile(
    r"(?:\b(?:published|dated|issued|signed|released)(?:\s+in\s+the\s+Federal\s+Register)?(?:\s+on)?"
    r"|\bFR\s+\d+\s*,|(?:delayed|postponed)\s+from|\bof\s+the\s+\w+\s+rule\s+of)\s*$",
    re.I,
)


# how the text before a reference date ends (every alternative of _REFERENCE_BEFORE ends with one of these): the
# end-anchored search, which tries every position of its window, runs only after one of them
_REFERENCE_ENDINGS = ("published", "dated", "issued", "signed", "released", "register", "on", ",", "from", "of")


def _is_reference(before: str) -> bool:
    return before.rstrip().lower().endswith(_REFERENCE_ENDINGS) and _REFERENCE_BEFORE.search(before) is not None


def _template(text: str, mentions: list[_Mention]) -> str:
    parts: list[str] = []
    pos = 0
    for i, m in enumerate(mentions):
        parts.append(text[pos:m.start])
        ref = _is_reference(text[max(0, m.start - 60):m.start])
        parts.append(f"{ROPEN}{i}{RCLOSE}" if ref else f"{OPEN}{i}{CLOSE}")
        pos = m.end
    parts.append(text[pos:])
    return "".join(parts)


def _untemplate(t: str, mentions: list[_Mention]) -> str:
    def repl(mm: re.Match[str]) -> str:
        return mentions[int(mm.group(1))].text

    return re.sub(f"[{OPEN}{ROPEN}](\\d+)[{CLOSE}{RCLOSE}]", repl, t)


def _sentences(text: str) -> list[str]:
    out: list[str] = []
    start = 0
    for mm in _SENT_END.finditer(text):
        # the word before the stop, from a short window: an end-anchored search of everything since the
        # last sentence end was quadratic in a paragraph full of abbreviations
        before = text[max(start, mm.start() - 40):mm.start() + 1]
        word = _LAST_WORD.search(before)
        if word and word.group(1).lower().strip(".") in _ABBREV:
            continue
        out.append(text[start:mm.end()].strip())
        start = mm.end()
    rest = text[start:].strip()
    if rest:
        out.append(rest)
    return out


def _split_label(text: str) -> tuple[str | None, str]:
    mm = _LABEL.match(text)
    if not mm:
        return None, text
    label = mm.group("label").strip()
    if len(label.split()) > 4:
        return None, text
    return label, text[mm.end():]


def _label_kind(label: str | None) -> DateKind | None:
    if not label:
        return None
    low = label.lower()
    if "complian" in low:
        return "compliance"
    if "comment" in low or "objection" in low:
        return "comments_due"
    if "effective" in low or "suspension" in low or "delay" in low:
        return "effective"
    return None


def _clause_kind(clause: str, label_kind: DateKind | None) -> DateKind | None:
    low = clause.lower()
    if re.search(r"\bcompl(?:iance|y)\b", low):
        return "compliance"
    if re.search(r"\bcomment|\bobjection", low):
        return "comments_due"
    if re.search(r"\beffective\b|\bsuspen", low):
        return "effective"
    return label_kind


_SELF = re.compile(
    r"^(?:(?:this|these|the)\s+)?(?:(?:temporary|interim|final|direct|proposed|correcting|present)\s+){0,3}"
    r"(?:rule|rules|correction|corrections|finding|deviation|document|regulation|regulations|action|"
    r"amendments?|changes?|notice|order|provisions?|revisions?|requirements?)"
    r"(?:\s+(?:made|set\s+out|contained|adopted)?\s*(?:by|in|of)\s+this\s+(?:\w+\s+){0,2}?(?:rule|document|action))?$",
    re.I,
)
_INSTR = re.compile(
    r"\b(?:amendatory\s+)?instructions?\s+(?:nos?\.\s*)?(\d+(?:\s*(?:,\s*and|,|and|through|-|–)\s*\d+)*)", re.I
)


_TRAILING_WHICH = re.compile(r",\s+which\b.*$", re.I)


def _clean_scope(s: str) -> str:
    s = _WS.sub(" ", s).strip(" ,;:")
    s = _TRAILING_WHICH.sub("", s)  # "..., which was scheduled to close on December 12, 2022" describes it
    s = re.sub(r"^(?:and|or|for|that|as to|with)\s+", "", s, flags=re.I)
    s = re.sub(r"\s+(?:is|are|will be|shall be|becomes?|was|were|remains?|which|that)$", "", s, flags=re.I)
    return s.strip(" ,;:")


def _scope_of(subject: str, mentions: list[_Mention], strict: bool = False) -> str:
    """Scope of a subject phrase; ``strict``: only "this ..." phrases mean this document ("the interim final
    rule" in a comment sentence of a correction is the corrected rule, not the correction)."""
    s = _clean_scope(_untemplate(subject, mentions))
    is_self = bool(_SELF.match(s)) and (not strict or bool(re.match(r"(?:this|these)\b", s, re.I)))
    if not s or is_self or re.fullmatch(r"(?:it|this|the|effective)", s, re.I):
        return "whole rule"
    instr = _INSTR.search(s)
    if instr:
        nums = instr.group(1)
        plural = bool(re.search(r"\d\D+\d", nums))
        return f"amendatory instruction{'s' if plural else ''} {nums}"
    return re.sub(r"^the\s+", "", s, flags=re.I)


# ---------------------------------------------------------------------------------------------- readers

_IDX = f"{OPEN}(\\d+){CLOSE}"
_PRE = r"(?:on\s+|from\s+|as\s+of\s+|beginning\s+|starting\s+|at\s+)?(?P<pre>[^" + OPEN + r"]{0,40}?)"
_WINDOW_TAIL = r"(?:(?P<mid>[^" + OPEN + r"]{0,40}?)" + _IDX.replace("(\\d+)", "(?P<b>\\d+)") + r")?"
_EFF = re.compile(
    r"(?P<subj>^.*?)\b(?:effective|in\s+effect)\s*:?\s*" + _PRE + _IDX.replace("(\\d+)", "(?P<a>\\d+)") + _WINDOW_TAIL,
    re.I,
)
_EXC_EFF = re.compile(
    r"(?P<scope>[^" + OPEN + r"]+?)\s*,?\s+(?:(?:which|that|each\s+of\s+which)\s+)?"
    r"(?:is|are|will\s+be|shall\s+be|becomes?|remains?)\s+effective\s*" + _PRE
    + _IDX.replace("(\\d+)", "(?P<a>\\d+)") + _WINDOW_TAIL,
    re.I,
)
_DELAY = re.compile(
    r"effective\s+dates?(?:\s+(?:of|for)\s+(?P<x>.+?))?\s+(?:is|are|was|has\s+been|will\s+be|remains?)\s+(?:hereby\s+)?"
    r"(?:further\s+)?(?P<verb>delayed|postponed|changed|extended|corrected|revised)?\s*"
    r"(?:from\s+[" + OPEN + ROPEN + r"](?P<old>\d+)[" + CLOSE + RCLOSE + r"],?\s+)?(?:to|until|as)?\s*"
    + _IDX.replace("(\\d+)", "(?P<new>\\d+)"),
    re.I,
)
_ON_PUB = re.compile(r"effective\s+(?:up)?on\s+(?:the\s+date\s+of\s+)?(?:its\s+)?publication", re.I)
_WINDOW = re.compile(
    r"\bfrom\s+(?P<pre>[^" + OPEN + r"]{0,30}?)" + _IDX.replace("(\\d+)", "(?P<a>\\d+)")
    + r"(?P<mid>[^" + OPEN + r"]{0,40}?)" + _IDX.replace("(\\d+)", "(?P<b>\\d+)"),
    re.I,
)
_WORD = re.compile(r"\b(until|through|thru|to|and\s+ending\s+on)\b", re.I)
_COMPLIANCE = [
    re.compile(
        r"compliance\s+(?:with\s+(?P<scope>.+?)\s+)?(?:is|will\s+be|shall\s+be)\s+(?:not\s+)?required\s+"
        r"(?:until|by|on|before|beginning|starting|as\s+of|no\s+later\s+than)?\s*(?:on\s+)?" + _IDX.replace(
            "(\\d+)", "(?P<a>\\d+)"),
        re.I,
    ),
    re.compile(
        r"compliance\s+dates?(?:\s+(?:for|of)\s+(?P<scope>.+?))?\s+(?:is|are|will\s+be|remains?|has\s+been"
        r"|have\s+been)\s+(?:now\s+)?(?:delayed\s+|extended\s+|postponed\s+|changed\s+)?(?:to|until)?\s*"
        + _IDX.replace("(\\d+)", "(?P<a>\\d+)"),
        re.I,
    ),
    re.compile(
        r"compl(?:y|iance)\s+with\s+(?P<scope>.+?)\s+(?:by|on\s+or\s+before|no\s+later\s+than|until|beginning)\s+"
        + _IDX.replace("(\\d+)", "(?P<a>\\d+)"),
        re.I,
    ),
]
_ONLY = re.compile(r"(?:this|the)\s+(?:delayed\s+)?compliance\s+date\s+applies\s+only\s+to\s+(?P<x>[^;.]+)", re.I)
_DEADLINE_BEFORE = re.compile(
    r"(?:\bby|\bbefore|\bthan|\bto|\buntil|\bthrough|\bdue|\bdate:?|\bcloses(?:\s+on)?|\bis|\bon)\s*$", re.I
)
_EXTENDED = re.compile(
    r"(?:comment\s+period|period\s+for\s+(?:submitting\s+|the\s+submission\s+of\s+)?(?:public\s+)?comments"
    r"|comment\s+deadline|deadline\s+for\s+(?:submitting\s+)?comments)"
    r"(?:\s+(?:on|for|of)\s+(?P<x>.+?))?\s+(?:is|are|has\s+been|will\s+be)\s+(?:hereby\s+)?(?:being\s+)?"
    r"(?P<v>extended|reopened)",
    re.I,
)
_COMMENTS_ON = re.compile(r"comments\s+(?:on|regarding|concerning|about)\s+(?P<x>.+?)\s+(?:must|should|will|may|are)\b",
                          re.I)


def _resolve(m: _Mention, pub: dt.date | None) -> tuple[dt.date, float] | None:
    """The date of a mention and a confidence multiplier (None when it cannot be computed)."""
    if m.date is not None:
        return m.date, (0.9 if m.odd else 1.0)
    if m.days is not None and pub is not None:
        return pub + dt.timedelta(days=m.days), (0.63 if m.placeholder else 0.8)
    return None


def _window(
    mentions: list[_Mention], pub: dt.date | None, a: str, b: str | None, pre: str, mid: str | None
) -> tuple[dt.date, dt.date | None, str, float] | None:
    """(start, end, scope note, confidence factor) of "D1 [until D2]" or "from 7:30 a.m. until 3 p.m. on D"."""
    ra = _resolve(mentions[int(a)], pub)
    if ra is None:
        return None
    if b is not None and mid is not None:
        w = _WORD.search(mid)
        rb = _resolve(mentions[int(b)], pub)
        if w and rb is not None and rb[0] >= ra[0]:
            word = _WS.sub(" ", w.group(1).lower())
            note = f" (window ends '{word}' {mentions[int(b)].text})"
            return ra[0], rb[0], note, min(ra[1], rb[1])
    w = _WORD.search(pre)
    if w and re.search(r"\d", pre):  # same-day window: "from 7:30 a.m. until 3 p.m. on April 30, 2016"
        return ra[0], ra[0], f" (window '{_WS.sub(' ', pre.strip())}')", ra[1]
    return ra[0], None, "", ra[1]


def _read_effective(t: str, mentions: list[_Mention], pub: dt.date | None, labelled: bool) -> list[_Fact]:
    out: list[_Fact] = []
    d = _DELAY.search(t)
    if d:
        r = _resolve(mentions[int(d.group("new"))], pub)
        if r is None:
            return out
        x = d.group("x")
        scope = _scope_of(x, mentions) if x else "whole rule"
        if d.group("old") is not None and d.group("verb"):
            scope += f" ({d.group('verb').lower()} from {mentions[int(d.group('old'))].text})"
        out.append(_Fact("effective", r[0], None, scope, 0.9 * r[1]))
        return out
    exc = re.search(r",?\s*\bexcept\s+(?:for\s+|that\s+|as\s+to\s+)?", t, re.I)
    main, rest = (t[:exc.start()], t[exc.end():]) if exc else (t, "")
    mm = _EFF.search(main)
    if mm:
        win = _window(mentions, pub, mm.group("a"), mm.group("b"), mm.group("pre"), mm.group("mid"))
        if win is None:
            return out
        main_scope = _scope_of(mm.group("subj"), mentions)
        exc_facts: list[_Fact] = []
        for em in _EXC_EFF.finditer(rest):
            ew = _window(mentions, pub, em.group("a"), em.group("b"), em.group("pre"), em.group("mid"))
            if ew is None:
                continue
            es = _scope_of(em.group("scope"), mentions)
            exc_facts.append(_Fact("effective", ew[0], ew[1], es + ew[2], 0.95 * ew[3]))
        if exc:
            excepted = [f.scope.split(" (window")[0] for f in exc_facts]
            if not excepted:
                excepted = [_clean_scope(_untemplate(re.split(r"[,;]\s+which\b", rest)[0], mentions))]
            main_scope = f"{main_scope} except {' and '.join(x for x in excepted if x)}"
        base = 0.95 if (re.search(r"\b(?:is|are|be|becomes?)\s+effective\b", main, re.I) or labelled) else 0.85
        out.append(_Fact("effective", win[0], win[1], main_scope + win[2], base * win[3]))
        out.extend(exc_facts)
        return out
    on_pub = _ON_PUB.search(t)
    if on_pub and pub is not None:
        out.append(_Fact("effective", pub, None, _scope_of(t[: on_pub.start()], mentions), 0.75))
        return out
    wm = _WINDOW.search(t)
    if wm:
        win = _window(mentions, pub, wm.group("a"), wm.group("b"), wm.group("pre"), wm.group("mid"))
        if win is not None and win[1] is not None:
            scope = "suspension period" if re.search(r"suspen", t, re.I) else _scope_of(t[: wm.start()], mentions)
            out.append(_Fact("effective", win[0], win[1], scope + win[2], 0.85 * win[3]))
            return out
    if labelled:
        out.extend(_bare(t, mentions, pub, "effective"))
    return out


def _bare(t: str, mentions: list[_Mention], pub: dt.date | None, kind: DateKind) -> list[_Fact]:
    """A labelled clause that is just a date ("Effective: April 15, 2016.", "Comment date: May 1, 2025")."""
    idx = [int(x) for x in re.findall(_IDX, t)]
    rest = re.sub(_IDX, "", t)
    if len(idx) != 1 or len(re.findall(r"[A-Za-z]+", rest)) > 6:
        return []
    r = _resolve(mentions[idx[0]], pub)
    return [] if r is None else [_Fact(kind, r[0], None, "whole rule", 0.8 * r[1])]


def _read_compliance(t: str, mentions: list[_Mention], pub: dt.date | None, labelled: bool) -> list[_Fact]:
    for pat in _COMPLIANCE:
        ms = list(pat.finditer(t))
        if not ms:
            continue
        facts: list[_Fact] = []
        for i, m in enumerate(ms):
            r = _resolve(mentions[int(m.group("a"))], pub)
            if r is None:
                continue
            raw = m.group("scope")
            scope = _scope_of(raw, mentions) if raw else "whole rule"
            if scope.lower().startswith("changes made by") or scope.lower().startswith("the changes"):
                scope = "whole rule"
            if i + 1 < len(ms) and re.search(r"\bexcept\b", t[m.end():ms[i + 1].start()], re.I):
                nxt = ms[i + 1].group("scope")
                if nxt:
                    scope = f"{scope} except {_scope_of(nxt, mentions)}"
            facts.append(_Fact("compliance", r[0], None, scope, 0.95 * r[1]))
        return facts
    return _bare(t, mentions, pub, "compliance") if labelled else []


def _read_comments(t: str, mentions: list[_Mention], pub: dt.date | None, labelled: bool) -> list[_Fact]:
    idx = [mm for mm in re.finditer(_IDX, t)]
    if not idx:
        return []
    deadline = [mm for mm in idx if _DEADLINE_BEFORE.search(t[: mm.start()])]
    pick = (deadline or idx)[-1]
    r = _resolve(mentions[int(pick.group(1))], pub)
    if r is None:
        return []
    conf = (0.95 if deadline else 0.75) * r[1]
    scope = "whole rule"
    ext = _EXTENDED.search(t)
    on = _COMMENTS_ON.search(t)
    if re.search(r"objection", t, re.I) and not re.search(r"comment", t, re.I):
        scope = "objections and requests for a hearing" if re.search(r"hearing", t, re.I) else "objections"
        conf = 0.6 * r[1]
    elif ext:
        x = ext.group("x")
        other = _scope_of(x, mentions, strict=True) if x else "whole rule"
        verb = ext.group("v").lower()
        scope = f"whole rule (comment period {verb})" if other == "whole rule" else f"comment period {verb}: {other}"
    elif on:
        scope = _scope_of(on.group("x"), mentions, strict=True)
    return [_Fact("comments_due", r[0], None, scope, conf)]


# ---------------------------------------------------------------------------------------------- driver


def _paragraph(text: str, pub: dt.date | None) -> list[tuple[_Fact, str]]:
    """Facts of one paragraph, each with the sentence it came from."""
    text = _WS.sub(" ", text).strip()
    if not text:
        return []
    label, body = _split_label(text)
    lkind = _label_kind(label)
    out: list[tuple[_Fact, str]] = []
    for sent in _sentences(body):
        try:  # every date form has a digit or the word "publication": spaCy runs only on such sentences
            mentions = _mentions(sent) if _MAY_HAVE_DATE.search(sent) else []
        except Exception:  # never raise on odd input
            continue
        t = _template(sent, mentions)
        only = _ONLY.search(t)
        if only:
            prev = [f for f, _ in out if f.kind == "compliance"]
            if prev:
                prev[-1].scope = "only " + _clean_scope(_untemplate(only.group("x"), mentions))
            continue
        if not mentions and not _ON_PUB.search(t):
            continue
        for clause in re.split(r";\s+", t):
            kind = _clause_kind(clause, lkind)
            labelled = lkind is not None and lkind == kind
            if kind == "effective":
                facts = _read_effective(clause, mentions, pub, labelled)
            elif kind == "compliance":
                facts = _read_compliance(clause, mentions, pub, labelled)
            elif kind == "comments_due":
                facts = _read_comments(clause, mentions, pub, labelled)
            else:
                facts = []
            out.extend((f, sent) for f in facts)
    return out


def _to_facts(pairs: list[tuple[_Fact, str]], location: str) -> list[DateFact]:
    out: list[DateFact] = []
    seen: set[tuple[str, dt.date, dt.date | None, str]] = set()
    for f, sent in pairs:
        key = (f.kind, f.date, f.end_date, f.scope)
        if key in seen:
            continue
        seen.add(key)
        out.append(DateFact(kind=f.kind, date=f.date, end_date=f.end_date, scope=f.scope, quote=sent,
                            location=location, confidence=round(max(0.0, min(1.0, f.confidence)), 2)))
    return out


def extract_dates_text(text: str, publication_date: dt.date | None, location: str = "DATES") -> list[DateFact]:
    """Date facts of the plain text of a DATES paragraph (or several, one per line). Never raises."""
    try:
        body = normalise_plain((text or "").replace("\u00a0", " ").replace("\r", ""))
        body = re.sub(r"^\s*DATES?\s*:\s*", "", body, flags=re.I)
        pairs: list[tuple[_Fact, str]] = []
        # paragraphs: blank lines, or a new line that starts with a label ("Compliance date: ..."); single
        # line breaks inside a paragraph (govinfo wraps lines) are joined
        for para in re.split(r"\n\s*\n|\n(?=\s*[A-Z][A-Za-z()/\- ]{1,40}:\s)", body):
            pairs.extend(_paragraph(para, publication_date))
        return _to_facts(pairs, location)
    except Exception:  # pragma: no cover - defensive: odd input must not break a crawl
        return []


_SUPL_HEAD = re.compile(r"\b(?:effective|compliance|applicability)\s+dates?\b", re.I)
_SUPL_SELF = re.compile(
    r"^(?:This|These)\s+(?:(?:temporary|interim|final|direct|correcting)\s+){0,3}(?:rule|correction|amendments?)"
    r"\s+(?:is|are|will\s+be|becomes?)\s+effective\b"
    r"|^(?:Amendatory\s+)?instructions?\s+\d+(?:\s*(?:,|and|,\s*and)\s*\d+)*\s+(?:of\s+this\s+rule\s+)?"
    r"(?:is|are|will\s+be|becomes?)\s+effective\b",
)


_DATE_SECTIONS = "./PREAMB/DATES | ./PREAMB/EFFDATE | ./DATES | ./EFFDATE"
# paragraphs of the supplementary information that can hold a self-referencing "... is effective" sentence
# (the test runs in C; reading every paragraph's text in Python cost more than the rest of a document)
# ... and the headings that say "date" (any case), in the same pass, in document order
_SUPL_CANDIDATES = ("./HD[contains(translate(., 'DATE', 'date'), 'date')]"
                    " | ./*[(self::P or self::FP) and contains(., 'effective')]")


def _supl_candidates(supl: Any) -> list[tuple[Any, bool]]:
    """(paragraph, under an "Effective date"-style heading) for the paragraphs of a SUPLINF worth reading."""
    # (headings are rendered only when their raw text has the word "date": a supplementary information
    # section has dozens of headings)
    found = xpath(_SUPL_CANDIDATES)(supl)
    dated = {hd for hd in found if hd.tag == "HD" and _SUPL_HEAD.search(text_of(hd))}
    if not dated:
        return [(p, False) for p in found if p.tag != "HD"]
    effective = set(found)
    out: list[tuple[Any, bool]] = []
    under = False
    for child in supl.iterchildren("HD", "P", "FP"):  # not the (many) REGTEXTs between them
        if child.tag == "HD":
            under = child in dated
        elif under or child in effective:
            out.append((child, under))
    return out


def extract_dates(root: Any, publication_date: dt.date | None) -> list[DateFact]:
    """Date facts of a ``RULE``/``PRORULE``/``NOTICE``/``CORRECT`` element (see the module docstring)."""
    out: list[DateFact] = []
    try:
        for sec in xpath(_DATE_SECTIONS)(root):
            for p in sec.iter("P", "FP"):
                out.extend(_to_facts(_paragraph(text_of(p), publication_date), element_path(p)))
        have = {f.kind for f in out}
        for supl in root.iterchildren("SUPLINF"):
            for child, under in _supl_candidates(supl):
                text = text_of(child)
                if not under:
                    sents = [s for s in _sentences(text) if _SUPL_SELF.match(s)]
                    if not sents:
                        continue
                    text = " ".join(sents)
                for f in _to_facts(_paragraph(text, publication_date), element_path(child)):
                    if f.kind in have:
                        continue
                    f.confidence = round(min(f.confidence, 0.6), 2)
                    out.append(f)
    except Exception:  # pragma: no cover - defensive
        return out
    # the same fact from two paragraphs: keep the first
    dedup: list[DateFact] = []
    seen: set[tuple[str, dt.date, dt.date | None, str]] = set()
    for f in out:
        key = (f.kind, f.date, f.end_date, f.scope)
        if key not in seen:
            seen.add(key)
            dedup.append(f)
    return dedup
