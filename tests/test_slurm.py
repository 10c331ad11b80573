"""The tiny-sample pipeline through a real SLURM (`workflow/profiles/slurm` with
snakemake-executor-plugin-slurm): every job is submitted with sbatch to a single-node cluster on
localhost (scripts/slurm_local.sh: munged + slurmctld + slurmd) and the outputs equal a local
run's byte for byte. Left out: logs and benchmarks (wall-clock times). Compared with the run's
times masked: provenance.json (its started/finished/duration_s), the report page (it shows that
started/finished) and its PDF print (the text of every page: the timestamps' glyphs change the
PDF's bytes throughout, font subsets and offsets).

Marked `slurm`: `pytest -m slurm` (run by .ci/run after starting the cluster). Skips, with the
reason, when SLURM's tools are absent or no cluster can be reached or started.

The local run it compares with is made here, or, with NXGEO_SLURM_LOCAL_RUN naming a finished
tiny run (the `tiny_run` fixture's folder: same config, sample and survey files), taken from
there: .ci/run passes the one `make test` built, so CI does not build the same run twice."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from conftest import ROOT, SNAKEMAKE, run_snakemake, tiny_config

pytestmark = pytest.mark.slurm

SCRIPT = ROOT / "scripts" / "slurm_local.sh"
EXCLUDED_PARTS = {"logs", "benchmarks", ".snakemake", ".backups"}


def _sinfo_ok(env) -> bool:
    try:
        out = subprocess.run(
            ["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=20, env=env
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and any(
        s.strip() in ("idle", "mixed", "allocated") for s in out.stdout.split()
    )


@pytest.fixture(scope="module")
def slurm_env(tmp_path_factory):
    """Environment whose SLURM_CONF reaches a running cluster: the one CI started (SLURM_CONF
    set), else one started here with scripts/slurm_local.sh (stopped afterwards)."""
    missing = [
        t
        for t in ("sbatch", "squeue", "sinfo", "slurmctld", "slurmd", "munged")
        if shutil.which(t) is None
    ]
    if missing:
        pytest.skip(
            f"SLURM not installed (missing {', '.join(missing)}; apt-get install slurm-wlm munge)"
        )
    env = dict(os.environ)
    if env.get("SLURM_CONF") and _sinfo_ok(env):
        yield env
        return
    if os.geteuid() != 0:
        pytest.skip("no SLURM cluster reachable (SLURM_CONF unset) and not root to start one")
    d = tmp_path_factory.mktemp("slurm")
    proc = subprocess.run(
        ["bash", str(SCRIPT), "start", str(d)], capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0:
        pytest.skip(f"could not start a local SLURM: {proc.stderr.strip()[-500:]}")
    env["SLURM_CONF"] = str(d / "slurm.conf")
    try:
        yield env
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", str(d)], capture_output=True, timeout=60)


# the run's own times, shown in the report page's provenance table and its PDF print
_RUN_TIMES_HTML = re.compile(r"<tr><td>(started|finished)</td><td>[^<]*</td></tr>")
_RUN_TIMES_TEXT = re.compile(r"^(started|\ufb01nished|finished) \S+$", re.MULTILINE)


def _digest(p: Path) -> str:
    """sha256 of a result file; of the file with the run's times masked for the three files that
    record them (provenance.json, the report page, its PDF print)."""
    if p.name == "provenance.json":
        data = json.loads(p.read_text(encoding="utf-8"))
        for k in ("started", "finished", "duration_s"):
            assert k in data, f"{p}: no {k!r} (the masking is out of date)"
            data[k] = "<run time>"
        body = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    elif p.name == "index.html" and p.parent.name == "report":
        text, n = _RUN_TIMES_HTML.subn(
            r"<tr><td>\1</td><td>(run time)</td></tr>", p.read_text("utf-8")
        )
        assert n == 2, f"{p}: {n} started/finished rows (the masking is out of date)"
        body = text.encode()
    elif p.suffix == ".pdf" and p.parent.name == "report":
        import pypdf  # a test dependency (pyproject [test])

        pages = [pg.extract_text() or "" for pg in pypdf.PdfReader(p).pages]
        text, n = _RUN_TIMES_TEXT.subn(r"\1 (run time)", "\f".join(pages))
        assert n == 2, f"{p}: {n} started/finished lines (the masking is out of date)"
        body = f"{len(pages)} pages\f{text}".encode()
    else:
        body = p.read_bytes()
    return hashlib.sha256(body).hexdigest()


def _outputs(workdir: Path) -> dict[str, str]:
    """Digest of every result file (_digest), logs and benchmarks left out."""
    res = {}
    for p in sorted((workdir / "results").rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(workdir)
        if EXCLUDED_PARTS & set(rel.parts):
            continue
        res[str(rel)] = _digest(p)
    return res


def _prepare(workdir: Path) -> None:
    tiny_config(workdir, survey_landuse=True)
    run_snakemake(workdir, "sample", timeout=3600)
    (workdir / "survey").mkdir()
    for f in (workdir / "data" / "sample").glob("landuse_*.tif"):
        shutil.copy2(f, workdir / "survey" / f.name)


@pytest.fixture
def own_dir():
    """A folder outside pytest's numbered temp folders (concurrent pytest sessions of the same
    user rotate those away, which removed a run directory under the running jobs once)."""
    d = Path(tempfile.mkdtemp(prefix="nxgeo-slurm-test-"))
    yield d
    if not os.environ.get("NXGEO_KEEP_SLURM_RUN"):  # keep both runs for inspection
        shutil.rmtree(d, ignore_errors=True)


def _given_local_run() -> Path | None:
    """The finished local tiny run named by NXGEO_SLURM_LOCAL_RUN, checked; None if unset."""
    given = os.environ.get("NXGEO_SLURM_LOCAL_RUN")
    if not given:
        return None
    local = Path(given)
    missing = [n for n in ("config.yaml", "data", "survey", "results") if not (local / n).exists()]
    assert not missing, f"NXGEO_SLURM_LOCAL_RUN={given}: not a finished tiny run (no {missing})"
    proc = run_snakemake(local, "--dry-run")  # finished: nothing left to do
    assert "Nothing to be done" in proc.stdout + proc.stderr, (
        f"NXGEO_SLURM_LOCAL_RUN={given}: the run is not complete:\n{proc.stdout[-2000:]}"
    )
    return local


def _copy_inputs(local: Path, wd: Path) -> None:
    """The local run's config, sample and survey files (and the sample rule's metadata) into
    `wd`, the run folder's own path written into the config; no results."""
    wd.mkdir(parents=True)
    for name in ("data", "survey"):
        shutil.copytree(local / name, wd / name, symlinks=True)
    if (local / ".snakemake" / "metadata").is_dir():
        shutil.copytree(local / ".snakemake" / "metadata", wd / ".snakemake" / "metadata")
    (wd / "config.yaml").write_text(
        (local / "config.yaml").read_text(encoding="utf-8").replace(str(local), str(wd)),
        encoding="utf-8",
    )


def test_tiny_pipeline_on_slurm_equals_local(slurm_env, own_dir):
    wd = own_dir / "slurm_run"
    local = _given_local_run()
    wall_local = None
    if local is None:
        local = own_dir / "local_run"
        _prepare(local)
        _copy_inputs(local, wd)  # the same sample and config for both runs
        t0 = time.monotonic()
        run_snakemake(local, timeout=3600)
        wall_local = time.monotonic() - t0
    else:
        _copy_inputs(local, wd)
    cmd = [
        SNAKEMAKE,
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(wd),
        "--configfile",
        str(wd / "config.yaml"),
        "--profile",
        str(ROOT / "workflow" / "profiles" / "slurm"),
        "--default-resources",
        "slurm_account=nxgeo",
        "slurm_partition=debug",
        "--slurm-status-command",
        "squeue",
        "--jobs",
        "8",
        # a group job (the profile's `groups`) asks for at most the node's 2 CPUs
        "--cores",
        "2",
        "--latency-wait",
        "5",
        "--seconds-between-status-checks",
        "2",
        # the plugin waits this long after a check that saw a job finish (default 40 s, adding
        # 10 s after each check that saw none): 40 s between the waves of tiny jobs here
        "--slurm-init-seconds-before-status-checks",
        "2",
    ]
    t0 = time.monotonic()
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=3600,
        env=dict(slurm_env, PYTHONWARNINGS="ignore"),
    )
    wall = time.monotonic() - t0
    assert proc.returncode == 0, f"{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    submitted = proc.stderr.count("has been submitted with SLURM jobid")
    local_said = (
        f"the same run locally (--cores 2): {wall_local:.0f} s"
        if wall_local is not None
        else f"compared with the local run in {local}"
    )
    print(
        f"\nSLURM run of the tiny sample: {wall:.0f} s wall, {submitted} jobs submitted "
        f"with sbatch; {local_said}"
    )
    assert submitted > 20, proc.stderr[-3000:]  # the jobs really went through sbatch
    ours, theirs = _outputs(wd), _outputs(local)
    assert sorted(ours) == sorted(theirs)
    differ = [k for k in ours if ours[k] != theirs[k]]
    assert not differ, (
        f"{len(differ)} of {len(ours)} outputs differ from the local run: {differ[:20]}"
    )
