"""FLOP-limit constants: every dated parameter of the rules as Python, JSON, TOML, C, Go and TypeScript.

The exact value is the source of truth in every language: an integer where the language has exact big
integers (Python ``int``, Go untyped constants, TypeScript ``bigint``), a decimal string everywhere, and
mantissa/exponent integers. A float sits beside it for convenience, with ``*_FLOAT_EXACT`` saying whether it
equals the value (10^26 is not a double: the nearest one is 100000000000000004764729344, so ``10**26 >= 1e26``
is False in Python). The comparator is explicit (``>=`` vs ``>``), and only ``role == "control"`` values are
ECCN control thresholds; eligibility ceilings and exclusions are listed apart (``OTHER_LIMITS``) so nobody
compiles them as controls.

``--as-of``: the values in force that day. ``--timeline``: the latest values (after every known change). Both
modes also carry the full dated history (``TIMELINE``), split wherever a value, its status or its citation
changes.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

from compiler.ir import Diagnostic, ExactNumber, Parameter, ParameterPeriod

from .base import Bundle, CompileUnit, TargetError
from .render import render

NAME = "constants"
DESCRIPTION = "thresholds with effective dates and status: Python, JSON, TOML, C, Go, TypeScript"

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EPOCH = dt.date(1970, 1, 1)


def _go_name(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in name.split("_") if p)


def _float(v: ExactNumber) -> float | None:
    f = float(Decimal(v.decimal))
    return f if math.isfinite(f) else None


def _float_lit(f: float | None) -> str | None:
    return None if f is None else repr(f)


def _eccns(uses: Any) -> list[str]:
    return sorted({u.rule.split(" ", 1)[1] for u in uses if u.rule.startswith("control ")})


def _comparator(uses: Any) -> str | None:
    ops = {u.comparator for u in uses}
    return ops.pop() if len(ops) == 1 else None


def _value(v: ExactNumber, name: str, diags: list[Diagnostic]) -> dict[str, Any]:
    f = _float(v)
    if f is None:
        diags.append(Diagnostic(level="warn", code="float-overflow", rule=f"parameter {name}",
                                message=f"{v.display} has no float: only the exact forms are emitted"))
    frac = Fraction(Decimal(v.decimal))
    u64 = v.integer and 0 <= int(Decimal(v.decimal)) < 2**64
    return {"decimal": v.decimal, "display": v.display, "mantissa": v.mantissa, "exponent": v.exponent,
            "integer": v.integer, "float": f, "float_lit": _float_lit(f), "float_exact": v.float_exact,
            "numerator": frac.numerator, "denominator": frac.denominator, "fits_u64": u64,
            "int_lit": v.decimal if v.integer else None}


def _date(d: dt.date | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {"iso": d.isoformat(), "y": d.year, "m": d.month, "d": d.day, "epoch": (d - _EPOCH).days * 86400}


def _entry(p: Parameter, diags: list[Diagnostic]) -> dict[str, Any] | None:
    if p.value is None:
        return None
    if not _IDENT.match(p.name):
        raise TargetError(f"parameter name {p.name!r} is not an identifier in every target language")
    return {"name": p.name, "const": p.name.upper(), "go": _go_name(p.name), "unit": p.unit, "role": p.role,
            "control": p.role == "control", "description": p.description or "",
            "value": _value(p.value, p.name, diags), "comparator": _comparator(p.uses), "eccns": _eccns(p.uses),
            "uses": [{"rule": u.rule, "clause": u.clause, "attribute": u.attribute, "comparator": u.comparator}
                     for u in p.uses],
            "effective": _date(p.effective), "until": _date(p.until), "status": p.status,
            "citation": p.citation.text if p.citation else None,
            "confidence": p.citation.confidence if p.citation else None,
            "unresolved": p.citation.unresolved if p.citation else None}


def _period(p: ParameterPeriod, diags: list[Diagnostic]) -> dict[str, Any]:
    return {"name": p.name, "const": p.name.upper(), "unit": p.unit, "role": p.role,
            "value": _value(p.value, p.name, diags), "comparator": _comparator(p.uses),
            "from": _date(p.valid_from), "through": _date(p.valid_through), "status": p.status,
            "citation": p.citation.text if p.citation else None}


def _json_doc(ctx: dict[str, Any]) -> str:
    def strip(e: dict[str, Any]) -> dict[str, Any]:
        v = e["value"]
        out = {k: e[k] for k in e if k not in ("const", "go", "value", "effective", "until", "from", "through")}
        out["value"] = {"decimal": v["decimal"], "display": v["display"], "mantissa": v["mantissa"],
                        "exponent": v["exponent"], "integer": v["integer"], "float": v["float"],
                        "float_exact": v["float_exact"]}
        for k in ("effective", "until", "from", "through"):
            if k in e:
                out[k] = e[k]["iso"] if e[k] else None
        return out

    data = {"schema": "regwatch-constants/1", "rules_version": ctx["rules_version"], "mode": ctx["mode"],
            "as_of": ctx["as_of"], "thresholds": [strip(e) for e in ctx["thresholds"]],
            "other_limits": [strip(e) for e in ctx["other"]], "timeline": [strip(p) for p in ctx["timeline"]],
            "note": "value.decimal is exact; value.float may differ from it (see float_exact). Compare integers "
                    "with integers and state the comparator."}
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def compile(unit: CompileUnit) -> Bundle:
    diags: list[Diagnostic] = []
    ir = unit.slices[-1]  # as-of: the day's slice; timeline: the latest one
    entries = [e for e in (_entry(p, diags) for p in sorted(ir.parameters, key=lambda p: p.name)) if e]
    timeline = [_period(p, diags) for p in sorted(unit.timeline.parameter_history,
                                                  key=lambda p: (p.name, p.valid_from or dt.date.min))]
    ctx: dict[str, Any] = {"rules_version": unit.rules_version, "mode": unit.mode,
           "as_of": unit.as_of.isoformat() if unit.as_of else None,
           "thresholds": [e for e in entries if e["control"]], "other": [e for e in entries if not e["control"]],
           "timeline": timeline}
    ctx["all"] = ctx["thresholds"] + ctx["other"]
    _check_names(ctx["all"])
    b = Bundle(diagnostics=_dedupe(diags))
    b.add("flop_limits.json", _json_doc(ctx))
    b.add("flop_limits.py", render(NAME, "flop_limits.py.j2", **ctx))
    b.add("flop_limits.toml", render(NAME, "flop_limits.toml.j2", **ctx))
    b.add("exportctl_limits.h", render(NAME, "exportctl_limits.h.j2", **ctx))
    b.add("exportctl_limits.c", render(NAME, "exportctl_limits.c.j2", **ctx))
    b.add("exportctl/limits.go", render(NAME, "limits.go.j2", **ctx))
    b.add("flopLimits.ts", render(NAME, "flopLimits.ts.j2", **ctx))
    return b


_SUFFIXES = ("", "_DECIMAL", "_FLOAT", "_FLOAT_EXACT", "_COMPARATOR", "_UNIT", "_EFFECTIVE", "_UNTIL", "_STATUS",
             "_BIGINT", "_IS_CONTROL", "_MANTISSA", "_EXPONENT", "_U64", "_EFFECTIVE_EPOCH")


def _check_names(entries: list[dict[str, Any]]) -> None:
    """Two parameters must not become the same identifier in any language (``a_b`` and ``a__b`` are both
    ``AB`` in Go; ``x`` and ``x_decimal`` would clash on ``X_DECIMAL``)."""
    seen: dict[str, str] = {}
    for e in entries:
        for ident in [e["const"] + s for s in _SUFFIXES] + ["go:" + e["go"] + s for s in (
                "", "Decimal", "Float", "FloatExact", "IsControl", "Comparator", "Unit", "Status", "Effective")]:
            other = seen.setdefault(ident, e["name"])
            if other != e["name"]:
                raise TargetError(f"parameters {other} and {e['name']} both generate the identifier "
                                  f"{ident.removeprefix('go:')}; rename one")


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen: dict[tuple[str, str, str], Diagnostic] = {}
    for d in diags:
        seen.setdefault((d.code, d.rule, d.message), d)
    return list(seen.values())
