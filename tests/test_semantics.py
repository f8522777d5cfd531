"""Reference semantics on the default ruleset: boundary dates, statuses, exact thresholds, decisions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from rulesdsl import ast as A
from rulesdsl.intervals import in_window
from rulesdsl.ruleset import Ruleset
from rulesdsl.semantics import SimpleAsset, SimpleLicense, SimpleSubject, control_status

ONE = dt.timedelta(days=1)


@pytest.fixture(scope="module")
def rs() -> Ruleset:
    return Ruleset.default()


def d(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def weights(ops: object, published: bool = False, **extra: object) -> SimpleAsset:
    return SimpleAsset("w", "model_weights", {"training_operations": ops, "published": published, **extra})


def chip(tpp: str, area: str, datacenter: bool = True, **extra: object) -> SimpleAsset:
    return SimpleAsset("c", "ic", {"tpp": D(tpp), "performance_density": D(tpp) / D(area),
                                   "datacenter": datacenter, **extra})


# --- exact numbers ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("ops", "controlled"), [
    (D(10) ** 26, True),                     # exactly the threshold: ">=" (unresolved vs ">", stated)
    (D(10) ** 26 + 1, True),
    (D(10) ** 26 - 1, False),                # one operation below
    (D("9.999999999999999999999999999E+25"), False),
    (D(repr(1e26)), True),                   # a float from JSON goes through its repr "1e+26": exact 10^26
    (D(3) * D(10) ** 26, True),
])
def test_4e091_threshold_is_exact(rs: Ruleset, ops: D, controlled: bool) -> None:
    c = rs.classify(weights(ops), d("2025-03-01"))
    assert (c.label == "4E091") is controlled
    assert not (10**26 >= 1e26)


def test_published_weights_are_not_4e091(rs: Ruleset) -> None:
    assert rs.classify(weights(D(10) ** 27, published=True), d("2025-03-01")).label == "EAR99"


def test_below_published_frontier_exclusion_and_default(rs: Ruleset) -> None:
    at = d("2025-03-01")
    c = rs.classify(weights(D(10) ** 27, below_published_frontier=True), at)
    assert c.label == "EAR99" and [x.eccn for x in c.excluded] == ["4E091"]
    # the attribute has "default false": absent means not excluded, and the result is certain
    c2 = rs.classify(weights(D(10) ** 27), at)
    assert c2.label == "4E091" and not c2.needs_review


def test_missing_attribute_needs_review(rs: Ruleset) -> None:
    c = rs.classify(SimpleAsset("w", "model_weights", {"published": False}), d("2025-03-01"))
    assert c.label == "EAR99" and c.needs_review
    assert c.matches[0].missing == ("training_operations",)


@pytest.mark.parametrize(("density", "controlled"), [("2", False), ("2.0000001", True), ("3.1", True)])
def test_3a090c_is_strictly_greater(rs: Ruleset, density: str, controlled: bool) -> None:
    hbm = SimpleAsset("h", "hbm", {"memory_bandwidth_density": D(density)})
    assert (rs.classify(hbm, d("2025-01-01")).label == "3A090.c") is controlled


# --- chips across the versions of 3A090 ------------------------------------------------------------------

def test_3a090a_versions_switch_on_2023_11_17(rs: Ruleset) -> None:
    old = SimpleAsset("a100", "ic", {"io_bandwidth": D(600), "bit_tops": D(4992), "tpp": D(4992),
                                     "performance_density": D("6.1"), "datacenter": True})
    before, on = rs.classify(old, d("2023-11-16")), rs.classify(old, d("2023-11-17"))
    assert before.label == on.label == "3A090.a"
    assert before.matches[0].effective == d("2022-10-07") and before.matches[0].effective_through == d("2023-11-16")
    assert on.matches[0].effective == d("2023-11-17")
    # a chip that only meets the 2022 test (I/O) is controlled before and not after
    io_only = SimpleAsset("x", "ic", {"io_bandwidth": D(700), "bit_tops": D(5000), "tpp": D(1000),
                                      "performance_density": D(1), "datacenter": True})
    assert rs.classify(io_only, d("2023-11-16")).label == "3A090.a"
    assert rs.classify(io_only, d("2023-11-17")).label == "EAR99"
    assert rs.classify(io_only, d("2022-10-06")).label == "EAR99"


@pytest.mark.parametrize(("tpp", "area", "datacenter", "label"), [
    ("15832", "814", True, "3A090.a"),    # H100-class
    ("4800", "10000", True, "3A090.a"),   # a.1 boundary: 4800 or more
    ("4799", "10000", True, "EAR99"),     # below a.1; PD 0.48 below b ranges
    ("1600", "270.27", True, "3A090.a"),  # a.2: TPP 1600 and PD 5.92
    ("2368", "814", True, "EAR99"),       # H20-class: PD 2.9 below b.1 (1.6..5.92 needs TPP >= 2400)
    ("2400", "814", True, "3A090.b"),     # b.1 lower bounds inclusive
    ("2400", "814", False, "EAR99"),      # Note 2: not datacenter and TPP < 4800
    ("5284", "609", False, "3A090.a"),    # not datacenter but TPP >= 4800: Note 2 does not apply
])
def test_3a090_2023_text(rs: Ruleset, tpp: str, area: str, datacenter: bool, label: str) -> None:
    assert rs.classify(chip(tpp, area, datacenter), d("2024-06-01")).label == label


def test_4a090_meets_3a090(rs: Ruleset) -> None:
    node = SimpleAsset("dgx", "computer", {"tpp": D(126656), "performance_density": D("19.45"), "datacenter": True})
    assert rs.classify(node, d("2024-06-01")).label == "4A090.a"
    small = SimpleAsset("pc", "computer", {"tpp": D(100), "performance_density": D(1), "datacenter": False})
    assert rs.classify(small, d("2024-06-01")).label == "EAR99"


def test_z_paragraphs(rs: Ruleset) -> None:
    switch = SimpleAsset("sw", "commodity", {"base_eccn": "5A992", "tpp": D(5000), "performance_density": D(8),
                                             "datacenter": True})
    assert rs.classify(switch, d("2023-11-16")).label == "EAR99"
    assert rs.classify(switch, d("2023-11-17")).label == "5A992.z"
    other = SimpleAsset("o", "commodity", {"base_eccn": "5A002", "tpp": D(10), "performance_density": D(1),
                                           "datacenter": True})
    assert rs.classify(other, d("2024-01-01")).label == "EAR99"


# --- statuses --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("day", "status"), [
    ("2025-01-12", None),
    ("2025-01-13", "compliance_not_required"),
    ("2025-05-12", "compliance_not_required"),
    ("2025-05-13", "not_enforced"),          # non-enforcement announced (press release), never rescinded
    ("2025-05-15", "not_enforced"),
    ("2026-11-26", "not_enforced"),
])
def test_4e091_status(rs: Ruleset, day: str, status: str | None) -> None:
    c = rs.classify(weights(D(10) ** 27), d(day))
    assert (c.matches[0].status if c.matches else None) == status


def test_3a090c_compliance_date(rs: Ruleset) -> None:
    ctl = next(c for c in rs.controls if c.eccn == "3A090.c")
    assert control_status(rs, ctl, d("2024-12-30")).status == "compliance_not_required"
    assert control_status(rs, ctl, d("2024-12-31")).status == "in_force"


@pytest.mark.parametrize(("day", "status"), [
    ("2025-11-09", "in_force"), ("2025-11-10", "suspended"), ("2026-11-09", "suspended"), ("2026-11-10", "in_force"),
])
def test_affiliates_rule_suspension_window_is_inclusive(rs: Ruleset, day: str, status: str) -> None:
    [st] = rs.timeline("2025-19001").status_on(rs, d(day))
    assert st["status"] == status


# --- decisions -------------------------------------------------------------------------------------------

BOB = SimpleSubject("bob", ["CN"])
ALICE = SimpleSubject("alice", ["US"], us_person=True)
CHEN = SimpleSubject("chen", ["CN"], permanent_resident=True)
FARID = SimpleSubject("farid", ["IR"])
GWEN = SimpleSubject("gwen", ["CN"], licenses=[SimpleLicense("4E091", valid_from=d("2025-01-01"),
                                                             valid_through=d("2025-12-31"))])
HANA = SimpleSubject("hana", ["JP"])


@pytest.mark.parametrize(("who", "action", "day", "strict", "outcome"), [
    (BOB, "read", "2025-03-01", False, "allow"),              # compliance not yet required
    (BOB, "read", "2025-03-01", True, "license_required"),
    (BOB, "read", "2025-06-01", False, "allow"),              # not enforced since 2025-05-13
    (BOB, "read", "2025-06-01", True, "license_required"),
    (BOB, "query_api", "2025-06-01", True, "allow"),          # API queries do not release the weights
    (BOB, "execute_compiled", "2025-06-01", True, "allow"),
    (ALICE, "clone", "2025-06-01", True, "allow"),            # U.S. person
    (CHEN, "clone", "2025-06-01", True, "allow"),             # permanent resident
    (HANA, "read", "2025-06-01", True, "allow"),              # JP is an AIA destination
    (FARID, "read", "2025-06-01", True, "deny"),              # company policy for E:1 nationals
    (GWEN, "read", "2025-06-01", True, "allow"),              # holds a valid license
    (GWEN, "read", "2026-01-01", True, "license_required"),   # license expired 2025-12-31 (inclusive)
    (GWEN, "read", "2025-12-31", True, "allow"),
    (BOB, "read", "2025-01-12", True, "allow"),               # before 4E091 existed
])
def test_decide_weights(rs: Ruleset, who: SimpleSubject, action: str, day: str, strict: bool, outcome: str) -> None:
    assert rs.decide(who, action, weights(D(10) ** 27), d(day), strict=strict).outcome == outcome


@pytest.mark.parametrize(("dest", "day", "strict", "outcome"), [
    ("CN", "2022-10-06", False, "allow"),
    ("CN", "2022-10-07", False, "license_required"),
    ("MO", "2023-01-16", False, "allow"),            # Macau added on 2023-01-17 (effective before publication)
    ("MO", "2023-01-17", False, "license_required"),
    ("SA", "2023-11-16", False, "allow"),            # D:4 added 2023-11-17
    ("SA", "2023-11-17", False, "license_required"),
    ("IL", "2024-06-01", False, "allow"),            # D:4 but also A:6: excluded
    ("IL", "2025-03-01", False, "license_required"),  # AI Diffusion worldwide requirement (not AIA)
    ("IL", "2025-06-01", False, "allow"),            # ... not enforced since 2025-05-13
    ("IL", "2025-06-01", True, "license_required"),
    ("JP", "2025-03-01", True, "allow"),             # AIA destination
])
def test_decide_chip_export(rs: Ruleset, dest: str, day: str, strict: bool, outcome: str) -> None:
    old = SimpleAsset("a100", "ic", {"io_bandwidth": D(600), "bit_tops": D(4992), "tpp": D(4992),
                                     "performance_density": D("6.1"), "datacenter": True})
    nobody = SimpleSubject("exporter", ["US"], us_person=True)
    assert rs.decide(nobody, "export", old, d(day), dest, strict=strict).outcome == outcome


def test_licensing_policy_latest_wins(rs: Ruleset) -> None:
    h200 = chip("15832", "814", dram_bandwidth=D(4800))
    exporter = SimpleSubject("exporter", ["US"], us_person=True)
    before = rs.decide(exporter, "export", h200, d("2026-01-14"), "CN")
    after = rs.decide(exporter, "export", h200, d("2026-01-15"), "CN")
    assert "presumption_of_denial" in before.reasons[0].text and "case_by_case" not in before.reasons[0].text
    assert "case_by_case" in after.reasons[0].text and "presumption_of_denial" not in after.reasons[0].text
    too_fast = chip("25000", "814", dram_bandwidth=D(8000))
    later = rs.decide(exporter, "export", too_fast, d("2026-06-01"), "CN")
    assert "presumption_of_denial" in later.reasons[0].text


# --- boundary days of every date the default ruleset mentions -------------------------------------------

def _dated_clauses(rs: Ruleset) -> list[tuple[str, dt.date | None, dt.date | None]]:
    out: list[tuple[str, dt.date | None, dt.date | None]] = []
    for c in rs.controls:
        for lr in c.licenses:
            out.append((f"license {c.eccn} {lr.dest}", lr.start, lr.end))
        if c.effective:
            out.append((f"control {c.eccn}", c.effective.start, c.effective.end))
    return out


def test_every_date_is_tested_on_the_day_before_of_and_after(rs: Ruleset) -> None:
    dates = rs.dates()
    assert d("2025-01-13") in dates and d("2026-11-09") in dates and len(dates) > 30
    checked = 0
    for day in dates:
        for probe in (day - ONE, day, day + ONE):
            # parameters: a value effective on D applies on D; the previous value applies on D-1
            for name, p in rs.parameters.items():
                vals = sorted(p.values, key=lambda v: v.start)
                expected = None
                for v in vals:
                    if v.start <= probe:
                        expected = None if v.value is None else v.value.value
                assert rs.param_value(name, probe) == expected
            # controls: in effect from their effective date through their end date, both inclusive
            view = rs.as_of(probe)
            in_view = {id(c) for c in view.controls()}
            for c in rs.controls:
                assert c.effective is not None
                assert (id(c) in in_view) == in_window(probe, c.effective.start, c.effective.end)
                if c.effective.start == probe:
                    assert id(c) in in_view and c not in rs.as_of(probe - ONE).controls()
                if c.effective.end == probe:
                    assert id(c) in in_view and c not in rs.as_of(probe + ONE).controls()
            checked += 1
    assert checked == 3 * len(dates)


def test_group_membership_is_dated(rs: Ruleset) -> None:
    assert rs.group_members("AIA", d("2025-01-12")) == frozenset()
    assert len(rs.group_members("AIA", d("2025-01-13"))) == 18
    assert {"CN", "HK", "MO"} <= rs.group_members("D:1", d("2024-01-01"))  # PRC expands to CN and HK


def test_window_helpers() -> None:
    assert in_window(d("2026-11-09"), d("2025-11-10"), d("2026-11-09"))
    assert not in_window(d("2026-11-10"), d("2025-11-10"), d("2026-11-09"))
    assert not in_window(d("2025-11-09"), d("2025-11-10"), None)


def test_as_of_view(rs: Ruleset) -> None:
    v = rs.as_of(d("2025-06-01"))
    assert {c.eccn for c in v.controls()} >= {"4E091", "3A090.a", "3A090.b", "3A090.c", "4A090.a"}
    assert v.parameters()["ai_training_operations"] == D(10) ** 26
    assert "io_bandwidth_3a090a" not in v.parameters()
    assert isinstance(rs.controls[0], A.ControlDecl)
