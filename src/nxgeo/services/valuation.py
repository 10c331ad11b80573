"""Money values of the regulating services and the GEP regulating part (DOMAIN.md §7).

Every price comes from the prices table (item, value, unit, note):

| service | physical quantity | price item | method |
|---|---|---|---|
| carbon | t CO₂ (= t C × 44/12) | carbon_co2 (CNY/t CO₂) | carbon market price |
| soil retention | t soil/yr | soil_retention (CNY/t) | replacement cost (dredging, nutrients) |
| sand fixation | t sand/yr | sand_fixation (CNY/t) | treatment cost per t |
| water conservation | m³/yr | water_conservation (CNY/m³) | reservoir construction cost |

GEP regulating part = the sum of the four values, each component kept as its own column. The
carbon component of one year is the value of the carbon *stock* (as the brief asks); the value
of the year's *flow* (sequestration between two survey years) is in the comparison tables.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .params import price

PRICE_ITEMS = {"carbon": "carbon_co2", "soil": "soil_retention", "sand": "sand_fixation",
               "water": "water_conservation"}

# Output columns (English) with bilingual labels and units, for tables, maps and the report.
SERVICE_COLUMNS = pd.DataFrame([
    ("carbon_stock_t_c", "碳储量", "Carbon stock", "t C"),
    ("carbon_stock_t_co2", "碳储量（CO₂当量）", "Carbon stock (CO₂ eq.)", "t CO2"),
    ("carbon_value_cny", "碳储量价值", "Carbon stock value", "CNY"),
    ("soil_retention_t", "土壤保持量", "Soil retention", "t/yr"),
    ("soil_retention_value_cny", "土壤保持价值", "Soil retention value", "CNY/yr"),
    ("sand_fixation_t", "防风固沙量", "Sand fixation", "t/yr"),
    ("sand_fixation_value_cny", "防风固沙价值", "Sand fixation value", "CNY/yr"),
    ("water_conservation_m3", "水源涵养量", "Water conservation", "m3/yr"),
    ("water_conservation_value_cny", "水源涵养价值", "Water conservation value", "CNY/yr"),
    ("gep_regulating_cny", "调节服务价值（GEP）", "GEP regulating services", "CNY"),
], columns=["column", "name_zh", "name_en", "unit"])


def service_values(carbon_t_c, soil_t, sand_t, water_m3, prices: Mapping[str, float],
                   co2_per_c: float) -> dict:
    """Values (CNY) of the four services and their sum; arguments are scalars or arrays."""
    co2 = np.asarray(carbon_t_c, dtype=np.float64) * float(co2_per_c)
    out = {
        "carbon_stock_t_co2": co2,
        "carbon_value_cny": co2 * price(prices, PRICE_ITEMS["carbon"]),
        "soil_retention_value_cny": np.asarray(soil_t, dtype=np.float64)
        * price(prices, PRICE_ITEMS["soil"]),
        "sand_fixation_value_cny": np.asarray(sand_t, dtype=np.float64)
        * price(prices, PRICE_ITEMS["sand"]),
        "water_conservation_value_cny": np.asarray(water_m3, dtype=np.float64)
        * price(prices, PRICE_ITEMS["water"]),
    }
    out["gep_regulating_cny"] = (out["carbon_value_cny"] + out["soil_retention_value_cny"]
                                 + out["sand_fixation_value_cny"]
                                 + out["water_conservation_value_cny"])
    return out


def add_values(df: pd.DataFrame, prices: Mapping[str, float], co2_per_c: float) -> pd.DataFrame:
    """Add the value columns and the GEP sum to a table with carbon_stock_t_c, soil_retention_t,
    sand_fixation_t and water_conservation_m3 (in the column order of SERVICE_COLUMNS)."""
    vals = service_values(df["carbon_stock_t_c"], df["soil_retention_t"], df["sand_fixation_t"],
                          df["water_conservation_m3"], prices, co2_per_c)
    out = df.copy()
    for k, v in vals.items():
        out[k] = v
    front = [c for c in out.columns if c not in set(SERVICE_COLUMNS["column"])]
    return out[front + [c for c in SERVICE_COLUMNS["column"] if c in out.columns]]
