"""Atomic output: write to a temporary name in the same folder, rename on success.

A reader (or a resumed Snakemake run) never sees half a file: either the old file, or the new
complete one. On any exception the temporary file is removed. Every temporary name starts with
`TEMP_PREFIX` followed by the host and process id that owns it, so what a killed run (SIGKILL:
no clean-up possible) left behind is found and removed by `sweep_temp` when the workflow starts
again, while the temporary files of a process still running are left alone.

Any error while writing is checked for a full disk (the error of the C library underneath —
GDAL, SQLite — rarely says ENOSPC itself: a truncated GeoTIFF fails as a rasterio error), and
becomes the documented "no space left" message.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

TEMP_PREFIX = ".nxgeo-tmp-"
# below this many free bytes a failed write is taken for a full disk
FULL_DISK_BYTES = 16 * 1024 * 1024


def _owner_tag() -> str:
    """``<host>-<pid>-``: who owns a temporary file (host without dashes or dots)."""
    import socket

    host = "".join(c for c in socket.gethostname() if c.isalnum())[:24] or "host"
    return f"{host}-{os.getpid()}-"


@contextlib.contextmanager
def atomic_path(final: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `final`; rename it onto `final` when the block succeeds."""
    final = Path(final)
    suffix = final.suffix if suffix is None else suffix
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f"{TEMP_PREFIX}{_owner_tag()}{final.stem}.", suffix=suffix, dir=final.parent
        )
    except OSError as exc:
        _raise_for_disk(exc, final)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()  # let the writer create it (GDAL drivers refuse some existing files)
    try:
        try:
            yield tmp_path
            if not tmp_path.exists():
                raise RuntimeError(f"writer produced no file for {final}")
            from .stamp import stamp_new_file

            stamp_new_file(tmp_path)
            os.replace(tmp_path, final)
        except Exception as exc:
            _raise_for_disk(exc, final)
    finally:
        for leftover in (tmp_path, Path(str(tmp_path) + ".aux.xml")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _disk_full(exc: BaseException, folder: Path) -> bool:
    """Whether a write error comes from a full disk: ENOSPC anywhere in the exception chain,
    the words GDAL/SQLite use for it, or (a truncated file failing later as a read or format
    error) a disk with almost no free space left right now."""
    import errno
    import shutil

    seen = 0
    e: BaseException | None = exc
    while e is not None and seen < 10:
        if getattr(e, "errno", None) == errno.ENOSPC:
            return True
        text = str(e).lower()
        if any(
            w in text
            for w in ("no space left", "database or disk is full", "free disk space", "short write")
        ):
            return True
        e = e.__cause__ or e.__context__
        seen += 1
    try:
        return shutil.disk_usage(folder).free < FULL_DISK_BYTES
    except OSError:
        return False


def _raise_for_disk(exc: Exception, final: Path) -> NoReturn:
    """Re-raise `exc` as the user's message when it comes from a full or read-only disk
    (`_disk_error`), else unchanged."""
    err = _disk_error(exc, final)
    if err is exc:
        raise exc
    raise err from exc


def _disk_error(exc: BaseException, final: Path) -> BaseException:
    """A message a user can act on for the common disk problems; other errors unchanged."""
    import errno

    from .errors import NxgeoError, OutputError

    folder = final.parent
    text = str(exc)
    if isinstance(exc, NxgeoError):
        return exc  # already a message for the user (or an inner atomic write translated it)
    if _disk_full(exc, folder):
        return OutputError(
            f"{final}: no space left on the disk holding {folder}; free some space "
            "(or set results_dir to a larger disk) and run snakemake again: nothing "
            "was written, earlier results are intact"
        )
    if (
        getattr(exc, "errno", None) in (errno.EROFS, errno.EACCES, errno.EPERM)
        or "Read-only file system" in text
        or "Permission denied" in text
    ):
        why = exc.strerror if isinstance(exc, OSError) else text  # GDAL errors have no strerror
        return OutputError(
            f"{final}: cannot write in {folder} ({why}); the results folder "
            "is read-only or belongs to another user: make it writable (or set "
            "results_dir to a writable folder) and run snakemake again"
        )
    return exc


def copy_atomic(src: str | Path, dst: str | Path) -> Path:
    """Copy the bytes of `src` to `dst` through a temporary name (a copied output keeps the
    provenance stamp of the step that wrote `src`)."""
    import shutil

    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)
    return Path(dst)


def write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


# A text cell that starts with one of these is a formula to Excel / LibreOffice (CSV
# injection: "=HYPERLINK(...)" in a parcel name). OWASP's advice: prefix such cells with a
# single quote, which the spreadsheet shows as text. Numbers (a negative value) are left alone.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = None


def escape_formula(value):
    """The value, with a leading ' when a spreadsheet would take it for a formula (and a bare
    carriage return turned into a line feed, so the CSV writer quotes the cell instead of
    letting it end the row)."""
    import re

    global _NUMBER
    if _NUMBER is None:
        _NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
    if not isinstance(value, str):
        return value
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        if value.startswith("\n"):
            return "'" + value
    if value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_safe(df):
    """A copy of `df` whose text cells (and column names) cannot run as spreadsheet formulas."""
    from pandas.api.types import is_object_dtype, is_string_dtype

    out = df.copy()
    for col in out.columns:
        if is_object_dtype(out[col]) or is_string_dtype(out[col]):
            out[col] = out[col].map(escape_formula)
    out.columns = [escape_formula(c) for c in out.columns]
    return out


def write_csv(df, path: str | Path, bom: bool = True) -> Path:
    """CSV in UTF-8 with BOM (so Excel opens Chinese text), LF line ends, no index; text cells
    that a spreadsheet would evaluate as formulas are escaped (`escape_formula`)."""
    with atomic_path(path) as tmp:
        csv_safe(df).to_csv(
            tmp, index=False, encoding="utf-8-sig" if bom else "utf-8", lineterminator="\n"
        )
    return Path(path)


def write_json(obj, path: str | Path) -> Path:
    import json

    return write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


@contextlib.contextmanager
def temp_dir_beside(path: str | Path) -> Iterator[Path]:
    """A temporary folder next to `path` (same file system), removed afterwards.

    A multi-file output (a folder of shapefiles, a GDB, the strips of a raster) is written in
    here and renamed into place; an error inside the block is checked for a full or read-only
    disk exactly as `atomic_path` does (a shapefile writer says "No space left on device" inside
    a pyogrio FeatureError), so every writer gives the same message a user can act on."""
    parent = Path(path).parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(
            prefix=f"{TEMP_PREFIX}{_owner_tag()}{Path(path).stem}.", dir=parent
        ) as td:
            yield Path(td)
    except Exception as exc:
        _raise_for_disk(exc, Path(path))


def _owner_alive(name: str) -> bool | None:
    """Whether the process named in a temporary file's name (host-pid-) is still running on
    this host. Files of another host, or in the old format without owner, count as dead only
    when they are older than a day (a job on another node may still be writing them)."""
    import socket

    rest = name[len(TEMP_PREFIX) :]
    parts = rest.split("-", 2)
    host = "".join(c for c in socket.gethostname() if c.isalnum())[:24] or "host"
    if len(parts) == 3 and parts[1].isdigit():
        if parts[0] != host:
            return None  # unknown: decided by age
        try:
            os.kill(int(parts[1]), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return None


def sweep_temp(root: str | Path, max_age_s: float = 86400.0) -> list[Path]:
    """Remove temporary files and folders that interrupted runs left under `root`; returns
    them. A temporary file whose owner process is still alive is kept (another run may be
    writing it); one of another host or without owner is removed only after `max_age_s`."""
    import shutil
    import time

    root = Path(root)
    if not root.exists():
        return []
    found = sorted(root.rglob(f"{TEMP_PREFIX}*"), key=lambda p: len(p.parts), reverse=True)
    removed = []
    now = time.time()
    for p in found:
        if not p.exists() and not p.is_symlink():
            continue
        alive = _owner_alive(p.name)
        if alive is True:
            continue
        if alive is None:
            try:
                if now - p.lstat().st_mtime < max_age_s:
                    continue
            except FileNotFoundError:
                continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        removed.append(p)
    return removed
