from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def regwatch_exe() -> str:
    """The installed console script (next to this interpreter, else on PATH)."""
    cand = Path(sys.executable).parent / "regwatch"
    if cand.exists():
        return str(cand)
    found = shutil.which("regwatch")
    if not found:
        pytest.fail("the regwatch console script is not installed (pip install -e .)")
    return found


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """Run the installed ``regwatch`` in a clean temp dir (no workspace above it), no network."""
    home = tmp_path / "cwd"
    home.mkdir(exist_ok=True)

    def _run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
             input: str | None = None) -> subprocess.CompletedProcess[str]:
        e = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
        e["REGWATCH_TODAY"] = "2026-11-26"
        e.update(env or {})
        return subprocess.run([regwatch_exe(), *args], cwd=cwd or home, env=e, capture_output=True, text=True,
                              timeout=120, input=input)

    return _run


def assert_no_traceback(p: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout, p.stderr


# ---------------------------------------------------------------------------------------------------------
# Golden files: tests/golden/<target>/<case>/... ; `pytest --update-goldens` rewrites them (review the git diff).

GOLDEN = ROOT / "tests" / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite tests/golden/ from the current outputs (then review them with git diff)")


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, dict[str, bytes]], None]:
    """``golden("constants/default-2025-06-01", files)``: the files must equal the reviewed golden copy."""
    update = bool(request.config.getoption("--update-goldens"))

    def check(case: str, files: dict[str, bytes]) -> None:
        root = GOLDEN / case
        if update:
            if root.exists():
                shutil.rmtree(root)
            for rel, data in files.items():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_bytes(data)
            return
        assert root.is_dir(), f"no golden files for {case}: run pytest --update-goldens and review the diff"
        have = {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
        assert sorted(have) == sorted(files), f"{case}: file lists differ"
        for rel, data in files.items():
            assert have[rel] == data, f"{case}/{rel} differs from the golden file (pytest --update-goldens, review)"

    return check
