"""The compiler IR is lossless: its evaluator agrees with the reference semantics on generated requests.

(a) differential test on the default ruleset (outcome, matched ECCNs, needs-review flags, missing attributes,
exclusions and the full reasons, both strict modes, one-date IRs and timeline slices); (b) mutated IRs are
caught; (c) byte-determinism and sorting; (d) exact numbers; (e) hand-written edge cases.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal as D
from typing import Any

import pytest

from compiler import IR, Timeline, ir_classify, ir_classify_paths, ir_decide, lower, lower_timeline
from compiler.evaluate import Decision as IRDecision
from compiler.lowering import change_dates
from rulesdsl import ast as A
from rulesdsl.ruleset import Ruleset
from rulesdsl.semantics import Decision, SimpleAsset, SimpleLicense, SimpleSubject, decide

ONE = dt.timedelta(days=1)
N_REQUESTS = 5000  # per strict mode; each is checked against a one-date IR and a timeline slice
SEED = 20250113


@pytest.fixture(scope="module")
def rs() -> Ruleset:
    return Ruleset.default()


class Lowered:
    """IRs per (date, strict), lowered once (timelines too)."""

    def __init__(self, rs: Ruleset) -> None:
        self.rs = rs
        self.version = rs.content_hash()
        self.irs: dict[tuple[dt.date, bool], IR] = {}
        self.timelines = {s: lower_timeline(rs, rules_version=self.version, strict=s) for s in (False, True)}

    def at(self, day: dt.date, strict: bool) -> IR:
        key = (day, strict)
        if key not in self.irs:
            self.irs[key] = lower(self.rs, as_of=day, rules_version=self.version, strict=strict)
        return self.irs[key]


@pytest.fixture(scope="module")
def lowered(rs: Ruleset) -> Lowered:
    return Lowered(rs)


# ---------------------------------------------------------------------------------------------------------
# Request generation


@dataclass(frozen=True)
class Request:
    subject: SimpleSubject
    action: str
    asset: SimpleAsset
    at: dt.date
    destination: str | None


OTHER_COUNTRIES = ("BR", "MX", "NG", "US", "ID", "AR", "??")
BASE_ECCNS = ("3A001", "4A003", "4A004", "4A005", "5A002", "5A004", "5A992", "5D002", "5D992", "9Z999")
MISTYPED: tuple[D | bool | str, ...] = ("n/a", D(1), D(0), True, False)
LICENSE_ECCNS = ("4E091", "3A090", "3A090.a", "3A090.b", "3A090.c", "4A090", "4A090.a", "5D002.z", "4A003.z")


def _unit(v: D) -> D:
    """One unit of the last digit: 1 for 4800 and 10^26, 0.01 for 5.92."""
    exp = v.normalize().as_tuple().exponent
    assert isinstance(exp, int)
    return D(1) if v == v.to_integral_value() else D(1).scaleb(exp)


class Generator:
    """Seeded requests around every boundary: dates at each change date -1/0/+1, numbers at each parameter
    value -1 unit/exact/+1 unit, missing and mistyped attributes, citizenships from every group."""

    def __init__(self, rs: Ruleset, seed: int) -> None:
        self.rnd = random.Random(seed)
        marks = set(change_dates(rs)) | set(rs.dates())
        self.dates = sorted({d + k * ONE for d in marks for k in (-1, 0, 1)}
                            | {dt.date(2020, 1, 1), dt.date(2031, 1, 1)})
        far = dt.date(2031, 1, 1)
        self.by_group = [sorted(rs.group_members(g, far) | rs.group_members(g, dt.date(2023, 1, 1)))
                         for g in sorted(rs.groups)] + [list(OTHER_COUNTRIES)]
        controlled = {k for c in rs.controls for k in c.applies_to}
        self.kinds = [k for k in sorted(rs.kinds) for _ in range(4 if k in controlled else 1)]
        self.attributes = sorted(rs.attributes.values(), key=lambda a: a.name)
        self.numbers: dict[str, list[D]] = {}
        for a in self.attributes:
            vals = {v.value.value for p in rs.parameters.values() if p.unit == a.unit for v in p.values if v.value}
            cands = {D(0), D(10) ** 30}
            for v in vals:
                cands |= {v - _unit(v), v, v + _unit(v), v * 10}
            self.numbers[a.name] = sorted(cands)

    def country(self) -> str:
        return self.rnd.choice(self.rnd.choice(self.by_group))

    def license(self, cits: list[str]) -> SimpleLicense:
        r = self.rnd
        start = r.choice([None, *self.dates])
        end = r.choice([None, *(d for d in self.dates if start is None or d >= start)])
        countries = [] if r.random() < 0.4 else (cits[:1] if cits and r.random() < 0.6 else [self.country()])
        return SimpleLicense(r.choice(LICENSE_ECCNS), countries, start, end)

    def subject(self, i: int) -> SimpleSubject:
        r = self.rnd
        cits = [self.country() for _ in range(r.choice([0, 1, 1, 1, 1, 2, 2, 3]))]
        cits = [c for c in cits if c != "??"]
        lics = [self.license(cits) for _ in range(r.choice([0, 0, 0, 1, 1, 2]))]
        return SimpleSubject(f"p{i}", cits, permanent_resident=r.random() < 0.12, us_person=r.random() < 0.12,
                             licenses=lics)

    def asset(self, i: int) -> SimpleAsset:
        r = self.rnd
        kind = r.choice(self.kinds)
        attrs: dict[str, D | bool | str] = {}
        for a in self.attributes:
            if r.random() > (0.85 if kind in a.kinds else 0.1):
                continue  # missing
            if r.random() < 0.03:  # mistyped: must be unknown (or compared as the reference does)
                attrs[a.name] = r.choice(MISTYPED)
            elif a.type == "number":
                attrs[a.name] = r.choice(self.numbers[a.name])
            elif a.type == "bool":
                attrs[a.name] = r.random() < 0.5
            else:
                attrs[a.name] = r.choice(BASE_ECCNS)
        return SimpleAsset(f"a{i}", kind, attrs)

    def requests(self) -> Iterator[Request]:
        i = 0
        while True:
            r = self.rnd
            action = r.choice([*A.ACTIONS, "print"] if r.random() < 0.05 else A.ACTIONS)
            yield Request(self.subject(i), action, self.asset(i), r.choice(self.dates),
                          None if r.random() < 0.4 else self.country())
            i += 1


# ---------------------------------------------------------------------------------------------------------
# Comparison


def view(d: Decision | IRDecision) -> tuple[Any, ...]:
    """Everything a decision says: outcome, matches (ECCN, certain, missing, status), exclusions, reasons."""
    matches: tuple[tuple[str, bool, tuple[str, ...], str], ...]
    if isinstance(d, Decision):
        matches = tuple((m.eccn, m.certain, m.missing, m.status) for m in d.classification.matches)
    else:
        matches = tuple((m.eccn, m.certain, m.missing, m.control.status) for m in d.classification.matches)
    excluded = tuple((x.eccn, x.citation) for x in d.classification.excluded)
    return d.outcome, matches, excluded, tuple((r.code, r.text, r.eccn, r.citation) for r in d.reasons)


def check(rs: Ruleset, requests: Iterator[Request], n: int, strict: bool, ir_for: Callable[[dt.date], IR],
          timeline: Timeline | None = None, stop_at_first: bool = False) -> tuple[list[str], set[str]]:
    """Disagreements (as text) of ``n`` requests, and the reason codes the reference gave."""
    bad: list[str] = []
    codes: set[str] = set()
    for _, q in zip(range(n), requests, strict=False):
        ref = decide(rs, q.subject, q.action, q.asset, q.at, q.destination, strict=strict)
        codes |= {r.code for r in ref.reasons} | {ref.outcome}
        expected = view(ref)
        irs = [ir_for(q.at)] + ([timeline.slice_at(q.at)] if timeline is not None else [])
        for x in irs:
            got = view(ir_decide(x, q.subject, q.action, q.asset, q.destination, at=q.at))
            if got != expected:
                bad.append(f"{q}\n  reference: {expected}\n  ir:        {got}")
                if stop_at_first:
                    return bad, codes
    return bad, codes


@pytest.mark.parametrize("strict", [False, True])
def test_differential_default_ruleset(rs: Ruleset, lowered: Lowered, strict: bool) -> None:
    gen = Generator(rs, SEED + strict)
    bad, codes = check(rs, gen.requests(), N_REQUESTS, strict, lambda d: lowered.at(d, strict),
                       lowered.timelines[strict])
    assert not bad, f"{len(bad)} disagreements, first:\n{bad[0]}"
    # the requests reached every kind of decision, so agreement means something. Leniently, 4E091 never binds
    # (compliance not required until 2025-05-15, not enforced from 2025-05-13), so nothing is denied; strictly,
    # no control of the default rules is ever non-binding.
    expected = {"allow", "license_required", "not_controlled", "needs_review", "default_release", "not_a_release",
                "us_person", "no_license_required", "licensed"}
    expected |= {"deny", "denied", "access_rule"} if strict else {"not_enforced", "compliance_not_required"}
    assert codes >= expected


def test_timeline_slices_equal_one_date_lowering(rs: Ruleset, lowered: Lowered) -> None:
    gen = Generator(rs, SEED)
    for strict in (False, True):
        tl = lowered.timelines[strict]
        assert tl.slices[0].valid_from is None and tl.slices[-1].valid_through is None
        for a, b in zip(tl.slices, tl.slices[1:], strict=False):
            assert a.valid_through is not None and b.valid_from == a.valid_through + ONE
            assert a.content() != b.content()  # identical neighbours are merged
        for day in gen.dates:
            one = lowered.at(day, strict)
            assert one.content() == tl.slice_at(day).content(), day
            assert tl.slice_at(day).covers(day) and one.covers(day)
    assert dt.date(2025, 5, 13) in lowered.timelines[False].change_dates  # non-enforcement of AI diffusion
    assert dt.date(2023, 11, 17) in lowered.timelines[False].change_dates  # the day after 3A090.a (2022) ends


# ---------------------------------------------------------------------------------------------------------
# (b) a broken IR is caught


def _walk(node: Any, fn: Callable[[dict[str, Any]], None]) -> None:
    if isinstance(node, dict):
        fn(node)
        for v in node.values():
            _walk(v, fn)
    elif isinstance(node, list):
        for v in node:
            _walk(v, fn)


def _drop_cn(node: dict[str, Any]) -> None:  # a lowering that lost China from PRC (and so from D:1, D:5 ...)
    for key in ("include", "members"):
        if isinstance(node.get(key), list) and "CN" in node[key]:
            node[key] = [c for c in node[key] if c != "CN"]


def _drop_iran_from_e1(node: dict[str, Any]) -> None:
    if node.get("type") == "in_group" and node.get("group") == "E:1":
        node["members"] = [c for c in node["members"] if c != "IR"]


def _strict_4e091(node: dict[str, Any]) -> None:  # ">=" 10^26 compiled as ">"
    if node.get("type") == "compare" and node.get("op") == ">=" and \
            node.get("right", {}).get("name") == "ai_training_operations":
        node["op"] = ">"


@pytest.mark.parametrize("mutation", [_drop_cn, _drop_iran_from_e1, _strict_4e091])
def test_mutated_ir_is_caught(rs: Ruleset, lowered: Lowered, mutation: Callable[[dict[str, Any]], None]) -> None:
    cache: dict[dt.date, IR] = {}

    def mutated(day: dt.date) -> IR:
        if day not in cache:
            data = json.loads(lowered.at(day, True).to_json())
            _walk(data, mutation)
            cache[day] = IR.model_validate(data)
        return cache[day]

    bad, _ = check(rs, Generator(rs, SEED + 7).requests(), 20_000, True, mutated, stop_at_first=True)
    assert bad, "the differential check did not notice a broken IR"


# ---------------------------------------------------------------------------------------------------------
# (c) determinism and (d) exact numbers


def test_ir_json_is_byte_deterministic_and_sorted(rs: Ruleset, lowered: Lowered) -> None:
    day = dt.date(2025, 6, 1)
    text = lower(rs, as_of=day, rules_version="v1").to_json()
    assert text == lower(Ruleset.default(), as_of=day, rules_version="v1").to_json()
    assert IR.from_json(text).to_json() == text
    assert text.endswith("}\n") and not text.endswith("\n\n")
    data = json.loads(text)
    assert json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n" == text
    for table, key in (("documents", "id"), ("groups", "name"), ("parameters", "name"), ("attributes", "name")):
        names = [x[key] for x in data[table]]
        assert names == sorted(names), table
    assert [c["eccn"] for c in data["controls"]] == sorted(c["eccn"] for c in data["controls"])
    for g in data["groups"]:
        assert g["members"] == sorted(set(g["members"]))

    def sorted_sets(node: dict[str, Any]) -> None:
        for key in ("include", "exclude", "kinds", "actions"):
            if isinstance(node.get(key), list):
                assert node[key] == sorted(set(node[key])), key

    _walk(data, sorted_sets)
    tl = lowered.timelines[False].to_json()
    assert tl == lower_timeline(Ruleset.default(), rules_version=lowered.version).to_json()
    assert Timeline.from_json(tl).to_json() == tl


def _no_float(text: str) -> float:
    raise AssertionError(f"float in IR JSON: {text}")


def test_exact_numbers(rs: Ruleset) -> None:
    x = lower(rs, as_of=dt.date(2025, 3, 1), rules_version="v")
    p = x.parameter("ai_training_operations")
    assert p.value is not None and p.role == "control"
    assert (p.value.decimal, p.value.mantissa, p.value.exponent, p.value.integer) == ("1" + "0" * 26, "1", 26, True)
    assert p.value.display == "10^26" and not p.value.float_exact and p.value.to_decimal() == 10**26
    assert [(u.rule, u.attribute, u.comparator) for u in p.uses] == [("control 4E091", "training_operations", ">=")]
    pd = x.parameter("pd_3a090a2").value
    assert pd is not None and (pd.decimal, pd.mantissa, pd.exponent, pd.integer) == ("5.92", "592", -2, False)
    text = x.to_json()
    json.loads(text, parse_float=_no_float)  # no JSON number with a fraction or exponent anywhere
    assert "e+26" not in text and "1e26" not in text.lower()
    assert any(d.code == "inexact-float" and d.rule == "parameter ai_training_operations" and d.level == "ignore"
               and (d.location or "").endswith("40-parameters.rules:5:1") for d in x.diagnostics)
    # non-control roles are never control thresholds: they appear only where the rules use them
    assert x.parameter("tpp_3a090_note2").role == "exclusion"
    assert {u.clause for u in x.parameter("tpp_3a090_note2").uses} == {"except"}
    for ops, label in ((D(10) ** 26 - 1, "EAR99"), (D(10) ** 26, "4E091"), (D(10) ** 26 + 1, "4E091")):
        asset = SimpleAsset("w", "model_weights", {"training_operations": ops, "published": False})
        assert ir_classify(x, asset).label == label == rs.classify(asset, dt.date(2025, 3, 1)).label


def test_classify_paths_agree(rs: Ruleset, lowered: Lowered) -> None:
    paths = ["models/frontier/model-00001.safetensors", "./ckpt/checkpoint-100/optimizer.pt", "README.md",
             "run/global_step10/x.bin", "configs/train_large.yaml", "exp/hparams.yaml", "secret/.regwatch-controlled",
             "secret/notes.txt", "secret/deep/data.csv", "other/notes.txt", "pytorch_model-0001.bin", "a\\b.gguf"]
    x = lowered.at(dt.date(2025, 6, 1), False)
    got = {p: (m.file_kind, m.asset_kind, m.pattern) for p, m in ir_classify_paths(x, paths).items()}
    want = {p: (m.file_kind, m.asset_kind, m.pattern) for p, m in rs.classify_paths(paths).items()}
    assert got == want and got["secret/deep/data.csv"][0] == "marker" and "other/notes.txt" not in got


# ---------------------------------------------------------------------------------------------------------
# (e) hand-written edge cases

EDGE_RULES = """
document d-base
  citation "1 FR 1"
  published 2024-01-01

document d-paused
  citation "1 FR 2"
  status not_enforced from 2024-03-01 cite d-press

document d-press
  kind press_release
  citation "press release"

document d-susp
  citation "1 FR 4"
  status suspended from 2024-05-01 through 2024-05-31 cite d-base

unit ops "operations"
kind model "a model"
attribute training_operations number unit ops of model "ops"

parameter lo unit ops
  from 2024-01-01 100 cite d-base
  from 2024-09-01 end cite d-base

parameter hi unit ops
  from 2024-01-01 200 cite d-base

group G
  add CN, RU cite d-base

control 1E001.a "half-open range, ends 2024-06-30"
  applies to model
  when training_operations >= lo and training_operations < hi cite d-base
  effective 2024-01-01 through 2024-06-30 cite d-base
  license required to G from 2024-01-01 cite d-base

control 1E001.b "strictly greater, announced not enforced from 2024-03-01"
  applies to model
  when training_operations > hi cite d-paused
  effective 2024-01-01 cite d-paused
  license required to all except G from 2024-01-01 cite d-paused

control 1E001.c "suspended in May 2024, back in force on June 1; compliance from 2024-02-01"
  applies to model
  when training_operations >= hi cite d-susp
  effective 2024-01-01 cite d-susp
  compliance 2024-02-01 cite d-susp
  license required to G from 2024-01-01 cite d-base
"""


@pytest.fixture(scope="module")
def edge() -> Ruleset:
    rs = Ruleset.from_text(EDGE_RULES, "edge.rules")
    assert not [d for d in rs.check() if d.level == "error"]
    return rs


def both(rs: Ruleset, ops: int | None, day: str, strict: bool, who: SimpleSubject | None = None) -> str:
    """The reference outcome, after checking that the IR (one-date and timeline) gives the same decision."""
    at = dt.date.fromisoformat(day)
    asset = SimpleAsset("m", "model", {} if ops is None else {"training_operations": D(ops)})
    subject = who or SimpleSubject("p", ["CN"])
    ref = decide(rs, subject, "read", asset, at, strict=strict)
    one = ir_decide(lower(rs, as_of=at, rules_version="e", strict=strict), subject, "read", asset)
    tl = ir_decide(lower_timeline(rs, rules_version="e", strict=strict).slice_at(at), subject, "read", asset, at=at)
    assert view(one) == view(ref) == view(tl)
    return ref.outcome


def labels(rs: Ruleset, ops: int | None, day: str) -> str:
    asset = SimpleAsset("m", "model", {} if ops is None else {"training_operations": D(ops)})
    x = lower(rs, as_of=dt.date.fromisoformat(day), rules_version="e")
    got = ir_classify(x, asset)
    assert got.label == rs.classify(asset, dt.date.fromisoformat(day)).label
    return got.label + ("?" if got.needs_review else "")


def test_edge_half_open_range_and_comparators(edge: Ruleset) -> None:
    day = "2024-02-15"
    assert [labels(edge, v, day) for v in (99, 100, 199, 200, 201)] == [
        "EAR99", "1E001.a", "1E001.a", "1E001.c", "1E001.b, 1E001.c"]
    assert labels(edge, None, day) == "EAR99?"  # missing attribute: needs review, treated as controlled
    assert both(edge, None, day, False) == "license_required"
    assert [both(edge, v, day, False) for v in (99, 100, 200)] == ["allow", "license_required", "license_required"]


def test_edge_window_end_and_parameter_end(edge: Ruleset) -> None:
    assert labels(edge, 150, "2024-06-30") == "1E001.a" and labels(edge, 150, "2024-07-01") == "EAR99"
    assert both(edge, 150, "2024-06-30", False) == "license_required" and both(edge, 150, "2024-07-01", True) == "allow"
    points = change_dates(edge)
    assert dt.date(2024, 7, 1) in points and dt.date(2024, 6, 30) not in points
    x = lower(edge, as_of=dt.date(2024, 6, 30), rules_version="e")
    assert (x.valid_from, x.valid_through) == (dt.date(2024, 6, 1), dt.date(2024, 6, 30))
    # after 'from 2024-09-01 end' nothing uses lo any more (1E001.a ended): no value, no diagnostic
    later = lower(edge, as_of=dt.date(2024, 9, 1), rules_version="e")
    assert later.parameter("lo").value is None and not later.diagnostics


def test_edge_suspension_returns_automatically(edge: Ruleset) -> None:
    cases = {"2024-04-30": "license_required", "2024-05-01": "allow", "2024-05-31": "allow",
             "2024-06-01": "license_required"}
    for strict in (False, True):  # a suspension binds nobody, strict or not
        assert {d: both(edge, 200, d, strict) for d in cases} == cases
    x = lower(edge, as_of=dt.date(2024, 5, 15), rules_version="e")
    c = x.control("1E001.c")
    assert (c.status, c.binding) == ("suspended", False)
    assert c.status_citation is not None and c.status_citation.documents == ("d-base",)


def test_edge_not_enforced_and_compliance_in_strict_and_lenient_mode(edge: Ruleset) -> None:
    us = SimpleSubject("fr", ["FR"])  # 1E001.b: all except G
    assert both(edge, 201, "2024-02-29", False, us) == "license_required"
    assert both(edge, 201, "2024-03-01", False, us) == "allow"
    assert both(edge, 201, "2024-03-01", True, us) == "license_required"
    lenient = lower(edge, as_of=dt.date(2024, 3, 1), rules_version="e")
    strict = lower(edge, as_of=dt.date(2024, 3, 1), rules_version="e", strict=True)
    assert lenient.control("1E001.b").status == "not_enforced" and not lenient.control("1E001.b").binding
    assert strict.control("1E001.b").binding and strict.control("1E001.b").licenses[0].binding
    # compliance not yet required before 2024-02-01: binding only in strict mode
    assert both(edge, 200, "2024-01-31", False) == "allow" and both(edge, 200, "2024-01-31", True) == "license_required"
    assert both(edge, 200, "2024-02-01", False) == "license_required"


def test_diagnostics_name_the_rule_and_place() -> None:
    rs = Ruleset.from_text(EDGE_RULES.replace("from 2024-09-01 end", "from 2024-03-01 end"), "edge.rules")
    x = lower(rs, as_of=dt.date(2024, 3, 1), rules_version="e")
    [d] = [d for d in x.diagnostics if d.code == "parameter-without-value"]
    assert d.level == "warn" and d.rule == "control 1E001.a" and d.location is not None
    assert d.location.startswith("edge.rules:") and "lo" in d.message
    assert both(rs, 150, "2024-03-01", False) == "license_required"  # unknown: treated as controlled
    assert labels(rs, 150, "2024-03-01") == "EAR99?"


ACCESS_RULES = EDGE_RULES + """
attribute gated bool of model "weights behind an access gate"

access gated_release "reading gated weights releases them"
  on 1E001
  actions read
  release
  when gated

access gated_deny "company policy: no cloning of gated weights"
  on 1E001
  actions clone
  deny
  when gated

access gated_allow "querying gated weights is not a release"
  on 1E001
  actions query_api
  allow
  when gated
"""


@pytest.mark.parametrize(("action", "gated", "outcome"), [
    ("read", None, "license_required"),  # unknown 'when' of a release rule: applied (needs review)
    ("read", False, "license_required"),  # known false: no rule applies, so the conservative default: a release
    ("clone", None, "deny"),             # unknown 'when' of a deny rule: applied
    ("clone", False, "license_required"),  # no rule for clone applies: default release
    ("query_api", None, "license_required"),  # an allow that may not apply lifts nothing: default release
    ("query_api", True, "allow"),
])
def test_unknown_access_conditions_are_conservative(action: str, gated: bool | None, outcome: str) -> None:
    rs = Ruleset.from_text(ACCESS_RULES, "access.rules")
    at = dt.date(2024, 2, 1)
    attrs: dict[str, Any] = {"training_operations": D(150)}
    if gated is not None:
        attrs["gated"] = gated
    asset = SimpleAsset("m", "model", attrs)
    subject = SimpleSubject("p", ["CN"])
    ref = decide(rs, subject, action, asset, at)
    got = ir_decide(lower(rs, as_of=at, rules_version="e"), subject, action, asset)
    assert view(got) == view(ref)
    assert ref.outcome == outcome, [r.text for r in ref.reasons]
    if gated is None and action != "query_api":
        assert any(r.code == "needs_review" and "condition is unknown" in r.text for r in ref.reasons)
