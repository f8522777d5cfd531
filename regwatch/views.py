"""Text and JSON renderings for the CLI (kept apart from the commands so tests can call them directly)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rulesdsl.formatter import fmt_dest, fmt_expr
from rulesdsl.ruleset import Ruleset
from rulesdsl.semantics import control_status, status_at, status_events
from rulesdsl.timeline import Timeline

STATUS_TEXT = {
    "in_force": "in force",
    "compliance_not_required": "compliance not yet required",
    "suspended": "suspended",
    "not_enforced": "not enforced (announced)",
    "not_in_effect": "not in effect",
}


def timeline_text(rs: Ruleset, tl: Timeline, at: dt.date, label: str) -> str:
    lines = [f"{tl.name}  {tl.title or ''}".rstrip(), f"  rules: {label}", ""]
    for st in tl.status_on(rs, at):
        if "status" in st:
            who = st.get("eccn") or st.get("document") or st.get("exception")
            note = st.get("note")
            lines.append(f"  on {at}: {who} {STATUS_TEXT.get(str(st['status']), st['status'])}"
                         + (f" ({note})" if note and note != "in force" else "")
                         + (f"  [{st['citation']}]" if st.get("citation") else ""))
        elif "members" in st:
            members = st["members"]
            assert isinstance(members, list)
            lines.append(f"  on {at}: {len(members)} members: {', '.join(members)}")
        elif "value" in st:
            lines.append(f"  on {at}: {st['value'] if st['value'] is not None else 'no value'}"
                         + (f"  [{st['citation']}]" if st.get("citation") else ""))
    lines.append("")
    lines.append("  timeline:")
    for e in tl.events:
        date = e.date.isoformat() if e.date else "(baseline)"
        span = f"..{e.end_date}" if e.end_date else ""
        lines.append(f"    {date}{span:<12}  {e.text}")
        extra = [e.citation] if e.citation else []
        if e.confidence and e.confidence != "high":
            extra.append(f"confidence {e.confidence}")
        if extra:
            lines.append(f"    {'':22}  [{'; '.join(extra)}]")
        if e.unresolved:
            lines.append(f"    {'':22}  UNRESOLVED: {e.unresolved}")
    if tl.thresholds:
        lines.append("")
        lines.append("  thresholds (exact):")
        for t in tl.thresholds:
            until = f" until {t.end}" if t.end else ""
            lines.append(f"    {t.eccn}: {t.attribute} {t.comparator} {t.notation} {t.unit}  (= {t.value}; "
                         f"{t.parameter}, from {t.start}{until})")
            if t.unresolved:
                lines.append(f"      UNRESOLVED: {t.unresolved}")
    return "\n".join(lines)


def classify_report(rs: Ruleset, inv: Any, at: dt.date, label: str, strict: bool) -> dict[str, object]:
    assets = []
    controlled: list[str] = []
    review: list[str] = []
    for a in inv.assets:
        c = rs.classify(a, at)
        j = c.to_json()
        j["name"] = a.name
        j["path"] = a.path
        assets.append(j)
        if c.controlled:
            controlled.append(a.id)
        if c.needs_review:
            review.append(a.id)
    people = []
    for p in inv.people:
        needs: list[dict[str, object]] = []
        for a in inv.assets:
            if a.id not in controlled and a.id not in review:
                continue
            d = rs.decide(p, "read", a, at, strict=strict)
            if d.outcome != "allow":
                needs.append({"asset": a.id, "outcome": d.outcome,
                              "reasons": [r.text for r in d.reasons if r.code in ("license_required", "denied")]})
        people.append({"person": p.id, "citizenships": list(p.citizenships), "us_person": p.us_person,
                       "permanent_resident": p.permanent_resident, "read_access_needing_action": needs})
    return {
        "as_of": at.isoformat(), "ruleset": label, "strict": strict, "assets": assets, "people": people,
        "summary": {"assets": len(assets), "controlled": len(controlled), "needs_review": len(review),
                    "people": len(people), "people_needing_action": sum(1 for p in people
                                                                       if p["read_access_needing_action"])},
    }


def classify_text(report: dict[str, Any]) -> str:
    lines = [f"Classification on {report['as_of']} ({report['ruleset']})", ""]
    rows = [("ASSET", "KIND", "CLASSIFICATION", "STATUS", "EFFECTIVE", "COMPLIANCE", "SOURCE")]
    for a in report["assets"]:
        if not a["matches"]:
            rows.append((a["asset"], a["kind"], "EAR99", "-", "-", "-", "-"))
        for m in a["matches"]:
            cls = m["eccn"] + (" (needs review)" if m["needs_review"] else "")
            rows.append((a["asset"], a["kind"], cls, STATUS_TEXT.get(m["status"], m["status"]),
                         m["effective"] or "-", m["compliance"] or "-", m["citation"]))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + str(r[-1]))
    for a in report["assets"]:
        for m in a["matches"]:
            if m["needs_review"]:
                lines.append(f"  ! {a['asset']}: {m['eccn']} needs review: missing "
                             f"{', '.join(m['missing_attributes'])}")
    if report["people"]:
        lines.append("")
        lines.append(f"People (read access to controlled assets{', strict' if report['strict'] else ''}):")
        for p in report["people"]:
            needs = p["read_access_needing_action"]
            who = f"{p['person']} ({', '.join(p['citizenships']) or '-'}"
            who += ", U.S. person)" if p["us_person"] else (", permanent resident)" if p["permanent_resident"] else ")")
            if not needs:
                lines.append(f"  {who}: no action needed")
            for n in needs:
                lines.append(f"  {who}: {n['asset']}: {n['outcome'].replace('_', ' ')}")
    s = report["summary"]
    lines.append("")
    lines.append(f"{s['assets']} assets: {s['controlled']} controlled, {s['needs_review']} need review; "
                 f"{s['people_needing_action']} of {s['people']} people need a license or are denied")
    return "\n".join(lines)


def view_json(rs: Ruleset, at: dt.date, label: str) -> dict[str, object]:
    view = rs.as_of(at)
    controls = []
    for c in view.controls():
        st = control_status(rs, c, at)
        lic = []
        for lr in c.licenses:
            if (lr.start is not None and lr.start > at) or (lr.end is not None and lr.end < at):
                continue
            lst = status_at(rs, status_events(rs, [], lr.cite), None, at)
            lic.append({"to": fmt_dest(lr.dest), "status": lst.status, "citation": rs.citation(lr.cite)})
        controls.append({
            "eccn": c.eccn, "title": c.title, "status": st.status, "status_note": st.note,
            "applies_to": c.applies_to, "when": fmt_expr(c.when) if c.when else None,
            "effective": c.effective.start.isoformat() if c.effective and c.effective.start else None,
            "compliance": c.compliance.start.isoformat() if c.compliance and c.compliance.start else None,
            "citation": rs.citation(c.effective.cite if c.effective else None), "license_requirements": lic,
        })
    return {"as_of": at.isoformat(), "ruleset": label, "controls": controls,
            "parameters": {k: str(v) for k, v in view.parameters().items()}, "groups": view.groups()}


def view_text(rs: Ruleset, at: dt.date, label: str) -> str:
    j = view_json(rs, at, label)
    lines = [f"Controls in effect on {at} ({label})", ""]
    controls = j["controls"]
    assert isinstance(controls, list)
    for c in controls:
        lines.append(f"  {c['eccn']:<9} {STATUS_TEXT.get(c['status'], c['status']):<28} {c['title'] or ''}")
        lines.append(f"  {'':9} applies to {', '.join(c['applies_to'])} when {c['when']}")
        for lr in c["license_requirements"]:
            flag = "" if lr["status"] == "in_force" else f" ({STATUS_TEXT.get(lr['status'], lr['status'])})"
            lines.append(f"  {'':9} license required to {lr['to']}{flag}  [{lr['citation']}]")
    params = j["parameters"]
    assert isinstance(params, dict)
    lines.append("")
    lines.append(f"  {len(controls)} controls, {len(params)} parameters with a value on {at}")
    return "\n".join(lines)
