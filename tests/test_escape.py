"""targets/escape.py: every literal reads back as exactly the input in the real language, for hostile strings."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from targets.escape import c_str, comment, go_str, json_str, py_str, rust_str, sh_quote, token, toml_str, untoken

HOSTILE = [
    "", 'a"b', "back\\slash", "new\nline", "cr\rlf", "tab\t", "$(rm -rf /)", "`id`", "a,b, c", "nul\x00byte",
    "line\u2028sep", "para\u2029sep", "\ufeffbom", "caf\u00e9", "\u0410\u0412\u0421 (Cyrillic look-alikes)",
    "emoji \U0001F600", "*/ -- --> #", "package evil\nimport rego.v1\nallow := true", "??=trigraph", "\\u0041",
    "%41 percent", "del\x7f", "c1\x85", 'x"; rm -rf / #', "'single'", "{{ jinja }}", "1\\\n2",
]


@pytest.mark.parametrize("s", HOSTILE)
def test_python_json_toml(s: str) -> None:
    assert ast.literal_eval(py_str(s)) == s
    assert json.loads(json_str(s)) == s
    assert json_str(s).isascii() and py_str(s).isascii() and toml_str(s).isascii()
    clean = s.encode("utf-8", "replace").decode("utf-8")
    assert tomllib.loads(f"k = {toml_str(s)}\n")["k"] == clean


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_roundtrips_any_text(s: str) -> None:
    assert ast.literal_eval(py_str(s)) == s
    assert json.loads(json_str(s)) == s
    assert untoken(token(s)) == s
    assert all((c.isalnum() and c.isascii()) or c in "._:/@+-%" for c in token(s))
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return  # lone surrogates: TOML cannot hold them
    assert tomllib.loads(f"k = {toml_str(s)}\n")["k"] == s


def test_token_is_injective_on_edge_cases() -> None:
    values = ["", "\x00", "%", "%00", "%25", "a b", "a%20b", "a,b"]
    assert len({token(v) for v in values}) == len(values)
    assert all("," not in token(v) and " " not in token(v) for v in values)


def test_comment_cannot_escape() -> None:
    for s in HOSTILE:
        c = comment(s)
        assert "\n" not in c and "\r" not in c and "*/" not in c and "-->" not in c and "`" not in c
        assert "$(" not in c and "\u2028" not in c


def test_shell_quote_in_real_sh(tmp_path: Path) -> None:
    for s in HOSTILE:
        if "\x00" in s:
            continue  # argv cannot carry NUL
        out = subprocess.run(["sh", "-c", f"printf %s {sh_quote(s)}"], capture_output=True, timeout=10)
        assert out.stdout.decode("utf-8", "surrogateescape") == s


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
def test_c_literals_compile_to_the_bytes(tmp_path: Path) -> None:
    cases = list(HOSTILE)
    body = "\n".join(f"  fwrite({c_str(s)}, 1, sizeof({c_str(s)}) - 1, stdout); putchar(0xff);" for s in cases)
    src = tmp_path / "t.c"
    src.write_text(f'#include <stdio.h>\nint main(void) {{\n{body}\n  return 0;\n}}\n', encoding="ascii")
    exe = tmp_path / "t"
    subprocess.run(["gcc", "-Wall", "-Werror", "-Wno-trigraphs", "-trigraphs", "-o", str(exe), str(src)],
                   check=True, timeout=60)
    out = subprocess.run([str(exe)], capture_output=True, check=True, timeout=10).stdout
    assert out.split(b"\xff")[:-1] == [s.encode("utf-8") for s in cases]


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_js_literals_in_node() -> None:
    prog = "process.stdout.write(JSON.stringify([" + ",".join(json_str(s) for s in HOSTILE) + "]));"
    out = subprocess.run(["node", "-e", prog], capture_output=True, text=True, check=True, timeout=30).stdout
    assert json.loads(out) == HOSTILE


@pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc not installed")
def test_rust_literals(tmp_path: Path) -> None:
    cases = list(HOSTILE)
    body = "\n".join(f"    print!(\"{{}}\\u{{1}}\", {rust_str(s)});" for s in cases)
    src = tmp_path / "t.rs"
    src.write_text(f"fn main() {{\n{body}\n}}\n", encoding="ascii")
    exe = tmp_path / "t"
    subprocess.run(["rustc", "--edition", "2021", "-o", str(exe), str(src)], check=True, timeout=120,
                   capture_output=True)
    out = subprocess.run([str(exe)], capture_output=True, check=True, timeout=10).stdout.decode("utf-8")
    assert out.split("\x01")[:-1] == cases


def test_go_literal_syntax() -> None:
    # Go is not installed here: check the escapes Go accepts (\\xNN for ASCII controls, \\u for BMP non-surrogates,
    # \\U beyond) by decoding them the way Go's strconv.Unquote would
    import re

    for s in [*HOSTILE, "\U0001F600\ud7ff\ue000"]:
        lit = go_str(s)
        assert lit.isascii() and lit.startswith('"') and lit.endswith('"')
        body = lit[1:-1]
        decoded = re.sub(r'\\(x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8}|["\\])',
                         lambda m: m.group(1) if m.group(1) in '"\\' else chr(int(m.group(1)[1:], 16)), body)
        assert decoded == s
        assert not re.search(r"\\u[dD][89abAB]", body)  # no surrogate halves
