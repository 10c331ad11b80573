"""Config is data, every config mistake is caught at start-up, outputs cannot run code
(issue #21): unit tests, plus the real `snakemake` where the start-up hook is what matters."""

from __future__ import annotations

import copy
import csv
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT, SNAKEMAKE

from nxgeo.config import check_config, load_yaml
from nxgeo.errors import ConfigError
from nxgeo.yamlsafe import ConfigSyntaxError, loads_strict


@pytest.fixture(scope="module")
def shipped():
    return load_yaml(ROOT / "config" / "config.yaml")


def problems(cfg) -> str:
    with pytest.raises(ConfigError) as e:
        check_config(cfg)
    return "\n".join(e.value.problems)


# --- YAML: data only -------------------------------------------------------------------------


def test_templating_is_refused():
    text = "__use_yte__: true\nyears: [2024]\n?if True:\n  x: ?1 + 1\n"
    with pytest.raises(ConfigSyntaxError, match="__use_yte__.*Python code.*refuses"):
        loads_strict(text, "my.yaml")


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system ['id']", "!!str 5", "!Ref x"])
def test_yaml_tags_are_refused(tag):
    with pytest.raises(ConfigSyntaxError, match="YAML tags are not allowed.*line 2"):
        loads_strict(f"years: [2024]\nresults_dir: {tag}\n", "my.yaml")


def test_duplicate_keys_are_refused_with_both_lines():
    text = "grid:\n  resolution: 30\n  crs: EPSG:4507\n  resolution: 250\n"
    with pytest.raises(ConfigSyntaxError) as e:
        loads_strict(text, "my.yaml")
    msg = str(e.value)
    assert "my.yaml: line 4" in msg and "'resolution' appears twice" in msg and "line 2" in msg


def test_yaml_error_names_file_line_and_column():
    text = "years:\n  - 2023\n - 2024\n"  # a mis-indented year line
    with pytest.raises(ConfigSyntaxError, match=r"my.yaml: not valid YAML at line 3, column 2"):
        loads_strict(text, "my.yaml")


def test_plain_config_reads_as_before(shipped):
    text = (ROOT / "config" / "config.yaml").read_text(encoding="utf-8")
    assert loads_strict(text) == yaml.safe_load(text)


def test_snakemake_never_evaluates_a_templated_config(tmp_path):
    """Through the real snakemake: the start-up hook (installed by `make env`) refuses the file
    before Snakemake's templating could run the code in it."""
    from nxgeo.yamlguard import installed

    assert installed(), "the config guard is not installed in this environment: run `make env`"
    marker = tmp_path / "PWNED"
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "__use_yte__: true\n?if True:\n  x: ?__import__('pathlib').Path("
        f"{str(marker)!r}).write_text('x')\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--configfile", str(bad), "-n", "--cores", "1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert not marker.exists(), "the config's Python code was run"
    assert "__use_yte__" in proc.stdout + proc.stderr


def test_nxgeo_validate_refuses_templating_too(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("__use_yte__: true\nyears: [2024]\n", encoding="utf-8")
    nxgeo = str(Path(SNAKEMAKE).parent / "nxgeo")
    proc = subprocess.run(
        [nxgeo, "validate", "--config", str(bad)], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode != 0
    assert "__use_yte__" in proc.stdout + proc.stderr


# --- config mistakes at start-up ---------------------------------------------------------


def test_misspelt_top_level_key_names_the_nearest(shipped):
    cfg = copy.deepcopy(shipped)
    cfg["comapre"] = cfg.pop("compare")
    msg = problems(cfg)
    assert "unknown key(s) 'comapre' (did you mean 'compare'?)" in msg


def test_misspelt_nested_key_names_the_nearest(shipped):
    cfg = copy.deepcopy(shipped)
    cfg["grid"]["resolutoin"] = cfg["grid"].pop("resolution")
    msg = problems(cfg)
    assert "'resolutoin' (did you mean 'resolution'?)" in msg


@pytest.mark.parametrize("section", ["water", "pathways", "services", "suitability", "ledgers"])
def test_missing_section(shipped, section):
    cfg = copy.deepcopy(shipped)
    del cfg[section]
    assert f"'{section}' is a required property" in problems(cfg)


def test_compare_a_year_with_itself(shipped):
    cfg = copy.deepcopy(shipped)
    cfg["compare"] = [[2024, 2024]]
    assert "compares 2024 with itself" in problems(cfg)


def test_compare_later_year_first(shipped):
    cfg = copy.deepcopy(shipped)
    cfg["compare"] = [[2024, 2023]]
    assert "lists the later year first" in problems(cfg)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_numbers(shipped, value):
    cfg = copy.deepcopy(shipped)
    cfg["water"]["secured_canal_buffer_m"] = value
    assert "water.secured_canal_buffer_m" in problems(cfg)
    assert "not a finite number" in problems(cfg)


def test_1e400_in_yaml_is_not_finite(shipped):
    text = (ROOT / "config" / "config.yaml").read_text(encoding="utf-8")
    # YAML 1.1 reads 1.0e+400 as a float that overflows to inf (plain 1e400 is a string,
    # which the schema refuses where a number is expected)
    cfg = loads_strict(
        text.replace("results_dir: results", "results_dir: results\nx_inf: 1.0e+400")
    )
    assert cfg["x_inf"] == float("inf")
    msg = problems(cfg)
    assert "x_inf: inf is not a finite number" in msg


# --- output CSVs cannot run formulas -----------------------------------------------------------


def _is_formula(cell: str) -> bool:
    import re

    return cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(
        r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", cell
    )


def test_csv_cells_that_look_like_formulas_are_escaped(tmp_path):
    from nxgeo.atomic import write_csv

    df = pd.DataFrame(
        {
            "name": [
                '=HYPERLINK("http://x","y")',
                "+cmd|' /C calc'!A0",
                "-2+3",
                "@SUM(A1)",
                "\tTAB",
                "\rCR",
                "正常名称",
            ],
            "value": [-5.5, 1.0, -2.0, 3, 4, 5, 6],
            "code": ["-12", "+3", "1e5", "-", "a", "b", "c"],
        }
    )
    out = write_csv(df, tmp_path / "t.csv")
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    cells = [c for r in rows for c in r]
    assert not [c for c in cells if _is_formula(c)], cells
    assert rows[1][0] == '\'=HYPERLINK("http://x","y")'
    assert rows[1][1] == "-5.5" and rows[1][2] == "-12"  # numbers stay numbers
    assert rows[7][0] == "正常名称"


# --- writing: disk errors and temporary files --------------------------------------------


def test_truncated_geotiff_on_a_full_disk_gives_the_message(tmp_path):
    """A real full disk (tmpfs of 1 MB): GDAL fails while writing; the message is ours."""
    import numpy as np
    import rasterio

    from nxgeo.atomic import atomic_path
    from nxgeo.errors import OutputError

    mnt = tmp_path / "disk"
    mnt.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1M", "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip()})")
    try:
        final = mnt / "big.tif"
        final.write_bytes(b"earlier result")
        arr = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
        with pytest.raises(OutputError, match="no space left on the disk") as e:
            with atomic_path(final) as tmp:
                with rasterio.open(
                    tmp, "w", driver="GTiff", width=1024, height=1024, count=1, dtype="float32"
                ) as ds:
                    ds.write(arr, 1)
        assert "big.tif" in str(e.value) and "earlier results are intact" in str(e.value)
        assert final.read_bytes() == b"earlier result"
        assert [p.name for p in mnt.iterdir()] == ["big.tif"]
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_a_folder_output_on_a_full_disk_gives_the_message(tmp_path):
    """CI 2026-12-02: the export's shapefile writer filled a real disk inside
    `temp_dir_beside` and the user saw "unexpected error" with a pyogrio FeatureError. A
    multi-file output now gets the same message as a single file, the folder written before
    stays, and no temporary folder is left behind."""
    import geopandas as gpd
    from shapely.geometry import box

    from nxgeo.atomic import temp_dir_beside
    from nxgeo.errors import InputError, OutputError

    mnt = tmp_path / "disk"
    mnt.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip()})")
    try:
        final = mnt / "export"
        final.mkdir()
        (final / "earlier.csv").write_text("earlier result")
        g = gpd.GeoDataFrame(
            {"name": ["沙化土地治理" * 20] * 4000},
            geometry=[box(i, 0, i + 1, 1) for i in range(4000)],
            crs="EPSG:4547",
        )
        with pytest.raises(OutputError, match="no space left on the disk") as e:
            with temp_dir_beside(final) as td:
                g.to_file(td / "parcels.shp", engine="pyogrio", encoding="utf-8")
        assert "earlier results are intact" in str(e.value)
        assert (final / "earlier.csv").read_text() == "earlier result"
        assert sorted(p.name for p in mnt.iterdir()) == ["export"]
        # a message already meant for the user passes through unchanged, even on a full disk
        with pytest.raises(InputError, match="^bad table$"):
            with temp_dir_beside(final):
                raise InputError("bad table")
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_disk_full_seen_through_a_library_error(tmp_path, monkeypatch):
    from nxgeo import atomic
    from nxgeo.errors import OutputError

    class RasterioIOError(Exception):
        pass

    def boom(src, dst):
        raise RasterioIOError("TIFFAppendToStrip:Write error at scanline 12")

    monkeypatch.setattr(atomic.os, "replace", boom)
    monkeypatch.setattr(atomic, "FULL_DISK_BYTES", 2**62)  # the disk now counts as full
    with pytest.raises(OutputError, match="no space left"):
        atomic.write_text(tmp_path / "x.txt", "data")


def test_sweep_keeps_temporary_files_of_live_processes(tmp_path):
    from nxgeo.atomic import TEMP_PREFIX, _owner_tag, sweep_temp

    mine = tmp_path / f"{TEMP_PREFIX}{_owner_tag()}landuse.abc.tif"
    mine.write_bytes(b"in flight")
    dead_pid = 2**22 + 12345  # above the kernel's pid_max default: never alive
    host = _owner_tag().split("-")[0]
    dead = tmp_path / f"{TEMP_PREFIX}{host}-{dead_pid}-landuse.def.tif"
    dead.write_bytes(b"left by a killed run")
    other_host = tmp_path / f"{TEMP_PREFIX}othernode-{os.getpid()}-x.tif"
    other_host.write_bytes(b"a job on another node")
    removed = sweep_temp(tmp_path)
    assert removed == [dead]
    assert mine.exists() and other_host.exists()
    os.utime(other_host, (0, 0))  # a day old: its job is gone
    assert sweep_temp(tmp_path) == [other_host]


def test_run_lock_refuses_a_second_holder(tmp_path):
    """Another process cannot take the lock while this one holds it; the message names us."""
    import sys

    from nxgeo.runlock import acquire, release

    acquire(tmp_path, what="years 2024")
    try:
        code = f"import sys; from nxgeo.runlock import acquire\nacquire({str(tmp_path)!r})\n"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert proc.returncode != 0
        err = proc.stderr
        assert "another nxgeo run is writing into this results folder" in err
        assert f"process {os.getpid()}" in err and "years 2024" in err
    finally:
        release(tmp_path)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    "section,key",
    [
        ("water", "fallback_final"),
        ("pathways.sand_control", "max_unit_ha"),
        ("pathways.mine_remediation", "hazard_slope_deg"),
    ],
)
def test_missing_pathway_or_water_key_is_named(shipped, section, key):
    """A key the steps need is reported at start-up, not as a KeyError inside a job."""
    cfg = copy.deepcopy(shipped)
    d = cfg
    for part in section.split("."):
        d = d[part]
    del d[key]
    assert f"{section}: '{key}' is a required property" in problems(cfg)
