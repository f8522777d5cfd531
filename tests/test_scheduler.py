"""The scheduler: configuration, time computations, the run log, `regwatch run` and `regwatch schedule` as real
processes (real APScheduler, real SQLite, real signals and locks). No network: the crawl is replaced by a
test step through the REGWATCH_TEST_JOBS hook (``register_test_jobs`` below, imported by the subprocesses).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from regwatch.scheduler import (
    DB_NAME,
    JOBS,
    LOCK_NAME,
    MAX_MISSED_SCAN,
    TEST_JOBS_ENV,
    JobConfig,
    JobContext,
    JobResult,
    RunLog,
    ScheduleConfig,
    ScheduleError,
    catch_up_plan,
    due_run_times,
    lock_holder,
    next_run_time,
    parse_schedule,
)
from regwatch.workspace import Settings, Workspace

from .conftest import ROOT, assert_no_traceback, regwatch_exe

HOOK = "tests.test_scheduler:register_test_jobs"
UTC = dt.UTC


# ---------------------------------------------------------------------------------------------------------
# The testing hook (runs inside the regwatch subprocesses)


def register_test_jobs() -> None:
    """REGWATCH_TEST_JOBS hook: test jobs, and a crawl step that needs no network."""
    from regwatch.scheduler import register_job, register_step

    def t_ok(ctx: JobContext) -> JobResult:
        return JobResult(True, f"tick {ctx.name} due {ctx.scheduled.isoformat()}", {"n": 1})

    def t_fail(ctx: JobContext) -> JobResult:
        return JobResult(False, "planned failure", {})

    def t_raise(ctx: JobContext) -> JobResult:
        raise RuntimeError("kaboom")

    def t_slow(ctx: JobContext) -> JobResult:
        time.sleep(float(os.environ.get("REGWATCH_TEST_SLOW", "1.5")))
        return JobResult(True, "slow done", {})

    for name, fn in [("t_ok", t_ok), ("t_fail", t_fail), ("t_raise", t_raise), ("t_slow", t_slow)]:
        register_job(name, fn)
    register_step("crawl", lambda ctx: JobResult(True, "crawled 0 documents (test crawl)", {"new": 0}))
    failing = os.environ.get("REGWATCH_TEST_FAIL_STEP")
    if failing:
        register_step(failing, lambda ctx: JobResult(False, f"{failing} failed on purpose", {}))


# ---------------------------------------------------------------------------------------------------------
# Helpers


def _env(**extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    e["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [e.get("PYTHONPATH")])])
    e[TEST_JOBS_ENV] = HOOK
    e["REGWATCH_TODAY"] = "2026-11-26"  # valid time of the report step (knowledge time stays the clock's)
    e.update(extra)
    return e


def rw(ws: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([regwatch_exe(), *args], cwd=ws, env=env or _env(), capture_output=True, text=True,
                          timeout=60)


class Proc:
    """A `regwatch schedule` running in the background, its stderr in a file."""

    def __init__(self, ws: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.err_path = ws.parent / f"schedule-{time.monotonic_ns()}.err"
        self._err = self.err_path.open("w")
        self.p = subprocess.Popen([regwatch_exe(), "schedule", *args], cwd=ws, env=env or _env(),
                                  stdout=subprocess.DEVNULL, stderr=self._err, text=True)

    @property
    def stderr(self) -> str:
        return self.err_path.read_text()

    def stop(self, timeout: float = 8.0) -> int:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout)
        finally:
            if self.p.poll() is None:  # pragma: no cover - only when the test failed
                self.p.kill()
                self.p.wait()
            self._err.close()


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for p in started:
        if p.p.poll() is None:
            p.p.kill()
            p.p.wait()


def wait_for(cond: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = cond()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def template_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tpl") / "ws"
    p = subprocess.run([regwatch_exe(), "init", str(root)], env=_env(), capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return root


@pytest.fixture
def make_ws(tmp_path: Path, template_ws: Path) -> Callable[[str], Path]:
    """A fresh copy of a `regwatch init` workspace, with ``schedule`` appended to its regwatch.toml."""

    def make(schedule: str = "") -> Path:
        ws = tmp_path / f"ws{len(list(tmp_path.glob('ws*')))}"
        shutil.copytree(template_ws, ws)
        if schedule:  # replaces the template's own [schedule] example (the last section of the file)
            cfg = ws / "regwatch.toml"
            text = cfg.read_text(encoding="utf-8")
            head, sep, _ = text.partition("\n[schedule]\n")
            assert sep, "the regwatch.toml template is expected to end with its [schedule] section"
            cfg.write_text(head + "\n" + schedule, encoding="utf-8")
        return ws

    return make


def lock_is_free(ws: Path) -> bool:
    fd = os.open(ws / LOCK_NAME, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def rows(ws: Path, name: str | None = None) -> list[Any]:
    """Oldest first."""
    if not (ws / DB_NAME).exists():
        return []
    return list(reversed(RunLog(ws / DB_NAME).runs(name)))


def finished(ws: Path, name: str) -> list[Any]:
    return [r for r in rows(ws, name) if r.outcome not in ("running",)]


def jobs_toml(*jobs: str, grace: int = 3600, coalesce: bool = True) -> str:
    head = f"[schedule]\ntimezone = \"UTC\"\nmisfire_grace_seconds = {grace}\ncoalesce = {str(coalesce).lower()}\n"
    return head + "".join(f"\n[[schedule.jobs]]\n{j}\n" for j in jobs)


# ---------------------------------------------------------------------------------------------------------
# Configuration


def test_defaults_when_section_absent() -> None:
    for section in (None, {}, {"timezone": "UTC"}):
        cfg = parse_schedule(section)
        assert cfg.timezone == "UTC" and cfg.misfire_grace_seconds == 3600 and cfg.coalesce is True
        assert [(j.name, j.job, j.cron) for j in cfg.jobs] == [("daily-fr", "fr_check", "15 9 * * 1-5"),
                                                               ("weekly", "pipeline", "0 6 * * 1")]
    assert {"crawl", "fr_check", "pipeline"} <= set(JOBS)


def test_full_section_parses() -> None:
    cfg = parse_schedule({"timezone": "America/New_York", "misfire_grace_seconds": 60, "coalesce": False,
                          "jobs": [{"name": "a", "job": "crawl", "cron": "*/5 * * * *"},
                                   {"name": "b.2", "job": "pipeline", "interval_seconds": 30}]})
    assert cfg.timezone == "America/New_York" and cfg.misfire_grace_seconds == 60 and not cfg.coalesce
    assert cfg.jobs == (JobConfig("a", "crawl", cron="*/5 * * * *"), JobConfig("b.2", "pipeline", interval_seconds=30))
    assert parse_schedule({"jobs": []}).jobs == ()


def _job(**kw: Any) -> dict[str, Any]:
    return {"name": "weekly", "job": "pipeline", "cron": "0 6 * * 1", **kw}


@pytest.mark.parametrize(("section", "message"), [
    ({"jobs": [_job(), _job(name="x", job="crawll")]},
     "regwatch.toml: schedule.jobs[1].job: unknown job 'crawll' (did you mean 'crawl'?) (known: "),
    ({"jobs": [_job(), _job(name="x", cron="0 6 * *")]},
     "regwatch.toml: schedule.jobs[1].cron: bad cron expression '0 6 * *': 4 fields, expected 5 "
     "(minute hour day month day-of-week)"),
    ({"jobs": [_job(cron="61 * * * *")]},
     "regwatch.toml: schedule.jobs[0].cron: bad cron expression '61 * * * *': error validating expression "
     "'61': the last value (61) is higher than the maximum value (59)"),
    ({"jobs": [_job(cron="0 6 * * 8")]},
     "regwatch.toml: schedule.jobs[0].cron: bad cron expression '0 6 * * 8': day-of-week '8': '8' is not a day"),
    ({"jobs": [_job(cron="0 6 1 * 1")]},
     "regwatch.toml: schedule.jobs[0].cron: bad cron expression '0 6 1 * 1': restricts both day-of-month and "
     "day-of-week"),
    ({"jobs": [_job(), _job()]},
     "regwatch.toml: schedule.jobs[1].name: duplicate job name 'weekly' (also schedule.jobs[0])"),
    ({"timezone": "Mars/Olympus"},
     "regwatch.toml: schedule.timezone: unknown time zone 'Mars/Olympus'"),
    ({"timezone": 5}, "regwatch.toml: schedule.timezone: must be a string (got integer)"),
    ({"misfire_grace_seconds": "1h"}, "regwatch.toml: schedule.misfire_grace_seconds: must be a positive integer"),
    ({"misfire_grace_seconds": True}, "regwatch.toml: schedule.misfire_grace_seconds: must be a positive integer"),
    ({"misfire_grace_seconds": 0}, "regwatch.toml: schedule.misfire_grace_seconds: must be a positive integer"),
    ({"coalesce": "yes"}, "regwatch.toml: schedule.coalesce: must be true or false (got 'yes')"),
    ({"jobs": {"name": "x"}}, "regwatch.toml: schedule.jobs: must be an array of tables ([[schedule.jobs]])"),
    ({"jobs": ["weekly"]}, "regwatch.toml: schedule.jobs[0]: must be a table (got string)"),
    ({"jobs": [{"job": "crawl", "cron": "* * * * *"}]}, "regwatch.toml: schedule.jobs[0]: missing 'name'"),
    ({"jobs": [_job(name=7)]}, "regwatch.toml: schedule.jobs[0].name: must be a string (got integer)"),
    ({"jobs": [_job(name="two words")]}, "regwatch.toml: schedule.jobs[0].name: 'two words' must start"),
    ({"jobs": [_job(cron=5)]}, "regwatch.toml: schedule.jobs[0].cron: must be a string (got integer)"),
    ({"jobs": [_job(interval_seconds=5)]},
     "regwatch.toml: schedule.jobs[0]: give either 'cron' or 'interval_seconds', not both"),
    ({"jobs": [{"name": "x", "job": "crawl"}]}, "regwatch.toml: schedule.jobs[0]: give either 'cron' or "
                                                "'interval_seconds'"),
    ({"jobs": [{"name": "x", "job": "crawl", "interval_seconds": 0}]},
     "regwatch.toml: schedule.jobs[0].interval_seconds: must be a positive integer (got 0)"),
    ({"jobs": [_job(when="daily")]}, "regwatch.toml: schedule.jobs[0].when: unknown setting"),
    ({"grace": 5}, "regwatch.toml: schedule.grace: unknown setting"),
    ("daily", "regwatch.toml: schedule: must be a table (got string)"),
])
def test_config_errors(section: Any, message: str) -> None:
    with pytest.raises(ScheduleError) as e:
        parse_schedule(section)
    assert str(e.value).startswith(message), str(e.value)
    assert "\n" not in str(e.value)


def test_config_error_through_cli(make_ws: Callable[[str], Path]) -> None:
    ws = make_ws(jobs_toml('name = "a"\njob = "t_ok"\ncron = "0 6 * * 1"',
                          'name = "b"\njob = "t_ok"\ncron = "0 6 * *"'))
    for args in (["schedule", "--list"], ["schedule"], ["schedule", "--once-now", "a"]):
        p = rw(ws, *args)
        assert p.returncode == 2, p.stderr
        assert p.stderr.strip().splitlines() == [
            "regwatch: regwatch.toml: schedule.jobs[1].cron: bad cron expression '0 6 * *': 4 fields, expected 5 "
            "(minute hour day month day-of-week)"]
    assert not (ws / DB_NAME).exists()


def test_usage_errors(make_ws: Callable[[str], Path], tmp_path: Path) -> None:
    ws = make_ws("")
    p = rw(ws, "schedule", "--json")
    assert p.returncode == 2 and "--json goes with --list or --once-now" in p.stderr
    p = rw(ws, "schedule", "--list", "--once-now", "weekly")
    assert p.returncode == 2 and "not both" in p.stderr
    p = rw(ws, "schedule", "--list", env=_env(REGWATCH_TEST_JOBS="tests.no_such_module:f"))
    assert p.returncode == 2 and "REGWATCH_TEST_JOBS: cannot import 'tests.no_such_module'" in p.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in (["run"], ["schedule", "--list"]):
        p = rw(empty, *args)
        assert p.returncode == 2 and "no workspace here" in p.stderr
        assert_no_traceback(p)


# ---------------------------------------------------------------------------------------------------------
# Time computations with fixed clocks


FRI = dt.datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # a Friday
MON_6 = dt.datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(("when", "now", "tz", "expect"), [
    ("15 9 * * 1-5", FRI, "UTC", "2026-11-30T09:15:00+00:00"),  # standard cron: 1-5 = Monday..Friday
    ("15 9 * * 1-5", FRI.replace(hour=9, minute=0), "UTC", "2026-11-27T09:15:00+00:00"),
    ("0 6 * * 1", FRI, "UTC", "2026-11-30T06:00:00+00:00"),
    ("0 6 * * 1", MON_6, "UTC", "2026-11-30T06:00:00+00:00"),  # due exactly now
    ("0 6 * * 1", MON_6 + dt.timedelta(seconds=1), "UTC", "2026-12-07T06:00:00+00:00"),
    ("0 6 * * 0", FRI, "UTC", "2026-11-29T06:00:00+00:00"),  # 0 = Sunday, as in cron (APScheduler: Monday)
    ("0 6 * * 7", FRI, "UTC", "2026-11-29T06:00:00+00:00"),
    ("0 6 * * sat-sun", FRI, "UTC", "2026-11-28T06:00:00+00:00"),
    ("*/20 * * * *", FRI.replace(minute=41), "UTC", "2026-11-27T11:00:00+00:00"),
    ("0 0 1 * *", FRI, "UTC", "2026-12-01T00:00:00+00:00"),
    # 09:15 in New York is 14:15 UTC in winter and 13:15 UTC in summer
    ("15 9 * * 1-5", FRI, "America/New_York", "2026-11-27T14:15:00+00:00"),
    ("15 9 * * 1-5", dt.datetime(2026, 7, 3, 14, 0, tzinfo=UTC), "America/New_York", "2026-07-06T13:15:00+00:00"),
    (7, FRI + dt.timedelta(seconds=1), "UTC", "2026-11-27T10:00:07+00:00"),  # 7 s grid from 2000-01-01: 10:00:00 on it
    (1, FRI + dt.timedelta(microseconds=1), "UTC", "2026-11-27T10:00:01+00:00"),
])
def test_next_run_time(when: str | int, now: dt.datetime, tz: str, expect: str) -> None:
    job = JobConfig("j", "crawl", cron=when) if isinstance(when, str) else \
        JobConfig("j", "crawl", interval_seconds=when)
    cfg = ScheduleConfig(timezone=tz, jobs=(job,))
    got = next_run_time(job, cfg, now)
    assert got is not None and got.astimezone(UTC).isoformat() == expect


def test_misfire_policy_coalesces_missed_runs() -> None:
    """An hourly job last run 10 days ago, scheduler back at FRI 10:00: APScheduler's own logic, fixed clock."""
    hourly = JobConfig("h", "crawl", cron="0 * * * *")
    last = FRI - dt.timedelta(days=10)
    coalesce = ScheduleConfig(misfire_grace_seconds=3600, coalesce=True, jobs=(hourly,))
    plan = catch_up_plan(hourly, coalesce, last, FRI)
    # runs older than the grace are missed (counted, recorded once); the ones within it go to APScheduler
    assert plan.missed_count == 10 * 24 - 2 and plan.missed_first == last + dt.timedelta(hours=1)
    assert plan.missed_last == FRI - dt.timedelta(hours=2)
    assert plan.next_run_time == FRI - dt.timedelta(hours=1)
    runs, missed = due_run_times(hourly, coalesce, plan.next_run_time, FRI)
    assert runs == [FRI] and missed == []  # 09:00 and 10:00 are due: one run, not two

    no_coalesce = ScheduleConfig(misfire_grace_seconds=6 * 3600, coalesce=False, jobs=(hourly,))
    plan = catch_up_plan(hourly, no_coalesce, last, FRI)
    assert plan.next_run_time == FRI - dt.timedelta(hours=6)
    runs, missed = due_run_times(hourly, no_coalesce, plan.next_run_time, FRI)
    assert runs == [FRI - dt.timedelta(hours=h) for h in range(6, -1, -1)] and missed == []

    # APScheduler's misfire check: a due time more than the grace before now does not run
    strict = ScheduleConfig(misfire_grace_seconds=3600, coalesce=False, jobs=(hourly,))
    runs, missed = due_run_times(hourly, strict, FRI - dt.timedelta(hours=4), FRI - dt.timedelta(minutes=1))
    assert runs == [FRI - dt.timedelta(hours=1)] and missed == [FRI - dt.timedelta(hours=h) for h in (4, 3, 2)]
    daily = JobConfig("d", "crawl", cron="0 6 * * *")
    runs, missed = due_run_times(daily, coalesce, FRI - dt.timedelta(days=2, hours=4), FRI)
    assert runs == [] and missed == [FRI - dt.timedelta(hours=4)]  # coalesced into the latest, which is too late


def test_catch_up_edges() -> None:
    daily = JobConfig("d", "crawl", cron="15 9 * * *")
    cfg = ScheduleConfig(jobs=(daily,))
    # never ran: no catch-up, the next fire time
    assert catch_up_plan(daily, cfg, None, FRI).next_run_time == dt.datetime(2026, 11, 28, 9, 15, tzinfo=UTC)
    # ran at 09:15 today: nothing due
    assert catch_up_plan(daily, cfg, FRI.replace(hour=9, minute=15), FRI) == catch_up_plan(daily, cfg, None, FRI)
    # missed today's 09:15 by 45 minutes (< 1 h grace): runs now
    plan = catch_up_plan(daily, cfg, FRI.replace(hour=9, minute=15) - dt.timedelta(days=1), FRI)
    assert plan.next_run_time == FRI.replace(hour=9, minute=15) and plan.missed_count == 0
    # missed by 2 h 45 min: recorded as missed, resumes tomorrow
    plan = catch_up_plan(daily, cfg, FRI.replace(hour=9, minute=15) - dt.timedelta(days=3), FRI.replace(hour=12))
    assert plan.missed_count == 3 and plan.next_run_time == dt.datetime(2026, 11, 28, 9, 15, tzinfo=UTC)
    # a very long stop is scanned up to a bound, not for ever
    sec = JobConfig("s", "crawl", interval_seconds=1)
    plan = catch_up_plan(sec, ScheduleConfig(jobs=(sec,)), FRI - dt.timedelta(days=365), FRI)
    assert plan.missed_count == MAX_MISSED_SCAN and plan.next_run_time == FRI - dt.timedelta(hours=1)


# ---------------------------------------------------------------------------------------------------------
# The crawl job in process (crawler.runner missing, failing, succeeding)


def _ctx(tmp_path: Path) -> JobContext:
    now = dt.datetime.now(UTC)
    return JobContext(Workspace(tmp_path, Settings()), "daily-fr", "fr_check", now, now, "manual")


def test_crawl_without_runner_fails_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "crawler.runner", None)  # the import raises ImportError
    for job in ("crawl", "fr_check"):
        res = JOBS[job].fn(_ctx(tmp_path))
        assert not res.ok and res.summary.startswith("crawler.runner is not available yet")


def test_crawl_calls_run_crawl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, Any]] = []

    class Summary:
        status = "failed"

        def text(self) -> str:
            return "crawl r1: 2 new, 0 changed, 0 unchanged, 1 failed\n  fr ..."

        def to_json(self) -> dict[str, Any]:
            return {"run_id": "r1", "status": self.status}

    def run_crawl(workspace: Path, sources: tuple[str, ...]) -> Summary:
        calls.append((workspace, sources))
        return Summary()

    fake = types.ModuleType("crawler.runner")
    fake.run_crawl = run_crawl  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "crawler.runner", fake)
    res = JOBS["fr_check"].fn(_ctx(tmp_path))
    assert calls == [(tmp_path, ("fr",))]
    assert not res.ok and res.summary == "crawl r1: 2 new, 0 changed, 0 unchanged, 1 failed"
    assert res.details == {"run_id": "r1", "status": "failed"}
    Summary.status = "ok"
    assert JOBS["crawl"].fn(_ctx(tmp_path)).ok and calls[-1] == (tmp_path, ("fr", "ecfr", "bis"))

    def broken(workspace: Path, sources: tuple[str, ...]) -> None:
        raise RuntimeError("network down")

    fake.run_crawl = broken  # type: ignore[attr-defined]
    res = JOBS["crawl"].fn(_ctx(tmp_path))
    assert not res.ok and res.summary == "crawl failed: RuntimeError: network down"


# ---------------------------------------------------------------------------------------------------------
# regwatch run


def test_run_pipeline(make_ws: Callable[[str], Path]) -> None:
    ws = make_ws("")
    p = rw(ws, "run")
    assert p.returncode == 0, p.stderr
    assert_no_traceback(p)
    lines = p.stdout.splitlines()
    assert lines[0].startswith("pipeline run #1 (recorded in ") and lines[0].endswith("schedule.db)")
    assert lines[1].split(None, 2) == ["crawl", "ok", "crawled 0 documents (test crawl)"]
    assert lines[2].split(None, 2) == ["extract", "ok", "0 extracted, 0 already extracted, 0 failed"]
    assert lines[3].split(None, 2) == ["propose", "ok", "0 new proposals, 0 already proposed, 0 already in the rules"]
    report = lines[4].split(None, 2)
    assert report[:2] == ["report", "ok"] and report[2].startswith("built constants, casbin, rego, githooks; digest: ")
    assert lines[5] == "ok: 4 steps ok (crawl, extract, propose, report)"
    assert (ws / "outbox" / "digest-2026-11-26.md").is_file() and (ws / "build" / "rego").is_dir()
    assert "step crawl started" in p.stderr

    p = rw(ws, "run", "--json", "--quiet")
    assert p.returncode == 0 and p.stderr == ""
    j = json.loads(p.stdout)
    assert j["id"] == 2 and j["name"] == "run" and j["job"] == "pipeline" and j["trigger"] == "manual"
    assert j["ok"] is True and j["outcome"] == "ok" and j["finished"] >= j["started"]
    assert [(s["step"], s["status"]) for s in j["steps"]] == [
        ("crawl", "ok"), ("extract", "ok"), ("propose", "ok"), ("report", "ok")]
    recs = rows(ws, "run")
    assert [(r.id, r.outcome, r.ok) for r in recs] == [(1, "ok", True), (2, "ok", True)]
    assert recs[0].details["steps"][0]["summary"] == "crawled 0 documents (test crawl)"


def test_run_pipeline_proposes_from_extractions(make_ws: Callable[[str], Path]) -> None:
    """The propose step queues what the newest extraction of each stored document proposes, once."""
    ws = make_ws("")
    out = ws / "extractions"
    out.mkdir()
    rule = ROOT / "fixtures" / "demo" / "fr" / "documents" / "full_text" / "xml" / "2027" / "03" / "02" / \
        "2027-04410.xml"
    p = subprocess.run([regwatch_exe(), "extract", str(rule), "--publication-date", "2027-03-02", "--json"],
                       capture_output=True, text=True, timeout=60, env=_env())
    assert p.returncode == 0, p.stderr
    (out / "2027-04410.v1.json").write_text("{}", encoding="utf-8")  # an older version: ignored
    (out / "2027-04410.v2.json").write_text(p.stdout, encoding="utf-8")
    p = rw(ws, "run", "--json", "--quiet")
    assert p.returncode == 0, p.stderr
    step = next(s for s in json.loads(p.stdout)["steps"] if s["step"] == "propose")
    assert step["status"] == "ok" and step["summary"].startswith("1 new proposal, 0 already proposed")
    assert step["details"]["created"][0]["document"] == "2027-04410"
    p = rw(ws, "run", "--json", "--quiet")
    step = next(s for s in json.loads(p.stdout)["steps"] if s["step"] == "propose")
    assert step["summary"].startswith("0 new proposals, 1 already proposed")
    p = rw(ws, "review", "list")
    assert p.returncode == 0 and p.stdout.startswith("#1  pending  2027-04410")


def test_run_failing_step(make_ws: Callable[[str], Path]) -> None:
    ws = make_ws("")
    p = rw(ws, "run", env=_env(REGWATCH_TEST_FAIL_STEP="extract"))
    assert p.returncode == 1, p.stderr
    assert_no_traceback(p)
    out = [line.split(None, 2) for line in p.stdout.splitlines()[1:5]]
    assert out == [["crawl", "ok", "crawled 0 documents (test crawl)"],
                   ["extract", "failed", "extract failed on purpose"],
                   ["propose", "skipped", "an earlier step failed"], ["report", "skipped", "an earlier step failed"]]
    assert p.stdout.splitlines()[-1] == "FAILED: extract failed on purpose"
    [rec] = rows(ws, "run")
    assert rec.outcome == "failed" and rec.ok is False and rec.finished is not None


# ---------------------------------------------------------------------------------------------------------
# regwatch schedule


def test_list_default_jobs(make_ws: Callable[[str], Path]) -> None:
    ws = make_ws("")
    p = rw(ws, "schedule", "--list")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert "timezone UTC, misfire grace 3600 s, coalesce on; scheduler not running" in lines[0]
    assert lines[1].split() == ["NAME", "JOB", "WHEN", "NEXT", "RUN", "LAST", "RUN", "OUTCOME", "SUMMARY"]
    assert lines[2].startswith("daily-fr") and "15 9 * * 1-5" in lines[2] and lines[2].endswith("never")
    assert lines[3].startswith("weekly") and "0 6 * * 1" in lines[3]
    j = json.loads(rw(ws, "schedule", "--list", "--json").stdout)
    assert j["scheduler"] == {"running": False, "pid": None} and j["coalesce"] is True
    now = dt.datetime.fromisoformat(j["now"])
    for job in j["jobs"]:
        assert job["last_run"] is None
        cfg = JobConfig(job["name"], job["job"], cron=job["cron"])
        assert job["next_run"] == next_run_time(cfg, ScheduleConfig(), now).isoformat()  # type: ignore[union-attr]
    assert not (ws / DB_NAME).exists()  # listing writes nothing


def test_lock_second_scheduler_and_sigterm(make_ws: Callable[[str], Path], procs: list[Proc]) -> None:
    ws = make_ws(jobs_toml('name = "yearly"\njob = "t_ok"\ncron = "0 0 1 1 *"'))
    first = Proc(ws)
    procs.append(first)
    wait_for(lambda: lock_holder(ws / LOCK_NAME) == first.p.pid, what="the first scheduler to take the lock")
    for args in (["schedule"], ["schedule", "--once-now", "yearly"]):
        second = rw(ws, *args)
        assert second.returncode == 2
        assert second.stderr.strip() == f"regwatch: another scheduler is running (pid {first.p.pid})"
    listed = json.loads(rw(ws, "schedule", "--list", "--json").stdout)
    assert listed["scheduler"] == {"running": True, "pid": first.p.pid}
    t0 = time.monotonic()
    assert first.stop() == 0, first.stderr
    assert time.monotonic() - t0 < 5
    assert lock_is_free(ws) and lock_holder(ws / LOCK_NAME) is None
    err = first.stderr
    assert "scheduler started" in err and "SIGTERM: stopping" in err and "scheduler stopped" in err
    assert "Traceback" not in err


def test_interval_jobs_run_and_are_listed(make_ws: Callable[[str], Path], procs: list[Proc]) -> None:
    ws = make_ws(jobs_toml('name = "tick"\njob = "t_ok"\ninterval_seconds = 1',
                          'name = "bad"\njob = "t_raise"\ninterval_seconds = 1',
                          'name = "later"\njob = "t_ok"\ncron = "0 0 1 1 *"'))
    s = Proc(ws)
    procs.append(s)
    wait_for(lambda: finished(ws, "tick") and finished(ws, "bad"), what="a run of each interval job")
    p = rw(ws, "schedule", "--list", "--json")
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    assert j["scheduler"] == {"running": True, "pid": s.p.pid}
    by = {x["name"]: x for x in j["jobs"]}
    assert by["tick"]["interval_seconds"] == 1 and by["tick"]["cron"] is None
    tick = by["tick"]["last_run"]
    assert tick["outcome"] in ("ok", "running")  # it runs every second
    bad = by["bad"]["last_run"]
    assert bad["outcome"] in ("failed", "running")
    assert by["later"]["last_run"] is None and by["later"]["next_run"].endswith("-01-01T00:00:00+00:00")
    text = rw(ws, "schedule", "--list").stdout
    assert f"scheduler running (pid {s.p.pid})" in text
    assert s.stop() == 0, s.stderr
    ok = finished(ws, "tick")[-1]
    assert ok.outcome == "ok" and ok.ok and ok.trigger == "schedule" and ok.summary.startswith("tick tick due ")
    assert ok.scheduled.microsecond == 0 and ok.started is not None and ok.started >= ok.scheduled
    failed = finished(ws, "bad")[-1]
    assert failed.outcome == "failed" and failed.summary == "error: RuntimeError: kaboom"
    assert "kaboom" in failed.details["traceback"]
    assert all(r.outcome != "running" for r in rows(ws))
    err = s.stderr
    assert "job tick started" in err and "job tick finished ok: tick tick due" in err
    assert "job bad finished FAILED: error: RuntimeError: kaboom" in err
    assert "Traceback" not in err
    listed = rw(ws, "schedule", "--list").stdout
    assert "scheduler not running" in listed and "kaboom" in listed


def test_sigterm_lets_the_running_job_finish(make_ws: Callable[[str], Path], procs: list[Proc]) -> None:
    ws = make_ws(jobs_toml('name = "slow"\njob = "t_slow"\ninterval_seconds = 1'))
    s = Proc(ws, "--quiet", env=_env(REGWATCH_TEST_SLOW="1.5"))
    procs.append(s)
    wait_for(lambda: any(r.outcome == "running" for r in rows(ws, "slow")), what="a running job")
    assert s.stop() == 0
    recs = rows(ws, "slow")
    assert recs and all(r.outcome == "ok" and r.finished is not None for r in recs)
    assert recs[-1].summary == "slow done"
    assert s.stderr == ""  # --quiet
    assert lock_is_free(ws)


def _seed(ws: Path, name: str, job: str, scheduled: dt.datetime) -> None:
    log = RunLog(ws / DB_NAME)
    rid = log.start(name, job, "schedule", scheduled, scheduled)
    log.finish(rid, scheduled + dt.timedelta(seconds=1), JobResult(True, "seeded", {}))


@pytest.mark.parametrize("coalesce", [True, False])
def test_missed_runs_after_a_stop(make_ws: Callable[[str], Path], procs: list[Proc], coalesce: bool) -> None:
    """Last run 30 minutes ago, every minute, grace 1 h: coalescing runs once; without it, every missed minute."""
    ws = make_ws(jobs_toml('name = "minutely"\njob = "t_ok"\ncron = "* * * * *"', coalesce=coalesce))
    last = dt.datetime.now(UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=30)
    _seed(ws, "minutely", "t_ok", last)
    s = Proc(ws)
    procs.append(s)

    def catch_up_runs() -> list[Any]:
        """The runs due before the scheduler's first run started (a minute boundary may pass meanwhile)."""
        new = [r for r in rows(ws, "minutely") if r.scheduled > last and r.started is not None]
        if not new:
            return []
        first_start = min(r.started for r in new)
        return [r for r in new if r.scheduled <= first_start]

    expect = 1 if coalesce else 30
    wait_for(lambda: len([r for r in catch_up_runs() if r.outcome == "ok"]) >= expect, what="the catch-up runs")
    time.sleep(0.7)  # would any more come?
    assert s.stop() == 0, s.stderr
    got = catch_up_runs()
    assert all(r.outcome == "ok" and r.trigger == "schedule" for r in got)
    latest = got[-1].scheduled
    assert latest == got[-1].started.replace(second=0, microsecond=0)
    if coalesce:
        assert len(got) == 1  # 30 (or 31) missed minutes, one run: the latest
    else:
        minutes = int((latest - last).total_seconds() // 60)
        assert minutes in (30, 31)
        assert [r.scheduled for r in got] == [last + dt.timedelta(minutes=m) for m in range(1, minutes + 1)]
    assert "now (catching up)" in s.stderr


def test_missed_beyond_grace_is_recorded(make_ws: Callable[[str], Path], procs: list[Proc]) -> None:
    now = dt.datetime.now(UTC)
    due = (now - dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    ws = make_ws(jobs_toml(f'name = "daily"\njob = "t_ok"\ncron = "{due.minute} {due.hour} * * *"'))
    _seed(ws, "daily", "t_ok", due - dt.timedelta(days=3))
    s = Proc(ws)
    procs.append(s)
    wait_for(lambda: len(rows(ws, "daily")) == 2, what="the missed record")
    time.sleep(0.3)
    assert s.stop() == 0, s.stderr
    seeded, missed = rows(ws, "daily")
    assert seeded.summary == "seeded"
    assert missed.outcome == "missed" and missed.ok is None and missed.scheduled == due
    assert missed.summary.startswith("missed 3 runs due ") and "misfire grace of 3600 s" in missed.summary
    j = json.loads(rw(ws, "schedule", "--list", "--json").stdout)
    [job] = j["jobs"]
    assert job["last_run"]["outcome"] == "missed"
    assert job["next_run"] == (due + dt.timedelta(days=1)).isoformat()


def test_once_now(make_ws: Callable[[str], Path]) -> None:
    ws = make_ws(jobs_toml('name = "tick"\njob = "t_ok"\ncron = "0 0 1 1 *"',
                          'name = "nope-fail"\njob = "t_fail"\ncron = "0 0 1 1 *"'))
    p = rw(ws, "schedule", "--once-now", "tick", "--json", "--quiet")
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    assert j["name"] == "tick" and j["job"] == "t_ok" and j["trigger"] == "manual" and j["ok"] is True
    p = rw(ws, "schedule", "--once-now", "nope-fail")
    assert p.returncode == 1 and "nope-fail (t_fail) run #2: FAILED: planned failure" in p.stdout
    assert "job nope-fail started" in p.stderr
    p = rw(ws, "schedule", "--once-now", "pipeline")  # a registered job that is not configured
    assert p.returncode == 0 and "crawled 0 documents (test crawl)" in p.stdout
    p = rw(ws, "schedule", "--once-now", "tik")
    assert p.returncode == 2 and "unknown job 'tik' (did you mean 'tick'?)" in p.stderr
    assert_no_traceback(p)
    listed = rw(ws, "schedule", "--list").stdout.splitlines()
    assert "ok" in listed[2].split() and "tick tick due" in listed[2]
    assert "FAILED" not in listed[3] and "failed" in listed[3].split()
    assert lock_is_free(ws)
