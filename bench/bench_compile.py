"""Compile benchmark: every target for the default ruleset and for generated 500- and 5,000-control rulesets.

Times are reported with a baseline measured in the same run (these machines are noisy): parsing and
validating the same rules text. For each ruleset and target: the one-date compile (``--as-of``), as a ratio to
the baseline, and the per-control scaling from 500 to 5,000 controls (1.0 = linear). The timeline mode is
measured on the default ruleset (its cost grows with change dates x rules size; see docs/compiler.md).

Usage::

    python bench/bench_compile.py            # table
    python bench/bench_compile.py --json     # machine-readable
    python bench/bench_compile.py --quick    # 200 controls instead of 5,000 (smoke test)
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AS_OF = dt.date(2025, 6, 1)


def _gen() -> Any:
    spec = importlib.util.spec_from_file_location("bench_gen_rules", ROOT / "bench" / "gen_rules.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def best(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def available_targets() -> list[str]:
    from targets import TARGETS, TargetError, get

    out = []
    for name in TARGETS:
        try:
            get(name)
        except TargetError:
            continue
        out.append(name)
    return out


def measure(text: str, label: str, repeats: int, inventory: Any = None) -> dict[str, Any]:
    from rulesdsl.ruleset import Ruleset
    from targets import CompileUnit, compile_target

    def parse() -> Ruleset:
        rs = Ruleset.from_text(text, label)
        rs.check()
        return rs

    base = best(parse, repeats)
    rs = parse()
    options = {"inventory": inventory} if inventory is not None else {}
    row: dict[str, Any] = {"ruleset": label, "controls": len(rs.controls), "baseline_parse_validate_s": base}
    lower = best(lambda: CompileUnit.for_date(rs, AS_OF, rules_version="bench", options=options), repeats)
    row["lower_one_date_s"] = lower
    row["lower_ratio"] = lower / base
    unit = CompileUnit.for_date(rs, AS_OF, rules_version="bench", options=options)
    for name in available_targets():
        t = best(lambda n=name: compile_target(n, unit), repeats)  # type: ignore[misc]
        row[f"{name}_s"] = t
        row[f"{name}_ratio"] = t / base
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    from rulesdsl.inventory import load_inventory
    from rulesdsl.ruleset import Ruleset, default_bundle_text
    from targets import CompileUnit, compile_target

    gen = _gen()
    inventory = load_inventory(ROOT / "fixtures" / "inventory" / "sample.yaml")
    big = 200 if args.quick else 5000
    small = 50 if args.quick else 500
    rows = [measure(default_bundle_text().replace("#@file ", "# file "), "default", 5, inventory)]
    rows.append(measure(gen.generate(small), f"generated-{small}", 3))
    rows.append(measure(gen.generate(big), f"generated-{big}", 1 if not args.quick else 2))
    rs = Ruleset.default()
    t_tl = best(lambda: CompileUnit.for_timeline(rs, rules_version="bench"), 3)
    tl_unit = CompileUnit.for_timeline(rs, rules_version="bench", options={"inventory": inventory})
    timeline: dict[str, Any] = {"lower_timeline_s": t_tl, "slices": len(tl_unit.timeline.slices)}
    for name in available_targets():
        timeline[f"{name}_s"] = best(lambda n=name: compile_target(n, tl_unit), 3)  # type: ignore[misc]
    scaling: dict[str, float] = {}
    s_row, b_row = rows[1], rows[2]
    for key in [k for k in s_row if k.endswith("_s") and k != "baseline_parse_validate_s"]:
        per_small = s_row[key] / s_row["controls"]
        per_big = b_row[key] / b_row["controls"]
        scaling[key.removesuffix("_s")] = per_big / per_small if per_small else float("nan")
    result = {"rows": rows, "timeline_default": timeline, "per_control_scaling": scaling}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'ruleset':<16}{'controls':>9}{'parse+validate':>16}{'lower 1 date':>14}  "
          "targets (seconds, ratio to baseline)")
    for r in rows:
        targets = "  ".join(f"{k[:-2]} {r[k]:.3f}s ({r[k[:-2] + '_ratio']:.1f}x)" for k in r
                            if k.endswith("_s") and k not in ("baseline_parse_validate_s", "lower_one_date_s"))
        print(f"{r['ruleset']:<16}{r['controls']:>9}{r['baseline_parse_validate_s']:>15.3f}s"
              f"{r['lower_one_date_s']:>13.3f}s  {targets}")
    print(f"timeline (default, {timeline['slices']} slices): lower {timeline['lower_timeline_s']:.3f}s  "
          + "  ".join(f"{k[:-2]} {v:.3f}s" for k, v in timeline.items()
                      if k.endswith("_s") and k != "lower_timeline_s"))
    print("per-control scaling " + f"{rows[1]['controls']} -> {rows[2]['controls']} controls (1.0 = linear): "
          + ", ".join(f"{k} {v:.2f}" for k, v in scaling.items()))


if __name__ == "__main__":
    main()
