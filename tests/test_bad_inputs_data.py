"""Bad data that used to pass validation and then broke (or silently changed) processing
(issue #21), through the real pipeline (`snakemake`) on the tiny input set of
tests/inputs_factory.py.

Each case asserts the message a user sees (file, layer, field, value, what to do) and that
nothing was lost: where the run can go on, its results equal those of the unchanged inputs
(`baseline`); where it must stop, it stops at validation with no partial output.
The library-level tests of the same checks are in tests/test_keys.py and tests/test_validate.py.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import geopandas as gpd
import inputs_factory as F
import numpy as np
import pandas as pd
import pytest
import rasterio
import yaml
from conftest import run_snakemake
from shapely.geometry import Polygon, box

from nxgeo.atomic import TEMP_PREFIX

pytestmark = pytest.mark.workflow

YEAR = 2024
CANDIDATES = f"results/{YEAR}/candidates.gpkg"
INVENTORY = f"results/{YEAR}/tables/inventory_by_class.csv"
VALIDATED = (
    "results/2023/validation/report.md",
    f"results/{YEAR}/validation/report.md",
    "results/common/vectors.gpkg",
)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    base = tmp_path_factory.mktemp("data_valid")
    cfg, base = F.make_valid_inputs(base)
    cfg["grid"]["resolution"] = 5000
    # sand-control units must hold at least one 5 km pixel (2,500 ha) on this coarse grid
    cfg["pathways"]["sand_control"]["max_unit_ha"] = 25_000
    return cfg, base


def _copy(pristine, dest: Path) -> tuple[dict, Path]:
    cfg0, src = pristine
    shutil.copytree(src, dest)
    return copy.deepcopy(cfg0), dest


def _run(cfg, base, *targets, check=False):
    (base / "config.yaml").write_text(
        yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    proc = run_snakemake(base, *targets, check=check, timeout=600)
    return proc, proc.stdout + proc.stderr


def _reports(base) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in (base / "results").rglob("report.md"))


def outcome(base) -> dict:
    """What a user reads from a year's run: the candidate parcels (county, source id, status)
    per pathway and the inventory's area per zone."""
    import pyogrio

    out: dict = {}
    gpkg = base / CANDIDATES
    if gpkg.exists():
        for name, _ in pyogrio.list_layers(gpkg):
            g = gpd.read_file(gpkg, layer=name)
            if "adcode" not in g.columns:  # layer_styles (QGIS styles)
                continue
            out[name] = sorted(
                zip(
                    g["adcode"].astype(str),
                    g["source_id"].fillna("").astype(str),
                    g["status"].fillna("").astype(str),
                )
            )
    inv = base / INVENTORY
    if inv.exists():
        df = pd.read_csv(inv, dtype={"zone_id": str})
        out["inventory_ha"] = {
            k: round(v, 3) for k, v in df.groupby(["zone_kind", "zone_id"])["area_ha"].sum().items()
        }
    return out


@pytest.fixture(scope="module")
def baseline(pristine, tmp_path_factory):
    """The unchanged inputs run to the candidates and the inventory of one year."""
    cfg, base = _copy(pristine, tmp_path_factory.mktemp("data_baseline") / "run")
    proc, out = _run(cfg, base, CANDIDATES, INVENTORY, "results/common/grid/dem.tif")
    assert proc.returncode == 0, out[-3000:]
    res = outcome(base)
    assert res["homestead_greening"] and res["mine_remediation"]  # the cases below can lose them
    with rasterio.open(base / "results/common/grid/dem.tif") as ds:
        res["dem"] = ds.read(1)
    return res


def _no_temporary_files(base):
    leftovers = [p for p in (base / "results").rglob("*") if p.name.startswith(TEMP_PREFIX)]
    assert not leftovers, leftovers


# ---------------------------------------------------------------------------------------------
# keys: one normalisation for validation and processing


def test_county_codes_stored_as_real_numbers_in_a_shapefile(pristine, baseline, tmp_path):
    """ArcGIS shapefiles often store adcode as a Real field (640105.0): validation accepted
    it, then rule zones crashed with "invalid literal for int()"."""
    cfg, base = _copy(pristine, tmp_path / "run")
    c = gpd.read_file(base / F.P["counties"])
    c["adcode"] = c["adcode"].astype(float)
    shp = base / "in" / "vector" / "counties.shp"
    c.to_file(shp, engine="pyogrio")
    assert gpd.read_file(shp)["adcode"].dtype.kind == "f"
    cfg["inputs"]["vectors"]["counties"]["path"] = "in/vector/counties.shp"
    proc, out = _run(cfg, base, CANDIDATES, INVENTORY)
    assert proc.returncode == 0, out[-3000:]
    assert "invalid literal" not in out
    res = outcome(base)
    for key in ("homestead_greening", "mine_remediation", "sand_control", "inventory_ha"):
        assert res[key] == baseline[key], key  # nothing lost, nothing renamed


def test_county_codes_with_blanks(pristine, baseline, tmp_path):
    """A trailing blank ("640105 ") passed validation and silently dropped the county's
    homestead and mine candidates."""
    cfg, base = _copy(pristine, tmp_path / "run")
    c = gpd.read_file(base / F.P["counties"])
    c["adcode"] = [f"{a} " if i == 0 else f" {a}" for i, a in enumerate(c["adcode"])]
    (base / F.P["counties"]).unlink()
    c.to_file(base / F.P["counties"], driver="GeoJSON", engine="pyogrio")
    proc, out = _run(cfg, base, CANDIDATES, INVENTORY)
    assert proc.returncode == 0, out[-3000:]
    res = outcome(base)
    for key in ("homestead_greening", "mine_remediation", "sand_control", "inventory_ha"):
        assert res[key] == baseline[key], key


def test_status_values_in_other_spellings_are_read_as_validation_reports(
    pristine, baseline, tmp_path
):
    cfg, base = _copy(pristine, tmp_path / "run")
    m = F.mines()
    m["status"] = ["废弃", "Closed ", "OPERATING"]
    F.write_layers(base / F.P["mines"], {"mines": m})
    h = F.homesteads()
    h["status"] = ["Idle", " occupied", "已拆除", "idle ", "Demolished"]
    F.write_layers(base / F.P["homesteads"], {"homesteads": h})
    # the year's report gathers the scope checks; it is a target of its own, not a gate (#21)
    proc, out = _run(cfg, base, CANDIDATES, INVENTORY, f"results/{YEAR}/validation/report.md")
    assert proc.returncode == 0, out[-3000:]
    report = (base / f"results/{YEAR}/validation/report.md").read_text(encoding="utf-8")
    assert (
        "in/vector/mines.gpkg (layer 'mines'): field 'status' (status) values read as "
        "'废弃' → abandoned, 'Closed ' → closed, 'OPERATING' → operating; the run uses the "
        "recoded values"
    ) in report
    assert "'已拆除' → demolished" in report
    res = outcome(base)
    assert res["homestead_greening"] == baseline["homestead_greening"]
    assert res["mine_remediation"] == baseline["mine_remediation"]


def test_unknown_status_stops_at_validation_naming_the_value(pristine, tmp_path):
    cfg, base = _copy(pristine, tmp_path / "run")
    m = F.mines()
    m.loc[0, "status"] = "sealed"
    F.write_layers(base / F.P["mines"], {"mines": m})
    proc, out = _run(cfg, base)
    assert proc.returncode != 0
    assert (
        "in/vector/mines.gpkg (layer 'mines'): field 'status' (status) has values that are "
        "not allowed: 'sealed' (1 feature); use one of abandoned, closed, operating"
    ) in out
    assert not (base / "results/common/vectors.gpkg").exists()
    _no_temporary_files(base)


# ---------------------------------------------------------------------------------------------
# geometry repair after reprojection


def test_dissolved_reaches_in_another_crs_with_a_collapsed_sliver(pristine, baseline, tmp_path):
    """Reaches dissolved from counties, in EPSG:4490 (the grid is EPSG:4507), with a sliver
    hole of zero width along a parallel: make_valid in EPSG:4490 gives a GeometryCollection
    (the hole becomes a line), which the inventory refused with "Mixed-type geometries not
    supported", naming no layer or feature; reprojected first, the hole is a valid sliver."""
    cfg, base = _copy(pristine, tmp_path / "run")
    r = gpd.read_file(base / F.P["reaches"], layer="reaches").to_crs(F.CRS_GEO)
    lon, lat = r.geometry.iloc[0].centroid.coords[0]
    sliver = [(lon - 0.05, lat), (lon, lat), (lon + 0.05, lat), (lon - 0.05, lat)]
    geoms = list(r.geometry)
    geoms[0] = Polygon(geoms[0].exterior.coords, [sliver])
    assert not geoms[0].is_valid
    r = gpd.GeoDataFrame(r.drop(columns="geometry"), geometry=geoms, crs=F.CRS_GEO)
    F.write_layers(base / F.P["reaches"], {"reaches": r})
    proc, out = _run(cfg, base, INVENTORY)
    assert proc.returncode == 0, out[-3000:]
    assert "Mixed-type" not in out
    vectors = gpd.read_file(base / "results/common/vectors.gpkg", layer="reaches")
    assert sorted(vectors["id"]) == sorted(r["reach_id"])  # no reach lost
    assert set(vectors.geom_type) <= {"Polygon", "MultiPolygon"} and vectors.is_valid.all()
    got = outcome(base)["inventory_ha"]
    want = baseline["inventory_ha"]
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == pytest.approx(want[k], rel=1e-5), k  # less the 0.5 ha sliver


# ---------------------------------------------------------------------------------------------
# validation warnings: the run goes on, and says what it found


def test_nodata_in_the_region_overlapping_mines_and_a_crs_without_datum_are_warnings(
    pristine, tmp_path
):
    cfg, base = _copy(pristine, tmp_path / "run")
    lu = base / F.P["landuse"].format(year=YEAR)
    a = F.landuse_array(seed=2)
    a[10:14, 4:8] = 0  # a cloud gap inside county 640105
    F.write_tif(lu, a, nodata=0)
    m = F.mines()
    m.loc[1, "geometry"] = box(467_000, 4_181_000, 469_000, 4_183_000)  # half over M1
    F.write_layers(base / F.P["mines"], {"mines": m})
    no_datum = (
        "+proj=tmerc +lat_0=0 +lon_0=105 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"
    )
    with rasterio.open(base / F.P["precipitation"]) as src:
        prec, nd = src.read(1), src.nodata
    (base / F.P["precipitation"]).unlink()
    F.write_tif(
        base / F.P["precipitation"], prec, crs=rasterio.crs.CRS.from_proj4(no_datum), nodata=nd
    )
    proc, out = _run(cfg, base, *VALIDATED)
    assert proc.returncode == 0, out[-3000:]
    text = _reports(base)
    assert ("in/landuse_2024.tif: 16 nodata pixel(s) inside the region (40,000.0 ha, ") in text
    assert "there is no land use of 2024 there" in text
    assert (
        "in/vector/mines.gpkg (layer 'mines'): 1 pair of features overlap (200.00 ha in all): "
        "id 'M1' and 'M2' (200.00 ha)"
    ) in text
    assert "in/precipitation.tif: its CRS" in text and "defines no datum" in text
    assert (base / "results/common/vectors.gpkg").exists()
    _no_temporary_files(base)


def test_two_band_dem_is_processed_on_band_1(pristine, baseline, tmp_path):
    """Validation warned "only band 1 is used", then processing refused the file."""
    cfg, base = _copy(pristine, tmp_path / "run")
    p = base / F.P["dem"]
    with rasterio.open(p) as src:
        dem, prof = src.read(1), src.profile.copy()
    p.unlink()
    prof.update(count=2)
    with rasterio.open(p, "w", **prof) as dst:
        dst.write(np.stack([dem, np.zeros_like(dem)]))
    proc, out = _run(
        cfg, base, "results/common/validation/report.md", "results/common/grid/dem.tif"
    )
    assert proc.returncode == 0, out[-3000:]
    assert (
        "in/dem.tif: has 2 bands; band 1 is checked here and used by every step (band 2 is ignored)"
    ) in _reports(base)
    with rasterio.open(base / "results/common/grid/dem.tif") as ds:
        assert ds.count == 1
        np.testing.assert_array_equal(ds.read(1), baseline["dem"])


# ---------------------------------------------------------------------------------------------
# refusals: stop at validation, say what to do, leave nothing behind


def test_dem_in_feet_and_precipitation_in_tenths_of_a_millimetre_are_refused(pristine, tmp_path):
    cfg, base = _copy(pristine, tmp_path / "run")
    for key, factor in (("dem", 1 / 0.3048), ("precipitation", 10.0)):
        p = base / F.P[key]
        with rasterio.open(p) as src:
            arr, nd = src.read(1), src.nodata
        p.unlink()
        F.write_tif(p, np.where(arr == nd, nd, arr * factor).astype("float32"), nodata=nd)
    proc, out = _run(cfg, base)
    assert proc.returncode != 0
    assert "in/dem.tif: the elevations look like feet, not metres" in out
    assert 'gdal_calc.py -A in/dem.tif --calc="A*0.3048" --outfile dem_m.tif' in out
    assert "in/precipitation.tif: the median annual precipitation inside the region is" in out
    assert "looks like tenths of a millimetre" in out
    assert 'gdal_calc.py -A in/precipitation.tif --calc="A/10"' in out
    assert not (base / "results/common/grid").exists()
    _no_temporary_files(base)


def test_grid_over_the_pixel_budget_is_refused(pristine, tmp_path):
    """grid.resolution: 1 started a 23-billion-pixel grid without a question."""
    cfg, base = _copy(pristine, tmp_path / "run")
    cfg["grid"]["resolution"] = 1
    proc, out = _run(cfg, base)
    assert proc.returncode != 0
    assert "grid.resolution: 1 m gives an analysis grid of" in out
    assert "more than grid.max_pixels = 500,000,000" in out
    assert "raise grid.max_pixels to at least" in out
    assert not (base / "results/common/grid.json").exists()
    _no_temporary_files(base)
