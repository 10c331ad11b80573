"""The GEP catalogue and the money value of every regulating service (docs/gep.md).

GEP (生态产品总值) of a year = material products (物质产品) + regulating services (调节服务) +
cultural services (文化服务) of that year, as 《生态产品总值核算规范（试行）》 (2022) structures it.
Every term is a *flow* of the accounting year. The carbon stock is an ecological **asset**
(生态资产): it is reported next to GEP (category ``ecological_asset``) and never added into it.

Regulating services are valued here from the physical quantities the rasters give (all linear,
so a zone's value is its summed quantity × price); prices come from the prices table and the
physical coefficients from the GEP coefficient table (`coefficients.Coefficients`):

| service | quantity | value |
|---|---|---|
| water_conservation 水源涵养 | m³ | m³ × reservoir_storage |
| soil_retention 土壤保持（减少泥沙淤积）| t soil | t × sediment_deposition_ratio ÷ bulk_density × sediment_dredging |
| nutrient_retention 土壤保持（保肥）| t N+P+K+OM | t soil × Σ content_i × fertiliser price_i |
| sand_fixation 防风固沙 | t sand | t × sand_fixation |
| flood_regulation 洪水调蓄 | m³ | m³ × reservoir_storage |
| air_purification 空气净化 | kg SO₂+NOx+dust | Σ kg_i × treatment cost_i |
| water_purification 水质净化 | kg COD+TN+TP | Σ kg_i × treatment cost_i |
| carbon_sequestration 固碳 | t CO₂/yr | t × carbon_co2 |
| oxygen_release 释氧 (optional) | t O₂ | t CO₂ × o2_per_co2 × oxygen |
| climate_regulation 气候调节 | kWh | kWh × electricity |
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .coefficients import Coefficients
from .params import price

CATEGORIES = {
    "material_products": ("物质产品", "Material products"),
    "regulating_services": ("调节服务", "Regulating services"),
    "cultural_services": ("文化服务", "Cultural services"),
    "ecological_asset": ("生态资产（不计入GEP）", "Ecological asset (not in GEP)"),
}
GEP_CATEGORIES = ("material_products", "regulating_services", "cultural_services")

# service, category, name_zh, name_en, quantity unit
SERVICES = pd.DataFrame(
    [
        ("agriculture", "material_products", "农业产品", "Agricultural products", "CNY"),
        ("forestry", "material_products", "林业产品", "Forestry products", "CNY"),
        ("animal_husbandry", "material_products", "畜牧业产品", "Animal husbandry", "CNY"),
        ("fishery", "material_products", "渔业产品", "Fishery products", "CNY"),
        ("water_supply", "material_products", "水资源（供水）", "Water supply", "CNY"),
        ("water_conservation", "regulating_services", "水源涵养", "Water conservation", "m3"),
        (
            "soil_retention",
            "regulating_services",
            "土壤保持（减少泥沙淤积）",
            "Soil retention (sediment)",
            "t",
        ),
        (
            "nutrient_retention",
            "regulating_services",
            "土壤保持（保肥：氮磷钾、有机质）",
            "Soil retention (nutrients N, P, K, OM)",
            "t",
        ),
        ("sand_fixation", "regulating_services", "防风固沙", "Sand fixation", "t"),
        ("flood_regulation", "regulating_services", "洪水调蓄", "Flood regulation", "m3"),
        ("air_purification", "regulating_services", "空气净化", "Air purification", "kg"),
        ("water_purification", "regulating_services", "水质净化", "Water purification", "kg"),
        ("carbon_sequestration", "regulating_services", "固碳", "Carbon sequestration", "t CO2"),
        ("oxygen_release", "regulating_services", "释氧", "Oxygen release", "t O2"),
        ("climate_regulation", "regulating_services", "气候调节", "Climate regulation", "kWh"),
        ("tourism", "cultural_services", "休闲旅游", "Tourism and recreation", "CNY"),
        ("carbon_stock", "ecological_asset", "碳储量（生态资产）", "Carbon stock (asset)", "t CO2"),
    ],
    columns=["service", "category", "name_zh", "name_en", "unit"],
)

MATERIAL_ITEMS = tuple(SERVICES.loc[SERVICES["category"] == "material_products", "service"])
CULTURAL_ITEMS = tuple(SERVICES.loc[SERVICES["category"] == "cultural_services", "service"])
REGULATING = tuple(SERVICES.loc[SERVICES["category"] == "regulating_services", "service"])
GEP_SERVICES = tuple(SERVICES.loc[SERVICES["category"].isin(GEP_CATEGORIES), "service"])

# physical sums per zone (columns of services_by_*.csv) the valuation needs
PHYSICAL_COLUMNS = [
    "carbon_stock_t_c",
    "carbon_sequestration_t_c",
    "soil_retention_t",
    "sand_fixation_t",
    "water_conservation_m3",
    "flood_regulation_m3",
    "climate_regulation_kwh",
    "air_so2_kg",
    "air_nox_kg",
    "air_dust_kg",
    "water_cod_kg",
    "water_tn_kg",
    "water_tp_kg",
]
PRICE_ITEMS = (
    "carbon_co2",
    "sediment_dredging",
    "fertiliser_n",
    "fertiliser_p",
    "fertiliser_k",
    "organic_matter",
    "sand_fixation",
    "reservoir_storage",
    "electricity",
    "so2_treatment",
    "nox_treatment",
    "dust_cleaning",
    "cod_treatment",
    "tn_treatment",
    "tp_treatment",
    "oxygen",
)


def check_prices(prices: Mapping[str, float], source: str) -> None:
    for item in PRICE_ITEMS:
        price(prices, item, source)


def regulating_values(
    phys: Mapping[str, object],
    prices: Mapping[str, float],
    coef: Coefficients,
    co2_per_c: float,
    include_oxygen: bool,
) -> dict[str, tuple[object, object, bool]]:
    """{service: (quantity, value CNY, accounted)} of the regulating services and of the carbon
    stock (asset), from the physical sums `phys` (scalars or arrays, keys PHYSICAL_COLUMNS).
    Oxygen release is computed but `accounted` only with `include_oxygen`."""

    def g(k):
        return np.asarray(phys[k], dtype=np.float64)

    pr = lambda item: price(prices, item)
    sc = g("soil_retention_t")
    ratio = coef.scalar("soil_retention", "sediment_deposition_ratio")
    bulk = coef.scalar("soil_retention", "bulk_density")
    if bulk <= 0:
        raise ValueError("gep_coefficients soil_retention.bulk_density must be > 0")
    nut = {k: coef.scalar("nutrient_retention", f"content_{k}") for k in ("n", "p", "k", "om")}
    nut_price = {
        "n": pr("fertiliser_n"),
        "p": pr("fertiliser_p"),
        "k": pr("fertiliser_k"),
        "om": pr("organic_matter"),
    }
    seq_co2 = g("carbon_sequestration_t_c") * float(co2_per_c)
    o2 = seq_co2 * coef.scalar("oxygen_release", "o2_per_co2")
    stock_co2 = g("carbon_stock_t_c") * float(co2_per_c)
    air = {k: g(f"air_{k}_kg") for k in ("so2", "nox", "dust")}
    wq = {k: g(f"water_{k}_kg") for k in ("cod", "tn", "tp")}
    out = {
        "water_conservation": (
            g("water_conservation_m3"),
            g("water_conservation_m3") * pr("reservoir_storage"),
            True,
        ),
        "soil_retention": (sc, sc * ratio / bulk * pr("sediment_dredging"), True),
        "nutrient_retention": (
            sc * sum(nut.values()),
            sc * sum(nut[k] * nut_price[k] for k in nut),
            True,
        ),
        "sand_fixation": (g("sand_fixation_t"), g("sand_fixation_t") * pr("sand_fixation"), True),
        "flood_regulation": (
            g("flood_regulation_m3"),
            g("flood_regulation_m3") * pr("reservoir_storage"),
            True,
        ),
        "air_purification": (
            sum(air.values()),
            air["so2"] * pr("so2_treatment")
            + air["nox"] * pr("nox_treatment")
            + air["dust"] * pr("dust_cleaning"),
            True,
        ),
        "water_purification": (
            sum(wq.values()),
            wq["cod"] * pr("cod_treatment")
            + wq["tn"] * pr("tn_treatment")
            + wq["tp"] * pr("tp_treatment"),
            True,
        ),
        "carbon_sequestration": (seq_co2, seq_co2 * pr("carbon_co2"), True),
        "oxygen_release": (o2, o2 * pr("oxygen"), bool(include_oxygen)),
        "climate_regulation": (
            g("climate_regulation_kwh"),
            g("climate_regulation_kwh") * pr("electricity"),
            True,
        ),
        "carbon_stock": (stock_co2, stock_co2 * pr("carbon_co2"), True),
    }
    return out


def gep_total(values: Mapping[str, tuple[object, object, bool]]):
    """Sum of the accounted GEP services' values (the asset is never included)."""
    tot: float | np.ndarray = 0.0
    for svc, (_, v, acc) in values.items():
        if svc in GEP_SERVICES and acc:
            tot = tot + np.nan_to_num(np.asarray(v, dtype=np.float64))
    return tot
