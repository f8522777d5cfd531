"""Property tests of the rules DSL front end (hypothesis).

(a) Whatever the text, ``parse_text`` and ``Ruleset.from_text(...).diagnostics()`` raise nothing but
    :class:`~rulesdsl.errors.DslError` (random text, token soup, unicode, NULs, tabs, very long lines,
    thousands of nested parentheses).
(b) Mutations of the default ruleset's files (delete / duplicate / swap lines, delete / insert characters,
    replace tokens) raise nothing but ``DslError``, and whatever still parses formats back to the same AST;
    comment lines and end-of-line comments inserted anywhere outside parentheses are all kept.
(c) Generated ASTs (conditions nesting and/or/not/comparisons, exact numbers with huge exponents and
    decimals, strings with quotes, backslashes, newlines, ``$(...)`` and backticks, comments) and generated
    number spellings round-trip through format/parse.

Examples are kept small so that the file runs in well under a minute on two cores; set ``DSL_FUZZ_SCALE``
(an integer, default 1) to multiply every example count for a longer local run.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulesdsl import ast as A
from rulesdsl.errors import DslError
from rulesdsl.formatter import format_rules
from rulesdsl.lexer import lex
from rulesdsl.parser import RESERVED, parse_text
from rulesdsl.ruleset import Ruleset, default_rules_files

SCALE = max(int(os.environ.get("DSL_FUZZ_SCALE", "1")), 1)
DEFAULT_FILES = default_rules_files()


def fuzz(n: int) -> Any:
    return settings(max_examples=n * SCALE, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


def front_end(text: str) -> A.RulesFile | None:
    """Parse and validate; only DslError may escape (and it must render). The AST, or None on errors."""
    try:
        rf = parse_text(text, "fuzz.rules")
        diags = Ruleset.from_text(text, "fuzz.rules").diagnostics()  # the validator reports, it never raises
    except DslError as e:
        assert e.diagnostics
        for d in e.diagnostics:
            assert d.render().startswith(f"{d.file}:{d.line}:{d.col}: ")
            # the parser's last-resort handler turns an unexpected exception into this message: a bug
            assert not d.message.startswith("internal parser error"), d.message
        return None
    for d in diags:
        assert d.level in ("error", "warning") and d.render()
    return rf


def assert_round_trip(rf: A.RulesFile) -> None:
    text = format_rules(rf)
    try:
        again = parse_text(text, "formatted.rules")
    except DslError as e:  # pragma: no cover - a failure message
        raise AssertionError(f"formatted text does not parse:\n{text}\n{e}") from None
    assert again == rf, text
    assert format_rules(again) == text


# ---- (a) random text -----------------------------------------------------------------------------------

KEYWORDS = ["ruleset", "document", "unit", "kind", "attribute", "parameter", "group", "exception", "control",
            "access", "hint", "applies", "to", "when", "except", "reason", "effective", "compliance", "license",
            "required", "policy", "exceptions", "status", "suspended", "not_enforced", "rescinded", "from",
            "through", "cite", "at", "confidence", "high", "low", "unresolved", "scope", "end", "and", "or", "not",
            "in", "group", "meets", "true", "false", "all", "subject.us_person", "subject.citizenships",
            "subject.nope", "subject.", "on", "actions", "read", "export", "release", "allow", "deny", "unless",
            "number", "bool", "string", "default", "of", "role", "exclusion", "add", "remove", "section",
            "citation", "published", "title", "rin", "kind", "fr_rule", "weights", "->", "x", "×", "*",
            "4E091", "3A090.a", "3A090", "D:5", "AIA", "CN", "2025-00636", "2025-01-13", "2025-02-30",
            "10^26", "5", "1e26", "26_900_000", "5.92", "1e999", "10^-400", "0e5", "tpp", "ai_training_operations",
            "training_operations", "published", "model", "ic", "operations", ">=", ">", "<", "<=", "==", "!=",
            "(", ")", "{", "}", ",", '"', '"x"', '"a \\" b"', "#", "# c", "\\", "\t", "\n", "\n  ", "\n    ",
            "\r\n", "\x00", "é", "中", "\u00a0", "\u2028", "\ufeff", "$(rm)", "`x`", ";", "=", "'"]

token_soup = st.lists(st.sampled_from(KEYWORDS), max_size=60).map(" ".join)
glued_soup = st.lists(st.one_of(st.sampled_from(KEYWORDS), st.text(max_size=4)), max_size=60).map("".join)
any_text = st.text(max_size=300)
dsl_chars = st.text(alphabet=st.sampled_from(list(' \t\n\r"#(){},*×-><=!^._:\\\x00aZ09é中\u00a0')), max_size=300)


@fuzz(250)
@given(st.one_of(any_text, dsl_chars, token_soup, glued_soup))
def test_random_text_raises_only_dsl_error(text: str) -> None:
    front_end(text)


@fuzz(150)
@given(st.lists(st.tuples(st.integers(0, 3), token_soup), max_size=12))
def test_random_lines_raise_only_dsl_error(lines: list[tuple[int, str]]) -> None:
    """Declaration-like heads and indented clause-like lines built from DSL tokens."""
    front_end("\n".join("  " * indent + body for indent, body in lines))


HEAD = "attribute a bool\nattribute n number\ncontrol 4E091\n  applies to m\n  when "


@pytest.mark.parametrize("text", [
    "(" * 5000,
    ")" * 5000,
    "{" * 5000,
    HEAD + "(" * 5000,
    HEAD + "(" * 5000 + "a" + ")" * 5000,
    HEAD + "(" * 5000 + "a" + ")" * 4999,
    HEAD + "not " * 5000 + "a",
    HEAD + "not (" * 2000 + "a" + ")" * 2000,
    HEAD + "a and (" * 3000 + "a" + ")" * 3000,
    HEAD + "n in {" + "{" * 5000,
    HEAD + " or ".join(["a"] * 20000),
    HEAD + "a" + " " * 100_000 + "and a",
    "unit " + "u" * 200_000,
    'unit u "' + "x" * 200_000,
    'unit u "' + "\\" * 100_001 + '"',
    "#" * 100_000,
    "\x00" * 1000,
    "\t" * 1000 + "unit u",
    "parameter p unit u\n  from 2025-01-13 " + "9" * 10_000,
    "parameter p unit u\n  from 2025-01-13 10^" + "9" * 5000,
    "parameter p unit u\n  from 2025-01-13 1e-" + "9" * 5000,
    "parameter p unit u\n  from 2025-01-13 5 x 10^400 x 10^400",
    "parameter p unit u\n  from 9999-12-31 10^400\n  from 0001-01-01 10^-400",
    "\ufeffunit u",
    "unit u\r\r\r\nkind k\r",
    "\n".join(f"unit u{i}" for i in range(5000)),
], ids=lambda t: repr(t[:40]) + f"..{len(t)}")
def test_pathological_inputs_raise_only_dsl_error(text: str) -> None:
    front_end(text)


@pytest.mark.parametrize("depth", [10, 100, 200, 400, 800, 990, 1000, 5000])
def test_deep_not_nesting(depth: int) -> None:
    """Deep 'not' chains either parse (and then validate and format) or give a located DslError."""
    text = HEAD + "not " * depth + "a\n  effective 2025-01-13\n"
    rf = front_end(text)
    if rf is not None:
        once = format_rules(rf)
        assert format_rules(parse_text(once)) == once


# ---- (b) mutations of the default ruleset -------------------------------------------------------------

TOKEN_RE = re.compile(r'"(?:[^"\\]|\\.)*"|[^\s"]+')
REPLACEMENTS = ["", "x", "(", ")", '"', "#", "10^26", "1e26", "5 x 10^25", "2025-02-30", "9999-99-99", "and",
                "or", "not", "from", "through", "cite", "end", "all", "except", "when", "CN", "D:5", "4E091",
                "3A090", "meets", "subject.us_person", "{", "}", ",", "\t", "\x00", "é", '"a\\"b"', "0 x 10^3"]


@st.composite
def mutated_default(draw: st.DrawFn) -> str:
    _name, text = draw(st.sampled_from(DEFAULT_FILES))
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["del_line", "dup_line", "swap_lines", "del_char", "ins_char", "replace_token",
                                   "indent", "dedent"]))
        if not lines:
            lines = [""]
        i = draw(st.integers(0, len(lines) - 1))
        line = lines[i]
        if op == "del_line":
            del lines[i]
        elif op == "dup_line":
            lines.insert(i, line)
        elif op == "swap_lines":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "del_char" and line:
            k = draw(st.integers(0, len(line) - 1))
            lines[i] = line[:k] + line[k + 1:]
        elif op == "ins_char":
            k = draw(st.integers(0, len(line)))
            ch = draw(st.one_of(st.sampled_from(list(' \t"#(){},*×-><=!^._:\\\x00xe0159')), st.characters()))
            lines[i] = line[:k] + ch + line[k:]
        elif op == "replace_token":
            toks = list(TOKEN_RE.finditer(line))
            if toks:
                m = draw(st.sampled_from(toks))
                new = draw(st.one_of(st.sampled_from(REPLACEMENTS), st.sampled_from(KEYWORDS)))
                lines[i] = line[:m.start()] + new + line[m.end():]
        elif op == "indent":
            lines[i] = "  " + line
        elif op == "dedent":
            lines[i] = line.lstrip()
    return "\n".join(lines)


@fuzz(120)
@given(mutated_default())
def test_mutated_default_raises_only_dsl_error_and_round_trips(text: str) -> None:
    rf = front_end(text)
    if rf is not None:
        assert_round_trip(rf)


VALID_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "rules" / "valid"
VALID_TEXTS = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(VALID_DIR.glob("*.rules"))]
_STRINGS_AND_COMMENTS = re.compile(r'"(?:[^"\\]|\\.)*"|#.*')


def _open_parens(lines: list[str]) -> list[tuple[int, int]]:
    """(depth before, depth after) of each line, counting ( { ) } outside strings and comments."""
    out, depth = [], 0
    for line in lines:
        code = _STRINGS_AND_COMMENTS.sub("", line)
        before = depth
        depth = max(depth + code.count("(") + code.count("{") - code.count(")") - code.count("}"), 0)
        out.append((before, depth))
    return out


def all_comments(node: Any) -> list[str]:
    """Every comment an AST holds (leading, trailing, one-value clauses, file header and end)."""
    out: list[str] = []
    if isinstance(node, A.Node):
        out += node.comments + ([node.trailing_comment] if node.trailing_comment is not None else [])
        if isinstance(node, A.RulesFile):
            out += node.end_comments
        for cc in getattr(node, "clause_comments", {}).values():
            out += cc.leading + ([cc.trailing] if cc.trailing is not None else [])
        for f in type(node).model_fields:
            out += all_comments(getattr(node, f))
    elif isinstance(node, list):
        for item in node:
            out += all_comments(item)
    return out


@st.composite
def commented_text(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A valid file with comment lines and end-of-line comments inserted outside parentheses."""
    _name, text = draw(st.sampled_from(DEFAULT_FILES + VALID_TEXTS))
    lines = text.split("\n")
    depth = _open_parens(lines)
    inserted: list[str] = []
    trailing: dict[int, str] = {}
    above: dict[int, list[str]] = {}
    for n in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        body = f"note{n}" + draw(COMMENT_TEXT)
        if draw(st.booleans()):
            if depth[i][0] == 0:
                indent = draw(st.sampled_from(["", "  ", "    ", "\t"]))
                above.setdefault(i, []).append(indent + "# " + body)
                inserted.append(body)
        elif depth[i][1] == 0 and lines[i].strip() and "#" not in lines[i] and i not in trailing:
            trailing[i] = body
            inserted.append(body)
    out: list[str] = []
    for i, line in enumerate(lines):
        out += above.get(i, [])
        out.append(line + ("  # " + trailing[i] if i in trailing else ""))
    return "\n".join(out), inserted


@fuzz(100)
@given(commented_text())
def test_comments_anywhere_outside_parentheses_are_kept(case: tuple[str, list[str]]) -> None:
    """docs/dsl.md: comments above a declaration or clause, or at the end of a line, belong to it and the
    formatter keeps all of them (only comments inside an open '(' are errors)."""
    text, inserted = case
    rf = parse_text(text, "commented.rules")
    held = all_comments(rf)
    for body in inserted:
        assert body in held, (body, text)
    assert_round_trip(rf)
    assert sorted(all_comments(parse_text(format_rules(rf)))) == sorted(held)


def test_default_files_round_trip_unmutated() -> None:
    for _name, text in DEFAULT_FILES:
        rf = front_end(text)
        assert rf is not None
        assert format_rules(rf) == text
        assert_round_trip(rf)


# ---- (c) generated ASTs and snippets --------------------------------------------------------------------

NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True).filter(lambda s: s not in RESERVED)
GROUP = st.one_of(st.sampled_from(["D:5", "AIA", "A:6", "E:1", "Macau", "CN", "x"]),
                  st.from_regex(r"[A-Za-z][A-Za-z0-9_:]{0,6}", fullmatch=True).filter(lambda s: s not in RESERVED))
ECCN = st.from_regex(r"[0-9][A-E][0-9]{3}(\.[a-z0-9]{1,2}){0,2}", fullmatch=True)
DOC = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,12}", fullmatch=True).filter(lambda s: s not in RESERVED)
DATE = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))

# strings: anything but NUL (the lexer rejects NUL in source), with the characters that break quoting
NASTY = ['"', "\\", "\\n", "\n", "\t", "\r", "$(rm -rf /)", "`id`", "#", "'", "{", "}", "(", ")", "\\\"", "é",
         "\u2028", "\ufeff", "\u00a0", " ", "  "]
STRING = st.one_of(
    st.text(st.characters(blacklist_characters="\x00"), max_size=40),
    st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=3)), max_size=12).map("".join)
    .filter(lambda s: "\x00" not in s),
)
# comments as the parser returns them: one line, no NUL, no trailing whitespace (any leading whitespace)
COMMENT_TEXT = st.one_of(st.text(st.characters(blacklist_characters="\x00\n"), max_size=30),
                         st.lists(st.sampled_from([" ", "\t", "#", '"', "(", "x", "\u00a0", "é"]), max_size=6)
                         .map("".join)).map(str.rstrip)
LEADING = st.lists(COMMENT_TEXT, max_size=2)
TRAILING = st.one_of(st.none(), COMMENT_TEXT)


@st.composite
def exact_number(draw: st.DrawFn) -> A.Number:
    """A nonzero exact number of up to 50 significant digits (or an exact integer), in either notation."""
    notation = draw(st.sampled_from(["plain", "sci"]))
    if notation == "plain" and draw(st.booleans()):
        return A.Number(value=Decimal(draw(st.integers(0, 10**60))), notation="plain")
    digits = draw(st.integers(1, 10**50 - 1))
    if notation == "plain":
        exp = draw(st.integers(-30, 30))
    else:
        n = len(str(digits))
        exp = draw(st.integers(-400 - n + 1, 400 - n + 1))
    return A.Number(value=Decimal(f"{digits}E{exp}"), notation=notation)


def lit() -> st.SearchStrategy[A.Lit]:
    return st.one_of(exact_number().map(lambda n: A.Lit(value=n)), STRING.map(lambda s: A.Lit(value=s)),
                     st.booleans().map(lambda b: A.Lit(value=b)))


OPERAND = st.one_of(NAME.map(lambda n: A.Ref(name=n)), NAME.map(lambda n: A.Ref(name="subject." + n)), lit())
LEAF = st.one_of(
    st.builds(A.Compare, op=st.sampled_from([">=", ">", "<=", "<", "==", "!="]), left=OPERAND, right=OPERAND),
    st.builds(A.InSet, left=OPERAND, values=st.lists(lit(), max_size=4)),
    st.builds(A.InGroup, left=OPERAND, group=GROUP),
    st.builds(A.Meets, eccn=ECCN),
    st.builds(A.Truth, operand=OPERAND),
)
CONDITION = st.recursive(
    LEAF,
    lambda inner: st.one_of(
        st.builds(A.Not, item=inner),
        st.builds(A.And, items=st.lists(inner, min_size=2, max_size=4)),
        st.builds(A.Or, items=st.lists(inner, min_size=2, max_size=4)),
    ),
    max_leaves=12,
)


def with_comments(node: A.Node, leading: list[str], trailing: str | None) -> A.Node:
    node.comments = leading
    node.trailing_comment = trailing
    return node


@st.composite
def clause_comments(draw: st.DrawFn, decl: Any, keys: list[str]) -> Any:
    """Comments on some of the one-value clauses (``applies``, ``citation``, ``on`` ...) that are printed."""
    for key in keys:
        if draw(st.booleans()):
            leading, trailing = draw(LEADING), draw(TRAILING)
            if leading or trailing is not None:
                decl.clause_comments[key] = A.ClauseComments(leading=leading, trailing=trailing)
    return decl


@st.composite
def cite(draw: st.DrawFn) -> A.Cite | None:
    c = A.Cite(docs=draw(st.lists(DOC, max_size=2)), at=draw(st.none() | STRING),
               confidence=draw(st.none() | st.sampled_from(["high", "medium", "low"])),
               unresolved=draw(st.none() | STRING))
    if not c.docs and c.at is None and c.confidence is None and c.unresolved is None:
        return None
    return c


@st.composite
def dest(draw: st.DrawFn) -> A.DestSet:
    every = draw(st.booleans())
    return A.DestSet(all=every, include=[] if every else draw(st.lists(GROUP, min_size=1, max_size=3)),
                     exclude=draw(st.lists(GROUP, max_size=2)))


@st.composite
def window(draw: st.DrawFn) -> tuple[dt.date | None, dt.date | None]:
    return draw(st.none() | DATE), draw(st.none() | DATE)


@st.composite
def control(draw: st.DrawFn) -> A.ControlDecl:
    c = A.ControlDecl(eccn=draw(ECCN), title=draw(st.none() | STRING),
                      applies_to=draw(st.lists(NAME, max_size=3)))
    if draw(st.booleans()):
        c.when = with_comments(draw(CONDITION), draw(LEADING), draw(TRAILING))
        c.when_cite = draw(cite())
    for _ in range(draw(st.integers(0, 2))):
        c.exclusions.append(with_comments(A.Exclusion(when=draw(CONDITION), cite=draw(cite())),
                                          draw(LEADING), draw(TRAILING)))
    c.reasons = draw(st.lists(st.sampled_from(["RS", "AT", "NS", "MT"]), max_size=2))
    if draw(st.booleans()):
        c.effective = A.Dated(start=draw(DATE), end=draw(st.none() | DATE), cite=draw(cite()))
    if draw(st.booleans()):
        c.compliance = A.Dated(start=draw(DATE), cite=draw(cite()))
    for _ in range(draw(st.integers(0, 2))):
        start, end = draw(window())
        c.licenses.append(A.LicenseReq(dest=draw(dest()), start=start, end=end, cite=draw(cite())))
    for _ in range(draw(st.integers(0, 2))):
        start, end = draw(window())
        c.policies.append(A.Policy(name=draw(NAME), dest=draw(dest()), when=draw(st.none() | CONDITION),
                                   start=start, end=end, cite=draw(cite())))
    for _ in range(draw(st.integers(0, 1))):
        start, end = draw(window())
        c.exceptions.append(A.ExceptionsClause(codes=draw(st.lists(st.sampled_from(["AIA", "NAC", "LPP"]),
                                                                   min_size=1, max_size=2)),
                                               start=start, end=end, cite=draw(cite())))
    for _ in range(draw(st.integers(0, 1))):
        c.statuses.append(A.StatusEvent(kind=draw(st.sampled_from(["suspended", "not_enforced", "rescinded"])),
                                        start=draw(DATE), end=draw(st.none() | DATE), cite=draw(cite())))
    return draw(clause_comments(c, [k for k, v in (("applies", c.applies_to), ("reason", c.reasons)) if v]))


@st.composite
def parameter(draw: st.DrawFn) -> A.ParameterDecl:
    p = A.ParameterDecl(name=draw(NAME), unit=draw(NAME),
                        role=draw(st.sampled_from(["control", "exclusion", "exception_ceiling", "policy_eligibility",
                                                   "presumption", "definition"])),
                        description=draw(st.none() | STRING))
    for d in sorted(draw(st.sets(DATE, max_size=4))):
        value = None if draw(st.integers(0, 5)) == 0 else draw(exact_number())
        p.values.append(with_comments(A.ParamValue(start=d, value=value, cite=draw(cite())),
                                      draw(LEADING), draw(TRAILING)))
    return p


@st.composite
def access(draw: st.DrawFn) -> A.AccessDecl:
    a = A.AccessDecl(
        name=draw(NAME), title=draw(st.none() | STRING),
        on=draw(st.lists(st.one_of(ECCN, st.just("*")), max_size=3)),
        actions=draw(st.lists(st.sampled_from(list(A.ACTIONS)), max_size=3)),
        effect=draw(st.sampled_from(["release", "allow", "deny"])),
        when=draw(st.none() | CONDITION),
        unless=draw(st.none() | CONDITION),
        effective=draw(st.none() | st.builds(A.Dated, start=DATE, end=st.none() | DATE, cite=cite())),
    )
    return draw(clause_comments(a, [k for k, v in (("on", a.on), ("actions", a.actions)) if v] + [a.effect]))


@st.composite
def document(draw: st.DrawFn) -> A.DocumentDecl:
    d = A.DocumentDecl(id=draw(DOC), kind=draw(st.sampled_from(["fr_rule", "fr_notice", "press_release", "guidance",
                                                                 "letter", "other"])),
                       citation=draw(st.none() | STRING), published=draw(st.none() | DATE),
                       title=draw(st.none() | STRING), action=draw(st.none() | STRING),
                       rin=draw(st.lists(DOC, max_size=2)), docket=draw(st.none() | STRING),
                       url=draw(st.none() | STRING), corrects=draw(st.none() | DOC),
                       suspends=draw(st.none() | DOC),
                       confidence=draw(st.none() | st.sampled_from(["high", "medium", "low"])),
                       note=draw(st.none() | STRING))
    for _ in range(draw(st.integers(0, 2))):
        d.dates.append(A.DocDate(kind=draw(st.sampled_from(["effective", "compliance", "comments_due"])),
                                 date=draw(DATE), end=draw(st.none() | DATE), scope=draw(st.none() | STRING),
                                 cite=draw(cite())))
    present = ["kind"] + [k for k in ("citation", "published", "title", "action", "rin", "docket", "url", "corrects",
                                      "suspends", "confidence", "note") if getattr(d, k) not in (None, [])]
    return draw(clause_comments(d, present))


@st.composite
def vocabulary(draw: st.DrawFn) -> list[A.Node]:
    out: list[A.Node] = []
    for _ in range(draw(st.integers(0, 3))):
        which = draw(st.sampled_from(["unit", "kind", "attribute", "hint", "group", "exception"]))
        if which == "unit":
            out.append(A.UnitDecl(name=draw(NAME), description=draw(st.none() | STRING)))
        elif which == "kind":
            out.append(A.KindDecl(name=draw(NAME), description=draw(st.none() | STRING)))
        elif which == "attribute":
            out.append(A.AttributeDecl(name=draw(NAME), type=draw(st.sampled_from(["number", "bool", "string"])),
                                       unit=draw(st.none() | NAME), kinds=draw(st.lists(NAME, max_size=2)),
                                       default=draw(st.none() | lit().map(lambda x: x.value)),
                                       description=draw(st.none() | STRING)))
        elif which == "hint":
            out.append(A.HintDecl(file_kind=draw(st.sampled_from(list(A.FILE_KINDS))), asset_kind=draw(NAME),
                                  patterns=draw(st.lists(STRING, min_size=1, max_size=3))))
        elif which == "group":
            g = A.GroupDecl(name=draw(GROUP), description=draw(st.none() | STRING))
            for _ in range(draw(st.integers(0, 2))):
                start, end = draw(window())
                g.members.append(A.Membership(op=draw(st.sampled_from(["add", "remove"])),
                                              members=draw(st.lists(GROUP, min_size=1, max_size=3)),
                                              start=start, end=end, cite=draw(cite())))
            out.append(g)
        else:
            x = A.ExceptionDecl(code=draw(st.from_regex(r"[A-Z][A-Z0-9]{0,4}", fullmatch=True)),
                                title=draw(st.none() | STRING), section=draw(st.none() | STRING),
                                effective=draw(st.none() | st.builds(A.Dated, start=DATE, end=st.none() | DATE,
                                                                     cite=cite())))
            out.append(draw(clause_comments(x, ["section"] if x.section is not None else [])))
    return [with_comments(d, draw(LEADING), draw(TRAILING)) for d in out]


@st.composite
def rules_file(draw: st.DrawFn) -> A.RulesFile:
    decls: list[Any] = [*draw(vocabulary())]
    decls += draw(st.lists(document(), max_size=1))
    decls += draw(st.lists(parameter(), max_size=2))
    decls += draw(st.lists(control(), max_size=2))
    decls += draw(st.lists(access(), max_size=1))
    for d in decls:
        with_comments(d, draw(LEADING), draw(TRAILING))
    title = draw(st.none() | STRING)
    return A.RulesFile(title=title, decls=decls,
                       comments=draw(LEADING) if (title is not None or decls) else [],
                       trailing_comment=draw(TRAILING) if title is not None else None,
                       end_comments=draw(LEADING))


@fuzz(150)
@given(rules_file())
def test_generated_ast_round_trips(rf: A.RulesFile) -> None:
    assert_round_trip(rf)


@fuzz(200)
@given(CONDITION, st.sampled_from(["control", "access", "exclusion", "policy"]))
def test_generated_condition_round_trips(cond: A.Expr, where: str) -> None:
    if where == "control":
        decl: Any = A.ControlDecl(eccn="4E091", when=cond)
    elif where == "exclusion":
        decl = A.ControlDecl(eccn="4E091", exclusions=[A.Exclusion(when=cond)])
    elif where == "policy":
        decl = A.ControlDecl(eccn="4E091", policies=[A.Policy(name="p", dest=A.DestSet(all=True), when=cond,
                                                              start=dt.date(2026, 1, 15))])
    else:
        decl = A.AccessDecl(name="a", when=cond)
    assert_round_trip(A.RulesFile(decls=[decl]))


@fuzz(200)
@given(exact_number(), st.sampled_from(["param", "condition", "set", "default"]))
def test_generated_number_round_trips(num: A.Number, where: str) -> None:
    if where == "param":
        decl: Any = A.ParameterDecl(name="p", unit="u", values=[A.ParamValue(start=dt.date(2025, 1, 13), value=num)])
    elif where == "condition":
        decl = A.ControlDecl(eccn="4E091", when=A.Compare(op=">=", left=A.Ref(name="n"), right=A.Lit(value=num)))
    elif where == "set":
        decl = A.ControlDecl(eccn="4E091", when=A.InSet(left=A.Ref(name="n"), values=[A.Lit(value=num)] * 2))
    else:
        decl = A.AttributeDecl(name="n", type="number", default=num)
    rf = A.RulesFile(decls=[decl])
    assert_round_trip(rf)
    # the printed number reads back exactly: compare the Decimals, never floats
    [again] = parse_text(format_rules(rf)).decls
    assert again == decl


SPELLINGS = ["{m} x 10^{e}", "{m} × 10^{e}", "{m} * 10^{e}", "{m}x10^{e}", "{m}e{e}", "{m}E{e}"]


@fuzz(200)
@given(st.integers(1, 10**45), st.integers(0, 40), st.integers(-350, 350), st.sampled_from(SPELLINGS))
def test_generated_number_spellings_are_exact(mant: int, point: int, exp: int, spelling: str) -> None:
    """Text snippets: a mantissa with a decimal point times a power of ten parses to the exact value."""
    digits = str(mant)
    point = min(point, len(digits) - 1)
    m = digits[: len(digits) - point] + ("." + digits[len(digits) - point:] if point else "")
    written = spelling.format(m=m, e=exp)
    text = f"parameter p unit u\n  from 2025-01-13 {written} cite d\n"
    rf = parse_text(text)
    [decl] = rf.decls
    assert isinstance(decl, A.ParameterDecl) and decl.values[0].value is not None
    assert decl.values[0].value.value == Decimal(f"{m}E{exp}")
    assert decl.values[0].value.notation == "sci"
    assert_round_trip(rf)


@fuzz(150)
@given(st.integers(0, 10**40), st.booleans())
def test_generated_plain_numbers_are_exact(n: int, underscores: bool) -> None:
    written = f"{n:_}" if underscores else str(n)
    rf = parse_text(f"control 4E091\n  when training_operations >= {written}\n")
    [decl] = rf.decls
    assert isinstance(decl, A.ControlDecl) and isinstance(decl.when, A.Compare)
    lit_ = decl.when.right
    assert isinstance(lit_, A.Lit) and isinstance(lit_.value, A.Number)
    assert lit_.value.value == Decimal(n) and (lit_.value.value > n - 1)
    assert_round_trip(rf)


@fuzz(150)
@given(STRING, STRING, st.lists(STRING, min_size=1, max_size=3))
def test_generated_strings_round_trip_in_text(title: str, note: str, patterns: list[str]) -> None:
    """Strings with quotes, backslashes, newlines, $(...) and backticks survive printing and parsing."""
    rf = A.RulesFile(title=title, decls=[
        A.DocumentDecl(id="d1", title=title, note=note, dates=[A.DocDate(kind="effective", date=dt.date(2025, 1, 13),
                                                                         scope=note)]),
        A.HintDecl(file_kind="weights", asset_kind="model_weights", patterns=patterns),
        A.ControlDecl(eccn="4E091", title=note, when=A.InSet(left=A.Ref(name="s"),
                                                              values=[A.Lit(value=p) for p in patterns])),
    ])
    text = format_rules(rf)
    # every string is on one physical line of the output (newlines are escaped)
    lx = lex(text, "x")
    assert not lx.diagnostics
    assert_round_trip(rf)
