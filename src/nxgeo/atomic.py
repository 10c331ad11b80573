"""Atomic output: write to a temporary name in the same folder, rename on success.

A reader (or a resumed Snakemake run) never sees half a file: either the old file, or the new
complete one. On any exception the temporary file is removed. Every temporary name starts with
`TEMP_PREFIX`, so what a killed run (SIGKILL: no clean-up possible) left behind is found and
removed by `sweep_temp` when the workflow starts again.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

TEMP_PREFIX = ".nxgeo-tmp-"


@contextlib.contextmanager
def atomic_path(final: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `final`; rename it onto `final` when the block succeeds."""
    final = Path(final)
    suffix = final.suffix if suffix is None else suffix
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{final.stem}.", suffix=suffix,
                                   dir=final.parent)
    except OSError as exc:
        err = _disk_error(exc, final)
        if err is exc:
            raise
        raise err from exc
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()  # let the writer create it (GDAL drivers refuse some existing files)
    try:
        try:
            yield tmp_path
            if not tmp_path.exists():
                raise RuntimeError(f"writer produced no file for {final}")
            from .provenance import stamp_new_file

            stamp_new_file(tmp_path)
            os.replace(tmp_path, final)
        except OSError as exc:
            err = _disk_error(exc, final)
            if err is exc:
                raise
            raise err from exc
    finally:
        for leftover in (tmp_path, Path(str(tmp_path) + ".aux.xml")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _disk_error(exc: OSError, final: Path) -> Exception:
    """A message a user can act on for the common disk problems; other errors unchanged."""
    import errno

    from .errors import OutputError

    folder = final.parent
    text = str(exc)
    if exc.errno == errno.ENOSPC or "No space left" in text:
        return OutputError(f"{final}: no space left on the disk holding {folder}; free some space "
                           "(or set results_dir to a larger disk) and run snakemake again: nothing "
                           "was written, earlier results are intact")
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM) or "Read-only file system" in text \
            or "Permission denied" in text:
        return OutputError(f"{final}: cannot write in {folder} ({exc.strerror}); the results folder "
                           "is read-only or belongs to another user: make it writable (or set "
                           "results_dir to a writable folder) and run snakemake again")
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


def write_csv(df, path: str | Path, bom: bool = True) -> Path:
    """CSV in UTF-8 with BOM (so Excel opens Chinese text), LF line ends, no index."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, encoding="utf-8-sig" if bom else "utf-8", lineterminator="\n")
    return Path(path)


def write_json(obj, path: str | Path) -> Path:
    import json

    return write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


@contextlib.contextmanager
def temp_dir_beside(path: str | Path) -> Iterator[Path]:
    """A temporary folder next to `path` (same file system), removed afterwards."""
    parent = Path(path).parent
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{Path(path).stem}.", dir=parent) as td:
        yield Path(td)


def sweep_temp(root: str | Path) -> list[Path]:
    """Remove temporary files and folders a killed run left under `root`; returns them."""
    import shutil

    root = Path(root)
    if not root.exists():
        return []
    found = sorted(root.rglob(f"{TEMP_PREFIX}*"), key=lambda p: len(p.parts), reverse=True)
    removed = []
    for p in found:
        if not p.exists() and not p.is_symlink():
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        removed.append(p)
    return removed
