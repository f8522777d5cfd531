"""Interval semantics, defined once (docs/dsl.md, "Time") and used by every evaluator and target.

* A dated clause ``from D`` applies on D and every day after it.
* ``through E`` is inclusive: the clause applies on E and stops on the day after E.
* A parameter value ``from D v`` holds from D until the day *before* the next value's date (the next value
  takes over on its own date); ``from D end`` ends the parameter on D (no value on D).
* ``effective D`` and ``compliance C`` of a control: the control applies from D; compliance is required
  from C (from D when no compliance date is given).
* A status event (suspended / not_enforced / rescinded) ``from S [through E]`` holds on S..E inclusive.

Dates are calendar days (:class:`datetime.date`); the rules never look at the clock.
"""

from __future__ import annotations

import datetime as dt


def in_window(at: dt.date, start: dt.date | None, end: dt.date | None) -> bool:
    """True when ``start <= at <= end`` with open sides for ``None``."""
    if start is not None and at < start:
        return False
    return not (end is not None and at > end)


def windows_overlap(a_start: dt.date | None, a_end: dt.date | None,
                    b_start: dt.date | None, b_end: dt.date | None) -> bool:
    lo_a = a_start or dt.date.min
    lo_b = b_start or dt.date.min
    hi_a = a_end or dt.date.max
    hi_b = b_end or dt.date.max
    return lo_a <= hi_b and lo_b <= hi_a


def day_before(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=1)
