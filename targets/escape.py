"""String literals and comments for every generated language, from untrusted text.

Titles, citations, asset names and paths come from Federal Register documents and inventories, so any of them
may hold quotes, backslashes, newlines, ``$(...)``, backticks, commas, NULs, U+2028 or look-alike characters.
Every generated artifact puts such text only through these functions, which return a complete literal of the
target language (quotes included) whose value is exactly the input, written in ASCII; or a comment body that
cannot end the comment. Registered as jinja2 filters by :func:`targets.render.environment`.
"""

from __future__ import annotations

import json
import re
import shlex

_CTRL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]+")


def json_str(s: str) -> str:
    """JSON (also YAML, Rego and JavaScript/TypeScript: their string syntax accepts JSON's)."""
    return json.dumps(str(s), ensure_ascii=True)


rego_str = json_str
ts_str = json_str
yaml_str = json_str


def py_str(s: str) -> str:
    return ascii(str(s))


def _code_points(s: str, small: str, big: str, byte: str | None = None) -> str:
    out: list[str] = []
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= o < 0x7F:
            out.append(ch)
        elif o < 0x80 and byte is not None:
            out.append(byte % o)
        elif o <= 0xFFFF and not 0xD800 <= o <= 0xDFFF:
            out.append(small % o)
        else:
            out.append(big % o)
    return '"' + "".join(out) + '"'


def toml_str(s: str) -> str:
    """A TOML basic string (\\uXXXX / \\UXXXXXXXX escapes; lone surrogates cannot be represented)."""
    return _code_points(str(s).encode("utf-8", "replace").decode("utf-8"), "\\u%04X", "\\U%08X")


def go_str(s: str) -> str:
    """A Go interpreted string literal (Go rejects surrogate halves in \\u escapes)."""
    return _code_points(str(s).encode("utf-8", "replace").decode("utf-8"), "\\u%04x", "\\U%08x", "\\x%02x")


def c_str(s: str) -> str:
    """A C string literal holding the UTF-8 bytes of ``s``; octal escapes (3 digits, so a following digit is
    never absorbed), ``?`` escaped against trigraphs."""
    out: list[str] = []
    for b in str(s).encode("utf-8", "replace"):
        ch = chr(b)
        if ch in '"\\?':
            out.append("\\" + ch)
        elif 0x20 <= b < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{b:03o}")
    return '"' + "".join(out) + '"'


def rust_str(s: str) -> str:
    return _code_points(str(s).encode("utf-8", "replace").decode("utf-8"), "\\u{%04x}", "\\u{%x}")


def sh_quote(s: str) -> str:
    return shlex.quote(str(s))


def comment(s: str, limit: int = 200) -> str:
    """Text for inside a one-line comment of any language: no line breaks, and nothing that ends a comment
    (``*/``, ``-->``) or starts a shell substitution when pasted."""
    t = _CTRL.sub(" ", str(s)).strip()
    t = t.replace("*/", "* /").replace("/*", "/ *").replace("-->", "-- >").replace("`", "'").replace("$(", "$ (")
    return t if len(t) <= limit else t[: limit - 1] + "…"


_SAFE_TOKEN = re.compile(r"[A-Za-z0-9._:/@+-]")


def token(s: str) -> str:
    """An identifier-safe, reversible encoding (percent-encoding of UTF-8 bytes outside ``[A-Za-z0-9._:/@+-]``)
    for values that must sit unquoted in a format with weak quoting, such as a Casbin policy CSV. The same
    function must encode request values, so equal inputs stay equal."""
    out: list[str] = []
    for ch in str(s):
        if _SAFE_TOKEN.fullmatch(ch):
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
    return "".join(out) or "%"  # a lone '%' never appears otherwise (it is always followed by two hex digits)


def untoken(s: str) -> str:
    from urllib.parse import unquote_to_bytes

    return unquote_to_bytes(s).decode("utf-8", "surrogatepass") if s != "%" else ""


FILTERS = {"json_str": json_str, "rego_str": rego_str, "ts_str": ts_str, "yaml_str": yaml_str, "py_str": py_str,
           "toml_str": toml_str, "go_str": go_str, "c_str": c_str, "rust_str": rust_str, "sh_quote": sh_quote,
           "comment": comment, "token": token}
