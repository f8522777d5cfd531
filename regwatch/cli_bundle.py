"""``regwatch verify-bundle``: check an OPA bundle's signature the way OPA does, before anyone deploys it.

Exit codes are the API: 0 verified, 1 the bundle is unsigned, tampered with or signed by another key or for
another scope (one line saying what), 2 usage error (unreadable bundle or key file, not a usable key).
The work is :func:`targets.opa_bundle.verify`; this command only reads files and prints.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import UserError, handle_errors


@click.command("verify-bundle")
@click.argument("bundle", type=click.Path(dir_okay=True))
@click.option("--key", "key", required=True, type=click.Path(dir_okay=False),
              help="PEM public key (or certificate) of the signer (RS256).")
@click.option("--scope", default=None, help="Scope the bundle must be signed for (default: none).")
@click.option("--key-id", "key_id", default=None, help="Require this kid in the signature header.")
@handle_errors
def verify_bundle(bundle: str, key: str, scope: str | None, key_id: str | None) -> None:
    """Verify an OPA bundle (bundle.tar.gz or its unpacked folder): exactly one RS256 JWT in
    .signatures.json signed by KEY, the scope, every file's digest and the exact set of files.
    Exit 0: verified; 1: rejected (one line saying why); 2: unreadable file or unusable key.
    """
    from targets import opa_bundle

    try:
        pem = Path(key).read_bytes()
    except OSError as e:
        raise UserError(f"--key {key}: cannot read: {e.strerror}") from None
    try:
        files = opa_bundle.read_bundle(bundle)
    except OSError as e:
        raise UserError(f"{bundle}: cannot read: {e.strerror}") from None
    except opa_bundle.BundleError as e:
        click.echo(f"regwatch: {bundle}: rejected: {e}", err=True)
        sys.exit(1)
    try:
        result = opa_bundle.verify(files, pem, scope=scope, key_id=key_id)
    except opa_bundle.KeyFileError as e:
        raise UserError(f"--key {key}: {e}") from None
    except opa_bundle.BundleError as e:
        click.echo(f"regwatch: {bundle}: rejected: {e}", err=True)
        sys.exit(1)
    click.echo(f"{bundle}: verified: {len(result.files)} files, revision {result.revision}, "
               f"key id {result.key_id}, scope {result.scope or '(none)'}")
