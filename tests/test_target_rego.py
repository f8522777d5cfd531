"""The Rego target, checked by the engines that run it: real OPA (Go, via opa_bindings) and regorus.

(a) the bundle: layout, manifest, deterministic tarball whose files are the ones fed to the engines, goldens;
(b) the generated _test.rego passes in OPA (and in regorus, except the tests that pin exact numbers);
(c) differential: generated requests decide the same in OPA as in compiler.evaluate.ir_decide and
    rulesdsl.semantics.decide (outcome, matches, missing attributes, exclusions, every reason), timeline and
    as-of bundles, both strict modes; regorus agrees away from inexact thresholds; mutants are caught;
(d) exact numbers; (e) signing and verify-bundle; (f) hostile strings; (g) input checks and diagnostics.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import re
import tarfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from compiler import IR, Timeline, ir_decide, lower_timeline
from rulesdsl.ruleset import Ruleset
from rulesdsl.semantics import SimpleAsset, SimpleSubject, decide
from targets import CompileUnit, compile_target, opa_bundle
from targets.base import Bundle
from targets.rego import CONDITIONS, DATA, POLICY, TESTS, request_input
from targets.rego_cases import f64_safe, thresholds
from tests.conftest import Run, assert_no_traceback
from tests.test_compiler_ir import Generator, Request

opa_bindings = pytest.importorskip("opa_bindings")
regorus = pytest.importorskip("regorus")

D = dt.date
ONE = dt.timedelta(days=1)
VERSION = "rules-v-test"
SEED = 20250113
N_TIMELINE = 1500  # requests per strict mode against the timeline bundle (OPA); x2 modes
N_AS_OF = 300  # per strict mode against an as-of bundle
N_REGORUS = 500  # per strict mode, regorus, timeline
ENTRY = "regwatch.exportctl.authz.decision"
BATCH = "x := [d | some q in input.reqs; d := data.regwatch.exportctl.authz.decision with input as q]"


def build(rs: Ruleset, as_of: dt.date | None, strict: bool = False, version: str = VERSION,
          **options: Any) -> Bundle:
    return compile_target("rego", CompileUnit(lower_timeline(rs, rules_version=version, strict=strict), as_of,
                                              dict(options)))


def bundle_files(b: Bundle) -> dict[str, bytes]:
    """What the engines load: the files unpacked from bundle.tar.gz (checked equal to the loose copy)."""
    return opa_bundle.untar(b.files["bundle.tar.gz"])


def generated_tests(b: Bundle) -> bytes:
    return b.files[f"tests/{TESTS}"]


def rule_names(src: bytes) -> list[str]:
    return re.findall(r"^(test_\w+) if", src.decode("utf-8"), re.M)


def _exact_float(text: str) -> float:
    f = float(text)
    assert Decimal(repr(f)) == Decimal(text), f"{text} does not survive a float: feed exact JSON instead"
    return f


# ---------------------------------------------------------------------------------------------------------
# Engines


class Opa:
    """Real OPA (Go) with the bundle's policies and data (data.json at the path of its folder)."""

    def __init__(self, files: dict[str, bytes], extra: dict[str, bytes] | None = None) -> None:
        self.e = opa_bindings.OpaEngine()
        for name, data in sorted({**files, **(extra or {})}.items()):
            if name.endswith(".rego"):
                self.e.add_policy(name, data.decode("utf-8"))
            elif name.endswith("/data.json"):
                self.e.add_data(json.loads(data, parse_float=_exact_float), ".".join(name.split("/")[:-1]))

    def decide(self, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for i in range(0, len(inputs), 400):
            out += self.e.eval_query(BATCH, {"reqs": inputs[i:i + 400]})[0]["x"]
        return out

    def passed(self, package: str) -> set[str]:
        return set(self.e.eval_document(package, {}))


class Rg:
    """regorus with the same files (JSON text in, so nothing goes through a Python float on the way)."""

    def __init__(self, files: dict[str, bytes], extra: dict[str, bytes] | None = None) -> None:
        self.e = regorus.Engine()
        for name, data in sorted({**files, **(extra or {})}.items()):
            if name.endswith(".rego"):
                self.e.add_policy(name, data.decode("utf-8"))
            elif name.endswith("/data.json"):
                doc: Any = "\x00"
                for part in reversed(name.split("/")[:-1]):
                    doc = {part: doc}
                self.e.add_data_json(json.dumps(doc).replace('"\\u0000"', data.decode("utf-8")))

    def decide(self, inp: dict[str, Any]) -> dict[str, Any]:
        self.e.set_input_json(json.dumps(inp))
        result: dict[str, Any] = self.e.eval_rule("data." + ENTRY)
        return result

    def passes(self, rule: str) -> bool:
        try:
            return bool(self.e.eval_rule(rule) is True)
        except RuntimeError:
            return False


# ---------------------------------------------------------------------------------------------------------
# Requests and views


def to_input(q: Request) -> dict[str, Any]:
    """The library's input document; a decimal that a float cannot carry exactly fails the test."""
    return request_input(q.subject, q.action, q.asset, q.at, q.destination,
                         number=lambda d: _exact_float(str(d)))


def ref_view(x: IR | None, rs: Ruleset, q: Request, strict: bool) -> dict[str, Any]:
    """The reference decision (IR evaluator, and the DSL semantics must agree with it)."""
    if x is None:
        return {"outcome": "deny", "codes": ["invalid_input"]}
    d = ir_decide(x, q.subject, q.action, q.asset, q.destination, at=q.at)
    cls = d.classification
    view: dict[str, Any] = {"outcome": d.outcome,
                            "matches": [[m.eccn, m.certain, list(m.missing), m.control.status]
                                        for m in cls.matches],
                            "excluded": [[e.eccn, e.citation] for e in cls.excluded],
                            "reasons": [[r.code, r.text, r.eccn, r.citation] for r in d.reasons],
                            "label": cls.label, "needs_review": cls.needs_review}
    dsl = decide(rs, q.subject, q.action, q.asset, q.at, q.destination, strict=strict)
    assert (dsl.outcome, [r.text for r in dsl.reasons]) == (d.outcome, [r[1] for r in view["reasons"]])
    return view


def rego_view(d: dict[str, Any]) -> dict[str, Any]:
    if d["errors"]:
        return {"outcome": d["outcome"], "codes": sorted({r["code"] for r in d["reasons"]})}
    c = d["classification"]
    return {"outcome": d["outcome"],
            "matches": [[m["eccn"], m["certain"], list(m["missing"]), m["status"]] for m in c["matches"]],
            "excluded": [[e["eccn"], e["citation"]] for e in c["excluded"]],
            "reasons": [[r["code"], r["text"], r["eccn"], r["citation"]] for r in d["reasons"]],
            "label": c["label"], "needs_review": c["needs_review"]}


def requests(rs: Ruleset, seed: int, n: int, dates: list[dt.date] | None = None) -> list[Request]:
    """Seeded requests (tests/test_compiler_ir.Generator: every group, kind, action, threshold -1/0/+1 unit,
    missing and mistyped attributes, licenses with windows; dates at every change date -1/0/+1)."""
    gen = Generator(rs, seed)
    if dates is not None:
        gen.dates = dates
    it: Iterator[Request] = gen.requests()
    return [next(it) for _ in range(n)]


def disagreements(engine: Opa, rs: Ruleset, reqs: list[Request], slice_for: Callable[[dt.date], IR | None],
                  strict: bool, stop_at_first: bool = False) -> tuple[list[str], set[str]]:
    bad: list[str] = []
    codes: set[str] = set()
    for i in range(0, len(reqs), 200 if stop_at_first else len(reqs)):
        chunk = reqs[i:i + (200 if stop_at_first else len(reqs))]
        for q, got in zip(chunk, engine.decide([to_input(q) for q in chunk]), strict=True):
            want = ref_view(slice_for(q.at), rs, q, strict)
            codes |= {r[0] for r in want.get("reasons", [])} | {want["outcome"]}
            if rego_view(got) != want:
                bad.append(f"{q}\n  reference: {want}\n  rego:      {rego_view(got)}")
        if bad and stop_at_first:
            break
    return bad, codes


# ---------------------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def rs() -> Ruleset:
    return Ruleset.default()


@pytest.fixture(scope="module")
def timelines(rs: Ruleset) -> dict[bool, Timeline]:
    return {s: lower_timeline(rs, rules_version=VERSION, strict=s) for s in (False, True)}


@pytest.fixture(scope="module")
def compiled(timelines: dict[bool, Timeline]) -> dict[tuple[str, bool], Bundle]:
    """Bundles of the default rules: ("timeline"|"2025-06-01", strict)."""
    out = {}
    for strict, tl in timelines.items():
        out[("timeline", strict)] = compile_target("rego", CompileUnit(tl, None))
        out[("2025-06-01", strict)] = compile_target("rego", CompileUnit(tl, D(2025, 6, 1)))
    return out


@pytest.fixture(scope="module")
def opa(compiled: dict[tuple[str, bool], Bundle]) -> dict[tuple[str, bool], Opa]:
    return {k: Opa(bundle_files(b), {TESTS: generated_tests(b)}) for k, b in compiled.items()}


SMALL_RULES = """
document d-1
  citation "1 FR 100"
  published 2024-01-01
  title "A small rule"

unit ops "operations"
kind model "a model"
kind chip "a chip"
kind board "a board with chips"
attribute training_operations number unit ops of model "operations used to train"
attribute published bool of model default false "open weights"
attribute vendor string of chip, board "vendor"
attribute tpp number unit ops of chip, board "total processing performance"

parameter big unit ops
  from 2024-01-01 10^26 cite d-1
  from 2024-07-01 2 x 10^26 cite d-1

group G
  add CN, RU cite d-1

exception LX "Example exception"
  effective 2024-01-01 cite d-1

control 9E999 "Models trained with at least big operations, unless published"
  applies to model
  when training_operations >= big and not published cite d-1
  effective 2024-01-01 cite d-1
  license required to G from 2024-01-01 cite d-1
  exceptions LX from 2024-01-01 cite d-1

control 9A999 "Chips of listed vendors above 4800 TPP"
  applies to chip
  when vendor in {"acme", "globex"} and tpp > 4800 cite d-1
  except when tpp < 5000 cite d-1
  effective 2024-03-01 cite d-1
  license required to all except G from 2024-03-01 cite d-1
  policy case_by_case to all from 2024-03-01 cite d-1

control 9A998 "Boards that hold 9A999 chips"
  applies to board
  when meets 9A999 cite d-1
  effective 2024-03-01 cite d-1
  license required to G from 2024-03-01 cite d-1

access release_weights "Reading or exporting weights releases them"
  on 9E999
  actions read, export
  release
  unless subject.us_person

access embargo "No access for nationals of G"
  on 9E999
  actions read
  deny
  when subject.citizenships in group G
  unless subject.permanent_resident

access chips "Exporting chips"
  on 9A999, 9A998
  actions export
  release
"""


@pytest.fixture(scope="module")
def small() -> Ruleset:
    """A hand-written case: a threshold that changes, a default, an in-set, an exclusion, meets, a licensing
    policy, an exception and access rules with subject conditions."""
    return Ruleset.from_text(SMALL_RULES, "small.rules")


# ---------------------------------------------------------------------------------------------------------
# (a) the bundle


def test_bundle_layout_manifest_and_tarball(compiled: dict[tuple[str, bool], Bundle]) -> None:
    b = compiled[("timeline", False)]
    loose = {k.removeprefix("bundle/"): v for k, v in b.files.items() if k.startswith("bundle/")}
    assert sorted(b.files) == sorted([*(f"bundle/{k}" for k in loose), f"tests/{TESTS}", "bundle.tar.gz"])
    assert sorted(loose) == [".manifest", CONDITIONS, POLICY, DATA]
    assert bundle_files(b) == loose  # the tarball holds exactly the loose bundle folder (tests stay outside)
    manifest = json.loads(loose[".manifest"])
    assert manifest["revision"] == VERSION and manifest["roots"] == ["regwatch/exportctl"]
    assert manifest["rego_version"] == 1 and manifest["metadata"]["mode"] == "timeline"
    raw = b.files["bundle.tar.gz"]
    assert raw[:2] == b"\x1f\x8b" and raw[4:8] == b"\x00\x00\x00\x00" and raw[3] & 0x08 == 0  # no mtime, no name
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(raw))) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == sorted(loose)
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode, m.type) for m in members} == {
        (0, 0, 0, "", "", 0o644, tarfile.REGTYPE)}
    # every artifact carries the rules version id
    for name, data in loose.items():
        assert VERSION.encode() in data, name
    assert VERSION.encode() in generated_tests(b)
    data = json.loads(loose[DATA])
    assert data["rules_version"] == VERSION and len(data["slices"]) == 13 and data["mode"] == "timeline"
    one = json.loads(bundle_files(compiled[("2025-06-01", False)])[DATA])
    assert one["mode"] == "as_of" and len(one["slices"]) == 1
    assert one["slices"][0]["valid_from"] == "2025-05-13" and one["window"] == "2025-05-13 .. 2026-01-14"
    # time comes from input only
    for name in (POLICY, CONDITIONS):
        assert "time.now" not in loose[name].decode() and "rego.v1" in loose[name].decode()


def test_byte_deterministic(rs: Ruleset, compiled: dict[tuple[str, bool], Bundle]) -> None:
    again = build(Ruleset.default(), None)
    assert again.files == compiled[("timeline", False)].files
    assert build(rs, D(2025, 6, 1)).files == compiled[("2025-06-01", False)].files
    for data in again.files.values():
        assert data.isascii() or data[:2] == b"\x1f\x8b"
    for name, data in again.files.items():
        if not name.endswith(".gz"):
            assert data.endswith(b"\n") and not data.endswith(b"\n\n") and b"\r" not in data, name


def test_goldens(golden: Callable[[str, dict[str, bytes]], None], compiled: dict[tuple[str, bool], Bundle],
                 small: Ruleset) -> None:
    """Reviewed copies (the tarball is checked above: it holds the same bytes as bundle/)."""
    def loose(b: Bundle) -> dict[str, bytes]:
        return {k: v for k, v in b.files.items() if k != "bundle.tar.gz"}

    golden("rego/default-2025-06-01", loose(compiled[("2025-06-01", False)]))
    golden("rego/default-timeline", loose(compiled[("timeline", False)]))
    golden("rego/small-timeline", loose(build(small, None, version="small-v1")))


# ---------------------------------------------------------------------------------------------------------
# (b) the generated _test.rego


@pytest.mark.parametrize("key", [("timeline", False), ("timeline", True), ("2025-06-01", False)])
def test_generated_tests_pass_in_opa(compiled: dict[tuple[str, bool], Bundle], opa: dict[tuple[str, bool], Opa],
                                     timelines: dict[bool, Timeline], key: tuple[str, bool]) -> None:
    names = rule_names(generated_tests(compiled[key]))
    passed = opa[key].passed("regwatch.exportctl.authz_test")
    assert set(names) <= passed, f"failing: {sorted(set(names) - passed)[:10]}"
    if key[0] == "timeline":  # the day before, of and after every change date
        for d in timelines[key[1]].change_dates:
            for day in (d - ONE, d, d + ONE):
                assert any(n.startswith(f"test_{day:%Y_%m_%d}_") for n in names), day
        assert len(names) > 150
    else:
        assert {"test_2025_05_12_outside_3A001_z_read", "test_2026_01_15_outside_3A001_z_read"} <= set(names)


def test_generated_tests_in_regorus(compiled: dict[tuple[str, bool], Bundle], opa: dict[tuple[str, bool], Opa]
                                    ) -> None:
    """regorus passes every test except those pinning a number binary64 cannot tell from the threshold
    (10^26 - 1 vs 10^26): there, OPA (exact) passes and regorus (f64) fails, as documented."""
    b = compiled[("timeline", False)]
    rg = Rg(bundle_files(b), {TESTS: generated_tests(b)})
    names = rule_names(generated_tests(b))
    failed = [n for n in names if not rg.passes(f"data.regwatch.exportctl.authz_test.{n}")]
    exact = [n for n in names if n.endswith("_exact")]
    assert exact and not [n for n in failed if n not in exact], failed
    assert "test_2025_01_13_threshold_4E091_training_operations_short_exact" in failed
    assert set(exact) <= opa[("timeline", False)].passed("regwatch.exportctl.authz_test")


def flip_comparator(files: dict[str, bytes], attribute: str) -> dict[str, bytes]:
    """``>=`` compiled as ``>`` in every node rule comparing ``attribute`` (fast path and fallback)."""
    chunks = re.split(r"(?m)^(?=[hk]_\w+ := )", files[CONDITIONS].decode())
    out = [c.replace("l >= r", "l > r").replace('cmp3(">="', 'cmp3(">"') if f'attr("{attribute}")' in c else c
           for c in chunks]
    assert out != chunks
    return {**files, CONDITIONS: "".join(out).encode()}


def test_generated_tests_catch_a_mutant(compiled: dict[tuple[str, bool], Bundle]) -> None:
    b = compiled[("timeline", False)]
    files = flip_comparator(bundle_files(b), "training_operations")
    names = set(rule_names(generated_tests(b)))
    passed = Opa(files, {TESTS: generated_tests(b)}).passed("regwatch.exportctl.authz_test")
    assert "test_2025_01_13_threshold_4E091_training_operations_meets" in names - passed


# ---------------------------------------------------------------------------------------------------------
# (c) differential


@pytest.mark.parametrize("strict", [False, True])
def test_differential_timeline_opa(rs: Ruleset, timelines: dict[bool, Timeline], opa: dict[tuple[str, bool], Opa],
                                   strict: bool) -> None:
    tl = timelines[strict]
    bad, codes = disagreements(opa[("timeline", strict)], rs, requests(rs, SEED + strict, N_TIMELINE),
                               tl.slice_at, strict)
    assert not bad, f"{len(bad)} disagreements, first:\n{bad[0]}"
    expected = {"allow", "license_required", "not_controlled", "needs_review", "default_release", "not_a_release",
                "us_person", "no_license_required", "licensed"}
    expected |= {"deny", "denied", "access_rule"} if strict else {"not_enforced", "compliance_not_required"}
    assert codes >= expected, expected - codes


@pytest.mark.parametrize("strict", [False, True])
def test_differential_as_of_opa(rs: Ruleset, timelines: dict[bool, Timeline], opa: dict[tuple[str, bool], Opa],
                                strict: bool) -> None:
    """An as-of bundle decides like the reference inside its window and fails closed outside it."""
    b = opa.get(("2025-06-01", strict))
    if b is None:  # pragma: no cover - fixture builds both
        pytest.skip("no bundle")
    one = timelines[strict].slice_at(D(2025, 6, 1))
    assert one.valid_from is not None and one.valid_through is not None
    days = [one.valid_from - ONE, one.valid_from, one.valid_from + ONE, D(2025, 6, 1), one.valid_through - ONE,
            one.valid_through, one.valid_through + ONE]
    bad, codes = disagreements(b, rs, requests(rs, SEED + 10 + strict, N_AS_OF, days),
                               lambda d: one if one.covers(d) else None, strict)
    assert not bad, f"{len(bad)} disagreements, first:\n{bad[0]}"
    assert {"deny", "license_required", "needs_review"} <= codes


@pytest.mark.parametrize("strict", [False, True])
def test_differential_regorus(rs: Ruleset, timelines: dict[bool, Timeline], compiled: dict[tuple[str, bool], Bundle],
                              strict: bool) -> None:
    """regorus agrees on every request whose numbers binary64 orders correctly against every threshold; the
    others are counted, and regorus is shown to be wrong on at least one of them."""
    tl = timelines[strict]
    rg = Rg(bundle_files(compiled[("timeline", strict)]))
    bad, checked, skipped = [], 0, 0
    for q in requests(rs, SEED + 20 + strict, N_REGORUS):
        if not f64_safe(q.asset.attributes.values(), thresholds(tl.slice_at(q.at))):
            skipped += 1
            continue
        checked += 1
        want, got = ref_view(tl.slice_at(q.at), rs, q, strict), rego_view(rg.decide(to_input(q)))
        if got != want:
            bad.append(f"{q}\n  reference: {want}\n  regorus:   {got}")
    assert not bad, f"{len(bad)} disagreements, first:\n{bad[0]}"
    assert checked > 0.8 * N_REGORUS and skipped > 0
    w = SimpleAsset("w", "model_weights", {"training_operations": Decimal(10) ** 26 - 1, "published": False})
    q = Request(SimpleSubject("p", ["CN"]), "read", w, D(2025, 6, 1), None)
    assert ref_view(tl.slice_at(q.at), rs, q, strict)["label"] == "EAR99"
    assert rg.decide(to_input(q))["classification"]["label"] == "4E091"  # f64: 10^26 - 1 == 1e26


def _mutate_data(files: dict[str, bytes], fn: Callable[[dict[str, Any]], None]) -> dict[str, bytes]:
    data = opa_bundle.loads_exact(files[DATA])

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            fn(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(data)
    return {**files, DATA: opa_bundle.dumps(data).encode()}


def _flip_4e091(files: dict[str, bytes]) -> dict[str, bytes]:
    return flip_comparator(files, "training_operations")


def _drop_iran_from_e1(files: dict[str, bytes]) -> dict[str, bytes]:
    def fn(node: dict[str, Any]) -> None:
        if isinstance(node.get("groups"), dict) and "E:1" in node["groups"]:
            node["groups"]["E:1"] = [c for c in node["groups"]["E:1"] if c != "IR"]
    return _mutate_data(files, fn)


def _drop_cn_from_destinations(files: dict[str, bytes]) -> dict[str, bytes]:
    def fn(node: dict[str, Any]) -> None:
        if isinstance(node.get("include"), list) and "CN" in node["include"]:
            node["include"] = [c for c in node["include"] if c != "CN"]
    return _mutate_data(files, fn)


@pytest.mark.parametrize("mutation", [_flip_4e091, _drop_iran_from_e1, _drop_cn_from_destinations])
def test_mutants_are_caught(rs: Ruleset, timelines: dict[bool, Timeline], compiled: dict[tuple[str, bool], Bundle],
                            mutation: Callable[[dict[str, bytes]], dict[str, bytes]]) -> None:
    files = bundle_files(compiled[("timeline", True)])
    mutant = mutation(files)
    assert mutant != files
    bad, _ = disagreements(Opa(mutant), rs, requests(rs, SEED + 30, 4000), timelines[True].slice_at, True,
                           stop_at_first=True)
    assert bad, "the differential check did not notice a broken policy or data"


# ---------------------------------------------------------------------------------------------------------
# (d) exact numbers


def test_exact_numbers(compiled: dict[tuple[str, bool], Bundle], opa: dict[tuple[str, bool], Opa]) -> None:
    files = bundle_files(compiled[("2025-06-01", False)])
    text = files[DATA].decode()

    exact = opa_bundle.loads_exact(text)
    numbers: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, opa_bundle.Num):
            numbers.append(str(node))
        elif isinstance(node, dict | list):
            for v in node.values() if isinstance(node, dict) else node:
                walk(v)

    walk(exact)  # every number is written as its exact decimal text: no exponent, no float artefacts
    assert numbers and all(re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?", n) for n in numbers), numbers
    params = exact["slices"][0]["parameters"]
    assert params["ai_training_operations"]["value"] == "100000000000000000000000000"
    assert params["ai_training_operations"]["float_exact"] is False
    assert params["pd_3a090a2"]["value"] == "5.92" and isinstance(params["pd_3a090a2"]["value"], opa_bundle.Num)
    assert '"value": 100000000000000000000000000' in text and "e+26" not in text.lower()
    e = opa[("2025-06-01", False)]
    labels = []
    for ops in (10**26 - 1, 10**26, 10**26 + 1):
        attributes = {"training_operations": ops, "published": False}
        inp = {"date": "2025-06-01", "action": "read", "subject": {"id": "p", "citizenships": ["CN"]},
               "object": {"id": "w", "kind": "model_weights", "attributes": attributes}}
        labels.append(e.decide([inp])[0]["classification"]["label"])
    assert labels == ["EAR99", "4E091", "4E091"]
    cond = files[CONDITIONS].decode()
    node = cond[cond.index("# control 4E091"):]
    assert node.index("# no exact double: OPA compares exactly; regorus (f64) is inexact") < node.index(
        'parameters["ai_training_operations"].value')


# ---------------------------------------------------------------------------------------------------------
# (e) signing and verification


@pytest.fixture(scope="module")
def keys() -> dict[str, bytes]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    out: dict[str, bytes] = {}
    for name in ("good", "other"):
        k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        out[name] = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        out[name + ".pub"] = k.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    out["ec"] = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return out


@pytest.fixture(scope="module")
def signed(rs: Ruleset, keys: dict[str, bytes]) -> Bundle:
    return build(rs, D(2025, 6, 1), sign_key=keys["good"], key_id="ops-2025", scope="exportctl")


def _retar(files: dict[str, bytes]) -> dict[str, bytes]:
    return opa_bundle.untar(opa_bundle.tarball(files))


def test_signed_bundle_verifies_and_tampering_is_rejected(signed: Bundle, keys: dict[str, bytes]) -> None:
    files = bundle_files(signed)
    assert opa_bundle.SIGNATURES in files and files == {
        k.removeprefix("bundle/"): v for k, v in signed.files.items() if k.startswith("bundle/")}
    ok = opa_bundle.verify(files, keys["good.pub"], scope="exportctl")
    assert ok.revision == VERSION and ok.key_id == "ops-2025" and len(ok.files) == 4
    sig = json.loads(files[opa_bundle.SIGNATURES])["signatures"]
    assert len(sig) == 1
    import jwt

    header, claims = jwt.get_unverified_header(sig[0]), jwt.decode(sig[0], options={"verify_signature": False})
    assert header == {"alg": "RS256", "kid": "ops-2025", "typ": "JWT"} and claims["scope"] == "exportctl"
    assert sorted(f["name"] for f in claims["files"]) == sorted(set(files) - {opa_bundle.SIGNATURES})
    assert {f["algorithm"] for f in claims["files"]} == {"SHA-256"}
    # whitespace does not matter for structured files (OPA hashes canonical JSON) ...
    reformatted = {**files, DATA: json.dumps(json.loads(files[DATA], parse_float=_exact_float), indent=4).encode()}
    opa_bundle.verify(_retar(reformatted), keys["good.pub"], scope="exportctl")
    # ... content does
    cases: dict[str, tuple[dict[str, bytes], str]] = {
        "data": ({**files, DATA: files[DATA].replace(b'"CN"', b'"XX"', 1)}, "data.json: digest mismatch"),
        "policy": ({**files, POLICY: files[POLICY] + b"\n"}, "policy.rego: digest mismatch"),
        "manifest": ({**files, ".manifest": files[".manifest"].replace(VERSION.encode(), b"forged")},
                     ".manifest: digest mismatch"),
        "added": ({**files, "regwatch/exportctl/authz/evil.rego": b"package regwatch.exportctl.authz\n"},
                  "not included in bundle signature"),
        "removed": ({k: v for k, v in files.items() if k != POLICY}, "in bundle signature but not in the bundle"),
        "unsigned": ({k: v for k, v in files.items() if k != opa_bundle.SIGNATURES}, "unsigned"),
    }
    for name, (mutant, message) in cases.items():
        with pytest.raises(opa_bundle.BundleError, match=re.escape(message)):
            opa_bundle.verify(_retar(mutant), keys["good.pub"], scope="exportctl")
        assert name
    with pytest.raises(opa_bundle.BundleError, match="invalid signature"):
        opa_bundle.verify(files, keys["other.pub"], scope="exportctl")
    with pytest.raises(opa_bundle.BundleError, match="scope mismatch"):
        opa_bundle.verify(files, keys["good.pub"], scope="other")
    with pytest.raises(opa_bundle.BundleError, match="scope mismatch"):
        opa_bundle.verify(files, keys["good.pub"])
    with pytest.raises(opa_bundle.BundleError, match="kid"):
        opa_bundle.verify(files, keys["good.pub"], scope="exportctl", key_id="someone-else")


def test_forged_tokens_are_rejected(signed: Bundle, keys: dict[str, bytes]) -> None:
    import base64

    import jwt

    files = bundle_files(signed)
    token = json.loads(files[opa_bundle.SIGNATURES])["signatures"][0]
    claims = jwt.decode(token, options={"verify_signature": False})
    hs = jwt.encode(claims, keys["good.pub"].decode()[:64], algorithm="HS256")  # the public key as an HMAC secret
    head = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    none = head + "." + token.split(".")[1] + "."
    two = json.dumps({"signatures": [token, token]}).encode()
    for sigs, message in (
            (json.dumps({"signatures": [hs]}).encode(), "not RS256"),
            (json.dumps({"signatures": [none]}).encode(), "not RS256"),
            (two, "exactly one JWT"), (b"[]", "not {"), (b"not json", "not {")):
        with pytest.raises(opa_bundle.BundleError, match=re.escape(message)):
            opa_bundle.verify({**files, opa_bundle.SIGNATURES: sigs}, keys["good.pub"], scope="exportctl")
    with pytest.raises(opa_bundle.KeyFileError):
        opa_bundle.verify(files, b"not a key", scope="exportctl")
    with pytest.raises(opa_bundle.BundleError, match="not a gzip"):
        opa_bundle.untar(b"garbage")


def test_real_opa_accepts_our_signature_and_digest(signed: Bundle, keys: dict[str, bytes]) -> None:
    """OPA's own builtins check what the verifier relies on: the RS256 JWT and the canonical-JSON digest."""
    files = bundle_files(signed)
    token = json.loads(files[opa_bundle.SIGNATURES])["signatures"][0]
    e = opa_bindings.OpaEngine()
    pem = keys["good.pub"].decode()
    r = e.eval_query("ok := io.jwt.verify_rs256(input.t, input.k); d := io.jwt.decode_verify(input.t, "
                     '{"cert": input.k, "alg": "RS256"}); bad := io.jwt.verify_rs256(input.t, input.other)',
                     {"t": token, "k": pem, "other": keys["other.pub"].decode()})[0]
    assert r["ok"] is True and r["bad"] is False and r["d"][0] is True
    assert r["d"][1] == {"alg": "RS256", "kid": "ops-2025", "typ": "JWT"}
    digests = {f["name"]: f["hash"] for f in r["d"][2]["files"]}
    assert digests[POLICY] == hashlib.sha256(files[POLICY]).hexdigest()
    # OPA's json.marshal is Go's json.Marshal (HTML-escaping); the bundle hash uses SetEscapeHTML(false)
    hostile = {"b": ["a\u2028b\u2029", "\x01\x1f\b\f\n\r\t", 'q"\\/', "caf\u00e9 \U0001F600", "<&>"],
               "a": {"z": 1, "10": Decimal("5.92")}, "n": None, "t": True, "big": 10**26}
    for name, doc in ((DATA, json.loads(files[DATA], parse_float=_exact_float)),
                      (".manifest", json.loads(files[".manifest"])), ("hostile", hostile)):
        text = json.dumps(doc, default=lambda d: float(d))
        got = e.eval_query("h := crypto.sha256(json.marshal(input.doc))", {"doc": json.loads(text)})[0]["h"]
        canon = opa_bundle.canonical(opa_bundle.loads_exact(text)).decode()
        html = canon.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        assert got == hashlib.sha256(html.encode()).hexdigest(), name
        if name != "hostile":
            assert digests[name] == hashlib.sha256(canon.encode()).hexdigest()


def test_signing_is_deterministic_and_bad_keys_are_refused(rs: Ruleset, signed: Bundle,
                                                           keys: dict[str, bytes]) -> None:
    again = build(rs, D(2025, 6, 1), sign_key=keys["good"], key_id="ops-2025", scope="exportctl")
    assert again.files == signed.files  # RSASSA-PKCS1-v1_5 is deterministic and the token has no iat
    from targets import TargetError

    for bad in (keys["ec"], b"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"):
        with pytest.raises(TargetError, match="--sign"):
            build(rs, D(2025, 6, 1), sign_key=bad)


def _write_bundle(tmp_path: Path, b: Bundle, keys: dict[str, bytes]) -> tuple[Path, Path, Path]:
    tar = tmp_path / "bundle.tar.gz"
    tar.write_bytes(b.files["bundle.tar.gz"])
    pub, other = tmp_path / "pub.pem", tmp_path / "other.pem"
    pub.write_bytes(keys["good.pub"])
    other.write_bytes(keys["other.pub"])
    for rel, data in b.files.items():
        if rel.startswith("bundle/"):
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_bytes(data)
    return tar, pub, other


def test_verify_bundle_command(tmp_path: Path, signed: Bundle, keys: dict[str, bytes]) -> None:
    """The click command itself (regwatch/cli.py registers it as `regwatch verify-bundle`)."""
    from click.testing import CliRunner

    from regwatch.cli_bundle import verify_bundle

    tar, pub, other = _write_bundle(tmp_path, signed, keys)
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        r = runner.invoke(verify_bundle, list(args))
        assert "Traceback" not in r.output and not isinstance(r.exception, AssertionError | TypeError)
        return r.exit_code, r.output

    code, out = run(str(tar), "--key", str(pub), "--scope", "exportctl")
    assert code == 0 and "verified: 4 files" in out and VERSION in out
    code, out = run(str(tmp_path / "bundle"), "--key", str(pub), "--scope", "exportctl")
    assert code == 0, out  # the unpacked folder verifies too
    assert run(str(tar), "--key", str(other), "--scope", "exportctl")[0] == 1
    code, out = run(str(tar), "--key", str(pub))
    assert code == 1 and "scope mismatch" in out and len(out.strip().splitlines()) == 1
    (tmp_path / "bundle" / DATA).write_bytes((tmp_path / "bundle" / DATA).read_bytes().replace(b'"CN"', b'"XX"', 1))
    code, out = run(str(tmp_path / "bundle"), "--key", str(pub), "--scope", "exportctl")
    assert code == 1 and "digest mismatch" in out and len(out.strip().splitlines()) == 1
    code, out = run(str(tmp_path / "missing.tar.gz"), "--key", str(pub))
    assert code == 2 and "cannot read" in out
    code, out = run(str(tar), "--key", str(tmp_path / "nope.pem"))
    assert code == 2 and "cannot read" in out
    (tmp_path / "junk.pem").write_text("junk")
    code, out = run(str(tar), "--key", str(tmp_path / "junk.pem"))
    assert code == 2 and "not a PEM public key" in out
    (tmp_path / "junk.tar.gz").write_bytes(b"junk")
    assert run(str(tmp_path / "junk.tar.gz"), "--key", str(pub))[0] == 1


def test_verify_bundle_console_script(run: Run, tmp_path: Path, signed: Bundle, keys: dict[str, bytes]) -> None:
    """End to end through the installed `regwatch` script, once regwatch/cli.py registers the command."""
    if "verify-bundle" not in run("--help").stdout:
        pytest.skip("verify-bundle is not registered in regwatch/cli.py yet (tested via CliRunner above)")
    tar, pub, other = _write_bundle(tmp_path, signed, keys)
    ok = run("verify-bundle", str(tar), "--key", str(pub), "--scope", "exportctl")
    assert ok.returncode == 0 and "verified" in ok.stdout
    bad = run("verify-bundle", str(tar), "--key", str(other), "--scope", "exportctl")
    assert bad.returncode == 1 and "invalid signature" in bad.stderr
    usage = run("verify-bundle", str(tmp_path / "none.tar.gz"), "--key", str(pub))
    assert usage.returncode == 2
    for p in (ok, bad, usage):
        assert_no_traceback(p)


# ---------------------------------------------------------------------------------------------------------
# (f) hostile strings


HOSTILE = ['q"uote', "back\\slash", "new\nline", "$(rm -rf /)", "`id`", "package evil\nimport rego.v1\n"
           "allow := true", "} else := true { ", "# comment", "\u0430cme (Cyrillic a)", "\u2028sep", "tab\there",
           "default allow := true"]


def _dsl(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def hostile_rules() -> str:
    evil = " ".join(HOSTILE)
    members = ", ".join(f'"{_dsl(h)}"' for h in HOSTILE)
    return f'''
document d-1
  citation "{_dsl(evil)}"
  published 2024-01-01
  title "{_dsl(evil)}"
unit ops "ops"
kind chip "{_dsl(evil)}"
attribute vendor string of chip "vendor"
attribute tpp number unit ops of chip "tpp"
group G
  add CN cite d-1
control 9A999 "{_dsl(evil)}"
  applies to chip
  when vendor in {{{members}}} and tpp > 4800 cite d-1 at "{_dsl(evil)}" unresolved "{_dsl(evil)}"
  except when vendor == "{_dsl(HOSTILE[0])}" cite d-1 at "{_dsl(evil)}"
  effective 2024-01-01 cite d-1 at "{_dsl(evil)}"
  license required to G from 2024-01-01 cite d-1 at "{_dsl(evil)}"
access chips "{_dsl(evil)}"
  on 9A999
  actions read, export
  release
'''


def test_hostile_strings_are_data(tmp_path: Path) -> None:
    rs = Ruleset.from_text(hostile_rules(), "hostile.rules")
    version = 'v"1\\\n$(id) `x` package evil'
    b = build(rs, None, version=version)
    files = bundle_files(b)
    for name, data in {**files, TESTS: generated_tests(b)}.items():
        assert data.isascii(), name
    o, rg = Opa(files, {TESTS: generated_tests(b)}), Rg(files)
    names = rule_names(generated_tests(b))
    assert set(names) <= o.passed("regwatch.exportctl.authz_test")
    with pytest.raises(opa_bindings.OpaUndefinedError):
        o.e.eval_document("regwatch.exportctl.authz.allow", {})
    with pytest.raises(opa_bindings.OpaUndefinedError):
        o.e.eval_document("evil", {})
    assert o.e.eval_document("regwatch.exportctl.authz.rules_version", {}) == version
    tl = lower_timeline(rs, rules_version=version)
    cite = tl.slices[-1].control("9A999").citation.text
    checked = 0
    for vendor in [*HOSTILE, "acme", HOSTILE[0]]:
        for tpp in (4800, 4801):
            asset = SimpleAsset("a\n\"$(id)", "chip", {"vendor": vendor, "tpp": Decimal(tpp)})
            q = Request(SimpleSubject('s"\\', ["CN"]), "read", asset, D(2024, 6, 1), None)
            want = ref_view(tl.slice_at(q.at), rs, q, False)
            assert rego_view(o.decide([to_input(q)])[0]) == want == rego_view(rg.decide(to_input(q)))
            checked += 1
            if vendor in HOSTILE[1:] and tpp == 4801:
                assert want["outcome"] == "license_required" and want["reasons"][0][3] == cite
    assert checked == 2 * (len(HOSTILE) + 2)
    assert "\u0430cme" in cite  # the look-alike is kept as data, never normalised into "acme"


# ---------------------------------------------------------------------------------------------------------
# (g) input checks, small rules, diagnostics


INVALID: list[dict[str, Any]] = [
    {"date": "2025-13-01"}, {"date": "2023-02-29"}, {"date": "1900-02-29"}, {"date": "2025-6-1"},
    {"date": 20250601}, {"date": None}, {"action": 7}, {"subject": None}, {"subject": {"id": 1}},
    {"subject": {"id": "p", "citizenships": "CN"}}, {"subject": {"id": "p", "licenses": [{"eccn": 5}]}},
    {"subject": {"id": "p", "us_person": "yes"}}, {"object": {"id": "o"}},
    {"object": {"id": "o", "kind": "model", "attributes": []}}, {"destination": 5},
]


def test_invalid_input_fails_closed_on_both_engines(small: Ruleset) -> None:
    b = build(small, None, version="small-v1")
    files = bundle_files(b)
    o, rg = Opa(files), Rg(files)
    base: dict[str, Any] = {"date": "2024-02-29", "action": "export", "destination": "CN", "subject": {"id": "p"},
            "object": {"id": "o", "kind": "model", "attributes": {"training_operations": 10**27}}}
    good = o.decide([base])[0]
    assert good["outcome"] == "license_required" and not good["errors"]  # 2024 is a leap year
    assert rg.decide(base)["outcome"] == "license_required"
    assert o.decide([{**base, "date": "2000-02-29"}])[0]["errors"] == []
    for change in INVALID:
        inp = {**base, **change}
        for d in (o.decide([inp])[0], rg.decide(inp)):
            assert d["outcome"] == "deny" and d["errors"], change
            assert {r["code"] for r in d["reasons"]} == {"invalid_input"}, change


def test_small_rules_decide_like_the_reference(small: Ruleset) -> None:
    """Default attribute values, in-sets, exclusions, meets, policies, exceptions, subject conditions."""
    b = build(small, None, version="small-v1")
    o = Opa(bundle_files(b), {TESTS: generated_tests(b)})
    assert set(rule_names(generated_tests(b))) <= o.passed("regwatch.exportctl.authz_test")
    tl = lower_timeline(small, rules_version="small-v1")
    reqs = requests(small, SEED + 40, 400)
    bad, codes = disagreements(o, small, reqs, tl.slice_at, False)
    assert not bad, bad[0]
    assert {"license_required", "denied", "needs_review", "access_rule", "default_release"} <= codes


def test_diagnostics(compiled: dict[tuple[str, bool], Bundle]) -> None:
    diags = {(d.level, d.code, d.rule) for d in compiled[("timeline", False)].diagnostics}
    assert ("ignore", "rego-inexact-number", "parameter ai_training_operations") in diags
    assert ("ignore", "rego-no-hints", "hints") in diags
    assert not [d for d in diags if d[0] != "ignore"]
    cycle = '''
unit u "u"
kind k "k"
attribute x number unit u of k "x"
control 1A001 "a"
  applies to k
  when x > 1 and meets 1A002
  effective 2024-01-01
control 1A002 "b"
  applies to k
  when meets 1A001
  effective 2024-01-01
'''
    rs = Ruleset.from_text(cycle, "cycle.rules")
    b = build(rs, D(2024, 6, 1))
    [d, *_] = [d for d in b.diagnostics if d.code == "rego-meets-cycle"]
    assert d.level == "error" and d.rule.startswith("control 1A00") and (d.location or "").startswith("cycle.rules:")
    Opa(bundle_files(b))  # still loads: the cycle is compiled as unknown, and the CLI refuses error diagnostics


def test_bench_runs_and_every_engine_agrees() -> None:
    """bench/bench_rego.py (no timing assertions): every engine, including the hand-written policy, gives the
    reference outcome on the bench requests, and every latency and ratio is reported."""
    import importlib.util
    import sys

    path = Path(__file__).resolve().parent.parent / "bench" / "bench_rego.py"
    spec = importlib.util.spec_from_file_location("bench_rego_smoke", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    res = mod.run(1, 12)
    assert set(res["disagreements"].values()) == {0}, res["disagreements"]
    assert all(v > 0 for v in res["us_per_decision"].values()) and len(res["ratios"]) >= 8
    assert res["outcomes"]["deny"] and res["outcomes"]["license_required"] and res["outcomes"]["allow"]


SUBJECT_MEETS = '''
unit u "u"
kind model "m"
attribute ops number unit u of model "ops"
group E
  add IR
control 9E001 "a control that (oddly) looks at the subject"
  applies to model
  when ops > 10 and not subject.us_person
  effective 2024-01-01
  license required to all from 2024-01-01
control 9E002 "plain"
  applies to model
  when ops > 100
  effective 2024-01-01
  license required to E from 2024-01-01
access guarded "denies when 9E001 holds for this subject"
  on 9E002
  actions read
  deny
  when meets 9E001 and subject.citizenships in group E
'''


def test_meets_from_an_access_rule_sees_the_subject() -> None:
    """A control reached through `meets` from an access rule is evaluated with the subject (a second,
    subject-aware rule); in classification the same control has no subject and needs review."""
    rs = Ruleset.from_text(SUBJECT_MEETS, "subject.rules")
    b = build(rs, D(2024, 6, 1))
    assert "h_9E001_subject__1" in b.files[f"bundle/{CONDITIONS}"].decode()
    o = Opa(bundle_files(b))
    x = lower_timeline(rs, rules_version=VERSION).slice_at(D(2024, 6, 1))
    outcomes, texts = set(), set()
    for us in (False, True):
        for cits in (["IR"], ["FR"], []):
            for ops in (None, 5, 50, 500):
                attrs = {} if ops is None else {"ops": Decimal(ops)}
                q = Request(SimpleSubject("s", cits, us_person=us), "read", SimpleAsset("m", "model", attrs),
                            D(2024, 6, 1), None)
                want = ref_view(x, rs, q, False)
                assert rego_view(o.decide([to_input(q)])[0]) == want, q
                outcomes.add(want["outcome"])
                texts |= {r[1] for r in want["reasons"]}
    assert outcomes == {"allow", "license_required", "deny"}
    # an unknown 'when' (ops missing) applies a deny rule, with a needs-review reason
    assert "9E002: access rule 'guarded': its condition is unknown for this person; applied" in texts
