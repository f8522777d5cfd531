"""JSON Schema (draft 2020-12) of the JSON diff report, ``regwatch-diff/1`` (docs/reports.md).

Written by hand next to :mod:`reports.model` (a test validates every golden report against it), so that
consumers can check what they receive: ``python -m reports.schema`` prints it.
"""

from __future__ import annotations

import json
from typing import Any

from .model import ACCESS_KINDS, CHANGE_KINDS, RECLASS_KINDS, SCHEMA

_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_DATE_OR_NULL = {"anyOf": [_DATE, {"type": "null"}]}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_EXACT = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description": "An exact decimal, never a float."}
_OUTCOME = {"enum": ["allow", "license_required", "deny"]}
_SOURCE = {
    "citation": {"type": "string", "description": "Human citation, e.g. 90 FR 4544 (FR Doc. 2025-00636), ECCN 4E091"},
    "quote": {"type": "string", "description": "The rules' cite clause, e.g. cite 2025-00636 at \"ECCN 4E091\""},
    "confidence": {"enum": ["high", "medium", "low", None]},
    "unresolved": _TEXT_OR_NULL,
}


def _obj(props: dict[str, Any], *, extra: bool = False) -> dict[str, Any]:
    return {"type": "object", "required": sorted(props), "properties": props, "additionalProperties": extra}


def diff_report_schema() -> dict[str, Any]:
    asset = _obj({"id": {"type": "string"}, "kind": {"type": "string"}, "name": _TEXT_OR_NULL, "path": _TEXT_OR_NULL,
                  "owner": _TEXT_OR_NULL, "model": _TEXT_OR_NULL})
    match = _obj({"eccn": {"type": "string"}, "title": _TEXT_OR_NULL,
                  "status": {"enum": ["in_force", "compliance_not_required", "suspended", "not_enforced"]},
                  "status_note": {"type": "string"}, "status_citation": _TEXT_OR_NULL, "effective": _DATE_OR_NULL,
                  "compliance": _DATE_OR_NULL, "condition": _TEXT_OR_NULL, "needs_review": {"type": "boolean"},
                  "missing_attributes": {"type": "array", "items": {"type": "string"}}, **_SOURCE})
    classification = _obj({"classification": {"type": "string", "description": "Firm ECCNs, or EAR99"},
                           "needs_review": {"type": "array", "items": {"type": "string"}},
                           "matches": {"type": "array", "items": {"$ref": "#/$defs/match"}}})
    rules = _obj({"label": {"type": "string"}, "version": {"type": "string"}, "seq": {"type": ["integer", "null"]},
                  "approved_at": _TEXT_OR_NULL, "approver": _TEXT_OR_NULL})
    side = _obj({"spec": {"type": "string"}, "valid_date": _DATE, "rules": rules})
    change = _obj({"axis": {"enum": ["valid", "knowledge"]}, "kind": {"enum": list(CHANGE_KINDS)},
                   "subject": {"type": "string"}, "date": _DATE_OR_NULL, "text": {"type": "string"},
                   "old": _TEXT_OR_NULL, "new": _TEXT_OR_NULL,
                   "details": {"type": "array", "items": {"type": "string"}},
                   "data": {"type": "object", "description": "Kind-specific: threshold old/new {comparator, value, "
                                                             "display, unit}, group added/removed, status old/new"},
                   **_SOURCE})
    reclassified = _obj({"asset": {"$ref": "#/$defs/asset"}, "kind": {"enum": list(RECLASS_KINDS)},
                         "old": {"$ref": "#/$defs/classification"}, "new": {"$ref": "#/$defs/classification"},
                         "changed_on": _DATE_OR_NULL, "cause": {"enum": ["valid", "knowledge", "both"]},
                         "evidence": {"type": "array", "items": {"type": "string"}},
                         "review": {"type": "array", "items": {"type": "string"}}})
    access = _obj({"person": {"type": "string"}, "person_name": _TEXT_OR_NULL,
                   "citizenships": {"type": "array", "items": {"type": "string"}},
                   "assets": {"type": "array", "items": {"$ref": "#/$defs/asset"}, "minItems": 1},
                   "action": {"type": "string"}, "old": _OUTCOME, "new": _OUTCOME,
                   "kind": {"enum": list(ACCESS_KINDS)}, "changed_on": _DATE_OR_NULL,
                   "reasons": {"type": "array",
                               "items": _obj({"text": {"type": "string"}, "citation": _TEXT_OR_NULL})}})
    near = _obj({"asset": {"$ref": "#/$defs/asset"}, "eccn": {"type": "string"}, "attribute": {"type": "string"},
                 "value": _EXACT, "low": _EXACT, "high": _EXACT, "comparator": {"type": "string"},
                 "threshold": _EXACT, "threshold_display": {"type": "string"}, "unit": {"type": "string"},
                 "parameter": {"type": "string"}, "controlled_at_point": {"type": ["boolean", "null"]},
                 "controlled_at_low": {"type": ["boolean", "null"]},
                 "controlled_at_high": {"type": ["boolean", "null"]},
                 "estimated": {"type": "boolean"}, **_SOURCE})
    upcoming = _obj({"date": _DATE, "kind": {"type": "string"}, "subject": {"type": "string"},
                     "text": {"type": "string"}, "assets": {"type": "integer", "minimum": 0}, **_SOURCE})
    counts = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1}}
    summary = _obj({"rule_changes": {"type": "integer"}, "rule_changes_by_kind": counts,
                    "assets_reclassified": {"type": "integer"}, "reclassified_by_kind": counts,
                    "access_changes": {"type": "integer"}, "access_by_kind": counts,
                    "people_affected": {"type": "integer"}, "near_threshold": {"type": "integer"},
                    "upcoming": {"type": "integer"},
                    "next_deadline": {"anyOf": [{"$ref": "#/$defs/upcoming"}, {"type": "null"}]},
                    "next_for_inventory": {"anyOf": [{"$ref": "#/$defs/upcoming"}, {"type": "null"}]}})
    inventory = {"anyOf": [_obj({"file": {"type": "string"}, "assets": {"type": "integer"},
                                 "people": {"type": "integer"}}), {"type": "null"}]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:regwatch:diff-report:1",
        "title": "regwatch diff report",
        "description": "What changed in the export-control rules between FROM and TO, and what it means for an "
                       "inventory (docs/reports.md).",
        **_obj({"schema": {"const": SCHEMA}, "generator": {"type": "string"},
                "axes": {"type": "array", "items": {"enum": ["knowledge", "valid"]}},
                "from": {"$ref": "#/$defs/side"}, "to": {"$ref": "#/$defs/side"}, "strict": {"type": "boolean"},
                "horizon_days": {"type": "integer", "minimum": 0},
                "actions": {"type": "array", "items": {"type": "string"}}, "inventory": inventory,
                "summary": summary, "rule_changes": {"type": "array", "items": {"$ref": "#/$defs/rule_change"}},
                "reclassified": {"type": "array", "items": {"$ref": "#/$defs/reclassification"}},
                "access_changes": {"type": "array", "items": {"$ref": "#/$defs/access_change"}},
                "near_threshold": {"type": "array", "items": {"$ref": "#/$defs/near_threshold"}},
                "upcoming": {"type": "array", "items": {"$ref": "#/$defs/upcoming"}}}),
        "$defs": {"asset": asset, "match": match, "classification": classification, "side": side,
                  "rule_change": change, "reclassification": reclassified, "access_change": access,
                  "near_threshold": near, "upcoming": upcoming},
    }


if __name__ == "__main__":  # python -m reports.schema
    print(json.dumps(diff_report_schema(), indent=2, sort_keys=True))
