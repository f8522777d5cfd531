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
