"""Compile targets: one module each (``targets/<name>.py`` + ``targets/templates/<name>/``), listed in ``TARGETS``.

A target module exposes ``NAME``, ``DESCRIPTION`` and ``compile(unit: CompileUnit) -> Bundle`` (see
``targets/base.py``). It reads only the compiler's IR (``compiler.ir``), never the DSL AST. Adding a target
touches its module, its templates, one line below and its test folder — nothing else.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .base import Bundle, CompileUnit, TargetError

# name -> module. Order is the order of `--target all`.
TARGETS: dict[str, str] = {
    "constants": "targets.constants",
    "casbin": "targets.casbin",
    "rego": "targets.rego",
    "githooks": "targets.githooks",
}


def get(name: str) -> ModuleType:
    """The module of target ``name`` (imported on first use: each target's dependencies stay lazy)."""
    if name not in TARGETS:
        raise TargetError(f"unknown target '{name}' (targets: {', '.join(TARGETS)})")
    try:
        return importlib.import_module(TARGETS[name])
    except ModuleNotFoundError as e:
        if e.name == TARGETS[name]:
            raise TargetError(f"target '{name}' is not available in this installation") from None
        raise


def compile_target(name: str, unit: CompileUnit) -> Bundle:
    bundle: Bundle = get(name).compile(unit)
    return bundle


__all__ = ["TARGETS", "Bundle", "CompileUnit", "TargetError", "compile_target", "get"]
