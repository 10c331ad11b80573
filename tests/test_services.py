"""Ecosystem-service models (nxgeo.services): each formula on hand-computed tiny inputs, and the
stages (services_reach, services_year, compare_services, parcel_gains) on a synthetic reach."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import yaml
from rasterio.transform import from_origin
from shapely.geometry import box

from nxgeo.errors import ConfigError, InputError
from nxgeo.raster_io import write_raster
from nxgeo.services import (
    carbon,
    compare_services,
    compute_services,
    load_params,
    parcel_gains,
    rusle,
    rweq,
    services_reach,
    services_year,
    water_conservation,
)
from nxgeo.services.valuation import service_values
from nxgeo.terrain import ls_factor

CLASSES = "config/landuse/classes.csv"
CARBON = "config/tables/carbon_pools.csv"
PRICES = "config/tables/prices.csv"
CRS = "EPSG:4507"
FOREST, GRASS, WATER = 4, 6, 8

# Simple parameters so every number below can be worked by hand.
CFG = {
    "co2_per_c": 44 / 12,
    "rusle": {"r_a": 0.0483, "r_b": 1.61, "r_switch_mm": 850,
              "r_quadratic": [587.8, -1.219, 0.004105],
              "k_by_class": {"default": 0.04}, "c_by_class": {"forest": 0.01, "default": 0.1},
              "p_by_class": {"default": 1.0}, "exclude_classes": ["water"]},
    "rweq": {"z_m": 50, "q_coeff": 109.8, "s_coeff": 150.71, "s_exp": -0.3711,
             "c_coeff": {"forest": -0.1535, "default": -0.1151}, "exclude_classes": ["water"],
             "wf_kg_per_m": 1.0, "ef_by_class": {"default": 1.0},
             "scf_by_class": {"default": 1.0}, "k_prime_by_class": {"default": 1.0}},
    "fvc_by_class": {"forest": 0.5, "default": 0.0},
    "water_conservation": {"runoff_coeff": {"default": 0.1},
                           "et_ratio_by_class": {"default": 0.8}},
    "parcel_targets": {"forest": {"class": "forest"}, "grass": {"class": "grassland"},
                       "closed_protection": {"class": "sandy", "fvc": 0.2, "rusle_c": 0.3},
                       "cropland": {"class": "cropland_irrigated",
                                    "class_not_secured": "cropland_dry"}},
}
R300 = 470.01568471102905      # 0.0483 * 300**1.61
SL1 = 0.43302886674594127      # (2*50/150.71**2) * 109.8 * exp(-(50/150.71)**2), kg/m2


# --------------------------------------------------------------------------------------------
# Formulas
# --------------------------------------------------------------------------------------------


def test_carbon_stock_invest_semantics():
    lut = carbon.density_lut(pd.read_csv(CARBON))
    lu = np.array([[FOREST, GRASS, 0], [WATER, FOREST, GRASS], [0, 0, FOREST]], np.uint8)
    stock = carbon.carbon_stock(lu, lut, 0.09)  # 30 m pixels
    # forest 30+7+90+3 = 130, grassland 1.5+6+50+0.5 = 58, water 0 (t C/ha)
    assert stock[0, 0] == pytest.approx(130 * 0.09)
    assert stock[0, 1] == pytest.approx(58 * 0.09)
    assert stock[1, 0] == 0.0
    assert np.isnan(stock[0, 2])
    assert np.nansum(stock) == pytest.approx((3 * 130 + 2 * 58) * 0.09)
    assert carbon.to_co2(12.0) == pytest.approx(44.0)
    assert carbon.carbon_value(12.0, 100.0) == pytest.approx(4400.0)
    with pytest.raises(InputError, match=r"\[99\]"):
        carbon.carbon_stock(np.array([[99]], np.uint8), lut, 1.0)


def test_carbon_table_errors(tmp_path):
    bad = tmp_path / "c.csv"
    bad.write_text("lucode,C_above,C_below,C_soil\n1,1,2,3\n")
    with pytest.raises(InputError, match="C_dead"):
        carbon.read_carbon_table(bad)


def test_erosivity_renard_freimund():
    r = rusle.erosivity(np.array([0.0, 300.0, 1000.0, np.nan]))
    assert r[0] == 0.0
    assert r[1] == pytest.approx(R300)
    assert r[2] == pytest.approx(587.8 - 1219.0 + 4105.0)       # quadratic branch: 3473.8
    assert np.isnan(r[3])
    # power law only when the quadratic branch is switched off
    assert rusle.erosivity(1000.0, 0.0483, 1.61, None, None) == pytest.approx(0.0483 * 1000**1.61)


def test_rusle_c_from_fvc():
    c = rusle.c_from_fvc(np.array([0.0, 0.10, 0.783, 0.9, 0.001, 0.0001, np.nan]))
    assert c[0] == 1.0                                  # bare: C = 1
    assert c[1] == pytest.approx(0.6508 - 0.3436)       # f = 10 %: lg 10 = 1 -> 0.3072
    assert c[2] == 0.0                                  # f = 78.3 %: 0 from there on
    assert c[3] == 0.0
    assert c[4] == pytest.approx(0.6508 + 0.3436)       # f = 0.1 %: lg 0.1 = -1 -> 0.9944
    assert c[5] == 1.0                                  # formula > 1 below ~1.3 %: clipped
    assert np.isnan(c[6])


def test_soil_retention_formula():
    loss = rusle.soil_loss(100.0, 0.04, 2.0, 0.25, 0.5)
    assert loss["potential"] == pytest.approx(8.0)
    assert loss["actual"] == pytest.approx(1.0)
    assert loss["retention"] == pytest.approx(7.0)      # R K LS (1 - C P)


def test_s_factor_domain_on_3x3_slope_grid():
    slope = np.array([[2.0, 4.9, 5.0], [7.0, 9.9, 10.0], [15.0, 30.0, 45.0]])
    # one cell of 22.13 m, no upslope area, aspect north (x = 1): L = 1, so LS = S
    ls = ls_factor(slope, np.ones_like(slope), 22.13, aspect_deg=np.zeros_like(slope),
                   s_method="domain", l_max=None)
    s = np.sin(np.radians(slope))
    expected = np.where(slope < 5, 10.8 * s + 0.03,
                        np.where(slope < 10, 16.8 * s - 0.5, 21.91 * s - 0.96))
    np.testing.assert_allclose(ls, expected, rtol=1e-5)
    assert ls[0, 0] == pytest.approx(10.8 * math.sin(math.radians(2)) + 0.03, rel=1e-5)
    assert ls[2, 0] == pytest.approx(21.91 * math.sin(math.radians(15)) - 0.96, rel=1e-5)


def test_rweq_sl_hand_worked():
    # x = WF EF SCF K' C = 1: Q_max = 109.8 kg/m, S = 150.71 m
    assert rweq.q_max(1.0) == pytest.approx(109.8)
    assert rweq.critical_length(1.0) == pytest.approx(150.71)
    sl = rweq.soil_loss_sl(1.0, 1.0, 1.0, 1.0, 1.0)
    assert sl == pytest.approx(2 * 50 / 150.71**2 * 109.8 * math.exp(-(50 / 150.71) ** 2))
    assert sl == pytest.approx(SL1)
    # x = 2: Q = 219.6, S = 150.71 * 2**-0.3711 = 116.636...
    s2 = 150.71 * 2 ** -0.3711
    assert rweq.soil_loss_sl(2.0, 1.0, 1.0, 1.0, 1.0) == pytest.approx(
        100 / s2**2 * 219.6 * math.exp(-(50 / s2) ** 2))
    assert rweq.soil_loss_sl(0.0, 1, 1, 1, 1) == 0.0


def test_rweq_c_and_sand_fixation():
    # C = exp(a * FVC%): grass at 30 % cover
    assert rweq.rweq_c(0.30, -0.1151) == pytest.approx(math.exp(-0.1151 * 30))
    assert rweq.rweq_c(0.0, -0.1535) == 1.0
    c = math.exp(-0.1151 * 10)
    res = rweq.sand_fixation(1.0, 1.0, 1.0, 1.0, c)
    assert res["potential"] == pytest.approx(SL1)
    assert res["fixed"] == pytest.approx(SL1 - rweq.soil_loss_sl(1, 1, 1, 1, c))
    assert rweq.T_PER_HA_PER_KG_PER_M2 == 10.0   # kg/m2 -> t/ha


def test_ef_scf_fryrear():
    ef, scf = rweq.ef_scf_from_texture(60.0, 25.0, 15.0, 1.0, 5.0)
    assert ef == pytest.approx((29.09 + 0.31 * 60 + 0.17 * 25 + 0.33 * 4 - 2.59 - 4.75) / 100)
    assert scf == pytest.approx(1 / (1 + 0.0066 * 225 + 0.021))
    ef2, _ = rweq.ef_scf_from_sand_fraction(0.6, {"silt_share_of_fines": 25 / 40,
                                                  "organic_matter_pct": 1.0, "caco3_pct": 5.0})
    assert ef2 == pytest.approx(ef)


def test_water_conservation_balance():
    et = water_conservation.et_mm(np.array([400.0, 400.0, 200.0]), np.array([0.8, 0.8, 1.2]),
                                  np.array([np.nan, 100.0, np.nan]))
    np.testing.assert_allclose(et, [320.0, 100.0, 240.0])
    q = water_conservation.water_conservation_mm(np.array([400.0, 400.0, 200.0]), 0.1, et)
    np.testing.assert_allclose(q, [40.0, 260.0, 0.0])          # negative clipped to 0
    assert water_conservation.mm_to_m3(40.0, 2.0) == pytest.approx(800.0)  # 1 mm·ha = 10 m3


def test_values_and_gep_sum():
    prices = {"carbon_co2": 100.0, "soil_retention": 10.0, "sand_fixation": 5.0,
              "water_conservation": 2.0}
    v = service_values(12.0, 3.0, 4.0, 5.0, prices, 44 / 12)
    assert v["carbon_value_cny"] == pytest.approx(4400.0)
    assert v["gep_regulating_cny"] == pytest.approx(4400 + 30 + 20 + 10)


# --------------------------------------------------------------------------------------------
# compute_services on hand-checked pixels
# --------------------------------------------------------------------------------------------


def test_compute_services_hand_checked():
    p = load_params(CFG, CARBON, CLASSES, PRICES)
    lu = np.array([FOREST, GRASS, WATER, 0], np.uint8)
    res = compute_services(p, lu, np.full(4, 300.0), np.full(4, 2.0), 1.0)
    assert res["carbon_t"][:3] == pytest.approx([130.0, 58.0, 0.0])
    pot = R300 * 0.04 * 2.0
    assert res["soil_t"][:3] == pytest.approx([pot * 0.99, pot * 0.9, 0.0])  # water excluded
    # forest: FVC 50 % -> C = exp(-7.675) ~ 0; grass FVC 0 -> C = 1 -> nothing fixed
    c_forest = math.exp(-0.1535 * 50)
    assert res["sand_t"][0] == pytest.approx(10 * (SL1 - rweq.soil_loss_sl(1, 1, 1, 1, c_forest)))
    assert res["sand_t"][1] == pytest.approx(0.0)
    assert res["water_m3"][:3] == pytest.approx([300.0, 300.0, 300.0])  # (300-30-240) mm * 10
    assert all(np.isnan(res[k][3]) for k in ("carbon_t", "soil_t", "sand_t", "water_m3"))
    # an FVC raster drives the RUSLE C (Cai) and the RWEQ C
    res2 = compute_services(p, lu[:2], np.full(2, 300.0), np.full(2, 2.0), 1.0,
                            fvc=np.array([0.10, np.nan]))
    assert res2["c_rusle"] == pytest.approx([0.3072, 0.1])    # NaN FVC -> class C
    assert res2["soil_t"][0] == pytest.approx(pot * (1 - 0.3072))


def test_missing_class_parameter_is_named():
    cfg = yaml.safe_load(yaml.safe_dump(CFG))
    cfg["rusle"]["k_by_class"] = {"forest": 0.03}
    p = load_params(cfg, CARBON, CLASSES, PRICES)
    with pytest.raises(ConfigError, match="grassland"):
        compute_services(p, np.array([GRASS], np.uint8), [300.0], [1.0], 1.0)
    cfg["rusle"]["k_by_class"] = {"forst": 0.03}
    with pytest.raises(ConfigError, match="forst"):
        load_params(cfg, CARBON, CLASSES, PRICES)


def test_shipped_config_covers_every_class():
    cfg = yaml.safe_load(Path("config/config.yaml").read_text(encoding="utf-8"))["services"]
    p = load_params(cfg, CARBON, CLASSES, PRICES)
    lu = np.arange(1, 14, dtype=np.uint8)
    res = compute_services(p, lu, np.full(13, 350.0), np.full(13, 1.5), 0.09)
    for k in ("carbon_t", "soil_t", "sand_t", "water_m3"):
        assert np.isfinite(res[k]).all() and (res[k] >= 0).all(), k


# --------------------------------------------------------------------------------------------
# Stages on a synthetic pair of overlapping reaches
# --------------------------------------------------------------------------------------------

X0, Y0, PX = 500_000.0, 4_000_000.0, 100.0   # 100 m pixels = 1 ha


def _reach(d, col0, landuse, county, precip=300.0, ls=2.0):
    d.mkdir(parents=True, exist_ok=True)
    t = from_origin(X0 + col0 * PX, Y0, PX, PX)
    write_raster(d / "landuse.tif", landuse.astype(np.uint8), CRS, t, nodata=0)
    write_raster(d / "precipitation.tif", np.full(landuse.shape, precip, np.float32), CRS, t,
                 nodata=-9999.0)
    write_raster(d / "ls.tif", np.full(landuse.shape, ls, np.float32), CRS, t, nodata=-9999.0)
    write_raster(d / "zone_county.tif", county.astype(np.int32), CRS, t, nodata=0)
    return d


@pytest.fixture()
def two_reaches(tmp_path):
    # global 2 x 6 grid; county 640101 in columns 0-2, 640102 in 3-5
    lu = np.array([[FOREST, FOREST, GRASS, GRASS, WATER, GRASS],
                   [GRASS, FOREST, GRASS, FOREST, GRASS, 0]])
    county = np.where(np.arange(6) < 3, 640101, 640102)[None, :].repeat(2, axis=0)
    a = _reach(tmp_path / "a", 0, lu[:, 0:4], county[:, 0:4])      # columns 0-3
    b = _reach(tmp_path / "b", 2, lu[:, 2:6], county[:, 2:6])      # columns 2-5 (overlap 2-3)
    vec = tmp_path / "vectors.gpkg"
    counties = gpd.GeoDataFrame({"id": ["640101", "640102"], "name": ["甲县", "乙县"]},
                                geometry=[box(X0, Y0 - 200, X0 + 300, Y0),
                                          box(X0 + 300, Y0 - 200, X0 + 600, Y0)], crs=CRS)
    reaches = gpd.GeoDataFrame({"id": ["a", "b"], "name": ["甲段 Reach A", "乙段 Reach B"]},
                               geometry=[box(X0, Y0 - 200, X0 + 400, Y0),
                                         box(X0 + 200, Y0 - 200, X0 + 600, Y0)], crs=CRS)
    counties.to_file(vec, layer="counties", driver="GPKG")
    reaches.to_file(vec, layer="reaches", driver="GPKG")
    return {"a": a, "b": b, "vec": vec, "lu": lu, "county": county}


def _per_ha(cls):
    pot = R300 * 0.04 * 2.0
    c_forest = math.exp(-0.1535 * 50)
    return {FOREST: (130.0, pot * 0.99, 10 * (SL1 - rweq.soil_loss_sl(1, 1, 1, 1, c_forest)),
                     300.0),
            GRASS: (58.0, pot * 0.9, 0.0, 300.0), WATER: (0.0, 0.0, 0.0, 300.0)}[cls]


def test_services_reach_and_year(two_reaches, tmp_path):
    for name in ("a", "b"):
        out = services_reach(two_reaches[name], CFG, CARBON, PRICES, CLASSES,
                             two_reaches[name] / "services", extra_layers=("soil_loss_t",))
        assert {"carbon_stock_t", "soil_retention_t", "sand_fixation_t", "water_conservation_m3",
                "soil_loss_t", "meta"} <= set(out)
        with rasterio.open(out["carbon_stock_t"]) as ds:
            assert ds.nodata == -9999.0 and ds.crs.to_epsg() == 4507
            arr = ds.read(1)
        lu = two_reaches["lu"][:, 0:4] if name == "a" else two_reaches["lu"][:, 2:6]
        assert (arr[lu == 0] == -9999.0).all()
        meta = json.loads(out["meta"].read_text(encoding="utf-8"))
        assert meta["prices"]["carbon_co2"] == 100.0
    cdf, rdf = services_year({"a": two_reaches["a"], "b": two_reaches["b"]}, 2024,
                             two_reaches["vec"], tmp_path / "c.csv", tmp_path / "r.csv")
    lu, county = two_reaches["lu"], two_reaches["county"]
    # county sums count the overlapping columns 2-3 once
    for code in (640101, 640102):
        row = cdf[cdf["zone_id"] == str(code)].iloc[0]
        sel = (county == code) & (lu != 0)
        exp = np.sum([_per_ha(c) for c in lu[sel]], axis=0)
        assert row["area_ha"] == pytest.approx(sel.sum())
        assert row["carbon_stock_t_c"] == pytest.approx(exp[0], rel=1e-6)
        assert row["soil_retention_t"] == pytest.approx(exp[1], rel=1e-6)
        assert row["sand_fixation_t"] == pytest.approx(exp[2], rel=1e-6)
        assert row["water_conservation_m3"] == pytest.approx(exp[3], rel=1e-6)
        assert row["carbon_value_cny"] == pytest.approx(exp[0] * 44 / 12 * 100, rel=1e-6)
        assert row["gep_regulating_cny"] == pytest.approx(
            exp[0] * 44 / 12 * 100 + exp[1] * 12.6 + exp[2] * 8.5 + exp[3] * 6.11, rel=1e-6)
    assert cdf["zone_name"].tolist() == ["甲县", "乙县"]
    # reach sums are each reach's own pixels
    ra = rdf[rdf["zone_id"] == "a"].iloc[0]
    assert ra["zone_name"] == "甲段 Reach A"
    assert ra["carbon_stock_t_c"] == pytest.approx(
        sum(_per_ha(c)[0] for c in lu[:, 0:4][lu[:, 0:4] != 0]), rel=1e-6)
    raw = (tmp_path / "c.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    # comparison: year B with one grass pixel turned into forest in reach a, county 640101
    lu2 = lu.copy()
    lu2[1, 0] = FOREST
    _reach(two_reaches["a"], 0, lu2[:, 0:4], county[:, 0:4])
    services_reach(two_reaches["a"], CFG, CARBON, PRICES, CLASSES, two_reaches["a"] / "services")
    services_year({"a": two_reaches["a"], "b": two_reaches["b"]}, 2025, two_reaches["vec"],
                  tmp_path / "c2.csv", tmp_path / "r2.csv")
    cc, _ = compare_services(tmp_path / "c.csv", tmp_path / "c2.csv", tmp_path / "r.csv",
                             tmp_path / "r2.csv", 2024, 2025, tmp_path / "cc.csv",
                             tmp_path / "rc.csv")
    row = cc[cc["zone_id"] == "640101"].iloc[0]
    assert row["carbon_sequestration_t_c"] == pytest.approx(72.0, rel=1e-6)   # 130 - 58
    assert row["carbon_sequestration_t_co2"] == pytest.approx(72 * 44 / 12, rel=1e-6)
    assert row["carbon_sequestration_value_cny"] == pytest.approx(72 * 44 / 12 * 100, rel=1e-6)
    assert row["d_soil_retention_t"] == pytest.approx(R300 * 0.08 * 0.09, rel=1e-5)
    other = cc[cc["zone_id"] == "640102"].iloc[0]
    assert other["carbon_sequestration_t_c"] == pytest.approx(0.0, abs=1e-6)


def test_services_reach_rejects_misaligned_input(two_reaches):
    d = two_reaches["a"]
    write_raster(d / "ls.tif", np.ones((3, 4), np.float32), CRS, from_origin(X0, Y0, PX, PX),
                 nodata=-9999.0)
    with pytest.raises(InputError, match="not on the grid"):
        services_reach(d, CFG, CARBON, PRICES, CLASSES, d / "services")


def test_parcel_gains():
    parcels = pd.DataFrame({
        "parcel_id": [1, 2, 3, 4, 5],
        "recommended_target": ["forest", "grass", "closed_protection", "cropland", None],
        "area_ha": [2.0, 1.0, 3.0, 1.0, 1.0],
        "precipitation_mean": [300.0] * 5, "slope_mean": [5.0] * 5, "ls_mean": [2.0] * 5,
        "share_grassland": [1.0, 0.5, 0.0, 0.0, 1.0], "share_bare": [0.0, 0.5, 0.0, 1.0, 0.0],
        "share_sandy": [0.0, 0.0, 1.0, 0.0, 0.0],
        "water_secured": [False, False, False, True, False],
    })
    out = parcel_gains(parcels, CFG, CARBON, PRICES, CLASSES)
    # 1: grassland -> forest on 2 ha: carbon (130 - 58) * 2
    assert out.loc[0, "d_carbon_t"] == pytest.approx(144.0)
    assert out.loc[0, "d_soil_t"] == pytest.approx(R300 * 0.04 * 2 * (0.1 - 0.01) * 2)
    assert out.loc[0, "d_water_m3"] == pytest.approx(0.0)
    # 2: half grass, half bare -> grass: carbon 58 - (58 + 15.3) / 2
    assert out.loc[1, "d_carbon_t"] == pytest.approx(58 - (58 + 15.3) / 2)
    # 3: sandy -> sandy with FVC 20 % and RUSLE C 0.3 (carbon unchanged, sand fixed rises)
    assert out.loc[2, "d_carbon_t"] == pytest.approx(0.0)
    c_after = math.exp(-0.1151 * 20)
    assert out.loc[2, "d_sand_t"] == pytest.approx(
        3 * 10 * (SL1 - rweq.soil_loss_sl(1, 1, 1, 1, c_after)))
    assert out.loc[2, "d_soil_t"] == pytest.approx(3 * R300 * 0.08 * (0.1 - 0.3))
    # 4: water-secured cropland -> irrigated
    assert out.loc[3, "target_class"] == "cropland_irrigated"
    assert out.loc[3, "d_carbon_t"] == pytest.approx(61 - 15.3)
    # 5: no target -> NaN gains
    assert np.isnan(out.loc[4, "d_value_cny"])
    v = out.loc[0]
    assert v["d_value_cny"] == pytest.approx(
        v["d_carbon_t"] * 44 / 12 * 100 + v["d_soil_t"] * 12.6 + v["d_sand_t"] * 8.5
        + v["d_water_m3"] * 6.11)
    with pytest.raises(ConfigError, match="wine"):
        parcel_gains(parcels.assign(recommended_target="wine"), CFG, CARBON, PRICES, CLASSES)


def test_parcel_gains_candidate_fields_keep_refine_and_slope_fallback():
    cfg = yaml.safe_load(yaml.safe_dump(CFG))
    cfg["parcel_targets"].update({
        "closed_protection": {"class": "current", "fvc": 0.2},
        "for_profit": {"class": "shrub", "refine_by": "sub_mode",
                       "refine": {"pv": "solar_pv", "tourism": "tourism"}},
        "solar_pv": {"class": "bare"}, "tourism": {"class": "current"},
    })
    cfg["parcel_slope_length_m"] = 22.13        # one slope of 22.13 m: L = 1, LS = S
    # candidate-layer field names: precip_mean_mm, slope_mean, water_secured_share, sub_mode
    parcels = pd.DataFrame({
        "recommended_target": ["closed_protection", "for_profit", "for_profit", "cropland", ""],
        "sub_mode": ["", "pv", "tourism", "", ""],
        "area_ha": [1.0, 1.0, 1.0, 1.0, 1.0], "precip_mean_mm": [300.0] * 5,
        "slope_mean": [3.0] * 5, "water_secured_share": [0.0, 0.0, 0.0, 0.6, 0.0],
        "share_sandy": [0.5, 0.0, 1.0, 0.0, 1.0], "share_bare": [0.5, 1.0, 0.0, 1.0, 0.0],
    })
    out = parcel_gains(parcels, cfg, CARBON, PRICES, CLASSES, s_method="domain")
    assert out["target_key"].tolist()[:4] == ["closed_protection", "solar_pv", "tourism",
                                              "cropland"]
    assert out["target_class"].tolist()[:4] == ["current", "bare", "current",
                                                "cropland_irrigated"]
    # closed protection keeps sand and bare (no carbon change) and raises cover: sand fixed
    assert out.loc[0, "d_carbon_t"] == pytest.approx(0.0)
    assert out.loc[0, "d_sand_t"] == pytest.approx(
        10 * (SL1 - rweq.soil_loss_sl(1, 1, 1, 1, math.exp(-0.1151 * 20))))
    assert out.loc[0, "d_soil_t"] == pytest.approx(0.0)   # RUSLE C by class, unchanged
    # PV on bare land: unchanged class; tourism: no change at all
    assert out.loc[1, "d_value_cny"] == pytest.approx(0.0)
    assert out.loc[2, "d_value_cny"] == pytest.approx(0.0)
    assert np.isnan(out.loc[4, "d_carbon_t"])                # empty target: no gain
    # LS from the mean slope: S of 3 degrees (DOMAIN form), L = 1 -> cropland C 0.1 vs bare 0.1
    s3 = 10.8 * math.sin(math.radians(3.0)) + 0.03
    cfg["rusle"]["c_by_class"] = {"cropland_irrigated": 0.2, "default": 0.5}
    out2 = parcel_gains(parcels.iloc[[3]], cfg, CARBON, PRICES, CLASSES, s_method="domain")
    assert out2["d_soil_t"].iloc[0] == pytest.approx(R300 * 0.04 * s3 * (0.5 - 0.2), rel=1e-5)
