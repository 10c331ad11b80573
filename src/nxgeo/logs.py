"""Logging for workflow steps: to the rule's log file, and to the terminal when there is one."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def setup_logging(log_path: str | Path | None = None, level: int = logging.INFO) -> logging.Logger:
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
    return logging.getLogger("nxgeo")


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
