"""OPA Rego target: a Rego v1 policy + ``data.json`` as a standard, optionally signed OPA bundle.

Output (relative to ``--out``/rego)::

    bundle.tar.gz                                    the OPA bundle (what a bundle server serves)
    bundle/.manifest                                 revision = rules version id, roots, rego_version 1
    bundle/.signatures.json                          with --sign: one RS256 JWT (opa sign's format)
    bundle/regwatch/exportctl/authz/policy.rego      the decision algorithm (template, fixed)
    bundle/regwatch/exportctl/authz/conditions.rego  the rules' condition trees (generated)
    bundle/regwatch/exportctl/rules/data.json        the IR's tables per time slice, exact numbers
    tests/regwatch/exportctl/authz/policy_test.rego  test rules around every change date (not in the bundle)

Why this split: ``policy.rego`` is the reference evaluator (``compiler/evaluate.py``) written once in Rego;
what varies with the rules is data (groups, parameters, license requirements, access rules: ``data.json``)
or a condition tree (``conditions.rego``, see :mod:`targets.rego_conditions`). In ``--as-of`` mode the data
holds the one slice of that day; in ``--timeline`` mode it holds every slice and the policy picks the one
whose window holds ``input.date``, so one bundle answers for any day and decisions replay. The loose
``bundle/`` folder has exactly the tarball's files, so ``opa run -b``/``opa test`` work on either.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from compiler import ir
from rulesdsl.semantics import AssetLike, SubjectLike

from . import opa_bundle
from .base import Bundle, CompileUnit, TargetError
from .opa_bundle import Num
from .rego_cases import render_tests
from .rego_conditions import Conditions
from .render import render

NAME = "rego"
DESCRIPTION = "OPA Rego v1 policy + data.json as a (signed) OPA bundle, with generated tests"

ROOT = "regwatch/exportctl"
PACKAGE = "regwatch.exportctl.authz"
POLICY = f"{ROOT}/authz/policy.rego"
CONDITIONS = f"{ROOT}/authz/conditions.rego"
DATA = f"{ROOT}/rules/data.json"
TESTS = f"{ROOT}/authz/policy_test.rego"
DATA_FORMAT = "regwatch-rego-data/1"


def _day(d: dt.date | None) -> str | None:
    return None if d is None else d.isoformat()


def _number(v: ir.ExactNumber | None) -> Num | None:
    return None if v is None else Num(v.decimal)


def _dest(d: ir.Destinations) -> dict[str, Any]:
    return {"all": d.all, "include": list(d.include), "exclude": list(d.exclude), "text": d.text}


def _parameter(p: ir.Parameter) -> dict[str, Any]:
    return {"value": _number(p.value), "decimal": p.value.decimal if p.value else None,
            "display": p.value.display if p.value else None,
            "float_exact": p.value.float_exact if p.value else None, "unit": p.unit, "role": p.role,
            "effective": _day(p.effective), "until": _day(p.until), "status": p.status,
            "citation": p.citation.text if p.citation else None}


def _control(sl: ir.IR, i: int, c: ir.Control, conds: Conditions) -> dict[str, Any]:
    rule = f"control {c.id}"
    policies = [{"name": p.name, "destinations": _dest(p.destinations), "start": _day(p.start),
                 "condition": None if p.condition is None else conds.expr(
                     sl, i, p.condition, "a", f"{c.id} {p.name}", f"{rule} policy {p.name}", c.source)}
                for p in c.policies]
    return {"id": c.id, "eccn": c.eccn, "title": c.title, "kinds": list(c.kinds), "holds": conds.holds(sl, i, c),
            "status": c.status, "status_note": c.status_note, "binding": c.binding, "citation": c.citation.text,
            "status_citation": c.status_citation.text if c.status_citation else None,
            "exclusions": [{"citation": x.citation.text} for x in c.exclusions],
            "licenses": [{"destinations": _dest(lr.destinations), "binding": lr.binding, "status": lr.status,
                          "citation": lr.citation.text, "text": lr.text} for lr in c.licenses],
            "policies": policies,
            "exceptions": [{"code": x.code, "label": x.label, "status": x.status, "available": x.available}
                           for x in c.exceptions],
            "effective": _day(c.effective), "source": c.source}


def _access(sl: ir.IR, i: int, a: ir.AccessRule, conds: Conditions) -> dict[str, Any]:
    def cond(e: ir.Expr | None, clause: str) -> str | None:
        if e is None:
            return None
        return conds.expr(sl, i, e, "s", f"{a.name} {clause}", f"access {a.name} {clause}", a.source)

    return {"name": a.name, "title": a.title, "on": list(a.on), "actions": list(a.actions), "effect": a.effect,
            "when": cond(a.when, "when"), "unless": cond(a.unless, "unless"), "citation": a.citation.text,
            "source": a.source}


def slice_data(sl: ir.IR, i: int, conds: Conditions, versions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One slice of the IR as the policy reads it (``data.regwatch.exportctl.rules.slices[i]``). Controls are
    listed by key into ``versions`` (every distinct version of every control, shared by the slices that
    have it), which keeps a timeline's data small: most controls do not change at most change dates."""
    keys = []
    for c in sl.controls:
        entry = _control(sl, i, c, conds)
        same = [k for k, v in versions.items() if v == entry]
        if not same:
            n = sum(1 for v in versions.values() if v["id"] == c.id) + 1
            same = [f"{c.id} v{n}"]
            versions[same[0]] = entry
        keys.append(same[0])
    return {"valid_from": _day(sl.valid_from), "valid_through": _day(sl.valid_through),
            "groups": {g.name: list(g.members) for g in sl.groups},
            "parameters": {p.name: _parameter(p) for p in sl.parameters},
            "controls": keys, "access": [_access(sl, i, a, conds) for a in sl.access]}


def _window(unit: CompileUnit) -> str:
    if unit.mode == "timeline":
        return "every day (timeline)"
    s = unit.slices[0]
    return f"{_day(s.valid_from) or 'the beginning'} .. {_day(s.valid_through) or 'open end'}"


def _diagnostics(unit: CompileUnit, conds: Conditions) -> list[ir.Diagnostic]:
    out = list(conds.diagnostics)
    seen: set[str] = set()
    for sl in unit.slices:
        for p in sl.parameters:
            if p.value is not None and not p.value.float_exact and p.uses and p.name not in seen:
                seen.add(p.name)
                out.append(ir.Diagnostic(
                    level="ignore", code="rego-inexact-number", rule=f"parameter {p.name}", location=p.source,
                    message=f"{p.value.decimal} is exact in OPA (Go, big rationals) but not in regorus (f64): "
                            "regorus misjudges values within one binary64 step of it"))
    if any(sl.hints for sl in unit.slices):
        out.append(ir.Diagnostic(
            level="ignore", code="rego-no-hints", rule="hints",
            message="repository file hints are not compiled to Rego (classify files with the githooks target; "
                    "the policy classifies the object's attributes)"))
    unique: dict[tuple[str, str, str], ir.Diagnostic] = {}
    for d in out:
        unique.setdefault((d.code, d.rule, d.message), d)
    return list(unique.values())


def manifest(unit: CompileUnit) -> bytes:
    meta = {"generator": "regwatch compile --target rego", "format": DATA_FORMAT, "mode": unit.mode,
            "as_of": _day(unit.as_of), "strict": unit.timeline.strict, "package": PACKAGE}
    data = {"revision": unit.rules_version, "roots": [ROOT], "rego_version": 1, "metadata": meta}
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")


def compile(unit: CompileUnit) -> Bundle:
    conds = Conditions()
    versions: dict[str, dict[str, Any]] = {}
    slices = [slice_data(sl, i, conds, versions) for i, sl in enumerate(unit.slices)]
    data = {"format": DATA_FORMAT, "rules_version": unit.rules_version, "mode": unit.mode,
            "as_of": _day(unit.as_of), "strict": unit.timeline.strict, "window": _window(unit),
            "controls": versions, "slices": slices,
            "windows": [{"valid_from": x["valid_from"], "valid_through": x["valid_through"]} for x in slices]}
    ctx: dict[str, Any] = {"rules_version": unit.rules_version, "mode": unit.mode, "as_of": _day(unit.as_of),
                           "strict": unit.timeline.strict}
    files: dict[str, bytes] = {
        ".manifest": manifest(unit),
        POLICY: render(NAME, "policy.rego.j2", **ctx).encode("utf-8"),
        CONDITIONS: render(NAME, "conditions.rego.j2", **ctx, rules=conds.render(), holds_names=conds.holds_names,
                           cond_names=conds.cond_names).encode("utf-8"),
        DATA: (opa_bundle.dumps(data) + "\n").encode("ascii"),
    }
    key = unit.options.get("sign_key")
    if key:
        try:
            files[opa_bundle.SIGNATURES] = opa_bundle.sign(files, key, str(unit.options.get("key_id") or "regwatch"),
                                                           unit.options.get("scope"))
        except opa_bundle.KeyFileError as e:
            raise TargetError(f"--sign: {e}") from None
    b = Bundle(diagnostics=_diagnostics(unit, conds))
    for rel in sorted(files):
        b.add(f"bundle/{rel}", files[rel])
    b.add(f"tests/{TESTS}", render_tests(unit, ctx))
    b.add("bundle.tar.gz", opa_bundle.tarball(files))
    return b


def request_input(subject: SubjectLike, action: str, asset: AssetLike, at: dt.date, destination: str | None = None,
                  *, number: Callable[[Decimal], Any] | None = None) -> dict[str, Any]:
    """The ``input`` document the generated policy decides on, for one request (see docs/compiler.md,
    "Input and output"). Integral attribute values stay exact integers (10^26 is 100000000000000000000000000,
    which OPA compares exactly); other decimals become JSON numbers through ``number`` (default ``float``,
    exact for the values regulations write, such as 5.92)."""
    def value(v: Any) -> Any:
        if isinstance(v, Decimal):
            return int(v) if v == v.to_integral_value() else (number or float)(v)
        return v

    inp: dict[str, Any] = {
        "date": at.isoformat(), "action": action,
        "subject": {"id": subject.id, "citizenships": list(subject.citizenships), "us_person": subject.us_person,
                    "permanent_resident": subject.permanent_resident,
                    "licenses": [{"eccn": lic.eccn, "countries": list(lic.countries),
                                  "valid_from": lic.valid_from.isoformat() if lic.valid_from else None,
                                  "valid_through": lic.valid_through.isoformat() if lic.valid_through else None}
                                 for lic in subject.licenses]},
        "object": {"id": asset.id, "kind": asset.kind,
                   "attributes": {k: value(v) for k, v in asset.attributes.items()}}}
    if destination is not None:
        inp["destination"] = destination
    return inp

