"""The real DAG on the tiny sample, inside pytest."""

import json
import os
import time

import pytest

from conftest import run_snakemake, tiny_config

pytestmark = pytest.mark.workflow


def test_pipeline_runs_end_to_end(tiny_run):
    for year in (2023, 2024):
        d = tiny_run / "results" / str(year)
        report = json.loads((d / "validation" / "report.json").read_text(encoding="utf-8"))
        assert report["ok"] is True
        assert (d / "validation" / "report.md").stat().st_size > 100
        assert (d / "logs" / "validate_inputs.log").exists()
        assert (d / "benchmarks" / "validate_inputs.tsv").exists()
    assert (tiny_run / "data" / "sample" / "landuse_2024.tif").exists()


def test_nothing_to_do_on_rerun(tiny_run):
    proc = run_snakemake(tiny_run, "--dry-run")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_touching_one_year_reruns_only_that_year(tiny_run):
    lu = tiny_run / "data" / "sample" / "landuse_2024.tif"
    t = time.time() + 5
    os.utime(lu, (t, t))
    proc = run_snakemake(tiny_run, "--dry-run", "--quiet", "rules")
    out = proc.stdout + proc.stderr
    run_snakemake(tiny_run)  # bring the run back up to date for other tests
    assert "validate_inputs" in out
    dry = run_snakemake(tiny_run, "--dry-run")
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_bad_config_value_stops_before_any_job(tmp_path):
    cfg = tiny_config(tmp_path)
    text = cfg.read_text(encoding="utf-8").replace("scheme: gbt21010", "scheme: corine")
    cfg.write_text(text, encoding="utf-8")
    proc = run_snakemake(tmp_path, "--dry-run", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "inputs.landuse.scheme" in out and "'corine'" in out
    assert not (tmp_path / "results").exists()
