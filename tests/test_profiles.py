"""The cluster profile: workflow/profiles/slurm resolves the whole DAG with the SLURM executor
plugin (dry run), and gives every rule threads, memory (scaled by the attempt, so a retry after
an out-of-memory kill asks for more) and a run time."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import yaml
from conftest import ROOT, SNAKEMAKE, tiny_config

PROFILE = ROOT / "workflow" / "profiles" / "slurm"


def _rules() -> set[str]:
    names = set()
    for f in [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]:
        names |= set(re.findall(r"^\s*rule (\w+):", f.read_text(encoding="utf-8"), re.MULTILINE))
    return names - {"all"}


def _eval(expr, attempt: int) -> float:
    return float(eval(str(expr), {"__builtins__": {}}, {"attempt": attempt}))


def test_every_rule_has_threads_memory_and_runtime():
    prof = yaml.safe_load((PROFILE / "config.yaml").read_text(encoding="utf-8"))
    assert prof["executor"] == "slurm"
    assert int(prof.get("retries", 0)) >= 1
    res = prof["set-resources"]
    missing = sorted(_rules() - set(res))
    assert not missing, f"rules without resources in the slurm profile: {missing}"
    unknown = sorted(set(res) - _rules())
    assert not unknown, f"profile names rules the workflow does not have: {unknown}"
    for rule, r in res.items():
        m1, m2 = _eval(r["mem_mb"], 1), _eval(r["mem_mb"], 2)
        assert 200 <= m1 < m2, f"{rule}: mem_mb must grow with the attempt ({m1} -> {m2})"
        assert _eval(r["runtime"], 1) >= 1, rule
    for rule, n in (prof.get("set-threads") or {}).items():
        assert rule in res and int(n) >= 1
    d = prof["default-resources"]
    assert "slurm_account" in d and "slurm_partition" in d
    assert _eval(d["mem_mb"], 2) > _eval(d["mem_mb"], 1)


def test_slurm_profile_dry_run_resolves(tmp_path):
    pytest.importorskip(
        "snakemake_executor_plugin_slurm",
        reason="snakemake-executor-plugin-slurm is not installed (pip install -e '.[cluster]')",
    )
    work = tmp_path / "cluster"
    tiny_config(work)
    cmd = [
        SNAKEMAKE,
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(work),
        "--configfile",
        str(work / "config.yaml"),
        "--profile",
        str(PROFILE),
        "--dry-run",
    ]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=dict(os.environ, PYTHONWARNINGS="ignore"),
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert "This was a dry-run" in out
    for rule in ("prepare_raster", "terrain", "suitability", "candidates", "report"):
        assert re.search(rf"\b{rule}\b", out), rule
    # the profile's groups: one job per reach, one for the validation scopes
    assert "Group job reach" in out and "Group job validation" in out
    prof = yaml.safe_load((PROFILE / "config.yaml").read_text(encoding="utf-8"))
    mem = int(_eval(prof["set-resources"]["terrain"]["mem_mb"], 1))
    assert re.search(rf"mem_mb={mem}\b", out), (
        "the terrain jobs do not ask for the profile's memory"
    )
