"""Decision latency of the generated Casbin policy, as ratios against baselines measured in the same run.

Subjects, all timed over the same requests (every person x asset of the sample inventory x 4 actions x
destinations, on 2025-06-01 with the strict rules, so that all three outcomes occur), interleaved round by
round (each engine once per round, ``--repeat`` rounds, median):

* ``semantics``: ``rulesdsl.semantics.decide`` (the reference meaning, over the DSL);
* ``ir``: ``compiler.evaluate.ir_decide`` (the reference evaluator of the compiled IR);
* ``casbin_generated``: ``targets.casbin`` output in pycasbin (``enforce``), through the generated helper;
* ``casbin_handwritten``: a minimal hand-written Casbin model + policy of the same meaning on these requests
  (rows per ECCN and destination group, regexMatch on actions, one ``licensed`` function), in pycasbin;
* ``casbin_generated_10k``: the generated policy with 10,000 more assets (g2 links), same requests.

Before timing, every engine's outcomes are checked against ``semantics`` (the hand-written policy says only
allow / not allow); the table shows the disagreements (expected: 0).

Usage::

    .venv/bin/python bench/bench_casbin.py                  # about 30 seconds
    .venv/bin/python bench/bench_casbin.py --quick          # 3 rounds over a quarter of the requests
    .venv/bin/python bench/bench_casbin.py --json out.json  # also machine-readable ('-': stdout, table on stderr)
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import casbin

from compiler import IR, ir_classify, ir_decide, lower_timeline
from rulesdsl.inventory import Inventory, load_inventory
from rulesdsl.ruleset import Ruleset
from rulesdsl.semantics import SimpleAsset, decide
from targets import CompileUnit, compile_target

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2025, 6, 1)
ACTIONS = ("read", "clone", "query_api", "export")
DESTINATIONS = ("CN", "FR", "IR", "TR", "MO", "RU", "US")


@dataclass(frozen=True)
class Request:
    subject: Any
    asset: Any
    action: str
    destination: str | None  # exports always have one here; other actions are deemed exports


def requests(inv: Inventory) -> list[Request]:
    out = []
    for s in inv.people:
        for a in inv.assets:
            for act in ACTIONS:
                for dest in DESTINATIONS if act == "export" else (None,):
                    out.append(Request(s, a, act, dest))
    return out


# ---------------------------------------------------------------------------------------------------------
# The generated policy


def generated(tl: Any, inv: Any, folder: Path) -> ModuleType:
    bundle = compile_target("casbin", CompileUnit(tl, DAY, {"inventory": inv}))
    for rel, data in bundle.files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    name = f"regwatch_casbin_{folder.name}"
    spec = importlib.util.spec_from_file_location(name, folder / "regwatch_casbin.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@dataclass(frozen=True)
class _Many:
    assets: Sequence[Any]
    people: Sequence[Any]


def padded(inv: Inventory, n: int) -> _Many:
    """The inventory plus ``n`` more model weights (g2 links that no request touches)."""
    extra = [SimpleAsset(f"bulk-{i}", "model_weights", {"training_operations": Decimal(3) * 10**26,
                                                        "published": i % 5 == 0}) for i in range(n)]
    return _Many([*inv.assets, *extra], inv.people)


# ---------------------------------------------------------------------------------------------------------
# The hand-written policy: what a person would write for the same rules on these requests

HAND_MODEL = """
[request_definition]
r = sub, obj, act, dest, date

[policy_definition]
p = kind, eccn, act, grp, who, eft

[role_definition]
g = _, _
g2 = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = p.kind == "allow" || (g2(r.obj, p.eccn) && regexMatch(r.act, p.act) \
  && (p.who == "anyone" || !g(r.sub, "usp")) \
  && ((p.kind == "deny" && g(r.sub, p.grp)) \
  || (p.kind == "deemed" && r.dest == "" && g(r.sub, p.grp) && !licensed(r.sub, p.eccn, "", r.date)) \
  || (p.kind == "export" && r.dest != "" && g(r.dest, p.grp) && !licensed(r.sub, p.eccn, r.dest, r.date))))
"""

HAND_ROWS = """
p, allow, *, *, *, anyone, allow
p, deny, 4E091, ^(read|clone|modify|export|execute_compiled)$, E1E2, foreign, deny
p, deemed, 4E091, ^(read|clone|modify)$, need:4E091, foreign, deny
p, export, 4E091, ^export$, need:4E091, foreign, deny
p, export, 3A090.a, ^export$, need:3A090.a, anyone, deny
p, export, 3A090.b, ^export$, need:3A090.b, anyone, deny
p, export, 3A090.c, ^export$, need:3A090.c, anyone, deny
p, export, 4A090.a, ^export$, need:4A090.a, anyone, deny
p, export, 4A090.b, ^export$, need:4A090.b, anyone, deny
"""


def _need(x: IR, eccn: str, universe: set[str]) -> set[str]:
    """The countries some binding license requirement of ``eccn`` names (group tables, not policy logic)."""
    out: set[str] = set()
    for c in x.controls:
        if c.eccn == eccn:
            for lr in c.licenses:
                d = lr.destinations
                if lr.binding:
                    out |= {k for k in universe if (d.all or k in d.include) and k not in d.exclude}
    return out


def handwritten(x: IR, inv: Inventory, folder: Path) -> Any:
    universe = {k for g in x.groups for k in g.members} | set(DESTINATIONS) | {
        c for s in inv.people for c in s.citizenships}
    lines = [HAND_ROWS.strip()]
    lines += [f"g, {c}, E1E2" for c in ("IR", "KP", "SY", "CU")]
    for eccn in ("4E091", "3A090.a", "3A090.b", "3A090.c", "4A090.a", "4A090.b"):
        lines += [f"g, {c}, need:{eccn}" for c in sorted(_need(x, eccn, universe))]
    for s in inv.people:
        lines += [f"g, {s.id}, {c}" for c in s.citizenships]
        if s.us_person or s.permanent_resident:
            lines.append(f"g, {s.id}, usp")
    for a in inv.assets:
        lines += [f"g2, {a.id}, {m.eccn}" for m in ir_classify(x, a).matches]
    (folder / "hand.conf").write_text(HAND_MODEL)
    (folder / "hand.csv").write_text("\n".join(lines) + "\n")
    e = casbin.Enforcer(str(folder / "hand.conf"), str(folder / "hand.csv"))
    people = {s.id: s for s in inv.people}

    def licensed(sub: str, eccn: str, dest: str, date: str) -> bool:
        day = dt.date.fromisoformat(date)
        s = people.get(sub)
        wanted = [dest] if dest else list(s.citizenships) if s else []
        return s is not None and any(
            (eccn == lic.eccn or eccn.startswith(lic.eccn + ".")) and lic.valid_on(day)
            and all(not lic.countries or c in lic.countries for c in wanted) for lic in s.licenses)

    e.add_function("licensed", licensed)
    return e


# ---------------------------------------------------------------------------------------------------------
# Timing


def timed(fn: Callable[[Request], object], reqs: Sequence[Request]) -> float:
    gc.collect()
    start = time.perf_counter()
    for q in reqs:
        fn(q)
    return (time.perf_counter() - start) / len(reqs)


def run(repeat: int, step: int) -> dict[str, Any]:
    rs = Ruleset.default()
    tl = lower_timeline(rs, rules_version="bench", strict=True)
    x = tl.slice_at(DAY)
    inv = load_inventory(ROOT / "fixtures" / "inventory" / "sample.yaml")
    reqs = requests(inv)[::step]
    with tempfile.TemporaryDirectory() as tmp:
        gen = generated(tl, inv, Path(tmp) / "gen").RegwatchPolicy(Path(tmp) / "gen")
        big = generated(tl, padded(inv, 10_000), Path(tmp) / "big").RegwatchPolicy(Path(tmp) / "big")
        hand = handwritten(x, inv, Path(tmp))
        iso = DAY.isoformat()
        engines: dict[str, Callable[[Request], object]] = {
            "semantics": lambda q: decide(rs, q.subject, q.action, q.asset, DAY, q.destination, strict=True).outcome,
            "ir": lambda q: ir_decide(x, q.subject, q.action, q.asset, q.destination, at=DAY).outcome,
            "casbin_generated": lambda q: gen.enforce(q.subject.id, q.asset.id, q.action, q.destination, iso),
            "casbin_handwritten": lambda q: hand.enforce(q.subject.id, q.asset.id, q.action, q.destination or "", iso),
            "casbin_generated_10k": lambda q: big.enforce(q.subject.id, q.asset.id, q.action, q.destination, iso),
        }
        truth = [engines["semantics"](q) for q in reqs]
        disagree: dict[str, int] = {}
        for name, fn in engines.items():
            if name in ("semantics", "ir"):
                disagree[name] = sum(fn(q) != t for q, t in zip(reqs, truth, strict=True))
            else:
                disagree[name] = sum(bool(fn(q)) != (t == "allow") for q, t in zip(reqs, truth, strict=True))
        explained = sum(gen.decide(q.subject.id, q.asset.id, q.action, q.destination, iso).outcome != t
                        for q, t in zip(reqs, truth, strict=True))
        runs: dict[str, list[float]] = {k: [] for k in engines}
        for _ in range(repeat):
            for name, fn in engines.items():
                runs[name].append(timed(fn, reqs))
    med = {k: statistics.median(v) for k, v in runs.items()}
    outcomes = {o: truth.count(o) for o in ("allow", "license_required", "deny")}
    return {"requests": len(reqs), "repeat": repeat, "outcomes": outcomes, "us_per_decision": {
        k: round(v * 1e6, 1) for k, v in med.items()}, "disagreements": disagree,
        "outcome_disagreements_generated": explained,
        "ratios": {"casbin_generated/semantics": med["casbin_generated"] / med["semantics"],
                   "casbin_generated/ir": med["casbin_generated"] / med["ir"],
                   "casbin_generated/casbin_handwritten": med["casbin_generated"] / med["casbin_handwritten"],
                   "casbin_generated_10k/casbin_generated": med["casbin_generated_10k"] / med["casbin_generated"]}}


def table(res: dict[str, Any]) -> str:
    us = res["us_per_decision"]
    base = us["semantics"]
    rows = [f"{res['requests']} requests x {res['repeat']} rounds (median); reference outcomes {res['outcomes']}",
            "", f"{'engine':<24}{'us/decision':>12}{'vs semantics':>14}{'disagree':>10}"]
    for k, v in us.items():
        rows.append(f"{k:<24}{v:>12.1f}{v / base:>14.2f}{res['disagreements'][k]:>10}")
    rows.append("")
    rows += [f"{k:<40}{v:>8.2f}" for k, v in res["ratios"].items()]
    rows.append(f"{'generated: license_required/deny mismatches':<40}{res['outcome_disagreements_generated']:>8}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Casbin decision latency vs the reference and a hand-written policy.")
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
