"""The githooks target: the generated pre-commit hook repository and pre-receive hook run in real temporary git
repositories (block and allow cases, clearance, history scanning); the guard classifies thousands of generated
paths exactly as the reference (``ir_classify_paths`` / ``rulesdsl.hints``) and a mutated policy is caught;
hostile file names, rules text and inventories neither break the hooks nor change their decisions."""

from __future__ import annotations

import ast
import copy
import datetime as dt
import importlib.util
import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from compiler.evaluate import ir_classify, ir_classify_paths
from compiler.ir import IR, Timeline, lower_timeline
from rulesdsl.inventory import Inventory, load_inventory
from rulesdsl.ruleset import Ruleset
from targets import CompileUnit, compile_target
from targets.base import Bundle

from .conftest import Run

D = dt.date
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "fixtures" / "inventory" / "sample.yaml"
PRE_COMMIT = str(Path(sys.executable).parent / "pre-commit")
SHARD = "models/frontier-1/model-00001-of-00004.safetensors"  # 4E091 (3e26 operations, unpublished)
SMALL = "models/small-7b/model.safetensors"  # EAR99 (8.4e22 operations)
CKPT = "checkpoints/frontier-1/step-120000.ckpt"
GUARD, POLICY = "export_control_guard.py", "export-control-policy.json"
MARKER_RE = re.compile(r"EXPORT-CONTROLLED:\s*ECCN\s+([0-9][A-E][0-9]{3}(?:\.[A-Za-z0-9]+)*)")  # the documented form
CLEARED_REPOS = """
repositories:
  - id: frontier-lab
    path: research/frontier-lab
    cleared_eccns: 4E091
    cleared_refs: main, release/*
    cleared_pushers: alice carol
  - id: sandbox
    cleared_eccns: "*"
"""

# ---------------------------------------------------------------------------------------------------------
# Helpers


@cache
def timeline(rules: str | None = None, version: str = "v-test") -> Timeline:
    rs = Ruleset.default() if rules is None else Ruleset.from_text(rules)
    return lower_timeline(rs, rules_version=version)


@cache
def sample() -> Inventory:
    return load_inventory(SAMPLE)


def build(as_of: dt.date | None, inventory: Inventory | None = None, rules: str | None = None,
          version: str = "v-test") -> Bundle:
    opts = {"inventory": inventory} if inventory is not None else {}
    return compile_target("githooks", CompileUnit(timeline(rules, version), as_of, opts))


def write(b: Bundle, root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in b.files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
        (root / rel).chmod(0o755 if data.startswith(b"#!") else 0o644)
    return root


_N = 0


def load_guard(root: Path) -> ModuleType:
    global _N
    _N += 1
    spec = importlib.util.spec_from_file_location(f"export_control_guard_{_N}", root / GUARD)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def inventory_with(extra: str, tmp: Path) -> Inventory:
    p = tmp / "inventory.yaml"
    p.write_text(SAMPLE.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return load_inventory(p)


_SCRUB = ("GIT_", "REGWATCH_", "GL_", "GITHUB_", "PRE_COMMIT", "REMOTE_USER", "EXPORT_CONTROL")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Hermetic git/pre-commit environment: own HOME, no system git config, one PRE_COMMIT_HOME per module."""
    home = tmp_path_factory.mktemp("home")
    e = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB)}
    e.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), GIT_CONFIG_NOSYSTEM="1",
             PRE_COMMIT_HOME=str(home / "pre-commit-cache"), REGWATCH_HOOK_DATE="2025-06-01", LC_ALL="C.UTF-8")
    return e


def run(cwd: Path, *args: str, env: Mapping[str, str], stdin: str | None = None,
        **extra: str) -> subprocess.CompletedProcess[str]:
    p = subprocess.run(list(args), cwd=cwd, env={**env, **extra}, input=stdin, capture_output=True,
                       encoding="utf-8", errors="surrogateescape", timeout=120)
    assert "Traceback" not in p.stderr + p.stdout, p.stderr + p.stdout
    return p


def ok(cwd: Path, *args: str, env: Mapping[str, str], **extra: str) -> str:
    p = run(cwd, *args, env=env, **extra)
    assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p.stdout


def new_repo(path: Path, env: Mapping[str, str]) -> Path:
    path.mkdir(parents=True)
    ok(path, "git", "init", "-q", "-b", "main", env=env)
    for k, v in (("user.name", "Dev"), ("user.email", "dev@example.com"), ("commit.gpgsign", "false")):
        ok(path, "git", "config", k, v, env=env)
    return path


def put(repo: Path, rel: str, text: str = "x\n") -> None:
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).write_text(text, encoding="utf-8", errors="surrogateescape")


def commit(repo: Path, env: Mapping[str, str], *files: str, msg: str = "c", verify: bool = False) -> None:
    for f in files:
        put(repo, f)
    ok(repo, "git", "add", "-A", env=env)
    ok(repo, "git", "commit", "-q", "-m", msg, *([] if verify else ["--no-verify"]), env=env)


def bare_server(path: Path, hooks: Path, env: Mapping[str, str]) -> Path:
    ok(path.parent, "git", "init", "-q", "--bare", str(path), env=env)
    for f in ("pre-receive", GUARD, POLICY):
        shutil.copy2(hooks / f, path / "hooks" / f)
    return path


def blocked_lines(out: str) -> list[str]:
    return [ln for ln in out.splitlines() if ln.startswith(("EXPORT CONTROL BLOCK", "remote: EXPORT CONTROL BLOCK"))]


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Default rules as of 2025-06-01 with the sample inventory."""
    return write(build(D(2025, 6, 1), sample()), tmp_path_factory.mktemp("hooks"))


@pytest.fixture(scope="module")
def cleared_hooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cleared")
    return write(build(D(2025, 6, 1), inventory_with(CLEARED_REPOS, tmp)), tmp / "hooks")


def local_consumer(path: Path, hooks: Path, env: Mapping[str, str]) -> Path:
    repo = new_repo(path, env)
    (repo / ".export-control").mkdir()
    for f in (GUARD, POLICY):
        shutil.copy2(hooks / f, repo / ".export-control" / f)
    shutil.copy2(hooks / "pre-commit-config.local.yaml", repo / ".pre-commit-config.yaml")
    commit(repo, env, "README.md", msg="init")
    return repo


# ---------------------------------------------------------------------------------------------------------
# pre-commit in real repositories


def test_pre_commit_local_form_blocks_controlled_files_and_allows_the_rest(
        tmp_path: Path, hooks: Path, env: dict[str, str]) -> None:
    repo = local_consumer(tmp_path / "consumer", hooks, env)
    ok(repo, PRE_COMMIT, "install", env=env)
    head = ok(repo, "git", "rev-parse", "HEAD", env=env)

    # git commit runs the hook: a frontier-1 shard (4E091 by the inventory) stops the whole commit
    put(repo, SHARD)
    put(repo, SMALL)
    ok(repo, "git", "add", "-A", env=env)
    p = run(repo, "git", "commit", "-m", "weights", env=env)
    assert p.returncode != 0 and ok(repo, "git", "rev-parse", "HEAD", env=env) == head
    lines = blocked_lines(p.stdout + p.stderr)
    assert len(lines) == 1, p.stdout
    assert SHARD in lines[0] and "ECCN 4E091" in lines[0] and "inventory asset frontier-1-shard-1" in lines[0]
    assert "control 4E091: 90 FR 4544" in lines[0] and "50-controls.rules:" in lines[0]
    assert "not_enforced" in lines[0]  # classification, not licensing: the status is shown, the file blocked

    # without it, the small model's weights (EAR99 by the inventory) are committed
    ok(repo, "git", "rm", "-q", "--cached", SHARD, env=env)
    (repo / SHARD).unlink()
    ok(repo, "git", "commit", "-q", "-m", "small weights", env=env)
    assert ok(repo, "git", "ls-tree", "-r", "--name-only", "HEAD", env=env).count(SMALL) == 1

    # a marker file committed earlier marks its directory and below
    commit(repo, env, "vault/.regwatch-controlled", msg="marker")
    # a file that declares itself controlled, whatever its name
    put(repo, "notes/design.md", "# Design\n<!-- EXPORT-CONTROLLED: ECCN 4E091 -->\n")
    put(repo, "vault/sub/data.txt")
    put(repo, "open/data.txt")
    (repo / "link.pt").symlink_to("README.md")  # a symlink named like weights is still a weights path
    ok(repo, "git", "add", "-A", env=env)
    p = run(repo, PRE_COMMIT, "run", env=env)
    assert p.returncode == 1
    lines = blocked_lines(p.stdout)
    assert len(lines) == 3, p.stdout
    design = next(ln for ln in lines if "notes/design.md" in ln)
    assert "ECCN 4E091 [declared in the file (EXPORT-CONTROLLED marker)]" in design and "90 FR 4544" in design
    vault = next(ln for ln in lines if "vault/sub/data.txt" in ln)
    assert "marker file .regwatch-controlled" in vault and "needs review" in vault
    assert any("link.pt" in ln and "by hint *.pt" in ln for ln in lines)
    assert "open/data.txt" not in p.stdout

    # the staged version is what counts: a marker only in the working tree does not block, one staged does
    ok(repo, "git", "reset", "-q", env=env)
    for f in ("notes/design.md", "link.pt"):
        (repo / f).unlink()
    shutil.rmtree(repo / "vault" / "sub")
    put(repo, "open/data.txt", "clean\n")
    ok(repo, "git", "add", "open/data.txt", env=env)
    put(repo, "open/data.txt", "EXPORT-CONTROLLED: ECCN 4E091\n")
    assert run(repo, PRE_COMMIT, "run", env=env).returncode == 0


def test_pre_commit_remote_form(tmp_path: Path, hooks: Path, env: dict[str, str]) -> None:
    hook_repo = tmp_path / "hook-repo"
    shutil.copytree(hooks, hook_repo, symlinks=True)
    ok(tmp_path, "git", "init", "-q", "-b", "main", str(hook_repo), env=env)
    ok(hook_repo, "git", "add", "-A", env=env)
    ok(hook_repo, "git", "-c", "user.name=C", "-c", "user.email=c@x", "commit", "-q", "-m", "hooks", env=env)
    config = yaml.safe_load((hooks / "pre-commit-config.remote.yaml").read_text())
    tag = config["repos"][0]["rev"]
    assert tag.startswith("regwatch-") and config["repos"][0]["hooks"] == [{"id": "export-control-guard"}]
    ok(hook_repo, "git", "tag", tag, env=env)
    config["repos"][0]["repo"] = str(hook_repo)

    repo = new_repo(tmp_path / "consumer", env)
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    put(repo, CKPT)
    put(repo, SMALL)
    put(repo, "src/app.py")
    ok(repo, "git", "add", "-A", env=env)
    p = run(repo, PRE_COMMIT, "run", env=env)
    assert p.returncode == 1, p.stdout
    (line,) = blocked_lines(p.stdout)
    assert CKPT in line and "ECCN 4E091" in line and "inventory asset frontier-1-step-120000" in line
    ok(repo, "git", "rm", "-q", "--cached", CKPT, env=env)
    assert run(repo, PRE_COMMIT, "run", env=env).returncode == 0


def test_pre_push_stage_checks_the_pushed_tree_for_the_remote_branch(
        tmp_path: Path, cleared_hooks: Path, env: dict[str, str]) -> None:
    repo = local_consumer(tmp_path / "consumer", cleared_hooks, env)
    ok(repo, "git", "config", "regwatch.repository", "frontier-lab", env=env)
    ok(repo, PRE_COMMIT, "install", "--hook-type", "pre-push", env=env)
    server = tmp_path / "plain.git"
    ok(tmp_path, "git", "init", "-q", "--bare", str(server), env=env)  # no server hook: the client stops it
    commit(repo, env, SHARD, "notes.txt", msg="weights")
    put(repo, "notes.txt", "EXPORT-CONTROLLED: ECCN 3A090.a\n")  # not committed: the pushed version counts
    p = run(repo, "git", "push", str(server), "main:refs/heads/scratch", env=env, REGWATCH_PUSHER="alice")
    assert p.returncode != 0 and SHARD in p.stdout and "ref refs/heads/scratch, pusher alice" in p.stdout
    assert run(repo, "git", "push", str(server), "main", env=env, REGWATCH_PUSHER="alice").returncode == 0


# ---------------------------------------------------------------------------------------------------------
# pre-receive on a bare repository


def test_pre_receive_rejects_a_forbidden_blob_anywhere_in_the_pushed_history(
        tmp_path: Path, hooks: Path, env: dict[str, str]) -> None:
    server = bare_server(tmp_path / "server.git", hooks, env)
    repo = new_repo(tmp_path / "work", env)
    commit(repo, env, "README.md", msg="init")
    out = run(repo, "git", "push", str(server), "main", env=env)
    assert out.returncode == 0, out.stderr

    commit(repo, env, SHARD, msg="add weights")
    ok(repo, "git", "rm", "-q", SHARD, env=env)
    ok(repo, "git", "commit", "-q", "-m", "oops, delete them", env=env)
    assert SHARD not in ok(repo, "git", "ls-tree", "-r", "--name-only", "HEAD", env=env)
    p = run(repo, "git", "push", str(server), "main", env=env)
    assert p.returncode != 0 and "pre-receive hook declined" in p.stderr
    (line,) = blocked_lines(p.stderr)
    assert "refs/heads/main" in line and SHARD in line and "ECCN 4E091" in line and "90 FR 4544" in line
    assert "push rejected" in p.stderr
    server_head = ok(server, "git", "rev-parse", "main", env=env)
    assert server_head == ok(repo, "git", "rev-parse", "HEAD~2", env=env)  # the remote kept only the clean commit

    # an 'evil merge' (a file that no parent has) is found too; a clean branch is accepted
    ok(repo, "git", "reset", "-q", "--hard", "HEAD~2", env=env)
    ok(repo, "git", "checkout", "-q", "-b", "side", env=env)
    commit(repo, env, "side.txt", msg="side")
    ok(repo, "git", "checkout", "-q", "main", env=env)
    commit(repo, env, "main.txt", msg="main")
    ok(repo, "git", "merge", "-q", "--no-commit", "side", env=env)
    put(repo, "ckpts/checkpoint-7/optimizer.bin")
    ok(repo, "git", "add", "-A", env=env)
    ok(repo, "git", "commit", "-q", "--no-verify", "-m", "merge", env=env)
    p = run(repo, "git", "push", str(server), "main", env=env)
    assert p.returncode != 0 and "ckpts/checkpoint-7/optimizer.bin" in p.stderr and "side.txt" not in p.stderr
    ok(repo, "git", "reset", "-q", "--hard", "HEAD~1", env=env)
    ok(repo, "git", "merge", "-q", "side", "-m", "clean merge", env=env)
    assert run(repo, "git", "push", str(server), "main", env=env).returncode == 0
    # a file larger than the scan limit is still read from its start (without streaming all of it)
    put(repo, "data/big.txt", "EXPORT-CONTROLLED: ECCN 4E091\n" + "0123456789abcdef" * (300 * 1024))
    ok(repo, "git", "add", "-A", env=env)
    ok(repo, "git", "commit", "-q", "-m", "big", env=env)
    assert (repo / "data/big.txt").stat().st_size > json.loads((hooks / POLICY).read_text())[
        "content_marker"]["max_bytes"]
    p = run(repo, "git", "push", str(server), "main", env=env)
    assert p.returncode != 0 and "data/big.txt: ECCN 4E091 [declared in the file" in p.stderr
    ok(repo, "git", "reset", "-q", "--hard", "HEAD~1", env=env)
    # deleting a ref brings nothing and is accepted
    assert run(repo, "git", "push", str(server), "side", env=env).returncode == 0
    assert run(repo, "git", "push", str(server), ":side", env=env).returncode == 0


def test_clearance_by_repository_ref_and_pusher(tmp_path: Path, cleared_hooks: Path, env: dict[str, str]) -> None:
    policy = json.loads((cleared_hooks / POLICY).read_text())
    assert policy["grants"] == [
        {"id": "frontier-lab", "repositories": ["frontier-lab", "research/frontier-lab"], "eccns": ["4E091"],
         "refs": ["main", "release/*"], "pushers": ["alice", "carol"]},
        {"id": "sandbox", "repositories": ["sandbox"], "eccns": ["*"], "refs": None, "pushers": None}]
    server = bare_server(tmp_path / "frontier-lab.git", cleared_hooks, env)
    repo = new_repo(tmp_path / "work", env)
    commit(repo, env, SHARD, msg="weights")

    def push(spec: str, pusher: str) -> subprocess.CompletedProcess[str]:
        return run(repo, "git", "push", str(server), spec, env=env, REGWATCH_PUSHER=pusher)

    assert push("main", "mallory").returncode != 0  # pusher not cleared
    assert "pusher mallory" in push("main", "mallory").stderr
    assert push("main:refs/heads/scratch", "alice").returncode != 0  # ref not cleared
    assert push("main", "alice").returncode == 0
    # the same commits, already on the server, may go to another cleared ref but not to an uncleared one
    assert push("main:refs/heads/release/1", "alice").returncode == 0
    p = push("main:refs/heads/public", "alice")
    assert p.returncode != 0 and "refs/heads/public" in p.stderr and SHARD in p.stderr
    # an uncleared pusher adding a clean commit on top of cleared content is fine
    commit(repo, env, "notes.txt", msg="notes")
    assert push("main", "mallory").returncode == 0

    # the repository id also comes from git config (matching the inventory row's path)
    other = bare_server(tmp_path / "mirror.git", cleared_hooks, env)
    assert run(repo, "git", "push", str(other), "main", env=env, REGWATCH_PUSHER="alice").returncode != 0
    ok(other, "git", "config", "regwatch.repository", "research/frontier-lab", env=env)
    assert run(repo, "git", "push", str(other), "main", env=env, REGWATCH_PUSHER="carol").returncode == 0

    # a server-side clearance file adds grants without recompiling
    third = bare_server(tmp_path / "third.git", cleared_hooks, env)
    assert run(repo, "git", "push", str(third), "main", env=env).returncode != 0
    (third / "hooks" / "export-control-clearance.json").write_text(json.dumps({
        "schema": "regwatch-githooks-clearance/1",
        "grants": [{"repositories": ["third"], "eccns": ["4E"], "refs": None, "pushers": None}]}))
    assert run(repo, "git", "push", str(third), "main", env=env).returncode != 0  # '4E' is not an ECCN
    assert "is not an ECCN" in run(repo, "git", "push", str(third), "main", env=env).stderr
    (third / "hooks" / "export-control-clearance.json").write_text(json.dumps({
        "schema": "regwatch-githooks-clearance/1",
        "grants": [{"repositories": ["third"], "eccns": ["4E091"], "refs": None, "pushers": None}]}))
    assert run(repo, "git", "push", str(third), "main", env=env).returncode == 0

    # client side: the branch and the committer
    client = local_consumer(tmp_path / "client", cleared_hooks, env)
    ok(client, "git", "config", "regwatch.repository", "frontier-lab", env=env)
    put(client, SHARD)
    ok(client, "git", "add", "-A", env=env)
    guard = [sys.executable, ".export-control/" + GUARD, "--", SHARD]
    assert run(client, *guard, env=env, REGWATCH_PUSHER="alice").returncode == 0
    assert run(client, *guard, env=env, REGWATCH_PUSHER="bob").returncode == 1
    ok(client, "git", "checkout", "-q", "-b", "wip", env=env)
    p = run(client, *guard, env=env, REGWATCH_PUSHER="alice")
    assert p.returncode == 1 and "ref refs/heads/wip, pusher alice" in p.stderr
    assert run(client, *guard[:2], "--repository", "sandbox", "--", SHARD, env=env).returncode == 0


def test_timeline_mode_picks_the_rules_of_the_day(tmp_path: Path, env: dict[str, str]) -> None:
    root = write(build(None, sample()), tmp_path / "hooks")
    policy = json.loads((root / POLICY).read_text())
    tl = timeline()
    assert policy["mode"] == "timeline" and policy["as_of"] is None and len(policy["slices"]) == len(tl.slices)
    guard = load_guard(root)
    for day in [D(2000, 1, 1), *(d + dt.timedelta(days=k) for d in tl.change_dates for k in (-1, 0, 1))]:
        s, ref = guard.select_slice(policy, day), tl.slice_at(day)
        assert (s["valid_from"], s["valid_through"]) == (
            ref.valid_from and ref.valid_from.isoformat(), ref.valid_through and ref.valid_through.isoformat())
    repo = local_consumer(tmp_path / "repo", root, env)
    put(repo, SHARD)
    ok(repo, "git", "add", "-A", env=env)
    cmd = [sys.executable, ".export-control/" + GUARD, "--", SHARD]
    assert run(repo, *cmd, env=env, REGWATCH_HOOK_DATE="2025-01-12").returncode == 0  # before 4E091 existed
    assert run(repo, *cmd, env=env, REGWATCH_HOOK_DATE="2025-01-13").returncode == 1
    assert run(repo, *cmd[:2], "--date", "2024-06-01", "--", SHARD, env=env).returncode == 0
    # an --as-of policy holds that day's rules whatever the day
    as_of = local_consumer(tmp_path / "as-of", write(build(D(2025, 6, 1), sample()), tmp_path / "h2"), env)
    put(as_of, SHARD)
    ok(as_of, "git", "add", "-A", env=env)
    assert run(as_of, *cmd, env=env, REGWATCH_HOOK_DATE="2020-01-01").returncode == 1


def test_errors_exit_2_and_fail_closed(tmp_path: Path, hooks: Path, env: dict[str, str]) -> None:
    repo = local_consumer(tmp_path / "repo", hooks, env)
    cmd = [sys.executable, ".export-control/" + GUARD, "--", "README.md"]
    p = run(repo, *cmd, env=env, REGWATCH_HOOK_DATE="June 1st")
    assert p.returncode == 2 and "not a date" in p.stderr
    policy_path = repo / ".export-control" / POLICY
    data = json.loads(policy_path.read_text())
    policy_path.write_text(json.dumps({**data, "rules_version": "other"}))
    p = run(repo, *cmd, env=env)
    assert p.returncode == 2 and "install the guard and the policy of one compile together" in p.stderr
    policy_path.write_text("{ not json")
    assert run(repo, *cmd, env=env).returncode == 2
    del data["slices"][0]["kinds"]["model_weights"]
    policy_path.write_text(json.dumps(data))
    p = run(repo, sys.executable, ".export-control/" + GUARD, "--", "x.pt", env=env)
    assert p.returncode == 2 and "no classification for asset kind model_weights" in p.stderr
    # a broken server hook rejects pushes rather than letting everything through
    server = bare_server(tmp_path / "s.git", hooks, env)
    (server / "hooks" / POLICY).write_text("[]")
    p = run(repo, "git", "push", str(server), "main", env=env)
    assert p.returncode != 0 and "not a regwatch-githooks-policy/1 policy" in p.stderr


# ---------------------------------------------------------------------------------------------------------
# Differential: the guard against the reference


def _fill(rng: random.Random) -> str:
    return rng.choice(["", "x", "model-00001-of-00004", "weird name", "$(touch pwned)", "a\nb", "Ω", "-", ".",
                       "`id`", "q'\"", "\\", "tab\there", "\u202e", "ѕ"])


DIRS = ["", "models/", "a/b/", "deep/er/nested/dir/", "checkpoint-12/", "x/checkpoint-/", "global_step100/",
        "y/global_stepX/z/", "checkpoint/", "checkpoints/", "-rf/", "sp ace/", "$(touch pwned)/", "`id`/",
        "q'uote\"/", "new\nline/", "./", "/", "back\\slash/", "uni/ѕ/", ".hidden/", "a//b/", "train/", "configs/"]


def expand(glob: str, rng: random.Random) -> str:
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append(rng.choice(DIRS[:10]))
            i += 3
        elif glob.startswith("**", i):
            out.append(rng.choice(["", "f", "a/b", "x.bin", "n\nl"]))
            i += 2
        elif glob[i] == "*":
            out.append(_fill(rng))
            i += 1
        elif glob[i] == "?":
            out.append(rng.choice("a.-/\n"))
            i += 1
        else:
            out.append(glob[i])
            i += 1
    return "".join(out)


def near_miss(path: str, rng: random.Random) -> str:
    k = rng.randrange(7)
    if k == 0:
        return path + rng.choice([".bak", "~", "\n", " ", "/", ".d/x"])
    if k == 1:
        return rng.choice(["x", ".", " ", "-"]) + path
    if k == 2:
        return path.upper()
    if k == 3:
        return path.replace("s", "ѕ").replace("o", "о")  # Cyrillic look-alikes
    if k == 4:
        return path.replace(".", "_", 1)
    if k == 5:
        return path.replace("/", "\\")
    return rng.choice(DIRS) + path


OTHER = ["README.md", "src/main.py", "train.py", "training_args.jsonx", "hparams.yml", "ds_config.json", "model.bin",
         "models.bin", "pytorch_model-00001.bin", "tokenizer.json", "--pre-receive", "-h", ".regwatch-controlled.bak",
         "regwatch-controlled", ".REGWATCH-CONTROLLED", "a/.regwatch-controlled/x", "weights", "x.pt/inner.txt"]


def path_pool(ir: IR, rng: random.Random, inventory: Inventory) -> list[str]:
    pool = list(OTHER) + [a.path for a in inventory.assets if a.path]
    for h in ir.hints:
        for pat in h.patterns:
            for _ in range(8):
                p = rng.choice(DIRS) + expand(pat.glob, rng) if "/" not in pat.glob else expand(pat.glob, rng)
                pool += [p, near_miss(p, rng), rng.choice(DIRS) + p]
    return pool


def trees(ir: IR, seed: int, inventory: Inventory, n: int, size: int) -> list[list[str]]:
    rng = random.Random(seed)
    pool = path_pool(ir, rng, inventory)
    markers = [f"{rng.choice(DIRS)}.regwatch-controlled" for _ in range(20)]
    out = []
    for _ in range(n):
        t = rng.sample(pool, min(size, len(pool)))
        t += rng.sample(markers, rng.randrange(3))
        rng.shuffle(t)
        out.append(t)
    return out


@dataclass(frozen=True)
class Probe:
    kind: str
    id: str = "(file)"
    attributes: Mapping[str, Any] = field(default_factory=dict)


def reference_decisions(ir: IR, inventory: Inventory, tree: list[str], contents: Mapping[str, bytes],
                        cleared: Iterable[str]) -> dict[str, set[str]]:
    """What the rules say: inventory entry for the path, else the hint's asset kind without attributes (both
    by ``ir_classify``), plus declared ECCNs; blocked unless a cleared pattern covers the ECCN."""
    by_path = {_norm(a.path): a for a in inventory.assets if a.path and a.kind != "repository"}
    cls = ir_classify_paths(ir, tree)
    out: dict[str, set[str]] = {}
    for raw in tree:
        p = _norm(raw)
        if p in by_path:
            eccns = {m.eccn for m in ir_classify(ir, by_path[p]).matches}
        elif p in cls:
            eccns = {m.eccn for m in ir_classify(ir, Probe(cls[p].asset_kind)).matches}
        else:
            eccns = set()
        eccns |= set(MARKER_RE.findall(contents.get(raw, b"").decode("latin-1")))
        bad = {e for e in eccns if not any(c == "*" or e == c or e.startswith(c + ".") for c in cleared)}
        if bad:
            out[p] = bad
    return out


def _norm(path: str) -> str:
    p = path.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p.lstrip("/")


def guard_classes(guard: ModuleType, slice_: dict[str, Any], tree: list[str]) -> dict[str, tuple[str, str, str]]:
    return dict(guard.classify_paths(slice_, tree))


def ref_classes(ir: IR, tree: list[str]) -> dict[str, tuple[str, str, str]]:
    return {p: (m.file_kind, m.asset_kind, m.pattern) for p, m in ir_classify_paths(ir, tree).items()}


@pytest.fixture(scope="module")
def timeline_guard(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, dict[str, Any]]:
    root = write(build(None, sample()), tmp_path_factory.mktemp("tl"))
    return load_guard(root), json.loads((root / POLICY).read_text())


def differential(guard: ModuleType, policy: dict[str, Any], seed: int = 7,
                 mutate: Callable[[dict[str, Any]], object] | None = None) -> tuple[int, int, int]:
    """(paths compared, classification disagreements, decision disagreements) over the timeline's days."""
    tl, inv = timeline(), sample()
    rs = Ruleset.default()
    days = sorted({D(2022, 1, 1), *(d + dt.timedelta(days=k) for d in tl.change_dates for k in (-1, 0))})
    paths = class_bad = decision_bad = 0
    for i, day in enumerate(days):
        ir, s = tl.slice_at(day), guard.select_slice(policy, day)
        if mutate is not None:
            s = copy.deepcopy(s)
            mutate(s)
        for j, tree in enumerate(trees(ir, seed * 1000 + i, inv, n=2, size=120)):
            paths += len(tree)
            have, want = guard_classes(guard, s, tree), ref_classes(ir, tree)
            class_bad += len(set(have.items()) ^ set(want.items()))
            if i == 0 and j == 0 and mutate is None:  # the DSL-level reference agrees as well
                dsl = {p: (m.file_kind, m.asset_kind, m.pattern) for p, m in rs.classify_paths(tree).items()}
                assert dsl == want
            rng = random.Random(seed + i + j)
            contents = {p: rng.choice([b"", b"EXPORT-CONTROLLED: ECCN 4E091", b"EXPORT-CONTROLLED:\tECCN  3A090.a\n",
                                       b"export-controlled: eccn 4E091", b"\xff\xfeEXPORT-CONTROLLED: ECCN 5D002.z"])
                        for p in tree}
            for cleared in ([], ["4E091"], ["3A090"], ["*"]):
                got = {_norm(p): {f["eccn"] for f in fs}
                       for p, fs in guard.decide(policy, s, tree, contents, tree, cleared)}
                exp = reference_decisions(ir, inv, tree, contents, cleared)
                decision_bad += len(set(got) ^ set(exp)) + sum(got[p] != exp[p] for p in set(got) & set(exp))
    return paths, class_bad, decision_bad


def test_differential_guard_classifies_like_the_reference(
        timeline_guard: tuple[ModuleType, dict[str, Any]]) -> None:
    guard, policy = timeline_guard
    paths, class_bad, decision_bad = differential(guard, policy)
    assert paths >= 5000
    assert (class_bad, decision_bad) == (0, 0)


MUTANTS: dict[str, Callable[[dict[str, Any]], object]] = {
    "drop *.pt": lambda s: s["hints"][0]["patterns"].pop(3),
    "\\Z compiled as $": lambda s: [p.update(regex=p["regex"].replace("\\Z", "$"))
                                    for h in s["hints"] for p in h["patterns"]],
    "no marker hint": lambda s: s["hints"].pop(),
    "checkpoints not controlled": lambda s: s["kinds"].update(checkpoint=[]) if s["kinds"]["checkpoint"] else None,
}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_differential_catches_a_mutated_policy(name: str, timeline_guard: tuple[ModuleType, dict[str, Any]]) -> None:
    guard, policy = timeline_guard
    assert guard.select_slice(policy, D(2025, 6, 1))["hints"][0]["patterns"][3]["glob"] == "*.pt"
    _, class_bad, decision_bad = differential(guard, policy, mutate=MUTANTS[name])
    assert class_bad + decision_bad > 0, f"mutant '{name}' survived"


# ---------------------------------------------------------------------------------------------------------
# Injection


HOSTILE_NAMES = ["$(touch pwned).pt", "`touch pwned`.safetensors", "-rf.pt", "--pre-receive", "--policy=x.pt",
                 "-h", "a\nb.pt", "q'uote\"d.pt", "sp ace.ckpt", "semi;colon|pipe&.pt", "model.\u0455afetensors",
                 "\u202eTP.txt", "esc\x1b[31m.txt", "back\\slash.pt", "uni-é中.pt", "d $(touch pwned)/`x`/plain.txt",
                 "d $(touch pwned)/.regwatch-controlled", "checkpoint-1/\n.txt", "ok.txt"]


def _no_pwned(*roots: Path) -> None:
    for r in roots:
        assert not [p for p in r.rglob("pwned") if p.name == "pwned"], f"a hostile name ran a command under {r}"


def test_hostile_file_names_neither_run_nor_change_decisions(
        tmp_path: Path, hooks: Path, env: dict[str, str]) -> None:
    repo = local_consumer(tmp_path / "repo", hooks, env)
    for n in HOSTILE_NAMES:
        put(repo, n)
    ok(repo, "git", "add", "-A", env=env)
    guard = load_guard(repo / ".export-control")
    policy = guard.load_policy(str(repo / ".export-control" / POLICY))
    s = guard.select_slice(policy, D(2025, 6, 1))
    tree = [*HOSTILE_NAMES, "README.md", ".pre-commit-config.yaml", f".export-control/{GUARD}",
            f".export-control/{POLICY}"]
    expected = reference_decisions(timeline().slice_at(D(2025, 6, 1)), sample(), tree, {}, [])
    assert {_norm(p) for p, _ in guard.decide(policy, s, tree, {}, tree, [])} == set(expected)
    assert "-rf.pt" in expected and "a\nb.pt" in expected and "model.\u0455afetensors" not in expected
    assert "d $(touch pwned)/`x`/plain.txt" in expected and "--pre-receive" not in expected

    p = run(repo, PRE_COMMIT, "run", "--all-files", env=env)
    assert p.returncode == 1
    lines = blocked_lines(p.stdout)
    assert len(lines) == len(expected)
    for name in HOSTILE_NAMES:  # named as git names them (a backslash is not a directory separator to git)
        assert sum(f"BLOCK: {guard.show(name)}: " in ln for ln in lines) == (_norm(name) in expected), name
    assert "a\\x0ab.pt" in p.stdout and "\x1b" not in p.stdout and "\u202e" not in p.stdout
    assert "back\\\\slash.pt" in p.stdout  # a backslash is escaped too, so no name can forge an escape
    _no_pwned(tmp_path, Path(env["HOME"]))

    # the same names through a push
    commit(repo, env, msg="hostile")
    server = bare_server(tmp_path / "s.git", hooks, env)
    p = run(repo, "git", "push", str(server), "main", env=env, REGWATCH_PUSHER="$(touch pwned) `id`")
    assert p.returncode != 0
    assert len(blocked_lines(p.stderr)) == len(expected) and "pusher $(touch pwned) `id`" in p.stderr
    _no_pwned(tmp_path, Path(env["HOME"]))


HOSTILE_RULES = r'''
unit operations "ops"
kind model_weights "w"
kind repository "r"
attribute training_operations number unit operations of model_weights "ops"
document 2099-00001
  citation "99 FR 1\" \\ `touch pwned` $(touch pwned) */ -->\n\u202e"
  published 2099-01-02
  title "evil\n#!/bin/sh\ntouch pwned\n 'q' \"dq\""
  effective 2099-01-01
control 4E999 "title $(touch pwned) `id` \n new line"
  applies to model_weights
  effective 2099-01-01 cite 2099-00001
hint weights -> model_weights "*.pt", "$(touch pwned)*.bin", "it's \"q\"*.bin", "-rf*.w"
hint marker -> model_weights ".evil $(touch pwned)"
'''.replace("\\u202e", "\u202e")  # the DSL has no \u escapes: put the bidi override itself in

HOSTILE_INVENTORY = '''
weights:
  - id: evil-weights
    path: "evil/$(touch pwned)\\nname.bin"
    attributes: {training_operations: 1}
repositories:
  - id: "repo'\\"; rm -rf ~"
    cleared_eccns: 4E999
    cleared_pushers: "a'b $(x)"
'''


def test_hostile_rules_and_inventory_cannot_break_the_artifacts(tmp_path: Path, env: dict[str, str]) -> None:
    version = 'v"1\\\n$(touch pwned)`id`'
    inv_path = tmp_path / "inv.yaml"
    inv_path.write_text(HOSTILE_INVENTORY)
    b = build(D(2099, 6, 1), load_inventory(inv_path), rules=HOSTILE_RULES, version=version)
    root = write(b, tmp_path / "hooks")
    policy = json.loads((root / POLICY).read_text())
    assert policy["rules_version"] == version and (root / POLICY).read_bytes().isascii()
    c = policy["slices"][0]["controls"]["4E999"]
    assert c["citation"].startswith('99 FR 1" \\ `touch pwned` $(touch pwned) */ -->\n\u202e')
    assert policy["grants"][0]["repositories"] == ["repo'\"; rm -rf ~"]
    assert policy["grants"][0]["pushers"] == ["a'b", "$(x)"]
    assert "evil/$(touch pwned)\nname.bin" in policy["slices"][0]["paths"]
    guard = load_guard(root)
    assert version == guard.RULES_VERSION
    for f in (".pre-commit-hooks.yaml", "pre-commit-config.local.yaml", "pre-commit-config.remote.yaml"):
        doc = yaml.safe_load((root / f).read_text())
        assert doc, f
    manifest = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text())
    assert version in manifest[0]["description"] and manifest[0]["entry"] == GUARD
    assert run(root, "sh", "-n", "pre-receive", env=env).returncode == 0
    for f in b.files:
        assert "\u202e" not in (root / f).read_text(encoding="utf-8"), f
    # in the shell script the rules version only sits in comments, defused; its code is the same as ever
    sh_code = [ln for ln in (root / "pre-receive").read_text().splitlines() if not ln.startswith("#")]
    assert sh_code == [ln for ln in build(D(2025, 6, 1)).files["pre-receive"].decode().splitlines()
                       if not ln.startswith("#")]
    assert not any("touch" in ln and "$ (touch" not in ln for ln in (root / "pre-receive").read_text().splitlines())
    assert re.fullmatch(r"regwatch-[A-Za-z0-9_-]+", yaml.safe_load((root / "pre-commit-config.remote.yaml")
                                                                   .read_text())["repos"][0]["rev"])

    # the hooks still work and decide as the rules say
    server = bare_server(tmp_path / "s.git", root, env)
    repo = new_repo(tmp_path / "work", env)
    commit(repo, env, "$(touch pwned)model.bin", "it's \"q\"x.bin", "plain.bin", "-rf1.w", msg="m")
    p = run(repo, "git", "push", str(server), "main", env=env, REGWATCH_HOOK_DATE="2099-06-01")
    assert p.returncode != 0
    lines = blocked_lines(p.stderr)
    assert len(lines) == 3 and not any("plain.bin" in ln for ln in lines)
    assert "99 FR 1\" \\\\ `touch pwned` $(touch pwned) */ -->\\x0a\\u202e" in lines[0]
    # the cleared repository and pusher, hostile as they are, are matched as plain data
    ok(server, "git", "config", "regwatch.repository", "repo'\"; rm -rf ~", env=env)
    assert run(repo, "git", "push", str(server), "main", env=env, REGWATCH_PUSHER="$(x)",
               REGWATCH_HOOK_DATE="2099-06-01").returncode == 0
    _no_pwned(tmp_path, Path(env["HOME"]))


# ---------------------------------------------------------------------------------------------------------
# Artifacts: determinism, standards, goldens


def test_artifacts_are_deterministic_and_carry_the_rules_version(hooks: Path) -> None:
    a, b = build(D(2025, 6, 1), sample()), build(D(2025, 6, 1), sample())
    assert a.files == b.files
    assert sorted(a.files) == sorted([".pre-commit-hooks.yaml", "README.md", GUARD, POLICY,
                                      "pre-commit-config.local.yaml", "pre-commit-config.remote.yaml", "pre-receive"])
    for f, data in a.files.items():
        assert data.endswith(b"\n") and not data.endswith(b"\n\n"), f
        assert b"v-test" in data and b"\r" not in data, f
    assert build(None, sample()).files != a.files
    assert a.files[GUARD].startswith(b"#!/usr/bin/env python3\n") and a.files["pre-receive"].startswith(b"#!/bin/sh\n")
    assert os.access(hooks / GUARD, os.X_OK) and os.access(hooks / "pre-receive", os.X_OK)


def test_cli_writes_an_installable_hook_directory(run: Run, tmp_path: Path) -> None:
    args = ["compile", "--target", "githooks", "--as-of", "2025-06-01", "--out", str(tmp_path / "out"),
            "--assets", str(SAMPLE)]
    p = run(*args)
    assert p.returncode == 0, p.stderr
    assert "githooks: warn: control 4E091" in p.stderr and "'needs review' for 4E091" in p.stderr
    d = tmp_path / "out" / "githooks"
    assert os.access(d / GUARD, os.X_OK) and os.access(d / "pre-receive", os.X_OK)  # unsupported_script needs it
    assert not os.access(d / POLICY, os.X_OK)
    version = json.loads((d / POLICY).read_text())["rules_version"]
    assert version.startswith("sha256:") and version == load_guard(d).RULES_VERSION
    assert run(*args, "--check").returncode == 0


def test_the_generated_guard_is_clean_python_3_9_stdlib(hooks: Path, env: dict[str, str]) -> None:
    src = (hooks / GUARD).read_text(encoding="ascii")
    ast.parse(src, feature_version=(3, 9))
    subprocess.run([sys.executable, "-m", "py_compile", str(hooks / GUARD)], check=True, timeout=60)
    imports = {n.names[0].name.split(".")[0] for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Import)}
    imports |= {n.module.split(".")[0] for n in ast.walk(ast.parse(src))
                if isinstance(n, ast.ImportFrom) and n.module}
    assert imports <= set(sys.stdlib_module_names) | {"__future__"}
    assert not {"socket", "urllib", "http", "ssl"} & imports
    ruff = Path(sys.executable).parent / "ruff"
    if ruff.exists():
        p = subprocess.run([str(ruff), "check", "--no-cache", "--isolated", "--select", "E,F,W,B",
                            "--line-length", "120", str(hooks / GUARD)], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stdout
    p = run(hooks, sys.executable, "-I", GUARD, "--help", env=env)
    assert p.returncode == 0 and "--pre-receive" in p.stdout


def _python39() -> str | None:
    """A working Python 3.9 (on PATH, or installed by pyenv without being selected), else None."""
    cands = [shutil.which("python3.9"), *map(str, sorted(Path.home().glob(".pyenv/versions/3.9*/bin/python3.9")))]
    for exe in filter(None, cands):
        p = subprocess.run([exe, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True,
                           timeout=60)
        if p.returncode == 0 and p.stdout.strip():
            return p.stdout.strip()
    return None


def test_the_guard_runs_on_python_3_9(tmp_path: Path, hooks: Path, env: dict[str, str]) -> None:
    py39 = _python39()
    if py39 is None:
        pytest.skip("no Python 3.9 here (the 3.9 syntax check above still holds)")
    repo = local_consumer(tmp_path / "repo", hooks, env)
    put(repo, SHARD)
    put(repo, "vault/.regwatch-controlled")
    ok(repo, "git", "add", "-A", env=env)
    p = run(repo, py39, ".export-control/" + GUARD, "--", SHARD, "README.md", "vault/.regwatch-controlled", env=env)
    assert p.returncode == 1 and len(blocked_lines(p.stderr)) == 2
    server = bare_server(tmp_path / "s.git", hooks, env)
    ok(repo, "git", "commit", "-q", "--no-verify", "-m", "w", env=env)
    p = run(repo, "git", "push", str(server), "main", env=env, REGWATCH_PYTHON=py39)
    assert p.returncode != 0 and len(blocked_lines(p.stderr)) == 2


SMALL_RULES = '''
unit operations "ops"
kind model "an AI model"
kind model_weights "weights"
kind checkpoint "a checkpoint"
kind repository "a repository"
attribute training_operations number unit operations of model, model_weights, checkpoint "training operations"
document 2030-00001
  citation "95 FR 100"
  published 2030-01-02
  title "Small rule"
  effective 2030-02-01
parameter small_ops unit operations "threshold"
  from 2030-02-01 10^26 cite 2030-00001
control 4E999 "weights of big models"
  applies to model, model_weights, checkpoint
  when training_operations >= small_ops cite 2030-00001
  effective 2030-02-01 cite 2030-00001
hint weights -> model_weights "*.safetensors", "**/weights/*.bin"
hint checkpoint -> checkpoint "*.ckpt"
hint marker -> model_weights ".regwatch-controlled"
'''

SMALL_INVENTORY = '''
models:
  - {id: big, training_operations: 10^26}
  - {id: tiny, training_operations: 10^20}
weights:
  - {id: big-w, path: big/model.safetensors, model: big}
  - {id: tiny-w, path: tiny/model.safetensors, model: tiny}
repositories:
  - {id: lab, cleared_eccns: 4E999, cleared_refs: "main refs/tags/*", cleared_pushers: alice}
'''


def test_golden_default(golden: Callable[[str, dict[str, bytes]], None]) -> None:
    golden("githooks/default-2025-06-01", build(D(2025, 6, 1), sample()).files)


def test_golden_small_timeline(tmp_path: Path, golden: Callable[[str, dict[str, bytes]], None]) -> None:
    inv = tmp_path / "inv.yaml"
    inv.write_text(SMALL_INVENTORY)
    b = build(None, load_inventory(inv), rules=SMALL_RULES, version="small-1")
    golden("githooks/small-timeline", b.files)
    policy = json.loads(b.files[POLICY])
    before, after = policy["slices"]
    assert before["valid_through"] == "2030-01-31" and before["kinds"]["model_weights"] == []
    assert after["paths"]["big/model.safetensors"]["findings"] == [
        {"control": "4E999", "certain": True, "missing": []}]
    assert after["paths"]["tiny/model.safetensors"]["findings"] == []
    assert after["kinds"]["model_weights"] == [
        {"control": "4E999", "certain": False, "missing": ["training_operations"]}]
    assert [d.code for d in b.diagnostics] == ["hint-needs-review", "hint-needs-review"]
