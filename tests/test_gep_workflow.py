"""The GEP account on the tiny sample run (the real DAG): tables for both years, total rows,
GEP change, sand parcels' gains, the report's lead table."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.workflow


def _csv(path):
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"zone_id": str})


def test_gep_tables_for_both_years(tiny_run):
    for year in (2023, 2024):
        t = tiny_run / "results" / str(year) / "tables"
        acc = _csv(t / "gep_accounts.csv")
        gep = _csv(t / "gep_by_county.csv")
        assert gep["zone_id"].iloc[-1] == "total" and gep["zone_kind"].iloc[-1] == "region"
        counties = gep[gep["zone_kind"] == "county"]
        assert gep["gep_cny"].iloc[-1] == pytest.approx(counties["gep_cny"].sum(), rel=1e-9)
        assert (counties.loc[counties["zone_id"] != "none", "gep_cny"] > 0).all()
        assert gep["gep_yi_cny"].iloc[-1] == pytest.approx(gep["gep_cny"].iloc[-1] / 1e8)
        # the carbon stock is an asset: in the account, never in GEP
        acc = acc[acc["zone_kind"].isin(["county", "region"]) & (acc["zone_id"] != "total_reaches")]
        inc = acc[
            acc["accounted"]
            & acc["category"].isin(
                ["material_products", "regulating_services", "cultural_services"]
            )
        ]
        by_zone = inc.groupby("zone_id")["value_cny"].sum()
        np.testing.assert_allclose(
            gep.set_index("zone_id")["gep_cny"].loc[by_zone.index], by_zone, rtol=1e-9
        )
        assert set(acc.loc[acc["category"] == "ecological_asset", "service"]) == {"carbon_stock"}
        # no statistics tables in the sample: material and cultural parts not accounted
        assert not acc.loc[acc["category"] == "material_products", "accounted"].any()
        reach = _csv(t / "gep_by_reach.csv")
        assert reach["zone_kind"].iloc[-1] == "region" and len(reach) >= 2
    ch = _csv(tiny_run / "results/2024/compare/2023_2024/gep_change_by_county.csv")
    tot = ch.set_index("zone_id").loc["total"]
    assert tot["d_gep_cny"] == pytest.approx(tot["gep_cny_to"] - tot["gep_cny_from"])
    assert tot["d_gep_pct"] == pytest.approx(100 * tot["d_gep_cny"] / tot["gep_cny_from"])
    assert (tiny_run / "results/2024/compare/2023_2024/gep_change_by_reach.csv").exists()
    # ledgers' sink: the yearly flow (t CO2/yr), not the stock difference
    sc = _csv(tiny_run / "results/2024/compare/2023_2024/services_change_by_county.csv")
    s24 = _csv(tiny_run / "results/2024/tables/services_by_county.csv")
    np.testing.assert_allclose(
        sc["carbon_sequestration_t_co2_per_yr"].to_numpy(),
        s24["carbon_sequestration_t_co2_per_yr"].to_numpy(),
        rtol=1e-9,
    )


def test_sand_parcels_gain_sand_fixation(tiny_run):
    sand = gpd.read_file(tiny_run / "results/2024/candidates.gpkg", layer="sand_control")
    pub = sand[sand["recommended_target"] == "public_benefit"]
    assert len(pub) and (pub["d_sand_t"] > 0).all()
    # a regreened parcel gains a yearly sequestration, not its full carbon density
    per_ha = pub["d_carbon_seq_t_co2_per_yr"] / pub["area_ha"]
    assert (per_ha > 0).all() and (per_ha < pub["d_carbon_t_co2"] / pub["area_ha"]).all()


def test_report_opens_on_county_gep(tiny_run):
    from nxgeo.report import parse_tables

    text = (tiny_run / "results/2024/report/index.html").read_text(encoding="utf-8")
    assert text.index('id="scorecard"') < text.index('id="gep"') < text.index('id="candidates"')
    rows = parse_tables(text)["tbl-gep-county"]
    assert (
        "GEP（亿元） GEP (10⁸ CNY)" in rows[0] and "较上期变化（万元） Change (10⁴ CNY)" in rows[0]
    )
    assert rows[-1][1] == "合计 Total"
