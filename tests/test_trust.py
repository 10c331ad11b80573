"""Nothing stale, nothing lost (issue #21), through the real `snakemake` on the tiny sample.

- A corrected input reruns exactly the steps that read it (and what depends on them): a table,
  a raster, a vector layer (content and path), a land-use scheme table, the sample's reference
  layers. The rerun gives the same bytes as a clean run on the corrected data.
- A failed rerun (a real full disk: the results folder on a small tmpfs) keeps every earlier
  result and shows the documented "no space left" message.
- A second run on the same results folder is refused while the first holds it.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess

import numpy as np
import pytest
import rasterio
import yaml
from conftest import ROOT, copy_run, run_snakemake
from test_reliability import digests, fresh_copy

pytestmark = pytest.mark.workflow

# Steps that read nothing the edits below touch: they must never rerun for those edits.
PREPARE = {"prepare_vectors", "prepare_grid", "prepare_raster", "prepare_landuse"}


_copy_run = copy_run


def planned(work, *args) -> dict[str, int]:
    """Jobs per rule that `snakemake -n` would run now."""
    proc = run_snakemake(work, *args, "-n", "--quiet", "rules")
    out = proc.stdout + proc.stderr
    if "Nothing to be done" in out:
        return {}
    table = out.split("Job stats:", 1)[1]
    jobs = {}
    for line in table.splitlines():
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if m and m.group(1) not in ("total", "job"):
            jobs[m.group(1)] = int(m.group(2))
    return jobs


def _cfg(work) -> dict:
    return yaml.safe_load((work / "config.yaml").read_text(encoding="utf-8"))


def _write_cfg(work, cfg) -> None:
    (work / "config.yaml").write_text(
        yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


def _double_first_allocation(work):
    path = work / _cfg(work)["inputs"]["tables"]["water_budgets"]
    rows = list(csv.reader(path.open(encoding="utf-8-sig")))
    col = rows[0].index("allocation_m3")
    rows[1][col] = str(int(float(rows[1][col]) * 2))
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def _raise_dem(work, metres=100.0):
    path = work / _cfg(work)["inputs"]["rasters"]["dem"]
    with rasterio.open(path) as src:
        arr, prof = src.read(1), src.profile
    valid = arr != prof["nodata"] if prof.get("nodata") is not None else np.ones(arr.shape, bool)
    arr = np.where(valid, arr + metres, arr).astype(arr.dtype)
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(arr, 1)


def _edit_mines(work):
    import geopandas as gpd

    spec = _cfg(work)["inputs"]["vectors"]["mines"]
    path = work / spec["path"]
    gdf = gpd.read_file(path, layer=spec.get("layer"))
    gdf = gdf.iloc[: len(gdf) // 2]
    gdf.to_file(path, layer=spec.get("layer"), driver="GPKG")


def _point_mines_elsewhere(work):
    cfg = _cfg(work)
    spec = cfg["inputs"]["vectors"]["mines"]
    new = f"data/mines_copy{(work / spec['path']).suffix}"
    shutil.copy2(work / spec["path"], work / new)
    spec["path"] = new
    _write_cfg(work, cfg)


def _edit_scheme_table(work):
    cfg = _cfg(work)
    src = ROOT / "config" / "landuse"
    dst = work / "landuse_tables"
    shutil.copytree(src, dst)
    cfg["landuse"]["classes_table"] = str(dst / "classes.csv")
    _write_cfg(work, cfg)
    return dst


EDITS = {
    # edit, rules that must rerun, rules that must not
    "water_budget_table": (
        _double_first_allocation,
        {"zones", "water_capacity", "allocate_water", "validate_scope"},
        PREPARE
        | {
            "clip_reach",
            "clip_static",
            "terrain",
            "inventory",
            "transitions",
            "services_reach",
            "reach_static",
        },
    ),
    "dem_raster": (
        _raise_dem,
        {"prepare_raster", "clip_static", "terrain", "services_reach"},
        {
            "prepare_vectors",
            "prepare_grid",
            "prepare_landuse",
            "clip_reach",
            "inventory",
            "transitions",
            "zones",
        },
    ),
    "vector_layer_content": (
        _edit_mines,
        {"prepare_vectors", "candidates", "allocate_water"},
        {"prepare_grid", "prepare_raster"},
    ),
    "vector_layer_path": (
        _point_mines_elsewhere,
        {"prepare_vectors", "candidates"},
        {"prepare_grid", "prepare_raster"},
    ),
}


@pytest.mark.parametrize("kind", list(EDITS))
def test_a_corrected_input_reruns_what_reads_it(kind, tiny_run, tmp_path):
    work = _copy_run(tiny_run, tmp_path / "run")
    assert planned(work) == {}, "the copied run is not up to date"
    edit, must, must_not = EDITS[kind]
    edit(work)
    jobs = planned(work)
    assert must <= set(jobs), f"{kind}: {sorted(must - set(jobs))} would not rerun: {jobs}"
    assert not must_not & set(jobs), f"{kind}: {sorted(must_not & set(jobs))} would rerun"


@pytest.mark.slow  # reruns the land use and all after it
def test_an_edited_scheme_table_reruns_the_land_use(tiny_run, tmp_path):
    work = _copy_run(tiny_run, tmp_path / "run")
    tables = _edit_scheme_table(work)  # the same tables at another path: params rerun
    run_snakemake(work)
    assert planned(work) == {}
    # now edit the scheme table's content only: 0103 (dry land) read as irrigated cropland
    path = tables / "gbt21010.csv"
    text = path.read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    head = rows[0]
    for r in rows[1:]:
        if r[head.index("source_code")] in ("0103", "103"):
            r[head.index("canonical")] = "cropland_irrigated"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    jobs = planned(work)
    assert {"validate_landuse", "prepare_landuse", "inventory"} <= set(jobs), jobs
    assert not {"prepare_vectors", "prepare_grid", "prepare_raster", "terrain"} & set(jobs), jobs


def test_reference_layers_rebuild_the_sample(tmp_path):
    """The sample is made from data/reference: an edit there rebuilds the sample."""
    from conftest import tiny_config

    work = tmp_path / "s"
    cfg_path = tiny_config(work)
    cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    ref = work / "reference"
    shutil.copytree(cfg["sample"]["reference_dir"], ref)
    cfg["sample"]["reference_dir"] = str(ref)
    _write_cfg(work, cfg)
    run_snakemake(work, "sample")
    assert planned(work, "sample") == {}
    target = sorted(p for p in ref.rglob("*") if p.is_file() and p.suffix != ".txt")[0]
    target.write_bytes(target.read_bytes() + b"\n")
    assert planned(work, "sample") == {"sample": 1}


@pytest.mark.slow  # a rerun and a whole clean run
def test_rerun_after_a_correction_equals_a_clean_run(tiny_run, tmp_path):
    work = _copy_run(tiny_run, tmp_path / "rerun")
    _double_first_allocation(work)
    run_snakemake(work)
    clean = fresh_copy(work, tmp_path / "clean")
    run_snakemake(clean)
    a, b = digests(work), digests(clean)
    assert a.keys() == b.keys()
    differ = [k for k in a if a[k] != b[k]]
    assert not differ, f"{len(differ)} files differ from a clean run, e.g. {differ[:5]}"


# --- a failed rerun keeps every earlier result -------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of a few MB (root only); skips where mounting is not allowed."""
    mnt = tmp_path / "disk"
    mnt.mkdir()

    def mount(size_mb: int):
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_mb}M", "tmpfs", str(mnt)],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip()})")
        return mnt

    yield mount
    subprocess.run(["umount", str(mnt)], capture_output=True)


@pytest.mark.slow  # reruns terrain and all after it
def test_full_disk_during_rerun_keeps_earlier_results(tiny_run, tmp_path, small_disk):
    work = _copy_run(tiny_run, tmp_path / "run")
    # tmpfs stores every file in whole 4 KiB pages (the export's GDB alone is dozens of files)
    used = sum(
        -(-p.stat().st_size // 4096) * 4096 for p in (work / "results").rglob("*") if p.is_file()
    )
    disk = small_disk(int(used / 2**20) + 4)  # room for the results and a few MB more
    shutil.copytree(work / "results", disk / "results", copy_function=shutil.copy2)
    shutil.rmtree(work / "results")
    (work / "results").symlink_to(disk / "results")
    before = digests(work)
    _raise_dem(work)  # reruns terrain, services, candidates ... : more than 4 MB of new files
    proc = run_snakemake(work, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "no space left on the disk" in out, out[-3000:]
    after = digests(work)
    lost = sorted(set(before) - set(after))
    assert not lost, f"{len(lost)} earlier results were lost, e.g. {lost[:5]}"
    # the outputs of the jobs that failed are exactly the earlier ones
    failed = re.findall(r"Error in rule \w+:.*?output: ([^\n]+)", out, flags=re.S)
    assert failed, out[-3000:]
    for line in failed:
        for f in (x.strip().replace(" (update)", "") for x in line.split(",")):
            if f in before:
                assert after[f] == before[f], f"{f} changed although its job failed"
    assert not list((disk / "results").rglob(".nxgeo-tmp-*"))
    assert not list((disk / "results").rglob(".nxgeo-keep"))


def test_second_run_on_the_same_results_is_refused(tiny_run, tmp_path):
    from nxgeo.runlock import acquire, release

    work = _copy_run(tiny_run, tmp_path / "run")
    _double_first_allocation(work)  # something to do
    acquire(work / "results", what="the test")
    try:
        proc = run_snakemake(work, check=False)
    finally:
        release(work / "results")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "another nxgeo run is writing into this results folder" in out, out[-2000:]
    assert "the test" in out
    assert planned(work)  # nothing was run: the edit is still to be processed
