"""The `nxgeo` command line: exit codes and messages a GIS user sees."""

import os
import subprocess
import sys
from pathlib import Path

import inputs_factory as F
import pytest
import rasterio
import yaml

NXGEO = str(Path(sys.executable).parent / "nxgeo")


def run(args, cwd):
    return subprocess.run(
        [NXGEO, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PYTHONWARNINGS="ignore"),
    )


@pytest.fixture
def inputs(tmp_path):
    cfg, base = F.make_valid_inputs(tmp_path / "in")
    path = base / "config.yaml"
    return cfg, base, path


def write(cfg, path):
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_validate_passes_with_exit_0(inputs):
    cfg, base, path = inputs
    write(cfg, path)
    proc = run(["validate", "--config", str(path), "--out-dir", "rep"], cwd=base)
    assert proc.returncode == 0, proc.stderr
    assert "validation passed" in proc.stdout
    assert (base / "rep" / "validation_report.md").exists()
    assert (base / "rep" / "validation_report.json").exists()


@pytest.mark.parametrize(
    "mistake, needle",
    [
        ("missing_dem", "file not found"),
        ("unknown_code", "unknown codes 9999"),
        ("bad_scheme", "inputs.landuse.scheme"),
        ("geographic_grid", "geographic"),
    ],
)
def test_validate_fails_with_exit_1_and_names_the_problem(inputs, mistake, needle):
    cfg, base, path = inputs
    if mistake == "missing_dem":
        (base / cfg["inputs"]["rasters"]["dem"]).unlink()
    elif mistake == "unknown_code":
        lu = base / cfg["inputs"]["landuse"]["files"][2023]
        with rasterio.open(lu, "r+") as ds:
            a = ds.read(1)
            a[0, :5] = 9999
            ds.write(a, 1)
    elif mistake == "bad_scheme":
        cfg["inputs"]["landuse"]["scheme"] = "corine"
    elif mistake == "geographic_grid":
        cfg["grid"]["crs"] = "EPSG:4490"
    write(cfg, path)
    proc = run(["validate", "--config", str(path), "--out-dir", "rep"], cwd=base)
    assert proc.returncode == 1
    assert needle in proc.stdout
    assert "validation FAILED" in proc.stderr


def test_missing_config_file_exit_2(tmp_path):
    proc = run(["validate", "--config", "nope.yaml"], cwd=tmp_path)
    assert proc.returncode == 2
    assert "file not found" in proc.stderr and "nope.yaml" in proc.stderr


def test_sample_command_builds_a_small_region(tmp_path):
    root = Path(__file__).resolve().parents[1]
    proc = run(
        [
            "sample",
            "--config",
            str(root / "config" / "config.yaml"),
            "--out",
            str(tmp_path / "s"),
            "--resolution",
            "4000",
        ],
        cwd=root,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "s" / "landuse_2024.tif").exists()
    assert (tmp_path / "s" / "vector" / "homesteads.gpkg").exists()
