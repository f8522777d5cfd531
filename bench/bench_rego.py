"""Decision latency of the generated Rego policy, as ratios against baselines measured in the same run.

Subjects, all timed over the same requests (every person x asset of the sample inventory x 4 actions x
destinations, on 2025-06-01 with the strict rules, so that all three outcomes occur), interleaved round by
round (each engine once per round, ``--repeat`` rounds, median of the per-decision time):

* ``semantics``: ``rulesdsl.semantics.decide`` (the reference meaning, over the DSL);
* ``ir``: ``compiler.evaluate.ir_decide`` (the reference evaluator of the compiled IR);
* ``opa_generated``: the ``--as-of 2025-06-01`` bundle in real OPA (Go, ``opa_bindings``), query ``outcome``;
* ``opa_generated_timeline``: the ``--timeline`` bundle (13 slices; the policy picks the slice by date);
* ``opa_handwritten``: a minimal hand-written Rego policy of the same meaning on these requests (two-valued,
  thresholds inline, the destination tables as data, the rules' controls written out by hand);
* ``regorus_*``: the same three policies in regorus (``set_input_json`` + ``eval_rule``).

Every engine's outcome is first checked against ``semantics``; the table shows the disagreements (expected:
0). OPA's per-call cost includes the JSON round trip through ctypes (``opa_noop`` measures it: the same call
on an undefined document), and so does regorus's.

Usage::

    .venv/bin/python bench/bench_rego.py                  # about a minute
    .venv/bin/python bench/bench_rego.py --quick          # 3 rounds over every fourth request
    .venv/bin/python bench/bench_rego.py --json out.json  # also machine-readable ('-': stdout, table on stderr)
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regorus
from opa_bindings import OpaEngine, OpaUndefinedError

from compiler import IR, ir_decide, lower_timeline
from rulesdsl.inventory import Inventory, load_inventory
from rulesdsl.ruleset import Ruleset
from rulesdsl.semantics import decide
from targets import CompileUnit, compile_target, opa_bundle
from targets.rego import request_input

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2025, 6, 1)
ACTIONS = ("read", "clone", "query_api", "export")
DESTINATIONS = ("CN", "FR", "IR", "TR", "MO", "RU", "US")
OUTCOME = "regwatch.exportctl.authz.outcome"


@dataclass(frozen=True)
class Request:
    subject: Any
    asset: Any
    action: str
    destination: str | None


def requests(inv: Inventory) -> list[Request]:
    return [Request(s, a, act, dest) for s in inv.people for a in inv.assets for act in ACTIONS
            for dest in (DESTINATIONS if act == "export" else (None,))]


def to_input(q: Request) -> dict[str, Any]:
    return request_input(q.subject, q.action, q.asset, DAY, q.destination)


# ---------------------------------------------------------------------------------------------------------
# The hand-written policy: what a person would write for the same rules on these requests

HANDWRITTEN = """
package bench.handwritten

import rego.v1

default outcome := "allow"

a := input.object.attributes

eccns contains "4E091" if {
	input.object.kind in {"model", "model_weights", "checkpoint"}
	a.training_operations >= 100000000000000000000000000
	a.published == false
	not a.below_published_frontier == true
}

meets_3a090a if a.tpp >= 4800

meets_3a090a if {
	a.tpp >= 1600
	a.performance_density >= 5.92
}

meets_3a090b if {
	a.tpp >= 2400
	a.tpp < 4800
	a.performance_density >= 1.6
	a.performance_density < 5.92
}

meets_3a090b if {
	a.tpp >= 1600
	a.performance_density >= 3.2
	a.performance_density < 5.92
}

note2 if {
	a.datacenter == false
	a.tpp < 4800
}

eccns contains "3A090.a" if {
	input.object.kind == "ic"
	meets_3a090a
	not note2
}

eccns contains "3A090.b" if {
	input.object.kind == "ic"
	meets_3a090b
	not note2
}

eccns contains "3A090.c" if {
	input.object.kind == "hbm"
	a.memory_bandwidth_density > 2
}

eccns contains "4A090.a" if {
	input.object.kind == "computer"
	meets_3a090a
	not note2
}

eccns contains "4A090.b" if {
	input.object.kind == "computer"
	meets_3a090b
	not note2
}

foreign if {
	not input.subject.us_person
	not input.subject.permanent_resident
}

outcome := "deny" if {
	"4E091" in eccns
	input.action in {"read", "clone", "modify", "export", "execute_compiled"}
	foreign
	some c in input.subject.citizenships
	c in {"IR", "KP", "SY", "CU"}
} else := "license_required" if {
	some e in eccns
	released(e)
	some country in countries
	country in data.bench.need[e]
	not licensed(e, country)
}

released("4E091") if {
	input.action in {"read", "clone", "modify", "export"}
	foreign
}

released(e) if {
	e != "4E091"
	input.action == "export"
}

countries := [input.destination] if input.action == "export"

countries := input.subject.citizenships if input.action != "export"

licensed(e, country) if {
	some lic in input.subject.licenses
	lic.eccn == e
	lic.valid_from <= input.date
	input.date <= lic.valid_through
	country in lic.countries
}
"""

HAND_ECCNS = ("4E091", "3A090.a", "3A090.b", "3A090.c", "4A090.a", "4A090.b")


def need(x: IR, universe: set[str]) -> dict[str, list[str]]:
    """Per ECCN, the countries some binding license requirement names (group tables, not policy logic)."""
    out: dict[str, set[str]] = {e: set() for e in HAND_ECCNS}
    for c in x.controls:
        if c.eccn in out:
            for lr in c.licenses:
                d = lr.destinations
                if lr.binding:
                    out[c.eccn] |= {k for k in universe if (d.all or k in d.include) and k not in d.exclude}
    return {e: sorted(v) for e, v in out.items()}


# ---------------------------------------------------------------------------------------------------------
# Engines


def opa_engine(files: dict[str, bytes]) -> OpaEngine:
    e = OpaEngine()
    for name, data in sorted(files.items()):
        if name.endswith(".rego"):
            e.add_policy(name, data.decode())
        elif name.endswith("/data.json"):
            e.add_data(json.loads(data), ".".join(name.split("/")[:-1]))
    return e


def regorus_engine(files: dict[str, bytes]) -> Any:
    e = regorus.Engine()
    doc: dict[str, Any] = {}
    for name, data in sorted(files.items()):
        if name.endswith(".rego"):
            e.add_policy(name, data.decode())
        elif name.endswith("/data.json"):
            node = doc
            for part in name.split("/")[:-2]:
                node = node.setdefault(part, {})
            node[name.split("/")[-2]] = json.loads(data)
    e.add_data_json(json.dumps(doc))
    return e


def timed(fn: Callable[[int], object], n: int) -> float:
    gc.collect()
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - start) / n


def run(repeat: int, step: int) -> dict[str, Any]:
    rs = Ruleset.default()
    tl = lower_timeline(rs, rules_version="bench", strict=True)
    x = tl.slice_at(DAY)
    inv = load_inventory(ROOT / "fixtures" / "inventory" / "sample.yaml")
    reqs = requests(inv)[::step]
    inputs = [to_input(q) for q in reqs]
    texts = [json.dumps(i) for i in inputs]
    as_of = opa_bundle.untar(compile_target("rego", CompileUnit(tl, DAY)).files["bundle.tar.gz"])
    timeline = opa_bundle.untar(compile_target("rego", CompileUnit(tl, None)).files["bundle.tar.gz"])
    universe = {k for g in x.groups for k in g.members} | set(DESTINATIONS) | {
        c for s in inv.people for c in s.citizenships}
    hand = {"bench/handwritten.rego": HANDWRITTEN.encode(),
            "bench/need/data.json": json.dumps(need(x, universe)).encode()}
    opa = {"opa_generated": opa_engine(as_of), "opa_generated_timeline": opa_engine(timeline),
           "opa_handwritten": opa_engine(hand)}
    rg = {"regorus_generated": regorus_engine(as_of), "regorus_generated_timeline": regorus_engine(timeline),
          "regorus_handwritten": regorus_engine(hand)}

    def opa_fn(e: OpaEngine, path: str) -> Callable[[int], object]:
        return lambda i: e.eval_document(path, inputs[i])

    def rg_fn(e: Any, rule: str) -> Callable[[int], object]:
        def call(i: int) -> object:
            e.set_input_json(texts[i])
            return e.eval_rule(rule)
        return call

    def noop(i: int) -> object:
        try:
            return opa["opa_generated"].eval_document("regwatch.exportctl.authz.no_such_rule", inputs[i])
        except OpaUndefinedError:  # undefined is the point: only the call overhead is timed
            return None

    engines: dict[str, Callable[[int], object]] = {
        "semantics": lambda i: decide(rs, reqs[i].subject, reqs[i].action, reqs[i].asset, DAY, reqs[i].destination,
                                      strict=True).outcome,
        "ir": lambda i: ir_decide(x, reqs[i].subject, reqs[i].action, reqs[i].asset, reqs[i].destination,
                                  at=DAY).outcome,
        "opa_noop": noop,
        "opa_generated": opa_fn(opa["opa_generated"], OUTCOME),
        "opa_generated_timeline": opa_fn(opa["opa_generated_timeline"], OUTCOME),
        "opa_handwritten": opa_fn(opa["opa_handwritten"], "bench.handwritten.outcome"),
        "regorus_generated": rg_fn(rg["regorus_generated"], "data." + OUTCOME),
        "regorus_generated_timeline": rg_fn(rg["regorus_generated_timeline"], "data." + OUTCOME),
        "regorus_handwritten": rg_fn(rg["regorus_handwritten"], "data.bench.handwritten.outcome"),
    }
    n = len(reqs)
    truth = [engines["semantics"](i) for i in range(n)]
    disagree = {k: 0 if k == "opa_noop" else sum(fn(i) != truth[i] for i in range(n)) for k, fn in engines.items()}
    runs: dict[str, list[float]] = {k: [] for k in engines}
    for _ in range(repeat):
        for name, fn in engines.items():
            runs[name].append(timed(fn, n))
    med = {k: statistics.median(v) for k, v in runs.items()}
    return {"requests": n, "repeat": repeat, "outcomes": {o: truth.count(o) for o in ("allow", "license_required",
                                                                                      "deny")},
            "us_per_decision": {k: round(v * 1e6, 1) for k, v in med.items()}, "disagreements": disagree,
            "ratios": _ratios(med)}


def _ratios(m: dict[str, float]) -> dict[str, float]:
    pairs = [("opa_generated", "opa_handwritten"), ("regorus_generated", "regorus_handwritten"),
             ("opa_generated", "ir"), ("regorus_generated", "ir"), ("opa_handwritten", "ir"),
             ("opa_generated_timeline", "opa_generated"), ("regorus_generated_timeline", "regorus_generated"),
             ("opa_generated", "regorus_generated"),
             ("opa_generated - opa_noop", "opa_handwritten - opa_noop")]
    out = {}
    for a, b in pairs:
        if " - " in a:
            x, y = (m[p.split(" - ")[0]] - m["opa_noop"] for p in (a, b))
            out[f"({a}) / ({b})"] = round(x / y, 2) if y > 0 else float("nan")
        else:
            out[f"{a} / {b}"] = round(m[a] / m[b], 2)
    return out


def table(res: dict[str, Any]) -> str:
    us = res["us_per_decision"]
    base = us["ir"]
    rows = [f"{res['requests']} requests x {res['repeat']} rounds (median); reference outcomes {res['outcomes']}",
            "", f"{'engine':<28}{'us/decision':>12}{'vs ir':>10}{'disagree':>10}"]
    for k, v in us.items():
        rows.append(f"{k:<28}{v:>12.1f}{v / base:>10.2f}{res['disagreements'][k]:>10}")
    rows.append("")
    rows += [f"{k:<56}{v:>8.2f}" for k, v in res["ratios"].items()]
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Rego decision latency vs the reference and a hand-written policy.")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="3 rounds over every fourth request")
    ap.add_argument("--json", metavar="PATH", help="write results as JSON ('-': stdout; the table goes to stderr)")
    args = ap.parse_args(argv)
    res = run(3 if args.quick else args.repeat, 4 if args.quick else 1)
    text = table(res)
    if args.json == "-":
        print(json.dumps(res, indent=2, sort_keys=True))
        print(text, file=sys.stderr)
    else:
        print(text)
        if args.json:
            Path(args.json).write_text(json.dumps(res, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
