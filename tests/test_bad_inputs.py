"""A corpus of realistic mistakes a GIS team makes, each run through the real pipeline
(`snakemake`, as users run it) on a tiny input set made by tests/inputs_factory.py.

For every case: the exit code is non-zero (or 0 with a documented warning where the run can
safely go on), the message names the file / layer / field / value and says what to do, and no
partial output or temporary file is left in results/.

Two mistakes cannot be produced for real when the tests run as root (CI does): a read-only
results folder and a full disk. They are simulated at the library level at the end.
"""

from __future__ import annotations

import copy
import errno
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import inputs_factory as F
import numpy as np
import pandas as pd
import pytest
import rasterio
import yaml
from conftest import run_snakemake
from shapely.affinity import translate
from shapely.geometry import Polygon, box

from nxgeo.atomic import TEMP_PREFIX

pytestmark = pytest.mark.workflow


@dataclass
class Case:
    id: str
    mutate: Callable  # (cfg, base) -> None
    needles: tuple[str, ...]
    ok: bool = False  # True: a documented warning, the run goes on (exit 0)
    targets: tuple[str, ...] = field(default=())


# ---------------------------------------------------------------------------------------------
# helpers that break one thing


def _path(cfg, base, *keys) -> Path:
    d = cfg
    for k in keys:
        d = d[k]
    return base / (d["path"] if isinstance(d, dict) else d)


def _rewrite_tif(path: Path, fn, **profile_changes):
    with rasterio.open(path) as src:
        arr, prof = src.read(1), src.profile.copy()
    arr = fn(arr)
    prof.update(dtype=arr.dtype.name, **profile_changes)
    path.unlink()
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(arr, 1)


def _layer(cfg, base, item):
    spec = cfg["inputs"]["vectors"][item]
    return (
        gpd.read_file(base / spec["path"], layer=spec.get("layer")),
        base / spec["path"],
        spec.get("layer"),
    )


def _write_layer(path, layer, gdf):
    # rewrite one layer of a multi-layer GeoPackage, keeping the others
    import pyogrio

    if layer is None or path.suffix.lower() != ".gpkg":
        path.unlink()
        gdf.to_file(path, engine="pyogrio")
        return
    others = {n: gpd.read_file(path, layer=n) for n, _ in pyogrio.list_layers(path) if n != layer}
    path.unlink()
    for n, g in {**others, layer: gdf}.items():
        g.to_file(path, layer=n, engine="pyogrio")


def _table(cfg, base, name):
    p = base / cfg["inputs"]["tables"][name]
    return pd.read_csv(p, dtype=str, keep_default_na=False), p


def no_crs_dem(cfg, base):
    _rewrite_tif(_path(cfg, base, "inputs", "rasters", "dem"), lambda a: a, crs=None)


def zone_prefix_landuse(cfg, base):
    p = base / cfg["inputs"]["landuse"]["files"][2024]
    with rasterio.open(p) as src:
        t = src.transform
    _rewrite_tif(
        p, lambda a: a, transform=rasterio.Affine(t.a, t.b, t.c + 18_000_000, t.d, t.e, t.f)
    )


def swapped_axes_counties(cfg, base):
    g, p, layer = _layer(cfg, base, "counties")
    from shapely.ops import transform

    g["geometry"] = [transform(lambda x, y: (y, x), geom) for geom in g.geometry]
    p.unlink()
    g.to_file(p, driver="GeoJSON", engine="pyogrio")


def half_coverage_precipitation(cfg, base):
    p = _path(cfg, base, "inputs", "rasters", "precipitation")
    with rasterio.open(p) as src:
        arr, prof = src.read(1), src.profile.copy()
    half = arr[: arr.shape[0] // 3]
    prof.update(height=half.shape[0])
    p.unlink()
    with rasterio.open(p, "w", **prof) as dst:
        dst.write(half, 1)


def undeclared_nodata_landuse(cfg, base):
    _rewrite_tif(base / cfg["inputs"]["landuse"]["files"][2023], lambda a: a, nodata=None)


def nan_and_nodata_mixed_dem(cfg, base):
    def f(a):
        a = a.astype("float32")
        a[0, :4] = -9999.0
        a[1, :4] = np.nan
        return a

    _rewrite_tif(_path(cfg, base, "inputs", "rasters", "dem"), f)


def float_landuse(cfg, base):
    _rewrite_tif(base / cfg["inputs"]["landuse"]["files"][2023], lambda a: a.astype("float32"))


def unknown_codes(cfg, base):
    def f(a):
        a = a.copy()
        a[2, 2:9] = 9999
        a[5, 5] = 4242
        return a

    _rewrite_tif(base / cfg["inputs"]["landuse"]["files"][2024], f)


def other_scheme_codes(cfg, base):
    # CLCD codes delivered, gbt21010 declared
    _rewrite_tif(
        base / cfg["inputs"]["landuse"]["files"][2023],
        lambda a: np.where(a > 0, (a % 9) + 1, 0).astype(a.dtype),
    )


def truncated_tif(cfg, base):
    p = base / cfg["inputs"]["landuse"]["files"][2023]
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 3])


def corrupt_tif(cfg, base):
    p = _path(cfg, base, "inputs", "rasters", "precipitation")
    p.write_bytes(b"II*\x00" + bytes(range(256)) * 8)


def text_file_as_dem(cfg, base):
    _path(cfg, base, "inputs", "rasters", "dem").write_text("x,y,z\n1,2,3\n", encoding="utf-8")


def missing_dem(cfg, base):
    _path(cfg, base, "inputs", "rasters", "dem").unlink()


def empty_layer(cfg, base):
    g, p, layer = _layer(cfg, base, "mines")
    _write_layer(p, layer, g.iloc[0:0])


def wrong_layer_name(cfg, base):
    cfg["inputs"]["vectors"]["homesteads"]["layer"] = "homestead"


def renamed_field(cfg, base):
    g, p, layer = _layer(cfg, base, "homesteads")
    _write_layer(p, layer, g.rename(columns={"status": "zt"}))


def text_in_numeric_field(cfg, base):
    df, p = _table(cfg, base, "water_budgets")
    df.loc[2, "allocation_m3"] = "约3亿"
    df.to_csv(p, index=False)


def duplicate_parcel_ids(cfg, base):
    g, p, layer = _layer(cfg, base, "homesteads")
    g.loc[1, "parcel_id"] = g.loc[0, "parcel_id"]
    _write_layer(p, layer, g)


def self_intersecting(cfg, base):
    g, p, layer = _layer(cfg, base, "homesteads")
    x0, y0 = g.geometry.iloc[0].centroid.coords[0]
    g.loc[0, "geometry"] = Polygon([(x0, y0), (x0 + 20, y0 + 20), (x0 + 20, y0), (x0, y0 + 20)])
    _write_layer(p, layer, g)


def empty_geometries(cfg, base):
    g, p, layer = _layer(cfg, base, "mines")
    g.loc[0, "geometry"] = None
    _write_layer(p, layer, g)


def county_missing_from_water(cfg, base):
    df, p = _table(cfg, base, "water_budgets")
    df[df.adcode != "640122"].to_csv(p, index=False)


def negative_allocation(cfg, base):
    df, p = _table(cfg, base, "water_budgets")
    df.loc[0, "allocation_m3"] = "-300000000"
    df.to_csv(p, index=False)


def infinite_allocation(cfg, base):
    df, p = _table(cfg, base, "water_budgets")
    df["allocation_m3"] = df["allocation_m3"].astype(str)
    df.loc[0, "allocation_m3"] = "inf"
    df.loc[1, "allocation_m3"] = "1e400"
    df.to_csv(p, index=False)


def reach_outside_region(cfg, base):
    g, p, layer = _layer(cfg, base, "reaches")
    g["geometry"] = [translate(geom, 3_000_000, 0) for geom in g.geometry]
    _write_layer(p, layer, g)


def year_without_landuse(cfg, base):
    cfg["years"] = [2023, 2024, 2025]


def invalid_config_value(cfg, base):
    cfg["grid"]["resolution"] = -30


def _yaml(cfg) -> str:
    return yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False)


# Config mistakes (issue #21): each is caught when the workflow starts, before any job.
# A mutation that returns text writes that text as the config file (mistakes of the file
# itself, which a dict cannot hold).
def compare_same_year(cfg, base):
    cfg["compare"] = [[2024, 2024]]


def misspelt_top_level_key(cfg, base):
    cfg["comapre"] = cfg.pop("compare")


def missing_water_section(cfg, base):
    del cfg["water"]


def duplicate_yaml_key(cfg, base):
    text = _yaml(cfg)
    return text.replace("results_dir: results\n", "results_dir: results\nresults_dir: old\n", 1)


def misindented_year_line(cfg, base):
    text = _yaml(cfg)
    return text.replace("\n- 2024\n", "\n - 2024\n", 1)


def templated_config(cfg, base):
    marker = base / "PWNED"
    return (
        "__use_yte__: true\n"
        + _yaml(cfg)
        + f"?if True:\n  x: ?__import__('pathlib').Path({str(marker)!r}).write_text('x')\n"
    )


def yaml_tag_in_config(cfg, base):
    return _yaml(cfg).replace("results_dir: results", "results_dir: !!python/name:os.system", 1)


def infinite_config_number(cfg, base):
    cfg["water"]["secured_canal_buffer_m"] = float("inf")  # written as .inf


def geographic_grid(cfg, base):
    cfg["grid"]["crs"] = "EPSG:4490"


def unknown_target_in_pathway(cfg, base):
    cfg["pathways"]["homestead_greening"]["regreen_targets"] = ["forest", "bamboo"]


def wrong_table_columns(cfg, base):
    df, p = _table(cfg, base, "greening_targets")
    df.rename(columns={"target_ha": "目标面积"}).to_csv(p, index=False)


def gbk_table(cfg, base):
    df, p = _table(cfg, base, "county_emissions")
    df["note"] = "吴忠市"
    p.write_bytes(df.to_csv(index=False).encode("gbk"))


def adcode_as_number(cfg, base):
    df, p = _table(cfg, base, "water_budgets")
    df["adcode"] = df["adcode"] + ".0"
    df.to_csv(p, index=False)


def chinese_status_values(cfg, base):
    g, p, layer = _layer(cfg, base, "mines")
    g["status"] = "废弃"
    _write_layer(p, layer, g)


def shapefile_without_prj(cfg, base):
    g, p, layer = _layer(cfg, base, "settlements")
    shp = base / "in" / "settlements.shp"
    g.to_file(shp, engine="pyogrio")
    shp.with_suffix(".prj").unlink()
    cfg["inputs"]["vectors"]["settlements"] = {
        "path": "in/settlements.shp",
        "fields": cfg["inputs"]["vectors"]["settlements"]["fields"],
    }


def non_numeric_quota(cfg, base):
    df, p = _table(cfg, base, "water_demand")
    df.loc[df.use == "forest", "demand_m3_per_ha"] = "abc"
    df.to_csv(p, index=False)


def unknown_scheme(cfg, base):
    cfg["inputs"]["landuse"]["scheme"] = "corine"


CASES = [
    Case("raster_without_crs", no_crs_dem, ("dem.tif", "no CRS", "EPSG:4490")),
    Case("gauss_kruger_zone_prefix_mixup", zone_prefix_landuse, ("landuse_2024.tif", "zone")),
    Case("axis_order_swapped", swapped_axes_counties, ("counties", "swapped")),
    Case(
        "raster_covers_part_of_region",
        half_coverage_precipitation,
        ("precipitation.tif", "covers"),
        ok=True,
    ),
    Case(
        "landuse_nodata_undeclared",
        undeclared_nodata_landuse,
        ("landuse_2023.tif", "nodata", "gdal_edit.py -a_nodata"),
    ),
    Case("nan_and_nodata_mixed", nan_and_nodata_mixed_dem, ("dem.tif", "NaN"), ok=True),
    Case("float_landuse", float_landuse, ("landuse_2023.tif", "float")),
    Case(
        "unknown_landuse_codes", unknown_codes, ("landuse_2024.tif", "9999 (7 px)", "4242 (1 px)")
    ),
    Case("landuse_in_another_scheme", other_scheme_codes, ("landuse_2023.tif", "clcd")),
    Case("truncated_geotiff", truncated_tif, ("landuse_2023.tif",)),
    Case("corrupt_geotiff", corrupt_tif, ("precipitation.tif", "not a raster GDAL can read")),
    Case("text_file_named_tif", text_file_as_dem, ("dem.tif", "not a raster GDAL can read")),
    Case("missing_file", missing_dem, ("dem.tif",)),
    Case("empty_layer", empty_layer, ("mines", "empty")),
    Case("wrong_layer_name", wrong_layer_name, ("'homestead'", "homesteads")),
    Case("field_renamed", renamed_field, ("status", "zt")),
    Case(
        "text_in_numeric_field",
        text_in_numeric_field,
        ("water_budgets.csv", "allocation_m3", "约3亿"),
    ),
    Case("duplicate_parcel_ids", duplicate_parcel_ids, ("homesteads", "duplicate")),
    Case("self_intersecting_geometry", self_intersecting, ("homesteads", "make_valid"), ok=True),
    Case("empty_geometry", empty_geometries, ("mines", "empty"), ok=True),
    Case(
        "county_missing_from_water_table",
        county_missing_from_water,
        ("water_budgets.csv", "640122"),
    ),
    Case(
        "negative_water_allocation",
        negative_allocation,
        ("water_budgets.csv", "allocation_m3", "-300000000"),
    ),
    Case("reach_outside_region", reach_outside_region, ("reaches", "overlap")),
    Case("year_without_landuse_file", year_without_landuse, ("year 2025", "no land-use file")),
    Case("invalid_config_value", invalid_config_value, ("grid.resolution", "-30")),
    Case("geographic_analysis_crs", geographic_grid, ("grid.crs", "geographic", "EPSG:4507")),
    Case(
        "unknown_target_in_pathway",
        unknown_target_in_pathway,
        ("pathways.homestead_greening.regreen_targets", "'bamboo'"),
    ),
    Case(
        "unknown_landuse_scheme",
        unknown_scheme,
        ("inputs.landuse.scheme", "'corine'", "'gbt21010'"),
    ),
    Case("wrong_table_columns", wrong_table_columns, ("greening_targets.csv", "target_ha")),
    Case("table_not_utf8", gbk_table, ("county_emissions.csv", "UTF-8")),
    Case("adcode_turned_into_number", adcode_as_number, ("water_budgets.csv", "640105.0")),
    # recoded with a warning since #21 (one vocabulary for validation and processing)
    Case(
        "status_values_in_chinese", chinese_status_values, ("mines", "废弃", "abandoned"), ok=True
    ),
    Case("shapefile_without_prj", shapefile_without_prj, ("settlements.shp", "CRS")),
    Case("non_numeric_water_quota", non_numeric_quota, ("water_demand.csv", "abc")),
    Case(
        "infinite_water_allocation",
        infinite_allocation,
        ("water_budgets.csv", "allocation_m3", "'inf' is not a finite number", "'1e400'"),
    ),
    Case("compare_year_with_itself", compare_same_year, ("compare", "compares 2024 with itself")),
    Case(
        "misspelt_top_level_key", misspelt_top_level_key, ("'comapre' (did you mean 'compare'?)",)
    ),
    Case("missing_water_section", missing_water_section, ("'water' is a required property",)),
    Case("duplicate_yaml_key", duplicate_yaml_key, ("config.yaml", "'results_dir' appears twice")),
    Case(
        "misindented_year_line", misindented_year_line, ("years[0]", "'2023 - 2024' is not of type")
    ),
    Case("templated_config", templated_config, ("__use_yte__", "refuses")),
    Case("yaml_tag_in_config", yaml_tag_in_config, ("YAML tags are not allowed",)),
    Case(
        "infinite_config_number",
        infinite_config_number,
        ("water.secured_canal_buffer_m", "not a finite number"),
    ),
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    base = tmp_path_factory.mktemp("corpus_valid")
    cfg, base = F.make_valid_inputs(base)
    cfg["grid"]["resolution"] = 5000
    return cfg, base


def test_corpus_has_at_least_30_cases():
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, pristine, tmp_path):
    cfg0, src = pristine
    base = tmp_path / "run"
    shutil.copytree(src, base)
    cfg = copy.deepcopy(cfg0)
    raw = case.mutate(cfg, base)
    text = raw if isinstance(raw, str) else yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False)
    (base / "config.yaml").write_text(text, encoding="utf-8")
    targets = case.targets or (
        (
            "results/2023/validation/report.md",
            "results/2024/validation/report.md",
            "results/common/vectors.gpkg",
        )
        if case.ok
        else ()
    )
    proc = run_snakemake(base, *targets, check=False, timeout=300)
    out = proc.stdout + proc.stderr
    results = base / "results"
    reports = (
        "".join(p.read_text(encoding="utf-8") for p in results.rglob("report.md"))
        if results.exists()
        else ""
    )
    if case.ok:
        assert proc.returncode == 0, out[-3000:]
        text = reports
    else:
        assert proc.returncode != 0, f"{case.id}: the run did not fail\n{out[-3000:]}"
        text = out
    for needle in case.needles:
        assert needle in text, f"{case.id}: {needle!r} not in the message:\n{text[-4000:]}"
    assert not (base / "PWNED").exists(), "code in the config was run"
    # nothing partial or temporary in results/ (logs and timings may stay)
    if results.exists():
        leftovers = [p for p in results.rglob("*") if p.name.startswith(TEMP_PREFIX)]
        assert not leftovers, leftovers
        if not case.ok:
            # the failing year's downstream outputs were never produced
            assert not list(results.glob("*/grid/landuse.tif")) or case.id in _ONE_YEAR_CASES


# Mistakes in one year's land use: the other year may legitimately go on until the failure stops
# the run; its outputs are complete, never partial.
_ONE_YEAR_CASES = {
    "gauss_kruger_zone_prefix_mixup",
    "unknown_landuse_codes",
    "truncated_geotiff",
    "landuse_nodata_undeclared",
    "float_landuse",
    "landuse_in_another_scheme",
}


# ---------------------------------------------------------------------------------------------
# Simulated at the library level (root ignores read-only permissions; a full disk cannot be
# made safely on a shared machine)


def _fail_on_replace(monkeypatch, err):
    import nxgeo.atomic as atomic

    def boom(src, dst):
        raise OSError(err, os_strerror(err), str(dst))

    monkeypatch.setattr(atomic.os, "replace", boom)


def os_strerror(err):
    import os

    return os.strerror(err)


@pytest.mark.parametrize(
    "err, needle",
    [(errno.ENOSPC, "no space left"), (errno.EROFS, "read-only"), (errno.EACCES, "read-only")],
)
def test_disk_full_or_read_only_output(err, needle, tmp_path, monkeypatch):
    from nxgeo.errors import OutputError
    from nxgeo.raster_io import write_raster

    out = tmp_path / "results" / "2024" / "x.tif"
    out.parent.mkdir(parents=True)
    out.write_bytes(b"earlier result")
    _fail_on_replace(monkeypatch, err)
    with pytest.raises(OutputError) as exc:
        write_raster(
            out,
            np.zeros((4, 4), "uint8"),
            "EPSG:4507",
            rasterio.Affine(30, 0, 500000, 0, -30, 4000000),
        )
    msg = str(exc.value)
    assert needle in msg and "x.tif" in msg and "run snakemake again" in msg
    assert out.read_bytes() == b"earlier result"  # the earlier result is intact
    assert [p.name for p in out.parent.iterdir()] == ["x.tif"]  # no temporary file left


def test_gpkg_written_whole_or_not_at_all(tmp_path, monkeypatch):
    from nxgeo.vector_io import write_layers

    g = gpd.GeoDataFrame({"id": ["a"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:4507")
    calls = {"n": 0}
    real = gpd.GeoDataFrame.to_file

    def flaky(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *a, **k)

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", flaky)
    out = tmp_path / "c.gpkg"
    with pytest.raises(Exception, match="no space left"):
        write_layers(out, {"one": g, "two": g})
    assert not out.exists() and list(tmp_path.iterdir()) == []
