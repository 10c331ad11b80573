"""GEP accounts (nxgeo.services.accounts): statistics tables, not-accounted parts, total rows,
and properties of the whole account (hypothesis)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nxgeo.errors import InputError
from nxgeo.services import compute_services, load_params
from nxgeo.services.accounts import gep_change, gep_wide, read_statistics, zone_accounts
from nxgeo.services.carbon import density_lut, read_carbon_table
from nxgeo.services.coefficients import read_coefficients
from nxgeo.services.params import read_classes, read_prices
from nxgeo.services.valuation import GEP_CATEGORIES, PHYSICAL_COLUMNS, gep_total, regulating_values

CLASSES = "config/landuse/classes.csv"
CARBON = "config/tables/carbon_pools.csv"
PRICES = "config/tables/prices.csv"
COEF = "config/tables/gep_coefficients.csv"
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def shipped_params():
    cfg = yaml.safe_load(Path("config/config.yaml").read_text(encoding="utf-8"))["services"]
    return cfg, load_params(cfg, CARBON, CLASSES, PRICES, COEF)


CFG, PARAMS = shipped_params()
PRICE_TABLE = read_prices(PRICES)
COEFS = read_coefficients(COEF)


def _zones(phys_rows, kinds=None):
    rows = []
    for i, phys in enumerate(phys_rows):
        kind, zid = kinds[i] if kinds else ("county", f"64010{i + 1}")
        rows.append(
            {
                "zone_kind": kind,
                "zone_id": zid,
                "zone_name": f"z{i}",
                "year": 2024,
                "area_ha": 100.0,
                **phys,
            }
        )
    return pd.DataFrame(rows)


def _stats(tmp_path, name, rows):
    p = tmp_path / name
    pd.DataFrame(rows, columns=["adcode", "year", "item", "value"]).to_csv(p, index=False)
    return p


# --------------------------------------------------------------------------------------------
# Statistics tables, not accounted, totals
# --------------------------------------------------------------------------------------------


def test_material_and_cultural_from_statistics(tmp_path):
    phys = dict.fromkeys(PHYSICAL_COLUMNS, 0.0)
    zones = _zones([phys, phys])  # counties 640101, 640102
    mat = read_statistics(
        _stats(
            tmp_path,
            "m.csv",
            [
                ("640101", 2024, "agriculture", 1200.0),  # 1200 万元 = 1.2e7 CNY
                ("640101", 2024, "water_supply", 300.0),
                ("640102", 2023, "agriculture", 999.0),  # another year: not this one
            ],
        ),
        "material_products",
        ("agriculture", "forestry", "animal_husbandry", "fishery", "water_supply"),
        "wan_cny",
    )
    acc = zone_accounts(zones, PRICE_TABLE, COEFS, 44 / 12, False, material=mat, cultural=None)
    a = acc.set_index(["zone_id", "service"])
    assert a.loc[("640101", "agriculture"), "value_cny"] == pytest.approx(1.2e7)
    assert a.loc[("640101", "agriculture"), "value_wan_cny"] == pytest.approx(1200.0)
    assert bool(a.loc[("640101", "agriculture"), "accounted"])
    # no row for the county/year or no table at all: not accounted, never 0
    for key in [("640102", "agriculture"), ("640101", "forestry"), ("640101", "tourism")]:
        assert not bool(a.loc[key, "accounted"]) and np.isnan(a.loc[key, "value_cny"]), key
    # the total row sums the accounted counties
    assert a.loc[("total", "agriculture"), "value_cny"] == pytest.approx(1.2e7)
    assert bool(a.loc[("total", "agriculture"), "accounted"])
    assert not bool(a.loc[("total", "tourism"), "accounted"])
    wide = gep_wide(acc, zones[["zone_kind", "zone_id", "area_ha"]]).set_index("zone_id")
    assert wide.loc["640101", "material_products_cny"] == pytest.approx(1.5e7)
    assert np.isnan(wide.loc["640102", "material_products_cny"])
    assert np.isnan(wide.loc["640101", "cultural_services_cny"])
    assert wide.loc["640101", "gep_cny"] == pytest.approx(1.5e7)  # regulating flows are 0 here
    assert wide.loc["640101", "gep_yi_cny"] == pytest.approx(0.15)
    assert wide.loc["total", "area_ha"] == pytest.approx(200.0)
    # 1.5e7 CNY = 1500 万元 over 1 km2
    assert wide.loc["640101", "gep_wan_cny_per_km2"] == pytest.approx(1500.0)
    assert "tourism" in wide.loc["640101", "not_accounted"]


def test_statistics_table_errors(tmp_path):
    items = ("tourism",)
    with pytest.raises(InputError, match="unknown item"):
        read_statistics(
            _stats(tmp_path, "a.csv", [("640101", 2024, "hotels", 1.0)]),
            "cultural_services",
            items,
            "wan_cny",
        )
    with pytest.raises(InputError, match="6-digit"):
        read_statistics(
            _stats(tmp_path, "b.csv", [("6401", 2024, "tourism", 1.0)]),
            "cultural_services",
            items,
            "wan_cny",
        )
    with pytest.raises(InputError, match="duplicate"):
        read_statistics(
            _stats(
                tmp_path,
                "c.csv",
                [("640101", 2024, "tourism", 1.0), ("640101", 2024, "tourism", 2.0)],
            ),
            "cultural_services",
            items,
            "wan_cny",
        )
    with pytest.raises(InputError, match="not found"):
        read_statistics(tmp_path / "none.csv", "cultural_services", items, "wan_cny")
    t = read_statistics(
        _stats(tmp_path, "d.csv", [("640101", 2024, "tourism", 2.5)]),
        "cultural_services",
        items,
        "yi_cny",
    )
    assert t["value_cny"].iloc[0] == pytest.approx(2.5e8)


def test_gep_change_marks_incomparable_years():
    phys = dict.fromkeys(PHYSICAL_COLUMNS, 1.0)
    zones = _zones([phys])
    a = gep_wide(zone_accounts(zones, PRICE_TABLE, COEFS, 44 / 12, False))
    b = gep_wide(
        zone_accounts(zones.assign(water_conservation_m3=2.0), PRICE_TABLE, COEFS, 44 / 12, False)
    )
    ch = gep_change(a, b, 2023, 2024).set_index("zone_id")
    # one more m3 conserved at the reservoir price
    assert ch.loc["640101", "d_gep_cny"] == pytest.approx(PRICE_TABLE["reservoir_storage"])
    assert ch.loc["640101", "d_water_conservation_cny"] == pytest.approx(
        PRICE_TABLE["reservoir_storage"]
    )
    assert bool(ch.loc["640101", "comparable"])
    c = a.copy()
    c["not_accounted"] = "tourism"
    assert not bool(gep_change(c, b, 2023, 2024).set_index("zone_id").loc["640101", "comparable"])


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

phys_st = st.fixed_dictionaries({c: st.floats(0, 1e7, allow_nan=False) for c in PHYSICAL_COLUMNS})


@SETTINGS
@given(
    rows=st.lists(phys_st, min_size=1, max_size=4),
    agri=st.lists(st.one_of(st.none(), st.floats(0, 1e6)), min_size=4, max_size=4),
    oxygen=st.booleans(),
)
def test_gep_is_the_sum_of_accounted_services(tmp_path, rows, agri, oxygen):
    zones = _zones(rows)
    stat_rows = [
        (f"64010{i + 1}", 2024, "agriculture", v)
        for i, v in enumerate(agri[: len(rows)])
        if v is not None
    ]
    mat = (
        read_statistics(
            _stats(tmp_path, "m.csv", stat_rows), "material_products", ("agriculture",), "wan_cny"
        )
        if stat_rows
        else None
    )
    acc = zone_accounts(zones, PRICE_TABLE, COEFS, 44 / 12, oxygen, material=mat)
    wide = gep_wide(acc).set_index("zone_id")
    for zid, g in acc.groupby("zone_id"):
        inc = g[g["accounted"] & g["category"].isin(GEP_CATEGORIES)]
        assert wide.loc[zid, "gep_cny"] == pytest.approx(inc["value_cny"].sum(), rel=1e-9, abs=1e-6)
        # the asset is in the table but never in GEP
        asset = g[g["category"] == "ecological_asset"]
        assert list(asset["service"]) == ["carbon_stock"]
    assert (acc.loc[~acc["accounted"], "value_cny"].isna()).all()


@SETTINGS
@given(phys=phys_st, stock=st.floats(0, 1e9, allow_nan=False))
def test_no_stock_term_in_gep(phys, stock):
    v1 = regulating_values(phys, PRICE_TABLE, COEFS, 44 / 12, True)
    v2 = regulating_values({**phys, "carbon_stock_t_c": stock}, PRICE_TABLE, COEFS, 44 / 12, True)
    assert gep_total(v1) == pytest.approx(gep_total(v2), rel=1e-12, abs=1e-9)
    assert v2["carbon_stock"][1] == pytest.approx(stock * 44 / 12 * PRICE_TABLE["carbon_co2"])


CLASS_IDS = st.integers(1, 13)


@SETTINGS
@given(cls=st.lists(CLASS_IDS, min_size=1, max_size=8), data=st.data())
def test_raising_fvc_never_lowers_sand_fixation(cls, data):
    n = len(cls)
    f = st.floats(0, 1, allow_nan=False)
    fvc1 = np.array(data.draw(st.lists(f, min_size=n, max_size=n)))
    bump = np.array(data.draw(st.lists(f, min_size=n, max_size=n)))
    fvc2 = np.minimum(fvc1 + bump, 1.0)
    wind = np.array(
        data.draw(st.lists(st.floats(0, 2000), min_size=n, max_size=n))
    )  # past the hump
    sand = np.array(data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    slope = np.array(data.draw(st.lists(st.floats(0, 40), min_size=n, max_size=n)))
    lu = np.array(cls, np.uint8)
    kw = {"wind_factor": wind, "sand_fraction": sand, "slope": slope}
    a = compute_services(PARAMS, lu, np.full(n, 300.0), np.full(n, 1.0), 1.0, fvc=fvc1, **kw)
    b = compute_services(PARAMS, lu, np.full(n, 300.0), np.full(n, 1.0), 1.0, fvc=fvc2, **kw)
    assert (b["sand_t"] >= a["sand_t"] - 1e-9).all()
    assert (a["sand_t"] >= 0).all()
    # the potential is the soil's: the same for every class at the same soil, wind and slope
    pot = compute_services(
        PARAMS, np.full(n, 12, np.uint8), np.full(n, 300.0), np.full(n, 1.0), 1.0, fvc=fvc1, **kw
    )["wind_potential_t"]
    excl = PARAMS.rweq_excluded[lu]
    np.testing.assert_allclose(a["wind_potential_t"][~excl], pot[~excl], rtol=1e-12)


DENS = density_lut(read_carbon_table(CARBON))
IDS = read_classes(CLASSES)["class_id"].to_numpy()


@SETTINGS
@given(pairs=st.lists(st.tuples(CLASS_IDS, CLASS_IDS), min_size=1, max_size=12))
def test_yearly_sequestration_is_bounded(pairs):
    now = np.array([p[0] for p in pairs], np.uint8)
    prev = np.array([p[1] for p in pairs], np.uint8)
    seq = compute_services(
        PARAMS, now, np.full(len(now), 300.0), np.full(len(now), 1.0), 1.0, landuse_prev=prev
    )["seq_t"]
    d = DENS[IDS]
    bound = np.nanmax(PARAMS.seq_rate[IDS]) + (d.max() - d.min()) / PARAMS.maturation_years
    assert (seq <= bound + 1e-9).all()
    # never the whole density difference in one year (for a gain)
    gain = (now != prev) & (DENS[now] > DENS[prev])
    assert (seq[gain] < (DENS[now] - DENS[prev])[gain]).all()


def test_report_leads_with_county_gep_table(tmp_path):
    from nxgeo.atomic import write_csv
    from nxgeo.report import parse_tables, render_report

    phys = dict.fromkeys(PHYSICAL_COLUMNS, 1000.0)
    zones = _zones([phys, {**phys, "water_conservation_m3": 5000.0}])
    wa = gep_wide(
        zone_accounts(zones.assign(year=2023), PRICE_TABLE, COEFS, 44 / 12, False),
        zones[["zone_kind", "zone_id", "area_ha"]],
    )
    wb = gep_wide(
        zone_accounts(
            zones.assign(water_conservation_m3=9000.0), PRICE_TABLE, COEFS, 44 / 12, False
        ),
        zones[["zone_kind", "zone_id", "area_ha"]],
    )
    root = tmp_path / "results"
    write_csv(wb, root / "2024" / "tables" / "gep_by_county.csv")
    write_csv(
        gep_change(wa, wb, 2023, 2024),
        root / "2024" / "compare" / "2023_2024" / "gep_change_by_county.csv",
    )
    html = render_report(2024, root, {"region_name": "测试 / Test"}, tmp_path, made_on="2026-12-01")
    # after the scorecard, before the candidates
    assert html.index('id="scorecard"') < html.index('id="gep"') < html.index('id="candidates"')
    rows = parse_tables(html)["tbl-gep-county"]
    assert rows[0][1:3] == ["县（区） County", "GEP（亿元） GEP (10⁸ CNY)"]
    assert [r[1] for r in rows[1:]] == ["z0", "z1", "合计 Total"]
    # change of the first county: (9000 - 1000) m3 x reservoir price, in 万元
    d = (9000 - 1000) * PRICE_TABLE["reservoir_storage"] / 1e4
    col = rows[0].index("较上期变化（万元） Change (10⁴ CNY)")
    assert float(rows[1][col].replace(",", "")) == pytest.approx(d, rel=1e-3)
    assert "未核算 Not accounted" in html and "tourism" in html and "placeholder" in html


def test_nep_raster_replaces_the_rate_on_unchanged_land():
    # forest (rate 1.2 t C/ha/yr in the shipped table) unchanged with NEP 2.5, unchanged
    # without NEP (NaN -> rate), and sand -> forest (changed: (130 - 10.2)/20 = 5.99, NEP unused)
    lu = np.array([4, 4, 4], np.uint8)
    res = compute_services(
        PARAMS,
        lu,
        np.full(3, 300.0),
        np.full(3, 1.0),
        2.0,
        landuse_prev=np.array([4, 4, 12], np.uint8),
        nep=np.array([2.5, np.nan, 9.0]),
    )
    assert res["seq_t"] == pytest.approx([2.5 * 2, 1.2 * 2, (130 - 10.2) / 20 * 2])
