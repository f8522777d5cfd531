"""Benchmark: reclassify a generated inventory between two dates (``reports.diff.build_diff``).

A synthetic company inventory (models, weight files and checkpoints that inherit from them, chips, HBM,
computers, training configs, repositories and a few people) is written as CSV or JSONL and streamed. The
subject is ``build_diff`` between 2024-12-01 and 2025-06-01 on the embedded default rules, in strict mode
(so the AI Diffusion rule's controls bind and people's access really changes): every asset is
classified on both dates, reclassified assets get their change date and sources, people their access
changes. The **baseline**, measured in the same run on the same file, is reading it: ``iter_inventory`` over
every row (parsing, typing, inheritance, derived attributes) without classifying anything.

Each measurement runs in a fresh worker process, so its peak resident memory (``ru_maxrss``) is its own;
``rss growth`` is that peak minus the worker's memory after its imports. Sizes scale 10k -> 100k -> 1M
(``--quick``: 2k -> 10k -> 30k, for CI). Numbers to compare across runs and machines are the ratios.

    .venv/bin/python bench/bench_reclassify.py                 # 10k, 100k, 1M (a few minutes on 2 cores)
    .venv/bin/python bench/bench_reclassify.py --quick --json  # smoke run, JSON on stdout
    .venv/bin/python bench/bench_reclassify.py --sizes 10000,200000 --format jsonl --repeat 3
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (2_000, 10_000, 30_000)
FROM, TO = "2024-12-01", "2025-06-01"
PEOPLE = 12
COLUMNS = ("id", "kind", "name", "path", "model", "training_operations", "published", "parameters", "tokens",
           "training_operations_uncertainty", "tpp", "die_area_mm2", "datacenter", "memory_bandwidth_density",
           "cleared_eccns", "citizenships", "us_person", "licenses")


# ---------------------------------------------------------------------------------------------------------
# The generated inventory


def _ops(rng: random.Random) -> str:
    """Training operations between 10^23 and 10^27, as an exact decimal text (some exactly 10^26)."""
    if rng.random() < 0.02:
        return "1e26"
    exp = rng.randint(23, 26)
    return f"{rng.randint(100, 999) / 100:.2f}e{exp}"


def rows(n: int, seed: int = 26) -> Iterator[dict[str, str]]:
    """``n`` assets (models first: CSV and JSONL stream, so a ``model:`` reference must point back), then
    :data:`PEOPLE` people."""
    rng = random.Random(seed)
    n_models = max(20, n // 200)
    for i in range(n_models):
        row = {"id": f"m{i}", "kind": "model", "name": f"Model {i}", "published": str(rng.random() < 0.2).lower()}
        if rng.random() < 0.3:  # 6ND estimate (with the default +-50% uncertainty)
            row |= {"parameters": f"{rng.randint(1, 900)}e9", "tokens": f"{rng.randint(1, 200)}e12"}
        else:
            row["training_operations"] = _ops(rng)
            if rng.random() < 0.15:
                row["training_operations_uncertainty"] = "20%"
        yield row
    for i in range(n - n_models):
        r = rng.random()
        if r < 0.55:
            m = rng.randrange(n_models)
            kind = "checkpoint" if rng.random() < 0.2 else "model_weights"
            yield {"id": f"w{i}", "kind": kind, "model": f"m{m}", "path": f"models/m{m}/part-{i:07d}.safetensors"}
        elif r < 0.75:
            yield {"id": f"c{i}", "kind": "ic", "name": f"Chip {i}", "tpp": str(rng.randint(800, 20_000)),
                   "die_area_mm2": str(rng.randint(200, 900)), "datacenter": str(rng.random() < 0.7).lower()}
        elif r < 0.80:
            yield {"id": f"h{i}", "kind": "hbm", "memory_bandwidth_density": f"{rng.randint(150, 350) / 100:.2f}"}
        elif r < 0.85:
            yield {"id": f"s{i}", "kind": "computer", "tpp": str(rng.randint(5_000, 200_000)),
                   "die_area_mm2": str(rng.randint(2_000, 8_000)), "datacenter": "true"}
        elif r < 0.95:
            m = rng.randrange(n_models)
            yield {"id": f"t{i}", "kind": "training_config", "model": f"m{m}", "path": f"configs/m{m}/train-{i}.yaml"}
        else:
            yield {"id": f"r{i}", "kind": "repository", "path": f"git@example.com:team/repo-{i}.git",
                   "cleared_eccns": rng.choice(["4E091", "3A090 4A090", "*"])}
    countries = ["US", "CN", "IN", "DE", "IR", "JP", "TR", "FR"]
    for p in range(PEOPLE):
        c = countries[p % len(countries)]
        row = {"id": f"p{p}", "kind": "person", "citizenships": c, "us_person": str(c == "US").lower()}
        if p % 5 == 1:
            row["licenses"] = "4E091::2025-01-01..2025-12-31"
        yield row


def generate(path: Path, n: int, fmt: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        if fmt == "csv":
            w = csv.DictWriter(f, fieldnames=COLUMNS)
            w.writeheader()
            w.writerows(rows(n))
        else:
            for row in rows(n):
                f.write(json.dumps(row) + "\n")


# ---------------------------------------------------------------------------------------------------------
# Workers (one process per measurement)


def _rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(mode: str, path: Path) -> dict[str, Any]:
    import datetime as dt

    from reports.diff import build_diff
    from reports.sides import Side, content_ref
    from rulesdsl.inventory import iter_inventory
    from rulesdsl.ruleset import Ruleset

    t0 = time.perf_counter()
    rs = Ruleset.default()
    setup = time.perf_counter() - t0
    base_rss = _rss_mb()
    out: dict[str, Any] = {"mode": mode, "setup_seconds": setup}
    t0 = time.perf_counter()
    if mode == "parse":
        out["rows"] = sum(1 for _ in iter_inventory(path))
    else:
        ref = content_ref(rs, "embedded default")
        old = Side(rs, ref, dt.date.fromisoformat(FROM), FROM)
        new = Side(rs, ref, dt.date.fromisoformat(TO), TO)
        report = build_diff(old, new, assets=path, strict=True)  # strict: access decisions bind (the worst case)
        s = report.summary()
        out |= {"rows": int(report.inventory["assets"]) + int(report.inventory["people"])  # type: ignore[index]
                if report.inventory else 0, "reclassified": s["assets_reclassified"],
                "reclassified_by_kind": s["reclassified_by_kind"], "access_changes": s["access_changes"],
                "near_threshold": s["near_threshold"], "rule_changes": s["rule_changes"]}
    out["seconds"] = time.perf_counter() - t0
    out["peak_rss_mb"] = _rss_mb()
    out["rss_growth_mb"] = max(0.0, out["peak_rss_mb"] - base_rss)
    return out


def run_worker(mode: str, path: Path) -> dict[str, Any]:
    p = subprocess.run([sys.executable, __file__, "--worker", mode, str(path)], capture_output=True, text=True,
                       timeout=3600, cwd=Path(__file__).resolve().parent.parent)
    if p.returncode != 0:
        raise SystemExit(f"worker {mode} failed:\n{p.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(p.stdout)
    return result


# ---------------------------------------------------------------------------------------------------------
# Driver


def measure(n: int, fmt: str, repeat: int, tmp: Path) -> dict[str, Any]:
    path = tmp / f"inventory-{n}.{fmt}"
    t0 = time.perf_counter()
    generate(path, n, fmt)
    gen = time.perf_counter() - t0
    size_mb = path.stat().st_size / 1e6
    base: list[dict[str, Any]] = []
    subj: list[dict[str, Any]] = []
    for _ in range(repeat):  # interleaved: baseline, subject, baseline, subject ...
        base.append(run_worker("parse", path))
        subj.append(run_worker("reclassify", path))
    b = statistics.median(r["seconds"] for r in base)
    s = statistics.median(r["seconds"] for r in subj)
    last = subj[-1]
    path.unlink()
    return {
        "assets": n, "format": fmt, "file_mb": round(size_mb, 3),
        "generate_seconds": gen, "repeats": repeat,
        "baseline_seconds": b, "seconds": s, "ratio": s / b,
        "baseline_min": min(r["seconds"] for r in base), "baseline_max": max(r["seconds"] for r in base),
        "min": min(r["seconds"] for r in subj), "max": max(r["seconds"] for r in subj),
        "us_per_asset": s / n * 1e6, "baseline_us_per_asset": b / n * 1e6,
        "baseline_peak_rss_mb": max(r["peak_rss_mb"] for r in base),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in subj),
        "baseline_rss_growth_mb": max(r["rss_growth_mb"] for r in base),
        "rss_growth_mb": max(r["rss_growth_mb"] for r in subj),
        "rows": last["rows"], "reclassified": last["reclassified"],
        "reclassified_by_kind": last["reclassified_by_kind"],
        "access_changes": last["access_changes"], "near_threshold": last["near_threshold"],
        "rule_changes": last["rule_changes"],
    }


def table(results: list[dict[str, Any]]) -> str:
    head = (f"{'assets':>9} {'fmt':>5} {'parse s':>8} {'reclass s':>9} {'ratio':>6} {'us/asset':>8} "
            f"{'parse RSS':>9} {'reclass RSS':>11} {'growth MB':>9} {'reclassified':>12} {'access':>8}")
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(f"{r['assets']:>9,} {r['format']:>5} {r['baseline_seconds']:>8.2f} {r['seconds']:>9.2f} "
                     f"{r['ratio']:>6.2f} {r['us_per_asset']:>8.1f} {r['baseline_peak_rss_mb']:>8.0f}M "
                     f"{r['peak_rss_mb']:>10.0f}M {r['rss_growth_mb']:>9.1f} {r['reclassified']:>12,} "
                     f"{r['access_changes']:>8,}")
    if len(results) > 1:
        first = results[0]
        lines.append("")
        lines.append("scaling (per-asset time relative to the smallest size; 1.00 = linear):")
        for r in results:
            lines.append(f"  {r['assets']:>9,}: reclassify {r['us_per_asset'] / first['us_per_asset']:.2f}, "
                         f"parse {r['baseline_us_per_asset'] / first['baseline_us_per_asset']:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"smoke run: sizes {QUICK_SIZES}, one repeat")
    ap.add_argument("--sizes", default=None, help="comma-separated inventory sizes (default 10k,100k,1M)")
    ap.add_argument("--format", dest="fmt", choices=["csv", "jsonl"], default="csv")
    ap.add_argument("--repeat", type=int, default=None, help="runs per size (default 3 below 1M, 1 at 1M)")
    ap.add_argument("--json", nargs="?", const="-", default=None, metavar="PATH",
                    help="also write JSON (to stdout with no PATH; the table then goes to stderr)")
    ap.add_argument("--worker", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], Path(args.worker[1]))))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else list(QUICK_SIZES if args.quick else SIZES)
    results = []
    with tempfile.TemporaryDirectory(prefix="regwatch-bench-") as tmp:
        for n in sizes:
            repeat = args.repeat or (1 if args.quick or n >= 1_000_000 else 3)
            results.append(measure(n, args.fmt, repeat, Path(tmp)))
            print(f"  {n:,} assets done", file=sys.stderr)
    data = {"meta": {"quick": args.quick, "sizes": sizes, "format": args.fmt, "from": FROM, "to": TO, "strict": True,
                     "people": PEOPLE, "python": sys.version.split()[0], "cpus": os.cpu_count()},
            "results": results}
    text = table(results)
    if args.json == "-":
        print(text, file=sys.stderr)
        print(json.dumps(data, indent=2))
    else:
        print(text)
        if args.json:
            Path(args.json).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
