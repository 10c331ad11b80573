"""Logging for workflow steps: to the rule's log file, and to the terminal when there is one."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def setup_logging(
    log_path: str | Path | None = None, level: int = logging.INFO, step=None
) -> logging.Logger:
    """Log to the step's log file (and warnings to the terminal). With `step` (the running
    workflow job: rule, params, wildcards), every output it writes is stamped with nxgeo's
    version, the rule, the year and the hash of the rule's parameters (nxgeo.provenance)."""
    if step is not None:
        from .provenance import step_stamp
        from .stamp import set_stamp

        set_stamp(step_stamp(step, step.config["results_dir"]))
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(log_path, mode="w", encoding="utf-8")
        fh.setFormatter(fmt)
        root.addHandler(fh)
    sh = logging.StreamHandler(sys.stderr)
    sh.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    sh.setLevel(logging.WARNING)
    root.addHandler(sh)
    sys.excepthook = _log_exception
    for noisy in ("rasterio", "fiona", "pyogrio", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    global _RESOURCES_HOOKED
    if not _RESOURCES_HOOKED:
        import atexit

        atexit.register(log_resources)
        _RESOURCES_HOOKED = True
    if step is not None:
        require_validated(step)
    return logging.getLogger("nxgeo")


def require_validated(step) -> None:
    """A step whose rule has a `validated` input (the checks of the raw inputs it reads, see
    nxgeo.validate.scope) refuses to run when one of them found an error."""
    gates = getattr(step.input, "validated", None) if hasattr(step, "input") else None
    if not gates:
        return
    from .validate.scope import require_valid

    require_valid(*([gates] if isinstance(gates, str) else list(gates)))


_RESOURCES_HOOKED = False
RESOURCES_PREFIX = "resources used:"


def log_resources() -> str:
    """Log (and return) the process's peak memory and CPU time, as the last line of the step's
    log: ``resources used: peak_rss_mb=… cpu_s=…``. Exact, unlike Snakemake's benchmark files,
    which sample memory every 30 s after a job's first 15 s. The peak is the kernel's high-water
    mark of this process's memory (VmHWM); getrusage's ru_maxrss is not used because on Linux
    it also counts the parent's (Snakemake's) memory at the time of the fork."""
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = me.ru_maxrss / 1024.0  # Linux: kB (fallback where /proc is missing)
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) / 1024.0
                    break
    except OSError:
        pass
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    text = f"{RESOURCES_PREFIX} peak_rss_mb={peak:.1f} cpu_s={cpu:.2f}"
    logging.getLogger("nxgeo").info(text)
    return text


def progress_enabled() -> bool:
    """Progress bars only in a terminal; logs stay quiet."""
    return sys.stderr.isatty()


def _log_exception(exc_type, exc, tb):
    """Uncaught errors go to the step's log too; a user-facing error (NxgeoError) is printed as
    its message alone, without a Python traceback."""
    from .errors import NxgeoError

    log = logging.getLogger("nxgeo")
    if issubclass(exc_type, NxgeoError):
        log.error("%s", exc)
        for h in logging.getLogger().handlers:
            h.flush()
        print(f"\nERROR: {exc}\n", file=sys.stderr)
        return
    log.error("unexpected error", exc_info=(exc_type, exc, tb))
    sys.__excepthook__(exc_type, exc, tb)
