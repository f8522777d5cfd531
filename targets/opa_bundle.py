"""OPA bundles: deterministic ``bundle.tar.gz``, exact JSON, OPA's signature format and its verifier.

No installable engine here loads an OPA tarball (TARGETS.md §2), so this module is the bundle layer: it
writes the tarball that ``opa run -b`` / a bundle server would serve, signs it the way ``opa sign`` does and
verifies it the way OPA's bundle reader does (``v1/bundle/verify.go``), so a bundle that passes here is one
that OPA accepts and a tampered one is rejected for the same reasons.

Why each rule:

* **Exact numbers.** Thresholds such as 10^26 have no binary64 form, and OPA compares JSON numbers exactly
  (as big rationals). :class:`Num` carries a number's decimal text into :func:`dumps` untouched; Python's
  ``json`` would go through ``float``.
* **Byte-deterministic tarball.** Sorted entries, mtime 0, uid/gid 0, no user names, mode 0644, USTAR, gzip
  header without name or time: compiling the same rules twice gives the same bytes (and the same signature:
  RS256 = RSASSA-PKCS1-v1_5 is deterministic, and the token has no ``iat``).
* **Digests as OPA computes them.** ``.rego`` files: SHA-256 of the bytes. ``data.json``/``data.yaml``/
  ``.manifest``: SHA-256 of the *canonical JSON* (keys sorted, no spaces, numbers as written, strings as Go's
  encoder with ``SetEscapeHTML(false)`` writes them), so whitespace changes do not break a signature but
  any change of content does.
* **Exact file set.** OPA rejects a file that the signature does not list and a listed file that is missing;
  so does :func:`verify`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

SIGNATURES = ".signatures.json"
MANIFEST = ".manifest"
_STRUCTURED = {"data.json", "data.yaml", "data.yml", MANIFEST}
_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-224": "sha224", "SHA-256": "sha256", "SHA-384": "sha384",
           "SHA-512": "sha512", "SHA-512-224": "sha512_224", "SHA-512-256": "sha512_256"}


class BundleError(Exception):
    """The bundle is not valid or was tampered with (one line saying what)."""


class KeyFileError(Exception):
    """A key cannot be read or is not a usable RSA key (a usage error, not a bad bundle)."""


# ---------------------------------------------------------------------------------------------------------
# Exact JSON


class Num(str):
    """A JSON number kept as its exact decimal text (``Num("100000000000000000000000000")``)."""

    __slots__ = ()


def _go_str(s: str) -> str:
    """A JSON string as Go's encoder writes it with SetEscapeHTML(false) (Go >= 1.22: ``\\b``/``\\f``)."""
    return json.dumps(s, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def dumps(value: Any, *, indent: int | None = 2, ascii_only: bool = True) -> str:
    """Deterministic JSON with :class:`Num` numbers written exactly: sorted keys, ``indent`` spaces (None:
    canonical, no whitespace), ASCII-only unless told otherwise, no trailing newline."""
    sep = ","

    def enc_str(s: str) -> str:
        return json.dumps(s, ensure_ascii=True) if ascii_only else _go_str(s)

    def walk(v: Any, depth: int) -> str:
        if isinstance(v, Num):
            return str.__str__(v)
        if isinstance(v, str):
            return enc_str(v)
        if v is None:
            return "null"
        if v is True:
            return "true"
        if v is False:
            return "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, float):
            raise TypeError(f"float {v!r} in exact JSON: use Num(decimal text)")
        pad = "" if indent is None else "\n" + " " * (indent * (depth + 1))
        end = "" if indent is None else "\n" + " " * (indent * depth)
        colon = ":" if indent is None else ": "
        if isinstance(v, Mapping):
            if not v:
                return "{}"
            items = [pad + enc_str(k) + colon + walk(v[k], depth + 1) for k in sorted(v)]
            return "{" + sep.join(items) + end + "}"
        if isinstance(v, list | tuple):
            if not v:
                return "[]"
            if indent is not None and all(x is None or isinstance(x, str | int) for x in v):
                return "[" + ", ".join(walk(x, depth + 1) for x in v) + "]"  # scalars on one line
            return "[" + sep.join(pad + walk(x, depth + 1) for x in v) + end + "]"
        raise TypeError(f"not JSON: {type(v).__name__}")

    return walk(value, 0)


def loads_exact(text: str | bytes) -> Any:
    """JSON with every number as :class:`Num` (its text as written), as OPA's ``json.Number`` keeps it."""

    def bad_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_int=Num, parse_float=Num, parse_constant=bad_constant)


def canonical(value: Any) -> bytes:
    """What OPA hashes for a structured file: keys sorted, no whitespace, Go string escaping, numbers as
    written (``v1/bundle/hash.go``)."""
    return dumps(value, indent=None, ascii_only=False).encode("utf-8")


def file_digest(name: str, data: bytes, algorithm: str = "SHA-256") -> str:
    """The hex digest OPA records for bundle file ``name`` (structured files: of their canonical JSON)."""
    if algorithm not in _HASHES:
        raise BundleError(f"{name}: unsupported hashing algorithm {algorithm!r}")
    payload = data
    if PurePosixPath(name).name in _STRUCTURED:
        if PurePosixPath(name).name != "data.json" and PurePosixPath(name).name != MANIFEST:
            raise BundleError(f"{name}: YAML data files are not supported by this verifier")
        try:
            payload = canonical(loads_exact(data.decode("utf-8")))
        except (UnicodeDecodeError, ValueError) as e:
            raise BundleError(f"{name}: not valid JSON ({e})") from None
    return hashlib.new(_HASHES[algorithm], payload).hexdigest()


# ---------------------------------------------------------------------------------------------------------
# Tarball


def _safe_name(name: str) -> str:
    p = PurePosixPath(name.lstrip("/"))
    if not p.parts or ".." in p.parts or name.lstrip("/") != str(p):
        raise BundleError(f"unsafe path in bundle: {name!r}")
    return str(p)


def tarball(files: Mapping[str, bytes]) -> bytes:
    """A gzipped tar of ``files`` (relative path -> bytes) that is the same bytes on every run."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(_safe_name(name))
            info.size = len(files[name])
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            tar.addfile(info, io.BytesIO(files[name]))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def untar(data: bytes, limit: int = 256 * 1024 * 1024) -> dict[str, bytes]:
    """The regular files of a bundle tarball. Duplicates, links, devices and unsafe paths are rejected (a
    second copy of a file could otherwise hide behind the verified one)."""
    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise BundleError(f"not a gzip file ({e})") from None
    if len(raw) > limit:
        raise BundleError("bundle too large")
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            for m in tar.getmembers():
                if m.isdir():
                    continue
                if not m.isreg():
                    raise BundleError(f"{m.name}: not a regular file (links and devices are not allowed)")
                name = _safe_name(m.name)
                if name in files:
                    raise BundleError(f"{name}: appears twice in the tarball")
                f = tar.extractfile(m)
                assert f is not None
                files[name] = f.read()
    except tarfile.TarError as e:
        raise BundleError(f"not a tar archive ({e})") from None
    return files


# ---------------------------------------------------------------------------------------------------------
# Signing and verification


def _private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as e:
        raise KeyFileError(f"not an unencrypted PEM private key ({str(e).splitlines()[0]})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFileError("the signing key must be an RSA key (RS256)")
    return key


def public_key(pem: bytes) -> Any:
    """An RSA public key from PEM (SubjectPublicKeyInfo, PKCS#1 or a certificate)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key: Any
    try:
        key = x509.load_pem_x509_certificate(pem).public_key() if b"CERTIFICATE" in pem else \
            load_pem_public_key(pem)
    except (ValueError, TypeError) as e:
        raise KeyFileError(f"not a PEM public key ({str(e).splitlines()[0]})") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyFileError("the verification key must be an RSA public key (RS256)")
    return key


def signature_payload(files: Mapping[str, bytes], scope: str | None = None) -> dict[str, Any]:
    """The JWT claims of ``.signatures.json``: one entry per file (sorted), as ``opa sign`` writes them."""
    entries = [{"name": n, "hash": file_digest(n, files[n]), "algorithm": "SHA-256"}
               for n in sorted(files) if n != SIGNATURES]
    payload: dict[str, Any] = {"files": entries}
    if scope:
        payload["scope"] = scope
    return payload


def sign(files: Mapping[str, bytes], key_pem: bytes, key_id: str, scope: str | None = None) -> bytes:
    """The ``.signatures.json`` for ``files``: ``{"signatures": [<one RS256 JWT>]}`` with ``kid``."""
    import jwt

    token = jwt.encode(signature_payload(files, scope), _private_key(key_pem), algorithm="RS256",
                       headers={"kid": key_id})
    return (json.dumps({"signatures": [token]}, indent=2, sort_keys=True) + "\n").encode("ascii")


@dataclass(frozen=True)
class Verified:
    files: tuple[str, ...]
    revision: str | None
    key_id: str | None
    scope: str


def read_bundle(path: str) -> dict[str, bytes]:
    """The files of a bundle: a ``.tar.gz`` or an unpacked directory. OSError: cannot read (usage error)."""
    from pathlib import Path

    p = Path(path)
    if p.is_dir():
        return {str(f.relative_to(p).as_posix()): f.read_bytes() for f in sorted(p.rglob("*")) if f.is_file()}
    return untar(p.read_bytes())


def verify(files: Mapping[str, bytes], key_pem: bytes, *, scope: str | None = None,
           key_id: str | None = None) -> Verified:
    """Check a bundle as OPA's reader does: exactly one RS256 JWT signed by ``key_pem``, the scope equal to
    ``scope`` (none: empty), every file's digest, and the file set equal to the signed one.
    Raises :class:`BundleError` (what is wrong) or :class:`KeyFileError` (the key is unusable)."""
    import jwt

    key = public_key(key_pem)
    if SIGNATURES not in files:
        raise BundleError("unsigned bundle: no .signatures.json")
    try:
        sigs = json.loads(files[SIGNATURES])
        tokens = sigs["signatures"]
        assert isinstance(tokens, list)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise BundleError(".signatures.json: not {\"signatures\": [JWT]}") from None
    if len(tokens) != 1 or not isinstance(tokens[0], str):
        raise BundleError(f".signatures.json: expected exactly one JWT, found {len(tokens)}")
    token = tokens[0]
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as e:
        raise BundleError(f"malformed JWT ({e})") from None
    if header.get("alg") != "RS256":
        raise BundleError(f"JWT algorithm {header.get('alg')!r} is not RS256")
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    if key_id is not None and kid != key_id:
        raise BundleError(f"JWT kid {kid!r} is not the expected key id {key_id!r}")
    try:
        claims = jwt.decode(token, key, algorithms=["RS256"], options={"verify_aud": False, "verify_iat": False})
    except jwt.InvalidSignatureError:
        raise BundleError("invalid signature (wrong key, or the signature was altered)") from None
    except jwt.PyJWTError as e:
        raise BundleError(f"JWT rejected ({e})") from None
    got_scope = claims.get("scope", "") or ""
    if got_scope != (scope or ""):
        raise BundleError(f"scope mismatch: the bundle is signed for {got_scope!r}, expected {scope or ''!r}")
    signed: dict[str, dict[str, Any]] = {}
    for entry in claims.get("files") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise BundleError("JWT files: malformed entry")
        signed[entry["name"].lstrip("/")] = entry
    present = {n for n in files if n != SIGNATURES}
    extra, missing = sorted(present - set(signed)), sorted(set(signed) - present)
    if extra:
        raise BundleError(f"file not included in bundle signature: {extra[0]}")
    if missing:
        raise BundleError(f"file in bundle signature but not in the bundle: {missing[0]}")
    for name in sorted(present):
        entry = signed[name]
        want = str(entry.get("hash", ""))
        if file_digest(name, files[name], str(entry.get("algorithm") or "")) != want.lower():
            raise BundleError(f"{name}: digest mismatch (the file was changed after signing)")
    revision = None
    if MANIFEST in files:
        try:
            revision = json.loads(files[MANIFEST]).get("revision")
        except (ValueError, AttributeError):
            raise BundleError(".manifest: not a JSON object") from None
    return Verified(tuple(sorted(present)), revision, kid, got_scope)
