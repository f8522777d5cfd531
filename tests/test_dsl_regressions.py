"""Regressions for problems found while fuzzing and reviewing the DSL."""

from __future__ import annotations

import pytest

from rulesdsl.errors import DslError
from rulesdsl.parser import parse_text
from rulesdsl.ruleset import Ruleset

VOCAB = """unit tpp
unit mm2
kind ic
attribute tpp number unit tpp of ic
document d1
  published 2025-01-01
"""


def test_arrow_without_spaces() -> None:
    rf = parse_text('kind model_weights\nhint weights->model_weights "*.pt"\n')
    assert rf.decls[1].asset_kind == "model_weights"  # type: ignore[union-attr]


def test_condition_nesting_is_bounded_with_a_located_error() -> None:
    text = VOCAB + "control 3A090.a\n  applies to ic\n  when " + "not " * 200 + "tpp > 1\n  effective 2025-01-01\n"
    with pytest.raises(DslError) as e:
        parse_text(text, "deep.rules")
    assert "nested more than 64 levels" in str(e.value) and "deep.rules:9:" in str(e.value)


def test_exclusion_parameter_in_a_control_condition_is_an_error() -> None:
    text = VOCAB + """parameter note unit tpp role exclusion
  from 2025-01-01 4800 cite d1
control 3A090.a
  applies to ic
  when tpp < note
  effective 2025-01-01 cite d1
  license required to all cite d1
"""
    msgs = [d.message for d in Ruleset.from_text(text).diagnostics() if d.level == "error"]
    assert any("role is exclusion" in m for m in msgs), msgs


def test_undefined_unit_does_not_cascade_into_a_unit_mismatch() -> None:
    text = VOCAB + """parameter p unit tppp
  from 2025-01-01 4800 cite d1
control 3A090.a
  applies to ic
  when tpp >= p
  effective 2025-01-01 cite d1
  license required to all cite d1
"""
    msgs = [d.message for d in Ruleset.from_text(text).diagnostics() if d.level == "error"]
    assert len(msgs) == 1 and "undefined unit 'tppp' (did you mean 'tpp'?)" in msgs[0]
