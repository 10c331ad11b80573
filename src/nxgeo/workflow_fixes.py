"""A fix for Snakemake's scheduler, applied by the Snakefile before any job is scheduled.

**The problem (Snakemake 8.17 to at least 9.27.1, measured 2026-12-03).** With a job rate limit
(``--max-jobs-per-timespan``, default ``100/1s``), every scheduling round that finds jobs ready
but no free core starts a ``threading.Timer`` that wakes the scheduler again after the timespan
(``JobScheduler._schedule_reevalutation``). The round that timer wakes starts another timer, and
every finished job starts one more such chain, so the chains add up: on the tiny sample
(155 jobs, 2 cores) the scheduler ran 13,365 rounds in 560 s (555 with the fix). Each round
looks at the size of every input of every waiting job (``update_input_sizes``: ten million
``stat`` calls in a profiled run), and Snakemake's own process used more CPU than most of the
rules it ran (docs/scaling.md, "Snakemake's own process").

**The fix.** At most one wake-up is pending at any time: a round that finds one already pending
does not start another. The rate limit keeps its meaning (a round runs at the latest one
timespan after the last; a finished job still wakes the scheduler at once), and which jobs run
and what they write do not change: only the number of idle rounds does.

`coalesce_reevaluation` checks that the method it replaces is the one it was written for (it
starts a ``threading.Timer`` that releases ``_open_jobs``); another Snakemake gets no patch
and a note in the log, never a changed behaviour. The library never imports Snakemake
(tests/test_architecture.py): the Snakefile hands it the class.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

PATCH_MARK = "_nxgeo_coalesced"


def _looks_like_the_known_method(func) -> bool:
    try:
        src = inspect.getsource(func)
    except (OSError, TypeError):
        return False
    return "threading.Timer" in src and "_open_jobs.release" in src


def coalesce_reevaluation(scheduler_cls: Any) -> str:
    """Replace `scheduler_cls._schedule_reevalutation` (sic, Snakemake's spelling) by one that
    keeps at most one timer pending per scheduler. Idempotent. Returns what was done:
    "patched", "already patched" or "not patched: <why>"."""
    name = "_schedule_reevalutation"
    orig = getattr(scheduler_cls, name, None)
    if orig is None:
        return f"not patched: {scheduler_cls.__name__} has no {name}"
    if getattr(orig, PATCH_MARK, False):
        return "already patched"
    if not _looks_like_the_known_method(orig):
        return f"not patched: {scheduler_cls.__name__}.{name} is not the method this fix knows"

    def _schedule_reevalutation(self, delay) -> None:
        lock = self.__dict__.setdefault("_nxgeo_timer_lock", threading.Lock())
        with lock:
            pending = self.__dict__.get("_nxgeo_timer")
            if pending is not None and pending.is_alive():
                return  # a wake-up is already on its way

            def wake():
                with lock:
                    self.__dict__["_nxgeo_timer"] = None
                self._open_jobs.release()

            timer = threading.Timer(delay, wake)
            timer.daemon = True  # never holds the process open at exit
            self.__dict__["_nxgeo_timer"] = timer
            timer.start()

    setattr(_schedule_reevalutation, PATCH_MARK, True)
    _schedule_reevalutation.__doc__ = (
        "Wake the scheduler after `delay` s, unless a wake-up is already pending "
        "(nxgeo.workflow_fixes)."
    )
    setattr(scheduler_cls, name, _schedule_reevalutation)
    return "patched"
