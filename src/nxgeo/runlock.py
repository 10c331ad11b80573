"""One run at a time per results folder.

Two Snakemake runs writing into one results folder (two single-year runs started side by side,
or two project folders whose configs name the same absolute `results_dir`) would remove each
other's temporary files and could write the shared `results/common/` layers at the same time.
Snakemake's own lock lives in the working directory's `.snakemake/`, so it does not see a run
from another folder. The workflow therefore takes an exclusive lock on
`{results_dir}/logs/.nxgeo-run.lock` when it starts jobs and holds it until it ends; a second run is
refused with a message naming the run that holds it. The lock is an OS file lock (flock): the
kernel releases it when the holding process ends, even when it is killed, so there is never a
stale lock to remove by hand.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from .errors import OutputError

LOCK_NAME = ".nxgeo-run.lock"
_HELD: dict[str, int] = {}


def acquire(results_dir: str | Path, what: str = "") -> Path:
    """Take the run lock of `results_dir` for this process (idempotent); raise OutputError
    naming the holder when another process has it."""
    import fcntl

    root = Path(results_dir)
    (root / "logs").mkdir(parents=True, exist_ok=True)
    path = root / "logs" / LOCK_NAME
    key = str(path.resolve())
    if key in _HELD:
        return path
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(fd)
        os.close(fd)
        raise OutputError(
            f"{root}: another nxgeo run is writing into this results folder ({holder}); wait "
            "until it has finished (or stop it), then run snakemake again. To run two "
            "configurations at the same time, give each its own results_dir."
        ) from None
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "cwd": os.getcwd(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "what": what,
    }
    os.ftruncate(fd, 0)
    os.write(fd, (json.dumps(info, ensure_ascii=False) + "\n").encode("utf-8"))
    os.fsync(fd)
    _HELD[key] = fd  # kept open (and locked) until the process ends
    return path


def _read_holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        info = json.loads(os.read(fd, 4096).decode("utf-8") or "{}")
    except (OSError, ValueError):
        return "a process that did not say who it is"
    parts = [
        f"process {info.get('pid')} on {info.get('host')}",
        f"started {info.get('started')}",
        f"from {info.get('cwd')}",
    ]
    if info.get("what"):
        parts.append(str(info["what"]))
    return ", ".join(parts)


def release(results_dir: str | Path) -> None:
    """Release the lock (the process's end does it as well)."""
    key = str((Path(results_dir) / "logs" / LOCK_NAME).resolve())
    fd = _HELD.pop(key, None)
    if fd is not None:
        os.close(fd)
