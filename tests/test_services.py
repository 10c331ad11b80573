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

from nxgeo.config import fill_section
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
from nxgeo.terrain import ls_factor

CLASSES = "config/landuse/classes.csv"
CARBON = "config/tables/carbon_pools.csv"
PRICES = "config/tables/prices.csv"
SHIPPED_COEF = "config/tables/gep_coefficients.csv"
CRS = "EPSG:4507"
FOREST, GRASS, WATER, SANDY, SHRUB = 4, 6, 8, 12, 5

# Texture giving EF·SCF with x = 1 at WF below: sand 50 %, silt 25 %, clay 25 %, OM = CaCO3 = 0:
# EF = (29.09 + 0.31·50 + 0.17·25 + 0.33·50/25)/100 = 0.4950, SCF = 1/(1 + 0.0066·625) = 0.195122
EF_T, SCF_T = 0.4950, 1 / 5.125
WF1 = 1.0 / (EF_T * SCF_T)  # x = WF·EF·SCF·K'·C = 1 on flat bare soil

# Simple parameters so every number below can be worked by hand (the section as check_config
# completes it: keys not written here take the schema defaults).
CFG = fill_section(
    "services",
    {
        "co2_per_c": 44 / 12,
        "rusle": {
            "r_a": 0.0483,
            "r_b": 1.61,
            "r_switch_mm": 850,
            "r_quadratic": [587.8, -1.219, 0.004105],
            "k_by_class": {"default": 0.04},
            "c_by_class": {"forest": 0.01, "default": 0.1},
            "p_by_class": {"default": 1.0},
            "exclude_classes": ["water"],
        },
        "rweq": {
            "z_m": 50,
            "q_coeff": 109.8,
            "s_coeff": 150.71,
            "s_exp": -0.3711,
            "c_coeff": {"forest": -0.1535, "default": -0.1151},
            "exclude_classes": ["water"],
            "wf_kg_per_m": WF1,
            "texture": {
                "sand_fraction": 0.5,
                "silt_share_of_fines": 0.5,
                "organic_matter_pct": 0.0,
                "caco3_pct": 0.0,
                "min_clay_pct": 1.0,
            },
            "roughness_length_m": 30.0,
            "random_roughness_cm": 0.0,
        },
        "fvc_by_class": {"forest": 0.5, "default": 0.0},
        "water_conservation": {
            "runoff_coeff": {"default": 0.1},
            "et_ratio_by_class": {"default": 0.8},
        },
        "gep": {
            "material_products": None,
            "cultural_services": None,
            "statistics_unit": "wan_cny",
            "include_oxygen_release": False,
        },
        "parcel_targets": {
            "forest": {"class": "forest"},
            "grass": {"class": "grassland"},
            "closed_protection": {"class": "sandy", "fvc": 0.2, "rusle_c": 0.3},
            "cropland": {"class": "cropland_irrigated", "class_not_secured": "cropland_dry"},
        },
        "parcel_water_secured_share": 0.5,
    },
)
# A coefficient table with round numbers (service, parameter, class, value).
COEF_ROWS = [
    ("carbon_sequestration", "rate", "forest", 1.0),
    ("carbon_sequestration", "rate", "grassland", 0.1),
    ("carbon_sequestration", "rate", "default", 0.0),
    ("carbon_sequestration", "maturation_years", "", 20),
    ("carbon_sequestration", "loss_years", "", 1),
    ("oxygen_release", "o2_per_co2", "", 32 / 44),
    ("soil_retention", "bulk_density", "", 1.25),
    ("soil_retention", "sediment_deposition_ratio", "", 0.24),
    ("nutrient_retention", "content_n", "", 0.001),
    ("nutrient_retention", "content_p", "", 0.0005),
    ("nutrient_retention", "content_k", "", 0.02),
    ("nutrient_retention", "content_om", "", 0.01),
    ("flood_regulation", "storm_share", "", 0.5),
    ("flood_regulation", "reference_runoff_coeff", "", 0.6),
    ("flood_regulation", "storm_runoff_coeff", "forest", 0.1),
    ("flood_regulation", "storm_runoff_coeff", "default", 0.6),
    ("flood_regulation", "storage_depth", "water", 0.5),
    ("flood_regulation", "storage_depth", "default", 0),
    ("climate_regulation", "transpiration_share", "forest", 0.5),
    ("climate_regulation", "transpiration_share", "water", 1.0),
    ("climate_regulation", "transpiration_share", "default", 0.0),
    ("climate_regulation", "hot_season_et_share", "", 0.3),
    ("climate_regulation", "latent_heat", "", 2.45),
    ("climate_regulation", "cooling_cop", "", 3.0),
    ("air_purification", "so2", "forest", 100),
    ("air_purification", "so2", "default", 0),
    ("air_purification", "nox", "forest", 10),
    ("air_purification", "nox", "default", 0),
    ("air_purification", "dust", "forest", 1000),
    ("air_purification", "dust", "default", 0),
    ("water_purification", "cod", "water", 100),
    ("water_purification", "cod", "default", 0),
    ("water_purification", "tn", "water", 10),
    ("water_purification", "tn", "default", 0),
    ("water_purification", "tp", "water", 1),
    ("water_purification", "tp", "default", 0),
]
COEF = pd.DataFrame(
    [(a, b, c, v, "u", "test", "no") for a, b, c, v in COEF_ROWS],
    columns=["service", "parameter", "class", "value", "unit", "source", "placeholder"],
)
R300 = 470.01568471102905  # 0.0483 * 300**1.61
SL1 = 0.43302886674594127  # (2*50/150.71**2) * 109.8 * exp(-(50/150.71)**2), kg/m2
# per ha at P = 300 mm, LS = 2 (pixels of 1 ha), worked by hand:
POT = R300 * 0.04 * 2.0  # RUSLE potential R·K·LS
C_FOREST_W = math.exp(-0.1535 * 50)  # RWEQ C of forest at FVC 50 %
SAND_FOREST = 10 * (SL1 - rweq.soil_loss_sl(1, 1, 1, 1, C_FOREST_W))  # t/ha
# climate: ET = 0.8·300 = 240 mm = 2400 m3/ha = 2.4e6 kg; × share × 0.3 × 2.45 MJ/kg / 3.6 / 3
CLIM = 2.4e6 * 0.3 * 2.45 / 3.6 / 3.0  # kWh/ha at transpiration share 1


def load(cfg=None, coef=None):
    return load_params(cfg or CFG, CARBON, CLASSES, PRICES, COEF if coef is None else coef)


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
    assert r[2] == pytest.approx(587.8 - 1219.0 + 4105.0)  # quadratic branch: 3473.8
    assert np.isnan(r[3])
    # power law only when the quadratic branch is switched off
    assert rusle.erosivity(1000.0, 0.0483, 1.61, None, None) == pytest.approx(0.0483 * 1000**1.61)


def test_rusle_c_from_fvc():
    c = rusle.c_from_fvc(np.array([0.0, 0.10, 0.783, 0.9, 0.001, 0.0001, np.nan]))
    assert c[0] == 1.0  # bare: C = 1
    assert c[1] == pytest.approx(0.6508 - 0.3436)  # f = 10 %: lg 10 = 1 -> 0.3072
    assert c[2] == 0.0  # f = 78.3 %: 0 from there on
    assert c[3] == 0.0
    assert c[4] == pytest.approx(0.6508 + 0.3436)  # f = 0.1 %: lg 0.1 = -1 -> 0.9944
    assert c[5] == 1.0  # formula > 1 below ~1.3 %: clipped
    assert np.isnan(c[6])


def test_soil_retention_formula():
    loss = rusle.soil_loss(100.0, 0.04, 2.0, 0.25, 0.5)
    assert loss["potential"] == pytest.approx(8.0)
    assert loss["actual"] == pytest.approx(1.0)
    assert loss["retention"] == pytest.approx(7.0)  # R K LS (1 - C P)


def test_s_factor_domain_on_3x3_slope_grid():
    slope = np.array([[2.0, 4.9, 5.0], [7.0, 9.9, 10.0], [15.0, 30.0, 45.0]])
    # one cell of 22.13 m, no upslope area, aspect north (x = 1): L = 1, so LS = S
    ls = ls_factor(
        slope,
        np.ones_like(slope),
        22.13,
        aspect_deg=np.zeros_like(slope),
        s_method="domain",
        l_max=None,
    )
    s = np.sin(np.radians(slope))
    expected = np.where(
        slope < 5, 10.8 * s + 0.03, np.where(slope < 10, 16.8 * s - 0.5, 21.91 * s - 0.96)
    )
    np.testing.assert_allclose(ls, expected, rtol=1e-5)
    assert ls[0, 0] == pytest.approx(10.8 * math.sin(math.radians(2)) + 0.03, rel=1e-5)
    assert ls[2, 0] == pytest.approx(21.91 * math.sin(math.radians(15)) - 0.96, rel=1e-5)


def test_rweq_sl_hand_worked():
    # x = WF EF SCF K' C = 1: Q_max = 109.8 kg/m, S = 150.71 m
    assert rweq.q_max(1.0) == pytest.approx(109.8)
    assert rweq.critical_length(1.0) == pytest.approx(150.71)
    sl = rweq.soil_loss_sl(1.0, 1.0, 1.0, 1.0, 1.0)
    assert sl == pytest.approx(2 * 50 / 150.71**2 * 109.8 * math.exp(-((50 / 150.71) ** 2)))
    assert sl == pytest.approx(SL1)
    # x = 2: Q = 219.6, S = 150.71 * 2**-0.3711 = 116.636...
    s2 = 150.71 * 2**-0.3711
    assert rweq.soil_loss_sl(2.0, 1.0, 1.0, 1.0, 1.0) == pytest.approx(
        100 / s2**2 * 219.6 * math.exp(-((50 / s2) ** 2))
    )
    assert rweq.soil_loss_sl(0.0, 1, 1, 1, 1) == 0.0


def test_rweq_c_and_sand_fixation():
    # C = exp(a * FVC%): grass at 30 % cover
    assert rweq.rweq_c(0.30, -0.1151) == pytest.approx(math.exp(-0.1151 * 30))
    assert rweq.rweq_c(0.0, -0.1535) == 1.0
    c = math.exp(-0.1151 * 10)
    res = rweq.sand_fixation(1.0, 1.0, 1.0, 1.0, c)
    assert res["potential"] == pytest.approx(SL1)
    assert res["fixed"] == pytest.approx(SL1 - rweq.soil_loss_sl(1, 1, 1, 1, c))
    assert rweq.T_PER_HA_PER_KG_PER_M2 == 10.0  # kg/m2 -> t/ha


def test_ef_scf_fryrear():
    ef, scf = rweq.ef_scf_from_texture(60.0, 25.0, 15.0, 1.0, 5.0)
    assert ef == pytest.approx((29.09 + 0.31 * 60 + 0.17 * 25 + 0.33 * 4 - 2.59 - 4.75) / 100)
    assert scf == pytest.approx(1 / (1 + 0.0066 * 225 + 0.021))
    tex = {
        "sand_fraction": 0.3,
        "silt_share_of_fines": 25 / 40,
        "organic_matter_pct": 1.0,
        "caco3_pct": 5.0,
        "min_clay_pct": 1.0,
    }
    ef2, _ = rweq.ef_scf_from_sand_fraction(0.6, tex)
    assert ef2 == pytest.approx(ef)
    # NaN sand fraction -> the regional constant (30 % sand)
    ef3, _ = rweq.ef_scf_from_sand_fraction(np.nan, tex)
    assert ef3 == pytest.approx(rweq.ef_scf_from_texture(30.0, 43.75, 26.25, 1.0, 5.0)[0])
    ef_t, scf_t = rweq.ef_scf_from_sand_fraction(0.5, CFG["rweq"]["texture"])
    assert (ef_t, scf_t) == pytest.approx((EF_T, SCF_T))


def test_rweq_hump_is_capped():
    # (z/S)^2 = (1 - 2b)/(-2b) at the hump: x* = (50 / (150.71 * sqrt(1.7422/0.7422)))^(1/b)
    xs = (50 / (150.71 * math.sqrt(1.7422 / 0.7422))) ** (1 / -0.3711)
    assert rweq.hump_x() == pytest.approx(xs)
    assert xs == pytest.approx(61.73, abs=0.01)
    # beyond the hump the raw regression falls; the envelope holds the maximum
    x = np.array([xs / 2, xs, 2 * xs, 10 * xs])
    sl = rweq.soil_loss_sl(x, 1, 1, 1, 1)
    assert sl[1] == pytest.approx(sl[2]) and sl[2] == pytest.approx(sl[3])
    assert sl[0] < sl[1]
    s = 150.71 * (2 * xs) ** -0.3711
    raw = 2 * 50 / s**2 * 109.8 * 2 * xs * math.exp(-((50 / s) ** 2))
    assert raw < sl[1]  # the regression's own value is lower
    # a very windy bare pixel: vegetation can only lower its loss
    res = rweq.sand_fixation(200.0, 1.0, 1.0, 1.0, np.array([1.0, 0.8, 0.5, 0.1]))
    assert (np.diff(res["fixed"]) >= 0).all() and res["fixed"][0] == 0.0


def test_k_prime_from_slope():
    # slope 0: Kr = 0 -> K' = 1. slope 1 deg over L = 30 m: dH = 30 tan 1deg = 0.52366 m,
    # Kr = 0.2 * 0.52366^2 / 30 * 100 = 0.18282 cm -> K' = exp(1.86 Kr - 2.41 Kr^0.934)
    kr = 0.2 * (30 * math.tan(math.radians(1))) ** 2 / 30 * 100
    k = rweq.k_prime_from_slope(np.array([0.0, 1.0, np.nan]), 30.0)
    assert k[0] == 1.0 and np.isnan(k[2])
    assert k[1] == pytest.approx(math.exp(1.86 * kr - 2.41 * kr**0.934))
    # steeper never rougher-is-more-erodible: K' non-increasing (Kr capped at ~18 cm)
    ks = rweq.k_prime_from_slope(np.linspace(0, 60, 121), 30.0)
    assert (np.diff(ks) <= 1e-12).all()
    assert rweq.smith_carson_kr_cap() == pytest.approx(18.0, abs=0.01)


def test_water_conservation_balance():
    et = water_conservation.et_mm(
        np.array([400.0, 400.0, 200.0]),
        np.array([0.8, 0.8, 1.2]),
        np.array([np.nan, 100.0, np.nan]),
    )
    np.testing.assert_allclose(et, [320.0, 100.0, 240.0])
    q = water_conservation.water_conservation_mm(np.array([400.0, 400.0, 200.0]), 0.1, et)
    np.testing.assert_allclose(q, [40.0, 260.0, 0.0])  # negative clipped to 0
    assert water_conservation.mm_to_m3(40.0, 2.0) == pytest.approx(800.0)  # 1 mm·ha = 10 m3


def test_regulating_values_hand_worked():
    from nxgeo.services.coefficients import read_coefficients
    from nxgeo.services.valuation import gep_total, regulating_values

    prices = {
        "carbon_co2": 100,
        "sediment_dredging": 12.6,
        "fertiliser_n": 2000,
        "fertiliser_p": 3000,
        "fertiliser_k": 500,
        "organic_matter": 300,
        "sand_fixation": 5,
        "reservoir_storage": 6,
        "electricity": 0.5,
        "so2_treatment": 1.2,
        "nox_treatment": 0.6,
        "dust_cleaning": 0.15,
        "cod_treatment": 1.4,
        "tn_treatment": 1.75,
        "tp_treatment": 5.6,
        "oxygen": 1000,
    }
    phys = {
        "carbon_stock_t_c": 100.0,
        "carbon_sequestration_t_c": 2.0,
        "soil_retention_t": 1000.0,
        "sand_fixation_t": 50.0,
        "water_conservation_m3": 1000.0,
        "flood_regulation_m3": 500.0,
        "climate_regulation_kwh": 10000.0,
        "air_so2_kg": 10.0,
        "air_nox_kg": 5.0,
        "air_dust_kg": 1000.0,
        "water_cod_kg": 100.0,
        "water_tn_kg": 10.0,
        "water_tp_kg": 1.0,
    }
    v = regulating_values(phys, prices, read_coefficients(COEF), 44 / 12, False)
    assert v["water_conservation"][1] == pytest.approx(6000)  # 1000 m3 x 6
    assert v["soil_retention"][1] == pytest.approx(2419.2)  # 1000 x 0.24 / 1.25 x 12.6
    assert v["nutrient_retention"][0] == pytest.approx(31.5)  # 1000 x (0.001+0.0005+0.02+0.01)
    assert v["nutrient_retention"][1] == pytest.approx(16500)  # 1000 x (2 + 1.5 + 10 + 3)
    assert v["sand_fixation"][1] == pytest.approx(250)
    assert v["flood_regulation"][1] == pytest.approx(3000)
    assert v["air_purification"][1] == pytest.approx(165)  # 12 + 3 + 150
    assert v["water_purification"][1] == pytest.approx(163.1)  # 140 + 17.5 + 5.6
    assert v["carbon_sequestration"][0] == pytest.approx(2 * 44 / 12)  # t CO2
    assert v["carbon_sequestration"][1] == pytest.approx(2 * 44 / 12 * 100)
    assert v["oxygen_release"][0] == pytest.approx(2 * 44 / 12 * 32 / 44)
    assert v["oxygen_release"][2] is False  # optional, off
    assert v["climate_regulation"][1] == pytest.approx(5000)
    assert v["carbon_stock"][1] == pytest.approx(100 * 44 / 12 * 100)  # the asset
    # GEP (regulating part): the flows, without oxygen and without the stock
    assert gep_total(v) == pytest.approx(
        6000 + 2419.2 + 16500 + 250 + 3000 + 165 + 163.1 + 2 * 44 / 12 * 100 + 5000
    )


# --------------------------------------------------------------------------------------------
# compute_services on hand-checked pixels
# --------------------------------------------------------------------------------------------


def test_compute_services_hand_checked():
    p = load()
    lu = np.array([FOREST, GRASS, WATER, 0], np.uint8)
    res = compute_services(p, lu, np.full(4, 300.0), np.full(4, 2.0), 1.0)
    assert res["carbon_t"][:3] == pytest.approx([130.0, 58.0, 0.0])
    assert res["seq_t"][:3] == pytest.approx([1.0, 0.1, 0.0])  # unchanged: the rates
    assert res["soil_t"][:3] == pytest.approx([POT * 0.99, POT * 0.9, 0.0])  # water excluded
    # forest: FVC 50 % -> C = exp(-7.675) ~ 0; grass FVC 0 -> C = 1 -> nothing fixed
    assert res["sand_t"][0] == pytest.approx(SAND_FOREST)
    assert res["sand_t"][1] == pytest.approx(0.0)
    assert res["water_m3"][:3] == pytest.approx([300.0, 300.0, 300.0])  # (300-30-240) mm * 10
    # flood: forest 300 x 0.5 x (0.6 - 0.1) x 10 = 750 m3; water: 0.5 m x 10 000 m2 = 5000 m3
    assert res["flood_m3"][:3] == pytest.approx([750.0, 0.0, 5000.0])
    # climate: forest share 0.5, grass 0, water 1 (see CLIM)
    assert res["climate_kwh"][:3] == pytest.approx([0.5 * CLIM, 0.0, CLIM])
    assert pytest.approx(163_333.333, rel=1e-6) == CLIM
    assert res["air_dust_kg"][:3] == pytest.approx([1000.0, 0.0, 0.0])
    assert res["water_tn_kg"][:3] == pytest.approx([0.0, 0.0, 10.0])
    assert all(np.isnan(res[k][3]) for k in ("carbon_t", "soil_t", "sand_t", "water_m3", "seq_t"))
    # an FVC raster drives the RUSLE C (Cai) and the RWEQ C
    res2 = compute_services(
        p, lu[:2], np.full(2, 300.0), np.full(2, 2.0), 1.0, fvc=np.array([0.10, np.nan])
    )
    assert res2["c_rusle"] == pytest.approx([0.3072, 0.1])  # NaN FVC -> class C
    assert res2["soil_t"][0] == pytest.approx(POT * (1 - 0.3072))
    # a converted pixel: grass -> forest gains (130 - 58) / 20 = 3.6 t C/yr, not 72
    res3 = compute_services(
        p,
        lu[:3],
        np.full(3, 300.0),
        np.full(3, 2.0),
        1.0,
        landuse_prev=np.array([GRASS, GRASS, FOREST], np.uint8),
    )
    assert res3["seq_t"] == pytest.approx([3.6, 0.1, -130.0])  # forest -> water: lost at once


def test_missing_class_parameter_is_named():
    cfg = yaml.safe_load(yaml.safe_dump(CFG))
    cfg["rusle"]["k_by_class"] = {"forest": 0.03}
    p = load(cfg)
    with pytest.raises(ConfigError, match="grassland"):
        compute_services(p, np.array([GRASS], np.uint8), [300.0], [1.0], 1.0)
    cfg["rusle"]["k_by_class"] = {"forst": 0.03}
    with pytest.raises(ConfigError, match="forst"):
        load(cfg)
    cfg = yaml.safe_load(yaml.safe_dump(CFG))
    cfg["rweq"]["ef_by_class"] = {"default": 0.3}
    with pytest.raises(ConfigError, match="no longer used"):
        load(cfg)
    with pytest.raises(InputError, match="maturation_years"):
        load(coef=COEF[COEF["parameter"] != "maturation_years"])


def test_shipped_config_covers_every_class():
    cfg = yaml.safe_load(Path("config/config.yaml").read_text(encoding="utf-8"))["services"]
    p = load_params(cfg, CARBON, CLASSES, PRICES, SHIPPED_COEF)
    lu = np.arange(1, 14, dtype=np.uint8)
    res = compute_services(
        p,
        lu,
        np.full(13, 350.0),
        np.full(13, 1.5),
        0.09,
        slope=np.full(13, 2.0),
        landuse_prev=np.full(13, 12, np.uint8),
    )
    for k in (
        "carbon_t",
        "soil_t",
        "sand_t",
        "water_m3",
        "flood_m3",
        "climate_kwh",
        "air_so2_kg",
        "water_cod_kg",
    ):
        assert np.isfinite(res[k]).all() and (res[k] >= 0).all(), k
    assert np.isfinite(res["seq_t"]).all()
    # shipped tables: sand planted to shrub fixes more sand than sand left bare
    assert res["sand_t"][SHRUB - 1] > res["sand_t"][SANDY - 1]


# --------------------------------------------------------------------------------------------
# Stages on a synthetic pair of overlapping reaches
# --------------------------------------------------------------------------------------------

X0, Y0, PX = 500_000.0, 4_000_000.0, 100.0  # 100 m pixels = 1 ha


def _reach(d, col0, landuse, county, precip=300.0, ls=2.0):
    d.mkdir(parents=True, exist_ok=True)
    t = from_origin(X0 + col0 * PX, Y0, PX, PX)
    write_raster(d / "landuse.tif", landuse.astype(np.uint8), CRS, t, nodata=0)
    write_raster(
        d / "precipitation.tif", np.full(landuse.shape, precip, np.float32), CRS, t, nodata=-9999.0
    )
    write_raster(d / "ls.tif", np.full(landuse.shape, ls, np.float32), CRS, t, nodata=-9999.0)
    write_raster(d / "zone_county.tif", county.astype(np.int32), CRS, t, nodata=0)
    return d


@pytest.fixture()
def two_reaches(tmp_path):
    # global 2 x 6 grid; county 640101 in columns 0-2, 640102 in 3-5
    lu = np.array(
        [[FOREST, FOREST, GRASS, GRASS, WATER, GRASS], [GRASS, FOREST, GRASS, FOREST, GRASS, 0]]
    )
    county = np.where(np.arange(6) < 3, 640101, 640102)[None, :].repeat(2, axis=0)
    a = _reach(tmp_path / "a", 0, lu[:, 0:4], county[:, 0:4])  # columns 0-3
    b = _reach(tmp_path / "b", 2, lu[:, 2:6], county[:, 2:6])  # columns 2-5 (overlap 2-3)
    vec = tmp_path / "vectors.gpkg"
    counties = gpd.GeoDataFrame(
        {"id": ["640101", "640102"], "name": ["甲县", "乙县"]},
        geometry=[box(X0, Y0 - 200, X0 + 300, Y0), box(X0 + 300, Y0 - 200, X0 + 600, Y0)],
        crs=CRS,
    )
    reaches = gpd.GeoDataFrame(
        {"id": ["a", "b"], "name": ["甲段 Reach A", "乙段 Reach B"]},
        geometry=[box(X0, Y0 - 200, X0 + 400, Y0), box(X0 + 200, Y0 - 200, X0 + 600, Y0)],
        crs=CRS,
    )
    counties.to_file(vec, layer="counties", driver="GPKG")
    reaches.to_file(vec, layer="reaches", driver="GPKG")
    return {"a": a, "b": b, "vec": vec, "lu": lu, "county": county}


# per ha of each class at P = 300 mm, LS = 2, worked by hand (see test_compute_services_hand_checked)
PER_HA = {
    FOREST: {
        "carbon_stock_t_c": 130.0,
        "carbon_sequestration_t_c": 1.0,
        "soil_retention_t": POT * 0.99,
        "sand_fixation_t": SAND_FOREST,
        "water_conservation_m3": 300.0,
        "flood_regulation_m3": 750.0,
        "climate_regulation_kwh": 0.5 * CLIM,
        "air_dust_kg": 1000.0,
        "water_tn_kg": 0.0,
    },
    GRASS: {
        "carbon_stock_t_c": 58.0,
        "carbon_sequestration_t_c": 0.1,
        "soil_retention_t": POT * 0.9,
        "sand_fixation_t": 0.0,
        "water_conservation_m3": 300.0,
        "flood_regulation_m3": 0.0,
        "climate_regulation_kwh": 0.0,
        "air_dust_kg": 0.0,
        "water_tn_kg": 0.0,
    },
    WATER: {
        "carbon_stock_t_c": 0.0,
        "carbon_sequestration_t_c": 0.0,
        "soil_retention_t": 0.0,
        "sand_fixation_t": 0.0,
        "water_conservation_m3": 300.0,
        "flood_regulation_m3": 5000.0,
        "climate_regulation_kwh": CLIM,
        "air_dust_kg": 0.0,
        "water_tn_kg": 10.0,
    },
}


def _run_year(two_reaches, tmp_path, year, tag, landuse_prev=None):
    for name in ("a", "b"):
        services_reach(
            two_reaches[name],
            CFG,
            CARBON,
            PRICES,
            COEF,
            CLASSES,
            two_reaches[name] / "services",
            landuse_prev=(landuse_prev or {}).get(name),
        )
    out = {k: tmp_path / f"{k}_{tag}.csv" for k in ("c", "r", "acc", "gc", "gr")}
    res = services_year(
        {"a": two_reaches["a"], "b": two_reaches["b"]},
        year,
        two_reaches["vec"],
        out["c"],
        out["r"],
        cfg_services=CFG,
        prices_csv=PRICES,
        coefficients_csv=COEF,
        classes_table=CLASSES,
        out_accounts_csv=out["acc"],
        out_gep_county_csv=out["gc"],
        out_gep_reach_csv=out["gr"],
    )
    return res, out


def test_services_reach_and_year(two_reaches, tmp_path):
    out = services_reach(
        two_reaches["a"],
        CFG,
        CARBON,
        PRICES,
        COEF,
        CLASSES,
        two_reaches["a"] / "services",
        extra_layers=("soil_loss_t",),
    )
    assert {
        "carbon_stock_t",
        "carbon_sequestration_t",
        "soil_retention_t",
        "sand_fixation_t",
        "water_conservation_m3",
        "flood_regulation_m3",
        "climate_regulation_kwh",
        "soil_loss_t",
        "meta",
    } <= set(out)
    with rasterio.open(out["carbon_stock_t"]) as ds:
        assert ds.nodata == -9999.0 and ds.crs.to_epsg() == 4507
        arr = ds.read(1)
    lu = two_reaches["lu"]
    assert (arr[lu[:, 0:4] == 0] == -9999.0).all()
    meta = json.loads(out["meta"].read_text(encoding="utf-8"))
    assert meta["prices"]["carbon_co2"] == 100.0 and meta["earlier_survey"] is None
    res, paths = _run_year(two_reaches, tmp_path, 2024, "y1")
    cdf = res["services_by_county"]
    county = two_reaches["county"]
    # county sums count the overlapping columns 2-3 once
    for code in (640101, 640102):
        row = cdf[cdf["zone_id"] == str(code)].iloc[0]
        sel = (county == code) & (lu != 0)
        assert row["area_ha"] == pytest.approx(sel.sum())
        for col in PER_HA[FOREST]:
            exp = sum(PER_HA[c][col] for c in lu[sel])
            assert row[
                col if col != "carbon_sequestration_t_c" else "carbon_sequestration_t_c_per_yr"
            ] == pytest.approx(exp, rel=1e-6), col
        # money: e.g. water conservation 300 m3/ha x 6.11 CNY/m3; stock valued as an asset
        assert row["water_conservation_value_cny"] == pytest.approx(300 * sel.sum() * 6.11)
        assert row["carbon_stock_value_cny"] == pytest.approx(
            sum(PER_HA[c]["carbon_stock_t_c"] for c in lu[sel]) * 44 / 12 * 100, rel=1e-6
        )
    assert cdf["zone_name"].tolist() == ["甲县", "乙县", "合计 Total"]
    tot = cdf.iloc[-1]
    assert tot["zone_kind"] == "region" and tot["area_ha"] == pytest.approx(11.0)
    # GEP regulating = flows only: the stock value is not in it
    vcols = [
        c
        for c in cdf.columns
        if c.endswith("_value_cny")
        and c != "carbon_stock_value_cny"
        and c != "oxygen_release_value_cny"
    ]
    np.testing.assert_allclose(cdf["gep_regulating_cny"], cdf[vcols].sum(axis=1), rtol=1e-9)
    # reach sums are each reach's own pixels
    rdf = res["services_by_reach"]
    ra = rdf[rdf["zone_id"] == "a"].iloc[0]
    assert ra["zone_name"] == "甲段 Reach A"
    assert ra["carbon_stock_t_c"] == pytest.approx(
        sum(PER_HA[c]["carbon_stock_t_c"] for c in lu[:, 0:4][lu[:, 0:4] != 0]), rel=1e-6
    )
    assert (paths["c"]).read_bytes().startswith(b"\xef\xbb\xbf")
    # the account: one row per zone x service, material/cultural not accounted (no tables)
    acc = pd.read_csv(paths["acc"], encoding="utf-8-sig", dtype={"zone_id": str})
    assert list(acc.columns) == [
        "zone_kind",
        "zone_id",
        "zone_name",
        "year",
        "category",
        "service",
        "service_zh",
        "quantity",
        "unit",
        "value_cny",
        "value_wan_cny",
        "accounted",
    ]
    agri = acc[(acc["service"] == "agriculture") & (acc["zone_id"] == "640101")].iloc[0]
    assert not agri["accounted"] and np.isnan(agri["value_cny"])
    gc = pd.read_csv(paths["gc"], encoding="utf-8-sig", dtype={"zone_id": str})
    assert gc["zone_id"].tolist() == ["640101", "640102", "total"]
    assert gc["gep_cny"].iloc[:2].to_numpy() == pytest.approx(
        cdf["gep_regulating_cny"].iloc[:2].to_numpy()
    )
    assert gc["gep_yi_cny"].iloc[0] == pytest.approx(gc["gep_cny"].iloc[0] / 1e8)
    assert gc["gep_cny"].iloc[2] == pytest.approx(gc["gep_cny"].iloc[:2].sum())
    assert np.isnan(gc["material_products_cny"]).all()
    assert "agriculture" in gc["not_accounted"].iloc[0] and "tourism" in gc["not_accounted"].iloc[0]

    # year B: one grass pixel turned into forest in reach a (county 640101)
    lu_a_2024 = two_reaches["a"] / "landuse_2024.tif"
    (two_reaches["a"] / "landuse.tif").rename(lu_a_2024)
    lu2 = lu.copy()
    lu2[1, 0] = FOREST
    _reach(two_reaches["a"], 0, lu2[:, 0:4], county[:, 0:4])
    res2, paths2 = _run_year(two_reaches, tmp_path, 2025, "y2", landuse_prev={"a": lu_a_2024})
    row = res2["services_by_county"].set_index("zone_id").loc["640101"]
    row1 = cdf.set_index("zone_id").loc["640101"]
    # the converted pixel sequesters (130 - 58) / 20 = 3.6 t C/yr instead of grass's 0.1
    assert row["carbon_sequestration_t_c_per_yr"] - row1[
        "carbon_sequestration_t_c_per_yr"
    ] == pytest.approx(3.6 - 0.1)
    cmp = compare_services(
        paths["c"],
        paths2["c"],
        paths["r"],
        paths2["r"],
        2024,
        2025,
        tmp_path / "cc.csv",
        tmp_path / "rc.csv",
        gep_county_a=paths["gc"],
        gep_county_b=paths2["gc"],
        gep_reach_a=paths["gr"],
        gep_reach_b=paths2["gr"],
        out_gep_county_csv=tmp_path / "gcc.csv",
        out_gep_reach_csv=tmp_path / "grc.csv",
    )
    cc = cmp["services_change_by_county"].set_index("zone_id")
    assert cc.loc["640101", "carbon_stock_change_t_c"] == pytest.approx(72.0)  # asset: 130 - 58
    assert cc.loc["640101", "carbon_sequestration_t_co2_per_yr"] == pytest.approx(
        row["carbon_sequestration_t_c_per_yr"] * 44 / 12
    )
    assert cc.loc["640101", "d_soil_retention_t"] == pytest.approx(R300 * 0.08 * 0.09, rel=1e-5)
    assert cc.loc["640102", "carbon_stock_change_t_c"] == pytest.approx(0.0, abs=1e-6)
    g = cmp["gep_change_by_county"].set_index("zone_id")
    ga = gc.set_index("zone_id")["gep_cny"]
    gb = pd.read_csv(paths2["gc"], encoding="utf-8-sig", dtype={"zone_id": str}).set_index(
        "zone_id"
    )["gep_cny"]
    assert g.loc["640101", "d_gep_cny"] == pytest.approx(gb["640101"] - ga["640101"])
    assert g.loc["640101", "d_gep_pct"] == pytest.approx(
        100 * (gb["640101"] - ga["640101"]) / ga["640101"]
    )
    assert g.loc["640101", "d_gep_wan_cny"] == pytest.approx(g.loc["640101", "d_gep_cny"] / 1e4)
    assert g.loc["640102", "d_gep_cny"] == pytest.approx(0.0, abs=1e-6)
    assert "total" in g.index and bool(g.loc["640101", "comparable"])
    assert (tmp_path / "grc.csv").exists()


def test_services_reach_rejects_misaligned_input(two_reaches):
    d = two_reaches["a"]
    write_raster(
        d / "ls.tif", np.ones((3, 4), np.float32), CRS, from_origin(X0, Y0, PX, PX), nodata=-9999.0
    )
    with pytest.raises(InputError, match="not on the grid"):
        services_reach(d, CFG, CARBON, PRICES, COEF, CLASSES, d / "services")


def _gains(parcels, cfg=None, **kw):
    return parcel_gains(parcels, cfg or CFG, CARBON, PRICES, CLASSES, COEF, **kw)


def test_parcel_gains():
    parcels = pd.DataFrame(
        {
            "parcel_id": [1, 2, 3, 4, 5],
            "recommended_target": ["forest", "grass", "closed_protection", "cropland", None],
            "area_ha": [2.0, 1.0, 3.0, 1.0, 1.0],
            "precipitation_mean": [300.0] * 5,
            "ls_mean": [2.0] * 5,
            "share_grassland": [1.0, 0.5, 0.0, 0.0, 1.0],
            "share_bare": [0.0, 0.5, 0.0, 1.0, 0.0],
            "share_sandy": [0.0, 0.0, 1.0, 0.0, 0.0],
            "water_secured": [False, False, False, True, False],
        }
    )
    out = _gains(parcels)
    # 1: grassland -> forest on 2 ha: the stock (asset) rises by (130 - 58) x 2 t C, the yearly
    # sequestration from 0.1 (grass) to (130 - 58)/20 = 3.6 t C/ha/yr: +3.5 x 2 ha
    assert out.loc[0, "d_carbon_t"] == pytest.approx(144.0)
    assert out.loc[0, "d_carbon_seq_t_co2_per_yr"] == pytest.approx(3.5 * 2 * 44 / 12)
    assert out.loc[0, "d_soil_t"] == pytest.approx(R300 * 0.04 * 2 * (0.1 - 0.01) * 2)
    assert out.loc[0, "d_water_m3"] == pytest.approx(0.0)
    assert out.loc[0, "d_flood_m3"] == pytest.approx(750.0 * 2)
    # 2: half grass, half bare -> grass: stock 58 - (58 + 15.3) / 2; the bare half converts
    # ((58 - 15.3)/20 t C/yr), the grass half keeps its rate (no change)
    assert out.loc[1, "d_carbon_t"] == pytest.approx(58 - (58 + 15.3) / 2)
    assert out.loc[1, "d_carbon_seq_t_co2_per_yr"] == pytest.approx(
        0.5 * (58 - 15.3) / 20 * 44 / 12
    )
    # 3: sandy -> sandy with FVC 20 % and RUSLE C 0.3 (no class change, sand fixed rises)
    assert out.loc[2, "d_carbon_t"] == pytest.approx(0.0)
    assert out.loc[2, "d_carbon_seq_t_co2_per_yr"] == pytest.approx(0.0)
    c_after = math.exp(-0.1151 * 20)
    assert out.loc[2, "d_sand_t"] == pytest.approx(
        3 * 10 * (SL1 - rweq.soil_loss_sl(1, 1, 1, 1, c_after))
    )
    assert out.loc[2, "d_soil_t"] == pytest.approx(3 * R300 * 0.08 * (0.1 - 0.3))
    # 4: water-secured cropland -> irrigated
    assert out.loc[3, "target_class"] == "cropland_irrigated"
    assert out.loc[3, "d_carbon_t"] == pytest.approx(61 - 15.3)
    # 5: no target -> NaN gains
    assert np.isnan(out.loc[4, "d_gep_cny"])
    v = out.loc[0]
    vals = [
        c
        for c in out.columns
        if c.startswith("d_")
        and c.endswith("_value_cny")
        and c not in ("d_carbon_stock_value_cny", "d_oxygen_release_value_cny")
    ]
    assert v["d_gep_cny"] == pytest.approx(sum(v[c] for c in vals))
    assert v["d_carbon_sequestration_value_cny"] == pytest.approx(
        v["d_carbon_seq_t_co2_per_yr"] * 100
    )
    assert v["d_gep_wan_cny"] == pytest.approx(v["d_gep_cny"] / 1e4)
    with pytest.raises(ConfigError, match="wine"):
        _gains(parcels.assign(recommended_target="wine"))


def test_parcel_gains_candidate_fields_keep_refine_and_slope_fallback():
    cfg = yaml.safe_load(yaml.safe_dump(CFG))
    cfg["parcel_targets"].update(
        {
            "closed_protection": {"class": "current", "fvc": 0.2},
            "for_profit": {
                "class": "shrub",
                "refine_by": "sub_mode",
                "refine": {"pv": "solar_pv", "tourism": "tourism"},
            },
            "solar_pv": {"class": "bare"},
            "tourism": {"class": "current"},
        }
    )
    cfg["parcel_slope_length_m"] = 22.13  # one slope of 22.13 m: L = 1, LS = S
    # candidate-layer field names: precip_mean_mm, slope_mean, water_secured_share, sub_mode
    parcels = pd.DataFrame(
        {
            "recommended_target": ["closed_protection", "for_profit", "for_profit", "cropland", ""],
            "sub_mode": ["", "pv", "tourism", "", ""],
            "area_ha": [1.0, 1.0, 1.0, 1.0, 1.0],
            "precip_mean_mm": [300.0] * 5,
            "slope_mean": [0.0] * 5,
            "water_secured_share": [0.0, 0.0, 0.0, 0.6, 0.0],
            "share_sandy": [0.5, 0.0, 1.0, 0.0, 1.0],
            "share_bare": [0.5, 1.0, 0.0, 1.0, 0.0],
        }
    )
    out = _gains(parcels, cfg, s_method="domain")
    assert out["target_key"].tolist()[:4] == [
        "closed_protection",
        "solar_pv",
        "tourism",
        "cropland",
    ]
    assert out["target_class"].tolist()[:4] == ["current", "bare", "current", "cropland_irrigated"]
    # closed protection keeps sand and bare (no carbon change) and raises cover: sand fixed
    assert out.loc[0, "d_carbon_t"] == pytest.approx(0.0)
    assert out.loc[0, "d_sand_t"] == pytest.approx(
        10 * (SL1 - rweq.soil_loss_sl(1, 1, 1, 1, math.exp(-0.1151 * 20)))
    )
    assert out.loc[0, "d_soil_t"] == pytest.approx(0.0)  # RUSLE C by class, unchanged
    # PV on bare land: unchanged class; tourism: no change at all
    assert out.loc[1, "d_gep_cny"] == pytest.approx(0.0)
    assert out.loc[2, "d_gep_cny"] == pytest.approx(0.0)
    assert np.isnan(out.loc[4, "d_carbon_t"])  # empty target: no gain
    # LS from the mean slope (3 degrees, DOMAIN form, L = 1)
    s3 = 10.8 * math.sin(math.radians(3.0)) + 0.03
    cfg["rusle"]["c_by_class"] = {"cropland_irrigated": 0.2, "default": 0.5}
    out2 = _gains(parcels.iloc[[3]].assign(slope_mean=3.0), cfg, s_method="domain")
    assert out2["d_soil_t"].iloc[0] == pytest.approx(R300 * 0.04 * s3 * (0.5 - 0.2), rel=1e-5)
