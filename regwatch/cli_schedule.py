"""``regwatch schedule`` and ``regwatch run``: the scheduler, and the weekly pipeline run by hand.

regwatch.cli imports this module at its end and registers both commands (``main.add_command``). The scheduler
(APScheduler) is imported inside the commands, like every heavy import of the CLI.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from .common import State, UserError, handle_errors, now, pass_state

if TYPE_CHECKING:
    from .scheduler import JobStatus, RunRecord, ScheduleConfig


def _logger(quiet: bool, tz: dt.tzinfo | None) -> Callable[[str], None]:
    """Progress lines on stderr, ``HH:MM:SS message`` (in ``tz``, else local time)."""

    def log(msg: str) -> None:
        if not quiet:
            t = now().astimezone(tz) if tz is not None else now().astimezone()
            click.echo(f"{t.strftime('%H:%M:%S')} {msg}", err=True)

    return log


def _when(t: dt.datetime | None, tz: dt.tzinfo) -> str:
    return t.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z") if t is not None else "-"


def _clip(s: str, n: int = 70) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _steps_text(rec: RunRecord) -> list[str]:
    steps = rec.details.get("steps")
    if not isinstance(steps, list):
        return []
    width = max((len(str(s.get("step", ""))) for s in steps), default=0)
    return [f"  {s.get('step', '')!s:<{width}}  {s.get('status', '')!s:<7}  {s.get('summary', '')}"
            for s in steps if isinstance(s, dict)]


def _run_json(rec: RunRecord) -> dict[str, Any]:
    out = rec.to_json()
    steps = out["details"].get("steps") if isinstance(out["details"], dict) else None
    if isinstance(steps, list):
        out["steps"] = steps
        del out["details"]
    return out


# ---------------------------------------------------------------------------------------------------------
# regwatch schedule


@click.command()
@click.option("--list", "as_list", is_flag=True,
              help="Show each configured job: its schedule, last run (time, outcome, summary) and next run; exit.")
@click.option("--json", "as_json", is_flag=True, help="With --list or --once-now: machine-readable JSON on stdout.")
@click.option("--once-now", "once_now", metavar="JOB", default=None,
              help="Run JOB once, now (a configured name such as daily-fr, or a job such as pipeline), record it "
                   "and exit: 0 ok, 1 failed. Takes the scheduler lock, so it never overlaps a running scheduler "
                   "(for cron).")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
@pass_state
@handle_errors
def schedule(state: State, as_list: bool, as_json: bool, once_now: str | None, quiet: bool) -> None:
    """Run the scheduler in the foreground until SIGTERM/SIGINT, or --list the jobs and their runs.

    Jobs and their cron schedules come from [schedule] in regwatch.toml (default: daily-fr runs fr_check at
    09:15 on weekdays, weekly runs the pipeline at 06:00 on Mondays, UTC); see docs/scheduler.md. One
    scheduler per workspace: a second one exits 2. Runs missed while no scheduler ran are caught up once
    (coalesced) if they are less than misfire_grace_seconds late. Every run is recorded in
    <workspace>/schedule.db. Progress lines ("HH:MM:SS job daily-fr started") go to stderr.
    """
    from . import scheduler as sch

    if as_list and once_now:
        raise UserError("give --list or --once-now, not both")
    if as_json and not (as_list or once_now):
        raise UserError("--json goes with --list or --once-now")
    sch.load_test_jobs()
    ws = state.workspace(required=True)
    assert ws is not None
    config = sch.load_schedule_config(ws.config_path)
    if as_list:
        db = ws.root / sch.DB_NAME
        runlog = sch.RunLog(db) if db.exists() else None
        at = now()
        statuses = sch.schedule_status(config, runlog, at)
        holder = sch.lock_holder(ws.root / sch.LOCK_NAME)
        manual = runlog.latest("run") if runlog else None
        if as_json:
            click.echo(json.dumps({
                "workspace": str(ws.root), "timezone": config.timezone,
                "misfire_grace_seconds": config.misfire_grace_seconds, "coalesce": config.coalesce,
                "now": at.isoformat(), "scheduler": {"running": holder is not None, "pid": holder or None},
                "jobs": [s.to_json() for s in statuses],
                "last_manual_run": _run_json(manual) if manual else None}, indent=2))
        else:
            click.echo(_list_text(str(ws.root), config, statuses, holder, manual))
        return
    log = _logger(quiet, config.tz)
    scheduler = sch.Scheduler(ws, config, log=log)
    if once_now:
        rec = scheduler.run_once(once_now)
        if as_json:
            click.echo(json.dumps(_run_json(rec), indent=2))
        else:
            click.echo(f"{rec.name} ({rec.job}) run #{rec.id}: {'ok' if rec.ok else 'FAILED'}: {rec.summary}")
            for line in _steps_text(rec):
                click.echo(line)
        sys.exit(0 if rec.ok else 1)
    scheduler.run_forever()


def _list_text(root: str, config: ScheduleConfig, statuses: list[JobStatus], holder: int | None,
               manual: RunRecord | None) -> str:
    tz = config.tz
    running = "not running" if holder is None else f"running (pid {holder or 'unknown'})"
    lines = [f"schedule of {root}: timezone {config.timezone}, misfire grace {config.misfire_grace_seconds} s, "
             f"coalesce {'on' if config.coalesce else 'off'}; scheduler {running}"]
    rows = [("NAME", "JOB", "WHEN", "NEXT RUN", "LAST RUN", "OUTCOME", "SUMMARY")]
    for s in statuses:
        last = s.last_run
        rows.append((s.config.name, s.config.job, s.config.when, _when(s.next_run, tz),
                     _when(last.started or last.scheduled, tz) if last else "never",
                     last.shown_outcome if last else "", _clip(last.summary) if last else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    if manual is not None:
        lines.append(f"last 'regwatch run': {_when(manual.started or manual.scheduled, tz)} "
                     f"{manual.shown_outcome}: {_clip(manual.summary)}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# regwatch run


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
@pass_state
@handle_errors
def run(state: State, as_json: bool, quiet: bool) -> None:
    """Run the weekly pipeline once, now: crawl -> extract -> propose -> report.

    Prints each step's outcome; steps not implemented yet are skipped, and the first failure skips the
    steps after it. The run is recorded in <workspace>/schedule.db under the name 'run'. Exit 0 if every
    implemented step succeeded, 1 if a step failed, 2 on a usage or configuration error.
    """
    from . import scheduler as sch

    sch.load_test_jobs()
    ws = state.workspace(required=True)
    assert ws is not None
    runlog = sch.RunLog(ws.root / sch.DB_NAME)
    rec = sch.execute_job(ws, runlog, name="run", job="pipeline", trigger="manual", log=_logger(quiet, None))
    if as_json:
        click.echo(json.dumps(_run_json(rec), indent=2))
    else:
        click.echo(f"pipeline run #{rec.id} (recorded in {runlog.path})")
        for line in _steps_text(rec):
            click.echo(line)
        click.echo(f"{'ok' if rec.ok else 'FAILED'}: {rec.summary}")
    sys.exit(0 if rec.ok else 1)
