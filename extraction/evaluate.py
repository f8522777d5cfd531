"""Precision / recall / F1 of extraction per field group over a corpus of documents with expected JSON.

A corpus is a folder of ``*.expected.json`` files, each ``{"input": "<path relative to the file>",
"publication_date": "YYYY-MM-DD" (optional), "expected": <the extract --json contract for that document>}``.
Facts are compared as sets of keys (quotes, locations and confidences are not scored):

* document: each non-null expected metadata field is one fact;
* dates: (kind, date, end_date); eccn_changes: (eccn, action); thresholds: (eccn, parameter, comparator,
  exact value, unit); license_exceptions: (code, action); country_group_changes: (group, country, action).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .document import ExtractError, extract_path

GROUPS = ("document", "dates", "eccn_changes", "thresholds", "license_exceptions", "country_group_changes")
DOC_FIELDS = ("document_number", "citation", "publication_date", "type", "action", "title", "rin", "agency_docket",
              "cfr_parts", "corrects")


def _num(v: Any) -> str:
    try:
        return format(Decimal(str(v)).normalize(), "f")
    except Exception:
        return str(v)


def facts(result: dict[str, Any]) -> dict[str, set[tuple[Any, ...]]]:
    doc = result.get("document") or {}
    out: dict[str, set[tuple[Any, ...]]] = {g: set() for g in GROUPS}
    for f in DOC_FIELDS:
        v = doc.get(f)
        if v not in (None, [], ""):
            out["document"].add((f, json.dumps(v, sort_keys=True)))
    out["dates"] = {(d["kind"], d["date"], d.get("end_date")) for d in result.get("dates", [])}
    out["eccn_changes"] = {(c["eccn"], c["action"]) for c in result.get("eccn_changes", [])}
    out["thresholds"] = {(t.get("eccn"), t["parameter"], t["comparator"], _num(t.get("value_exact", t["value"])),
                          t["unit"]) for t in result.get("thresholds", [])}
    out["license_exceptions"] = {(x["code"], x["action"]) for x in result.get("license_exceptions", [])}
    out["country_group_changes"] = {(c["group"], c["country"], c["action"])
                                    for c in result.get("country_group_changes", [])}
    return out


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4), "misses": self.misses,
                "extras": self.extras}


def evaluate(corpus: Path) -> dict[str, Any]:
    scores = {g: Score() for g in GROUPS}
    documents = 0
    errors: list[str] = []
    for spec_path in sorted(corpus.glob("*.expected.json")):
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        source = (spec_path.parent / spec["input"]).resolve()
        pub = dt.date.fromisoformat(spec["publication_date"]) if spec.get("publication_date") else None
        try:
            results = extract_path(source, pub)
        except ExtractError as exc:
            errors.append(str(exc))
            continue
        got = results[0].to_json() if results else {}
        want = spec["expected"]
        documents += 1
        g_facts, w_facts = facts(got), facts(want)
        for g in GROUPS:
            s = scores[g]
            hit = g_facts[g] & w_facts[g]
            s.tp += len(hit)
            s.fp += len(g_facts[g] - w_facts[g])
            s.fn += len(w_facts[g] - g_facts[g])
            s.misses += [f"{spec_path.name}: {x}" for x in sorted(w_facts[g] - g_facts[g], key=str)]
            s.extras += [f"{spec_path.name}: {x}" for x in sorted(g_facts[g] - w_facts[g], key=str)]
    return {"corpus": str(corpus), "documents": documents, "errors": errors,
            "groups": {g: s.to_json() for g, s in scores.items()}}
