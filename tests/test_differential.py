"""One set of generated requests, three engines: the reference semantics (rulesdsl.semantics.decide), the
generated Casbin policy in pycasbin and the generated OPA bundle in real OPA (Go). Same outcome everywhere,
on dates clustered at every change date and in both strict modes; a deliberately broken policy is caught.

The per-target tests (test_target_casbin.py, test_target_rego.py) compare each engine with the IR evaluator in
more detail (reasons, explanations, regorus, as-of bundles); this file is the three-way check of issue 5.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from compiler.ir import Timeline, lower_timeline
from rulesdsl.ruleset import Ruleset
from rulesdsl.semantics import decide
from targets import CompileUnit, compile_target
from tests.test_target_casbin import Requests, policy
from tests.test_target_rego import Opa, bundle_files, to_input

N = 1000  # per strict mode: 2,000 requests, each decided by three engines


@pytest.fixture(scope="module")
def rs() -> Ruleset:
    return Ruleset.default()


def _engines(rs: Ruleset, strict: bool, root: Path) -> tuple[Timeline, Requests, Any, Opa]:
    tl = lower_timeline(rs, rules_version="differential", strict=strict)
    reqs = Requests(rs, tl, 4242 + strict, N)
    casbin = policy(compile_target("casbin", CompileUnit(tl, None, {"inventory": reqs.inventory})), root)
    opa = Opa(bundle_files(compile_target("rego", CompileUnit(tl, None, {}))))
    return tl, reqs, casbin, opa


def _outcomes(rs: Ruleset, strict: bool, reqs: Requests, casbin: Any, opa: Opa) -> list[tuple[str, str, str]]:
    rego = [d["outcome"] for d in opa.decide([to_input(q) for q in reqs.items])]
    out = []
    for q, r in zip(reqs.items, rego, strict=True):
        ref = decide(rs, q.subject, q.action, q.asset, q.at, q.destination, strict=strict).outcome
        out.append((ref, casbin.decide(q.subject.id, q.asset.id, q.action, q.destination, q.at).outcome, r))
    return out


@pytest.mark.parametrize("strict", [False, True])
def test_reference_casbin_and_opa_agree(rs: Ruleset, strict: bool, tmp_path: Path) -> None:
    _tl, reqs, casbin, opa = _engines(rs, strict, tmp_path)
    results = _outcomes(rs, strict, reqs, casbin, opa)
    bad = [(q, o) for q, o in zip(reqs.items, results, strict=True) if len(set(o)) != 1]
    assert not bad, f"{len(bad)} of {N} disagree (reference, casbin, opa); first: {bad[0]}"
    seen = Counter(o[0] for o in results)
    # the requests exercise every outcome the rules can give in this mode
    assert seen["allow"] > 100 and seen["license_required"] > 100, seen
    if strict:
        assert seen["deny"] > 0, seen
    # dates sit on every change date of the rules (-1/0/+1)
    assert len({q.at for q in reqs.items}) > 20


def test_a_broken_policy_is_caught(rs: Ruleset, tmp_path: Path) -> None:
    tl, reqs, _casbin, opa = _engines(rs, True, tmp_path / "ok")
    files = compile_target("casbin", CompileUnit(tl, None, {"inventory": reqs.inventory})).files
    # a mutant: China is no longer in the destination sets of the license requirements
    broken = {k: (b"\n".join(line for line in v.split(b"\n") if not line.startswith(b"g, c:CN, d:"))
                  if k.endswith(".csv") else v) for k, v in files.items()}
    assert broken != files
    root = tmp_path / "broken"
    for rel, data in broken.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    from tests.test_target_casbin import load

    class _B:
        def __init__(self, files: dict[str, bytes]) -> None:
            self.files = files

    mod = load(_B(broken), root)  # type: ignore[arg-type]
    results = _outcomes(rs, True, reqs, mod.RegwatchPolicy(root), opa)
    assert sum(1 for o in results if o[0] != o[1]) > 0
    assert all(o[0] == o[2] for o in results)  # the untouched OPA bundle still agrees
