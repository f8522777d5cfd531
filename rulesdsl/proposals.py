"""Proposals: what an extracted Federal Register document would change in the rules.

``propose(rs, extraction)`` compares one extraction result (the ``regwatch extract --json`` contract) with a
ruleset and returns the changes it implies as a list of :class:`Item` s. Each item is a small structured
edit (``op``) that :func:`apply_items` performs on the AST, plus its provenance (document, instruction, quote,
location) and a confidence. Edits are structured rather than textual so that an approval re-applies them to
the rules *as they are at approval time* (someone may have approved something else meanwhile); the DSL diff a
reviewer reads is rendered from them (:func:`render_diff`).

What a document proposes:

* ``add_document``: its declaration (citation, dates with scopes, RIN, docket, what it corrects), once;
  ``add_document_date``: dates a declared document gains (a comment-period extension, a later effective date).
* ``set_parameter_value``: a control threshold of an ECCN paragraph, matched to the parameter that the control
  of that paragraph compares the same attribute with; a new dated value from the effective date that applies
  to the instruction, or, for a correction, a corrected value at the date the corrected document introduced.
* ``end_control``: a removed ECCN paragraph ends the day before the removal takes effect.
* ``add_exception`` / ``end_exception``: license exceptions added to or removed from part 740.
* ``add_control`` (always low confidence): a skeleton for an ECCN the rules do not know yet, with its
  thresholds as new parameters when the text gave them, else ``when false`` so that approving it unedited
  reclassifies nothing.
* ``note``: things a person must look at and that no edit expresses (a revised paragraph, a comparator that
  differs from the rules, an ambiguous match).

Nothing here trusts document text: every string goes into the DSL through the formatter's quoting, and
identifiers are checked against their patterns before use.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from . import ast as A
from .countries import is_country
from .intervals import in_window
from .ruleset import Ruleset

LOW = 0.7  # items below this confidence are flagged for a closer look

_DOC_ID = re.compile(r"^(?:[A-Z]\d-)?\d{4}-\d{4,6}$")
_RIN = re.compile(r"^\d{4}-[A-Z]{2}\d{2}$")
_ECCN = re.compile(r"^\d[A-E]\d{3}(?:\.[a-z0-9]+)*$")
_CODE = re.compile(r"^[A-Z]{2,4}$")
_GROUP_NAME = re.compile(r"^(?:[A-E]:\d|[A-Za-z][A-Za-z0-9_]{0,30})$")  # "D:5", "AIA", "Macau"
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_NAME = re.compile(r"[^a-z0-9]+")
_CTRL_WS = re.compile(r"[\s\u0000-\u001f\u007f-\u009f\u2028\u2029]+")

# extraction's canonical units -> the DSL's unit names
UNIT_MAP = {"operations": "operations", "TPP": "tpp", "TPP per mm2": "tpp_per_mm2", "GB/s per mm2": "gb_per_s_per_mm2",
            "GB/s": "gbyte_per_s", "bit x TOPS": "bit_tops", "transistors": "transistors",
            "TPP per year": "tpp_per_year", "mm2": "mm2"}
_KIND = {"Rule": "fr_rule", "Proposed Rule": "fr_rule", "Notice": "fr_notice", "Presidential Document": "other"}


class ProposalError(ValueError):
    """The extraction result cannot be turned into proposals (one line, names the document)."""


def clean(text: object, limit: int = 400) -> str:
    """One line of printable text: document strings may hold newlines, tabs, NULs or U+2028."""
    s = _CTRL_WS.sub(" ", str(text)).strip()
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"


@dataclass
class Item:
    kind: str
    op: dict[str, Any]
    summary: str
    confidence: float
    provenance: dict[str, Any] = field(default_factory=dict)
    low: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "op": self.op, "summary": self.summary, "confidence": self.confidence,
                "low_confidence": self.low or self.confidence < LOW, "provenance": self.provenance}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Item:
        return cls(kind=d["kind"], op=d["op"], summary=d["summary"], confidence=float(d["confidence"]),
                   provenance=d.get("provenance") or {}, low=bool(d.get("low_confidence")))


def fingerprint(document: str, items: Sequence[Item]) -> str:
    """Identity of a proposal: the document and what it would do (not quotes, not confidences)."""
    def strip(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k != "confidence"}
        return [strip(x) for x in v] if isinstance(v, list) else v

    body = json.dumps([document, sorted(json.dumps([i.kind, strip(i.op)], sort_keys=True) for i in items)],
                      sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------------------
# reading an extraction result


def _date(v: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(v)) if v else None
    except ValueError:
        return None


def _decimal(t: dict[str, Any]) -> Decimal | None:
    try:
        return Decimal(str(t.get("value_exact", t.get("value"))))
    except (InvalidOperation, ValueError):
        return None


def _instr_numbers(text: str) -> set[str]:
    nums: set[str] = set()
    for m in re.finditer(r"instructions?\s+((?:\d+[A-Za-z]?(?:\s*\([^)]*\))?(?:\s*(?:,|and|or|through|-)\s*)?)+)",
                         text, re.I):
        nums.update(re.findall(r"\b(\d+)(?!\s*CFR)", re.sub(r"\([^)]*\)", "", m.group(1))))
    return nums


@dataclass
class _Effective:
    date: dt.date | None
    end: dt.date | None
    how: str  # which stated date this is, for the reviewer
    confidence: float


def effective_for(dates: Sequence[dict[str, Any]], instruction: str | None) -> _Effective:
    """The effective date that applies to an amendatory instruction, from the document's stated dates.

    A scope that names the instruction wins; then a scope that does not exclude it ("whole rule except
    instruction 11"); a document that states no effective date gets ``None`` (never the publication date)."""
    eff = [d for d in dates if d.get("kind") == "effective" and _date(d.get("date"))]
    if not eff:
        return _Effective(None, None, "no effective date stated", 0.0)
    if instruction:
        for d in eff:
            scope = str(d.get("scope") or "")
            if "except" not in scope.lower() and instruction in _instr_numbers(scope):
                return _Effective(_date(d["date"]), _date(d.get("end_date")), f"effective date of instruction "
                                  f"{instruction}: {clean(scope, 120)}", 0.9)
    general = []
    for d in eff:
        scope = str(d.get("scope") or "whole rule")
        low = scope.lower()
        if "except" in low:
            excluded = _instr_numbers(low.split("except", 1)[1])
            if instruction and instruction in excluded:
                continue
            general.append(d)
        elif low.startswith("whole rule") or not _instr_numbers(scope):
            general.append(d)
    if general:
        d = general[0]
        return _Effective(_date(d["date"]), _date(d.get("end_date")),
                          f"effective date ({clean(d.get('scope') or 'whole rule', 120)})",
                          0.9 if len(general) == 1 else 0.6)
    d = eff[0]
    return _Effective(_date(d["date"]), _date(d.get("end_date")),
                      f"first stated effective date ({clean(d.get('scope') or '', 120)}); scope unclear", 0.5)


def _prov(doc: str, fact: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    p: dict[str, Any] = {"document": doc}
    if fact:
        for k in ("instruction", "quote", "location"):
            if fact.get(k):
                p[k] = clean(fact[k], 600)
    p.update({k: v for k, v in extra.items() if v is not None})
    return p


# ---------------------------------------------------------------------------------------------------------
# propose


def _doc_decl_op(meta: dict[str, Any], doc_id: str, dates: Sequence[dict[str, Any]]) -> dict[str, Any]:
    rins = [r for r in (clean(x, 20).replace("–", "-").replace("—", "-") for x in meta.get("rin") or [])
            if _RIN.match(r)]
    corrects = meta.get("corrects")
    op: dict[str, Any] = {
        "op": "add_document", "id": doc_id, "kind": _KIND.get(str(meta.get("type")), "fr_rule"),
        "citation": clean(meta["citation"], 60) if meta.get("citation") else None,
        "published": meta.get("publication_date") if _date(meta.get("publication_date")) else None,
        "title": clean(meta["title"]) if meta.get("title") else None,
        "action": clean(meta["action"], 200) if meta.get("action") else None,
        "rin": sorted(set(rins)),
        "docket": clean(meta["agency_docket"], 60) if meta.get("agency_docket") else None,
        "corrects": corrects if isinstance(corrects, str) and _DOC_ID.match(corrects) else None,
        "corrects_citation": clean(corrects, 40) if isinstance(corrects, str) and not _DOC_ID.match(corrects)
        else None,
        "dates": [_date_op(d) for d in dates],
    }
    return op


def _end(d: dict[str, Any]) -> str | None:
    """The inclusive last day of a window. Extraction keeps the end date as written and records the word
    in the scope; "until D" / "to D" in FR prose means the provision stops applying on D, while the DSL's
    ``through`` is inclusive."""
    end = _date(d.get("end_date"))
    if end is None:
        return None
    word = re.search(r"window ends '(\w+)'", str(d.get("scope") or ""))
    if word and word.group(1).lower() in ("until", "to"):
        end -= dt.timedelta(days=1)
    return end.isoformat()


def _date_op(d: dict[str, Any]) -> dict[str, Any]:
    scope = clean(d.get("scope") or "whole rule", 200)
    return {"kind": d["kind"], "date": d["date"], "end": _end(d), "scope": None if scope == "whole rule" else scope}


def _valid_dates(ex: dict[str, Any]) -> list[dict[str, Any]]:
    out, seen = [], set()
    for d in ex.get("dates") or []:
        if d.get("kind") in ("effective", "compliance", "comments_due") and _date(d.get("date")):
            if d.get("end_date") and not _date(d["end_date"]):
                continue
            key = (d["kind"], d["date"], d.get("end_date") or None)
            if key not in seen:
                seen.add(key)
                out.append(d)
    return out


def _attr_compares(e: A.Expr | None) -> Iterable[A.Compare]:
    for node in A.iter_conditions(e):
        if isinstance(node, A.Compare):
            yield node


def _flip(op: str) -> str:
    return {">=": "<=", ">": "<", "<=": ">=", "<": ">"}.get(op, op)


def _param_candidates(rs: Ruleset, eccn: str, attribute: str, comparator: str,
                      at: dt.date | None) -> list[tuple[str, str]]:
    """(parameter, comparator in the rules) for comparisons of ``attribute`` with a parameter in the controls
    of ``eccn``'s paragraph (the threshold's ECCN or the control paragraph it belongs to)."""
    out: list[tuple[str, str]] = []
    parts = eccn.split(".")
    controls: list[A.ControlDecl] = []
    for i in range(len(parts), 0, -1):
        controls = [c for c in rs.by_prefix.get(".".join(parts[:i]), [])
                    if eccn == c.eccn or eccn.startswith(c.eccn + ".") or c.eccn.startswith(eccn + ".")]
        if controls:
            break
    if at is not None:  # the version in effect at the date, else the latest versions
        current = [c for c in controls if c.effective is None
                   or in_window(at, c.effective.start, c.effective.end)]
        controls = current or controls
    for c in controls:
        for cmp in _attr_compares(c.when):
            left, right, op = cmp.left, cmp.right, str(cmp.op)
            if isinstance(right, A.Ref) and right.name == attribute and isinstance(left, A.Ref):
                left, right, op = right, left, _flip(op)
            if (isinstance(left, A.Ref) and left.name == attribute and isinstance(right, A.Ref)
                    and right.name in rs.parameters and rs.parameters[right.name].role == "control"
                    # same direction: a lower bound (>=, >) or an upper bound (<, <=)
                    and (op in (">=", ">")) == (comparator in (">=", ">"))
                    and (right.name, op) not in out):
                out.append((right.name, op))
    return out


def _mentions(p: A.ParameterDecl, eccn: str) -> bool:
    texts = [p.description or ""] + [v.cite.at or "" for v in p.values if v.cite]
    pat = re.compile(re.escape(eccn) + r"(?![.\w])")
    return any(pat.search(t) for t in texts)


def _value_at(p: A.ParameterDecl, at: dt.date) -> A.ParamValue | None:
    cur = None
    for v in sorted(p.values, key=lambda v: v.start):
        if v.start <= at:
            cur = v
    return cur


def _slug(eccn: str, attribute: str) -> str:
    return f"{attribute}_{_NAME.sub('', eccn.lower())}"


class _Builder:
    def __init__(self, rs: Ruleset, ex: dict[str, Any]) -> None:
        self.rs = rs
        self.ex = ex
        meta = ex.get("document") or {}
        doc = meta.get("document_number")
        if not isinstance(doc, str) or not _DOC_ID.match(doc):
            raise ProposalError(f"{ex.get('source') or 'extraction'}: no valid document number ({doc!r})")
        self.doc = doc
        self.meta = meta
        self.dates = _valid_dates(ex)
        self.items: list[Item] = []
        corrects = meta.get("corrects")
        if isinstance(corrects, str) and corrects not in rs.documents:  # a citation ("92 FR 11840")
            corrects = next((d.id for d in rs.documents.values() if d.citation == corrects), None)
        self.corrects = corrects if isinstance(corrects, str) and corrects in rs.documents else None
        self.new_params: dict[str, str] = {}

    def add(self, kind: str, op: dict[str, Any], summary: str, confidence: float, prov: dict[str, Any],
            low: bool = False) -> None:
        self.items.append(Item(kind, op, clean(summary, 300), round(confidence, 2), prov, low))

    # -- the document ---------------------------------------------------------------------------------
    def document(self) -> None:
        existing = self.rs.documents.get(self.doc)
        if existing is None:
            op = _doc_decl_op(self.meta, self.doc, self.dates)
            title = op["title"] or "(no title)"
            conf = 0.95 if op["citation"] and op["published"] else 0.6
            self.add("add_document", op, f"declare {self.doc} {op['citation'] or ''}: {title}", conf,
                     _prov(self.doc, None, title=op["title"]), low=not self.dates)
            return
        have = {(d.kind, d.date.isoformat(), d.end.isoformat() if d.end else None) for d in existing.dates}
        for d in self.dates:
            end = _end(d)
            if (d["kind"], d["date"], end) in have or (end is None and any(
                    (k, x) == (d["kind"], d["date"]) for k, x, _e in have)):
                continue
            op = {"op": "add_document_date", "document": self.doc, **_date_op(d)}
            self.add("add_document_date", op, f"{self.doc}: {d['kind']} {d['date']}"
                     + (f" through {end}" if end else ""),
                     float(d.get("confidence", 0.8)), _prov(self.doc, d))

    # -- ECCNs and thresholds --------------------------------------------------------------------------
    def _added(self, eccn: str) -> bool:
        """Whether this document adds ``eccn`` (or a paragraph above it that the rules do not have)."""
        for c in self.ex.get("eccn_changes") or []:
            ce = str(c.get("eccn", ""))
            if c.get("action") == "added" and (eccn == ce or eccn.startswith(ce + ".")) and not any(
                    k.eccn == ce or k.eccn.startswith(ce + ".") for k in self.rs.controls):
                return True
        return False

    def _instruction_of(self, eccn: str | None) -> str | None:
        if not eccn:
            return None
        for c in self.ex.get("eccn_changes") or []:
            ce = str(c.get("eccn", ""))
            if eccn == ce or eccn.startswith(ce + ".") or ce.startswith(eccn + "."):
                return str(c["instruction"]) if c.get("instruction") else None
        return None

    def _start(self, instruction: str | None) -> _Effective:
        """When this document's change takes effect; for a correction, when the corrected text did."""
        if self.corrects:
            target = self.rs.documents[self.corrects]
            eff = [d for d in target.dates if d.kind == "effective"]
            own = effective_for(self.dates, instruction)
            if eff:
                d = min(eff, key=lambda d: d.date)
                return _Effective(d.date, None, f"correction of {self.corrects}: from the date it took effect",
                                  min(0.85, own.confidence or 0.85))
        return effective_for(self.dates, instruction)

    def thresholds(self) -> None:
        by_eccn: dict[str, list[dict[str, Any]]] = {}
        for t in self.ex.get("thresholds") or []:
            eccn = t.get("eccn")
            if not isinstance(eccn, str) or not _ECCN.match(eccn) or t.get("comparator") not in (
                    ">=", ">", "<=", "<", "=="):
                continue
            by_eccn.setdefault(eccn, []).append(t)
        for eccn, facts in sorted(by_eccn.items()):
            for t in facts:
                self._threshold(eccn, t)

    def _threshold(self, eccn: str, t: dict[str, Any]) -> None:
        value = _decimal(t)
        attribute = str(t.get("parameter") or "")
        if value is None or attribute not in self.rs.attributes:
            self.add("note", {"op": "note"}, f"{eccn}: threshold on '{clean(attribute, 40)}' that the rules "
                     "have no attribute for; review by hand", 0.3, _prov(self.doc, t), low=True)
            return
        instruction = self._instruction_of(eccn)
        eff = self._start(instruction)
        cands = _param_candidates(self.rs, eccn, attribute, str(t["comparator"]), eff.date)
        if not cands:
            if any(eccn == c.eccn or eccn.startswith(c.eccn + ".") for c in self.rs.controls):
                self.add("note", {"op": "note"}, f"{eccn}: no threshold on {attribute} in the control of this "
                         f"paragraph; the text states {t['comparator']} {value} {t.get('unit', '')}", 0.4,
                         _prov(self.doc, t), low=True)
            return  # an ECCN the rules do not know: handled by the skeleton
        named = [c for c in cands if _mentions(self.rs.parameters[c[0]], eccn)]
        # a sub-paragraph (4E091.b) the rules have no control of its own for: its thresholds belong to the
        # enclosing control only if a parameter says so (3A090.a.1's TPP is tpp_3a090a1, cited "ECCN
        # 3A090.a.1"); a paragraph this document adds gets its own skeleton instead
        own_level = any(c.eccn == eccn or c.eccn.startswith(eccn + ".") for c in self.rs.controls)
        if not own_level and not named and self._added(eccn):
            return
        chosen = named if len(named) == 1 else cands if len(cands) == 1 and own_level else []
        ambiguous = not chosen
        if ambiguous:  # several comparisons of the same attribute: the closest current value is the best guess
            def distance(c: tuple[str, str]) -> Decimal:
                cur = _value_at(self.rs.parameters[c[0]], eff.date or dt.date.max)
                if cur is None or cur.value is None:
                    return Decimal("Infinity")
                return abs(cur.value.value - value)
            chosen = [min(cands, key=distance)]
        pname, rules_cmp = chosen[0]
        param = self.rs.parameters[pname]
        unit = UNIT_MAP.get(str(t.get("unit")), str(t.get("unit")))
        conf = min(float(t.get("confidence", 0.8)), eff.confidence) * (0.6 if ambiguous else 1.0)
        prov = _prov(self.doc, t, instruction=instruction, effective=eff.how)
        if unit != param.unit:
            self.add("note", {"op": "note"}, f"{eccn}: the text's unit '{clean(t.get('unit'), 30)}' is not the "
                     f"unit of parameter {pname} ({param.unit}); review by hand", 0.3, prov, low=True)
            return
        if rules_cmp != t["comparator"]:
            self.add("note", {"op": "note"}, f"{eccn}: the text says {attribute} {t['comparator']} {value}, the "
                     f"rules compare {attribute} {rules_cmp} {pname}; check the comparator", 0.5, prov, low=True)
        if eff.date is None:
            self.add("note", {"op": "note"}, f"{eccn}: {pname} would become {value} but the document states no "
                     "effective date; add the value by hand once it is known", 0.3, prov, low=True)
            return
        cur = _value_at(param, eff.date)
        if cur is not None and cur.value is not None and cur.value.value == value:
            return  # already what the rules say
        docs = [self.doc]
        replace = False
        if self.corrects and cur is not None and cur.start == eff.date and cur.cite and self.corrects in cur.cite.docs:
            docs = [self.corrects, self.doc]
            replace = True
        old = "none" if cur is None or cur.value is None else format(cur.value.value, "f")
        op = {"op": "set_parameter_value", "parameter": pname, "start": eff.date.isoformat(),
              "value": format(value, "f"), "replace": replace,
              "cite": {"docs": docs, "at": f"ECCN {eccn}", "confidence": _conf_word(conf)}}
        verb = "corrected" if replace else "from " + eff.date.isoformat()
        self.add("set_parameter_value", op, f"{pname} ({eccn} {attribute} {rules_cmp}): {old} -> "
                 f"{format(value, 'f')} {unit}, {verb}" + (" (ambiguous match)" if ambiguous else ""),
                 conf, prov, low=ambiguous)

    def eccn_changes(self) -> None:
        thresholds: dict[str, list[dict[str, Any]]] = {}
        for t in self.ex.get("thresholds") or []:
            if isinstance(t.get("eccn"), str):
                thresholds.setdefault(t["eccn"], []).append(t)
        seen: set[tuple[str, str]] = set()
        for c in self.ex.get("eccn_changes") or []:
            eccn, action = str(c.get("eccn", "")), str(c.get("action", ""))
            if not _ECCN.match(eccn) or (eccn, action) in seen:
                continue
            seen.add((eccn, action))
            instruction = str(c["instruction"]) if c.get("instruction") else None
            eff = self._start(instruction)
            prov = _prov(self.doc, c, effective=eff.how)
            known = [k for k in self.rs.controls if k.eccn == eccn or k.eccn.startswith(eccn + ".")]
            if action == "removed":
                self._removed(eccn, known, eff, prov, float(c.get("confidence", 0.8)))
            elif not known and (action == "added"
                                or not any(eccn.startswith(k.eccn + ".") for k in self.rs.controls)):
                own = {k: v for k, v in thresholds.items() if k == eccn or k.startswith(eccn + ".")}
                self._skeleton(eccn, action, own, eff, prov)
            elif action == "revised" or known:
                self.add("note", {"op": "note"}, f"{eccn} {action} by instruction {instruction or '?'}: read the "
                         "new text against the control (thresholds are proposed separately)",
                         float(c.get("confidence", 0.8)), prov)

    def _removed(self, eccn: str, known: list[A.ControlDecl], eff: _Effective, prov: dict[str, Any],
                 conf: float) -> None:
        if eff.date is None:
            self.add("note", {"op": "note"}, f"{eccn} removed, but no effective date is stated; end the control "
                     "by hand", 0.3, prov, low=True)
            return
        last = eff.date - dt.timedelta(days=1)
        for k in known:
            if k.effective is not None and k.effective.end is not None and k.effective.end <= last:
                continue
            start = k.effective.start if k.effective else None
            op = {"op": "end_control", "eccn": k.eccn, "start": start.isoformat() if start else None,
                  "through": last.isoformat(), "cite": {"docs": [self.doc], "confidence": _conf_word(conf)}}
            self.add("end_control", op, f"{k.eccn} (from {start or 'the beginning'}) ends {last}: removed "
                     f"from {eff.date}", min(conf, eff.confidence), prov)

    def _skeleton(self, eccn: str, action: str, thresholds: dict[str, list[dict[str, Any]]], eff: _Effective,
                  prov: dict[str, Any]) -> None:
        if eff.date is None:
            self.add("note", {"op": "note"}, f"{eccn} {action}, unknown to the rules, no effective date stated; "
                     "write the control by hand", 0.3, prov, low=True)
            return
        params: list[dict[str, Any]] = []
        compares: list[dict[str, str]] = []
        kinds: set[str] | None = None
        for sub, facts in sorted(thresholds.items()):
            for t in facts:
                attr = str(t.get("parameter") or "")
                a = self.rs.attributes.get(attr)
                value = _decimal(t)
                unit = UNIT_MAP.get(str(t.get("unit")), "")
                if a is None or value is None or unit != a.unit or unit not in self.rs.units:
                    continue
                name = _slug(sub, attr) + ("_max" if t["comparator"] in ("<", "<=") else "")
                if name in self.rs.parameters or any(p["name"] == name for p in params):
                    continue
                params.append({"name": name, "unit": unit, "value": format(value, "f"),
                               "description": f"{sub}: {attr} (proposed from {self.doc})"})
                compares.append({"attribute": attr, "op": str(t["comparator"]), "parameter": name})
                kinds = set(a.kinds) if kinds is None else kinds & set(a.kinds)
        if not kinds:
            kinds = {_guess_kind(self.rs, eccn)}
        op = {"op": "add_control", "eccn": eccn, "title": f"{eccn} ({action} by {self.doc}; proposed skeleton)",
              "applies_to": sorted(kinds), "start": eff.date.isoformat(),
              "through": eff.end.isoformat() if eff.end else None, "parameters": params, "all_of": compares,
              "cite": {"docs": [self.doc], "confidence": "low",
                       "unresolved": "skeleton proposed from the text: check the condition (and/or), the kinds, "
                                     "license requirements and exceptions"}}
        what = (" with " + " and ".join(f"{c['attribute']} {c['op']} {p['value']}" for c, p in zip(compares, params,
                                                                                                  strict=True))
                if compares else " (condition 'false' until written)")
        self.add("add_control", op, f"new control {eccn} from {eff.date}{what}", 0.4, prov, low=True)

    def exceptions(self) -> None:
        seen: set[str] = set()
        for x in self.ex.get("license_exceptions") or []:
            code, action = str(x.get("code", "")), str(x.get("action", ""))
            if not _CODE.match(code) or code in seen:
                continue
            seen.add(code)
            eff = effective_for(self.dates, None)
            prov = _prov(self.doc, x, effective=eff.how)
            conf = min(float(x.get("confidence", 0.85)), eff.confidence)
            have = self.rs.exceptions.get(code)
            section = x.get("section") if isinstance(x.get("section"), str) and re.fullmatch(
                r"\d{3}\.\d+", x["section"]) else None
            if action == "added" and have is None:
                if eff.date is None:
                    self.add("note", {"op": "note"}, f"License Exception {code} added; no effective date stated",
                             0.3, prov, low=True)
                    continue
                op = {"op": "add_exception", "code": code, "section": section, "start": eff.date.isoformat(),
                      "cite": {"docs": [self.doc]}}
                self.add("add_exception", op, f"License Exception {code}" + (f" ({section})" if section else "")
                         + f" from {eff.date}", conf, prov)
            elif action == "removed" and have is not None:
                if eff.date is None:
                    continue
                last = eff.date - dt.timedelta(days=1)
                if have.effective is not None and have.effective.end is not None and have.effective.end <= last:
                    continue
                op = {"op": "end_exception", "code": code, "through": last.isoformat(),
                      "cite": {"docs": [self.doc]}}
                self.add("end_exception", op, f"License Exception {code} ends {last}", conf, prov)
            elif action == "revised" and have is not None:
                self.add("note", {"op": "note"}, f"License Exception {code} revised: read the new text", conf, prov)


    # -- country groups ---------------------------------------------------------------------------------
    def country_groups(self) -> None:
        """Dated membership edits: a country added to a group it is not in, removed from one it is in, on the
        day the change takes effect. A restated list (every member of a group) also removes the members it
        omits; a restated table entry states each group of its country, changed or not."""
        by_group: dict[str, list[dict[str, Any]]] = {}
        for c in self.ex.get("country_group_changes") or []:
            if not isinstance(c, dict):
                continue
            group, country, action = str(c.get("group", "")), str(c.get("country", "")), c.get("action")
            if _GROUP_NAME.match(group) and _COUNTRY.match(country) and is_country(country) \
                    and action in ("added", "removed"):
                by_group.setdefault(group, []).append(c)
        for group, changes in by_group.items():
            first = changes[0]
            eff = self._start(str(first["instruction"]) if first.get("instruction") else None)
            prov = _prov(self.doc, first, effective=eff.how)
            conf = min(min(float(c.get("confidence", 0.85)) for c in changes), eff.confidence or 0.85)
            if group not in self.rs.groups:
                self.add("note", {"op": "note"}, f"country group {group} is not in the rules: "
                         f"{len(changes)} membership change(s) not proposed", conf, prov, low=True)
                continue
            if eff.date is None:
                self.add("note", {"op": "note"}, f"country group {group} changes; no effective date stated", 0.3,
                         prov, low=True)
                continue
            members = self.rs.group_members(group, eff.date)  # (an edit already in the rules shows here)
            added = sorted({c["country"] for c in changes if c["action"] == "added"} - members)
            removed = {c["country"] for c in changes if c["action"] == "removed"} & members
            listed = [c for c in changes if c.get("restated") == "list"]
            if listed and len(listed) == len(changes):  # the complete list: who is no longer on it
                removed |= members - {c["country"] for c in listed}
            for op_name, countries, verb in (("add", added, "adds"), ("remove", sorted(removed), "removes")):
                if not countries:
                    continue
                op = {"op": "group_membership", "group": group, "action": op_name, "members": countries,
                      "start": eff.date.isoformat(), "cite": {"docs": [self.doc]}}
                self.add("group_membership", op, f"country group {group} {verb} {', '.join(countries)} "
                         f"from {eff.date}", conf, prov)


def _guess_kind(rs: Ruleset, eccn: str) -> str:
    """A placeholder kind from the ECCN's category and product group (3A: integrated circuits, 4A: computers,
    xD: software, 4E: technology such as model weights); the reviewer is told to check it."""
    cat, group = eccn[0], eccn[1]
    guess = {"A": {"3": "ic", "4": "computer"}.get(cat, "commodity"), "D": "software",
             "E": "model_weights" if cat == "4" else "software"}.get(group, "commodity")
    return guess if guess in rs.kinds else sorted(rs.kinds)[0] if rs.kinds else guess


def _conf_word(c: float) -> str | None:
    return None if c >= 0.85 else ("medium" if c >= LOW else "low")


EAR_PARTS = range(730, 775)  # 15 CFR 730-774: the Export Administration Regulations


def in_scope(rs: Ruleset, extraction: dict[str, Any]) -> bool:
    """Whether a document concerns the EAR: it amends 15 CFR 730-774, comes from BIS, changes an ECCN or a
    license exception, or is a document the rules already know (or correct). A daily issue also holds
    documents of other agencies (drawbridges, food additives): those are not proposed."""
    meta = extraction.get("document") or {}
    parts = [p for p in meta.get("cfr_parts") or [] if isinstance(p, int)]
    agency = f"{meta.get('agency') or ''} {meta.get('subagency') or ''}".lower()
    return bool(any(p in EAR_PARTS for p in parts) or "industry and security" in agency
                or extraction.get("eccn_changes") or extraction.get("license_exceptions")
                or meta.get("document_number") in rs.documents or meta.get("corrects") in rs.documents)


def propose(rs: Ruleset, extraction: dict[str, Any]) -> tuple[str, list[Item]]:
    """The document number and the items one extraction result proposes against ``rs`` (may be empty:
    everything it says is already in the rules)."""
    if not isinstance(extraction, dict):
        raise ProposalError("extraction result is not a JSON object")
    b = _Builder(rs, extraction)
    b.document()
    b.thresholds()
    b.eccn_changes()
    b.exceptions()
    b.country_groups()
    if not any(i.kind != "note" for i in b.items) and b.doc in rs.documents:
        # a known document with nothing new to edit: notes alone do not make a proposal
        return b.doc, []
    return b.doc, b.items


# ---------------------------------------------------------------------------------------------------------
# applying


class ApplyError(ValueError):
    """An item no longer fits the rules (they changed since it was proposed)."""


def _cite(d: dict[str, Any] | None) -> A.Cite | None:
    if not d:
        return None
    return A.Cite(docs=list(d["docs"]), at=d.get("at"), confidence=d.get("confidence"),
                  unresolved=d.get("unresolved"))


def _file_with(rs: Ruleset, cls: type, fallback_last: bool = True) -> A.RulesFile:
    for _name, rf in rs.files:
        if any(isinstance(d, cls) for d in rf.decls):
            return rf
    return rs.files[-1][1] if fallback_last else rs.files[0][1]


def _insert_after_last(rf: A.RulesFile, cls: type, decl: Any, pred: Any = None) -> None:
    idx = -1
    for i, d in enumerate(rf.decls):
        if isinstance(d, cls) and (pred is None or pred(d)):
            idx = i
    if idx < 0 and pred is not None:
        for i, d in enumerate(rf.decls):
            if isinstance(d, cls):
                idx = i
    rf.decls.insert(idx + 1 if idx >= 0 else len(rf.decls), decl)


def _find_doc(rs: Ruleset, doc_id: str) -> A.DocumentDecl | None:
    for _n, rf in rs.files:
        for d in rf.decls:
            if isinstance(d, A.DocumentDecl) and d.id == doc_id:
                return d
    return None


def _because(it: Item, what: str) -> str:
    """A trailing comment that keeps an edit's source in the rules text itself."""
    p = it.provenance
    where = f" instruction {p['instruction']}" if p.get("instruction") else ""
    return clean(f"{what}: {p.get('document', '?')}{where}", 200)


def _corrected(rs: Ruleset, op: dict[str, Any]) -> str | None:
    """The declared document a correction corrects, by number or by citation."""
    if op.get("corrects") and _find_doc(rs, op["corrects"]):
        return str(op["corrects"])
    cit = op.get("corrects_citation")
    found = next((d.id for _n, rf in rs.files for d in rf.decls
                  if cit and isinstance(d, A.DocumentDecl) and d.citation == cit), None)
    return found


def _apply_one(rs: Ruleset, it: Item) -> None:
    op = it.op
    kind = op["op"]
    if kind == "note":
        return
    if kind == "add_document":
        if _find_doc(rs, op["id"]) is not None:
            raise ApplyError(f"document {op['id']} is already declared")
        decl = A.DocumentDecl(
            id=op["id"], kind=op["kind"], citation=op.get("citation"),
            published=_date(op.get("published")), title=op.get("title"), action=op.get("action"),
            rin=list(op.get("rin") or []), docket=op.get("docket"),
            corrects=_corrected(rs, op),
            dates=[A.DocDate(kind=d["kind"], date=dt.date.fromisoformat(d["date"]), end=_date(d.get("end")),
                             scope=d.get("scope")) for d in op.get("dates") or []])
        _insert_after_last(_file_with(rs, A.DocumentDecl), A.DocumentDecl, decl)
    elif kind == "add_document_date":
        doc = _find_doc(rs, op["document"])
        if doc is None:
            raise ApplyError(f"document {op['document']} is not declared")
        dd = A.DocDate(kind=op["kind"], date=dt.date.fromisoformat(op["date"]), end=_date(op.get("end")),
                       scope=op.get("scope"))
        if any((x.kind, x.date, x.end) == (dd.kind, dd.date, dd.end) for x in doc.dates):
            raise ApplyError(f"{op['document']} already states {dd.kind} {dd.date}")
        doc.dates.append(dd)
    elif kind == "set_parameter_value":
        param = next((d for _n, rf in rs.files for d in rf.decls
                      if isinstance(d, A.ParameterDecl) and d.name == op["parameter"]), None)
        if param is None:
            raise ApplyError(f"parameter {op['parameter']} no longer exists")
        start = dt.date.fromisoformat(op["start"])
        pv = A.ParamValue(start=start, value=A.Number(value=Decimal(op["value"]),
                                                      notation=_notation(Decimal(op["value"]))),
                          cite=_cite(op.get("cite")))
        same = [i for i, v in enumerate(param.values) if v.start == start]
        if same and not op.get("replace"):
            raise ApplyError(f"parameter {op['parameter']} already has a value from {start}")
        if same:
            pv.trailing_comment = _because(it, "corrected by")
            param.values[same[0]] = pv
        else:
            param.values.append(pv)
            param.values.sort(key=lambda v: v.start)
    elif kind == "end_control":
        found = False
        for _n, rf in rs.files:
            for d in rf.decls:
                if isinstance(d, A.ControlDecl) and d.eccn == op["eccn"] and (
                        (d.effective.start.isoformat() if d.effective and d.effective.start else None)
                        == op.get("start")):
                    found = True
                    through = dt.date.fromisoformat(op["through"])
                    if d.effective is None:
                        d.effective = A.Dated(start=None, end=through, cite=_cite(op.get("cite")))
                    else:
                        d.effective.end = through
                    d.effective.trailing_comment = _because(it, "removed by")
        if not found:
            raise ApplyError(f"control {op['eccn']} (from {op.get('start')}) no longer exists")
    elif kind == "add_exception":
        if any(isinstance(d, A.ExceptionDecl) and d.code == op["code"] for _n, rf in rs.files for d in rf.decls):
            raise ApplyError(f"License Exception {op['code']} is already declared")
        xdecl = A.ExceptionDecl(code=op["code"], section=op.get("section"),
                               effective=A.Dated(start=dt.date.fromisoformat(op["start"]), cite=_cite(op["cite"])))
        _insert_after_last(_file_with(rs, A.ExceptionDecl), A.ExceptionDecl, xdecl)
    elif kind == "end_exception":
        x = next((d for _n, rf in rs.files for d in rf.decls
                  if isinstance(d, A.ExceptionDecl) and d.code == op["code"]), None)
        if x is None:
            raise ApplyError(f"License Exception {op['code']} no longer exists")
        if x.effective is None:
            x.effective = A.Dated(end=dt.date.fromisoformat(op["through"]), cite=_cite(op.get("cite")))
        else:
            x.effective.end = dt.date.fromisoformat(op["through"])
        x.effective.trailing_comment = _because(it, "removed by")
    elif kind == "group_membership":
        g = next((d for _n, rf in rs.files for d in rf.decls if isinstance(d, A.GroupDecl) and d.name == op["group"]),
                 None)
        if g is None:
            raise ApplyError(f"country group {op['group']} no longer exists")
        start = dt.date.fromisoformat(op["start"])
        members = [str(m) for m in op["members"]]
        if any(m.op == op["action"] and m.start == start and sorted(m.members) == sorted(members)
               for m in g.members):
            raise ApplyError(f"country group {op['group']} already {op['action']}s {', '.join(members)} from {start}")
        g.members.append(A.Membership(op=op["action"], members=members, start=start, cite=_cite(op.get("cite"))))
    elif kind == "add_control":
        rf = _file_with(rs, A.ControlDecl)
        prf = _file_with(rs, A.ParameterDecl)
        cite = _cite(op["cite"])
        for p in op.get("parameters") or []:
            if any(isinstance(d, A.ParameterDecl) and d.name == p["name"] for _n, f in rs.files for d in f.decls):
                raise ApplyError(f"parameter {p['name']} already exists")
            v = Decimal(p["value"])
            _insert_after_last(prf, A.ParameterDecl, A.ParameterDecl(
                name=p["name"], unit=p["unit"], description=p.get("description"),
                values=[A.ParamValue(start=dt.date.fromisoformat(op["start"]),
                                     value=A.Number(value=v, notation=_notation(v)), cite=cite)]))
        items: list[A.Expr] = [A.Compare(op=c["op"], left=A.Ref(name=c["attribute"]),
                                         right=A.Ref(name=c["parameter"])) for c in op.get("all_of") or []]
        when: A.Expr = A.Truth(operand=A.Lit(value=False))
        if items:
            when = A.And(items=items) if len(items) > 1 else items[0]
        cdecl = A.ControlDecl(comments=[_because(it, "proposed skeleton from"), "Check the condition, the kinds, "
                                        "license requirements, policies and exceptions before relying on it."],
                              eccn=op["eccn"], title=op.get("title"), applies_to=list(op.get("applies_to") or []),
                             when=when, when_cite=cite,
                             effective=A.Dated(start=dt.date.fromisoformat(op["start"]), end=_date(op.get("through")),
                                               cite=A.Cite(docs=list(op["cite"]["docs"]))))
        base = op["eccn"].split(".")[0]
        _insert_after_last(rf, A.ControlDecl, cdecl, lambda d: d.eccn.split(".")[0] == base)
    else:
        raise ApplyError(f"unknown edit '{kind}'")


def _notation(v: Decimal) -> str:
    return "sci" if v >= Decimal(10) ** 12 and v == v.to_integral_value() else "plain"


def apply_items(rs: Ruleset, items: Sequence[Item]) -> Ruleset:
    """A new, validated ruleset: ``rs`` with the items' edits (``rs`` itself is not changed).

    Raises :class:`ApplyError` when an item no longer fits and :class:`~rulesdsl.errors.DslError` when the
    result does not validate."""
    work = Ruleset.from_bundle(rs.bundle_text(), "proposal", validate=False)
    for it in items:
        _apply_one(work, it)
    out = Ruleset.from_bundle(work.bundle_text(), "proposed rules")
    return out


def render_diff(before: str, after: str) -> str:
    """The DSL patch a reviewer reads: a unified diff of the canonical texts, one hunk per change."""
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        "rules (approved)", "rules (proposed)", n=2))
