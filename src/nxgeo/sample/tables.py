"""County tables of the sample: water budgets, greening targets, emissions (per year).

Magnitudes follow the land use actually generated (irrigated and built area per county) and
are scaled to Ningxia's totals: ~7.2e9 m3/yr of water allocations (2022: 7.602e9 m3 including
groundwater and non-conventional water), ~2e8 t CO2/yr of emissions (energy and coal-chemical
industry concentrated in Ningdong, Shizuishan and Yinchuan).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .noise import rng_for
from .reference import EMIGRATION_COUNTIES, PLAIN_COUNTIES

REGION_ALLOCATION_M3 = 7.2e9
REGION_EMISSIONS_T = 2.0e8
# relative share of emissions (industrial counties high; rural south low)
EMISSION_WEIGHT = {
    "640181": 30.0,
    "640221": 8.0,
    "640205": 7.0,
    "640202": 6.0,
    "640105": 6.0,
    "640104": 5.0,
    "640381": 5.0,
    "640502": 5.0,
    "640121": 4.0,
    "640302": 4.0,
    "640521": 4.0,
    "640106": 3.0,
    "640122": 3.0,
    "640323": 2.0,
    "640402": 2.0,
    "640324": 1.0,
    "640303": 1.0,
    "640422": 0.3,
    "640522": 0.3,
    "640425": 0.25,
    "640423": 0.15,
    "640424": 0.08,
}
GREENING_GROUP = ("640302", "640303", "640323", "640324", "640381")  # Wuzhong


def water_budgets(adcodes, years, irrigated_ha, built_ha, area_ha, seed: int) -> pd.DataFrame:
    """irrigated_ha/built_ha: (n_years, n_counties); area_ha: (n_counties,)."""
    rng = rng_for(seed, "water_budgets")
    adcodes = list(adcodes)
    n = len(adcodes)
    demand = irrigated_ha[0] * 9200.0 + built_ha[0] * 2500.0 + area_ha * 40.0
    scale = REGION_ALLOCATION_M3 / max(float(demand.sum()), 1.0)
    alloc0 = demand * scale
    ratio = rng.uniform(0.78, 0.94, n)
    reserve_ratio = rng.uniform(0.03, 0.06, n)
    # a few counties with no headroom: one fully used, two over-drawn
    nine = [i for i, c in enumerate(adcodes) if c in EMIGRATION_COUNTIES]
    plain = [i for i, c in enumerate(adcodes) if c in PLAIN_COUNTIES]
    zero = int(rng.choice(nine)) if nine else 0
    over = [int(rng.choice(plain))] if plain else []
    others = [i for i in range(n) if i != zero and i not in over]
    if others:
        over.append(int(rng.choice(others)))
    rows = []
    for k, year in enumerate(years):
        alloc = alloc0 * (1.0 - 0.01 * k)
        cons_ratio = ratio * (1.0 + rng.uniform(-0.02, 0.02, n))
        reserve = alloc * reserve_ratio
        consumption = alloc * cons_ratio
        consumption[zero] = alloc[zero] - reserve[zero]
        for i in over:
            consumption[i] = alloc[i] * rng.uniform(1.01, 1.05)
        for i, code in enumerate(adcodes):
            a, r = round(float(alloc[i])), round(float(reserve[i]))
            c = a - r if i == zero else round(float(consumption[i]))
            rows.append(
                {
                    "adcode": code,
                    "year": int(year),
                    "allocation_m3": a,
                    "consumption_m3": c,
                    "reserve_m3": r,
                }
            )
    return pd.DataFrame(rows)


def greening_targets(adcodes, years, increment_ha, area_ha, seed: int) -> pd.DataFrame:
    """increment_ha: (n_years, n_counties) green area gained since the previous year
    (row 0 unknown). Targets sit around the realised increments: some counties in surplus,
    some in deficit (including within the Wuzhong trading group)."""
    rng = rng_for(seed, "greening_targets")
    adcodes = list(adcodes)
    n = len(adcodes)
    rows = []
    for k, year in enumerate(years):
        ref = increment_ha[k] if k > 0 else (increment_ha[1] if len(years) > 1 else area_ha * 0.004)
        ref = np.where(ref > 0, ref, area_ha * 0.001)
        factor = rng.uniform(0.6, 1.5, n)
        group = [i for i, c in enumerate(adcodes) if c in GREENING_GROUP]
        if len(group) >= 2:
            factor[group[0]] = rng.uniform(0.6, 0.85)
            factor[group[1]] = rng.uniform(1.2, 1.5)
        for i, code in enumerate(adcodes):
            rows.append(
                {
                    "adcode": code,
                    "year": int(year),
                    "target_ha": round(float(ref[i] * factor[i]), 1),
                }
            )
    return pd.DataFrame(rows)


def county_emissions(adcodes, years, seed: int) -> pd.DataFrame:
    rng = rng_for(seed, "county_emissions")
    adcodes = list(adcodes)
    w = np.array([EMISSION_WEIGHT.get(c, 1.0) for c in adcodes])
    base = REGION_EMISSIONS_T * w / w.sum() * rng.uniform(0.9, 1.1, len(adcodes))
    rows = []
    for k, year in enumerate(years):
        e = base * (1.0 + 0.02 * k + rng.uniform(-0.01, 0.01, len(adcodes)) * k)
        for i, code in enumerate(adcodes):
            rows.append({"adcode": code, "year": int(year), "emission_t_co2": round(float(e[i]))})
    return pd.DataFrame(rows)
