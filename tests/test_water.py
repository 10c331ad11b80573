"""Water capacity: headroom, water-quota modulus, demand per use, potential demand summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from nxgeo.errors import InputError
from nxgeo.water import (
    county_headroom,
    demand_per_use,
    potential_demand_summary,
    water_quota_modulus,
)

BUDGETS = pd.DataFrame(
    {
        "adcode": [640104, 640104, 640181, 640181, 640402],
        "year": [2023, 2024, 2023, 2024, 2024],
        "allocation_m3": [1.0e8, 1.1e8, 5.0e7, 5.0e7, 2.0e7],
        "consumption_m3": [6.0e7, 6.5e7, 4.5e7, 4.8e7, 2.0e7],
        "reserve_m3": [1.0e7, 1.0e7, 1.0e7, 1.0e7, 0.0],
    }
)
DEMAND = pd.read_csv("config/tables/water_demand.csv")


def test_headroom_formula_may_be_negative():
    hr = county_headroom(BUDGETS, 2024)
    assert list(hr.columns) == [
        "adcode",
        "allocation_m3",
        "consumption_m3",
        "reserve_m3",
        "headroom_m3",
    ]
    assert list(hr["adcode"]) == ["640104", "640181", "640402"]
    np.testing.assert_allclose(
        hr["headroom_m3"], [1.1e8 - 6.5e7 - 1.0e7, 5.0e7 - 4.8e7 - 1.0e7, 0.0]
    )
    assert hr["headroom_m3"].iloc[1] < 0


def test_headroom_missing_year_and_duplicates():
    with pytest.raises(InputError, match=r"year 2030.*\[2023, 2024\]"):
        county_headroom(BUDGETS, 2030)
    dup = pd.concat([BUDGETS, BUDGETS.iloc[[0]]])
    with pytest.raises(InputError, match="640104"):
        county_headroom(dup, 2023)


def _square_counties(crs="EPSG:4507"):
    import geopandas as gpd

    # 10 km x 10 km = 100 km2 near the central meridian of EPSG:4507 (105E, false easting 500 km)
    sq = box(500_000, 4_000_000, 510_000, 4_010_000)
    small = box(520_000, 4_000_000, 525_000, 4_004_000)  # 5 km x 4 km = 20 km2
    gdf = gpd.GeoDataFrame({"adcode": ["640104", "640402"]}, geometry=[sq, small], crs="EPSG:4507")
    return gdf.to_crs(crs)


def test_water_quota_modulus_on_square_county():
    out = water_quota_modulus(BUDGETS, _square_counties(), 2024).set_index("adcode")
    assert out.loc["640104", "area_km2"] == pytest.approx(100.0)
    # 1.1e8 m3 = 1.1e4 (10^4 m3) over 100 km2 -> 110
    assert out.loc["640104", "water_quota_modulus"] == pytest.approx(110.0)
    assert out.loc["640402", "water_quota_modulus"] == pytest.approx(2.0e7 / 1e4 / 20.0)


def test_water_quota_modulus_from_geographic_counties_uses_projected_area():
    out = water_quota_modulus(BUDGETS, _square_counties("EPSG:4490"), 2024).set_index("adcode")
    assert out.loc["640104", "area_km2"] == pytest.approx(100.0, rel=1e-3)
    assert out.crs.to_epsg() == 4490


def test_water_quota_modulus_missing_budget():
    gdf = _square_counties()
    gdf.loc[1, "adcode"] = "640999"
    with pytest.raises(InputError, match="640999"):
        water_quota_modulus(BUDGETS, gdf, 2024)


def test_demand_forest_only_below_400mm():
    nominal = demand_per_use(DEMAND)
    assert nominal["cropland"] == 4500 and nominal["forest"] == 1500 and nominal["built"] == 0
    p = np.array([300.0, 399.9, 400.0, 550.0, np.nan])
    d = demand_per_use(DEMAND, p, {"forest": 400})
    np.testing.assert_array_equal(d["forest"], [1500, 1500, 0, 0, np.nan])
    np.testing.assert_array_equal(d["cropland"], [4500] * 5)
    assert demand_per_use(DEMAND, 350.0, {"forest": 400})["forest"] == 1500
    assert demand_per_use(DEMAND, 450.0, {"forest": 400})["forest"] == 0
    with pytest.raises(InputError, match="'rice'"):
        demand_per_use(DEMAND, 300.0, {"rice": 400})


def test_potential_demand_summary():
    areas = pd.DataFrame(
        {
            "adcode": ["640104", "640104", "640181", "640181"],
            "use": ["cropland", "forest", "cropland", "grass"],
            "area_ha": [10.0, 100.0, 1.0, 10.0],
        }
    )
    hr = county_headroom(BUDGETS, 2024)  # 3.5e7, -8e6, 0
    demand = {"cropland": 4500.0, "forest": 1500.0, "grass": 450.0}
    out = potential_demand_summary(areas, demand, hr).set_index("adcode")
    assert out.loc["640104", "demand_cropland_m3"] == 45000
    assert out.loc["640104", "demand_forest_m3"] == 150000
    assert out.loc["640104", "demand_total_m3"] == 195000
    assert out.loc["640104", "ratio"] == pytest.approx(195000 / 3.5e7)
    assert not out.loc["640104", "binding"]
    assert out.loc["640181", "demand_total_m3"] == 4500 + 4500
    assert out.loc["640181", "ratio"] == np.inf and out.loc["640181", "binding"]
    assert out.loc["640181", "left_m3"] == -8e6 - 9000
    # county with headroom but no suitable land: demand 0, not binding
    assert out.loc["640402", "demand_total_m3"] == 0 and out.loc["640402", "ratio"] == 0
    assert not out.loc["640402", "binding"]
    # a precomputed demand_m3 column (e.g. forest only on dry pixels) is used as is
    areas["demand_m3"] = [45000.0, 0.0, 4500.0, 4500.0]
    out2 = potential_demand_summary(areas, demand, hr).set_index("adcode")
    assert out2.loc["640104", "demand_total_m3"] == 45000


def test_potential_demand_summary_wide_input_and_errors():
    wide = pd.DataFrame({"adcode": [640104], "cropland": [2.0], "wetland": [1.0]})
    hr = county_headroom(BUDGETS, 2024)
    out = potential_demand_summary(wide, {"cropland": 4500, "wetland": 7500}, hr).set_index(
        "adcode"
    )
    assert out.loc["640104", "demand_total_m3"] == 2 * 4500 + 7500
    with pytest.raises(InputError, match="wetland"):
        potential_demand_summary(wide, {"cropland": 4500}, hr)
    with pytest.raises(InputError, match="640999"):
        potential_demand_summary(
            pd.DataFrame({"adcode": ["640999"], "cropland": [1.0]}), {"cropland": 1.0}, hr
        )
