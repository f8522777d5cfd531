"""Smoke test of ``bench/bench_reclassify.py``: the generated inventory is valid and the quick run reports every
number. No timing assertions: performance is read from the bench's ratios against its same-run baseline."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from rulesdsl.inventory import Asset, Subject, iter_inventory

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench" / "bench_reclassify.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_reclassify", BENCH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_generated_inventory_streams_in_both_formats(tmp_path: Path) -> None:
    bench = _bench()
    for fmt in ("csv", "jsonl"):
        path = tmp_path / f"inv.{fmt}"
        bench.generate(path, 3_000, fmt)
        rows = list(iter_inventory(path))  # models come first: a streamed file needs them before their weights
        assets = [r for r in rows if isinstance(r, Asset)]
        assert len(assets) == 3_000 and sum(isinstance(r, Subject) for r in rows) == bench.PEOPLE
        kinds = {a.kind for a in assets}
        assert {"model", "model_weights", "checkpoint", "ic", "hbm", "computer", "training_config",
                "repository"} <= kinds
        assert any(a.attributes.get("training_operations_estimated") for a in assets)


def test_bench_quick_json_reports_every_number() -> None:
    p = subprocess.run([sys.executable, str(BENCH), "--quick", "--json"], cwd=ROOT, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    data = json.loads(p.stdout)
    assert data["meta"]["quick"] is True and data["meta"]["strict"] is True
    results = data["results"]
    assert [r["assets"] for r in results] == data["meta"]["sizes"] and max(data["meta"]["sizes"]) <= 100_000
    for r in results:
        for key in ("seconds", "baseline_seconds", "ratio", "us_per_asset", "baseline_us_per_asset", "peak_rss_mb",
                    "baseline_peak_rss_mb", "file_mb"):
            assert isinstance(r[key], float) and r[key] > 0, (r["assets"], key, r[key])
        assert r["rss_growth_mb"] >= 0 and r["rows"] == r["assets"] + data["meta"]["people"]
        assert 0 < r["reclassified"] < r["assets"] and r["access_changes"] > 0 and r["near_threshold"] > 0
        assert set(r["reclassified_by_kind"]) <= {"newly_controlled", "reclassified", "decontrolled", "review",
                                                  "status"}
    assert "scaling" in p.stderr and "reclass s" in p.stderr  # the table goes to stderr with --json
