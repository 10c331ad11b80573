"""State-owned waste land (国有荒地复绿, seed 000 三(二)): the pixels, the units, the decision by
water, the layer in candidates.gpkg (issue #15)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasterio.features import rasterize
from test_candidates import (
    CFG,
    CID,
    DEMAND_CSV,
    LEFT,
    _tif,
    budgets,
    build_reach,
    cfg_pathways,
    default_layout,
)

from nxgeo.candidates import allocate_year, candidates_reach, decide_wasteland, finalize
from nxgeo.candidates.parcels import wasteland_mask
from nxgeo.errors import InputError

ROOT_CLASSES = "config/landuse/classes.csv"
WATER = CFG["water"]
#: survey code of every canonical class in the hand-built reach (GB/T 21010 codes)
CODE_OF = {
    "cropland_irrigated": 102,
    "grassland": 401,
    "sandy": 1205,
    "bare": 1206,
    "mining": 602,
    "rural_homestead": 702,
}


# ------------------------------------------------------------------------------------------
# The pixels


def test_mask_hand_case():
    code = np.array([[404, 404, 401, 1206], [1205, 1205, 1206, 102]])
    own = np.array([[1, 2, 1, 0], [1, 255, 1, 1]], dtype=np.uint8)
    m = wasteland_mask(code, own, [404, 1205, 1206])
    # state-owned 其他草地, 沙地, 裸土地; not collective (2), unknown (0), nodata (255),
    # nor 天然牧草地 401 nor 水浇地 102
    assert m.tolist() == [[True, False, False, False], [True, False, True, False]]


def test_mask_shape_mismatch_is_an_error():
    with pytest.raises(InputError, match="ownership raster shape"):
        wasteland_mask(np.zeros((2, 2)), np.zeros((2, 3)), [404])


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    codes=st.sets(st.sampled_from([404, 1204, 1205, 1206, 1207, 401]), min_size=1),
)
def test_property_mask_is_exactly_state_owned_listed_codes(seed, codes):
    rng = np.random.default_rng(seed)
    code = rng.choice([102, 401, 404, 1204, 1205, 1206, 1207, 602], (12, 9))
    own = rng.choice([0, 1, 2, 255], (12, 9)).astype(np.uint8)
    m = wasteland_mask(code, own, sorted(codes))
    assert not m[own != 1].any()  # never collective / unknown / nodata
    assert np.array_equal(m, (own == 1) & np.isin(code, sorted(codes)))


# ------------------------------------------------------------------------------------------
# The decision (宜林则林、宜草则草、宜湿则湿、宜农则农, decided by water)


def _parcel(**kw):
    base = {
        "parcel_id": "W-1",
        "pathway": "state_wasteland",
        "adcode": LEFT,
        "area_ha": 10.0,
        "eligible": True,
        "reason": "",
        "status": "state_owned",
        "slope_mean": 3.0,
        "precip_mean_mm": 420.0,
        "protected_any": 0,
        "protected_core": 0,
        "ecological_redline": 0,
        "water_secured_share": 0.0,
        "current_class": "bare",
        "share_bare": 1.0,
    }
    for t, sc in (
        ("cropland", 20.0),
        ("forest", 75.0),
        ("shrub", 60.0),
        ("grass", 65.0),
        ("wetland", 10.0),
    ):
        base[f"score_{t}"] = sc
        base[f"grade_{t}"] = 1 if sc >= 70 else (2 if sc >= 40 else 3)
    return base | kw


def _decide(rows, **cfg):
    p = cfg_pathways()
    p["state_wasteland"].update(cfg)
    d = decide_wasteland(pd.DataFrame(rows), p, CFG["suitability"], WATER)
    return finalize(d, natural_counts_as_greening=False).set_index("parcel_id")


def test_decision_hand_cases():
    crop = {"score_cropland": 90.0, "grade_cropland": 1}
    d = _decide(
        [
            _parcel(parcel_id="forest"),  # 宜林则林
            _parcel(parcel_id="grass", score_forest=30.0, grade_forest=3),  # 宜草则草
            _parcel(parcel_id="wet", score_wetland=95.0, grade_wetland=1),  # 宜湿则湿
            # 宜农则农 only with water: secured -> irrigated cropland
            _parcel(parcel_id="crop_w", water_secured_share=1.0, **crop),
            # no secured water, 300 mm < 350 mm (dry-farming limit): the next best use
            _parcel(parcel_id="crop_dry", precip_mean_mm=300.0, **crop),
            # rain-fed dry cropland at 420 mm >= 350 mm
            _parcel(parcel_id="crop_rain", **crop),
            # protected: never cropland
            _parcel(parcel_id="prot", protected_any=1, water_secured_share=1.0, **crop),
            # nothing suitable: natural recovery
            _parcel(
                parcel_id="none",
                score_forest=10.0,
                grade_forest=3,
                score_shrub=10.0,
                grade_shrub=3,
                score_grass=10.0,
                grade_grass=3,
            ),
        ]
    )
    assert d.loc["forest", "recommended_target"] == "forest"
    assert d.loc["forest", "decision"] == "best_use_forest"
    assert d.loc["grass", "recommended_target"] == "grass"
    assert d.loc["wet", "recommended_target"] == "wetland"
    assert d.loc["crop_w", "initial_use"] == "cropland"
    assert "reclaim_irrigated_secured_water" in d.loc["crop_w", "decision"]
    assert d.loc["crop_w", "green_use"] == "forest"  # the runner-up
    assert d.loc["crop_dry", "recommended_target"] == "forest"
    assert d.loc["crop_rain", "initial_use"] == "cropland_dry"
    assert d.loc["prot", "recommended_target"] == "forest"
    assert "protected_area_no_cropland" in d.loc["prot", "decision"]
    assert d.loc["none", "recommended_target"] == "natural_recovery"
    assert "no_suitable_green_use" in d.loc["none", "decision"]
    assert d["eligible"].all()
    # indicators: the potential of the recommended use
    assert d.loc["forest", "greening_increment_ha"] == 10.0
    assert d.loc["crop_rain", "new_cultivated_ha"] == 10.0
    assert d.loc["none", "greening_increment_ha"] == 0.0


def test_other_grassland_is_a_candidate_but_never_grass_again():
    """其他草地 (canonical grassland) is the pathway's own class: not already restored, but
    grass is not planted on it again (no greening counted twice); closure where grass was its
    only suitable use."""
    grass_only = {"score_forest": 30.0, "grade_forest": 3, "score_shrub": 30.0, "grade_shrub": 3}
    d = _decide(
        [
            _parcel(
                parcel_id="g_shrub",
                current_class="grassland",
                share_bare=0.0,
                share_grassland=1.0,
                score_forest=30.0,
                grade_forest=3,
            ),
            _parcel(
                parcel_id="g_only",
                current_class="grassland",
                share_bare=0.0,
                share_grassland=1.0,
                **grass_only,
            ),
            _parcel(parcel_id="bare_only", **grass_only),
        ]
    )
    assert d["eligible"].all()
    assert d.loc["g_shrub", "recommended_target"] == "shrub"  # grass 65 > shrub 60: not grass
    assert d.loc["g_only", "recommended_target"] == "natural_recovery"
    assert d.loc["g_only", "decision"] == "already_suitable_class_closure"
    assert d.loc["g_only", "greening_increment_ha"] == 0.0
    assert d.loc["bare_only", "recommended_target"] == "grass"  # bare land: 宜草则草


def test_targets_list_decides_and_ties_go_to_list_order():
    rows = [_parcel(parcel_id="tie", score_forest=65.0, grade_forest=2)]  # forest = grass
    assert _decide(rows)["recommended_target"].iloc[0] == "forest"
    assert _decide(rows, targets=["grass", "forest"])["recommended_target"].iloc[0] == "grass"
    # cropland not listed: never cropland, even where it is best and watered
    rows = [_parcel(score_cropland=99.0, grade_cropland=1, water_secured_share=1.0)]
    assert _decide(rows, targets=["forest", "grass"])["recommended_target"].iloc[0] == "forest"


# ------------------------------------------------------------------------------------------
# Through the stages on the hand-built reach


def _codes_from(lu: np.ndarray, other_grass: np.ndarray) -> np.ndarray:
    id_to = {v: k for k, v in CID.items()}
    code = np.vectorize(lambda v: CODE_OF.get(id_to.get(int(v), ""), 0))(lu).astype(np.int32)
    return np.where(other_grass & (lu == CID["grassland"]), 404, code).astype(np.int32)


def _reach_with_ownership(tmp, own: np.ndarray, other_grass: np.ndarray, layout=None):
    lay = default_layout() if layout is None else layout
    d, gpkg = build_reach(tmp, layout=lay)
    _tif(d / "landuse_code.tif", _codes_from(lay["landuse"], other_grass), 100.0, 0)
    _tif(d / "ownership.tif", own.astype(np.uint8), 100.0, 255)
    return d, gpkg, lay


def _run(tmp, d, gpkg, **cfg):
    p = cfg_pathways(min_parcel_ha=2.0, max_unit_ha=10_000.0)
    p["state_wasteland"].update({"min_parcel_ha": 2.0, **cfg})
    out = tmp / "r1.gpkg"
    stats = candidates_reach(
        d,
        gpkg,
        "r1",
        2024,
        p,
        CFG["suitability"],
        ROOT_CLASSES,
        out,
        demand_csv=DEMAND_CSV,
        water_cfg=WATER,
    )
    return out, stats, p


def test_stage_units_on_state_owned_unused_land_only(tmp_path):
    n = 30
    own = np.full((n, n), 2, np.uint8)  # collective everywhere ...
    own[3:6, 0:10] = 1  # ... but a state-owned block
    own[3:6, 10:15] = 0  # unknown ownership: never a candidate
    own[20:23, 10:20] = 1  # state-owned sand: left to sand control
    other = np.zeros((n, n), bool)
    other[3:9, 0:15] = True  # 其他草地 0404 (rows 6-8 collective)
    d, gpkg, _ = _reach_with_ownership(tmp_path, own, other)
    out, stats, _ = _run(tmp_path, d, gpkg, max_unit_ha=12.0)
    w = gpd.read_file(out, layer="state_wasteland")
    assert stats["state_wasteland"]["state_barren_px"] == 30 + 30  # 3x10 grass + 3x10 sand
    assert stats["state_wasteland"]["left_to_sand_control_px"] == 30
    # the 30 ha block (3 x 10 pixels of 1 ha), cut into units of at most 12 ha (3 x 3 tiles)
    assert w["area_ha"].sum() == pytest.approx(30.0)
    assert (w["area_ha"] <= 12.0 + 1e-9).all()
    assert set(w["pathway"]) == {"state_wasteland"} and set(w["adcode"]) == {LEFT}
    assert w["parcel_id"].str.startswith("W-").all()
    state = rasterize(
        [(g, 1) for g in w.geometry],
        out_shape=(n, n),
        fill=0,
        dtype="uint8",
        transform=rasterio.open(d / "landuse.tif").transform,
    )
    assert not (state.astype(bool) & (own != 1)).any()
    # no area counted twice: the wasteland units do not overlap the sand-control units
    sand = gpd.read_file(out, layer="sand_control")
    assert shapely.union_all(w.geometry.values).intersection(
        shapely.union_all(sand.geometry.values)
    ).area == pytest.approx(0.0)
    # same fields as the other pathways
    assert list(w.columns) == list(sand.columns)
    assert (w["eligible"] == 1).all()
    assert set(w["recommended_target"]) <= {
        "forest",
        "shrub",
        "grass",
        "wetland",
        "cropland",
        "natural_recovery",
    }


def test_stage_without_ownership_raster_gives_an_empty_layer(tmp_path):
    d, gpkg = build_reach(tmp_path)
    out, stats, _ = _run(tmp_path, d, gpkg)
    assert stats["state_wasteland"]["parcels"] == 0
    assert "no ownership raster" in stats["state_wasteland"]["source"]
    assert len(gpd.read_file(out, layer="state_wasteland")) == 0


def test_stage_ownership_without_survey_codes_is_an_error(tmp_path):
    d, gpkg = build_reach(tmp_path)
    _tif(d / "ownership.tif", np.ones((30, 30), np.uint8), 100.0, 255)
    with pytest.raises(InputError, match="landuse_code.tif"):
        _run(tmp_path, d, gpkg)


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 2**31 - 1), max_ha=st.sampled_from([4.0, 9.0, 40.0]))
def test_property_never_collective_land_and_water_holds(tmp_path_factory, seed, max_ha):
    """On random ownership, codes and water: every wasteland unit lies on state-owned listed
    land, no unit is larger than the maximum, the water budgets hold, and the year's
    candidates.gpkg has the layer with only allocated parcels counting."""
    tmp = tmp_path_factory.mktemp("w")
    rng = np.random.default_rng(seed)
    n = 30
    own = rng.choice([0, 1, 1, 2], (n, n)).astype(np.uint8)
    other = rng.random((n, n)) < 0.7
    lay = default_layout()
    lay["precipitation"] = rng.choice([230.0, 320.0, 420.0], (n, n)).astype(np.float32)
    lay["water_secured"] = (rng.random((n, n)) < 0.3).astype(np.uint8)
    d, gpkg, lay = _reach_with_ownership(tmp, own, other, layout=lay)
    out, _, p = _run(tmp, d, gpkg, max_unit_ha=max_ha, min_parcel_ha=0.0)
    w = gpd.read_file(out, layer="state_wasteland")
    ok = (own == 1) & (_codes_from(lay["landuse"], other) == 404)
    cover = rasterize(
        [(g, 1) for g in w.geometry],
        out_shape=(n, n),
        fill=0,
        dtype="uint8",
        transform=rasterio.open(d / "landuse.tif").transform,
    ).astype(bool)
    assert not (cover & ~ok).any()
    assert (w["area_ha"] <= max_ha + 1e-9).all()
    b = budgets(tmp / "b.csv", 5e4, 0.0)
    res = allocate_year(
        [out],
        b,
        DEMAND_CSV,
        2024,
        WATER,
        tmp / "c.gpkg",
        tmp / "s.csv",
        tmp / "w.csv",
        cfg_pathways=p,
        out_pathways_csv=tmp / "p.csv",
    )
    year = gpd.read_file(tmp / "c.gpkg", layer="state_wasteland")
    assert len(year) == len(w)
    wb = res["water_balance"]
    assert (wb["allocated_m3"] <= wb["headroom_m3"].clip(lower=0) + 1e-6).all()
    alloc = year["allocated"] == 1
    for c in ("new_cultivated_ha", "greening_increment_ha", "natural_recovery_ha"):
        assert (year.loc[~alloc, c] == 0).all()
    assert "state_wasteland" in set(res["pathways"]["pathway"])
    # never converted to the class it already is (no greening counted twice)
    own = {"grass": "grassland", "forest": "forest", "shrub": "shrub", "wetland": "wetland"}
    el = year[year["eligible"] == 1]
    assert not (el["recommended_target"].map(own) == el["current_class"]).any()
    if len(year):
        s = res["summary"].set_index(["adcode", "pathway"])
        for a, g in year.groupby("adcode"):
            assert s.loc[(a, "state_wasteland"), "greening_increment_ha"] == pytest.approx(
                g["greening_increment_ha"].sum()
            )
