"""Issue #16 (helper 16b): the county assessment scorecard (八(四)) on a hand-built tiny region —
known forest share, known erosion classes (SL 190) -> known 水土保持率, known FVC mean, known
wetland protection — the first year without a comparison, and the candidate indicators equal to
the sums over the allocated parcels they count (unallocated parcels never count)."""

from __future__ import annotations

import copy
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import yaml
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from nxgeo.errors import InputError
from nxgeo.scorecard import (
    CANDIDATE_SUMS,
    COLUMNS,
    INDICATORS,
    NO_COMPARE_NOTE,
    PROGRAMME_SUMS,
    REPORT_COLUMNS,
    TOTAL_ID,
    build_scorecard,
    candidate_indicators,
    county_scorecard,
    erosion_class,
    programme_indicators,
    raster_sums,
    report_rows,
)

ROOT = Path(__file__).resolve().parents[1]
CRS = "EPSG:4507"
X0, Y0 = 520_000.0, 4_163_000.0
RES = 100.0  # 1 ha pixels, 0.01 km2
CLASSES = pd.read_csv(ROOT / "config" / "landuse" / "classes.csv")
CID = dict(zip(CLASSES["canonical"], CLASSES["class_id"]))
with open(ROOT / "config" / "config.yaml", encoding="utf-8") as _f:
    CFG = yaml.safe_load(_f)
A, B = "640323", "640181"


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


def tiny_region(tmp: Path, fvc: bool = True):
    """A 4 x 4 reach: county A the left two columns, county B the right two.

    A (8 ha): 2 forest, 1 shrub, 3 grassland (FVC 0.2, 0.4, 0.6), 2 wetland (1 protected).
    B (8 ha): 4 cropland, 2 grassland (FVC 0.5, 0.7), 2 bare.
    Water erosion modulus (t/km2/yr): A 0 everywhere but one pixel at 3000 (中度); B: two
    cropland pixels at 1000 (exactly the tolerable loss: 轻度) and 999 (微度); wind: one bare
    pixel of B at 300 (轻度).
    """
    d = tmp / "reaches" / "r1"
    lu = np.array(
        [
            [CID["forest"], CID["forest"], CID["cropland_irrigated"], CID["cropland_dry"]],
            [CID["shrub"], CID["grassland"], CID["cropland_irrigated"], CID["cropland_dry"]],
            [CID["grassland"], CID["grassland"], CID["grassland"], CID["grassland"]],
            [CID["wetland"], CID["wetland"], CID["bare"], CID["bare"]],
        ],
        np.uint8,
    )
    county = np.array([[int(A), int(A), int(B), int(B)]] * 4, np.int32)
    prot = np.zeros((4, 4), np.uint8)
    prot[3, 0] = 1
    red = np.zeros((4, 4), np.uint8)
    f = np.full((4, 4), 0.1, np.float32)
    f[1, 1], f[2, 0], f[2, 1] = 0.2, 0.4, 0.6
    f[2, 2], f[2, 3] = 0.5, 0.7
    loss = np.zeros((4, 4), np.float32)  # t per pixel (0.01 km2)
    loss[0, 0] = 3000 * 0.01
    loss[0, 2] = 1000 * 0.01
    loss[0, 3] = 999 * 0.01
    wind = np.zeros((4, 4), np.float32)
    wind[3, 3] = 300 * 0.01
    _tif(d / "landuse.tif", lu, 0)
    _tif(d / "zone_county.tif", county, 0)
    _tif(d / "zone_protected_any.tif", prot, 255)
    _tif(d / "zone_ecological_redline.tif", red, 255)
    _tif(d / "services" / "soil_loss_t.tif", loss, -9999.0)
    _tif(d / "services" / "wind_erosion_t.tif", wind, -9999.0)
    if fvc:
        _tif(d / "fvc.tif", f, -9999.0)
    return d


def cfg(**kw):
    c = copy.deepcopy(CFG["scorecard"])
    c.update(kw)
    return c


def test_sl190_classes_by_hand():
    br = [1000, 2500, 5000, 8000, 15000]
    m = np.array([0, 999, 1000, 2499, 2500, 7999, 8000, 15000, 1e6, np.nan])
    assert erosion_class(m, br).tolist() == [0, 0, 1, 1, 2, 3, 4, 5, 5, 0]
    with pytest.raises(ValueError, match="5 increasing"):
        erosion_class(m, [1, 2, 3])


def test_tiny_region_rates(tmp_path):
    d = tiny_region(tmp_path)
    s = raster_sums(
        {"r1": d}, [int(A), int(B)], CLASSES, cfg(), CFG["services"]["fvc_by_class"]
    ).set_index("adcode")
    assert s.loc[A, "land_ha"] == pytest.approx(8.0) and s.loc[B, "land_ha"] == pytest.approx(8.0)
    assert s.loc[A, "forest_ha"] == pytest.approx(3.0)  # forest + shrub
    assert s.loc[B, "cropland_ha"] == pytest.approx(4.0)
    assert s.loc[A, "erosion_moderate_ha"] == pytest.approx(1.0)
    assert s.loc[B, "erosion_light_ha"] == pytest.approx(2.0)  # 1000 t (water), 300 t (wind)
    assert s.loc[B, "erosion_slight_ha"] == pytest.approx(6.0)
    from nxgeo.scorecard import rates

    r = rates(s)
    assert r.loc[A, "forest_cover_pct"] == pytest.approx(100 * 3 / 8)
    assert r.loc[B, "forest_cover_pct"] == pytest.approx(0.0)
    assert r.loc[A, "grassland_fvc_pct"] == pytest.approx(100 * (0.2 + 0.4 + 0.6) / 3)
    assert r.loc[B, "grassland_fvc_pct"] == pytest.approx(100 * (0.5 + 0.7) / 2)
    assert r.loc[A, "wetland_protection_pct"] == pytest.approx(50.0)
    assert np.isnan(r.loc[B, "wetland_protection_pct"])  # no wetland: empty, not 0
    assert r.loc[A, "soil_conservation_pct"] == pytest.approx(100 * 7 / 8)
    assert r.loc[B, "soil_conservation_pct"] == pytest.approx(100 * 6 / 8)
    # without wind erosion the bare pixel is 微度
    s2 = raster_sums(
        {"r1": d},
        [int(A), int(B)],
        CLASSES,
        cfg(include_wind_erosion=False),
        CFG["services"]["fvc_by_class"],
    ).set_index("adcode")
    assert rates(s2).loc[B, "soil_conservation_pct"] == pytest.approx(100 * 7 / 8)
    # without an FVC raster the class default of services.fvc_by_class
    (d / "fvc.tif").unlink()
    s3 = raster_sums(
        {"r1": d},
        [int(A), int(B)],
        CLASSES,
        cfg(),
        {**CFG["services"]["fvc_by_class"], "grassland": 0.3},
    ).set_index("adcode")
    assert rates(s3).loc[A, "grassland_fvc_pct"] == pytest.approx(30.0)
    assert s3["grassland_fvc_source"].iloc[0].startswith("services.fvc_by_class")


def test_missing_erosion_raster_and_unknown_class_are_named(tmp_path):
    d = tiny_region(tmp_path)
    with pytest.raises(InputError, match="forest_cover_classes: unknown land-use class"):
        raster_sums({"r1": d}, [int(A)], CLASSES, cfg(forest_cover_classes=["jungle"]), {})
    (d / "services" / "wind_erosion_t.tif").unlink()
    with pytest.raises(InputError, match="wind_erosion_t.tif: wind_loss raster of reach r1"):
        raster_sums({"r1": d}, [int(A)], CLASSES, cfg(), CFG["services"]["fvc_by_class"])


def _tables(tmp: Path):
    gep = pd.DataFrame(
        {
            "zone_kind": ["county", "county", "region"],
            "zone_id": [A, B, TOTAL_ID],
            "zone_name": ["盐池县", "灵武市", "合计"],
            "gep_yi_cny": [1.5, 2.5, 4.0],
        }
    )
    wb = pd.DataFrame(
        {
            "adcode": [A, B],
            "headroom_m3": [1e6, 0.0],
            "allocated_m3": [4e5, 0.0],
            "left_m3": [6e5, 0.0],
        }
    )
    return gep, wb


def _parcels():
    return pd.DataFrame(
        {
            "adcode": [A, A, A, B, B],
            "pathway": [
                "land_consolidation",
                "homestead_greening",
                "sand_control",
                "mine_remediation",
                "land_consolidation",
            ],
            "eligible": [1, 1, 1, 1, 0],
            "allocated": [1, 0, 1, 1, 0],
            "new_cultivated_ha": [3.0, 0.5, 0.0, 2.0, 9.0],
            "freed_quota_ha": [1.0, 0.5, 0.0, 0.0, 9.0],
            "greening_increment_ha": [0.0, 0.0, 10.0, 0.0, 9.0],
            "pv_mw": [0.0, 0.0, 0.0, 1.5, 9.0],
            "closure_ha": [0.0, 0.0, 7.0, 0.0, 9.0],
        }
    )


def test_first_year_has_empty_change_columns_that_say_why(tmp_path):
    d = tiny_region(tmp_path)
    s = raster_sums({"r1": d}, [int(A), int(B)], CLASSES, cfg(), CFG["services"]["fvc_by_class"])
    gep, wb = _tables(tmp_path)
    counties = pd.DataFrame({"adcode": [A, B], "name": ["盐池县", "灵武市"]})
    t = build_scorecard(counties, 2023, s, gep, _parcels(), wb)
    assert list(t.columns) == COLUMNS
    assert list(t["adcode"]) == [A, B, TOTAL_ID]
    for c in (
        "gep_change_yi_cny",
        "gep_change_pct",
        "cropland_net_ha",
        "greening_after_trade_ha",
        "carbon_balance_t_co2",
    ):
        assert t[c].isna().all(), c
    assert (t["change_note"] == NO_COMPARE_NOTE).all()
    a = t.set_index("adcode").loc[A]
    assert a["gep_yi_cny"] == 1.5 and a["forest_cover_pct"] == pytest.approx(37.5)
    assert a["cand_new_cultivated_ha"] == 3.0 and a["cand_freed_quota_ha"] == 1.0
    assert a["cand_greening_ha"] == 10.0 and a["cand_closure_ha"] == 7.0
    assert a["cand_allocated_n"] == 2 and a["water_headroom_m3"] == 1e6
    tot = t.set_index("adcode").loc[TOTAL_ID]
    # the total's rates come from the summed areas, not from averaging rates
    assert tot["forest_cover_pct"] == pytest.approx(100 * 3 / 16)
    assert tot["soil_conservation_pct"] == pytest.approx(100 * 13 / 16)
    assert tot["gep_yi_cny"] == pytest.approx(4.0) and tot["cand_pv_mw"] == pytest.approx(1.5)
    assert tot["cropland_mu"] == pytest.approx(4.0 * 15)


def test_second_year_takes_the_comparison(tmp_path):
    d = tiny_region(tmp_path)
    s = raster_sums({"r1": d}, [int(A), int(B)], CLASSES, cfg(), CFG["services"]["fvc_by_class"])
    gep, wb = _tables(tmp_path)
    counties = pd.DataFrame({"adcode": [A, B], "name": ["盐池县", "灵武市"]})
    change = pd.DataFrame(
        {
            "zone_kind": ["county", "county", "region"],
            "zone_id": [A, B, TOTAL_ID],
            "d_gep_yi_cny": [0.1, -0.2, -0.1],
            "d_gep_pct": [7.1, -7.4, -2.4],
        }
    )
    crop = pd.DataFrame(
        {
            "adcode": [A, B],
            "cropland_gain_ha": [1.0, 0.0],
            "cropland_loss_ha": [0.0, 3.0],
            "cropland_net_ha": [1.0, -3.0],
        }
    )
    green = pd.DataFrame(
        {
            "adcode": [A, B],
            "increment_ha": [5.0, 1.0],
            "target_ha": [4.0, 2.0],
            "after_trade_ha": [4.0, 2.0],
            "status_zh": ["达标", "交易后达标"],
        }
    )
    carbon = pd.DataFrame(
        {
            "adcode": [A, B],
            "sink_t_co2": [10.0, 1.0],
            "emission_t_co2": [5.0, 8.0],
            "balance_t_co2": [5.0, -7.0],
            "after_trade_balance_t_co2": [0.0, -2.0],
            "status_zh": ["碳盈余", "碳赤字"],
        }
    )
    t = build_scorecard(
        counties,
        2024,
        s,
        gep,
        _parcels(),
        wb,
        compare_from=2023,
        gep_change=change,
        cropland=crop,
        greening=green,
        carbon=carbon,
    ).set_index("adcode")
    assert t.loc[B, "gep_change_pct"] == -7.4 and t.loc[TOTAL_ID, "gep_change_pct"] == -2.4
    assert t.loc[B, "cropland_net_ha"] == -3.0 and t.loc[TOTAL_ID, "cropland_net_ha"] == -2.0
    assert t.loc[A, "greening_vs_target_ha"] == 0.0 and t.loc[B, "carbon_after_trade_t_co2"] == -2
    assert t.loc[A, "change_note"] == "2023→2024" and t.loc[A, "compare_from"] == 2023


@st.composite
def parcel_frames(draw):
    n = draw(st.integers(0, 25))
    num = st.floats(0, 100, allow_nan=False)
    return pd.DataFrame(
        {
            "adcode": draw(st.lists(st.sampled_from([A, B]), min_size=n, max_size=n)),
            "eligible": draw(st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n)),
            "allocated": draw(st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n)),
            **{f: draw(st.lists(num, min_size=n, max_size=n)) for f in CANDIDATE_SUMS.values()},
        }
    )


@settings(max_examples=60, deadline=None)
@given(parcels=parcel_frames())
def test_property_candidate_indicators_are_sums_over_the_allocated_parcels(parcels):
    got = candidate_indicators(parcels).set_index("adcode")
    real = parcels[(parcels["eligible"] == 1) & (parcels["allocated"] == 1)]
    for code in (A, B):
        sub = real[real["adcode"] == code]
        for col, field in CANDIDATE_SUMS.items():
            want = float(sub[field].sum())
            have = float(got.loc[code, col]) if code in got.index else 0.0
            assert have == pytest.approx(want, abs=1e-9)
        assert (int(got.loc[code, "cand_allocated_n"]) if code in got.index else 0) == len(sub)
    # a parcel that is not allocated changes nothing
    more = pd.concat(
        [
            parcels,
            pd.DataFrame(
                {
                    "adcode": [A],
                    "eligible": [1],
                    "allocated": [0],
                    **{f: [50.0] for f in CANDIDATE_SUMS.values()},
                }
            ),
        ],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(
        candidate_indicators(more).reset_index(drop=True),
        candidate_indicators(parcels).reset_index(drop=True),
        check_dtype=False,
    )


def test_programme_columns_are_sums_over_the_selected_parcels(tmp_path):
    prog = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "parcel_id": ["D-LC-1", "A-HS-1", "B-MN-1"],
            "adcode": [A, A, B],
            "area_mu": [30.0, 15.0, 150.0],
            "cost_wan_cny": [18.8, 9.4, 109.8],
            "new_cultivated_ha": [2.0, 1.0, 0.0],
            "greening_increment_ha": [0.0, 0.0, 10.0],
            "d_gep_wan_cny": [0.5, 0.25, 3.0],
        }
    )
    got = programme_indicators(prog).set_index("adcode")
    assert got.loc[A, "prog_parcels_n"] == 2 and got.loc[B, "prog_parcels_n"] == 1
    assert got.loc[A, "prog_cost_wan_cny"] == pytest.approx(28.2)
    assert got.loc[B, "prog_greening_ha"] == 10.0
    d = tiny_region(tmp_path)
    s = raster_sums({"r1": d}, [int(A), int(B)], CLASSES, cfg(), CFG["services"]["fvc_by_class"])
    gep, wb = _tables(tmp_path)
    t = build_scorecard(
        pd.DataFrame({"adcode": [A, B], "name": ["盐池县", "灵武市"]}),
        2023,
        s,
        gep,
        _parcels(),
        wb,
        programme=prog,
    ).set_index("adcode")
    for col, field in PROGRAMME_SUMS.items():
        assert t.loc[TOTAL_ID, col] == pytest.approx(prog[field].sum())
    assert t.loc[TOTAL_ID, "prog_parcels_n"] == 3
    # without a programme (none selected) the columns are 0, not empty
    t0 = build_scorecard(
        pd.DataFrame({"adcode": [A, B], "name": ["盐池县", "灵武市"]}), 2023, s, gep, _parcels(), wb
    )
    assert (t0["prog_cost_wan_cny"] == 0).all()


def test_stage_reads_the_candidates_layers_and_writes_the_csv(tmp_path):
    """county_scorecard on files: the candidate columns equal the sums over the allocated
    parcels of every layer of candidates.gpkg."""
    d = tiny_region(tmp_path)
    gep, wb = _tables(tmp_path)
    gep.to_csv(tmp_path / "gep.csv", index=False)
    wb.to_csv(tmp_path / "wb.csv", index=False)
    vec = tmp_path / "vectors.gpkg"
    gpd.GeoDataFrame(
        {"id": [A, B], "name": ["盐池县", "灵武市"]},
        geometry=[box(X0, Y0 - 400, X0 + 200, Y0), box(X0 + 200, Y0 - 400, X0 + 400, Y0)],
        crs=CRS,
    ).to_file(vec, layer="counties", driver="GPKG", engine="pyogrio")
    parcels = _parcels()
    cand = tmp_path / "candidates.gpkg"
    for p, sub in parcels.groupby("pathway"):
        gpd.GeoDataFrame(sub, geometry=[box(X0, Y0 - 10, X0 + 10, Y0)] * len(sub), crs=CRS).to_file(
            cand, layer=p, driver="GPKG", engine="pyogrio"
        )
    out = tmp_path / "county_scorecard.csv"
    pd.DataFrame(
        {
            "rank": [1],
            "adcode": [B],
            "area_mu": [15.0],
            "cost_wan_cny": [9.0],
            "new_cultivated_ha": [1.0],
            "greening_increment_ha": [0.0],
            "d_gep_wan_cny": [0.2],
        }
    ).to_csv(tmp_path / "programme.csv", index=False)
    county_scorecard(
        {"r1": d},
        2023,
        vec,
        ROOT / "config" / "landuse" / "classes.csv",
        out,
        cfg_scorecard=cfg(),
        fvc_by_class=CFG["services"]["fvc_by_class"],
        gep_csv=tmp_path / "gep.csv",
        candidates_gpkg=cand,
        water_balance_csv=tmp_path / "wb.csv",
        programme_csv=tmp_path / "programme.csv",
    )
    t = pd.read_csv(out, encoding="utf-8-sig", dtype={"adcode": str}).set_index("adcode")
    real = parcels[(parcels["eligible"] == 1) & (parcels["allocated"] == 1)]
    for col, field in CANDIDATE_SUMS.items():
        assert t.loc[TOTAL_ID, col] == pytest.approx(real[field].sum())
        assert t.loc[B, col] == pytest.approx(real[real["adcode"] == B][field].sum())
    assert t.loc[B, "prog_cost_wan_cny"] == 9.0 and t.loc[A, "prog_cost_wan_cny"] == 0.0
    assert out.read_bytes()[:3] == b"\xef\xbb\xbf"  # UTF-8 with BOM (Excel)
    with pytest.raises(InputError, match="GEP change by county not found"):
        county_scorecard(
            {"r1": d},
            2024,
            vec,
            ROOT / "config" / "landuse" / "classes.csv",
            out,
            cfg_scorecard=cfg(),
            fvc_by_class=CFG["services"]["fvc_by_class"],
            gep_csv=tmp_path / "gep.csv",
            candidates_gpkg=cand,
            water_balance_csv=tmp_path / "wb.csv",
            compare_from=2023,
            gep_change_csv=tmp_path / "missing.csv",
        )


def test_report_rows_are_bilingual_and_formatted(tmp_path):
    d = tiny_region(tmp_path)
    s = raster_sums({"r1": d}, [int(A), int(B)], CLASSES, cfg(), CFG["services"]["fvc_by_class"])
    gep, wb = _tables(tmp_path)
    t = build_scorecard(
        pd.DataFrame({"adcode": [A, B], "name": ["盐池县", "灵武市"]}), 2023, s, gep, _parcels(), wb
    )
    heads, rows = report_rows(t)
    assert len(heads) == len(REPORT_COLUMNS) and len(rows) == 3
    assert heads[REPORT_COLUMNS.index("forest_cover_pct")] == "森林覆盖率 Forest cover (%)"
    assert rows[0][0] == "盐池县" and rows[0][REPORT_COLUMNS.index("forest_cover_pct")] == "37.5"
    assert rows[0][REPORT_COLUMNS.index("gep_change_pct")] == "—"  # first year
    assert all(c in INDICATORS for c in REPORT_COLUMNS)
    from nxgeo.scorecard import report_table

    df, headers = report_table(t)
    assert list(df.columns) == REPORT_COLUMNS and len(df) == 3
    assert headers["soil_conservation_pct"] == ("水土保持率", "Soil and water conservation rate")


def test_every_scorecard_column_is_documented():
    text = (ROOT / "docs" / "indicators.md").read_text(encoding="utf-8")
    missing = [c for c in COLUMNS if f"`{c}`" not in text]
    assert not missing, f"docs/indicators.md does not document {missing}"
