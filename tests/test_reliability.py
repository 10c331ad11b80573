"""Reliability of the whole pipeline on the tiny sample: a killed run resumes to the same
bytes as an uninterrupted one, two clean runs give identical files, and one year's run never
touches another year's folder."""

import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SNAKEMAKE, copy_run, run_snakemake

pytestmark = pytest.mark.workflow

# Files that legitimately differ between runs: logs and timings (wall-clock), provenance
# (records the run's start/end time and host) and the report page and its PDF print, which show
# that provenance. Everything else must be byte-identical (maps print the date made, the same
# within a day).
VOLATILE_PARTS = {"logs", "benchmarks"}
VOLATILE_NAMES = {"provenance.json", "index.html", "report.pdf"}


def digests(root: Path, sub: str = "results") -> dict[str, str]:
    out = {}
    base = root / sub
    for p in sorted(base.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(root)
        if VOLATILE_PARTS & set(rel.parts) or p.name in VOLATILE_NAMES:
            continue
        out[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def fresh_copy(src: Path, dst: Path) -> Path:
    """The inputs and config of a run, without its results."""
    dst.mkdir(parents=True)
    for name in ("config.yaml", "survey", "data"):
        s = src / name
        (shutil.copytree if s.is_dir() else shutil.copy2)(s, dst / name)
    return dst


@pytest.mark.slow  # a whole pipeline run, killed and resumed
def test_killed_run_resumes_to_identical_bytes(tiny_run, tmp_path):
    work = fresh_copy(tiny_run, tmp_path / "killed")
    cmd = [
        SNAKEMAKE,
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(work),
        "--configfile",
        str(work / "config.yaml"),
        "--cores",
        "2",
        "--profile",
        str(ROOT / "workflow" / "profiles" / "default"),
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.time() + 300
    try:
        # wait until a heavy step (terrain: flow accumulation, LS) is running, then SIGKILL all
        while time.time() < deadline and proc.poll() is None:
            if list((work / "results").glob("*/logs/terrain_*.log")):
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the pipeline finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert not (work / "results" / "2024" / "tables" / "services_by_county.csv").exists()
    # what the README tells users: unlock, then resume with --rerun-incomplete
    run_snakemake(work, "--unlock")
    run_snakemake(work, "--rerun-incomplete")
    a, b = digests(tiny_run), digests(work)
    assert a.keys() == b.keys()
    differ = [k for k in a if a[k] != b[k]]
    assert not differ, f"{len(differ)} files differ after kill and resume, e.g. {differ[:5]}"
    # no temporary files left behind
    assert not [p for p in (work / "results").rglob("*") if ".tmp" in p.name]


@pytest.mark.slow  # reruns a year's suitability and all after it
def test_other_year_untouched_by_a_rerun_with_changed_parameter(tiny_run, tmp_path):
    work = copy_run(tiny_run, tmp_path / "run")  # the shared run stays as it is
    before_2024 = {k: v for k, v in digests(work).items() if k.startswith("results/2024/")}
    before_2023 = {k: v for k, v in digests(work).items() if k.startswith("results/2023/")}
    cfg = yaml.safe_load((work / "config.yaml").read_text(encoding="utf-8"))
    cfg["years"] = [2023]
    cfg["compare"] = []
    crit = cfg["suitability"]["targets"]["grass"]["criteria"]
    crit[0]["weight"], crit[1]["weight"] = 0.8, 0.2
    changed = tmp_path / "only_2023.yaml"
    changed.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    run_snakemake(work, config=changed)
    after = digests(work)
    after_2024 = {k: v for k, v in after.items() if k.startswith("results/2024/")}
    assert after_2024 == before_2024
    changed_2023 = [k for k, v in before_2023.items() if after.get(k) != v]
    assert any("suit_grass_score" in k for k in changed_2023)
    # only suitability and what is made from it (the year's tables, candidates, programme,
    # maps, report, exports and QGIS project) changed
    downstream = (
        "/suitability/",
        "/tables/",
        "candidates",
        "programme",
        "/maps/",
        "/report/",
        "/export/",
        "/qgis/",
        ".qgz",
    )
    assert all(any(part in k for part in downstream) for k in changed_2023), changed_2023
