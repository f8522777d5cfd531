"""Git hooks: a pre-commit hook repository and a server-side ``pre-receive`` hook that block controlled files.

The hooks must run where regwatch is not installed (a developer laptop, a git server), so the bundle is one
plain Python 3 script (standard library only, no network), the same for every rules version, plus a
generated JSON policy that carries all the meaning:

* the classification hints of each slice (glob, equivalent anchored regex, scope, marker flag), so the
  script's ``classify_paths`` is a line-by-line copy of :func:`compiler.evaluate.ir_classify_paths`;
* what each hinted asset kind is when nothing else is known about the file (``kinds``: the reference
  :func:`compiler.evaluate.ir_classify` of an asset of that kind without attributes, so ``model_weights`` is
  "4E091, needs review");
* explicit per-path classifications of the inventory's file assets (weights, checkpoints, training configs
  with their model's attributes), again from ``ir_classify``: a file of a model below the threshold is
  EAR99, a shard of a frontier model is 4E091;
* the controls those refer to (ECCN, citation, status, source location) and the content marker
  (``EXPORT-CONTROLLED:`` ... ``ECCN`` ...) by which a file declares its own ECCN;
* clearance grants (which repositories, refs and pushers may hold which ECCNs), from the inventory's
  ``repositories`` rows.

The script never re-derives a classification from the rules: it only reads what the reference evaluator
computed at compile time, which is what makes the differential test meaningful. The hooks enforce
*classification*, not licensing: a control whose status is not binding on the day (e.g. 4E091 under the
May 2025 non-enforcement announcement) still marks the file, and the message says so.

``--as-of``: one slice, used whatever the day. ``--timeline``: every slice; the script picks the one holding
``REGWATCH_HOOK_DATE`` or today (the commit or push day).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from compiler.evaluate import Match, ir_classify
from compiler.ir import IR, Diagnostic

from .base import Bundle, CompileUnit, TargetError
from .render import render

NAME = "githooks"
DESCRIPTION = "pre-commit hook repository and pre-receive hook that block controlled files (weights, checkpoints)"

POLICY_SCHEMA = "regwatch-githooks-policy/1"
CLEARANCE_SCHEMA = "regwatch-githooks-clearance/1"
# How a file declares its own ECCN (e.g. a header comment). Python ``re``, searched in the first
# CONTENT_SCAN_BYTES bytes of the file, decoded as latin-1 (so any bytes are text and ASCII stays ASCII).
CONTENT_MARKER = r"EXPORT-CONTROLLED:\s*ECCN\s+(?P<eccn>[0-9][A-E][0-9]{3}(?:\.[A-Za-z0-9]+)*)"
CONTENT_SCAN_BYTES = 4 * 1024 * 1024
LOCAL_DIR = ".export-control"  # where the `repo: local` form keeps the guard and its policy
REPO_URL = "https://git.example.internal/compliance/export-control-hooks"  # placeholder in the remote form
_ECCN = re.compile(r"^[0-9][A-E][0-9]{3}(?:\.[A-Za-z0-9]+)*$")
_GRANT_ATTRIBUTES = ("cleared_eccns", "cleared_refs", "cleared_pushers")

# Bundle path -> template. The bundle root is itself the pre-commit hook repository.
FILES: dict[str, str] = {
    ".pre-commit-hooks.yaml": "pre-commit-hooks.yaml.j2",
    "export_control_guard.py": "export_control_guard.py.j2",
    "pre-receive": "pre-receive.j2",
    "pre-commit-config.remote.yaml": "pre-commit-config.remote.yaml.j2",
    "pre-commit-config.local.yaml": "pre-commit-config.local.yaml.j2",
    "README.md": "README.md.j2",
}


@dataclass(frozen=True)
class _Probe:
    """A file known only by its asset kind (what a hint tells): no attributes."""

    kind: str
    id: str = "(file)"
    attributes: Mapping[str, Any] = field(default_factory=dict)


def norm_path(path: str) -> str:
    """Repository paths as the hint semantics see them (``compiler.evaluate._norm``)."""
    p = path.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p.lstrip("/")


def _finding(m: Match) -> dict[str, Any]:
    return {"control": m.control.id, "certain": m.certain, "missing": list(m.missing)}


def _controls(ir: IR) -> dict[str, dict[str, Any]]:
    return {c.id: {"eccn": c.eccn, "title": c.title, "citation": c.citation.text, "status": c.status,
                   "status_note": c.status_note, "binding": c.binding, "source": c.source}
            for c in ir.controls}


def _kinds(ir: IR, diags: list[Diagnostic]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for h in ir.hints:
        if h.asset_kind in out:
            continue
        matches = ir_classify(ir, _Probe(h.asset_kind)).matches
        out[h.asset_kind] = [_finding(m) for m in matches]
        for m in matches:
            if not m.certain:
                diags.append(Diagnostic(
                    level="warn", code="hint-needs-review", rule=f"control {m.control.id}",
                    location=m.control.source,
                    message=f"{h.asset_kind} files that are not in the inventory are 'needs review' for "
                            f"{m.eccn} (unknown: {', '.join(m.missing)}) and are blocked unless cleared; list "
                            "them in the inventory (--assets) to classify them exactly"))
    return out


def _paths(ir: IR, inventory: Any, diags: list[Diagnostic]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if inventory is None:
        return out
    for a in inventory.assets:
        if not a.path or a.kind == "repository":
            continue
        p = norm_path(a.path)
        if not p:
            diags.append(Diagnostic(level="warn", code="empty-path", rule=f"asset {a.id}",
                                    message=f"path {a.path!r} names no file; ignored"))
            continue
        cls = ir_classify(ir, a)
        found = [_finding(m) for m in cls.matches]
        if p in out:
            prev = out[p]
            diags.append(Diagnostic(level="warn", code="duplicate-path", rule=f"asset {a.id}",
                                    message=f"asset {prev['asset']} has the same path; their ECCNs are merged"))
            prev["asset"] += ", " + a.id
            prev["findings"] += [f for f in found if f not in prev["findings"]]
            continue
        out[p] = {"asset": a.id, "kind": a.kind, "model": a.model, "findings": found}
    return out


def _words(asset_id: str, name: str, value: object) -> list[str]:
    if not isinstance(value, str):
        raise TargetError(f"inventory repository {asset_id!r}: {name} must be text (space- or comma-separated), "
                          f"got {value!r}")
    return [w for w in re.split(r"[\s,]+", value) if w]


def grants(inventory: Any) -> list[dict[str, Any]]:
    """Clearance grants from the inventory's ``repository`` rows (docs/compiler.md, "Git hooks"):
    ``cleared_eccns`` (ECCNs, dotted prefixes or ``*``), optional ``cleared_refs`` (branch globs, or full
    ``refs/...`` globs) and ``cleared_pushers`` (identities); the row's ``id`` and ``path`` name the
    repository. A row without ``cleared_eccns`` clears nothing."""
    out: list[dict[str, Any]] = []
    if inventory is None:
        return out
    for a in inventory.assets:
        if a.kind != "repository":
            continue
        attrs = a.attributes
        if "cleared_eccns" not in attrs:
            if any(k in attrs for k in _GRANT_ATTRIBUTES):
                raise TargetError(f"inventory repository {a.id!r}: cleared_refs/cleared_pushers without "
                                  "cleared_eccns clear nothing; add cleared_eccns")
            continue
        eccns = _words(a.id, "cleared_eccns", attrs["cleared_eccns"])
        for e in eccns:
            if e != "*" and not _ECCN.match(e):
                raise TargetError(f"inventory repository {a.id!r}: cleared_eccns: {e!r} is not an ECCN "
                                  "(e.g. 4E091, 3A090.a) or '*'")
        refs = _words(a.id, "cleared_refs", attrs["cleared_refs"]) if "cleared_refs" in attrs else None
        pushers = _words(a.id, "cleared_pushers", attrs["cleared_pushers"]) if "cleared_pushers" in attrs else None
        names = [a.id] + ([a.path] if a.path and a.path != a.id else [])
        out.append({"id": a.id, "repositories": names, "eccns": sorted(set(eccns)), "refs": refs,
                    "pushers": pushers})
    return out


def _slice(ir: IR, inventory: Any, diags: list[Diagnostic]) -> dict[str, Any]:
    return {"valid_from": ir.valid_from.isoformat() if ir.valid_from else None,
            "valid_through": ir.valid_through.isoformat() if ir.valid_through else None,
            "hints": [h.model_dump(mode="json") for h in ir.hints],
            "kinds": _kinds(ir, diags), "controls": _controls(ir), "paths": _paths(ir, inventory, diags)}


def policy(unit: CompileUnit, diags: list[Diagnostic]) -> dict[str, Any]:
    inventory = unit.options.get("inventory")
    return {"schema": POLICY_SCHEMA, "generator": "regwatch compile --target githooks",
            "rules_version": unit.rules_version, "mode": unit.mode,
            "as_of": unit.as_of.isoformat() if unit.as_of else None,
            "content_marker": {"regex": CONTENT_MARKER, "max_bytes": CONTENT_SCAN_BYTES},
            "grants": grants(inventory), "slices": [_slice(ir, inventory, diags) for ir in unit.slices]}


def tag_name(version: str) -> str:
    """A git tag for this compile (``git check-ref-format`` safe) for the remote form's ``rev``."""
    t = re.sub(r"[^A-Za-z0-9_-]+", "-", version).strip("-")[:80].rstrip("-")
    return "regwatch-" + (t or "rules")


def _short(version: str) -> str:
    if version.startswith("sha256:"):
        return version[:19]
    return version if len(version) <= 24 else version[:23] + "…"


def compile(unit: CompileUnit) -> Bundle:
    diags: list[Diagnostic] = []
    data = policy(unit, diags)
    for ir, sl in zip(unit.slices, data["slices"], strict=True):
        used = {f["control"] for fs in sl["kinds"].values() for f in fs}
        used |= {f["control"] for entry in sl["paths"].values() for f in entry["findings"]}
        for c in ir.controls:
            if not c.binding and c.id in used:
                diags.append(Diagnostic(
                    level="ignore", code="classified-not-binding", rule=f"control {c.id}", location=c.source,
                    message=f"{c.status} ({c.status_note}) on some days: the hooks still block files it "
                            "classifies (classification, not licensing)"))
    mode_text = (f"rules in force on {unit.as_of.isoformat()}" if unit.as_of else
                 f"timeline: {len(unit.slices)} dated slices, picked by the commit or push day")
    ctx = {"rules_version": unit.rules_version, "mode_text": mode_text, "tag": tag_name(unit.rules_version),
           "hook_name": f"export-control guard (rules {_short(unit.rules_version)})", "repo_url": REPO_URL,
           "local_dir": LOCAL_DIR}
    b = Bundle(diagnostics=_dedupe(diags))
    b.add("export-control-policy.json", json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n")
    for path, template in FILES.items():
        b.add(path, render(NAME, template, **ctx))
    return b


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen: dict[tuple[str, str, str], Diagnostic] = {}
    for d in diags:
        seen.setdefault((d.code, d.rule, d.message), d)
    return list(seen.values())
