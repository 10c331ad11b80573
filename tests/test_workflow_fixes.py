"""nxgeo.workflow_fixes: at most one scheduler wake-up pending (Snakemake's timer chains)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from nxgeo.workflow_fixes import PATCH_MARK, coalesce_reevaluation


def _fake_scheduler():
    class Scheduler:  # the shape of snakemake's JobScheduler method, as of 9.27.1
        def __init__(self):
            self._open_jobs = threading.Semaphore(0)

        def _schedule_reevalutation(self, delay: int) -> None:
            threading.Timer(
                delay,
                lambda: self._open_jobs.release(),
            ).start()

    return Scheduler


def _releases(sem: threading.Semaphore) -> int:
    n = 0
    while sem.acquire(blocking=False):
        n += 1
    return n


def test_unpatched_chains_add_up():
    """What the fix is for: 20 rounds start 20 timers, i.e. 20 wake-ups."""
    s = _fake_scheduler()()
    for _ in range(20):
        s._schedule_reevalutation(0.05)
    time.sleep(0.4)
    assert _releases(s._open_jobs) == 20


def test_at_most_one_wakeup_pending():
    cls = _fake_scheduler()
    assert coalesce_reevaluation(cls) == "patched"
    s = cls()
    for _ in range(20):
        s._schedule_reevalutation(0.05)
    time.sleep(0.4)
    assert _releases(s._open_jobs) == 1
    # once it has fired, the next round gets its own wake-up again
    s._schedule_reevalutation(0.05)
    time.sleep(0.4)
    assert _releases(s._open_jobs) == 1
    # two schedulers do not share a timer
    a, b = cls(), cls()
    a._schedule_reevalutation(0.05)
    b._schedule_reevalutation(0.05)
    time.sleep(0.4)
    assert _releases(a._open_jobs) == 1 and _releases(b._open_jobs) == 1


def test_the_wakeup_never_holds_the_process_open():
    cls = _fake_scheduler()
    coalesce_reevaluation(cls)
    s = cls()
    s._schedule_reevalutation(30)
    assert s.__dict__["_nxgeo_timer"].daemon
    s.__dict__["_nxgeo_timer"].cancel()


def test_idempotent_and_refuses_an_unknown_method():
    cls = _fake_scheduler()
    assert coalesce_reevaluation(cls) == "patched"
    patched = cls._schedule_reevalutation
    assert coalesce_reevaluation(cls) == "already patched"
    assert cls._schedule_reevalutation is patched

    class Other:
        def _schedule_reevalutation(self, delay):
            self.delay = delay

    orig = Other._schedule_reevalutation
    assert coalesce_reevaluation(Other).startswith("not patched: ")
    assert Other._schedule_reevalutation is orig

    class Without:
        pass

    assert "has no _schedule_reevalutation" in coalesce_reevaluation(Without)


def test_the_installed_snakemake_is_the_one_the_fix_knows():
    """Fails when a Snakemake upgrade changes the method: then look again whether the timer
    chains are still there (docs/scaling.md) and drop or adapt the fix."""
    from snakemake.scheduling.job_scheduler import JobScheduler

    assert coalesce_reevaluation(JobScheduler) in ("patched", "already patched")
    assert getattr(JobScheduler._schedule_reevalutation, PATCH_MARK, False)


# --- the real scheduler on a small workflow ------------------------------------------------

_RUNNER = textwrap.dedent(
    """
    import atexit, json, sys
    from snakemake.scheduling import job_scheduler as js
    n = {"rounds": 0}
    orig = js.JobScheduler.job_selector
    def job_selector(self, jobs):
        n["rounds"] += 1
        return orig(self, jobs)
    js.JobScheduler.job_selector = job_selector
    if sys.argv[1] == "fix":
        from nxgeo.workflow_fixes import coalesce_reevaluation
        assert coalesce_reevaluation(js.JobScheduler) == "patched"
    atexit.register(lambda: print("ROUNDS", json.dumps(n)))
    from snakemake.cli import main
    sys.argv = ["snakemake", "-s", sys.argv[2], "--directory", sys.argv[3], "--cores", "1",
                "--quiet", "all"]
    main()
    """
)

_SNAKEFILE = textwrap.dedent(
    """
    N = 12
    rule all:
        input: expand("out/{i}.txt", i=range(N))
    rule one:
        output: "out/{i}.txt"
        shell: "sleep 0.8; echo {wildcards.i} > {output}"
    """
)


def _rounds(tmp: Path, mode: str) -> tuple[int, float]:
    work = tmp / mode
    work.mkdir()
    (work / "Snakefile").write_text(_SNAKEFILE)
    (tmp / "runner.py").write_text(_RUNNER)
    t0 = time.time()
    proc = subprocess.run(
        [sys.executable, str(tmp / "runner.py"), mode, str(work / "Snakefile"), str(work)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PYTHONWARNINGS="ignore"),
    )
    wall = time.time() - t0
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert sorted(p.name for p in (work / "out").iterdir()) == sorted(f"{i}.txt" for i in range(12))
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("ROUNDS "))
    return json.loads(line.split(" ", 1)[1])["rounds"], wall


def test_the_scheduler_no_longer_spins(tmp_path):
    """Twelve 0.8 s jobs on one core wait their turn for about 10 s. Without the fix the timer
    chains add up (every finished job starts one more: 63 rounds measured); with it the
    scheduler runs about one round per finished job plus one a second (22)."""
    before, _ = _rounds(tmp_path, "plain")
    after, wall = _rounds(tmp_path, "fix")
    assert after <= 2 * 12 + wall + 4, (before, after, wall)
    assert before >= 1.8 * after, (before, after)


_SNAKEFILE_RUNNER = textwrap.dedent(
    """
    import atexit, sys
    from snakemake.scheduling.job_scheduler import JobScheduler
    atexit.register(lambda: print("PATCHED", getattr(
        JobScheduler._schedule_reevalutation, "_nxgeo_coalesced", False)))
    from snakemake.cli import main
    sys.argv = ["snakemake", *sys.argv[1:]]
    main()
    """
)


def test_the_shipped_snakefile_applies_the_fix(tiny_run, tmp_path):
    """The project's Snakefile patches the scheduler of the process that reads it (a dry run of
    the finished tiny run: nothing runs, the Snakefile is parsed)."""
    from conftest import ROOT

    (tmp_path / "runner.py").write_text(_SNAKEFILE_RUNNER)
    cmd = [sys.executable, str(tmp_path / "runner.py"), "-s", str(ROOT / "Snakefile")]
    cmd += ["--directory", str(tiny_run), "--configfile", str(tiny_run / "config.yaml")]
    cmd += ["--cores", "1", "--dry-run"]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, PYTHONWARNINGS="ignore"),
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "PATCHED True" in proc.stdout, proc.stdout[-2000:]
    assert "not patched" not in proc.stdout + proc.stderr
