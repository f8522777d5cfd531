"""``regwatch compile``: the rules, lowered to the IR, written out by each target (targets/)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .common import AsOf, State, UserError, handle_errors, pass_state, today

if TYPE_CHECKING:
    from rulesdsl.ruleset import Ruleset
    from targets.base import Bundle

MANIFEST = ".regwatch-manifest.json"


def rules_and_version(state: State, rules: str | None) -> tuple[Ruleset, str]:
    """The rules to compile and their version id: the store's head id in a workspace, else the sha256 of the
    canonical text (``sha256:...``) so that artifacts from a file or the embedded default are traceable too."""
    from rulesdsl.ruleset import Ruleset
    from rulesdsl.store import RulesStore

    if not rules:
        ws = state.workspace()
        if ws is not None and ws.store_path.exists():
            with RulesStore(ws.store_path) as st:
                head = st.head()
                if head is not None:
                    return Ruleset.from_bundle(st.text(head), f"version {head.id[:12]}"), head.id
    rs, _label = state.ruleset(rules)
    return rs, "sha256:" + rs.content_hash()


def _manifest(bundle: Bundle, target: str, rules_version: str, mode: str) -> bytes:
    files = {p: hashlib.sha256(b).hexdigest() for p, b in sorted(bundle.files.items())}
    data = {"generator": "regwatch compile", "target": target, "rules_version": rules_version, "mode": mode,
            "files": files}
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()


def _write(dest: Path, bundle: Bundle, manifest: bytes) -> None:
    """Write the bundle into ``dest`` (which regwatch owns: it holds our manifest, or is new or empty), each
    file atomically; files of an earlier compile that the bundle no longer has are removed."""
    old: set[str] = set()
    mf = dest / MANIFEST
    if dest.exists():
        if mf.exists():
            try:
                old = set(json.loads(mf.read_text(encoding="utf-8"))["files"])
            except (ValueError, KeyError, TypeError):
                raise UserError(f"{mf}: not a regwatch manifest; refusing to write into {dest}") from None
        elif any(dest.iterdir()):
            raise UserError(f"{dest}: exists, is not empty and was not written by regwatch compile; "
                            "choose another --out")
    for rel, data in sorted([*bundle.files.items(), (MANIFEST, manifest)]):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        mode = 0o755 if data.startswith(b"#!") else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    for rel in sorted(old - set(bundle.files)):
        stale = dest / rel
        if stale.is_file():
            stale.unlink()


def _differences(dest: Path, bundle: Bundle, manifest: bytes) -> list[str]:
    out = []
    for rel, data in sorted([*bundle.files.items(), (MANIFEST, manifest)]):
        p = dest / rel
        if not p.is_file():
            out.append(f"missing {p}")
        elif p.read_bytes() != data:
            out.append(f"differs {p}")
    return out


class CompileFailed(UserError):
    pass


def build_bundles(unit: Any, names: list[str]) -> tuple[list[tuple[str, Bundle, bytes]], list[str]]:
    """Compile ``names`` for ``unit``: (name, bundle, manifest) each, and the diagnostic lines to show.
    An error-level diagnostic or a target error raises :class:`CompileFailed` (nothing is written)."""
    from targets import TargetError, compile_target

    out, shown = [], []
    for n in names:
        try:
            bundle = compile_target(n, unit)
        except TargetError as e:
            raise CompileFailed(f"{n}: {e}") from None
        for d in bundle.diagnostics:
            if d.level != "ignore":
                where = f" ({d.location})" if d.location else ""
                shown.append(f"{n}: {d.level}: {d.rule}{where}: {d.message}")
        errors = [d for d in bundle.diagnostics if d.level == "error"]
        if errors:
            raise CompileFailed(f"{n}: {len(errors)} error-level diagnostic{'s' if len(errors) != 1 else ''}; "
                                "nothing written" + "".join(f"\n{line}" for line in shown))
        out.append((n, bundle, _manifest(bundle, n, unit.rules_version, unit.mode)))
    return out, shown


def write_bundles(root: Path, bundles: list[tuple[str, Bundle, bytes]]) -> list[tuple[str, int, Path]]:
    written = []
    for n, bundle, manifest in bundles:
        _write(root / n, bundle, manifest)
        written.append((n, len(bundle.files), root / n))
    return written


@click.command("compile")
@click.option("--target", "targets_", default="all", show_default=True, metavar="NAME",
              help="casbin, rego, githooks, constants, or all (comma-separated for several).")
@click.option("--as-of", "as_of", type=AsOf(), default=None,
              help="Compile the rules in force on this date (default: today).")
@click.option("--timeline", is_flag=True, help="Compile every dated slice; engines switch rules at their dates.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Output folder (one sub-folder "
              "per target).")
@click.option("--sign", "sign_key", default=None, type=click.Path(dir_okay=False),
              help="PEM private key: sign the OPA bundle (.signatures.json, RS256 JWT).")
@click.option("--key-id", default="regwatch", show_default=True, help="kid of the bundle signature.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the files in --out differ from a fresh compile.")
@click.option("--strict", is_flag=True, help="Treat announced non-enforcement and pending compliance as binding.")
@click.option("--assets", "assets", default=None, type=click.Path(dir_okay=False),
              help="Inventory (docs/inventory.md): assets and people become Casbin links and git-hook paths.")
@click.option("--rules", metavar="PATH", default=None, help="Use this .rules file or folder.")
@pass_state
@handle_errors
def compile_(state: State, targets_: str, as_of: dt.date | None, timeline: bool, out: str, sign_key: str | None,
             key_id: str, check: bool, strict: bool, assets: str | None, rules: str | None) -> None:
    """Compile the rules into enforceable artifacts: Casbin model + policy, an OPA Rego bundle, git hooks and
    FLOP-limit constants. Output is byte-deterministic and carries the rules version id; diagnostics (what a
    target cannot express) go to stderr, and an error-level diagnostic stops the compile (exit 2).
    """
    from targets import TARGETS, CompileUnit

    if as_of is not None and timeline:
        raise UserError("give --as-of or --timeline, not both")
    names = list(TARGETS) if targets_ == "all" else [t.strip() for t in targets_.split(",") if t.strip()]
    for n in names:
        if n not in TARGETS:
            raise UserError(f"--target: unknown target '{n}' (targets: {', '.join(TARGETS)}, all)")
    if sign_key and "rego" not in names:
        raise UserError("--sign applies to the rego target")
    options: dict[str, Any] = {"strict": strict}
    if assets:
        from rulesdsl.inventory import load_inventory

        options["inventory"] = load_inventory(assets)  # InventoryError: one line naming file:row:field
    if sign_key:
        try:
            options["sign_key"] = Path(sign_key).read_bytes()
        except OSError as e:
            raise UserError(f"--sign {sign_key}: cannot read: {e.strerror}") from None
        options["key_id"] = key_id
    rs, version = rules_and_version(state, rules)
    for asset in getattr(options.get("inventory"), "assets", ()):
        problem = rs.asset_problem(asset)
        if problem:
            raise UserError(f"{assets}: {problem}")
    if timeline:
        unit = CompileUnit.for_timeline(rs, rules_version=version, strict=strict, options=options)
    else:
        unit = CompileUnit.for_date(rs, as_of or today(), rules_version=version, strict=strict, options=options)
    root = Path(out)
    stale: list[str] = []
    try:
        bundles, shown = build_bundles(unit, names)
    except CompileFailed as e:
        first, *rest = str(e).split("\n")
        for line in rest:
            click.echo(line, err=True)
        raise UserError(first) from None
    for line in shown:
        click.echo(line, err=True)
    if check:
        for n, bundle, manifest in bundles:
            stale += _differences(root / n, bundle, manifest)
    else:
        for n, count, dest in write_bundles(root, bundles):
            click.echo(f"{n}: {count} files in {dest}")
    if check:
        for s in stale:
            click.echo(s)
        click.echo(f"{len(stale)} files out of date" if stale else "artifacts are up to date")
        sys.exit(1 if stale else 0)
    click.echo(f"rules version {version} ({'timeline' if timeline else f'as of {unit.as_of}'})")
