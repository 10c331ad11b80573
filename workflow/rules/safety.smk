# What protects earlier results and concurrent runs (included last by the Snakefile).
#
# 1. A job's previous outputs survive until its new outputs are complete. Snakemake deletes a
#    job's existing outputs before it runs; a failure (a full disk, a bad input, a kill) then
#    left nothing. Every output is therefore flagged update(): Snakemake keeps it in place,
#    backs it up before the job, restores the backup when the job fails and drops it when the
#    job succeeds. The backup is a hard link beside the file (no copy, no disk space, works on
#    a full disk) - safe because every nxgeo writer writes a new file under a temporary name
#    and renames it (nxgeo.atomic), never into the old file. A folder output (maps/) is moved
#    aside instead, so the job starts with an empty folder.
# 2. One run at a time per results folder (nxgeo.runlock), and only temporary files of dead
#    processes are swept at start-up (nxgeo.atomic.sweep_temp).
import shutil as _shutil

from snakemake.io import AnnotatedString as _Annotated
from snakemake.persistence import FileBackupMixin as _Backup

KEEP_DIR = ".nxgeo-keep"


def _keep_path(self, path):
    path = Path(path)
    return path.parent / KEEP_DIR / path.name


def _backup_output(self, path):
    path = Path(path)
    keep = _keep_path(self, path)
    keep.parent.mkdir(parents=True, exist_ok=True)
    if keep.is_dir() and not keep.is_symlink():
        _shutil.rmtree(keep)
    elif keep.exists() or keep.is_symlink():
        keep.unlink()
    if path.is_dir():
        os.replace(path, keep)
        return
    try:
        os.link(path, keep)
    except OSError:  # a file system without hard links: move it aside
        os.replace(path, keep)


def _restore_output(self, path):
    path = Path(path)
    keep = _keep_path(self, path)
    if not (keep.exists() or keep.is_symlink()):
        return False
    if path.is_dir() and not path.is_symlink():
        _shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    os.replace(keep, path)
    _drop_empty(keep.parent)
    return True


def _cleanup_backup(self, path):
    keep = _keep_path(self, Path(path))
    if keep.is_dir() and not keep.is_symlink():
        _shutil.rmtree(keep, ignore_errors=True)
    elif keep.exists() or keep.is_symlink():
        keep.unlink()
    _drop_empty(keep.parent)


def _drop_empty(folder):
    try:
        folder.rmdir()
    except OSError:
        pass


_Backup._get_backup_path = _keep_path
_Backup.backup_output = _backup_output
_Backup.restore_output = _restore_output
_Backup.cleanup_backup = _cleanup_backup

for _r in workflow.rules:
    for _f in _r.output:
        if not isinstance(_f._file, _Annotated):
            _f._file = _Annotated(_f._file)
        _f._file.flags["update"] = True


def restore_kept(root):
    """After a killed run: put back any output that was moved aside and not restored; drop
    hard-link backups of outputs that are in place."""
    found = []
    for keep_dir in Path(root).rglob(KEEP_DIR):
        for keep in list(keep_dir.iterdir()):
            target = keep_dir.parent / keep.name
            if target.exists():
                if keep.is_dir() and not keep.is_symlink():
                    _shutil.rmtree(keep, ignore_errors=True)
                else:
                    keep.unlink()
            else:
                os.replace(keep, target)
                found.append(target)
        _drop_empty(keep_dir)
    return found
