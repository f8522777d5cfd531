"""The scheduler: named jobs (the crawl, the weekly pipeline, ...) run on cron schedules from ``regwatch.toml``.

Pieces, each usable on its own (see docs/scheduler.md):

* the job registry: ``JOBS`` (``register_job``), and the weekly pipeline's ordered ``PIPELINE_STEPS``
  (``register_step``); a job or step is ``fn(ctx: JobContext) -> JobResult``;
* the configuration: ``[schedule]`` in ``regwatch.toml`` (``load_schedule_config`` / ``parse_schedule``),
  validated into ``ScheduleConfig`` or a one-line ``ScheduleError``;
* the run log: every run's outcome in the table ``schedule_runs`` of ``<workspace>/schedule.db`` (``RunLog``);
* the computations, which all take ``now`` as an argument: ``next_run_time``, ``catch_up_plan``,
  ``due_run_times``, ``schedule_status``;
* the running scheduler (``Scheduler``): APScheduler 3's ``BackgroundScheduler``, one per workspace (an
  exclusive ``flock`` on ``<workspace>/.regwatch-schedule.lock``), graceful stop on SIGTERM/SIGINT.

The scheduler reads the real clock (that is its job); nothing else here does unless called without ``now``.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import importlib
import json
import logging
import os
import re
import signal
import sqlite3
import threading
import time
import tomllib
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlite_utils
from apscheduler.events import (  # type: ignore[import-untyped, unused-ignore]
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
)
from apscheduler.executors.base import run_job  # type: ignore[import-untyped, unused-ignore]
from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped, unused-ignore]
from apscheduler.job import Job  # type: ignore[import-untyped, unused-ignore]
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped, unused-ignore]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped, unused-ignore]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped, unused-ignore]

from .workspace import CONFIG_NAME, Workspace, WorkspaceError

LOCK_NAME = ".regwatch-schedule.lock"
DB_NAME = "schedule.db"
TABLE = "schedule_runs"
TEST_JOBS_ENV = "REGWATCH_TEST_JOBS"
# interval_seconds jobs fire on a fixed grid anchored here, so their next run is a function of `now` alone
INTERVAL_ANCHOR = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# at most this many missed fire times are walked through when the scheduler comes back after a long stop
MAX_MISSED_SCAN = 10_000


class ScheduleError(WorkspaceError):
    """A one-line, user-facing problem with ``[schedule]`` or with the scheduler (exit code 2)."""


class SchedulerBusy(ScheduleError):
    """Another scheduler holds the workspace's lock."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        super().__init__(f"another scheduler is running (pid {pid if pid is not None else 'unknown'})")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------------------------------------------------
# Jobs


@dataclass(frozen=True)
class JobResult:
    """Outcome of a job or of a pipeline step. ``details`` must be JSON-serialisable (it is stored)."""

    ok: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobContext:
    """What a job gets: the workspace, which run this is, and a ``log`` for progress lines."""

    workspace: Workspace
    name: str  # the configured name ("daily-fr"), or "run" for `regwatch run`
    job: str  # the registered job ("fr_check")
    scheduled: dt.datetime  # the time the run was due (UTC); the start time for manual runs
    started: dt.datetime  # UTC
    trigger: str  # "schedule" (by the scheduler) or "manual" (`regwatch run`, `schedule --once-now`)
    log: Callable[[str], None] = field(default=lambda msg: None, repr=False)


JobFn = Callable[[JobContext], JobResult]


@dataclass(frozen=True)
class JobSpec:
    name: str
    fn: JobFn
    description: str = ""


JOBS: dict[str, JobSpec] = {}

# The weekly pipeline, in order. A step with no registered function is reported as
# "skipped: not implemented yet"; later issues register theirs with ``register_step``.
PIPELINE_STEPS: list[str] = ["crawl", "extract", "propose", "report"]
STEP_FUNCS: dict[str, JobFn] = {}

NOT_IMPLEMENTED = "not implemented yet"
AFTER_FAILURE = "an earlier step failed"

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def register_job(name: str, fn: JobFn, description: str = "") -> JobSpec:
    """Add (or replace) a job that ``[[schedule.jobs]] job = NAME`` can refer to."""
    if not _NAME_RE.fullmatch(name):
        raise ValueError(f"job name '{name}' must be letters, digits, '_', '.' or '-'")
    spec = JobSpec(name, fn, description)
    JOBS[name] = spec
    return spec


def register_step(name: str, fn: JobFn, *, after: str | None = None) -> None:
    """Implement a pipeline step. A new step name is inserted after ``after`` (default: at the end)."""
    if name not in PIPELINE_STEPS:
        if after is not None and after not in PIPELINE_STEPS:
            raise ValueError(f"no pipeline step '{after}' (steps: {', '.join(PIPELINE_STEPS)})")
        PIPELINE_STEPS.insert(PIPELINE_STEPS.index(after) + 1 if after else len(PIPELINE_STEPS), name)
    STEP_FUNCS[name] = fn


def _as_result(value: Any, what: str) -> JobResult:
    """Adapt what a library function returned (a JobResult, an object or dict with ``ok``, None) to a result."""
    if isinstance(value, JobResult):
        return value
    if value is None:
        return JobResult(True, f"{what} finished", {})
    details: dict[str, Any] = {}
    for meth in ("to_json", "to_dict", "as_dict"):
        f = getattr(value, meth, None)
        if callable(f):
            got = f()
            if isinstance(got, dict):
                details = got
                break
    if isinstance(value, Mapping):
        details = dict(value)
        get: Callable[[str], Any] = value.get
    else:
        get = lambda key: getattr(value, key, None)  # noqa: E731
        if not details and hasattr(value, "__dataclass_fields__"):
            import dataclasses

            details = dataclasses.asdict(value)
    ok, status, summary = get("ok"), get("status"), get("summary")
    if ok is None:
        ok = status == "ok" if isinstance(status, str) else True
    if summary is None:
        text = get("text")
        text = text() if callable(text) else text
        summary = str(text).strip().splitlines()[0] if text else f"{what} finished" + (f": {status}" if status else "")
    return JobResult(bool(ok), str(summary), _jsonable(details))


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(details, default=str))
    assert isinstance(out, dict)
    return out


def crawl(ctx: JobContext, sources: tuple[str, ...] = ("fr", "ecfr", "bis")) -> JobResult:
    """``crawler.runner.run_crawl(<workspace root>, sources=...)``: its RunSummary (``status``, ``text()``,
    ``to_json()``) becomes the result; a missing crawler or an exception is a failed result, never a crash."""
    try:
        runner = importlib.import_module("crawler.runner")
    except ImportError as e:
        return JobResult(False, f"crawler.runner is not available yet ({e})",
                         {"error": "import", "message": str(e), "sources": list(sources)})
    run_crawl = getattr(runner, "run_crawl", None)
    if not callable(run_crawl):
        return JobResult(False, "crawler.runner has no run_crawl()", {"error": "import", "sources": list(sources)})
    try:
        value = run_crawl(ctx.workspace.root, sources=sources)
    except Exception as e:
        return JobResult(False, f"crawl failed: {type(e).__name__}: {e}",
                         {"error": type(e).__name__, "message": str(e), "sources": list(sources)})
    return _as_result(value, f"crawl of {', '.join(sources)}")


def fr_check(ctx: JobContext) -> JobResult:
    """Crawl only the Federal Register (the daily check)."""
    return crawl(ctx, sources=("fr",))


def pipeline(ctx: JobContext) -> JobResult:
    """The weekly pipeline: each step of ``PIPELINE_STEPS`` in order; the first failure stops the rest."""
    steps: list[dict[str, Any]] = []
    failed: list[str] = []
    for name in list(PIPELINE_STEPS):
        fn = STEP_FUNCS.get(name)
        if failed:
            steps.append({"step": name, "status": "skipped", "summary": AFTER_FAILURE, "details": {}, "seconds": 0.0})
            continue
        if fn is None:
            steps.append({"step": name, "status": "skipped", "summary": NOT_IMPLEMENTED, "details": {},
                          "seconds": 0.0})
            ctx.log(f"step {name} skipped: {NOT_IMPLEMENTED}")
            continue
        ctx.log(f"step {name} started")
        t0 = utcnow()
        try:
            res = fn(ctx)
            if not isinstance(res, JobResult):
                res = JobResult(False, f"step returned {type(res).__name__}, not a JobResult", {})
        except Exception as e:
            res = JobResult(False, f"error: {type(e).__name__}: {e}", {"traceback": traceback.format_exc()})
        secs = round((utcnow() - t0).total_seconds(), 3)
        status = "ok" if res.ok else "failed"
        steps.append({"step": name, "status": status, "summary": res.summary, "details": _jsonable(res.details),
                      "seconds": secs})
        ctx.log(f"step {name} {status}: {res.summary}")
        if not res.ok:
            failed.append(name)
    done = [s["step"] for s in steps if s["status"] == "ok"]
    todo = [s["step"] for s in steps if s["summary"] == NOT_IMPLEMENTED]
    if failed:
        first = str(next(s for s in steps if s["status"] == "failed")["summary"])
        summary = first if first.startswith(f"{failed[0]} ") else f"{failed[0]} failed: {first}"
    else:
        summary = f"{len(done)} step{'s' if len(done) != 1 else ''} ok" + (f" ({', '.join(done)})" if done else "")
    if todo:
        summary += f"; not implemented yet: {', '.join(todo)}"
    return JobResult(not failed, summary, {"steps": steps})


register_job("crawl", lambda ctx: crawl(ctx), "crawl every source (fr, ecfr, bis)")
register_job("fr_check", fr_check, "crawl the Federal Register only")
register_job("pipeline", pipeline, "the weekly pipeline: " + " -> ".join(PIPELINE_STEPS))
register_step("crawl", lambda ctx: crawl(ctx))


def extract_step(ctx: JobContext) -> JobResult:
    """Extract every stored FR document not extracted yet (``<workspace>/extractions/``)."""
    from extraction.batch import extract_stored

    res = extract_stored(ctx.workspace.root)
    return JobResult(res.ok, res.summary(), {"extracted": res.extracted, "skipped": res.skipped,
                                             "failed": [list(f) for f in res.failed]})


register_step("extract", extract_step)


def propose_step(ctx: JobContext) -> JobResult:
    """Queue proposals from the newest extraction of every stored document (auto-approve per regwatch.toml)."""
    from .review import load_extractions, propose_from, workspace_extractions

    res = propose_from(ctx.workspace, load_extractions(workspace_extractions(ctx.workspace)), at=ctx.started)
    return JobResult(not res.failed, res.summary(), {
        "created": [{"id": p.id, "document": p.document, "items": len(p.items), "confidence": p.confidence,
                     "low_confidence": p.low_confidence} for p in res.created],
        "existing": [{"document": d, "id": i, "status": s} for d, i, s in res.existing],
        "unchanged": res.unchanged, "auto_approved": [{"id": i, "version": v} for i, v in res.auto_approved],
        "failed": [list(f) for f in res.failed]})


register_step("propose", propose_step)


def report_step(ctx: JobContext) -> JobResult:
    """Compile every target from the approved rules into ``build/``, write the digest to ``outbox/`` and
    POST it to the webhook when one is configured."""
    from .common import today
    from .digest import build, write
    from .reporting import compile_workspace, reclassifier

    ws = ctx.workspace
    day = today()
    built = compile_workspace(ws, day)
    digest = build(ws, at=ctx.started, today=day, reclassify=reclassifier(ws))
    files = write(ws, digest)
    details: dict[str, Any] = {"build": {n: c for n, c, _p in built}, "digest": {k: str(p) for k, p in files.items()},
                               "summary": digest.to_json()["summary"]}
    summary = f"built {', '.join(n for n, _c, _p in built)}; digest: {digest.headline()}"
    ok = True
    if ws.settings.webhook_url:
        from .notify import post_json

        d = post_json(ws.settings.webhook_url, digest.to_json(), retries=ws.settings.webhook_retries,
                      timeout=ws.settings.webhook_timeout_seconds)
        details["webhook"] = {"ok": d.ok, "attempts": d.attempts, "status": d.status, "message": d.message}
        summary += f"; webhook: {d.message}"
        ok = d.ok
    return JobResult(ok, summary, details)


register_step("report", report_step)

_loaded_hooks: set[str] = set()


def load_test_jobs(spec: str | None = None) -> list[str]:
    """Testing hook: ``REGWATCH_TEST_JOBS="module:function[,module:function]"``.

    Each function is called once, with no argument, before the configuration is read; it registers extra
    jobs or pipeline steps (``register_job`` / ``register_step``). Meant for tests, not for production.
    """
    spec = os.environ.get(TEST_JOBS_ENV, "") if spec is None else spec
    done: list[str] = []
    for item in (s.strip() for s in spec.split(",")):
        if not item or item in _loaded_hooks:
            continue
        mod, sep, fn_name = item.partition(":")
        if not sep or not mod or not fn_name:
            raise ScheduleError(f"{TEST_JOBS_ENV}: '{item}' is not module:function")
        try:
            module = importlib.import_module(mod)
        except Exception as e:
            raise ScheduleError(f"{TEST_JOBS_ENV}: cannot import '{mod}': {type(e).__name__}: {e}") from None
        fn = getattr(module, fn_name, None)
        if not callable(fn):
            raise ScheduleError(f"{TEST_JOBS_ENV}: '{mod}' has no function '{fn_name}'")
        fn()
        _loaded_hooks.add(item)
        done.append(item)
    return done


# ---------------------------------------------------------------------------------------------------------
# Configuration

_DOW = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]  # standard cron numbering: 0 (and 7) = Sunday


def _dow_value(tok: str, item: str) -> int:
    if tok.isdigit() and 0 <= int(tok) <= 7:
        return int(tok)
    if tok.lower() in _DOW:
        return _DOW.index(tok.lower())
    raise ValueError(f"day-of-week '{item}': '{tok}' is not a day (0-7 or sun-sat, 0 and 7 = Sunday)")


def _crontab_day_of_week(spec: str) -> str:
    """Standard cron day-of-week (0/7 = Sunday, names, ranges, steps) as APScheduler 3 day names.

    APScheduler 3 numbers days from 0 = Monday, so a numeric field is never passed to it as is.
    """
    if spec == "*":
        return "*"
    days: set[int] = set()
    for item in spec.split(","):
        rng, slash, step_s = item.partition("/")
        step = 1
        if slash:
            if not step_s.isdigit() or int(step_s) < 1:
                raise ValueError(f"day-of-week '{item}': bad step '{step_s}'")
            step = int(step_s)
        if rng == "*":
            lo, hi = 0, 6
        elif "-" in rng:
            a, _, b = rng.partition("-")
            lo, hi = _dow_value(a, item), _dow_value(b, item)
            if hi == 0 and lo > 0:  # "fri-sun", "5-0": Sunday closes the week (7)
                hi = 7
            if lo > hi:
                raise ValueError(f"day-of-week '{item}': the range goes backwards")
        else:
            if slash:
                raise ValueError(f"day-of-week '{item}': a step needs a range or '*'")
            lo = hi = _dow_value(rng, item)
        days.update(d % 7 for d in range(lo, hi + 1, step))
    if len(days) == 7:
        return "*"
    order = [1, 2, 3, 4, 5, 6, 0]  # mon..sun
    return ",".join(_DOW[d] for d in order if d in days)


def cron_trigger(expr: str, tz: dt.tzinfo) -> Any:
    """A standard 5-field crontab line (minute hour day month day-of-week) as an APScheduler CronTrigger.

    Parsed with ``CronTrigger.from_crontab`` after translating the day-of-week field to day names (standard
    cron: 0 = Sunday; APScheduler 3: 0 = Monday). Restricting both day-of-month and day-of-week is refused:
    cron runs when either matches, APScheduler only when both do.
    """
    fields = expr.split()
    try:
        if len(fields) != 5:
            raise ValueError(f"{len(fields)} field{'s' if len(fields) != 1 else ''}, expected 5 "
                             "(minute hour day month day-of-week)")
        if not fields[2].startswith("*") and not fields[4].startswith("*"):
            raise ValueError("restricts both day-of-month and day-of-week (cron would run when either matches); "
                             "restrict only one")
        fields[4] = _crontab_day_of_week(fields[4])
        return CronTrigger.from_crontab(" ".join(fields), timezone=tz)
    except ValueError as e:
        msg = str(e) or "invalid"
        raise ValueError(f"'{expr}': {msg[0].lower() + msg[1:]}") from None


def interval_trigger(seconds: int, tz: dt.tzinfo) -> Any:
    return IntervalTrigger(seconds=seconds, start_date=INTERVAL_ANCHOR.astimezone(tz), timezone=tz)


@dataclass(frozen=True)
class JobConfig:
    """One ``[[schedule.jobs]]`` entry: ``name`` runs the registered ``job`` on ``cron`` or every
    ``interval_seconds`` (the interval form exists mainly for tests: cron has no seconds)."""

    name: str
    job: str
    cron: str | None = None
    interval_seconds: int | None = None

    @property
    def when(self) -> str:
        return self.cron if self.cron is not None else f"every {self.interval_seconds} s"

    def trigger(self, tz: dt.tzinfo) -> Any:
        if self.cron is not None:
            return cron_trigger(self.cron, tz)
        assert self.interval_seconds is not None
        return interval_trigger(self.interval_seconds, tz)


DEFAULT_JOBS: tuple[JobConfig, ...] = (
    JobConfig("daily-fr", "fr_check", cron="15 9 * * 1-5"),
    JobConfig("weekly", "pipeline", cron="0 6 * * 1"),
)


@dataclass(frozen=True)
class ScheduleConfig:
    timezone: str = "UTC"
    misfire_grace_seconds: int = 3600
    coalesce: bool = True
    jobs: tuple[JobConfig, ...] = DEFAULT_JOBS

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def get(self, name: str) -> JobConfig | None:
        return next((j for j in self.jobs if j.name == name), None)


_SCHEDULE_KEYS = ("timezone", "misfire_grace_seconds", "coalesce", "jobs")
_JOB_KEYS = ("name", "job", "cron", "interval_seconds")


def _type_name(v: Any) -> str:
    return {bool: "boolean", int: "integer", float: "float", str: "string", list: "array",
            dict: "table"}.get(type(v), type(v).__name__)


def parse_schedule(section: Any, source: str = CONFIG_NAME) -> ScheduleConfig:
    """Validate the ``[schedule]`` table (None when absent) into a ScheduleConfig, else raise ScheduleError."""
    if section is None:
        return ScheduleConfig()

    def err(where: str, msg: str) -> ScheduleError:
        return ScheduleError(f"{source}: {where}: {msg}")

    if not isinstance(section, dict):
        raise err("schedule", f"must be a table (got {_type_name(section)})")
    for key in section:
        if key not in _SCHEDULE_KEYS:
            raise err(f"schedule.{key}", f"unknown setting (known: {', '.join(_SCHEDULE_KEYS)})")
    tz_name = section.get("timezone", "UTC")
    if not isinstance(tz_name, str):
        raise err("schedule.timezone", f"must be a string (got {_type_name(tz_name)})")
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise err("schedule.timezone", f"unknown time zone '{tz_name}' (an IANA name such as 'UTC' or "
                                       "'America/New_York')") from None
    grace = section.get("misfire_grace_seconds", 3600)
    if not isinstance(grace, int) or isinstance(grace, bool) or grace < 1:
        raise err("schedule.misfire_grace_seconds", f"must be a positive integer (got {grace!r})")
    coalesce = section.get("coalesce", True)
    if not isinstance(coalesce, bool):
        raise err("schedule.coalesce", f"must be true or false (got {coalesce!r})")
    jobs: tuple[JobConfig, ...] = DEFAULT_JOBS
    if "jobs" in section:
        raw = section["jobs"]
        if not isinstance(raw, list):
            raise err("schedule.jobs", f"must be an array of tables ([[schedule.jobs]]), got {_type_name(raw)}")
        parsed: list[JobConfig] = []
        seen: dict[str, int] = {}
        tz = ZoneInfo(tz_name)
        for i, entry in enumerate(raw):
            parsed.append(_parse_job(entry, i, seen, tz, err))
        jobs = tuple(parsed)
    return ScheduleConfig(tz_name, grace, coalesce, jobs)


def _parse_job(entry: Any, i: int, seen: dict[str, int], tz: dt.tzinfo,
               err: Callable[[str, str], ScheduleError]) -> JobConfig:
    where = f"schedule.jobs[{i}]"
    if not isinstance(entry, dict):
        raise err(where, f"must be a table (got {_type_name(entry)})")
    for key in entry:
        if key not in _JOB_KEYS:
            raise err(f"{where}.{key}", f"unknown setting (known: {', '.join(_JOB_KEYS)})")
    for key in ("name", "job"):
        if key not in entry:
            raise err(where, f"missing '{key}'")
        if not isinstance(entry[key], str):
            raise err(f"{where}.{key}", f"must be a string (got {_type_name(entry[key])})")
    name, job = entry["name"], entry["job"]
    if not _NAME_RE.fullmatch(name):
        raise err(f"{where}.name", f"'{name}' must start with a letter or digit and use only letters, digits, "
                                   "'_', '.' and '-'")
    if name in seen:
        raise err(f"{where}.name", f"duplicate job name '{name}' (also schedule.jobs[{seen[name]}])")
    seen[name] = i
    if job not in JOBS:
        from rulesdsl.errors import did_you_mean

        raise err(f"{where}.job", f"unknown job '{job}'{did_you_mean(job, JOBS)} (known: {', '.join(sorted(JOBS))})")
    cron, interval = entry.get("cron"), entry.get("interval_seconds")
    if (cron is None) == (interval is None):
        raise err(where, "give either 'cron' or 'interval_seconds'" + (", not both" if cron is not None else ""))
    if cron is not None:
        if not isinstance(cron, str):
            raise err(f"{where}.cron", f"must be a string (got {_type_name(cron)})")
        try:
            cron_trigger(cron, tz)
        except ValueError as e:
            raise err(f"{where}.cron", f"bad cron expression {e}") from None
        return JobConfig(name, job, cron=cron)
    if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
        raise err(f"{where}.interval_seconds", f"must be a positive integer (got {interval!r})")
    return JobConfig(name, job, interval_seconds=interval)


def load_schedule_config(path: Path) -> ScheduleConfig:
    """The ``[schedule]`` section of a ``regwatch.toml`` (the defaults when it is absent)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleError(f"{path}: invalid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScheduleError(f"{path}: cannot read: {exc}") from None
    return parse_schedule(data.get("schedule"), path.name)


# ---------------------------------------------------------------------------------------------------------
# Time computations (all take `now`)


def _aware(t: dt.datetime) -> dt.datetime:
    if t.tzinfo is None:
        raise ValueError(f"{t.isoformat()}: a time zone is required")
    return t


def next_run_time(job: JobConfig, config: ScheduleConfig, now: dt.datetime) -> dt.datetime | None:
    """The first fire time of ``job`` at or after ``now`` (in the schedule's time zone)."""
    tz = config.tz
    t = job.trigger(tz).get_next_fire_time(None, _aware(now).astimezone(tz))
    assert t is None or isinstance(t, dt.datetime)
    return t


@dataclass(frozen=True)
class CatchUp:
    """Where a job's schedule resumes when the scheduler starts at ``now``.

    ``next_run_time`` may be in the past: APScheduler then runs the fire times up to ``now`` at once, collapsed
    into one run when coalescing. ``missed`` are fire times older than the misfire grace: they do not run
    (``missed_count`` says how many, up to MAX_MISSED_SCAN, ``missed_last`` the latest).
    """

    next_run_time: dt.datetime | None
    missed_count: int = 0
    missed_first: dt.datetime | None = None
    missed_last: dt.datetime | None = None


def catch_up_plan(job: JobConfig, config: ScheduleConfig, last_scheduled: dt.datetime | None,
                  now: dt.datetime) -> CatchUp:
    """Resume ``job`` at ``now`` after its last recorded run (due time ``last_scheduled``).

    A job that never ran starts with its next fire time. Otherwise the fire times after ``last_scheduled`` are
    due: those within ``misfire_grace_seconds`` of ``now`` are handed to APScheduler (which coalesces them),
    older ones are missed.
    """
    tz = config.tz
    now = _aware(now).astimezone(tz)
    trig = job.trigger(tz)
    if last_scheduled is None:
        return CatchUp(trig.get_next_fire_time(None, now))
    floor = now - dt.timedelta(seconds=config.misfire_grace_seconds)
    first = trig.get_next_fire_time(_aware(last_scheduled).astimezone(tz), now)
    if first is None or first >= floor:
        return CatchUp(first)
    count, last, t = 0, None, first
    while t is not None and t < floor and count < MAX_MISSED_SCAN:
        count, last = count + 1, t
        t = trig.get_next_fire_time(t, now)
    resume = trig.get_next_fire_time(None, floor)
    return CatchUp(resume, count, first, last)


def due_run_times(job: JobConfig, config: ScheduleConfig, next_run: dt.datetime,
                  now: dt.datetime) -> tuple[list[dt.datetime], list[dt.datetime]]:
    """What APScheduler does with a job due at ``next_run`` when it looks at ``now``: (runs, missed).

    Uses APScheduler's own ``Job._get_run_times``, then its coalescing (keep the latest only) and its
    misfire check (a run time more than ``misfire_grace_seconds`` before ``now`` is missed).
    """
    tz = config.tz
    sched = BackgroundScheduler(timezone=tz)
    aps_job = Job(sched, id=job.name, name=job.name, func=print, args=(), kwargs={}, trigger=job.trigger(tz),
                  executor="default", misfire_grace_time=config.misfire_grace_seconds, coalesce=config.coalesce,
                  max_instances=1, next_run_time=_aware(next_run).astimezone(tz))
    times: list[dt.datetime] = list(aps_job._get_run_times(_aware(now).astimezone(tz)))
    if times and config.coalesce:
        times = times[-1:]
    grace = dt.timedelta(seconds=config.misfire_grace_seconds)
    runs = [t for t in times if now - t <= grace]
    return runs, [t for t in times if now - t > grace]


# ---------------------------------------------------------------------------------------------------------
# Run log (SQLite, WAL)


def _iso(t: dt.datetime | None) -> str | None:
    return t.astimezone(dt.UTC).isoformat() if t is not None else None


def _from_iso(s: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(s) if isinstance(s, str) and s else None


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class RunRecord:
    id: int
    name: str
    job: str
    trigger: str
    scheduled: dt.datetime
    started: dt.datetime | None
    finished: dt.datetime | None
    ok: bool | None
    outcome: str  # running | ok | failed | missed
    summary: str
    details: dict[str, Any]
    pid: int | None

    @property
    def shown_outcome(self) -> str:
        """``outcome``, except a run whose process is gone while it was running shows as ``interrupted``."""
        if self.outcome == "running" and not pid_alive(self.pid):
            return "interrupted"
        return self.outcome

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "job": self.job, "trigger": self.trigger,
                "scheduled": _iso(self.scheduled), "started": _iso(self.started), "finished": _iso(self.finished),
                "ok": self.ok, "outcome": self.shown_outcome, "summary": self.summary, "details": self.details}


class RunLog:
    """Every run's outcome, in the table ``schedule_runs`` of ``<workspace>/schedule.db`` (WAL).

    A run is written when it starts (outcome ``running``) and updated when it finishes, each in its own short
    transaction on its own connection, so job threads and other processes can write at the same time.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._db() as db:
            # Switching to WAL needs the file to itself and fails at once ("database is locked", no busy
            # wait) while another process writes; once a file is in WAL mode the switch is never needed again.
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                deadline = time.monotonic() + 30
                while True:
                    try:
                        db.execute("PRAGMA journal_mode = WAL")
                        break
                    except sqlite3.OperationalError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.05)
            # Readers (`schedule --list`, tests) open the log while the scheduler writes: only a log that lacks
            # its table takes the write lock, and then with BEGIN IMMEDIATE so the busy timeout applies (a
            # read-then-write upgrade in WAL mode fails at once with "database is locked").
            exists = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                [TABLE]).fetchone()
            if not exists:
                db.conn.commit()
                db.execute("BEGIN IMMEDIATE")
                db.table(TABLE).create(
                    {"id": int, "name": str, "job": str, "trigger": str, "scheduled": str, "started": str,
                     "finished": str, "ok": int, "outcome": str, "summary": str, "details": str, "pid": int},
                    pk="id", not_null={"name", "job", "trigger", "scheduled", "outcome"}, if_not_exists=True)
                db.table(TABLE).create_index(["name", "scheduled"], if_not_exists=True)

    @contextmanager
    def _db(self) -> Iterator[sqlite_utils.Database]:
        try:
            conn = sqlite3.connect(str(self.path), timeout=30)
        except sqlite3.Error as e:
            raise ScheduleError(f"{self.path}: cannot open the schedule log ({e})") from None
        try:
            yield sqlite_utils.Database(conn, execute_plugins=False)
            conn.commit()
        except sqlite3.Error as e:
            raise ScheduleError(f"{self.path}: {e}") from None
        finally:
            conn.close()

    def start(self, name: str, job: str, trigger: str, scheduled: dt.datetime, started: dt.datetime) -> int:
        with self._db() as db:
            t = db.table(TABLE).insert({"name": name, "job": job, "trigger": trigger, "scheduled": _iso(scheduled),
                                        "started": _iso(started), "finished": None, "ok": None,
                                        "outcome": "running", "summary": "", "details": "{}", "pid": os.getpid()})
            rid = t.last_pk
        assert isinstance(rid, int)
        return rid

    def finish(self, run_id: int, finished: dt.datetime, result: JobResult) -> None:
        details = json.dumps(result.details, default=str, sort_keys=True)
        with self._db() as db:
            db.table(TABLE).update(run_id, {"finished": _iso(finished), "ok": int(result.ok),
                                            "outcome": "ok" if result.ok else "failed", "summary": result.summary,
                                            "details": details})

    def missed(self, name: str, job: str, scheduled: dt.datetime, summary: str,
               details: dict[str, Any] | None = None) -> int:
        with self._db() as db:
            t = db.table(TABLE).insert({"name": name, "job": job, "trigger": "schedule",
                                        "scheduled": _iso(scheduled), "started": None, "finished": None,
                                        "ok": None, "outcome": "missed", "summary": summary,
                                        "details": json.dumps(details or {}, default=str), "pid": os.getpid()})
            rid = t.last_pk
        assert isinstance(rid, int)
        return rid

    @staticmethod
    def _record(row: Mapping[str, Any]) -> RunRecord:
        scheduled = _from_iso(row["scheduled"])
        assert scheduled is not None
        ok = row["ok"]
        return RunRecord(id=row["id"], name=row["name"], job=row["job"], trigger=row["trigger"], scheduled=scheduled,
                         started=_from_iso(row["started"]), finished=_from_iso(row["finished"]),
                         ok=None if ok is None else bool(ok), outcome=row["outcome"], summary=row["summary"] or "",
                         details=json.loads(row["details"] or "{}"), pid=row["pid"])

    def _query(self, where: str = "", params: tuple[Any, ...] = (), order: str = "id DESC",
               limit: int | None = None) -> list[RunRecord]:
        with self._db() as db:
            rows = db.table(TABLE).rows_where(where or None, params, order_by=order, limit=limit)
            return [self._record(r) for r in rows]

    def get(self, run_id: int) -> RunRecord:
        [rec] = self._query("id = ?", (run_id,))
        return rec

    def runs(self, name: str | None = None, limit: int | None = None) -> list[RunRecord]:
        """Newest first."""
        return self._query("name = ?", (name,), limit=limit) if name else self._query(limit=limit)

    def latest(self, name: str) -> RunRecord | None:
        """The latest run of ``name`` (by due time, then by id)."""
        got = self._query("name = ?", (name,), order="scheduled DESC, id DESC", limit=1)
        return got[0] if got else None

    def last_scheduled(self, name: str) -> dt.datetime | None:
        rec = self.latest(name)
        return rec.scheduled if rec else None


# ---------------------------------------------------------------------------------------------------------
# Running a job (scheduled or manual)


def execute_job(workspace: Workspace, runlog: RunLog, *, name: str, job: str, scheduled: dt.datetime | None = None,
                trigger: str = "manual", log: Callable[[str], None] | None = None,
                clock: Callable[[], dt.datetime] = utcnow) -> RunRecord:
    """Run the registered ``job`` once under the name ``name``, recording it in the run log. Never raises for
    a failing job: an exception becomes a failed run (KeyboardInterrupt/SystemExit are recorded, then re-raised).
    """
    say = log or (lambda msg: None)
    started = clock()
    run_id = runlog.start(name, job, trigger, scheduled or started, started)
    say(f"job {name} started")
    spec = JOBS.get(job)
    result: JobResult
    try:
        if spec is None:
            result = JobResult(False, f"unknown job '{job}' (known: {', '.join(sorted(JOBS))})", {})
        else:
            ctx = JobContext(workspace, name, job, scheduled or started, started, trigger,
                             lambda msg: say(f"job {name}: {msg}"))
            got = spec.fn(ctx)
            result = got if isinstance(got, JobResult) else JobResult(
                False, f"job returned {type(got).__name__}, not a JobResult", {})
    except (KeyboardInterrupt, SystemExit) as e:
        runlog.finish(run_id, clock(), JobResult(False, f"interrupted ({type(e).__name__})", {}))
        raise
    except Exception as e:
        result = JobResult(False, f"error: {type(e).__name__}: {e}", {"traceback": traceback.format_exc()})
    try:
        result = JobResult(result.ok, result.summary, _jsonable(result.details))
    except (TypeError, ValueError) as e:
        result = JobResult(result.ok, result.summary, {"unserialisable_details": str(e)})
    runlog.finish(run_id, clock(), result)
    say(f"job {name} finished {'ok' if result.ok else 'FAILED'}: {result.summary}")
    return runlog.get(run_id)


# ---------------------------------------------------------------------------------------------------------
# The lock


class ScheduleLock:
    """An exclusive, non-blocking ``flock`` on ``<workspace>/.regwatch-schedule.lock`` holding the owner's pid.

    The kernel releases it when the process ends, however it ends; the file itself stays.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise SchedulerBusy(read_pid(self.path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> ScheduleLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def lock_holder(path: Path) -> int | None:
    """The pid of the scheduler holding the lock at ``path`` (0 if unknown), or None when it is free."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return read_pid(path) or 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------------------
# Status (`regwatch schedule --list`)


@dataclass(frozen=True)
class JobStatus:
    config: JobConfig
    next_run: dt.datetime | None
    last_run: RunRecord | None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.config.name, "job": self.config.job, "cron": self.config.cron,
                "interval_seconds": self.config.interval_seconds, "next_run": _iso(self.next_run),
                "last_run": self.last_run.to_json() if self.last_run else None}


def schedule_status(config: ScheduleConfig, runlog: RunLog | None, now: dt.datetime) -> list[JobStatus]:
    """For each configured job: its next fire time after ``now`` and its latest recorded run."""
    return [JobStatus(j, next_run_time(j, config, now), runlog.latest(j.name) if runlog else None)
            for j in config.jobs]


# ---------------------------------------------------------------------------------------------------------
# The running scheduler

_tls = threading.local()  # the due time of the run executing on this worker thread


class _RecordingExecutor(ThreadPoolExecutor):  # type: ignore[misc, unused-ignore]
    """APScheduler's thread pool executor, which also tells the job its due time.

    Each due time goes through APScheduler's own ``run_job`` (misfire check, events) one at a time, with the
    time in a thread-local the job wrapper reads.
    """

    def _do_submit_job(self, job: Any, run_times: list[dt.datetime]) -> None:
        def run_all() -> list[Any]:
            events: list[Any] = []
            for t in run_times:
                _tls.scheduled = t
                try:
                    events.extend(run_job(job, job._jobstore_alias, [t], self._logger.name))
                finally:
                    _tls.scheduled = None
            return events

        def callback(f: Any) -> None:
            exc = f.exception()
            if exc:
                self._run_job_error(job.id, exc, getattr(exc, "__traceback__", None))
            else:
                self._run_job_success(job.id, f.result())

        self._pool.submit(run_all).add_done_callback(callback)


class Scheduler:
    """The jobs of a ScheduleConfig on APScheduler's BackgroundScheduler, for one workspace.

    ``run_forever`` takes the workspace lock, resumes each job after its last recorded run (``catch_up_plan``),
    runs until SIGTERM/SIGINT (or ``request_stop``), lets the running job finish, and releases the lock.
    Every run (and every missed run) is recorded in ``RunLog``. Jobs run with ``max_instances=1``,
    ``coalesce`` and ``misfire_grace_time`` from the configuration.
    """

    def __init__(self, workspace: Workspace, config: ScheduleConfig, *, log: Callable[[str], None] | None = None,
                 max_workers: int = 4) -> None:
        self.workspace = workspace
        self.config = config
        self.log = log or (lambda msg: None)
        self.runlog = RunLog(workspace.root / DB_NAME)
        self.lock = ScheduleLock(workspace.root / LOCK_NAME)
        self.max_workers = max_workers
        self._stop = threading.Event()
        self._aps: Any = None
        self._running: set[str] = set()
        self._running_lock = threading.Lock()
        self._forward = _Forward(self.log)

    # -- one run

    def run_once(self, name: str, now: dt.datetime | None = None) -> RunRecord:
        """Run a configured job (by its name) or a registered job (by its job name) once, now, under the lock."""
        cfg = self.config.get(name)
        job = cfg.job if cfg else name
        if cfg is None and name not in JOBS:
            from rulesdsl.errors import did_you_mean

            known = sorted({j.name for j in self.config.jobs} | set(JOBS))
            raise ScheduleError(f"unknown job '{name}'{did_you_mean(name, known)} (configured: "
                                f"{', '.join(j.name for j in self.config.jobs) or 'none'}; registered: "
                                f"{', '.join(sorted(JOBS))})")
        with self.lock:
            return execute_job(self.workspace, self.runlog, name=name, job=job, scheduled=now, trigger="manual",
                               log=self.log)

    # -- the scheduler

    def _scheduled_run(self, name: str) -> None:
        cfg = self.config.get(name)
        assert cfg is not None
        scheduled = getattr(_tls, "scheduled", None)
        with self._running_lock:
            self._running.add(name)
        try:
            execute_job(self.workspace, self.runlog, name=name, job=cfg.job, scheduled=scheduled,
                        trigger="schedule", log=self.log)
        finally:
            with self._running_lock:
                self._running.discard(name)

    def _on_event(self, event: Any) -> None:
        name = event.job_id
        cfg = self.config.get(name)
        if cfg is None:
            return
        if event.code == EVENT_JOB_MISSED:
            t = event.scheduled_run_time
            late = utcnow() - t
            summary = (f"missed: due {_iso(t)}, late by {_human(late)} (more than the misfire grace of "
                       f"{self.config.misfire_grace_seconds} s)")
            self.runlog.missed(name, cfg.job, t, summary)
            self.log(f"job {name} {summary}")
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            self.log(f"job {name} skipped: its previous run is still running")

    def running_jobs(self) -> list[str]:
        with self._running_lock:
            return sorted(self._running)

    def start(self, now: dt.datetime | None = None) -> dict[str, CatchUp]:
        """Take the lock and start the jobs in the background; returns each job's catch-up plan."""
        if not self.config.jobs:
            raise ScheduleError(f"{CONFIG_NAME}: schedule.jobs is empty: nothing to schedule")
        self.lock.acquire()
        try:
            at = now or utcnow()
            tz = self.config.tz
            aps = BackgroundScheduler(
                timezone=tz, executors={"default": _RecordingExecutor(self.max_workers)},
                job_defaults={"coalesce": self.config.coalesce, "max_instances": 1,
                              "misfire_grace_time": self.config.misfire_grace_seconds})
            aps.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
            logging.getLogger("apscheduler").addHandler(self._forward)
            plans: dict[str, CatchUp] = {}
            for job in self.config.jobs:
                plan = catch_up_plan(job, self.config, self.runlog.last_scheduled(job.name), at)
                plans[job.name] = plan
                if plan.missed_count and plan.missed_first and plan.missed_last:
                    many = f"{plan.missed_count}{'+' if plan.missed_count >= MAX_MISSED_SCAN else ''}"
                    summary = (f"missed {many} run{'s' if plan.missed_count != 1 else ''} due "
                               f"{_iso(plan.missed_first)} .. {_iso(plan.missed_last)} while no scheduler ran "
                               f"(more than the misfire grace of {self.config.misfire_grace_seconds} s ago)")
                    self.runlog.missed(job.name, job.job, plan.missed_last, summary,
                                       {"count": plan.missed_count, "first": _iso(plan.missed_first)})
                    self.log(f"job {job.name} {summary}")
                if plan.next_run_time is None:
                    continue
                aps.add_job(self._scheduled_run, trigger=job.trigger(tz), args=(job.name,), id=job.name,
                            name=job.name, next_run_time=plan.next_run_time)
            aps.start()
            self._aps = aps
            return plans
        except BaseException:
            self.lock.release()
            raise

    def next_runs(self) -> dict[str, dt.datetime | None]:
        if self._aps is None:
            return {}
        return {j.id: j.next_run_time for j in self._aps.get_jobs()}

    def request_stop(self) -> None:
        self._stop.set()

    def shutdown(self) -> None:
        """Stop scheduling, wait for running jobs to finish, release the lock."""
        try:
            if self._aps is not None:
                running = self.running_jobs()
                if running:
                    self.log(f"stopping: waiting for {', '.join(running)} to finish")
                self._aps.shutdown(wait=True)
                self._aps = None
        finally:
            logging.getLogger("apscheduler").removeHandler(self._forward)
            self.lock.release()

    def run_forever(self, *, install_signals: bool = True) -> None:
        """Start, block until SIGTERM/SIGINT or ``request_stop``, then stop gracefully. A second signal while
        stopping exits at once (the interrupted run stays recorded as running, shown as interrupted)."""
        old: dict[int, Any] = {}

        def on_signal(signum: int, frame: FrameType | None) -> None:
            if self._stop.is_set():
                self.log(f"{signal.Signals(signum).name} again: exiting now")
                os._exit(128 + signum)
            self.log(f"{signal.Signals(signum).name}: stopping after the running job(s)")
            self._stop.set()

        if install_signals:  # before the lock is taken: whoever sees the lock may already signal us
            for sig in (signal.SIGTERM, signal.SIGINT):
                old[sig] = signal.signal(sig, on_signal)
        try:
            at = utcnow()
            plans = self.start(at)
            try:
                parts = []
                for name, plan in plans.items():
                    t = plan.next_run_time
                    parts.append(f"{name} " + ("now (catching up)" if t is not None and t <= at
                                               else _short(t, self.config.tz)))
                self.log(f"scheduler started (pid {os.getpid()}, {len(plans)} job{'s' if len(plans) != 1 else ''}"
                         f", {self.config.timezone}); next: {', '.join(parts)}")
                while not self._stop.wait(0.5):
                    pass
            finally:
                self.shutdown()
                self.log("scheduler stopped")
        finally:
            for sig_num, handler in old.items():
                signal.signal(sig_num, handler)


class _Forward(logging.Handler):
    """APScheduler's own errors go to the scheduler's log; its warnings (missed runs, skipped runs) are
    reported by the scheduler itself."""

    def __init__(self, log: Callable[[str], None]) -> None:
        super().__init__(logging.ERROR)
        self._log = log

    def emit(self, record: logging.LogRecord) -> None:
        self._log(f"apscheduler: {record.getMessage()}")


def _short(t: dt.datetime | None, tz: dt.tzinfo) -> str:
    return t.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z") if t else "never"


def _human(d: dt.timedelta) -> str:
    secs = int(d.total_seconds())
    if secs < 120:
        return f"{secs} s"
    if secs < 7200:
        return f"{secs // 60} min"
    if secs < 172800:
        return f"{secs // 3600} h {secs % 3600 // 60} min"
    return f"{secs // 86400} days"
