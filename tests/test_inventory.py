"""Inventory loader: formats, exact numbers, derived attributes, inheritance, streaming, errors, schema."""

from __future__ import annotations

import csv
import datetime as dt
import json
import tracemalloc
from decimal import Decimal, getcontext, localcontext
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulesdsl.inventory import (
    DEFAULT_6ND_UNCERTAINTY,
    Asset,
    Inventory,
    InventoryError,
    License,
    Subject,
    dump_inventory_json_schema,
    inventory_json_schema,
    iter_inventory,
    load_inventory,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "fixtures" / "inventory"
SCHEMA_FILE = ROOT / "docs" / "inventory.schema.json"
TEN_26 = Decimal(10) ** 26


@pytest.fixture(scope="module")
def sample() -> Inventory:
    return load_inventory(SAMPLES / "sample.yaml")


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def error_of(path: Path, *, stream: bool = False) -> InventoryError:
    with pytest.raises(InventoryError) as info:
        if stream:
            list(iter_inventory(path))
        else:
            load_inventory(path)
    err = info.value
    assert "\n" not in str(err) and "\r" not in str(err)
    assert str(err) == f"{err.file}:{err.row}:{err.field}: {err.message}"
    return err


def as_jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: as_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def to_jsonl(doc: dict[str, Any]) -> str:
    """The rows of a sample.json document as JSONL (kind made explicit)."""
    kinds = {"models": "model", "weights": "model_weights", "checkpoints": "checkpoint",
             "training_configs": "training_config", "chips": "ic", "computers": "computer", "people": "person"}
    lines = []
    for section, rows in doc.items():
        for row in rows:
            row = dict(row)
            if section in kinds:
                row["kind"] = kinds[section]
            lines.append(json.dumps(row, default=str))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------
# Formats


def test_three_sample_formats_load_equal(sample: Inventory) -> None:
    assert load_inventory(SAMPLES / "sample.json") == sample
    assert load_inventory(SAMPLES / "sample.csv") == sample
    assert len(sample.assets) == 20 and len(sample.people) == 8


def test_jsonl_and_streaming_agree_with_load(tmp_path: Path, sample: Inventory) -> None:
    doc = json.loads((SAMPLES / "sample.json").read_text(), parse_float=Decimal)
    jsonl = write(tmp_path, "sample.jsonl", to_jsonl(doc))
    assert load_inventory(jsonl) == sample
    for path in (SAMPLES / "sample.yaml", SAMPLES / "sample.json", SAMPLES / "sample.csv", jsonl):
        rows = list(iter_inventory(path))
        assert [r for r in rows if isinstance(r, Asset)] == sample.assets
        assert [r for r in rows if isinstance(r, Subject)] == sample.people


def test_sample_ids_and_people(sample: Inventory) -> None:
    ids = {a.id for a in sample.assets}
    assert {"frontier-1", "frontier-open", "small-7b", "edge-1e26", "edge-just-above", "h100-sxm", "h20",
            "gaming-gpu", "hbm3e-stack", "dgx-node"} <= ids
    assert [p.id for p in sample.people] == ["alice", "bob", "chen", "dara", "emre", "farid", "gwen", "hana"]
    assert sample.person("alice").us_person and sample.person("alice").citizenships == ["US"]
    assert sample.person("chen").permanent_resident
    assert sample.person("emre").citizenships == ["TR", "DE"]
    (lic,) = sample.person("gwen").licenses
    assert lic == License(eccn="4E091", number="D123456", countries=["CN"], valid_from=dt.date(2025, 1, 1),
                          valid_through=dt.date(2025, 12, 31))
    assert lic.valid_on(dt.date(2025, 12, 31)) and not lic.valid_on(dt.date(2026, 1, 1))
    assert sample.asset("hbm3e-stack").kind == "hbm"
    assert sample.asset("frontier-1-train-config").path == "configs/frontier-1/train.yaml"
    with pytest.raises(KeyError):
        sample.asset("nope")


def test_attribute_typing_by_value(tmp_path: Path) -> None:
    p = write(tmp_path, "t.yaml", """
assets:
  - id: a
    kind: software
    f: 3.2e25
    g: "6 x 10^25"
    h: 26,900,000
    i: "4E091"
    j: 4E091
    k: "1e26"
    l: "true"
    m: yes
    n: 2024-05-01
    o: "hello"
    p: 0.1
    q: 1_000
    r: ""
""")
    attrs = load_inventory(p).assets[0].attributes
    assert attrs["f"] == Decimal("3.2e25") and isinstance(attrs["f"], Decimal)
    assert attrs["g"] == 6 * Decimal(10) ** 25
    assert attrs["h"] == 26_900_000
    assert attrs["i"] == "4E091" and attrs["j"] == "4E091"  # an ECCN, not 4 x 10^91
    assert attrs["k"] == TEN_26
    assert attrs["l"] == "true" and attrs["m"] is True  # quoted text stays text
    assert attrs["n"] == "2024-05-01" and attrs["o"] == "hello"
    assert attrs["p"] == Decimal("0.1") and attrs["q"] == 1000
    assert "r" not in attrs


def test_csv_cells_typing(tmp_path: Path) -> None:
    p = write(tmp_path, "t.csv", "id,kind,a,b,c,d,e,f\nx,software,YES,No,1e3,  7 ,text,4E091\n")
    attrs = load_inventory(p).assets[0].attributes
    assert attrs == {"a": True, "b": False, "c": Decimal(1000), "d": Decimal(7), "e": "text", "f": "4E091"}


# ---------------------------------------------------------------------------------------------------------
# Exact numbers


@pytest.mark.parametrize("name", ["sample.yaml", "sample.json", "sample.csv"])
def test_exact_threshold_edges(name: str) -> None:
    inv = load_inventory(SAMPLES / name)
    at = inv.asset("edge-1e26").attributes["training_operations"]
    above = inv.asset("edge-just-above").attributes["training_operations"]
    assert isinstance(at, Decimal) and isinstance(above, Decimal)
    assert at == TEN_26 and above == TEN_26 + 1
    assert above > at and above > TEN_26
    assert inv.asset("edge-just-above-weights").attributes["training_operations"] == TEN_26 + 1


def test_exact_under_a_low_precision_caller_context(tmp_path: Path) -> None:
    p = write(tmp_path, "t.json", '{"models": [{"id": "m", "training_operations": 100000000000000000000000001.5,'
                                  ' "parameters": 123456789012345678901, "tokens": 98765432109876543210}]}')
    with localcontext() as ctx:
        ctx.prec = 5
        attrs = load_inventory(p).assets[0].attributes
    assert attrs["training_operations"] == Decimal("100000000000000000000000001.5")
    assert getcontext().prec == 28


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.integers(min_value=-(10**40), max_value=10**40),
                 st.decimals(min_value=-(10**30), max_value=10**30, places=6, allow_nan=False,
                             allow_infinity=False)))
def test_numbers_round_trip_exactly_in_every_format(tmp_path: Path, value: int | Decimal) -> None:
    text = str(value)
    files = {
        "n.csv": f"id,kind,v\nx,software,{text}\n",
        "n.json": f'{{"assets": [{{"id": "x", "kind": "software", "v": {text}}}]}}',
        "n.jsonl": f'{{"id": "x", "kind": "software", "v": {text}}}\n',
        "n.yaml": f"assets:\n  - id: x\n    kind: software\n    v: {text}\n",
    }
    for name, content in files.items():
        got = load_inventory(write(tmp_path, name, content)).assets[0].attributes["v"]
        assert isinstance(got, Decimal) and got == Decimal(value), (name, text, got)


# ---------------------------------------------------------------------------------------------------------
# Derived attributes and inheritance


def test_performance_density_derived(sample: Inventory) -> None:
    h100 = sample.asset("h100-sxm").attributes
    assert h100["performance_density"] == Decimal(15832) / Decimal(814)
    assert Decimal("19.4496") < h100["performance_density"] < Decimal("19.4497")  # type: ignore[operator]
    assert sample.asset("h20").attributes["performance_density"] == Decimal(2368) / Decimal(814)
    assert sample.asset("gaming-gpu").attributes["performance_density"] == Decimal(5284) / Decimal(609)
    assert sample.asset("dgx-node").attributes["performance_density"] == Decimal(126656) / Decimal(6512)
    assert "performance_density" not in sample.asset("hbm3e-stack").attributes


def test_performance_density_given_or_exact(tmp_path: Path) -> None:
    p = write(tmp_path, "t.yaml", """
chips:
  - {id: given, tpp: 4800, die_area_mm2: 600, performance_density: 1.5}
  - {id: exact, tpp: 4800, die_area_mm2: 600}
assets:
  - {id: soft, kind: software, tpp: 4800, die_area_mm2: 600}
""")
    inv = load_inventory(p)
    assert inv.asset("given").attributes["performance_density"] == Decimal("1.5")
    assert inv.asset("exact").attributes["performance_density"] == 8
    assert "performance_density" not in inv.asset("soft").attributes


def test_6nd_estimate(sample: Inventory) -> None:
    small = sample.asset("small-7b").attributes
    assert small["training_operations"] == Decimal("8.4e22") == 6 * 7 * 10**9 * 2 * 10**12
    assert small["training_operations_estimated"] is True
    assert "training_operations_estimated" not in sample.asset("frontier-1").attributes
    assert sample.asset("small-7b-weights").attributes["training_operations_estimated"] is True


def test_6nd_estimate_has_the_default_uncertainty(sample: Inventory) -> None:
    small = sample.asset("small-7b").attributes
    assert small["training_operations_uncertainty"] == Decimal("0.5") == DEFAULT_6ND_UNCERTAINTY
    assert small["training_operations_low"] == Decimal("4.2e22") and small["training_operations_high"] == Decimal(
        "1.26e23")
    frontier = sample.asset("frontier-1").attributes  # disclosed, no uncertainty given: an exact value
    assert not any(k.startswith("training_operations_") for k in frontier)


def test_uncertainty_forms_agree(tmp_path: Path) -> None:
    p = write(tmp_path, "u.yaml", """
models:
  - {id: frac, training_operations: 9.5e25, training_operations_uncertainty: 0.1}
  - {id: pct, training_operations: 9.5e25, training_operations_uncertainty: "10%"}
  - {id: bounds, training_operations: 9.5e25, training_operations_low: 8.55e25, training_operations_high: 1.045e26}
  - {id: one-sided, training_operations: 9.5e25, training_operations_high: 2e26}
  - {id: est, parameters: 1e11, tokens: 1.2e14, training_operations_uncertainty: 0.25}
  - {id: exact-est, parameters: 1e11, tokens: 1e14, training_operations_uncertainty: 0}
weights:
  - {id: w, model: frac}
  - {id: w2, model: est, tokens: 2e14}
""")
    inv = load_inventory(p)
    want = (Decimal("8.55e25"), Decimal("1.045e26"))
    for row in ("frac", "pct", "bounds", "w"):
        a = inv.asset(row).attributes
        assert (a["training_operations_low"], a["training_operations_high"]) == want, row
    assert inv.asset("pct").attributes["training_operations_uncertainty"] == Decimal("0.1")
    one = inv.asset("one-sided").attributes
    assert (one["training_operations_low"], one["training_operations_high"]) == (Decimal("9.5e25"), 2 * TEN_26)
    est = inv.asset("est").attributes  # a given uncertainty replaces the 6ND default
    assert est["training_operations"] == Decimal("7.2e25") and est["training_operations_estimated"] is True
    assert (est["training_operations_low"], est["training_operations_high"]) == (Decimal("5.4e25"), Decimal("9e25"))
    w2 = inv.asset("w2").attributes  # own tokens: own estimate, the model's uncertainty, own bounds
    assert w2["training_operations"] == Decimal("1.2e26") and w2["training_operations_low"] == Decimal("9e25")
    exact = inv.asset("exact-est").attributes
    assert exact["training_operations_low"] == exact["training_operations_high"] == Decimal("6e25")


def test_memory_bandwidth_density_derived(tmp_path: Path) -> None:
    p = write(tmp_path, "m.csv", "id,kind,memory_bandwidth,package_area_mm2,memory_bandwidth_density\n"
                                 "stack,hbm,1229,110,\ngiven,hbm,1229,110,1.5\nchip,ic,3350,1000,\n"
                                 "box,computer,3350,1000,\n")
    inv = load_inventory(p)
    assert inv.asset("stack").attributes["memory_bandwidth_density"] == Decimal(1229) / Decimal(110)
    assert inv.asset("given").attributes["memory_bandwidth_density"] == Decimal("1.5")
    assert inv.asset("chip").attributes["memory_bandwidth_density"] == Decimal("3.35")
    assert "memory_bandwidth_density" not in inv.asset("box").attributes


def test_repository_clearance(tmp_path: Path) -> None:
    from targets.githooks import grants

    yml = write(tmp_path, "r.yaml", """
repositories:
  - {id: research, path: "git@example.com:research/models.git", cleared_eccns: [4E091, "3A090 4A090"],
     cleared_refs: [main, "release/*"], cleared_pushers: alice}
  - {id: open-source, path: "https://example.com/oss.git"}
""")
    csv_ = write(tmp_path, "r.csv", "id,kind,path,cleared_eccns,cleared_refs,cleared_pushers\n"
                                    "research,repository,git@example.com:research/models.git,4E091;3A090, main "
                                    "release/* ,alice\nopen-source,repository,https://example.com/oss.git,,,\n")
    for path in (yml, csv_):
        inv = load_inventory(path)
        attrs = inv.asset("research").attributes
        assert attrs["cleared_eccns"] in ("4E091 3A090 4A090", "4E091 3A090")
        assert attrs["cleared_refs"] == "main release/*" and attrs["cleared_pushers"] == "alice"
        assert "cleared_eccns" not in inv.asset("open-source").attributes
        (grant,) = grants(inv)
        assert grant["repositories"] == ["research", "git@example.com:research/models.git"]
        assert set(grant["eccns"]) >= {"4E091", "3A090"} and grant["refs"] == ["main", "release/*"]


def test_6nd_is_exact_for_long_products(tmp_path: Path) -> None:
    p = write(tmp_path, "t.csv", "id,kind,parameters,tokens\nm,model,123456789012345678901,98765432109876543210\n")
    ops = load_inventory(p).assets[0].attributes["training_operations"]
    assert ops == 6 * 123456789012345678901 * 98765432109876543210


def test_model_inheritance(tmp_path: Path, sample: Inventory) -> None:
    shard = sample.asset("frontier-1-shard-3")
    assert shard.kind == "model_weights" and shard.model == "frontier-1"
    assert shard.attributes == {"training_operations": 3 * TEN_26, "published": False}
    assert sample.asset("frontier-1-train-config").attributes["training_operations"] == 3 * TEN_26
    p = write(tmp_path, "t.yaml", """
weights:
  - {id: w, model: ft, published: true}
  - {id: w2, model: base, tokens: 1e12}
models:
  - {id: ft, model: base, owner: team-b}
  - {id: base, parameters: 1e9, tokens: 2e12, published: false, name: Base}
""")
    inv = load_inventory(p)  # references point forward: resolved after loading
    w = inv.asset("w").attributes
    assert w["published"] is True and w["training_operations"] == Decimal("1.2e22")
    assert inv.asset("ft").attributes["published"] is False and inv.asset("ft").name is None
    # the row's own tokens win, and the estimate is recomputed from them
    assert inv.asset("w2").attributes["training_operations"] == Decimal("6e21")
    assert inv.asset("base").attributes["tokens"] == Decimal("2e12")


# ---------------------------------------------------------------------------------------------------------
# Streaming


def test_streaming_memory_stays_small(tmp_path: Path) -> None:
    p = tmp_path / "big.csv"
    with p.open("w", encoding="utf-8") as f:
        f.write("id,kind,model,training_operations\nbase,model,,3e26\n")
        f.writelines(f"w{i},model_weights,base,\n" for i in range(200_000))
    assert p.stat().st_size > 4_000_000
    it = iter_inventory(p)
    tracemalloc.start()
    try:
        count = 0
        for row in it:
            count += 1
            if count == 150_000:
                assert isinstance(row, Asset) and row.attributes["training_operations"] == 3 * TEN_26
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_001
    assert peak < 20_000_000, f"peak {peak / 1e6:.1f} MB"


def test_streaming_needs_models_first(tmp_path: Path) -> None:
    p = write(tmp_path, "fwd.csv", "id,kind,model,published\nw,model_weights,m,\nm,model,,false\n")
    assert load_inventory(p).asset("w").attributes == {"published": False}
    err = error_of(p, stream=True)
    assert str(err).startswith(f"{p}:2:model: unknown model 'm'") and "models must come first" in str(err)


def test_streaming_duplicate_ids(tmp_path: Path) -> None:
    p = write(tmp_path, "dup.jsonl", '{"id": "a", "kind": "ic"}\n\n{"id": "b", "kind": "ic"}\n'
                                     '{"id": "a", "kind": "hbm"}\n')
    assert str(error_of(p, stream=True)) == f"{p}:4:id: duplicate id 'a' (first used at row 1)"
    assert str(error_of(p)) == f"{p}:4:id: duplicate id 'a' (first used at row 1)"


def test_iter_checks_extension_at_call(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match=r":0:file: unknown inventory file extension '.txt'"):
        iter_inventory(tmp_path / "inv.txt")


# ---------------------------------------------------------------------------------------------------------
# Errors: FILE:ROW:FIELD: message

ERROR_CASES: list[tuple[str, str, str, str]] = [
    # (file name, content, "ROW:FIELD", substring of the message)
    ("missing-id.yaml", "models:\n  - name: x\n", "1:id", "missing id (in 'models', line 2)"),
    ("missing-kind.yaml", "assets:\n  - {id: a, kind: ic}\n  - {id: b}\n", "2:kind", "missing kind for 'b'"),
    ("missing-kind.csv", "id,kind\na,ic\nb,\n", "3:kind", "missing kind for 'b'"),
    ("missing-kind.jsonl", '{"id": "a", "kind": "ic"}\n{"id": "b"}\n', "2:kind", "missing kind"),
    ("missing-column.csv", "id,name\na,x\n", "1:kind", "missing required column 'kind'"),
    ("dup.yaml", "models:\n  - id: a\nchips:\n  - id: b\n  - id: a\n", "2:id",
     "duplicate id 'a' (first used at row 1 in 'models', line 2)"),
    ("dup.csv", "id,kind\na,ic\nb,ic\na,hbm\n", "4:id", "duplicate id 'a' (first used at row 2)"),
    ("dup-person.json", '{"models": [{"id": "a"}], "people": [{"id": "a", "citizenships": ["CN"]}]}', "1:id",
     "duplicate id 'a'"),
    ("unknown-section.yaml", "modles:\n  - id: a\n", "0:modles",
     "unknown top-level key 'modles' (did you mean 'models'?)"),
    ("unknown-section.json", '{"models": [], "gpus": []}', "0:gpus", "unknown top-level key 'gpus'"),
    ("not-a-list.yaml", "models:\n  id: a\n", "0:models", "section 'models' must be a list of rows"),
    ("not-a-mapping.yaml", "- id: a\n", "0:file", "expected a mapping of sections"),
    ("row-not-mapping.yaml", "models:\n  - frontier\n", "1:row", "expected a mapping of fields"),
    ("list-attr.yaml", "chips:\n  - id: c\n    tpp: [1, 2]\n", "1:tpp", "expected a single value"),
    ("list-name.yaml", "models:\n  - id: m\n    name: [a]\n", "1:name", "name must be a string, got a list"),
    ("number-id.json", '{"models": [{"id": 7}]}', "1:id", "id must be a string, got the number 7"),
    ("nested-attr.yaml", "models:\n  - id: m\n    attributes: {x: {y: 1}}\n", "1:x", "expected a single value"),
    ("both.yaml", "models:\n  - id: m\n    published: true\n    attributes: {published: false}\n",
     "1:published", "given both on the row and under attributes"),
    ("country.yaml", "people:\n  - id: p\n    citizenships: [XX]\n", "1:citizenships[1]",
     "unknown country code 'XX'"),
    ("country-lower.json", '{"people": [{"id": "p", "citizenships": ["cn"]}]}', "1:citizenships[1]",
     "upper case: 'cn' should be 'CN'"),
    ("country-norway.yaml", "people:\n  - id: p\n    citizenships: [NO]\n", "1:citizenships[1]",
     "quote country codes"),
    ("country.csv", "id,kind,citizenships\np,person,CN;CHN\n", "2:citizenships", "invalid country code 'CHN'"),
    ("license-country.csv", "id,kind,citizenships,licenses\np,person,CN,4E091@ZZ\n", "2:licenses",
     "unknown country code 'ZZ'"),
    ("no-citizenship.yaml", "people:\n  - id: p\n", "1:citizenships", "needs at least one citizenship"),
    ("date.yaml", "people:\n  - id: p\n    citizenships: [CN]\n    licenses:\n      - eccn: 4E091\n"
                  "        valid_from: 2025-02-30\n", "1:licenses[1].valid_from", "invalid date '2025-02-30'"),
    ("date-format.json", '{"people": [{"id": "p", "citizenships": ["CN"], "licenses": [{"eccn": "4E091", '
                         '"valid_through": "31/12/2025"}]}]}', "1:licenses[1].valid_through",
     "expected YYYY-MM-DD"),
    ("date.csv", "id,kind,citizenships,licenses\np,person,CN,4E091::2025-13-01..\n", "2:licenses",
     "invalid date '2025-13-01'"),
    ("window.yaml", "people:\n  - id: p\n    citizenships: [CN]\n    licenses:\n      - {eccn: 4E091, "
                    "valid_from: 2026-01-01, valid_through: 2025-01-01}\n", "1:licenses[1]",
     "valid_from 2026-01-01 is after valid_through 2025-01-01"),
    ("eccn.yaml", "people:\n  - id: p\n    citizenships: [CN]\n    licenses:\n      - eccn: 4X091\n",
     "1:licenses[1].eccn", "invalid ECCN '4X091'"),
    ("eccn.csv", "id,kind,citizenships,licenses\np,person,CN,4E091:D1;EAR99\n", "2:licenses",
     "invalid ECCN 'EAR99'"),
    ("compact.csv", "id,kind,citizenships,licenses\np,person,CN,4E091:2025-01-01..2025-12-31\n", "2:licenses",
     "write ECCN::FROM..THROUGH"),
    ("compact-colons.csv", "id,kind,citizenships,licenses\np,person,CN,4E091:a:b:c\n", "2:licenses",
     "too many ':'"),
    ("license-field.yaml", "people:\n  - id: p\n    citizenships: [CN]\n    licenses:\n      - {eccn: 4E091, "
                           "contries: [CN]}\n", "1:licenses[1].contries", "did you mean 'countries'?"),
    ("tpp.yaml", "chips:\n  - id: c\n    tpp: fast\n    die_area_mm2: 814\n", "1:tpp",
     "tpp must be a number to derive performance_density = tpp / die_area_mm2, got the string 'fast'"),
    ("area.csv", "id,kind,tpp,die_area_mm2\nc,computer,100,true\n", "2:die_area_mm2",
     "die_area_mm2 must be a number"),
    ("area-zero.json", '{"chips": [{"id": "c", "tpp": 100, "die_area_mm2": 0}]}', "1:die_area_mm2",
     "must be positive"),
    ("params.yaml", "models:\n  - {id: m, parameters: 7B, tokens: 2e12}\n", "1:parameters",
     "parameters must be a number to estimate training_operations"),
    ("unknown-model.yaml", "models:\n  - id: frontier-1\nweights:\n  - {id: w, model: frontier1}\n", "1:model",
     "unknown model 'frontier1' (did you mean 'frontier-1'?)"),
    ("not-a-model.yaml", "chips:\n  - id: c\nweights:\n  - {id: w, model: c}\n", "1:model",
     "'c' is a ic row; model must name a row of kind model"),
    ("cycle.yaml", "models:\n  - {id: a, model: b}\n  - {id: b, model: a}\n", "1:model", "cycle: a -> b -> a"),
    ("kind-mismatch.yaml", "chips:\n  - {id: c, kind: hbm}\n", "1:kind", "rows in 'chips' have kind 'ic'"),
    ("bad-kind.csv", "id,kind\nx,Model Weights\n", "2:kind", "invalid kind 'Model Weights'"),
    ("person-in-assets.yaml", "assets:\n  - {id: p, kind: person}\n", "1:kind", "people go in the 'people'"),
    ("person-field.csv", "id,kind,citizenships,tpp\np,person,CN,5\n", "2:tpp", "unknown field 'tpp' for a person"),
    ("asset-citizenship.yaml", "models:\n  - {id: m, citizenships: [CN]}\n", "1:citizenships",
     "applies to people"),
    ("flag.yaml", "people:\n  - {id: p, citizenships: [CN], us_person: maybe}\n", "1:us_person",
     "must be true or false"),
    ("dup-key.yaml", "models:\n  - id: m\n    published: true\n    published: false\n", "1:published",
     "key 'published' appears twice"),
    ("dup-key.json", '{"models": [{"id": "m", "tpp": 1, "tpp": 2}]}', "1:tpp", "appears twice"),
    ("inf.yaml", "models:\n  - {id: m, training_operations: .inf}\n", "1:training_operations",
     "not a finite number"),
    ("huge.json", '{"models": [{"id": "m", "x": 1e999999999}]}', "1:x", "exponent out of range"),
    ("huge.yaml", "models:\n  - {id: m, x: '10^999999'}\n", "1:x", "exponent out of range"),
    ("huge.csv", "id,kind,x\nm,model,1e500\n", "2:x", "exponent out of range"),
    ("long-int.yaml", "models:\n  - {id: m, x: 1" + "0" * 5000 + "}\n", "0:syntax", "malformed YAML"),
    # uncertain values, densities and clearance (docs/inventory.md)
    ("uncertainty-wide.yaml", "models:\n  - {id: m, training_operations: 1e26, training_operations_uncertainty: 2}\n",
     "1:training_operations_uncertainty", "between 0 and 1"),
    ("uncertainty-text.csv", "id,kind,training_operations,training_operations_uncertainty\nm,model,1e26,about half\n",
     "2:training_operations_uncertainty", "relative uncertainty between 0 and 1"),
    ("uncertainty-negative.jsonl", '{"id": "m", "kind": "model", "training_operations": 1e26, '
     '"training_operations_uncertainty": "-10%"}\n', "1:training_operations_uncertainty", "between 0 and 1"),
    ("uncertainty-and-bounds.yaml", "models:\n  - {id: m, training_operations: 1e26, training_operations_low: 5e25,"
     " training_operations_uncertainty: 0.1}\n", "1:training_operations_uncertainty", "not both"),
    ("uncertainty-alone.yaml", "models:\n  - {id: m, tpp_uncertainty: 0.1}\n", "1:tpp_uncertainty",
     "tpp_uncertainty needs tpp"),
    ("uncertainty-of-text.yaml", "chips:\n  - {id: c, tpp: fast, tpp_uncertainty: 0.1}\n", "1:tpp",
     "tpp must be a number to have an uncertainty"),
    ("low-above.csv", "id,kind,training_operations,training_operations_low\nm,model,1e26,2e26\n",
     "2:training_operations_low", "is above training_operations"),
    ("high-below.yaml", "models:\n  - {id: m, training_operations: 1e26, training_operations_high: 9e25}\n",
     "1:training_operations_high", "is below training_operations"),
    ("bound-text.yaml", "models:\n  - {id: m, training_operations: 1e26, training_operations_high: lots}\n",
     "1:training_operations_high", "must be a number as a bound of training_operations"),
    ("package-zero.yaml", "assets:\n  - {id: h, kind: hbm, memory_bandwidth: 1229, package_area_mm2: 0}\n",
     "1:package_area_mm2", "must be positive"),
    ("bandwidth-text.csv", "id,kind,memory_bandwidth,package_area_mm2\nh,hbm,fast,110\n", "2:memory_bandwidth",
     "memory_bandwidth must be a number to derive memory_bandwidth_density"),
    ("clearance-eccn.yaml", "repositories:\n  - {id: r, cleared_eccns: [4E091, EAR99]}\n", "1:cleared_eccns[2]",
     "invalid ECCN 'EAR99' in cleared_eccns"),
    ("clearance-eccn.csv", "id,kind,cleared_eccns\nr,repository,4E091;3X090\n", "2:cleared_eccns",
     "invalid ECCN '3X090'"),
    ("clearance-kind.yaml", "models:\n  - {id: m, cleared_eccns: 4E091}\n", "1:cleared_eccns",
     "clearance of a repository row"),
    ("clearance-type.json", '{"repositories": [{"id": "r", "cleared_eccns": [4]}]}', "1:cleared_eccns[1]",
     "expected text, got the number 4"),
    ("clearance-map.yaml", "repositories:\n  - {id: r, cleared_refs: {main: true}}\n", "1:cleared_refs",
     "must be words or a list of words"),
    ("nan.json", '{"models": [{"id": "m", "training_operations": NaN}]}', "0:syntax", "NaN is not a number"),
    ("bad-header.csv", "id,kind,tpp (dense)\n", "1:tpp (dense)", "invalid column name"),
    ("dup-header.csv", "id,kind,tpp,tpp\n", "1:tpp", "appears twice in the header"),
    ("extra-cells.csv", "id,kind\na,ic,5\n", "2:row", "3 cells but the header has 2 columns"),
    ("control.csv", 'id,kind\n"a\nb",ic\n', "2:id", "contains a control character"),
    ("malformed.yaml", "models:\n  - id: a\n  name: [unclosed\n", "3:syntax", "malformed YAML"),
    ("tabs.yaml", "models:\n\t- id: a\n", "2:syntax", "malformed YAML"),
    ("malformed.json", '{"models": [\n  {"id": "a"},\n  {"id": "b"\n]}\n', "4:syntax",
     "malformed JSON: Expecting ',' delimiter"),
    ("malformed.jsonl", '{"id": "a", "kind": "ic"}\n{"id": "b", "kind": ic}\n', "2:syntax", "malformed JSON"),
    ("malformed.csv", 'id,kind,name\na,ic,"ok"\nb,ic,"unclosed\n', "3:syntax", "malformed CSV"),
    ("quote.csv", 'id,kind,name\na,ic,"x"y\n', "2:syntax", "malformed CSV"),
    ("empty.yaml", "", "0:file", "empty inventory file"),
    ("comments.yaml", "# nothing here\n", "0:file", "empty inventory file"),
    ("empty.json", "  \n", "0:file", "empty inventory file"),
    ("empty.csv", "\n\n", "0:file", "empty inventory file"),
    ("empty.jsonl", "\n", "0:file", "empty inventory file"),
    ("inventory.txt", "id,kind\n", "0:file", "unknown inventory file extension '.txt'"),
    ("noext", "id,kind\n", "0:file", "unknown inventory file extension '(none)'"),
]


@pytest.mark.parametrize(("name", "content", "where", "needle"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_error_kinds(tmp_path: Path, name: str, content: str, where: str, needle: str) -> None:
    path = write(tmp_path, name, content)
    err = error_of(path)
    assert str(err).startswith(f"{path}:{where}: "), str(err)
    assert needle in err.message, str(err)
    if name.endswith((".csv", ".jsonl")):  # the streaming reader reports the same problem
        assert str(error_of(path, stream=True)) == str(err)


def test_error_missing_and_unreadable_files(tmp_path: Path) -> None:
    assert str(error_of(tmp_path / "nope.yaml")) == f"{tmp_path / 'nope.yaml'}:0:file: cannot read the " \
                                                    f"inventory: no such file"
    (tmp_path / "dir.csv").mkdir()
    assert "cannot read the inventory" in str(error_of(tmp_path / "dir.csv"))
    bad = tmp_path / "latin1.csv"
    bad.write_bytes("id,kind,name\na,ic,caf\xe9\n".encode("latin-1"))
    assert str(error_of(bad)).startswith(f"{bad}:")
    assert "not UTF-8" in str(error_of(bad))


def test_error_is_picklable() -> None:
    import pickle

    err = pickle.loads(pickle.dumps(InventoryError("f.csv", 3, "tpp", "bad")))
    assert (str(err), err.file, err.row, err.field, err.message) == ("f.csv:3:tpp: bad", "f.csv", 3, "tpp", "bad")


def test_errors_name_yaml_lines(tmp_path: Path) -> None:
    p = write(tmp_path, "lines.yaml", "# header\n\nchips:\n  - id: ok\n  - id: c\n    tpp: fast\n"
                                      "    die_area_mm2: 1\n")
    assert str(error_of(p)).endswith("(in 'chips', line 5)")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.sampled_from(["CN", "4E091", "1e26", "2025-01-01", "model", "person", "4E091@CN:D1:2025-01-01.."]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["id", "kind", "name", "model", "tpp", "die_area_mm2", "citizenships",
                                       "licenses", "eccn", "valid_from", "us_person", "attributes", "models",
                                       "chips", "people", "assets"]), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=json_values, fmt=st.sampled_from(["json", "yaml"]))
def test_fuzzed_documents_load_or_raise_inventory_error(tmp_path: Path, doc: Any, fmt: str) -> None:
    text = json.dumps(doc) if fmt == "json" else yaml.safe_dump(doc)
    path = write(tmp_path, f"fuzz.{fmt}", text)
    try:
        load_inventory(path)
    except InventoryError as err:
        assert "\n" not in str(err) and str(err).startswith(f"{path}:")


# ---------------------------------------------------------------------------------------------------------
# Hostile strings are data

HOSTILE = [
    "x'; DROP TABLE assets; --",
    'say "hi"',
    "line one\nline two",
    "$(touch /tmp/pwned)",
    "`rm -rf /`",
    "back\\slash %s {0} ${HOME}",
    " leading and trailing ",
]


def test_hostile_strings_kept_verbatim(tmp_path: Path) -> None:
    rows = [{"id": f"a{i}", "kind": "software", "name": s, "path": f"dir/{s}", "owner": s, "note": s}
            for i, s in enumerate(HOSTILE)]
    files = {
        "h.json": json.dumps({"assets": rows}),
        "h.jsonl": "".join(json.dumps(r) + "\n" for r in rows),
        "h.yaml": yaml.safe_dump({"assets": rows}),
    }
    for name, text in files.items():
        write(tmp_path, name, text)
    with (tmp_path / "h.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    for name in (*files, "h.csv"):
        inv = load_inventory(tmp_path / name)
        for asset, s in zip(inv.assets, HOSTILE, strict=True):
            assert (asset.name, asset.path, asset.owner, asset.attributes["note"]) == (s, f"dir/{s}", s, s), name


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=30))
def test_any_name_survives_csv_and_jsonl(tmp_path: Path, name: str) -> None:
    expected = name if name.strip() else None
    with (tmp_path / "n.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["id", "kind", "name"], ["x", "software", name]])
    write(tmp_path, "n.jsonl", json.dumps({"id": "x", "kind": "software", "name": name}) + "\n")
    for file in ("n.csv", "n.jsonl"):
        assert load_inventory(tmp_path / file).assets[0].name == expected, file


# ---------------------------------------------------------------------------------------------------------
# Models used directly


def test_models_validate_and_keep_numbers_exact() -> None:
    a = Asset(id="m", kind="model", attributes={"training_operations": 1e26, "n": 5, "p": True})
    assert a.attributes == {"training_operations": TEN_26, "n": Decimal(5), "p": True}
    with pytest.raises(ValueError):
        License(eccn="4e091")
    with pytest.raises(ValueError):
        Subject(id="x", citizenships=[])
    assert Subject(id="x", us_person=True).citizenships == []


# ---------------------------------------------------------------------------------------------------------
# JSON Schema


def test_committed_schema_is_generated() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json.dumps(inventory_json_schema(), indent=2,
                                                                 sort_keys=True) + "\n"
    assert dump_inventory_json_schema() == SCHEMA_FILE.read_text(encoding="utf-8")


def test_samples_validate_against_schema(tmp_path: Path) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for doc in (as_jsonable(yaml.safe_load((SAMPLES / "sample.yaml").read_text())),
                json.loads((SAMPLES / "sample.json").read_text())):
        assert list(validator.iter_errors(doc)) == []
    row_validator = jsonschema.Draft202012Validator({"$ref": "#/$defs/jsonl_row", "$defs": schema["$defs"]})
    for line in to_jsonl(json.loads((SAMPLES / "sample.json").read_text())).splitlines():
        assert list(row_validator.iter_errors(json.loads(line))) == []


def test_schema_accepts_the_new_fields() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    doc = {"models": [{"id": "m", "training_operations": "9.5e25", "training_operations_uncertainty": "10%"},
                      {"id": "n", "parameters": 1e11, "tokens": 1.2e14, "training_operations_low": 5e25}],
           "repositories": [{"id": "r", "path": "git@example.com:r.git", "cleared_eccns": ["4E091", "3A090"],
                             "cleared_refs": "main", "attributes": {"cleared_pushers": ["alice"]}}],
           "assets": [{"id": "h", "kind": "hbm", "memory_bandwidth": 1229, "package_area_mm2": 110}]}
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(doc)) == []


@pytest.mark.parametrize("doc", [
    {"modles": []},
    {"assets": [{"id": "a"}]},
    {"assets": [{"id": "p", "kind": "person"}]},
    {"chips": [{"id": "c", "kind": "hbm"}]},
    {"chips": [{"id": "c", "tpp": [1]}]},
    {"models": [{"id": "m", "citizenships": ["CN"]}]},
    {"people": [{"id": "p"}]},
    {"people": [{"id": "p", "citizenships": ["cn"]}]},
    {"people": [{"id": "p", "citizenships": ["CN"], "licenses": [{"eccn": "4X091"}]}]},
    {"people": [{"id": "p", "citizenships": ["CN"], "licenses": "4E091:2025-01-01..2025-12-31:x"}]},
    {"people": [{"id": "p", "citizenships": ["CN"], "tpp": 5}]},
    {"models": [{"id": "m", "cleared_eccns": "4E091"}]},
    {"repositories": [{"id": "r", "cleared_eccns": [4]}]},
])
def test_schema_rejects_what_the_loader_rejects(tmp_path: Path, doc: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(doc)) != []
    with pytest.raises(InventoryError):
        load_inventory(write(tmp_path, "doc.json", json.dumps(doc)))


# ---------------------------------------------------------------------------------------------------------
# Docs


def test_extension_keys_and_yaml_anchors(tmp_path: Path) -> None:
    p = write(tmp_path, "x.yaml", "x-defaults: &d {datacenter: true, die_area_mm2: 814}\n"
                                  "chips:\n  - {<<: *d, id: a, tpp: 1628}\n  - {<<: *d, id: b, datacenter: false}\n")
    inv = load_inventory(p)
    assert inv.asset("a").attributes == {"datacenter": True, "die_area_mm2": 814, "tpp": 1628,
                                         "performance_density": 2}
    assert inv.asset("b").attributes == {"datacenter": False, "die_area_mm2": 814}


def test_examples_in_the_docs_load(tmp_path: Path) -> None:
    import re

    text = (ROOT / "docs" / "inventory.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(yaml|json|jsonl|csv)\n(.*?)```", text, re.S)
    assert {lang for lang, _ in blocks} == {"yaml", "json", "jsonl", "csv"}
    for i, (lang, body) in enumerate(blocks):
        load_inventory(write(tmp_path, f"example{i}.{lang}", body))
