"""Shared fixtures: the project root, and a tiny-sample config for workflow tests."""

from __future__ import annotations

import copy
import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]

# Property tests draw the same examples on every run (make test here equals make test in CI);
# HYPOTHESIS_PROFILE=explore draws new ones each run, to look for new counter-examples.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")

# The tiny sample: the whole region at 2 km, few parcels - the real DAG (~150 jobs) in ~5 min
# on 2 cores (291 s on 2026-12-02).
TINY = {"resolution": 2000, "n_homesteads": 300, "n_mines": 60}


@pytest.fixture(autouse=True)
def _project_cwd(monkeypatch):
    """Tests run from the project root, as users do (relative config paths)."""
    monkeypatch.chdir(ROOT)


def tiny_config(workdir: Path, survey_landuse: bool = False, **overrides) -> Path:
    """Write a config for a run in `workdir` on the tiny sample; returns its path.

    With `survey_landuse`, land use is read from survey/landuse_<year>.tif (copies of the
    sample's), as a user's own files: not outputs of the sample rule."""
    with open(ROOT / "config" / "config.yaml", encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    cfg = copy.deepcopy(cfg)
    cfg["grid"]["resolution"] = TINY["resolution"]
    cfg["sample"].update(TINY)
    cfg["sample"]["reference_dir"] = str(ROOT / "data" / "reference" / "ningxia")
    cfg["landuse"]["classes_table"] = str(ROOT / "config" / "landuse" / "classes.csv")
    for k, p in cfg["inputs"]["tables"].items():
        if p.startswith("config/"):
            cfg["inputs"]["tables"][k] = str(ROOT / p)
    if survey_landuse:
        cfg["inputs"]["landuse"]["files"] = {y: f"survey/landuse_{y}.tif" for y in cfg["years"]}
    for k, v in overrides.items():
        cfg[k] = v
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# A guard against a hung run, not a speed target (make bench measures speed): the tiny run takes
# ~5 min alone on 2 cores here, 8-13 min beside make test's other worker, and over 15 min on
# CI's machine beside another pipeline run (2026-12-02: the 900 s guard then failed CI).
RUN_TIMEOUT_S = 2400


def run_snakemake(
    workdir: Path,
    *args: str,
    check: bool = True,
    timeout: int = RUN_TIMEOUT_S,
    config: Path | None = None,
):
    cmd = [
        SNAKEMAKE,
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(config or workdir / "config.yaml"),
        "--cores",
        "2",
        "--profile",
        str(ROOT / "workflow" / "profiles" / "default"),
        *args,
    ]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
        )
    return proc


def pytest_collection_modifyitems(config, items):
    """Order for two workers: one file of tiny-run tests first (its worker builds the run), then
    the files that do not need it (the other worker meanwhile), then the other tiny-run files.
    With `--no-loadscope-reorder` (make test) pytest-xdist hands out whole files in this order."""
    tiny = {it.path for it in items if "tiny_run" in getattr(it, "fixturenames", ())}
    first = min(tiny, key=lambda p: (p.name != "test_workflow.py", p.name), default=None)
    items.sort(key=lambda it: 0 if it.path == first else (2 if it.path in tiny else 1))


def _build_tiny_run(workdir: Path) -> None:
    tiny_config(workdir, survey_landuse=True)
    run_snakemake(workdir, "sample")
    (workdir / "survey").mkdir()
    for f in (workdir / "data" / "sample").glob("landuse_*.tif"):
        shutil.copy2(f, workdir / "survey" / f.name)
    run_snakemake(workdir)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One full pipeline run on the tiny sample, shared by the workflow tests.

    Shared means read-only: a test that edits an input or reruns the pipeline works on
    `copy_run(tiny_run, tmp_path / "run")`. Under pytest-xdist (`make test` runs two workers)
    the workers share one run: the first to ask builds it, the others wait for it."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        workdir = tmp_path_factory.mktemp("tiny_run")
        _build_tiny_run(workdir)
        return workdir
    shared = tmp_path_factory.getbasetemp().parent  # the session's folder, above each worker's
    workdir, done, failed = (shared / n for n in ("tiny_run", "tiny_run.done", "tiny_run.failed"))
    with open(shared / "tiny_run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if failed.exists():  # built once and failed: the same failure, not a second build
                raise AssertionError(failed.read_text(encoding="utf-8"))
            if not done.exists():
                try:
                    _build_tiny_run(workdir)
                except BaseException as exc:
                    failed.write_text(str(exc)[-10000:], encoding="utf-8")
                    raise
                done.write_text("built\n", encoding="utf-8")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return workdir


def copy_run(src: Path, dst: Path) -> Path:
    """A finished run with its Snakemake metadata, times preserved (what a user has)."""
    shutil.copytree(src, dst, symlinks=True, copy_function=shutil.copy2)
    return dst


def has(tool: str) -> bool:
    return shutil.which(tool) is not None
