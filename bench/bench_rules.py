"""Benchmarks of the rules DSL and of the CLI cold start, reported as ratios against same-run baselines.

The machines this runs on are small and noisy (2 cores, shared), so absolute seconds are not comparable
from one run to the next. Every measurement is therefore paired with a cheap *baseline* measured in the
same run, interleaved with it (baseline, subject, baseline, subject, ...), and the number to watch is the
ratio ``subject median / baseline median``:

* ``default_parse_validate``: ``Ruleset.default()`` (reads the embedded files, parses, validates) and then
  ``.check()`` (validates again), vs reading the same files and scanning their text (``splitlines()`` and a
  regex tokenization pass).
* ``generated_parse_validate`` / ``generated_parse`` / ``generated_validate``: ``Ruleset.from_text(text)``
  and ``.check()`` on the generated ruleset (5,000 controls; see ``gen_rules.py``), vs scanning the text.
* ``generated_format``: ``format_rules()`` of the parsed generated ruleset, vs scanning the text.
* ``cli_cold_start`` / ``cli_cold_start_vs_imports``: a fresh ``regwatch when 4E091 --as-of 2026-11-26``
  (installed console script, temp dir with no workspace), vs ``python -c pass`` and vs
  ``python -c "import pydantic, click"``.
* ``scaling_parse_validate_N``: parse + validate at 500 / 1,000 / 5,000 controls; the time per control should
  stay flat, ``scaling.per_control_ratio`` (largest / smallest size) shows super-linear behaviour.

Statistic: the median of ``--repeat`` runs (default 5; ``--quick``: 3 runs and 500 controls), after one
untimed warm-up run. The garbage collector stays enabled (as in real use) and ``gc.collect()`` runs before
every timed run; the time spent in collections during parse + validate is reported separately.

Usage::

    .venv/bin/python bench/bench_rules.py                 # full run (about two minutes)
    .venv/bin/python bench/bench_rules.py --quick         # CI smoke (a few seconds)
    .venv/bin/python bench/bench_rules.py --json out.json # also write machine-readable results ('-': stdout)
    .venv/bin/python bench/bench_rules.py --profile       # + cProfile of parse and validate (largest size)
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import json
import os
import platform
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_rules import generate

from rulesdsl.formatter import format_rules
from rulesdsl.ruleset import Ruleset, default_bundle_text

# The baseline tokenizer: the DSL's lexical classes (strings, words, operators, comments) in one C-level
# regex pass. It is the cheapest linear work that touches every byte the parser reads.
TOKEN_RE = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[A-Za-z0-9_][A-Za-z0-9_.:\-^+]*|>=|<=|==|!=|->|[<>(){},*×]')

CLI_ARGS = ("when", "4E091", "--as-of", "2026-11-26")
SUPERLINEAR_LIMIT = 3.0  # per-control time at the largest size / at the smallest size


def scan(text: str) -> int:
    """Baseline: split into lines and tokenize with one regex pass (linear, C speed)."""
    return len(text.splitlines()) + len(TOKEN_RE.findall(text))


# ---------------------------------------------------------------------------------------------------------
# Measurement


class GcTimer:
    """Seconds spent in cyclic garbage collections (all generations) while installed."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full = 0
        self._t0 = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._t0
            self.full += info.get("generation") == 2

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


@dataclass
class Result:
    name: str
    seconds: float  # median
    baseline: str
    baseline_seconds: float  # median
    ratio: float
    repeats: int
    min: float
    max: float
    baseline_min: float
    baseline_max: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def spread(self) -> float:
        """(max - min) / median of the subject: the noise of this measurement in this run."""
        return (self.max - self.min) / self.seconds if self.seconds else 0.0


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def paired(name: str, subject: Callable[[], Any], baseline_name: str, baseline: Callable[[], Any],
           repeats: int, *, warmup: bool = True) -> tuple[Result, list[float], list[float]]:
    """Time ``subject`` and ``baseline`` alternately, ``repeats`` times each (after a warm-up of each)."""
    if warmup:
        baseline()
        subject()
    s_times: list[float] = []
    b_times: list[float] = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        baseline()
        b_times.append(time.perf_counter() - t0)
        gc.collect()
        t0 = time.perf_counter()
        subject()
        s_times.append(time.perf_counter() - t0)
    s, b = _median(s_times), _median(b_times)
    r = Result(name, s, baseline_name, b, s / b, repeats, min(s_times), max(s_times), min(b_times), max(b_times))
    return r, s_times, b_times


def from_samples(name: str, s_times: list[float], baseline_name: str, b_times: list[float],
                 **extra: Any) -> Result:
    s, b = _median(s_times), _median(b_times)
    return Result(name, s, baseline_name, b, s / b, len(s_times), min(s_times), max(s_times), min(b_times),
                  max(b_times), dict(extra))


@dataclass
class PVSample:
    parse: list[float] = field(default_factory=list)
    validate: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    gc: list[float] = field(default_factory=list)
    full_gcs: list[int] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)


def parse_validate(text: str, repeats: int) -> PVSample:
    """``Ruleset.from_text(text)`` then ``.check()``, timed separately, interleaved with ``scan(text)``."""
    out = PVSample()
    Ruleset.from_text(text).check()  # warm-up (and proof that the text is valid)
    scan(text)
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        scan(text)
        out.baseline.append(time.perf_counter() - t0)
        gc.collect()
        with GcTimer() as g:
            t0 = time.perf_counter()
            rs = Ruleset.from_text(text, "generated.rules")
            t1 = time.perf_counter()
            rs.check()
            t2 = time.perf_counter()
        out.parse.append(t1 - t0)
        out.validate.append(t2 - t1)
        out.total.append(t2 - t0)
        out.gc.append(g.seconds)
        out.full_gcs.append(g.full)
        del rs
    return out


def cli_cold_start(repeats: int) -> list[Result]:
    """Fresh processes, interleaved: ``python -c pass``, ``python -c 'import pydantic, click'``, regwatch."""
    exe = Path(sys.executable).parent / "regwatch"
    script = str(exe) if exe.exists() else shutil.which("regwatch")
    if not script:
        raise SystemExit("bench: the regwatch console script is not installed (pip install -e .)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import pydantic, click'": [sys.executable, "-c", "import pydantic, click"],
        "regwatch " + " ".join(CLI_ARGS): [script, *CLI_ARGS],
    }
    times: dict[str, list[float]] = {k: [] for k in commands}
    with tempfile.TemporaryDirectory(prefix="regwatch-bench-") as tmp:
        cwd = Path(tmp).resolve()
        if any((d / "regwatch.toml").is_file() for d in [cwd, *cwd.parents]):
            raise SystemExit(f"bench: a regwatch workspace exists above {cwd}; cannot measure the cold start")
        for rep in range(repeats + 1):  # round 0 is the warm-up (page cache, .pyc files)
            for label, cmd in commands.items():
                t0 = time.perf_counter()
                p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
                elapsed = time.perf_counter() - t0
                if p.returncode != 0:
                    raise SystemExit(f"bench: {label!r} exited {p.returncode}:\n{p.stderr[-2000:]}")
                if cmd[0] == script and "4E091" not in p.stdout:
                    raise SystemExit(f"bench: unexpected output of {label!r}:\n{p.stdout[-2000:]}")
                if rep:
                    times[label].append(elapsed)
    labels = list(commands)
    cli = times[labels[2]]
    return [
        from_samples("cli_cold_start", cli, labels[0], times[labels[0]], command=labels[2]),
        from_samples("cli_cold_start_vs_imports", cli, labels[1], times[labels[1]], command=labels[2]),
    ]


def profile_text(text: str) -> str:
    """cProfile of parse and of validate (top functions by own time)."""
    out = io.StringIO()
    pr = cProfile.Profile()
    pr.enable()
    rs = Ruleset.from_text(text)
    pr.disable()
    out.write("\n== cProfile: parse (Ruleset.from_text)\n")
    pstats.Stats(pr, stream=out).sort_stats("tottime").print_stats(15)
    pr = cProfile.Profile()
    pr.enable()
    rs.check()
    pr.disable()
    out.write("\n== cProfile: validate (Ruleset.check)\n")
    pstats.Stats(pr, stream=out).sort_stats("tottime").print_stats(15)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------------------
# Report


def table(results: list[Result], scaling: dict[str, Any], meta: dict[str, Any]) -> str:
    lines = [
        f"regwatch rules benchmarks: {meta['statistic']} of {meta['repeats']} runs (after a warm-up), "
        f"python {meta['python']}, {meta['cpus']} CPUs{', QUICK' if meta['quick'] else ''}",
        f"generated ruleset: {meta['n_controls']} controls, {meta['generated_lines']} lines, "
        f"{meta['generated_bytes'] / 1e6:.2f} MB",
        "",
        f"{'name':<28} {'median s':>10} {'baseline s':>11} {'ratio':>9} {'spread':>7}  baseline",
    ]
    for r in results:
        lines.append(f"{r.name:<28} {r.seconds:>10.4f} {r.baseline_seconds:>11.4f} {r.ratio:>9.1f} "
                     f"{r.spread:>6.0%}  {r.baseline}")
    lines.append("")
    lines.append("spread = (max - min) / median of the subject over the runs (this run's noise).")
    n = meta["n_controls"]
    by = {r.name: r for r in results}
    pv = by["generated_parse_validate"]
    lines.append(f"per control at {n}: parse+validate {pv.extra['per_control_us']:.0f} us "
                 f"(parse {by['generated_parse'].seconds / n * 1e6:.0f} us, "
                 f"validate {by['generated_validate'].seconds / n * 1e6:.0f} us, "
                 f"cyclic GC {pv.extra['gc_seconds'] / n * 1e6:.0f} us); "
                 f"format {by['generated_format'].seconds / n * 1e6:.0f} us")
    lines.append("")
    lines.append("scaling of parse + validate (time per control should stay flat):")
    lines.append(f"{'controls':>9} {'median s':>10} {'us/control':>11} {'parse us':>9} {'validate us':>12} "
                 f"{'gc us':>7} {'full gcs':>9}")
    for row in scaling["rows"]:
        lines.append(f"{row['n_controls']:>9} {row['seconds']:>10.3f} {row['per_control_us']:>11.0f} "
                     f"{row['parse_per_control_us']:>9.0f} {row['validate_per_control_us']:>12.0f} "
                     f"{row['gc_per_control_us']:>7.0f} {row['full_gcs']:>9}")
    first, last = scaling["rows"][0]["n_controls"], scaling["rows"][-1]["n_controls"]
    lines.append(f"per-control time {last}/{first}: total {scaling['per_control_ratio']:.2f}x, "
                 f"parse {scaling['parse_ratio']:.2f}x, validate {scaling['validate_ratio']:.2f}x, "
                 f"parse+validate without GC time {scaling['no_gc_ratio']:.2f}x"
                 + ("   <-- SUPER-LINEAR" if scaling["per_control_ratio"] > SUPERLINEAR_LIMIT else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Benchmarks of the rules DSL (ratios against same-run baselines).")
    ap.add_argument("--quick", action="store_true", help="small sizes (500 controls, scaling 100/250/500), 3 runs")
    ap.add_argument("--repeat", type=int, help="timed runs per measurement (default 5, quick 3)")
    ap.add_argument("--controls", type=int, help="size of the generated ruleset (default 5000, quick 500)")
    ap.add_argument("--json", nargs="?", const="-", metavar="PATH",
                    help="write results as JSON to PATH ('-' or no PATH: stdout; the table then goes to stderr)")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of parse and validate at the size")
    ap.add_argument("--seed", type=int, default=20261126, help="seed of the generated ruleset")
    args = ap.parse_args(argv)

    repeats = args.repeat or (3 if args.quick else 5)
    n = args.controls or (500 if args.quick else 5000)
    sizes = sorted({s for s in ((100, 250) if args.quick else (500, 1000)) if s < n} | {n})
    report = sys.stderr if args.json == "-" else sys.stdout

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    texts = {s: generate(s, args.seed) for s in sizes}
    text = texts[n]
    results: list[Result] = []

    say(f"bench: default ruleset ({repeats} runs)")
    r, _, _ = paired("default_parse_validate", lambda: Ruleset.default().check(),
                     "read + scan default text", lambda: scan(default_bundle_text()), repeats)
    results.append(r)

    rows = []
    pv_main: PVSample | None = None
    for s in sizes:
        say(f"bench: parse + validate, {s} controls ({repeats} runs)")
        pv = parse_validate(texts[s], repeats)
        if s == n:
            pv_main = pv
        med = _median(pv.total)
        rows.append({
            "n_controls": s, "seconds": med, "baseline_seconds": _median(pv.baseline),
            "per_control_us": med / s * 1e6,
            "parse_per_control_us": _median(pv.parse) / s * 1e6,
            "validate_per_control_us": _median(pv.validate) / s * 1e6,
            "gc_per_control_us": _median(pv.gc) / s * 1e6,
            "no_gc_per_control_us": _median([t - g for t, g in zip(pv.total, pv.gc, strict=True)]) / s * 1e6,
            "full_gcs": int(_median([float(x) for x in pv.full_gcs])),
        })
        results.append(from_samples(f"scaling_parse_validate_{s}", pv.total, "scan text", pv.baseline,
                                    n_controls=s, per_control_us=med / s * 1e6))
    assert pv_main is not None
    base = "scan generated text"
    results.insert(1, from_samples("generated_parse_validate", pv_main.total, base, pv_main.baseline,
                                   n_controls=n, per_control_us=_median(pv_main.total) / n * 1e6,
                                   gc_seconds=_median(pv_main.gc)))
    results.insert(2, from_samples("generated_parse", pv_main.parse, base, pv_main.baseline, n_controls=n,
                                   per_control_us=_median(pv_main.parse) / n * 1e6))
    results.insert(3, from_samples("generated_validate", pv_main.validate, base, pv_main.baseline, n_controls=n,
                                   per_control_us=_median(pv_main.validate) / n * 1e6))

    say(f"bench: format, {n} controls ({repeats} runs)")
    rf = Ruleset.from_text(text).files[0][1]
    r, _, _ = paired("generated_format", lambda: format_rules(rf), base, lambda: scan(text), repeats)
    r.extra = {"n_controls": n, "per_control_us": r.seconds / n * 1e6}
    results.insert(4, r)

    say(f"bench: CLI cold start ({repeats} runs)")
    results.extend(cli_cold_start(repeats))

    first, last = rows[0], rows[-1]
    scaling = {
        "rows": rows,
        "per_control_ratio": last["per_control_us"] / first["per_control_us"],
        "parse_ratio": last["parse_per_control_us"] / first["parse_per_control_us"],
        "validate_ratio": last["validate_per_control_us"] / first["validate_per_control_us"],
        "no_gc_ratio": last["no_gc_per_control_us"] / first["no_gc_per_control_us"],
        "superlinear_limit": SUPERLINEAR_LIMIT,
    }
    scaling["superlinear"] = scaling["per_control_ratio"] > SUPERLINEAR_LIMIT
    meta = {
        "python": platform.python_version(), "implementation": platform.python_implementation(),
        "platform": platform.platform(), "cpus": os.cpu_count(), "quick": args.quick, "repeats": repeats,
        "statistic": "median", "warmup_runs": 1, "n_controls": n, "seed": args.seed, "sizes": sizes,
        "generated_lines": len(text.splitlines()), "generated_bytes": len(text.encode()),
        "default_bytes": len(default_bundle_text().encode()),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    print(table(results, scaling, meta), file=report, flush=True)
    if args.profile:
        print(profile_text(text), file=report, flush=True)
    if args.json:
        payload = {
            "meta": meta,
            "benchmarks": [{**asdict(r), "spread": r.spread} for r in results],
            "scaling": scaling,
        }
        data = json.dumps(payload, indent=2)
        if args.json == "-":
            print(data)
        else:
            Path(args.json).write_text(data + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
