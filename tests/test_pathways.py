"""Issue #14: sand project units, 以水定地 water rules, natural recovery, indicators that add up,
legacy / funding, the hazard flag from the finest DEM. Hand-built cases per rule and property
tests on random layers."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box
from test_candidates import (
    CFG,
    CID,
    CRS,
    DEMAND_CSV,
    LAYERS,
    X0,
    Y0,
    budgets,
    build_reach,
    cfg_pathways,
    default_layout,
)

from nxgeo.candidates import allocate, allocate_year, build_options, candidates_reach
from nxgeo.candidates.attributes import finest_slope_max
from nxgeo.candidates.decide import decide_homestead, decide_mine, finalize
from nxgeo.candidates.units import road_regions, split_units, tile_side_px
from nxgeo.errors import InputError
from nxgeo.terrain import slope_degrees

ROOT_CLASSES = "config/landuse/classes.csv"
DEMAND = pd.read_csv(DEMAND_CSV)
WATER = CFG["water"]
MS = CFG["pathways"]["min_suitable_score"]


# ------------------------------------------------------------------------------------------
# Hand-built cases: water rules (以水定地)


def _homestead(**kw):
    base = {
        "parcel_id": "A-HS-000001",
        "pathway": "homestead_greening",
        "adcode": "640402",
        "area_ha": 0.1,
        "eligible": True,
        "reason": "",
        "status": "idle",
        "slope_mean": 3.0,
        "slope_max": 4.0,
        "precip_mean_mm": 509.0,
        "protected_any": 0,
        "protected_core": 0,
        "ecological_redline": 0,
        "water_secured_share": 0.0,
        "current_class": "rural_homestead",
        "share_rural_homestead": 1.0,
        "share_grassland": 0.0,
    }
    for t, sc in (("cropland", 20.0), ("forest", 30.0), ("shrub", 60.0), ("grass", 70.0)):
        base[f"score_{t}"] = sc
        base[f"grade_{t}"] = 1 if sc >= 70 else (2 if sc >= 40 else 3)
    return pd.DataFrame([base | kw])


def _decide_allocate(df, headroom, water=WATER, pathways=None):
    """decide -> options -> allocation -> final indicators, as the stages do."""
    cfg = pathways or cfg_pathways()
    d = finalize(
        decide_homestead(df, cfg, CFG["suitability"], water),
        natural_counts_as_greening=cfg["natural_recovery_counts_as_greening"],
    )
    opts = build_options(d, DEMAND, water)
    a, _ = allocate(opts, {str(c): headroom for c in d["adcode"]})
    a = a.set_index("parcel_id")
    d["allocated"] = d["parcel_id"].map(a["allocated"]).fillna(False).astype(bool)
    d["final_target"] = d["parcel_id"].map(a["final_target"]).fillna("")
    d["final_use"] = d["parcel_id"].map(a["final_use"]).fillna("")
    d["water_m3"] = d["parcel_id"].map(a["water_m3"]).fillna(0.0)
    out = finalize(
        d, allocated=True, natural_counts_as_greening=cfg["natural_recovery_counts_as_greening"]
    )
    return out.iloc[0], opts


def test_rainfed_grass_at_550_mm_needs_no_water():
    opts = build_options(
        _homestead(
            precip_mean_mm=550.0,
            initial_target="grass",
            initial_use="grass",
            green_use="grass",
            suitable_uses="grass",
        ),
        DEMAND,
        WATER,
    )
    assert list(opts["use"]) == ["grass"] and opts["demand_m3"].iloc[0] == 0.0
    shrub = build_options(
        _homestead(
            precip_mean_mm=550.0,
            initial_target="shrub",
            initial_use="shrub",
            green_use="shrub",
            suitable_uses="shrub",
        ),
        DEMAND,
        WATER,
    )
    assert shrub["demand_m3"].iloc[0] == 0.0
    # below the limit the table's irrigation applies (grass 450 m3/ha under 250 mm)
    dry = build_options(
        _homestead(
            precip_mean_mm=200.0,
            initial_target="grass",
            initial_use="grass",
            green_use="grass",
            suitable_uses="grass",
            area_ha=2.0,
        ),
        DEMAND,
        WATER,
    )
    assert dry["demand_m3"].iloc[0] == pytest.approx(900.0)


def test_yuanzhou_homestead_regreens_rainfed_with_zero_headroom():
    row, _ = _decide_allocate(_homestead(), headroom=0.0)
    assert row["allocated"] and row["water_use"] == "grass" and row["water_m3"] == 0.0
    assert row["greening_increment_ha"] == pytest.approx(0.1)
    assert row["freed_quota_ha"] == pytest.approx(0.1)


def test_reclamation_outside_secured_water_becomes_dry_cropland():
    crop = {"score_cropland": 80.0, "grade_cropland": 1, "precip_mean_mm": 400.0}
    row, opts = _decide_allocate(_homestead(**crop), headroom=0.0)
    assert row["initial_use"] == "cropland_dry" and row["recommended_target"] == "cropland"
    assert opts["demand_m3"].iloc[0] == 0.0 and row["allocated"]
    assert row["new_cultivated_ha"] == pytest.approx(0.1)
    assert "reclaim_dry_cropland" in row["decision"]
    # inside secured water: irrigated cropland at 4500 m3/ha
    sec, opts = _decide_allocate(_homestead(**crop, water_secured_share=1.0), headroom=1e6)
    assert sec["initial_use"] == "cropland" and opts["demand_m3"].iloc[0] == pytest.approx(450.0)
    assert sec["water_use"] == "cropland" and sec["new_cultivated_ha"] == pytest.approx(0.1)
    # too dry for dry farming (300 < 350 mm): no reclamation, regreened
    dry, _ = _decide_allocate(_homestead(**(crop | {"precip_mean_mm": 300.0})), headroom=0.0)
    assert dry["initial_target"] == "grass" and dry["new_cultivated_ha"] == 0.0
    assert "no_reclamation_without_secured_water" in dry["decision"]
    # config: no reclamation at all outside secured water
    none, _ = _decide_allocate(
        _homestead(**crop), headroom=0.0, water=WATER | {"reclaim_outside_secured": "none"}
    )
    assert none["initial_target"] == "grass" and none["new_cultivated_ha"] == 0.0


def test_parcel_without_water_ends_as_natural_recovery():
    forest = {"score_forest": 90.0, "grade_forest": 1, "precip_mean_mm": 200.0, "area_ha": 2.0}
    row, opts = _decide_allocate(_homestead(**forest), headroom=0.0)
    assert list(opts["use"]) == ["forest", "shrub", "grass", "natural_recovery"]
    assert row["allocated"] and row["water_use"] == "natural_recovery"
    assert row["recommended_target"] == "natural_recovery" and row["water_m3"] == 0.0
    assert row["natural_recovery_ha"] == pytest.approx(2.0)
    assert row["greening_increment_ha"] == 0.0  # restoration, not greening ...
    assert row["freed_quota_ha"] == pytest.approx(2.0)  # ... but the quota is freed
    cfg = cfg_pathways()
    cfg["natural_recovery_counts_as_greening"] = True  # ... unless the config says so
    row2, _ = _decide_allocate(_homestead(**forest), headroom=0.0, pathways=cfg)
    assert row2["greening_increment_ha"] == pytest.approx(2.0)
    # without a final fallback the parcel is not allocated and counts for nothing
    row3, _ = _decide_allocate(
        _homestead(**forest), headroom=0.0, water=WATER | {"fallback_final": None}
    )
    assert not row3["allocated"] and row3["freed_quota_ha"] == 0.0
    assert row3["greening_increment_ha"] == 0.0


def test_no_suitable_green_use_never_counts_as_greening():
    none = {f"grade_{t}": 3 for t in ("cropland", "forest", "shrub", "grass")}
    cfg = cfg_pathways()
    cfg["natural_recovery_counts_as_greening"] = True
    row, _ = _decide_allocate(_homestead(**none), headroom=0.0, pathways=cfg)
    assert "no_suitable_green_use" in row["decision"] and row["allocated"]
    assert row["greening_increment_ha"] == 0.0 and row["natural_recovery_ha"] > 0
    mine = _homestead(
        **none,
        pathway="mine_remediation",
        parcel_id="B-MN-1",
        status="closed",
        legacy="True",
        area_ha=0.5,
        slope_mean=30.0,
    )
    d = finalize(decide_mine(mine, cfg, CFG["suitability"], WATER), natural_counts_as_greening=True)
    assert d["green_use"].iloc[0] == "natural_recovery"
    assert d["greening_increment_ha"].iloc[0] == 0.0


def test_already_restored_and_no_data_are_not_candidates():
    d = decide_homestead(
        _homestead(current_class="grassland", share_grassland=1.0, share_rural_homestead=0.0),
        cfg_pathways(),
        CFG["suitability"],
        WATER,
    )
    assert not d["eligible"].iloc[0] and d["reason"].iloc[0] == "already_restored"
    assert d["initial_target"].iloc[0] == ""
    # on land-use nodata: every class share 0 (issue #21)
    d = decide_homestead(
        _homestead(current_class="", share_rural_homestead=0.0),
        cfg_pathways(),
        CFG["suitability"],
        WATER,
    )
    assert not d["eligible"].iloc[0] and d["reason"].iloc[0] == "no_data"
    f = finalize(d)
    assert f["freed_quota_ha"].iloc[0] == 0.0 and f["greening_increment_ha"].iloc[0] == 0.0


def test_legacy_and_funding_of_mines():
    rows = pd.concat(
        [
            _homestead(
                pathway="mine_remediation", parcel_id=f"B-MN-{i}", status="abandoned", legacy=v
            )
            for i, v in enumerate(["True", "False", None, "yes"])
        ],
        ignore_index=True,
    )
    d = decide_mine(rows, cfg_pathways(), CFG["suitability"], WATER)
    assert list(d["legacy"].fillna(-1)) == [1, 0, -1, 1]
    assert list(d["funding"]) == ["public", "operator", "", "public"]


# ------------------------------------------------------------------------------------------
# Hazard flag from the finest DEM


def _dem(path, z, res, crs=CRS, x0=X0, y0=Y0):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=z.shape[0],
        width=z.shape[1],
        count=1,
        dtype="float32",
        crs=crs,
        nodata=-9999.0,
        transform=Affine(res, 0, x0, 0, -res, y0),
    ) as dst:
        dst.write(z.astype(np.float32), 1)


def test_hazard_flag_from_a_30m_dem_with_a_40_degree_slope(tmp_path):
    res, n = 30.0, 40
    x = (np.arange(n) + 0.5) * res
    z = np.zeros((n, n))
    face = (x >= 600) & (x < 720)  # a 120 m wide 40-degree face
    z[:] = np.cumsum(np.where(face, res * math.tan(math.radians(40.0)), 0.0))[None, :]
    _dem(tmp_path / "dem30.tif", z, res)
    mine = box(X0 + 540, Y0 - 900, X0 + 780, Y0 - 300)  # covers the face
    flat = box(X0 + 60, Y0 - 900, X0 + 300, Y0 - 300)
    parcels = gpd.GeoDataFrame(geometry=[mine, flat], crs=CRS)
    s = finest_slope_max(parcels, tmp_path / "dem30.tif")
    assert s[0] == pytest.approx(40.0, abs=0.5) and s[1] == pytest.approx(0.0, abs=1e-6)
    # the same relief coarsened to 240 m: the face is flattened below the 35-degree limit
    coarse = z.reshape(n // 8, 8, n // 8, 8).mean(axis=(1, 3))
    sl = slope_degrees(coarse, 240.0, 240.0)
    assert sl[sl != -9999.0].max() < 35.0
    # the decision uses the finest slope, not the coarse slope_max
    df = _homestead(
        pathway="mine_remediation",
        parcel_id="B-MN-1",
        status="abandoned",
        legacy="False",
        slope_max=float(sl[sl != -9999.0].max()),
    )
    df = pd.concat([df, df.assign(parcel_id="B-MN-2")], ignore_index=True)
    df["hazard_slope_max_deg"] = s
    d = decide_mine(df, cfg_pathways(), CFG["suitability"], WATER)
    assert list(d["hazard_flag"]) == [1, 0]


def test_hazard_slope_on_a_geographic_dem(tmp_path):
    """A DEM in EPSG:4490 (degrees): pixel sizes converted to metres at the latitude."""
    res = 0.0003  # ~ 27 m x 33 m at 37.5 N
    n = 30
    lat0, lon0 = 37.5, 106.0
    dx = res * 111_320.0 * math.cos(math.radians(lat0 - n * res / 2))
    z = np.tile(np.arange(n) * dx * math.tan(math.radians(40.0)), (n, 1))
    _dem(tmp_path / "geo.tif", z, res, crs="EPSG:4490", x0=lon0, y0=lat0)
    poly = box(lon0 + 5 * res, lat0 - 25 * res, lon0 + 25 * res, lat0 - 5 * res)
    parcels = gpd.GeoDataFrame(geometry=[poly], crs="EPSG:4490").to_crs(CRS)
    s = finest_slope_max(parcels, tmp_path / "geo.tif")
    assert s[0] == pytest.approx(40.0, abs=1.0)


# ------------------------------------------------------------------------------------------
# Sand units


def test_units_cut_at_zone_and_road_lines_and_tile_size():
    n = 40
    index = np.ones((n, n), np.uint8)
    zone = np.zeros((n, n), np.uint8)
    zone[:, 30:] = 2  # a reserve on the right
    road = np.zeros((n, n), bool)
    road[20, :] = True  # a road across
    region = road_regions(road)
    t = Affine(100.0, 0, 500_000.0, 0, -100.0, 4_000_000.0)
    units, st_ = split_units(
        index, [640323], zone, region, t, CRS, max_unit_ha=100.0, min_parcel_ha=1.0
    )
    assert tile_side_px(100.0, 100.0) == 10 and st_["tile_side_m"] == 1000.0
    area = shapely.area(np.asarray(units.geometry.values)) / 1e4
    assert area.max() <= 100.0 + 1e-9
    assert area.sum() == pytest.approx(n * n)  # nothing lost
    reserve = box(500_000 + 3000, 4_000_000 - 4000, 500_000 + 4000, 4_000_000)
    for g, z in zip(units.geometry, units["zone_class"]):
        inside = shapely.area(shapely.intersection(g, reserve)) / g.area
        assert inside in (0.0, 1.0) and (inside == 1.0) == (z == 2)
    # no unit straddles the road row (road pixels join one side)
    for g in units.geometry:
        ys = shapely.get_coordinates(g)[:, 1]
        assert ys.max() <= 4_000_000 - 2000 + 1e-6 or ys.min() >= 4_000_000 - 2100 - 1e-6


def test_slivers_join_a_neighbour_or_are_dropped():
    n = 12
    index = np.zeros((n, n), np.uint8)
    index[:, :11] = 1  # tile line at col 10: 1-px sliver col
    t = Affine(100.0, 0, 0.0, 0, -100.0, 1200.0)
    zone = np.zeros((n, n), np.uint8)
    units, st_ = split_units(
        index,
        [640323],
        zone,
        np.ones((n, n), np.int32),
        t,
        CRS,
        max_unit_ha=100.0,
        min_parcel_ha=15.0,
    )
    # tiles of 10 px: the 1-column slivers (12 ha, 2 ha) join the unit beside them if it stays
    # <= 100 ha; the 10x10 unit is full (100 ha), so its sliver cannot join and is dropped
    area = sorted(np.round(shapely.area(np.asarray(units.geometry.values)) / 1e4, 6))
    assert max(area) <= 100.0 and min(area) >= 15.0
    assert st_["merged_slivers"] + st_["dropped_min_parcel"] >= 1


@st.composite
def unit_layers(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(8, 40))
    counties = np.array([640323, 640181, 640502])
    index = rng.integers(0, 4, (n, n)).astype(np.uint8)
    index = np.where(rng.random((n, n)) < 0.3, 0, np.maximum(index, 1)).astype(np.uint8)
    zone = rng.choice([0, 2, 3, 4], (n, n)).astype(np.uint8)
    # blocky zones (realistic) half of the time
    if draw(st.booleans()):
        zone = np.kron(rng.choice([0, 2, 4], (n // 4 + 1, n // 4 + 1)), np.ones((4, 4)))[:n, :n]
    road = rng.random((n, n)) < draw(st.sampled_from([0.0, 0.05, 0.2]))
    res = draw(st.sampled_from([30.0, 100.0, 250.0]))
    max_ha = draw(st.sampled_from([5.0, 50.0, 667.0]))
    min_ha = draw(st.sampled_from([0.0, 0.5, 1.0, 6.0]))
    return index, counties, zone.astype(np.uint8), road, res, max_ha, min_ha


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lay=unit_layers())
def test_property_no_unit_exceeds_the_maximum(lay):
    index, counties, zone, road, res, max_ha, min_ha = lay
    t = Affine(res, 0, 523_456.0, 0, -res, 4_123_456.0)
    if res * res / 1e4 > max_ha and min_ha <= max_ha:  # coarse grid: one-pixel units
        units, _ = split_units(index, counties, zone, road_regions(road), t, CRS, max_ha, min_ha)
        assert (units["n_pixels"] == 1).all()
        return
    if min_ha > max_ha:
        with pytest.raises(InputError, match="larger than max_unit_ha"):
            split_units(index, counties, zone, road_regions(road), t, CRS, max_ha, min_ha)
        return
    units, _ = split_units(index, counties, zone, road_regions(road), t, CRS, max_ha, min_ha)
    area = shapely.area(np.asarray(units.geometry.values)) / 1e4
    if len(units):
        assert area.max() <= max_ha + 1e-6
        assert area.min() >= min_ha - 1e-9
    assert np.isclose(units["n_pixels"].sum() * res * res / 1e4, area.sum())
    # every unit lies in one county and one zone class: its pixels all carry them
    from rasterio.features import rasterize

    for (_, u), _a in zip(units.iterrows(), area):
        burnt = rasterize(
            [(u.geometry, 1)], out_shape=index.shape, transform=t, fill=0, dtype="uint8"
        ).astype(bool)
        assert burnt.sum() == u["n_pixels"]
        assert set(np.unique(counties[index[burnt].astype(int) - 1])) == {int(u["adcode"])}
        assert set(np.unique(zone[burnt])) == {u["zone_class"]}
    # nothing lost except what is reported dropped
    kept = units["n_pixels"].sum()
    assert kept <= int((index > 0).sum())


# ------------------------------------------------------------------------------------------
# Property tests through the stages on random layers


@st.composite
def random_reach(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    lay = default_layout()
    lu = lay["landuse"]
    # homestead pixels: some already grassland or cropland in the survey
    for r, c in ((7, 6), (8, 3), (11, 6)):
        lu[r, c] = rng.choice(
            [CID["rural_homestead"], CID["grassland"], CID["cropland_dry"], CID["rural_homestead"]]
        )
    # random sand scattered in the sand area
    sand = rng.random((15, 30)) < draw(st.sampled_from([0.2, 0.5, 0.8]))
    lu[15:30][sand] = rng.choice([CID["sandy"], CID["bare"]], int(sand.sum()))
    lay["precipitation"] = rng.choice([150.0, 230.0, 280.0, 320.0, 420.0, 520.0], (30, 30)).astype(
        np.float32
    )
    secured = (rng.random((30, 30)) < 0.2).astype(np.uint8)
    lay["water_secured"] = secured
    heads = (
        draw(st.sampled_from([-100.0, 0.0, 500.0, 1e6])),
        draw(st.sampled_from([0.0, 2_000.0, 1e7])),
    )
    max_ha = draw(st.sampled_from([4.0, 12.0, 40.0]))
    return lay, heads, max_ha


_COUNT = {"n": 0}


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=random_reach())
def test_property_indicators_add_up_on_random_layers(tmp_path, case):
    lay, (h_left, h_right), max_ha = case
    _COUNT["n"] += 1
    tmp = tmp_path / f"c{_COUNT['n']}"
    tmp.mkdir()
    d, gpkg = build_reach(tmp, layout=lay)
    cfg = cfg_pathways(min_parcel_ha=2.0, max_unit_ha=max_ha)
    out = tmp / "r1.gpkg"
    candidates_reach(
        d,
        gpkg,
        "r1",
        2024,
        cfg,
        CFG["suitability"],
        ROOT_CLASSES,
        out,
        demand_csv=DEMAND_CSV,
        water_cfg=WATER,
    )
    b = budgets(tmp / "b.csv", h_left, h_right)
    res = allocate_year(
        [out],
        b,
        DEMAND_CSV,
        2024,
        WATER,
        tmp / "c.gpkg",
        tmp / "s.csv",
        tmp / "w.csv",
        cfg_pathways=cfg,
        out_pathways_csv=tmp / "p.csv",
    )
    layers = {k: gpd.read_file(tmp / "c.gpkg", layer=k) for k in LAYERS}
    allp = pd.concat([pd.DataFrame(layers[k].drop(columns="geometry")) for k in LAYERS])
    alloc = allp["allocated"] == 1
    # no sand unit exceeds the maximum
    sand = layers["sand_control"]
    assert (sand["area_ha"] <= max_ha + 1e-6).all()
    # closed-protection units: protected share >= threshold, or untreatable
    thr = cfg["sand_control"]["closure_min_protected_share"]
    closed = sand["recommended_target"] == "closed_protection"
    assert (
        (sand.loc[closed, "protected_share"] >= thr - 1e-9)
        | (sand.loc[closed, "decision"] == "untreatable")
    ).all()
    # freed quota = area of the allocated homestead parcels (parcel by parcel)
    hs = allp[allp["pathway"] == "homestead_greening"]
    assert np.allclose(hs["freed_quota_ha"], np.where(hs["allocated"] == 1, hs["area_ha"], 0))
    # only eligible parcels are allocated; nothing counts for the others
    assert (allp.loc[alloc, "eligible"] == 1).all()
    for c in (
        "new_cultivated_ha",
        "freed_quota_ha",
        "greening_increment_ha",
        "closure_ha",
        "natural_recovery_ha",
        "pv_mw",
    ):
        assert (allp.loc[~alloc, c] == 0).all(), c
    # no parcel whose current class is already restored (or its target) is a candidate
    done = set(cfg["already_restored_classes"])
    assert not (allp["current_class"].isin(done) & (allp["eligible"] == 1)).any()
    target_class = {
        "cropland": {"cropland_irrigated", "cropland_dry"},
        "grass": {"grassland"},
        "shrub": {"shrub"},
        "forest": {"forest"},
    }
    for _, r in allp[allp["eligible"] == 1].iterrows():
        assert r["current_class"] not in target_class.get(r["recommended_target"], set())
    # sum of indicators per county (and pathway) = sum over its parcels
    summ = res["summary"].set_index(["adcode", "pathway"])
    sums = allp.groupby(["adcode", "pathway"])[
        [
            "new_cultivated_ha",
            "freed_quota_ha",
            "greening_increment_ha",
            "closure_ha",
            "natural_recovery_ha",
            "pv_mw",
        ]
    ].sum()
    for key, row in sums.iterrows():
        for c, v in row.items():
            assert summ.loc[key, c] == pytest.approx(v), (key, c)
    # the water budgets hold
    wb = res["water_balance"]
    assert (wb["allocated_m3"] <= wb["headroom_m3"].clip(lower=0) + 1e-6).all()
    # the pathway summary adds up too
    pw = res["pathways"].set_index("pathway")
    assert pw.loc["sand_control", "closure_ha"] == pytest.approx(
        sand.loc[sand["allocated"] == 1, "closure_ha"].sum()
    )
