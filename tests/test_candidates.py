"""Candidate parcels: clumping, stable ids, zonal attributes, pathway rules, GeoPackage output."""

from __future__ import annotations

import copy
import sqlite3
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
import yaml
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from nxgeo.candidates import (
    allocate_year,
    candidates_reach,
    clump_county_index,
    clump_parcels,
    decide_homestead,
    decide_mine,
    decide_sand,
    location_ids,
    resolve_collisions,
    schema,
    source_ids,
    write_candidates_gpkg,
)
from nxgeo.candidates.parcels import ReachContext, sand_parcels

ROOT = Path(__file__).resolve().parents[1]
CRS = "EPSG:4507"
X0, Y0 = 520_000.0, 4_163_000.0
N = 30
LEFT, RIGHT = "640323", "640181"  # Yanchi | Lingwu, split at column 15
CLASSES = pd.read_csv(ROOT / "config" / "landuse" / "classes.csv")
CID = dict(zip(CLASSES["canonical"], CLASSES["class_id"]))
with open(ROOT / "config" / "config.yaml", encoding="utf-8") as _f:
    CFG = yaml.safe_load(_f)
TARGETS = ["cropland", "forest", "shrub", "grass", "wetland", "solar_pv", "wine_grape", "forage"]


def cfg_pathways(**sand):
    p = copy.deepcopy(CFG["pathways"])
    p["homestead_greening"]["counties"] = [LEFT]
    p["mine_remediation"]["counties"] = [LEFT, RIGHT]
    p["sand_control"]["counties"] = [LEFT, RIGHT]
    p["sand_control"].update(sand)
    return p


def cell(r0, c0, r1=None, c1=None, res=100.0):
    """Box of the pixels rows r0..r1, cols c0..c1 (inclusive)."""
    r1 = r0 if r1 is None else r1
    c1 = c0 if c1 is None else c1
    return box(X0 + c0 * res, Y0 - (r1 + 1) * res, X0 + (c1 + 1) * res, Y0 - r0 * res)


def square(r, c, side, res=100.0):
    """A square of `side` metres centred on pixel (r, c)."""
    x, y = X0 + (c + 0.5) * res, Y0 - (r + 0.5) * res
    return box(x - side / 2, y - side / 2, x + side / 2, y + side / 2)


def _tif(path, arr, res, nodata):
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=arr.shape[0],
        width=arr.shape[1],
        count=1,
        dtype=arr.dtype.name,
        crs=CRS,
        nodata=nodata,
        transform=Affine(res, 0, X0, 0, -res, Y0),
    ) as dst:
        dst.write(arr, 1)


def _gdf(rows, crs=CRS):
    if not rows:
        return gpd.GeoDataFrame(
            {"name": pd.Series([], dtype=object)}, geometry=gpd.GeoSeries([], crs=crs), crs=crs
        )
    return gpd.GeoDataFrame(rows, crs=crs)


def default_layout(res=100.0):
    """Land use and rasters of the standard synthetic reach (30 x 30 px)."""
    n = N
    lu = np.full((n, n), CID["grassland"], np.uint8)
    lu[0:3, 0:10] = CID["cropland_irrigated"]
    lu[18:23, 10:20] = CID["sandy"]  # S1: across the county line at col 15
    lu[24, 2] = CID["bare"]  # S2: one pixel (dropped: < min_parcel_ha)
    lu[24:30, 22:30] = CID["sandy"]  # S3: far from farmland -> for profit
    lu[26:30, 0:5] = CID["sandy"]  # S4: in a protected area -> closed protection
    lu[25:30, 12:18] = CID["bare"]  # S5: P < 200, no water -> closed (untreatable)
    slope = np.full((n, n), 3.0, np.float32)
    slope[6:10, 25:30] = 40.0  # steep mine
    slope[8, 2:5] = 20.0  # steep homestead
    for r0, c0, r1, c1 in (
        (6, 16, 7, 17),
        (6, 20, 8, 22),
        (10, 16, 12, 18),
        (6, 26, 8, 28),
        (13, 20, 14, 22),
        (13, 16, 14, 18),
    ):
        lu[r0 : r1 + 1, c0 : c1 + 1] = CID["mining"]  # the mines M1..M6
    lu[7, 6] = lu[8, 3] = lu[11, 6] = CID["rural_homestead"]
    precip = np.full((n, n), 300.0, np.float32)
    precip[24:30, 11:19] = 150.0
    return {"landuse": lu, "slope": slope, "precipitation": precip}


def build_reach(
    tmp: Path,
    res=100.0,
    layout=None,
    homesteads=True,
    mines=True,
    protected=None,
    extra_vectors=None,
    reach_id="r1",
):
    """A reach folder (rasters of the data contract on a 30 x 30 grid) and vectors.gpkg."""
    lay = default_layout(res) if layout is None else layout
    n = lay["landuse"].shape[0]
    d = tmp / "reaches" / reach_id
    lu = lay["landuse"]
    _tif(d / "landuse.tif", lu, res, 0)
    county = np.where(np.arange(n)[None, :] < 15, int(LEFT), int(RIGHT)).astype(np.int32)
    county = np.broadcast_to(county, (n, n)).copy()
    _tif(d / "zone_county.tif", county, res, 0)
    slope = lay.get("slope", np.full((n, n), 3.0, np.float32))
    _tif(d / "slope.tif", slope, res, -9999.0)
    _tif(d / "aspect.tif", np.full((n, n), 315.0, np.float32), res, -9999.0)
    _tif(d / "ls.tif", np.ones((n, n), np.float32), res, -9999.0)
    _tif(d / "dem.tif", np.full((n, n), 1400.0, np.float32), res, -9999.0)
    _tif(
        d / "precipitation.tif",
        lay.get("precipitation", np.full((n, n), 300.0, np.float32)),
        res,
        -9999.0,
    )
    for k in ("distance_water", "distance_roads", "distance_settlements"):
        _tif(d / f"{k}.tif", np.full((n, n), 3000.0, np.float32), res, -9999.0)
    protected = (
        [cell(10, 0, 12, n - 1, res), cell(26, 0, 29, 5, res)] if protected is None else protected
    )
    from rasterio.features import rasterize

    t = Affine(res, 0, X0, 0, -res, Y0)
    prot = (
        rasterize([(g, 1) for g in protected], out_shape=(n, n), transform=t, fill=0, dtype="uint8")
        if protected
        else np.zeros((n, n), np.uint8)
    )
    for z in ("protected_core", "protected_any"):
        _tif(d / f"zone_{z}.tif", prot, res, 255)
    for z in ("ecological_redline", "basic_farmland"):
        _tif(d / f"zone_{z}.tif", np.zeros((n, n), np.uint8), res, 255)
    secured = np.zeros((n, n), np.uint8)
    secured[6:9, 5:8] = 1  # irrigation water secured around homestead 1 (#14) ...
    secured[13:15, 16:19] = 1  # ... and mine M6
    _tif(d / "zone_water_secured.tif", lay.get("water_secured", secured), res, 255)
    _tif(d / "zone_water_quota_modulus.tif", np.full((n, n), 5.0, np.float32), res, -9999.0)
    # suitability: flat and unprotected land suits cropland; PV on sand / bare / mining
    s = d / "suitability"
    steep = slope > 15
    sandlike = np.isin(lu, [CID["sandy"], CID["bare"], CID["mining"]])
    sand = np.isin(lu, [CID["sandy"], CID["bare"]])
    scores = {
        "cropland": np.where(steep | (prot == 1) | sand, 0, 80),
        "forest": np.full((n, n), 30),
        "shrub": np.full((n, n), 60),
        "grass": np.full((n, n), 65),
        "wetland": np.full((n, n), 10),
        "solar_pv": np.where(sandlike & (prot == 0), 90, 0),
        "wine_grape": np.full((n, n), 20),
        "forage": np.full((n, n), 50),
    }
    scores.update(lay.get("scores", {}))
    for t_, sc in scores.items():
        sc = np.asarray(sc, np.uint8)
        grade = np.where(sc >= 70, 1, np.where(sc >= 40, 2, 3)).astype(np.uint8)
        reason = np.zeros((n, n), np.uint16)
        if t_ in ("cropland", "solar_pv"):
            grade = np.where(sc == 0, 4, grade).astype(np.uint8)
            reason = np.where(sc == 0, np.where(prot == 1, 2, 32), 0).astype(np.uint16)
        _tif(s / f"suit_{t_}_score.tif", sc, res, 255)
        _tif(s / f"suit_{t_}_grade.tif", grade, res, 255)
        _tif(s / f"suit_{t_}_reason.tif", reason, res, 65535)
    _tif(s / "best_use.tif", np.full((n, n), 1, np.uint8), res, 255)
    # vectors
    half = 15 * res
    ext = n * res
    layers = {
        "counties": _gdf(
            {
                "id": [LEFT, RIGHT],
                "name": ["盐池县", "灵武市"],
                "geometry": [
                    box(X0, Y0 - ext, X0 + half, Y0),
                    box(X0 + half, Y0 - ext, X0 + ext, Y0),
                ],
            }
        ),
        "reaches": _gdf(
            {
                "id": [reach_id, "zz_far"],
                "name": ["R1", "far"],
                "geometry": [
                    box(X0, Y0 - ext, X0 + ext, Y0),
                    box(X0 + 10 * ext, Y0 - ext, X0 + 11 * ext, Y0),
                ],
            }
        ),
        "protected_areas": _gdf(
            {
                "name": ["P"] * len(protected),
                "zone": ["core"] * len(protected),
                "geometry": protected,
            }
        ),
        "emigration_areas": _gdf(
            {"id": ["E1"], "name": ["迁出区"], "geometry": [cell(6, 0, 14, 14, res)]}
        ),
        "mining_areas": _gdf({"name": ["贺兰山"], "geometry": [cell(6, 15, 14, 29, res)]}),
        "sand_areas": _gdf({"name": ["沙区"], "geometry": [cell(15, 0, 29, 29, res)]}),
    }
    if homesteads:
        layers["homesteads"] = _gdf(
            {
                "id": ["1", "2", "3", "4", "5", "6"],
                "status": ["idle", "demolished", "idle", "occupied", "idle", "idle"],
                "geometry": [
                    square(7, 6, 30, res),
                    square(8, 3, 30, res),
                    square(11, 6, 30, res),
                    square(7, 8, 30, res),
                    square(9, 9, 10, res),
                    square(7, 20, 30, res),
                ],
            }
        )
    if mines:
        layers["mines"] = _gdf(
            {
                "id": ["11", "12", "13", "14", "15", "16"],
                "status": ["operating", "closed", "closed", "abandoned", "abandoned", "abandoned"],
                "legacy": ["no", "yes", "yes", "yes", "yes", "no"],
                "geometry": [
                    cell(6, 16, 7, 17, res),
                    cell(6, 20, 8, 22, res),
                    cell(10, 16, 12, 18, res),
                    cell(6, 26, 8, 28, res),
                    cell(13, 20, 14, 22, res),
                    cell(13, 16, 14, 18, res),
                ],
            }
        )
        layers["planned_construction"] = _gdf(
            {"name": ["plan"], "geometry": [cell(13, 20, 14, 23, res)]}
        )
    layers.update(extra_vectors or {})
    gpkg = tmp / "vectors.gpkg"
    for name, g in layers.items():
        g.to_file(gpkg, layer=name, driver="GPKG", engine="pyogrio")
    return d, gpkg


# ------------------------------------------------------------------------------------------
# Fixtures

DEMAND_CSV = ROOT / "config" / "tables" / "water_demand.csv"
LAYERS = (
    "homestead_greening",
    "mine_remediation",
    "sand_control",
    "state_wasteland",
    "land_consolidation",
)
TIMINGS: dict[str, float] = {}


def run_reach(tmp, reach_dir, gpkg, reach_id="r1", **sand):
    out = tmp / f"{reach_id}.gpkg"
    t0 = time.perf_counter()
    stats = candidates_reach(
        reach_dir,
        gpkg,
        reach_id,
        2024,
        # units of up to 10,000 ha: the hand-built sand areas stay whole
        cfg_pathways(**({"min_parcel_ha": 2.0, "max_unit_ha": 10_000.0} | sand)),
        CFG["suitability"],
        ROOT / "config" / "landuse" / "classes.csv",
        out,
        demand_csv=DEMAND_CSV,
        water_cfg=CFG["water"],
    )
    TIMINGS[f"candidates_reach {reach_id}"] = time.perf_counter() - t0
    return out, stats


def budgets(path, left, right, year=2024):
    pd.DataFrame(
        {
            "adcode": [LEFT, RIGHT],
            "year": [year, year],
            "allocation_m3": [left, right],
            "consumption_m3": [0.0, 0.0],
            "reserve_m3": [0.0, 0.0],
        }
    ).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def reach(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reach")
    d, gpkg = build_reach(tmp)
    out, stats = run_reach(tmp, d, gpkg)
    return {
        "tmp": tmp,
        "dir": d,
        "gpkg": gpkg,
        "out": out,
        "stats": stats,
        "layers": {k: gpd.read_file(out, layer=k) for k in LAYERS},
    }


@pytest.fixture(scope="module")
def year_result(reach):
    tmp = reach["tmp"]
    b = budgets(tmp / "budgets.csv", 0.0, 30_000.0)  # Yanchi: no headroom
    t0 = time.perf_counter()
    res = allocate_year(
        [reach["out"]],
        b,
        DEMAND_CSV,
        2024,
        CFG["water"],
        tmp / "candidates.gpkg",
        tmp / "summary.csv",
        tmp / "water_balance.csv",
        cfg_pathways=cfg_pathways(),
        out_pathways_csv=tmp / "pathways.csv",
    )
    TIMINGS["allocate_year"] = time.perf_counter() - t0
    layers = {k: gpd.read_file(tmp / "candidates.gpkg", layer=k) for k in LAYERS}
    return {"res": res, "layers": layers, "gpkg": tmp / "candidates.gpkg", "budgets": b}


# ------------------------------------------------------------------------------------------
# Clumping


def test_clumping_splits_at_county_line_and_drops_small(tmp_path):
    res = 20.0  # 400 m2 pixels
    lu = np.full((N, N), CID["grassland"], np.uint8)
    lu[2:11, 8:23] = CID["sandy"]  # across the county line (col 15)
    lu[20, 3] = CID["bare"]  # 400 m2 < 600 m2 mapping unit
    lu[20:23, 20:23] = CID["bare"]  # 0.36 ha < min_parcel_ha 1
    layout = {"landuse": lu}
    everywhere = _gdf({"name": ["沙区"], "geometry": [cell(0, 0, N - 1, N - 1, res)]})
    d, gpkg = build_reach(
        tmp_path,
        res=res,
        layout=layout,
        homesteads=False,
        mines=False,
        protected=[],
        extra_vectors={"sand_areas": everywhere},
    )
    ctx = ReachContext.load(d, gpkg, "r1", CLASSES)
    cfg = cfg_pathways(min_parcel_ha=1.0)
    ctx.cfg_pathways = cfg
    g, stats = sand_parcels(ctx, cfg)
    assert stats["units"] == 2  # project units (#14): was stats["clumps"] == 4
    assert stats["dropped_mmu"] == 1 and stats["dropped_min_parcel"] == 1
    assert len(g) == 2
    by = g.set_index("adcode")
    assert by.loc[LEFT, "area_ha"] == pytest.approx(9 * 7 * 400 / 1e4)
    assert by.loc[RIGHT, "area_ha"] == pytest.approx(9 * 8 * 400 / 1e4)
    assert by.loc[RIGHT, "area_mu"] == pytest.approx(by.loc[RIGHT, "area_ha"] * 15)
    line_x = X0 + 15 * res
    assert by.loc[LEFT].geometry.bounds[2] == pytest.approx(line_x)
    assert by.loc[RIGHT].geometry.bounds[0] == pytest.approx(line_x)
    assert set(g.geometry.geom_type) == {"MultiPolygon"} and g.crs.to_epsg() == 4507


def test_clump_eight_connectivity_one_parcel():
    mask = np.zeros((6, 6), bool)
    mask[1, 1] = mask[2, 2] = mask[3, 3] = True  # diagonal chain
    mask[5, 5] = True
    county = np.full((6, 6), int(LEFT))
    g = clump_parcels(mask, county, Affine(10, 0, X0, 0, -10, Y0), CRS)
    assert list(g["n_pixels"]) == [3, 1]
    assert len(shapely.get_parts(g.geometry.iloc[0])) == 3
    assert g.geometry.is_valid.all()
    assert g.geometry.area.tolist() == pytest.approx([300.0, 100.0])


def test_overlapping_reaches_each_parcel_once(tmp_path):
    """Where reaches overlap, the smaller reach id owns pixels and parcels: no duplicates."""
    d, gpkg = build_reach(tmp_path)
    ext = N * 100.0
    reaches = _gdf(
        {
            "id": ["a0", "r1"],
            "name": ["A0", "R1"],
            "geometry": [box(X0, Y0 - ext, X0 + 1500, Y0), box(X0, Y0 - ext, X0 + ext, Y0)],
        }
    )
    reaches.to_file(gpkg, layer="reaches", driver="GPKG", engine="pyogrio")
    out_r1, _ = run_reach(tmp_path, d, gpkg, "r1")
    out_a0, _ = run_reach(tmp_path, d, gpkg, "a0")
    for layer in LAYERS:
        r1 = gpd.read_file(out_r1, layer=layer)
        a0 = gpd.read_file(out_a0, layer=layer)
        assert not set(r1["parcel_id"]) & set(a0["parcel_id"])
        assert (r1.geometry.representative_point().x >= X0 + 1500 - 1e-6).all()
    a0_hs = gpd.read_file(out_a0, layer="homestead_greening")
    assert sorted(a0_hs["parcel_id"]) == ["A-HS-000001", "A-HS-000002", "A-HS-000003"]
    assert set(gpd.read_file(out_a0, layer="sand_control")["reach"]) == {"a0"}


# ------------------------------------------------------------------------------------------
# Stable ids


def _blob_ids(mask, res=30.0):
    g = clump_parcels(mask, np.full(mask.shape, int(LEFT)), Affine(res, 0, X0, 0, -res, Y0), CRS)
    return list(location_ids("C", g["adcode"], g.geometry.values)), g


def test_stable_ids_same_and_slightly_changed_clump():
    m = np.zeros((40, 40), bool)
    m[12:22, 10:22] = True  # 120 px at 30 m = 10.8 ha; centroid 10-20 m
    #                                              from a 100 m node (a centroid midway between
    #                                              two nodes would flip: see nxgeo.candidates.ids)
    m[30:36, 2:8] = True
    ids_a, g = _blob_ids(m)
    ids_b, _ = _blob_ids(m.copy())
    assert ids_a == ids_b  # same place, same id
    grown = m.copy()
    grown[22, 12:16] = True  # the parcel grew by 4 pixels
    grown[12, 21] = False  # and lost one
    ids_c, _ = _blob_ids(grown)
    assert ids_c == ids_a
    assert len(set(ids_a)) == 2  # different places, different ids
    assert ids_a[0].startswith(f"C-{LEFT}-")
    e_km, n_km = (float(v) for v in ids_a[0].split("-")[2:4])
    c = g.geometry.iloc[0].centroid
    assert e_km == pytest.approx(round(c.x / 100) / 10) and n_km == pytest.approx(
        round(c.y / 100) / 10
    )


def test_source_ids_and_collisions():
    assert list(source_ids("A-HS", ["123", 42, "hs-7", "12.0"])) == [
        "A-HS-000123",
        "A-HS-000042",
        "A-HS-HS_7",
        "A-HS-000012",
    ]
    big, small = box(0, 0, 100, 100), box(200, 0, 250, 50)
    ids = resolve_collisions(["C-1", "C-1", "C-2"], [small, big, big])
    assert ids[1] == "C-1" and ids[0].startswith("C-1-") and len(ids[0]) == len("C-1-") + 6
    assert ids[2] == "C-2"
    again = resolve_collisions(["C-1", "C-1", "C-2"], [small, big, big])
    assert list(again) == list(ids)  # deterministic
    twins = resolve_collisions(["X", "X"], [big, big])
    assert len(set(twins)) == 2


def test_stage_ids_stable_between_years(tmp_path):
    """The same reach next year, a sand parcel grown by a few pixels: same parcel ids."""
    d1, g1 = build_reach(tmp_path / "y1")
    lay = default_layout()
    # S3 (48 ha, cut into two units by the 2.5 km tile line at col 25) grows by 1 ha; (23, 27)
    # keeps the unit's centroid off a 50 m snapping midpoint (was (23, 25) before units, #14)
    lay["landuse"][23, 27] = CID["sandy"]
    d2, g2 = build_reach(tmp_path / "y2", layout=lay)
    o1, _ = run_reach(tmp_path / "y1", d1, g1)
    o2, _ = run_reach(tmp_path / "y2", d2, g2)
    for layer in LAYERS:
        a = sorted(gpd.read_file(o1, layer=layer)["parcel_id"])
        b = sorted(gpd.read_file(o2, layer=layer)["parcel_id"])
        assert a == b, layer


# ------------------------------------------------------------------------------------------
# Stage: attributes and decisions on the synthetic reach


def test_reach_stats_and_attributes(reach):
    st_ = reach["stats"]
    assert st_["homestead_greening"]["dropped_mmu"] == 1  # the 10 m x 10 m homestead
    assert st_["homestead_greening"]["outside_counties"] == 1  # in Lingwu, not a listed county
    assert st_["sand_control"]["dropped_min_parcel"] == 1  # the 1-pixel bare parcel
    hs = reach["layers"]["homestead_greening"]
    assert sorted(hs["parcel_id"]) == ["A-HS-000001", "A-HS-000002", "A-HS-000003"]
    assert set(hs["status"]) <= {"idle", "demolished"}
    h = hs.set_index("parcel_id")
    assert h.loc["A-HS-000001", "area_ha"] == pytest.approx(0.09)
    assert h.loc["A-HS-000002", "slope_mean"] == pytest.approx(20.0)
    assert h.loc["A-HS-000003", "protected_any"] == 1
    assert h.loc["A-HS-000001", "protected_any"] == 0
    # a 30 m square inside one 100 m pixel: coverage-weighted, all of it homestead class
    assert h.loc["A-HS-000001", "share_rural_homestead"] == pytest.approx(1.0)
    assert h.loc["A-HS-000001", "current_class"] == "rural_homestead"
    assert h.loc["A-HS-000003", "reason_cropland"] & 2  # protected core bit
    sand = reach["layers"]["sand_control"].set_index("parcel_id")
    assert len(sand) == 6 and set(sand["adcode"]) == {LEFT, RIGHT}
    s1 = sand[(sand["initial_target"] == "public_benefit")]
    assert len(s1) == 2 and (s1["area_ha"] == 25.0).all()  # S1 split at the county line
    assert (s1["threat_kind"] == "farmland").all() and (s1["threat_dist_m"] <= 2000).all()
    assert sand["sand_priority"].between(0, 100).all()
    # every layer has the documented schema
    cols = schema([reach["layers"][k] for k in LAYERS])
    for k in LAYERS:
        assert list(reach["layers"][k].columns.drop("geometry")) == cols


def test_reach_decisions(reach):
    hs = reach["layers"]["homestead_greening"].set_index("parcel_id")
    assert hs.loc["A-HS-000001", "initial_target"] == "cropland"
    assert hs.loc["A-HS-000002", "initial_target"] == "grass"  # 20 deg > 15
    assert "slope_above_reclaim_limit" in hs.loc["A-HS-000002", "decision"]
    assert hs.loc["A-HS-000003", "initial_target"] == "grass"  # protected
    assert "protected_area_no_cropland" in hs.loc["A-HS-000003", "decision"]
    assert (hs["freed_quota_ha"] == hs["area_ha"]).all()
    mn = reach["layers"]["mine_remediation"].set_index("parcel_id")
    assert mn.loc["B-MN-000011", "reason"] == "operating"
    assert mn.loc["B-MN-000011", "eligible"] == 0
    assert mn.loc["B-MN-000011", "recommended_target"] == ""
    assert mn.loc["B-MN-000012", "initial_target"] == "solar_pv"
    assert mn.loc["B-MN-000012", "pv_mw"] == pytest.approx(9.0 * 0.5)
    assert mn.loc["B-MN-000013", "initial_target"] == "ecological"  # closed but protected
    assert mn.loc["B-MN-000014", "hazard_flag"] == 1  # 40 deg > 35
    assert mn.loc["B-MN-000015", "initial_target"] == "construction"
    assert mn.loc["B-MN-000016", "initial_target"] == "cropland"
    sand = reach["layers"]["sand_control"]
    by_target = sand.groupby("initial_target")["parcel_id"].count().to_dict()
    assert by_target == {"closed_protection": 3, "public_benefit": 2, "for_profit": 1}
    fp = sand[sand["initial_target"] == "for_profit"].iloc[0]
    # dunes 3 km from a settlement: tourism comes first (#14; PV before), see the hand cases
    assert fp["sub_mode"] == "tourism" and fp["initial_use"] == "none"
    closed = sand[sand["initial_target"] == "closed_protection"]
    assert sorted(closed["decision"]) == ["protected_area", "untreatable", "untreatable"]


def test_clumped_fallback_without_layers(tmp_path):
    d, gpkg = build_reach(tmp_path, homesteads=False, mines=False)
    out, stats = run_reach(tmp_path, d, gpkg)
    assert stats["homestead_greening"]["source"].startswith("clumped")
    hs = gpd.read_file(out, layer="homestead_greening")
    assert len(hs) == 3 and all(p.startswith(f"A-{LEFT}-") for p in hs["parcel_id"])
    mn = gpd.read_file(out, layer="mine_remediation")
    # M3 and M6 touch (rows 12 | 13): one clump without the mine layer
    assert len(mn) == 5 and all(p.startswith(f"B-{RIGHT}-") for p in mn["parcel_id"])
    assert set(mn["status"]) == {"unknown"} and "solar_pv" not in set(mn["initial_target"])


# ------------------------------------------------------------------------------------------
# Year stage: allocation, reasons, GeoPackage


def test_year_allocation_rules(year_result):
    lay = year_result["layers"]
    allp = pd.concat([pd.DataFrame(lay[k].drop(columns="geometry")) for k in LAYERS])
    # every not-allocated or not-eligible parcel carries a reason; allocated ones none
    bad = (allp["allocated"] == 0) | (allp["eligible"] == 0)
    assert (allp.loc[bad, "reason"].str.len() > 0).all()
    assert (allp.loc[~bad, "reason"] == "").all()
    # the operating mine: listed, never recommended or allocated
    op = allp[allp["status"] == "operating"]
    assert len(op) == 1 and op["allocated"].iloc[0] == 0 and op["reason"].iloc[0] == "operating"
    assert op["recommended_target"].iloc[0] == ""
    # Yanchi has no headroom: only uses that need no water
    yan = allp[(allp["adcode"] == LEFT) & (allp["allocated"] == 1)]
    assert len(yan) and (yan["water_demand_m3"] == 0).all()
    # ... and a parcel that no option fits ends as natural recovery (#14: was water_budget)
    assert not (allp["reason"] == "water_budget").any()
    # (Yanchi at 300 mm: grass and shrub are rain-fed; natural recovery: tests/test_pathways.py)
    # budgets hold
    wb = year_result["res"]["water_balance"].set_index("adcode")
    assert (wb["allocated_m3"] <= wb["headroom_m3"].clip(lower=0) + 1e-6).all()
    assert wb.loc[LEFT, "allocated_m3"] == 0 and wb.loc[LEFT, "county_name"] == "盐池县"
    assert (wb["exact_greedy_ratio"] >= 1 - 1e-9).all()
    # nothing in a protected area gets cropland, PV or construction
    prot = allp[(allp["protected_any"] == 1) & (allp["allocated"] == 1)]
    assert not set(prot["recommended_target"]) & {"cropland", "solar_pv", "construction"}
    assert not (prot["sub_mode"] == "pv").any()
    # ranks: 1..n within county and pathway
    for _, g in allp.groupby(["pathway", "adcode"]):
        assert sorted(g["rank_in_county"]) == list(range(1, len(g) + 1))
    # indicators follow the final use
    assert (
        allp.loc[allp["recommended_target"] == "cropland", "new_cultivated_ha"].eq(
            allp.loc[allp["recommended_target"] == "cropland", "area_ha"]
            * allp.loc[allp["recommended_target"] == "cropland", "allocated"]
        )
    ).all()
    summary = year_result["res"]["summary"]
    assert {
        "adcode",
        "pathway",
        "n_parcels",
        "new_cultivated_ha",
        "freed_quota_ha",
        "greening_increment_ha",
        "pv_mw",
        "water_allocated_m3",
    } <= set(summary.columns)
    assert summary["n_parcels"].sum() == len(allp)


def test_year_csvs_have_bom(year_result, reach):
    for name in ("summary.csv", "water_balance.csv"):
        raw = (reach["tmp"] / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
    wb = pd.read_csv(
        reach["tmp"] / "water_balance.csv", encoding="utf-8-sig", dtype={"adcode": str}
    )
    assert {"headroom_m3", "demand_m3", "allocated_m3", "left_m3", "exact_greedy_ratio"} <= set(
        wb.columns
    )


def test_geopackage_schema_crs_and_styles(year_result):
    path = year_result["gpkg"]
    layers = pyogrio.list_layers(path)
    # the three layers, and layer_styles as a table without geometry (as QGIS writes it)
    assert [(str(n), str(g)) for n, g in layers] == [(k, "MultiPolygon") for k in LAYERS] + [
        ("layer_styles", "None")
    ]
    cols = schema(list(year_result["layers"].values()))
    for name in LAYERS:
        info = pyogrio.read_info(path, layer=name)
        assert list(info["fields"]) == cols
        assert info["crs"] == "EPSG:4507"
        assert info["geometry_type"] == "MultiPolygon"
    con = sqlite3.connect(path)
    try:
        rows = con.execute(
            "SELECT f_table_name, f_geometry_column, useAsDefault, styleQML, "
            "styleSLD, update_time FROM layer_styles"
        ).fetchall()
        cols_ls = [r[1] for r in con.execute("PRAGMA table_info(layer_styles)")]
        reg = con.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'"
        ).fetchone()
    finally:
        con.close()
    for c in (
        "f_table_catalog",
        "f_table_schema",
        "f_table_name",
        "f_geometry_column",
        "styleName",
        "styleQML",
        "styleSLD",
        "useAsDefault",
        "description",
        "owner",
        "ui",
        "update_time",
    ):
        assert c in cols_ls
    assert reg == ("attributes",)
    assert sorted(r[0] for r in rows) == sorted(LAYERS)
    assert all(r[2] == 1 and r[1] == "geom" for r in rows)
    all_values = set()
    for name, _g, _d, qml_text, sld_text, _t in rows:
        qml = ET.fromstring(qml_text.split("\n", 1)[1])  # well-formed XML
        renderer = qml.find("renderer-v2")
        assert renderer.get("type") == "categorizedSymbol" and "recommended_target" in renderer.get(
            "attr"
        )
        values = {c.get("value") for c in renderer.iter("category")}
        # the legend lists exactly the classes the layer has (#17)
        lay = year_result["layers"][name]
        present = set(
            np.where(lay["allocated"].astype(bool), lay["recommended_target"], "not_allocated")
        )
        if not len(lay):  # a layer without parcels (here state_wasteland) shows every class
            from nxgeo.candidates.styles import CATEGORIES

            present = {v for v, _ in CATEGORIES}
        assert values == present, name
        all_values |= values
        ET.fromstring(sld_text.split("\n", 1)[1])
        # every field has its bilingual alias (the registry), coded fields a value map
        aliases = {a.get("field"): a.get("name") for a in qml.iter("alias")}
        assert set(aliases) == set(cols) - {"geometry"}
        assert aliases["area_ha"] == "面积（公顷 ha） Area"
        maps = {
            f.get("name")
            for f in qml.iter("field")
            if f.find("editWidget").get("type") == "ValueMap"
        }
        if len(lay):  # value maps list the stored values: none in an empty layer
            assert {"grade", "decision", "pathway"} <= maps
        hidden = {c.get("name") for c in qml.iter("column") if c.get("hidden") == "1"}
        assert ("legacy" in hidden) == (name != "mine_remediation")
    assert {"cropland", "solar_pv", "closed_protection", "not_allocated"} <= all_values
    assert "245,227,122,255" in "".join(r[3] for r in rows)  # cropland #f5e37a (maps.style)


def test_writing_twice_gives_identical_bytes(year_result, tmp_path):
    layers = year_result["layers"]
    a, b = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    write_candidates_gpkg(layers, a)
    time.sleep(1.1)  # a different wall-clock second
    write_candidates_gpkg(layers, b)
    assert a.read_bytes() == b.read_bytes()
    write_candidates_gpkg(layers, a)  # overwrite in place: atomic, same bytes
    assert a.read_bytes() == b.read_bytes()
    assert not list(tmp_path.glob(".*tmp*"))


def test_allocate_year_reproducible(reach, year_result, tmp_path):
    res = allocate_year(
        [reach["out"]],
        year_result["budgets"],
        DEMAND_CSV,
        2024,
        CFG["water"],
        tmp_path / "c.gpkg",
        tmp_path / "s.csv",
        tmp_path / "w.csv",
        cfg_pathways=cfg_pathways(),
    )
    assert (tmp_path / "c.gpkg").read_bytes() == year_result["gpkg"].read_bytes()
    pd.testing.assert_frame_equal(res["summary"], year_result["res"]["summary"])


def test_exact_solver_stage(reach, year_result, tmp_path):
    water = copy.deepcopy(CFG["water"]) | {"solver": "exact"}
    res = allocate_year(
        [reach["out"]],
        year_result["budgets"],
        DEMAND_CSV,
        2024,
        water,
        tmp_path / "c.gpkg",
        tmp_path / "s.csv",
        tmp_path / "w.csv",
        cfg_pathways=cfg_pathways(),
    )
    wb = res["water_balance"]
    assert (wb["solver"] == "exact").all()
    assert (wb["allocated_m3"] <= wb["headroom_m3"].clip(lower=0) + 1e-6).all()
    assert (wb["benefit_exact"] >= wb["benefit_greedy"] - 1e-9).all()


# ------------------------------------------------------------------------------------------
# Pathway rules as properties of the deciders

PREF_SLOPE = CFG["suitability"]["preferred_reclaim_slope_deg"]


@st.composite
def parcel_rows(draw, n_max=12):
    n = draw(st.integers(1, n_max))
    rows = []
    for i in range(n):
        row = {
            "parcel_id": f"P{i:03d}",
            "pathway": "x",
            "adcode": LEFT,
            "area_ha": draw(st.floats(0.05, 200)),
            "eligible": True,
            "reason": "",
            "status": draw(st.sampled_from(["closed", "abandoned", "unknown"])),
            "slope_mean": draw(st.floats(0, 45)),
            "precip_mean_mm": draw(st.floats(100, 600)),
            "protected_share": draw(st.sampled_from([0.0, 0.0, 0.3, 0.5, 0.8, 1.0])),
            "protected_core": 0,
            "planned_share": draw(st.sampled_from([0.0, 0.3, 1.0])),
            "water_secured_share": draw(st.sampled_from([0.0, 1.0])),
            "threat_dist_m": draw(st.floats(0, 6000)),
            "threat_kind": "roads",
            "share_sandy": draw(st.floats(0, 1)),
            "share_bare": 0.0,
            "dist_roads_min_m": draw(st.floats(0, 9000)),
            "dist_settlements_min_m": 9000.0,
            "wind_exposure": draw(st.floats(0, 1)),
        }
        row["slope_max"] = row["slope_mean"] + draw(st.floats(0, 20))
        # a unit touching a zone has part of it inside (sand units are cut at zone lines)
        inside = row["protected_share"] > 0
        row["protected_any"] = int(inside and draw(st.booleans()))
        row["ecological_redline"] = int(inside and not row["protected_any"])
        for t in TARGETS:
            row[f"score_{t}"] = draw(st.floats(0, 100))
            row[f"grade_{t}"] = draw(st.sampled_from([1, 2, 3, 4]))
        rows.append(row)
    return pd.DataFrame(rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=parcel_rows())
def test_protected_never_cropland_pv_construction(df):
    cfg = cfg_pathways()
    for decide in (decide_homestead, decide_mine, decide_sand):
        out = decide(df, cfg, CFG["suitability"], CFG["water"])
        prot = (out["protected_any"] == 1) | (out["ecological_redline"] == 1)
        assert not set(out.loc[prot, "initial_target"]) & {"cropland", "solar_pv", "construction"}
        assert not set(out.loc[prot, "initial_use"]) & {"cropland", "solar_pv", "built"}
        # cropland only at slope <= the reclamation limit, and only where cropland suits
        crop = out["initial_target"] == "cropland"
        assert (out.loc[crop, "slope_mean"] <= PREF_SLOPE).all()
        assert out.loc[crop, "grade_cropland"].isin([1, 2]).all()
        # every parcel has a target or is not eligible with a reason
        assert ((out["initial_target"] != "") | (out["reason"] != "")).all()
    sand = decide_sand(df, cfg, CFG["suitability"], CFG["water"])
    # closure by the share inside (never by touching)
    thr = cfg["sand_control"]["closure_min_protected_share"]
    elig = sand["eligible"].astype(bool)
    assert (
        sand.loc[elig & (sand["protected_share"] >= thr), "initial_target"] == "closed_protection"
    ).all()
    closed = sand["initial_target"] == "closed_protection"
    untreat = sand["decision"] == "untreatable"
    assert (~closed | (sand["protected_share"] >= thr) | untreat).all()
    pv = decide_mine(df, cfg, CFG["suitability"], CFG["water"])
    sel = pv["initial_target"] == "solar_pv"
    assert (pv.loc[sel, "status"] == "closed").all()
    assert (pv.loc[sel, "area_ha"] >= cfg["mine_remediation"]["pv_min_area_ha"]).all()
    assert (pv.loc[sel, "slope_mean"] <= cfg["mine_remediation"]["pv_max_slope_deg"]).all()


def test_sand_modes_hand_checked():
    base = {
        "parcel_id": "C1",
        "pathway": "sand_control",
        "adcode": LEFT,
        "area_ha": 10.0,
        "eligible": True,
        "reason": "",
        "slope_mean": 2.0,
        "slope_max": 3.0,
        "precip_mean_mm": 280.0,
        "protected_any": 0,
        "ecological_redline": 0,
        "protected_share": 0.0,
        "water_secured_share": 0.0,
        "threat_dist_m": 5000.0,
        "threat_kind": "roads",
        "share_sandy": 1.0,
        "share_bare": 0.0,
        "dist_roads_min_m": 8000.0,
        "dist_settlements_min_m": 9000.0,
        "wind_exposure": 1.0,
        "score_solar_pv": 30.0,
        "grade_solar_pv": 3,
        "score_shrub": 60.0,
        "grade_shrub": 2,
    }
    cfg = cfg_pathways()

    def mode(**kw):
        out = decide_sand(pd.DataFrame([base | kw]), cfg, CFG["suitability"], CFG["water"]).iloc[0]
        return out["initial_target"], out["sub_mode"], out["initial_use"]

    assert mode() == ("for_profit", "shrub", "shrub")
    # PV: suitable, flat and a road within pv_max_road_m (3 km)
    pv = {"score_solar_pv": 85.0, "grade_solar_pv": 1, "dist_roads_min_m": 2000.0}
    assert mode(**pv) == ("for_profit", "pv", "solar_pv")
    assert mode(**(pv | {"dist_roads_min_m": 8000.0})) == ("for_profit", "shrub", "shrub")
    assert mode(**(pv | {"slope_mean": 8.0})) == ("for_profit", "shrub", "shrub")
    assert mode(**(pv | {"protected_share": 0.2, "protected_any": 1}))[1] == "shrub"
    # tourism: dunes near a settlement, before PV
    assert mode(dist_settlements_min_m=3000.0) == ("for_profit", "tourism", "none")
    assert mode(**pv, dist_settlements_min_m=3000.0)[1] == "tourism"
    assert mode(dist_settlements_min_m=3000.0, share_sandy=0.3, share_bare=0.7)[1] == "shrub"
    assert mode(threat_dist_m=1500.0) == ("public_benefit", "", "shrub")
    assert mode(precip_mean_mm=150.0) == ("closed_protection", "", "none")
    assert mode(precip_mean_mm=150.0, water_secured_share=1.0)[0] == "for_profit"
    # closure by the share inside, never by touching
    assert mode(protected_share=0.6, protected_any=1, threat_dist_m=10.0) == (
        "closed_protection",
        "",
        "none",
    )
    assert mode(protected_share=0.3, protected_any=1, threat_dist_m=10.0)[0] == "public_benefit"
    near = decide_sand(
        pd.DataFrame([base | {"threat_dist_m": 0.0}]), cfg, CFG["suitability"], CFG["water"]
    )
    far = decide_sand(pd.DataFrame([base]), cfg, CFG["suitability"], CFG["water"])
    assert near["sand_priority"].iloc[0] > far["sand_priority"].iloc[0]


def test_timings_recorded(reach, year_result):
    """Not a check: prints the measured stage times (pytest -s)."""
    print({k: round(v, 3) for k, v in TIMINGS.items()})


def test_no_candidates_anywhere(tmp_path):
    """A reach without any candidate: three empty layers, a water balance with zeros."""
    d, gpkg = build_reach(tmp_path)
    out = tmp_path / "r1.gpkg"
    cfg = cfg_pathways()
    for k in LAYERS:
        cfg[k]["counties"] = ["640000"]
    stats = candidates_reach(
        d,
        gpkg,
        "r1",
        2024,
        cfg,
        CFG["suitability"],
        ROOT / "config" / "landuse" / "classes.csv",
        out,
        water_cfg=CFG["water"],
    )
    assert all(stats[k]["parcels"] == 0 for k in LAYERS)
    b = budgets(tmp_path / "b.csv", 1e6, 0.0)
    res = allocate_year(
        [out],
        b,
        DEMAND_CSV,
        2024,
        CFG["water"],
        tmp_path / "c.gpkg",
        tmp_path / "s.csv",
        tmp_path / "w.csv",
        cfg_pathways=cfg,
    )
    for k in LAYERS:
        info = pyogrio.read_info(tmp_path / "c.gpkg", layer=k)
        assert info["features"] == 0 and info["geometry_type"] == "MultiPolygon"
        assert info["crs"] == "EPSG:4507"
    wb = res["water_balance"]
    assert list(wb["adcode"]) == sorted([LEFT, RIGHT]) and (wb["allocated_m3"] == 0).all()
    assert res["summary"].empty


# ------------------------------------------------------------------------------------------
# Scale: county index, strips, lazy exports


def test_clump_county_index_equals_clump_parcels():
    rng = np.random.default_rng(7)
    mask = rng.random((30, 40)) < 0.45
    county = np.where(np.arange(40)[None, :] < 17, int(LEFT), int(RIGHT)) * np.ones((30, 1), int)
    county[:3] = 0  # no county: left out
    t = Affine(10, 0, X0, 0, -10, Y0)
    a = clump_parcels(mask, county, t, CRS)
    codes = np.array(sorted({int(LEFT), int(RIGHT)}))
    index = np.where(mask & (county > 0), np.searchsorted(codes, county) + 1, 0).astype(np.uint8)
    b = clump_county_index(index, codes, t, CRS)
    assert len(a) == len(b) > 10
    assert list(a["adcode"]) == list(b["adcode"]) and list(a["n_pixels"]) == list(b["n_pixels"])
    assert all(x.equals_exact(y, 0) for x, y in zip(a.geometry, b.geometry))
    assert a["n_pixels"].sum() == int((mask & (county > 0)).sum())
    # counties ascending, and within a county the row-major order of the first pixel
    assert list(a["adcode"]) == sorted(a["adcode"])


def test_pixel_counties_same_in_any_strip_height(tmp_path):
    d, gpkg = build_reach(tmp_path)
    ctx = ReachContext.load(d, gpkg, "r1", CLASSES)
    zone = ctx.layer("sand_areas", required=True).geometry
    one, codes = ctx.pixel_counties(["sandy", "bare"], [], zone, strip_rows=1)
    big, codes_b = ctx.pixel_counties(["sandy", "bare"], [], zone, strip_rows=10_000)
    assert np.array_equal(one, big) and np.array_equal(codes, codes_b) and one.any()
    only_left, _ = ctx.pixel_counties(["sandy", "bare"], [LEFT], zone, strip_rows=7)
    assert set(np.unique(only_left)) == {0, 1}  # codes = [LEFT]
    assert (only_left > 0).sum() < (one > 0).sum()


def test_package_exports_are_the_functions():
    import types

    import nxgeo.candidates as c

    for name in c.__all__:
        assert not isinstance(getattr(c, name), types.ModuleType), name


def test_read_county_index_any_strip_height(tmp_path):
    from nxgeo.candidates.clumps import read_county_index

    county = np.zeros((9, 7), dtype=np.int32)
    county[0, :3] = int(RIGHT)  # 640181 seen first, but sorts first anyway
    county[5:, 4:] = int(LEFT)
    county[8, 0] = 640101  # a third county, seen last, sorts first
    county[2, 2] = -1  # nodata
    path = tmp_path / "c.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=7,
        height=9,
        count=1,
        dtype="int32",
        nodata=-1,
        crs=CRS,
        transform=Affine(10, 0, X0, 0, -10, Y0),
    ) as ds:
        ds.write(county, 1)
    for rows in (1, 4, 512):
        index, codes = read_county_index(path, strip_rows=rows)
        assert list(codes) == [640101, int(RIGHT), int(LEFT)] and index.dtype == np.uint8
        expect = np.zeros(county.shape, np.uint8)
        expect[county == 640101], expect[county == int(RIGHT)] = 1, 2
        expect[county == int(LEFT)] = 3
        assert np.array_equal(index, expect)
