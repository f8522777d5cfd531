"""Located diagnostics of the rules DSL: one broken fixture per error kind (``fixtures/rules/broken``).

Each fixture is a small, realistic ruleset that is valid except for one problem, so exactly that problem is
reported, at the expected ``line:col``, with the source line and a caret under the offending column. The CLI
(`regwatch rules check`) shows the same text and exits 2 without a Python traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from rulesdsl.errors import Diagnostic, DslError
from rulesdsl.parser import parse_text
from rulesdsl.ruleset import Ruleset

from .conftest import ROOT, Run, assert_no_traceback

BROKEN = ROOT / "fixtures" / "rules" / "broken"
VALID = ROOT / "fixtures" / "rules" / "valid"
VALID_FIXTURES = sorted(p.name for p in VALID.glob("*.rules"))


class Case(NamedTuple):
    name: str  # fixtures/rules/broken/<name>.rules
    line: int
    col: int
    message: str  # a part of the message
    errors: int = 1  # how many errors the file reports in all


# fmt: off
CASES = [
    # ---- parser (lexical and syntax errors) -------------------------------------------------------------
    Case("unknown_declaration", 20, 1, "unknown declaration 'contol' (did you mean 'control'?)"),
    Case("unknown_clause", 24, 3, "unknown clause 'efective' in control 4E091 (did you mean 'effective'?)"),
    Case("bad_date", 7, 13, "expected a date (YYYY-MM-DD), found '2025-1-15'"),
    Case("invalid_calendar_date", 24, 13, "invalid date '2025-02-30'"),
    Case("bad_number", 18, 19, "expected a number (e.g. 4800, 5.92, 10^26, 5 x 10^25), found '1O^26'"),
    Case("unterminated_string", 20, 15, "unterminated string"),
    Case("unexpected_character", 23, 12, "unexpected character ';'"),
    Case("indented_outside_declaration", 3, 1, "indented line outside a declaration"),
    Case("missing_to", 21, 11, "expected 'to', found 'model'"),
    # the lexer reports the open '(' and the parser the line it swallowed
    Case("unclosed_paren", 22, 1, "unclosed '(' or '{' at end of file", errors=2),
    Case("comment_in_paren", 23, 54, "comments are not allowed inside an open '(' or '{'"),
    Case("reserved_word_name", 13, 6, "'all' is a reserved word and cannot be used as an asset kind name"),
    Case("unknown_confidence", 18, 68,
         "unknown confidence 'hgh' (did you mean 'high'?); expected one of: high, medium, low"),
    Case("unknown_status", 26, 10, "unknown status 'suspend' (did you mean 'suspended'?)"),
    Case("unknown_role", 17, 55, "unknown parameter role 'exclusions' (did you mean 'exclusion'?)"),
    Case("unknown_action", 29, 24, "unknown action 'exprt' (did you mean 'export'?)"),
    Case("unknown_file_kind", 17, 6, "unknown file kind 'weight' (did you mean 'weights'?)"),
    Case("clause_twice", 25, 3, "'effective' given twice"),
    Case("missing_effect", 27, 1, "access release_model_weights: missing effect line ('release', 'allow' or 'deny')"),
    Case("several_errors", 7, 13, "invalid date '2025-13-15'", errors=5),
    # ---- validator (names, dates, units, types, duplicates) ---------------------------------------------
    Case("undefined_document", 24, 24, "undefined document '2025-00363' (did you mean '2025-00636'?)"),
    Case("undefined_unit", 16, 1, "undefined unit 'operation' (did you mean 'operations'?)"),
    Case("undefined_kind", 21, 1, "undefined asset kind 'model_weight' (did you mean 'model_weights'?)"),
    Case("undefined_name", 22, 31,
         "undefined name 'ai_training_operation' (did you mean 'ai_training_operations'?) "
         "(not an attribute or a parameter)"),
    Case("undefined_name_attribute", 22, 62, "undefined name 'publishd' (did you mean 'published'?)"),
    Case("undefined_group", 31, 3, "undefined country group or ISO country code 'Macao' (did you mean 'Macau'?)"),
    Case("undefined_iso_code", 25, 3, "undefined country group or ISO country code 'UK'"),
    Case("undefined_exception", 34, 3, "undefined license exception 'LLP' (did you mean 'LPP'?)"),
    Case("undefined_eccn_meets", 39, 8,
         "undefined ECCN reference '3A091.a': no control declares it (did you mean '3A090.a'?)"),
    Case("undefined_eccn_access", 27, 1,
         "undefined ECCN reference '4E019': no control declares it (did you mean '4E091'?)"),
    Case("duplicate_declaration", 11, 1, "duplicate unit 'operations' (first declared at "),
    Case("param_out_of_order", 20, 3,
         "parameter 'ai_training_operations': values out of order (2026-01-01 after 2027-01-01)"),
    Case("param_same_date", 19, 3, "parameter 'ai_training_operations': two values from 2025-01-13"),
    Case("through_before_start", 24, 3, "control 4E091: 'through 2024-01-12' is before its start 2025-01-13"),
    Case("compliance_before_effective", 25, 3,
         "control 4E091: compliance date 2024-05-15 is before the effective date 2025-01-13"),
    Case("unit_mismatch", 37, 8,
         "unit mismatch: 'tpp' is in 'tpp' but 'ai_training_operations' is in 'operations'"),
    Case("type_mismatch", 39, 26, "type mismatch: cannot compare bool with number using '=='"),
    Case("ordering_on_strings", 39, 8, "'>=' needs numbers; string values can only be compared with '==' or '!='"),
    Case("number_as_condition", 22, 8, "'training_operations' is a number, not a condition"),
    Case("duplicate_control", 37, 1, "duplicate control 3A090.a: in effect at the same time as the control at "),
    Case("meets_cycle", 30, 1, "'meets' references form a cycle: 3A090.a -> 4A090.a -> 3A090.a"),
    Case("exception_ceiling_in_control", 35, 8,
         "control 3A090.c uses parameter 'hbm_exception_density' whose role is exception_ceiling"),
    Case("policy_eligibility_in_control", 35, 8,
         "control 3A090.a uses parameter 'cbc_review_tpp' whose role is policy_eligibility"),
    Case("attribute_default_type", 15, 1, "attribute 'published': default is a number but the attribute is bool"),
    Case("subject_outside_access", 22, 80,
         "'subject.us_person': subject attributes are only available in access rules"),
    Case("unknown_subject_attribute", 31, 31,
         "unknown subject attribute 'citizenship' (did you mean 'citizenships'?)"),
]
# fmt: on

# the CLI part: a handful of parser and validator errors
CLI_CASES = ["unknown_declaration", "invalid_calendar_date", "unterminated_string", "comment_in_paren",
             "undefined_name", "unit_mismatch", "duplicate_control", "meets_cycle"]


def _load_error(path: Path) -> DslError:
    with pytest.raises(DslError) as info:
        Ruleset.load(path)
    return info.value


def _expected_block(case: Case) -> tuple[str, str, str]:
    """The header, source line and caret line a diagnostic for ``case`` must render."""
    path = BROKEN / f"{case.name}.rules"
    lines = path.read_text(encoding="utf-8").split("\n")
    head = f"fixtures/rules/broken/{case.name}.rules:{case.line}:{case.col}: error: {case.message}"
    source = "    " + lines[case.line - 1].replace("\t", " ")
    caret = "    " + " " * (case.col - 1) + "^"
    return head, source, caret


def test_every_broken_fixture_is_in_the_table() -> None:
    on_disk = sorted(p.stem for p in BROKEN.glob("*.rules"))
    assert on_disk == sorted(c.name for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_broken_fixture_reports_located_error(case: Case) -> None:
    err = _load_error(BROKEN / f"{case.name}.rules")
    text = str(err)
    head, source, caret = _expected_block(case)
    assert head in text, text
    # the header is followed by the offending source line and a caret under the column
    rendered = text.split("\n")
    i = next(k for k, ln in enumerate(rendered) if head in ln)
    assert rendered[i + 1] == source
    assert rendered[i + 2].startswith(caret) and set(rendered[i + 2][len(caret):]) <= {"~"}
    assert all(d.level == "error" for d in err.diagnostics)
    assert len(err.diagnostics) == case.errors, text
    # the first error (sorted by position) is the one the fixture is about
    first = err.first
    assert (first.line, first.col) == (case.line, case.col) and case.message in first.message


def test_several_errors_are_all_reported_sorted_by_line() -> None:
    err = _load_error(BROKEN / "several_errors.rules")
    got = [(d.line, d.col) for d in err.diagnostics]
    assert got == [(7, 13), (12, 1), (20, 15), (24, 3), (27, 81)]
    assert got == sorted(got)
    messages = [d.message for d in err.diagnostics]
    assert "invalid date '2025-13-15'" in messages[0]
    assert "unknown declaration 'knd' (did you mean 'kind'?)" in messages[1]
    assert "unterminated string" in messages[2]  # found by the lexer, reported in line order
    assert "unknown clause 'efective'" in messages[3]
    assert "unknown confidence 'hihg' (did you mean 'high'?)" in messages[4]
    rendered = str(err).split("\n")
    assert sum(": error: " in ln for ln in rendered) == 5
    assert sum(ln.strip().startswith("^") for ln in rendered) == 5


def test_errors_from_several_files_of_a_folder_are_all_reported(tmp_path: Path) -> None:
    for name in ("unknown_clause", "bad_date"):
        (tmp_path / f"{name}.rules").write_text((BROKEN / f"{name}.rules").read_text(encoding="utf-8"),
                                                encoding="utf-8")
    err = _load_error(tmp_path)
    assert [(Path(d.file).name, d.line, d.col) for d in err.diagnostics] == [
        ("bad_date.rules", 7, 13), ("unknown_clause.rules", 24, 3)]


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_rules_check_broken(run: Run, name: str) -> None:
    case = next(c for c in CASES if c.name == name)
    p = run("rules", "check", f"fixtures/rules/broken/{name}.rules", cwd=ROOT)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert_no_traceback(p)
    head, source, caret = _expected_block(case)
    lines = p.stderr.split("\n")
    i = next((k for k, ln in enumerate(lines) if ln.startswith(head)), None)
    assert i is not None, p.stderr
    assert lines[i + 1] == source and lines[i + 2].startswith(caret)
    assert lines[-2].startswith("regwatch: ") and "error" in lines[-2]
    assert not p.stdout.startswith("ok")


@pytest.mark.parametrize("name", VALID_FIXTURES)
def test_valid_fixture_loads_without_errors(name: str) -> None:
    rs = Ruleset.load(VALID / name)  # raises DslError on any error
    warnings = rs.check()
    assert warnings == [], "\n".join(d.render() for d in warnings)
    assert rs.controls


def test_valid_fixtures_exist() -> None:
    assert {"full.rules", "minimal.rules", "numbers.rules"} <= set(VALID_FIXTURES)


@pytest.mark.parametrize("name", ["full.rules", "numbers.rules"])
def test_cli_rules_check_valid(run: Run, name: str) -> None:
    p = run("rules", "check", f"fixtures/rules/valid/{name}", cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert_no_traceback(p)
    assert p.stdout.startswith(f"ok: fixtures/rules/valid/{name}: ")
    assert p.stderr == ""


def test_diagnostic_render_shape() -> None:
    d = Diagnostic("x.rules", 3, 5, "boom", "\tab cd", width=3)
    assert d.render() == "x.rules:3:5: error: boom\n     ab cd\n        ^~~"


# ---- regressions: bugs found while writing these tests --------------------------------------------------
# Regression tests: each of these failed before the fixes of the DSL-fuzzing commit.

BASE = """\
kind model
attribute training_operations number
document d1
  kind guidance
control 4E091
  applies to model
  when training_operations >= 10^26
  effective 2025-01-13 cite d1
  license required to all cite d1
"""


@pytest.mark.parametrize(("text", "line", "col"), [
    (BASE + "access a\n  on 4E091\n  on 4E091.a\n  actions read\n  allow\n", 12, 3),
    (BASE + "access a\n  on 4E091\n  actions read\n  actions export\n  allow\n", 13, 3),
    ('document d1\n  citation "90 FR 1"\n  citation "90 FR 2"\n', 3, 3),
    ("document d1\n  published 2025-01-15\n  published 2025-01-16\n", 3, 3),
    ('exception AIA\n  section "740.27"\n  section "740.28"\n', 3, 3),
    ('ruleset "a"\n\nruleset "b"\n', 3, 1),
], ids=["access-on", "access-actions", "document-citation", "document-published", "exception-section", "ruleset"])
def test_one_value_clause_given_twice_is_an_error(text: str, line: int, col: int) -> None:
    """At 755fb63 the second line silently replaced the first (and `rules fmt` dropped the first)."""
    with pytest.raises(DslError) as info:
        parse_text(text)
    [d] = info.value.diagnostics
    assert (d.line, d.col) == (line, col) and "given twice" in d.message


@pytest.mark.parametrize("text", [
    BASE.replace("  applies to model", "  # the kinds\n  applies to model"),
    'document d1\n  kind guidance\n  published 2025-01-15  # from the Federal Register\n',
    'document d1\n  # a comment above kind\n  kind fr_rule\n',
    'exception AIA\n  # 15 CFR\n  section "740.27"\n',
    "control 4E091\n  reason RS  # regional stability\n",
    "access a\n  # only model weights\n  on 4E091\n  actions read\n  allow\n",
    "access a\n  on 4E091\n  actions read  # reading is enough\n  allow\n",
    "access a\n  on 4E091\n  actions read\n  # not a release\n  allow  #\n",
], ids=["control-applies", "document-published", "document-kind", "exception-section", "control-reason",
        "access-on", "access-actions", "access-effect"])
def test_comments_on_one_value_clauses_are_kept(text: str) -> None:
    """docs/dsl.md: comments above a clause or at the end of its line belong to it and the formatter keeps
    them. At 755fb63 these were errors ("comments cannot be attached to a '...' line")."""
    from rulesdsl.formatter import format_rules

    ast = parse_text(text)
    out = format_rules(ast)
    written = sorted(ln.split("#", 1)[1].strip() for ln in text.split("\n") if "#" in ln)
    assert sorted(ln.split("#", 1)[1].strip() for ln in out.split("\n") if "#" in ln) == written
    assert parse_text(out) == ast and format_rules(parse_text(out)) == out


def test_huge_exponent_is_a_located_error() -> None:
    """At 755fb63 an exponent of more than 4300 digits made int() raise ValueError inside parse_number: the
    parser reported 'internal parser error' at 1:1 and dropped every other error of the file."""
    text = ("parameter p unit u\n  from 2025-01-13 10^" + "9" * 5000 + "\n"
            "unit\n")  # a second, ordinary error on line 3
    with pytest.raises(DslError) as info:
        parse_text(text)
    got = [(d.line, d.col) for d in info.value.diagnostics]
    assert got == [(2, 19), (3, 5)], str(info.value)[:300]
    assert not any("internal" in d.message for d in info.value.diagnostics)


# ---- regressions: byte order mark / capital X ---------------------------------------------------------------


def test_utf8_bom_is_accepted_or_explained(tmp_path: Path) -> None:
    path = tmp_path / "minimal.rules"
    path.write_bytes(b"\xef\xbb\xbf" + (VALID / "minimal.rules").read_bytes())
    try:
        Ruleset.load(path)
    except DslError as e:
        messages = " ".join(d.message for d in e.diagnostics).lower()
        assert "byte order mark" in messages or "bom" in messages.split(), messages
