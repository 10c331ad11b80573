"""Ledgers (nxgeo.ledgers): greening increment, exact greening trades, carbon balance."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from nxgeo.config import fill_section
from nxgeo.errors import InputError
from nxgeo.ledgers import (
    afforestable_with_water,
    carbon_balance,
    carbon_trades,
    cropland_protection,
    forest_need_context,
    greening_increment,
    greening_ledger,
    ledger_chart,
    ledgers_year,
)

GREEN = ["forest", "shrub", "grassland", "orchard", "wetland"]


def _transitions():
    rows = [  # zone_kind, zone_id, zone_name, from_class, to_class, from_name, to_name, area_ha
        ("county", 640101, "甲", 1, 4, "cropland_irrigated", "forest", 10.0),  # gross
        ("county", 640101, "甲", 13, 6, "bare", "grassland", 5.0),  # gross
        ("county", 640101, "甲", 6, 9, "grassland", "built", 3.0),  # loss
        ("county", 640101, "甲", 6, 4, "grassland", "forest", 7.0),  # green->green
        ("county", 640101, "甲", 4, 4, "forest", "forest", 100.0),  # unchanged
        ("county", 640101, "甲", 0, 4, "nodata", "forest", 2.0),  # nodata: ignored
        ("county", 640102, "乙", 5, 12, "shrub", "sandy", 4.0),  # loss
        ("county", 640102, "乙", 2, 2, "cropland_dry", "cropland_dry", 50.0),
        ("reach", "weining", "卫宁段", 1, 4, "cropland_irrigated", "forest", 99.0),  # not county
    ]
    df = pd.DataFrame(
        rows,
        columns=[
            "zone_kind",
            "zone_id",
            "zone_name",
            "from_class",
            "to_class",
            "from_name",
            "to_name",
            "area_ha",
        ],
    )
    df.insert(3, "year_from", 2023)
    df.insert(4, "year_to", 2024)
    return df


def test_greening_increment():
    inc = greening_increment(_transitions(), GREEN).set_index("adcode")
    assert inc.loc["640101", "gross_ha"] == pytest.approx(15.0)
    assert inc.loc["640101", "loss_ha"] == pytest.approx(3.0)
    assert inc.loc["640101", "net_ha"] == pytest.approx(12.0)
    assert inc.loc["640102", "gross_ha"] == 0.0
    assert inc.loc["640102", "net_ha"] == pytest.approx(-4.0)
    assert inc.loc["640101", "name"] == "甲"
    assert list(inc.index) == ["640101", "640102"]


def _case(increments, targets, year=2024):
    inc = pd.DataFrame(
        {
            "adcode": list(increments),
            "name": [f"c{a}" for a in increments],
            "gross_ha": list(increments.values()),
            "loss_ha": 0.0,
            "net_ha": list(increments.values()),
        }
    )
    tg = pd.DataFrame({"adcode": list(targets), "year": year, "target_ha": list(targets.values())})
    return inc, tg


def _check_invariants(trades, led):
    sellers = led[led["sold_ha"] > 0]
    assert (sellers["after_trade_ha"] >= sellers["target_ha"] - 1e-6).all()
    assert trades["area_ha"].sum() == pytest.approx(led["bought_ha"].sum())
    assert led["sold_ha"].sum() == pytest.approx(led["bought_ha"].sum())
    assert (led["bought_ha"] <= led["deficit_ha"] + 1e-6).all()
    assert (trades["area_ha"] > 0).all()


def _min_trades_brute(surplus, deficit):
    """Fewest trades covering min(sum S, sum D), by brute force over trade patterns."""
    from scipy.optimize import linprog

    ns, nb = len(surplus), len(deficit)
    cover = min(sum(surplus), sum(deficit))
    pairs = list(itertools.product(range(ns), range(nb)))
    for k in range(1, len(pairs) + 1):
        for pat in itertools.combinations(pairs, k):
            a_ub = np.zeros((ns + nb, k))
            for v, (i, j) in enumerate(pat):
                a_ub[i, v] = 1
                a_ub[ns + j, v] = 1
            r = linprog(
                np.zeros(k),
                A_ub=a_ub,
                b_ub=list(surplus) + list(deficit),
                A_eq=np.ones((1, k)),
                b_eq=[cover],
                bounds=[(0, None)] * k,
            )
            if r.status == 0:
                return k
    return None


def test_min_trades_hand_case():
    # surpluses 4, 6, 5 and deficits 10, 5: 4+6 -> 10 and 5 -> 5 is 3 trades; greedy
    # largest-first (6->10, 5->10 (4), 5->5 (1), 4->5 (4)) would need 4.
    inc, tg = _case(
        {"1": 14, "2": 16, "3": 15, "4": 0, "5": 5}, {"1": 10, "2": 10, "3": 10, "4": 10, "5": 10}
    )
    trades, led = greening_ledger(inc, tg, 2024, ["1", "2", "3", "4", "5"], 30000.0, "min_trades")
    assert len(trades) == 3 == _min_trades_brute([4, 6, 5], [10, 5])
    got = {
        (s, b): a
        for s, b, a in zip(trades["seller_adcode"], trades["buyer_adcode"], trades["area_ha"])
    }
    assert got == pytest.approx({("1", "4"): 4.0, ("2", "4"): 6.0, ("3", "5"): 5.0})
    _check_invariants(trades, led)
    led = led.set_index("adcode")
    assert set(led.loc[["1", "2", "3"], "status"]) == {"surplus"}
    assert set(led.loc[["4", "5"], "status"]) == {"deficit_covered"}
    assert (led["group_status"] == "feasible").all()
    assert trades["value_cny"].sum() == pytest.approx(15 * 30000.0)
    assert led.loc["4", "after_trade_ha"] == pytest.approx(10.0)


def test_min_trades_random_cases_match_brute_force():
    rng = np.random.default_rng(7)
    for _ in range(6):
        s = rng.integers(1, 9, size=3).astype(float)
        d = rng.integers(1, 9, size=3).astype(float)
        inc = {f"s{i}": 10 + v for i, v in enumerate(s)} | {
            f"b{j}": 10 - v for j, v in enumerate(d)
        }
        inc, tg = _case(inc, dict.fromkeys(inc, 10.0))
        trades, led = greening_ledger(inc, tg, 2024, list(inc["adcode"]), 1.0, "min_trades")
        assert len(trades) == _min_trades_brute(list(s), list(d))
        _check_invariants(trades, led)


def test_min_cost_prefers_cheap_sellers():
    inc, tg = _case({"1": 15, "2": 15, "3": 2}, {"1": 10, "2": 10, "3": 10})
    trades, led = greening_ledger(
        inc, tg, 2024, ["1", "2", "3"], {"1": 40000.0, "2": 25000.0}, "min_cost"
    )
    # deficit 8: the cheaper seller 2 gives 5 (all its surplus), seller 1 the other 3
    got = dict(zip(trades["seller_adcode"], trades["area_ha"]))
    assert got == pytest.approx({"2": 5.0, "1": 3.0})
    assert trades["value_cny"].sum() == pytest.approx(5 * 25000 + 3 * 40000)
    _check_invariants(trades, led)


def test_infeasible_case_is_reported():
    inc, tg = _case({"1": 12, "2": 5, "3": 7, "9": 0}, {"1": 10, "2": 10, "3": 10, "9": 10})
    trades, led = greening_ledger(inc, tg, 2024, ["1", "2", "3"], 30000.0)
    _check_invariants(trades, led)
    assert trades["area_ha"].sum() == pytest.approx(2.0)  # all the surplus there is
    led = led.set_index("adcode")
    assert led.loc["1", "after_trade_ha"] == pytest.approx(10.0)  # seller stays on target
    assert led.loc[["2", "3"], "uncovered_deficit_ha"].sum() == pytest.approx(6.0)
    assert set(led.loc[["2", "3"], "status"]) <= {"deficit_partly_covered", "deficit_uncovered"}
    assert led.loc["2", "group_status"].startswith("infeasible")
    # county 9 is outside the trading group: its deficit is listed, never traded
    assert not led.loc["9", "in_group"]
    assert led.loc["9", "status"] == "deficit_uncovered"
    assert led.loc["9", "uncovered_deficit_ha"] == pytest.approx(10.0)
    assert led.loc["9", "group_status"] == ""


def test_no_target_and_period_targets():
    inc, tg = _case({"1": 12, "2": 3}, {"1": 5})
    tg = pd.concat([tg, pd.DataFrame({"adcode": ["1"], "year": [2023], "target_ha": [2.0]})])
    trades, led = greening_ledger(inc, tg, 2024, ["1", "2"], 1.0, year_from=2022)
    led = led.set_index("adcode")
    assert led.loc["1", "target_ha"] == pytest.approx(7.0)  # 2023 + 2024
    assert led.loc["1", "target_years"] == "2023,2024"
    assert led.loc["2", "status"] == "no_target"
    assert trades.empty


def test_bad_objective():
    inc, tg = _case({"1": 1}, {"1": 1})
    with pytest.raises(ValueError, match="objective"):
        greening_ledger(inc, tg, 2024, ["1"], 1.0, "max_fun")


def test_carbon_balance_hand_checked():
    seq = pd.DataFrame(
        {
            "zone_kind": ["county", "county", "county", "reach"],
            "zone_id": ["640101", "640102", "640103", "weining"],
            "zone_name": ["甲", "乙", "丙", "卫宁"],
            "carbon_sequestration_t_co2_per_yr": [1000.0, 200.0, -50.0, 9e9],
        }
    )
    em = pd.DataFrame(
        {
            "adcode": ["640101", "640102", "640103", "640101"],
            "year": [2024, 2024, 2024, 2023],
            "emission_t_co2": [500.0, 800.0, 0.0, 1e9],
        }
    )
    crop = pd.Series({"640101": 100.0, "640102": 400.0})
    cb = carbon_balance(seq, em, crop, 2024, 0.5, 5.0).set_index("adcode")
    # 640101: emission 500 + 0.5*100 = 550; balance 1000 - 550 = 450 surplus
    assert cb.loc["640101", "emission_t_co2"] == pytest.approx(550.0)
    assert cb.loc["640101", "balance_t_co2"] == pytest.approx(450.0)
    assert cb.loc["640101", "status"] == "carbon_surplus"
    assert cb.loc["640101", "forest_needed_ha"] == 0.0
    # 640102: emission 800 + 200 = 1000; deficit 800 -> 800/5 = 160 ha of forest (2400 mu)
    assert cb.loc["640102", "deficit_t_co2"] == pytest.approx(800.0)
    assert cb.loc["640102", "status"] == "carbon_deficit"
    assert cb.loc["640102", "forest_needed_ha"] == pytest.approx(160.0)
    assert cb.loc["640102", "forest_needed_mu"] == pytest.approx(2400.0)
    # 640103: the land lost carbon: a source of 50 -> deficit 50, 10 ha
    assert cb.loc["640103", "forest_needed_ha"] == pytest.approx(10.0)
    assert "weining" not in cb.index
    assert cb.loc["640102", "status_zh"] == "碳赤字"


def test_carbon_balance_missing_emissions_reported():
    seq = pd.DataFrame({"zone_id": ["1", "2"], "sink_t_co2": [10.0, 10.0]})
    em = pd.DataFrame({"adcode": ["1"], "year": [2024], "emission_t_co2": [5.0]})
    cb = carbon_balance(seq, em, pd.Series(dtype=float), 2024, 0.5, 5.0).set_index("adcode")
    assert cb.loc["2", "status"] == "no_emission_data"
    assert np.isnan(cb.loc["2", "balance_t_co2"])


def test_ledger_chart(tmp_path):
    inc, tg = _case({"1": 14, "2": 6}, {"1": 10, "2": 10})
    _, led = greening_ledger(inc, tg, 2024, ["1", "2"], 1.0)
    p = ledger_chart(led, tmp_path / "chart.png")
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ledgers_year(tmp_path):
    trans = _transitions()
    trans.to_csv(tmp_path / "t.csv", index=False, encoding="utf-8-sig")
    pd.DataFrame(
        {
            "zone_kind": "county",
            "zone_id": ["640101", "640102"],
            "zone_name": ["甲", "乙"],
            "carbon_sequestration_t_co2_per_yr": [100.0, 5.0],
        }
    ).to_csv(tmp_path / "s.csv", index=False)
    pd.DataFrame(
        {
            "zone_kind": "county",
            "zone_id": ["640101", "640101", "640102"],
            "class": ["cropland_irrigated", "forest", "cropland_dry"],
            "area_ha": [10.0, 5.0, 20.0],
        }
    ).to_csv(tmp_path / "inv.csv", index=False)
    pd.DataFrame({"adcode": ["640101", "640102"], "year": 2024, "target_ha": [5.0, 3.0]}).to_csv(
        tmp_path / "tg.csv", index=False
    )
    pd.DataFrame(
        {"adcode": ["640101", "640102"], "year": 2024, "emission_t_co2": [50.0, 10.0]}
    ).to_csv(tmp_path / "em.csv", index=False)
    # afforestable land (best use forest): 640101 100 ha, 20 ha of it needing 1500 m3/ha,
    # headroom for 10 ha; 640102 none
    pd.DataFrame(
        {
            "adcode": ["640101", "640102"],
            "area_forest_ha": [100.0, 0.0],
            "demand_forest_m3": [30_000.0, 0.0],
            "headroom_m3": [15_000.0, 5e6],
        }
    ).to_csv(tmp_path / "cap.csv", index=False)
    # the ledgers section as check_config completes it (defaults from the schema)
    cfg = fill_section(
        "ledgers",
        {
            "greening_trading_group": ["640101", "640102"],
            "cropland_emission_t_co2_per_ha": 0.5,
            "forest_sequestration_t_co2_per_ha": 5.0,
            "greening_price_factor": {"default": 1.0, "640101": 1.2},
            "carbon_trading_group": [],
            "carbon_objective": "min_trades",
            "cropland_to_green_classes": ["forest", "shrub", "grassland"],
            "grassland_classes": ["grassland"],
            "cropland_flag_min_ha": 0.0,
        },
    )
    kw = {
        "water_capacity_csv": tmp_path / "cap.csv",
        "demand_csv": "config/tables/water_demand.csv",
    }
    out = ledgers_year(
        tmp_path / "t.csv",
        tmp_path / "s.csv",
        tmp_path / "inv.csv",
        tmp_path / "tg.csv",
        tmp_path / "em.csv",
        2023,
        2024,
        cfg,
        fill_section("landuse", {"green_classes": GREEN, "mu_per_ha": 15}),
        "config/tables/prices.csv",
        tmp_path / "out",
        **kw,
    )
    led = pd.read_csv(out["greening_ledger"], dtype={"adcode": str}).set_index("adcode")
    # 640101 net 12 vs 5 -> surplus 7; 640102 net -4 vs 3 -> deficit 7: one trade of 7 ha
    trades = pd.read_csv(out["greening_trades"], dtype={"seller_adcode": str})
    assert len(trades) == 1 and trades.loc[0, "area_ha"] == pytest.approx(7.0)
    assert trades.loc[0, "price_cny_per_ha"] == pytest.approx(36000.0)  # 30000 x 1.2
    assert led.loc["640102", "status"] == "deficit_covered"
    cb = pd.read_csv(out["carbon_balance"], dtype={"adcode": str}).set_index("adcode")
    assert cb.loc["640101", "emission_t_co2"] == pytest.approx(55.0)
    assert cb.loc["640102", "balance_t_co2"] == pytest.approx(5 - 20.0)
    # forest needed in context: 15 t / 5 t/ha = 3 ha of a 20 ha county with no afforestable land
    assert cb.loc["640102", "forest_needed_ha"] == pytest.approx(3.0)
    assert cb.loc["640102", "forest_needed_share_of_county"] == pytest.approx(3.0 / 20.0)
    assert cb.loc["640102", "cannot_offset_in_county"]
    assert cb.loc["640101", "afforestable_with_water_ha"] == pytest.approx(90.0)
    assert not cb.loc["640101", "cannot_offset_in_county"]
    # carbon-sink pairing: 640101 sells 15 t to 640102 at the CO2 price (100 CNY/t)
    ct = pd.read_csv(out["carbon_trades"], dtype={"seller_adcode": str, "buyer_adcode": str})
    assert list(zip(ct["seller_adcode"], ct["buyer_adcode"])) == [("640101", "640102")]
    assert ct.loc[0, "t_co2"] == pytest.approx(15.0) and ct.loc[0, "value_cny"] == pytest.approx(
        1500.0
    )
    assert cb.loc["640102", "uncovered_deficit_t_co2"] == pytest.approx(0.0)
    # cropland protection beside the ledger: 10 ha of cropland became forest in 640101
    cp = pd.read_csv(out["cropland_protection"], dtype={"adcode": str}).set_index("adcode")
    assert cp.loc["640101", "cropland_to_green_ha"] == pytest.approx(10.0)
    assert cp.loc["640101", "flags"] == "cropland_to_green"
    assert led.loc["640101", "cropland_to_green_ha"] == pytest.approx(10.0)
    assert out["chart"].exists()
    with pytest.raises(InputError, match="2022"):
        ledgers_year(
            tmp_path / "t.csv",
            tmp_path / "s.csv",
            tmp_path / "inv.csv",
            tmp_path / "tg.csv",
            tmp_path / "em.csv",
            2022,
            2024,
            cfg,
            fill_section("landuse", {"green_classes": GREEN}),
            "config/tables/prices.csv",
            tmp_path / "o2",
            **kw,
        )


def test_group_county_without_any_data_is_listed():
    inc, tg = _case({"1": 12}, {"1": 10})
    _, led = greening_ledger(inc, tg, 2024, ["1", "7"], 1.0)
    led = led.set_index("adcode")
    assert led.loc["7", "status"] == "no_target" and led.loc["7", "in_group"]
    assert led.loc["7", "increment_ha"] == 0.0


def test_cropland_protection_hand_checked():
    t = _transitions()
    extra = pd.DataFrame(
        [("county", 640102, "乙", 2023, 2024, 6, 2, "grassland", "cropland_dry", 2.5)],
        columns=t.columns,
    )
    cp = cropland_protection(
        pd.concat([t, extra], ignore_index=True),
        ["cropland_irrigated", "cropland_dry"],
        ["forest", "shrub", "grassland"],
        ["grassland"],
        0.0,
    )
    cp = cp.set_index("adcode")
    assert cp.loc["640101", "cropland_to_green_ha"] == pytest.approx(10.0)  # the reach row left out
    assert cp.loc["640101", "grassland_ploughed_ha"] == 0.0
    assert cp.loc["640102", "grassland_ploughed_ha"] == pytest.approx(2.5)
    assert cp.loc["640102", "cropland_net_ha"] == pytest.approx(2.5)
    assert cp.loc["640101", "cropland_net_ha"] == pytest.approx(-10.0)
    assert cp.loc["640102", "flags"] == "grassland_ploughed"
    assert cp.loc["640101", "flags_zh"] == "耕地转为林草地"
    high = cropland_protection(t, ["cropland_irrigated"], ["forest"], ["grassland"], 50.0)
    assert not high["cropland_to_green_flag"].any()


def test_carbon_trades_cover_what_the_surplus_allows():
    bal = pd.DataFrame(
        {
            "adcode": ["1", "2", "3", "4"],
            "name": list("abcd"),
            "year": 2024,
            "balance_t_co2": [30.0, 10.0, -25.0, -40.0],
            "status": ["carbon_surplus"] * 2 + ["carbon_deficit"] * 2,
        }
    )
    bal["surplus_t_co2"] = bal["balance_t_co2"].clip(lower=0)
    bal["deficit_t_co2"] = (-bal["balance_t_co2"]).clip(lower=0)
    trades, b = carbon_trades(bal, [], 100.0)
    assert trades["t_co2"].sum() == pytest.approx(40.0)  # all the surplus, 65 t deficit
    assert len(trades) <= 3  # fewest trades
    b = b.set_index("adcode")
    assert (b["sold_t_co2"] <= b["surplus_t_co2"] + 1e-9).all()
    assert b["bought_t_co2"].sum() == pytest.approx(40.0)
    assert b["uncovered_deficit_t_co2"].sum() == pytest.approx(25.0)
    assert (trades["value_cny"] == trades["t_co2"] * 100.0).all()
    only = carbon_trades(bal, ["1", "3"], 100.0)[0]  # a group
    assert list(zip(only["seller_adcode"], only["buyer_adcode"], only["t_co2"])) == [
        ("1", "3", pytest.approx(25.0))
    ]


def test_forest_need_context_and_afforestable_land():
    cap = pd.DataFrame(
        {
            "adcode": ["1", "2"],
            "area_forest_ha": [50.0, 10.0],
            "demand_forest_m3": [15_000.0, 0.0],
            "headroom_m3": [-5.0, 0.0],
        }
    )
    aff = afforestable_with_water(cap, 1500.0).set_index("adcode")
    assert aff.loc["1", "rainfed_ha"] == pytest.approx(40.0)  # 10 ha need water ...
    assert aff.loc["1", "afforestable_with_water_ha"] == pytest.approx(40.0)  # ... none left
    bal = pd.DataFrame({"adcode": ["1", "2"], "forest_needed_ha": [60.0, 5.0]})
    out = forest_need_context(bal, pd.Series({"1": 1000.0, "2": 100.0}), aff.reset_index())
    out = out.set_index("adcode")
    assert out.loc["1", "forest_needed_share_of_county"] == pytest.approx(0.06)
    assert out.loc["1", "forest_needed_share_of_afforestable"] == pytest.approx(1.5)
    assert out.loc["1", "cannot_offset_in_county"] and not out.loc["2", "cannot_offset_in_county"]
