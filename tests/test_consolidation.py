"""Issue #16 (helper 16b): land consolidation (土地综合整治) as a candidate pathway — village
units, field ridges (三调 1203), scattered construction land and idle homesteads; new
cultivated land and freed quota. Hand-built reaches with known answers, property tests of
the invariants (never outside a village, new cultivated land <= parcel area, freed quota only
for allocated parcels)."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import yaml
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from nxgeo.candidates import allocate, build_options
from nxgeo.candidates.consolidation import (
    decide_consolidation,
    scattered_mask,
    village_measures,
    village_units,
)
from nxgeo.candidates.decide import finalize
from nxgeo.candidates.parcels import PATHWAYS, ReachContext
from nxgeo.candidates.registry import PARCEL_BUILDERS
from nxgeo.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
CRS = "EPSG:4507"
X0, Y0 = 520_000.0, 4_163_000.0
RES = 100.0  # 1 ha pixels
N = 20
LEFT, RIGHT = "640323", "640181"  # split at column 10
CLASSES = pd.read_csv(ROOT / "config" / "landuse" / "classes.csv")
CID = dict(zip(CLASSES["canonical"], CLASSES["class_id"]))
with open(ROOT / "config" / "config.yaml", encoding="utf-8") as _f:
    CFG = yaml.safe_load(_f)
DEMAND = pd.read_csv(ROOT / "config" / "tables" / "water_demand.csv")


def cfg_pathways(**lc):
    p = copy.deepcopy(CFG["pathways"])
    p["homestead_greening"]["counties"] = [LEFT]
    p["land_consolidation"].update(
        {
            "counties": [],
            "village_radius_m": 1000.0,
            "max_mean_patch_ha": 2.0,
            "scattered_max_ha": 1.5,
            "min_cropland_share": 0.2,
            "min_parcel_ha": 0.0,
        }
    )
    p["land_consolidation"].update(lc)
    return p


def centre(r, c):
    return X0 + (c + 0.5) * RES, Y0 - (r + 0.5) * RES


def square(r, c, side):
    x, y = centre(r, c)
    return box(x - side / 2, y - side / 2, x + side / 2, y + side / 2)


def _tif(path, arr, nodata):
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
        transform=Affine(RES, 0, X0, 0, -RES, Y0),
    ) as dst:
        dst.write(arr, 1)


def write_reach(tmp: Path, landuse, code, slope, settlements, homesteads=None, emigration=None):
    """The files consolidation_parcels reads: landuse.tif, landuse_code.tif, slope.tif and
    vectors.gpkg (counties, reaches, settlements, homesteads, emigration areas)."""
    d = tmp / "reaches" / "r1"
    n = landuse.shape[0]
    _tif(d / "landuse.tif", landuse.astype(np.uint8), 0)
    _tif(d / "landuse_code.tif", code.astype(np.int16), 0)
    _tif(d / "slope.tif", slope.astype(np.float32), -9999.0)
    ext, half = n * RES, 10 * RES
    layers = {
        "counties": gpd.GeoDataFrame(
            {"id": [LEFT, RIGHT], "name": ["盐池县", "灵武市"]},
            geometry=[box(X0, Y0 - ext, X0 + half, Y0), box(X0 + half, Y0 - ext, X0 + ext, Y0)],
            crs=CRS,
        ),
        "reaches": gpd.GeoDataFrame(
            {"id": ["r1"], "name": ["R1"]}, geometry=[box(X0, Y0 - ext, X0 + ext, Y0)], crs=CRS
        ),
        "settlements": settlements,
    }
    if homesteads is not None:
        layers["homesteads"] = homesteads
    if emigration is not None:
        layers["emigration_areas"] = emigration
    gpkg = tmp / "vectors.gpkg"
    for name, g in layers.items():
        g.to_file(gpkg, layer=name, driver="GPKG", engine="pyogrio")
    return d, gpkg


def parcels_of(d, gpkg, cfg):
    ctx = ReachContext.load(d, gpkg, "r1", CLASSES)
    return PARCEL_BUILDERS["land_consolidation"](ctx, cfg)


def settlement_layer(points, kinds=None, ids=None):
    ids = ids or [f"ST-{i + 1:04d}" for i in range(len(points))]
    return gpd.GeoDataFrame(
        {
            "id": ids,
            "name": [f"村{i}" for i in range(len(points))],
            "kind": kinds or ["village"] * len(points),
        },
        geometry=[Point(*p) for p in points],
        crs=CRS,
    )


# ------------------------------------------------------------------------------------------
# Hand-built village


def village_case():
    """One village at pixel (2, 4) of the LEFT county (radius 1000 m): single-pixel cropland
    patches every second row and column, two ridges (1203) on flat land and one on a slope,
    one scattered built pixel, a town (3 x 3 built block: not scattered), one idle and one
    occupied homestead outside the emigration area, one idle homestead inside it (pathway A)."""
    lu = np.full((N, N), CID["grassland"], np.uint8)
    code = np.full((N, N), 404, np.int16)
    crop = np.zeros((N, N), bool)
    crop[0:12:2, 0:10:2] = True
    lu[crop] = CID["cropland_dry"]
    code[crop] = 103
    slope = np.full((N, N), 3.0, np.float32)
    for r, c in ((1, 1), (1, 3), (3, 7)):
        lu[r, c] = CID["bare"]
        code[r, c] = 1203
    slope[3, 7] = 12.0  # terrace ridge: kept
    lu[3, 3] = CID["built"]
    code[3, 3] = 1201  # 空闲地, scattered
    lu[9:12, 5:8] = CID["built"]  # a 9 ha block: not scattered
    code[9:12, 5:8] = 701
    homes = gpd.GeoDataFrame(
        {"id": ["1", "2", "3"], "status": ["idle", "occupied", "idle"]},
        geometry=[square(5, 1, 30), square(5, 3, 30), square(7, 5, 30)],
        crs=CRS,
    )
    emi = gpd.GeoDataFrame(
        {"id": ["E1"], "name": ["迁出区"]},
        geometry=[box(X0, Y0 - 10 * RES, X0 + 10 * RES, Y0 - 6 * RES)],
        crs=CRS,
    )
    return lu, code, slope, homes, emi


def test_village_with_ridges_homesteads_and_scattered_land(tmp_path):
    lu, code, slope, homes, emi = village_case()
    d, gpkg = write_reach(tmp_path, lu, code, slope, settlement_layer([centre(2, 4)]), homes, emi)
    out, stats = parcels_of(d, gpkg, cfg_pathways())
    assert len(out) == 1 and stats["homesteads_left_to_pathway_a"] == 1
    p = out.iloc[0]
    # two flat ridges (1 ha each) + the scattered 空闲地 pixel + the idle homestead (0.09 ha)
    assert p["ridge_ha"] == pytest.approx(2.0)
    assert p["scattered_built_ha"] == pytest.approx(1.0)
    assert p["homestead_ha"] == pytest.approx(0.09)
    assert p["quota_source_ha"] == pytest.approx(1.09)
    assert p["area_ha"] == pytest.approx(3.09)
    assert p["area_mu"] == pytest.approx(3.09 * 15)
    # village land: pixel centres within 1000 m of the settlement and left of the county line
    rr, cc = np.mgrid[0:N, 0:N]
    x, y = X0 + (cc + 0.5) * RES, Y0 - (rr + 0.5) * RES
    sx, sy = centre(2, 4)
    inside = (np.hypot(x - sx, y - sy) < 1000.0) & (cc < 10)
    n_crop = int((inside & (lu == CID["cropland_dry"])).sum())
    assert p["village_area_ha"] == pytest.approx(inside.sum())
    assert p["cropland_ha"] == pytest.approx(n_crop)
    assert p["cropland_patches"] == n_crop  # single-pixel patches
    assert p["mean_patch_ha"] == pytest.approx(1.0)
    assert p["cropland_share"] == pytest.approx(n_crop / inside.sum())
    assert bool(p["eligible"]) and p["reason"] == ""
    assert p["parcel_id"] == "D-LC-ST_0001" and p["village_id"] == "ST-0001"


def _decided(parcels, cfg, **attrs):
    df = pd.DataFrame(parcels.drop(columns="geometry"))
    base = {
        "slope_mean": 3.0,
        "precip_mean_mm": 300.0,
        "water_secured_share": 1.0,
        "protected_any": 0,
        "protected_core": 0,
        "ecological_redline": 0,
        "current_class": "bare",
        "share_bare": 1.0,
        "score_cropland": 80.0,
        "grade_cropland": 1,
        "reason_cropland": 0,
        "score_forest": 30.0,
        "grade_forest": 3,
        "score_shrub": 60.0,
        "grade_shrub": 2,
        "score_grass": 65.0,
        "grade_grass": 2,
    }
    for k, v in {**base, **attrs}.items():
        df[k] = v
    return finalize(
        decide_consolidation(df, cfg, CFG["suitability"], CFG["water"]),
        natural_counts_as_greening=False,
    )


def _allocate(d, headroom):
    opts = build_options(d, DEMAND, CFG["water"])
    a, _ = allocate(opts, {str(c): headroom for c in d["adcode"]})
    a = a.set_index("parcel_id")
    d = d.copy()
    d["allocated"] = d["parcel_id"].map(a["allocated"]).astype(object).fillna(False).astype(bool)
    d["final_target"] = d["parcel_id"].map(a["final_target"]).astype(object).fillna("")
    d["final_use"] = d["parcel_id"].map(a["final_use"]).astype(object).fillna("")
    return finalize(d, allocated=True, natural_counts_as_greening=False)


def test_new_cultivated_land_and_freed_quota_of_the_village(tmp_path):
    lu, code, slope, homes, emi = village_case()
    d, gpkg = write_reach(tmp_path, lu, code, slope, settlement_layer([centre(2, 4)]), homes, emi)
    out, _ = parcels_of(d, gpkg, cfg_pathways())
    dec = _decided(out, cfg_pathways())
    assert dec["initial_target"].iloc[0] == "cropland"
    assert dec["initial_use"].iloc[0] == "cropland"  # irrigated: secured water
    final = _allocate(dec, 1e9)
    assert bool(final["allocated"].iloc[0])
    assert final["new_cultivated_ha"].iloc[0] == pytest.approx(3.09)
    assert final["freed_quota_ha"].iloc[0] == pytest.approx(1.09)
    assert final["greening_increment_ha"].iloc[0] == 0.0
    # without water the new cultivated land falls back to the green use: no new cultivated
    # land, the construction land is still reclaimed (quota freed), it greens
    dry = _allocate(dec, 0.0)
    assert dry["water_use"].iloc[0] in ("shrub", "grass", "natural_recovery")
    assert dry["new_cultivated_ha"].iloc[0] == 0.0
    assert dry["freed_quota_ha"].iloc[0] == pytest.approx(1.09)


def test_class_rule_is_waived_for_construction_land_only(tmp_path):
    lu, code, slope, homes, emi = village_case()
    d, gpkg = write_reach(tmp_path, lu, code, slope, settlement_layer([centre(2, 4)]), homes, emi)
    out, _ = parcels_of(d, gpkg, cfg_pathways())
    excluded = {"score_cropland": 0.0, "grade_cropland": 4}
    # excluded only because built land is not convertible (bit 0): reclaimed (建设用地复垦)
    assert (
        _decided(out, cfg_pathways(), **excluded, reason_cropland=1)["initial_target"].iloc[0]
        == "cropland"
    )
    # excluded also by the red line (bit 2) or a slope limit (bit 5): regreened
    for bits in (1 | 4, 32):
        r = _decided(out, cfg_pathways(), **excluded, reason_cropland=bits).iloc[0]
        assert r["initial_target"] == "shrub" or r["initial_target"] == "grass"
        assert "cropland_unsuitable" in r["decision"]
    # protected: never cropland
    r = _decided(out, cfg_pathways(), protected_any=1).iloc[0]
    assert r["initial_target"] != "cropland" and "protected_area_no_cropland" in r["decision"]
    # no secured water and too dry for rain-fed cropland (300 < 350 mm): regreened
    r = _decided(out, cfg_pathways(), water_secured_share=0.0).iloc[0]
    assert r["initial_target"] != "cropland"


def test_villages_that_do_not_qualify_are_listed_with_their_reason(tmp_path):
    lu, code, slope, homes, emi = village_case()
    d, gpkg = write_reach(tmp_path, lu, code, slope, settlement_layer([centre(2, 4)]), homes, emi)
    out, _ = parcels_of(d, gpkg, cfg_pathways(max_mean_patch_ha=0.5))
    assert out["reason"].tolist() == ["not_fragmented"] and not out["eligible"].any()
    out, _ = parcels_of(d, gpkg, cfg_pathways(min_cropland_share=0.9))
    assert out["reason"].tolist() == ["not_farming_village"]
    # a not-eligible parcel is never allocated and counts nothing
    final = _allocate(_decided(out, cfg_pathways()), 1e9)
    assert not final["allocated"].any()
    assert final[["new_cultivated_ha", "freed_quota_ha"]].to_numpy().sum() == 0.0


def test_ridges_need_the_survey_code_and_flat_land(tmp_path):
    lu, code, slope, _homes, _emi = village_case()
    d, gpkg = write_reach(tmp_path, lu, code, slope, settlement_layer([centre(2, 4)]))
    out, _ = parcels_of(d, gpkg, cfg_pathways(ridge_max_slope_deg=15.0))
    assert out["ridge_ha"].iloc[0] == pytest.approx(3.0)  # the terrace ridge too
    out, _ = parcels_of(d, gpkg, cfg_pathways(ridge_codes=[]))  # CLCD / CNLUCC: no ridges
    assert out["ridge_ha"].iloc[0] == pytest.approx(0.0)
    assert out["area_ha"].iloc[0] == pytest.approx(1.0)  # the scattered pixel only
    (d / "landuse_code.tif").unlink()
    with pytest.raises(InputError, match="landuse_code.tif: file not found"):
        parcels_of(d, gpkg, cfg_pathways())


def test_no_settlements_no_village_parcels(tmp_path):
    lu, code, slope, _, _ = village_case()
    empty = settlement_layer([centre(2, 4)], kinds=["county_seat"])
    d, gpkg = write_reach(tmp_path, lu, code, slope, empty)
    out, stats = parcels_of(d, gpkg, cfg_pathways())
    assert len(out) == 0 and stats["villages"] == 0
    # a county seat counts when every kind is accepted
    out, _ = parcels_of(d, gpkg, cfg_pathways(village_kinds=[]))
    assert len(out) == 1


def test_village_units_are_voronoi_cells_within_the_radius_and_county():
    counties = gpd.GeoDataFrame(
        {"id": [LEFT, RIGHT]}, geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)], crs=CRS
    )
    s = settlement_layer([(400, 500), (800, 500), (1500, 500), (1500, 500)])
    u = village_units(s, counties, ["village"], 300.0)
    assert list(u["village_id"]) == ["ST-0001", "ST-0002", "ST-0003"]  # repeated point once
    a, b, c = u.geometry
    assert a.intersection(b).area == pytest.approx(0.0, abs=1e-6)  # no overlap
    assert a.bounds[2] == pytest.approx(600.0)  # the bisector
    assert b.bounds[2] == pytest.approx(1000.0)  # the county line
    assert c.area == pytest.approx(Point(1500, 500).buffer(300, quad_segs=16).area)
    assert list(u["adcode"]) == [LEFT, LEFT, RIGHT]
    with pytest.raises(InputError, match="village_radius_m must be > 0"):
        village_units(s, counties, [], 0.0)


def test_scattered_mask_and_village_measures_by_hand():
    m = np.zeros((5, 6), bool)
    m[0, 0] = True  # 1 px
    m[2:4, 2:4] = True  # 4 px
    m[4, 5] = True  # 1 px
    assert scattered_mask(m, 1).sum() == 2
    assert scattered_mask(m, 4).sum() == 6
    village = np.zeros((5, 6), np.int32)
    village[:, :3] = 1
    village[:, 3:] = 2
    crop = np.zeros((5, 6), bool)
    crop[0, 0] = crop[0, 1] = crop[2, 0] = True  # village 1: 2 patches, 3 px
    crop[4, 3:] = True  # village 2: 1 patch, 3 px
    meas = village_measures(village, crop, np.ones((5, 6), bool), 0.5).set_index("vidx")
    assert meas.loc[1, "cropland_patches"] == 2 and meas.loc[2, "cropland_patches"] == 1
    assert meas.loc[1, "mean_patch_ha"] == pytest.approx(0.75)
    assert meas.loc[2, "mean_patch_ha"] == pytest.approx(1.5)
    assert meas.loc[1, "cropland_share"] == pytest.approx(3 / 15)


def test_land_consolidation_is_a_pathway_layer():
    assert "land_consolidation" in PATHWAYS


# ------------------------------------------------------------------------------------------
# Properties


@st.composite
def random_villages(draw):
    n = 12
    classes = [CID["grassland"], CID["cropland_dry"], CID["bare"], CID["built"]]
    lu = np.array(
        draw(st.lists(st.sampled_from(classes), min_size=n * n, max_size=n * n)), np.uint8
    ).reshape(n, n)
    code = np.where(lu == CID["bare"], draw(st.sampled_from([1203, 1206])), 404)
    code = np.where(lu == CID["cropland_dry"], 103, np.where(lu == CID["built"], 1201, code))
    slope = np.array(
        draw(st.lists(st.sampled_from([2.0, 10.0]), min_size=n * n, max_size=n * n)), np.float32
    ).reshape(n, n)
    k = draw(st.integers(1, 4))
    pts = [centre(draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))) for _ in range(k)]
    radius = draw(st.sampled_from([150.0, 300.0, 600.0]))
    homes = [
        square(draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1)), 40)
        for _ in range(draw(st.integers(0, 4)))
    ]
    return lu, code.astype(np.int16), slope, pts, radius, homes


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=random_villages(), headroom=st.sampled_from([0.0, 2e4, 1e9]))
def test_property_parcels_stay_in_their_village_and_indicators_fit(case, headroom):
    lu, code, slope, pts, radius, homes = case
    hs = gpd.GeoDataFrame(
        {"id": [str(i) for i in range(len(homes))], "status": ["idle"] * len(homes)},
        geometry=gpd.GeoSeries(homes, crs=CRS),
        crs=CRS,
    )
    cfg = cfg_pathways(village_radius_m=radius, max_mean_patch_ha=50.0, min_cropland_share=0.0)
    with tempfile.TemporaryDirectory() as td:
        d, gpkg = write_reach(Path(td), lu, code, slope, settlement_layer(pts), hs)
        out, _ = parcels_of(d, gpkg, cfg)
        ctx = ReachContext.load(d, gpkg, "r1", CLASSES)
        units = village_units(
            gpd.read_file(gpkg, layer="settlements"), ctx.counties(), ["village"], radius
        ).set_index("village_id")
    for p in out.itertuples():
        v = units.loc[p.village_id].geometry
        assert shapely.difference(p.geometry, v).area <= 1e-6  # never outside
        assert p.ridge_ha + p.quota_source_ha == pytest.approx(p.area_ha, abs=1e-9)
        assert 0 <= p.quota_source_ha <= p.area_ha + 1e-9
    if not len(out):
        return
    final = _allocate(_decided(out, cfg, water_secured_share=1.0), headroom)
    area = final["area_ha"].to_numpy()
    assert (final["new_cultivated_ha"].to_numpy() <= area + 1e-9).all()
    assert (final["freed_quota_ha"].to_numpy() <= area + 1e-9).all()
    idle = ~final["allocated"].astype(bool).to_numpy()
    assert (
        final.loc[idle, ["new_cultivated_ha", "freed_quota_ha", "greening_increment_ha"]].to_numpy()
        == 0
    ).all()
