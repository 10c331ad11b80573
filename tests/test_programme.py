"""nxgeo.programme: the budgeted restoration programme (MILP vs greedy, money and water in every
county, brute force, marginal value, equity, bad inputs, files; issue #16)."""

from __future__ import annotations

import copy
import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from nxgeo import programme as P
from nxgeo.errors import InputError

with open(ROOT / "config" / "config.yaml", encoding="utf-8") as f:
    CFG = yaml.safe_load(f)["programme"]


def cfg(**over):
    c = copy.deepcopy(CFG)
    c.update(solver_time_limit_s=10, mip_rel_gap=0.0)
    c.update(over)
    return c


def items(rows) -> pd.DataFrame:
    """rows: (cost CNY, value, water m3, county index, funding)."""
    return pd.DataFrame(
        {
            "parcel_id": [f"p{i:02d}" for i in range(len(rows))],
            "adcode": [("640105", "640122")[r[3]] for r in rows],
            "funding": [r[4] for r in rows],
            "cost_cny": [float(r[0]) for r in rows],
            "value": [float(r[1]) for r in rows],
            "water_m3": [float(r[2]) for r in rows],
            "pathway": "mine_remediation",
            "area_mu": [float(r[0]) / 7000.0 for r in rows],
        }
    )


def brute_force(df: pd.DataFrame, caps: P.Caps) -> float:
    """Best value over all 2^n selections, checked with matrix products (independent of the
    module's own feasibility check)."""
    n = len(df)
    X = np.array(list(itertools.product([0.0, 1.0], repeat=n)))
    cost, water = df["cost_cny"].to_numpy(float), df["water_m3"].to_numpy(float)
    ok = X @ cost <= caps.budget + 1e-6
    for k, cap in caps.water.items():
        w = np.where(df["adcode"].to_numpy() == k, water, 0.0)
        ok &= (X @ w <= max(cap, 0.0) + 1e-6) | (w.sum() == 0)
    for f, cap in caps.funding_budget.items():
        ok &= X @ np.where(df["funding"].to_numpy() == f, cost, 0.0) <= cap + 1e-6
    return float((X @ df["value"].to_numpy(float))[ok].max())


ROW = st.tuples(
    st.integers(0, 100).map(lambda c: c * 1e5),
    st.integers(1, 1000),
    st.sampled_from([0, 0, 500, 2000]),
    st.integers(0, 1),
    st.sampled_from(["public", "operator", "social_capital"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(ROW, min_size=1, max_size=10),
    st.integers(0, 60).map(lambda b: b * 1e5),
    st.integers(0, 5000),
    st.integers(-1000, 5000),
    st.one_of(st.none(), st.integers(0, 40).map(lambda b: b * 1e5)),
)
def test_milp_beats_greedy_respects_money_and_water_and_equals_brute_force(
    rows, budget, w0, w1, public_cap
):
    df = items(rows)
    caps = P.Caps(
        budget=budget,
        water={"640105": float(w0), "640122": float(max(w1, 0))},
        funding_budget={} if public_cap is None else {"public": float(public_cap)},
    )
    sol = P.solve(df, caps, time_limit=10, mip_rel_gap=0.0)
    x = sol.x
    assert sol.objective >= sol.greedy_objective - 1e-9
    cost, water = df["cost_cny"].to_numpy(), df["water_m3"].to_numpy()
    assert cost[x].sum() <= budget + 1e-6
    for k, cap in caps.water.items():
        inside = x & (df["adcode"].to_numpy() == k)
        assert water[inside].sum() <= cap + 1e-6  # water in every county
    if public_cap is not None:
        assert cost[x & (df["funding"].to_numpy() == "public")].sum() <= public_cap + 1e-6
    assert P.feasible(df, sol.x_greedy, caps)
    assert sol.objective == pytest.approx(brute_force(df, caps), rel=1e-9, abs=1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, min_size=1, max_size=12), st.integers(1, 60).map(lambda b: b * 1e5))
def test_objective_monotone_and_marginal_value_nonnegative(rows, budget):
    df = items(rows)
    caps = P.Caps(budget=budget, water={"640105": 3000.0, "640122": 1000.0})
    table, sols = P.marginal_table(df, caps, cfg(marginal_step=0.1))
    obj = table["objective"].to_numpy()
    assert (np.diff(obj) >= -1e-9).all()
    assert (table["marginal_per_yi_up"].dropna() >= -1e-9).all()
    assert (table["marginal_per_yi_down"].dropna() >= -1e-9).all()
    assert (table["spent_yi_cny"] <= table["budget_yi_cny"] + 1e-12).all()
    assert list(table["budget_factor"]) == pytest.approx([0.9, 1.0, 1.1])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(ROW, min_size=1, max_size=10),
    st.integers(0, 60).map(lambda b: b * 1e5),
    st.integers(0, 5000),
    st.sampled_from([0.0, 1e-4, 0.05, 0.3]),
)
def test_programme_is_within_the_gap_of_the_optimum(rows, budget, w0, gap):
    """Whether the LP bound settles it (greedy close enough) or branch-and-bound runs, the
    programme is never below greedy and never more than mip_rel_gap below the optimum."""
    df = items(rows)
    caps = P.Caps(budget=budget, water={"640105": float(w0), "640122": 1000.0})
    sol = P.solve(df, caps, time_limit=10, mip_rel_gap=gap, node_limit=20000)
    best = brute_force(df, caps)
    assert P.feasible(df, sol.x, caps)
    assert sol.objective >= sol.greedy_objective - 1e-9
    assert sol.objective * (1 + gap) >= best - 1e-6
    if sol.status == P.STATUS_LP_BOUND:
        assert sol.mip_gap <= gap + 1e-12 and sol.objective == sol.greedy_objective


def test_lp_bound_settles_a_greedy_that_is_close_enough():
    # budget 10: greedy takes 6 -> 7.5 (ratio 1.25) and nothing else fits. LP relaxation:
    # 6 -> 7.5 whole, then 4/5 of a 5 -> 5 item = 4, bound 11.5; optimum 10 (the two 5s).
    # With a gap of 0.6 greedy's 7.5 is within it (11.5 - 7.5 = 4 <= 0.6 x 7.5): no MILP.
    df = items([(6e5, 7.5, 0, 0, "public"), (5e5, 5, 0, 0, "public"), (5e5, 5, 0, 1, "public")])
    sol = P.solve(df, P.Caps(budget=10e5), time_limit=5, mip_rel_gap=0.6)
    assert sol.status == P.STATUS_LP_BOUND and sol.objective == 7.5
    assert sol.mip_gap == pytest.approx(4 / 7.5)
    # a tighter gap is not met by the bound: branch-and-bound finds the optimum
    sol = P.solve(df, P.Caps(budget=10e5), time_limit=5, mip_rel_gap=0.1)
    assert sol.status == "optimal" and sol.objective == 10


def test_hand_computed_case_where_greedy_is_not_optimal():
    # budget 10: greedy takes the best ratio (6 -> 7, ratio 1.17) and nothing else fits;
    # the optimum is the two 5s (value 10)
    df = items([(6e5, 7, 0, 0, "public"), (5e5, 5, 0, 0, "public"), (5e5, 5, 0, 1, "public")])
    sol = P.solve(df, P.Caps(budget=10e5), time_limit=5, mip_rel_gap=0.0)
    assert sol.greedy_objective == 7 and sol.objective == 10
    assert list(sol.x) == [False, True, True] and sol.status == "optimal"
    sel = P.selection_table(df, sol)
    assert list(sel["rank"]) == [1, 2] and list(sel["in_greedy"]) == [0, 0]
    assert list(sel["value_per_wan_cny"]) == pytest.approx([0.1, 0.1])


def test_water_headroom_binds_per_county():
    # county 640105 has 1000 m3: only one of the two water-needing parcels fits
    df = items(
        [(1e5, 10, 800, 0, "public"), (1e5, 9, 800, 0, "public"), (1e5, 1, 800, 1, "public")]
    )
    sol = P.solve(df, P.Caps(budget=1e9, water={"640105": 1000.0, "640122": -50.0}))
    assert list(sol.x) == [True, False, False]  # negative headroom: no water at all


def test_county_min_share_and_max_share():
    df = items([(4e5, 100, 0, 0, "public"), (4e5, 90, 0, 0, "public"), (4e5, 10, 0, 1, "public")])
    free = P.solve(df, P.Caps(budget=8e5))
    assert list(free.x) == [True, True, False]
    # every county at least 50 % of its need: county 640122 needs its parcel
    eq = P.solve(df, P.Caps(budget=8e5, county_min_share=0.5))
    assert list(eq.x) == [True, False, True] and eq.objective == 110
    assert P.feasible(df, eq.x_greedy, P.Caps(budget=8e5, county_min_share=0.5))
    # no county above 60 % of the budget
    mx = P.solve(df, P.Caps(budget=8e5, county_max_share=0.6))
    assert list(mx.x) == [True, False, True]
    with pytest.raises(InputError, match="minimum county share 1.0 cannot be met"):
        P.solve(df, P.Caps(budget=8e5, county_min_share=1.0))


def test_time_limited_solve_never_below_greedy():
    rng = np.random.default_rng(3)
    n = 300
    df = items(
        [
            (int(c) * 1e4, int(v), 0, int(k), "public")
            for c, v, k in zip(
                rng.integers(50, 150, n), rng.integers(50, 150, n), rng.integers(0, 2, n)
            )
        ]
    )
    sol = P.solve(df, P.Caps(budget=df["cost_cny"].sum() / 3), time_limit=0.01, mip_rel_gap=0.0)
    assert sol.objective >= sol.greedy_objective
    assert df["cost_cny"][sol.x].sum() <= df["cost_cny"].sum() / 3 + 1e-6


def _hard_knapsack(n: int = 400) -> pd.DataFrame:
    """Values nearly proportional to costs, and water too: many near-ties for branch-and-bound."""
    rng = np.random.default_rng(1)
    cost = rng.integers(1000, 100000, n)
    value = cost * (1 + 0.01 * rng.standard_normal(n))
    water = rng.integers(1000, 100000, n)
    return items([(int(c), float(v), int(w), 0, "public") for c, v, w in zip(cost, value, water)])


def test_node_limited_solve_is_repeatable_and_says_so():
    """A node limit is a limit of work: the same inputs give the same selection whatever the
    machine's speed or load (a wall-clock limit does not), and the status names the stop."""
    df = _hard_knapsack()
    caps = P.Caps(budget=df["cost_cny"].sum() / 3, water={"640105": df["water_m3"].sum() / 3})
    a = P.solve(df, caps, time_limit=1e4, mip_rel_gap=0.0, node_limit=3)
    b = P.solve(df, caps, time_limit=1e4, mip_rel_gap=0.0, node_limit=3)
    assert a.status == "node limit"
    np.testing.assert_array_equal(a.x, b.x)
    assert a.objective == b.objective >= a.greedy_objective


def test_time_limit_stop_is_logged_as_machine_dependent(caplog):
    from nxgeo.milp import solve_status, warn_if_timed_out

    class Res:
        status, message = 1, "Time limit reached. (HiGHS Status 13: Time limit reached)"

    with caplog.at_level("WARNING"):
        assert warn_if_timed_out(Res(), 10.0, "programme MILP", "programme.solver_time_limit_s")
    assert "depends on this machine's speed" in caplog.text
    assert "programme.solver_time_limit_s" in caplog.text
    assert solve_status(Res()) == "time or iteration limit"

    class Nodes:
        status, message = 4, "(HiGHS Status 16: Solution limit reached)"

    assert not warn_if_timed_out(Nodes(), 10.0, "x", "y")
    assert solve_status(Nodes()) == "node limit"


# ------------------------------------------------------------------------------------------
# items and bad inputs


def candidates() -> gpd.GeoDataFrame:
    rows = [  # parcel, pathway, funding, allocated, eligible, cost, d_gep, water, ha
        ("m1", "mine_remediation", "public", 1, 1, 7.0e6, 2.0e5, 0.0, 63.9),
        ("m2", "mine_remediation", "operator", 1, 1, 3.0e6, 1.0e5, 100.0, 27.4),
        ("s1", "sand_control", "public", 1, 1, 1.5e6, 3.0e5, 0.0, 66.7),
        ("s2", "sand_control", "social_capital", 1, 1, 1.2e6, -5.0, 0.0, 66.7),  # a loss
        ("s3", "sand_control", "public", 0, 1, 1.5e6, 3.0e5, 0.0, 66.7),  # not allocated
        ("h1", "homestead_greening", "", 1, 0, np.nan, 0.0, 0.0, 0.1),  # not eligible
    ]
    df = pd.DataFrame(
        rows,
        columns=[
            "parcel_id",
            "pathway",
            "funding",
            "allocated",
            "eligible",
            "cost_cny",
            "d_gep_cny",
            "water_demand_m3",
            "area_ha",
        ],
    )
    df["area_mu"] = df["area_ha"] * 15
    df["cost_wan_cny"] = df["cost_cny"] / 1e4
    df["adcode"] = ["640105", "640105", "640181", "640181", "640181", "640425"]
    df["county_name"] = ["西夏区", "西夏区", "灵武市", "灵武市", "灵武市", "彭阳县"]
    df["measure"] = ["grass", "grass", "public_benefit", "for_profit_pv", "public_benefit", ""]
    df["greening_increment_ha"] = [63.9, 27.4, 66.7, 0.0, 0.0, 0.0]
    df["new_cultivated_ha"] = 0.0
    df["d_gep_wan_cny"] = df["d_gep_cny"] / 1e4
    geoms = [box(i * 1000, 0, i * 1000 + 500, 500) for i in range(len(df))]
    return gpd.GeoDataFrame(df, geometry=geoms, crs="EPSG:4507")


def test_items_are_allocated_eligible_costed_and_worth_something():
    it = P.programme_items(candidates(), cfg())
    assert list(it["parcel_id"]) == ["m1", "m2", "s1"]
    w = P.programme_items(
        candidates(), cfg(objective="weighted", weights={"greening_increment_ha": 1.0})
    )
    assert list(w["value"]) == pytest.approx([63.9, 27.4, 66.7])


def test_bad_programme_inputs_have_clear_messages():
    with pytest.raises(
        InputError,
        match=r"programme.budget_yi_cny has no budget for 2031; "
        r"add `2031: <亿元>`",
    ):
        P.year_budget(cfg(), 2031)
    with pytest.raises(InputError, match="names field\\(s\\) greening_ha that the candidates"):
        P.programme_items(candidates(), cfg(objective="weighted", weights={"greening_ha": 1}))
    with pytest.raises(InputError, match="carry no cost \\(cost_cny\\)"):
        P.programme_items(candidates().drop(columns="cost_cny"), cfg())
    with pytest.raises(
        InputError, match="budget_by_county_yi_cny\\[640105\\]: -1 亿元 is negative"
    ):
        P.caps_for(cfg(budget_by_county_yi_cny={"640105": -1}), 2024, {})


def test_programme_year_writes_tables_and_layer(tmp_path):
    gpkg = tmp_path / "candidates.gpkg"
    from nxgeo.vector_io import write_layers

    c = candidates()
    write_layers(
        gpkg,
        {
            "mine_remediation": c[c["pathway"] == "mine_remediation"],
            "sand_control": c[c["pathway"] == "sand_control"],
            "homestead_greening": c[c["pathway"] == "homestead_greening"],
        },
    )
    wb = tmp_path / "water_balance.csv"
    pd.DataFrame(
        {"adcode": ["640105", "640181", "640425"], "headroom_m3": [50.0, 1e6, 0.0]}
    ).to_csv(wb, index=False)
    out = {k: tmp_path / f"{k}.csv" for k in ("table", "summary", "marginal", "reference")}
    # budget 0.1 亿元 = 1,000 万元: s1 (150 万) and m1 (700 万) fit; m2 needs 100 m3 > 50
    res = P.programme_year(
        gpkg,
        wb,
        2024,
        cfg(budget_yi_cny={2024: 0.1}),
        out["table"],
        tmp_path / "programme.gpkg",
        out["summary"],
        out["marginal"],
        out["reference"],
    )
    t = pd.read_csv(out["table"], dtype={"adcode": str}, encoding="utf-8-sig")
    assert list(t["parcel_id"]) == ["s1", "m1"] and list(t["rank"]) == [1, 2]
    assert t["cost_cny"].sum() <= 0.1e8 and res["spent_cny"] == pytest.approx(8.5e6)
    layer = gpd.read_file(tmp_path / "programme.gpkg", layer="programme")
    assert list(layer["parcel_id"]) == ["s1", "m1"] and layer.crs.to_epsg() == 4507
    s = pd.read_csv(out["summary"], dtype={"adcode": str}, encoding="utf-8-sig")
    tot = s[s["adcode"] == "合计"].iloc[0]
    assert tot["cost_wan_cny"] == pytest.approx(850.0)
    assert tot["cost_per_mu_cny"] == pytest.approx(8.5e6 / ((63.9 + 66.7) * 15))
    assert tot["public_cost_wan_cny"] == pytest.approx(850.0)
    ref = pd.read_csv(out["reference"], encoding="utf-8-sig")
    mine = ref[ref["pathway"] == "mine_remediation"].iloc[0]
    assert mine["observed_cost_per_mu_cny"] == pytest.approx(5.65e8 / 7.72e4)
    assert mine["programme_cost_per_mu_cny"] == pytest.approx(7.0e6 / (63.9 * 15))
    assert mine["candidates_parcels"] == 1  # public (legacy) mines only
    m = pd.read_csv(out["marginal"], encoding="utf-8-sig")
    assert (np.diff(m["objective"]) >= 0).all() and len(m) == 3
    rows = P.report_rows(out["summary"], out["marginal"], out["reference"])
    labels = dict(rows["buys"])
    assert labels["投资 cost (亿元)"] == pytest.approx(0.085)
    assert len(rows["reference"]) == 3


def test_same_inputs_same_bytes(tmp_path):
    gpkg = tmp_path / "candidates.gpkg"
    from nxgeo.vector_io import write_layers

    write_layers(gpkg, {"sand_control": candidates()})
    wb = tmp_path / "wb.csv"
    pd.DataFrame(
        {"adcode": ["640105", "640181", "640425"], "headroom_m3": [500.0, 1e6, 0.0]}
    ).to_csv(wb, index=False)
    outs = []
    for run in ("a", "b"):
        d = tmp_path / run
        d.mkdir()
        P.programme_year(
            gpkg, wb, 2024, cfg(), d / "p.csv", d / "p.gpkg", d / "s.csv", d / "m.csv", d / "r.csv"
        )
        outs.append([(d / f).read_bytes() for f in ("p.csv", "s.csv", "m.csv", "r.csv")])
    assert outs[0] == outs[1]


def test_config_year_without_budget_is_named():
    from nxgeo.config import ConfigError, check_config

    with open(ROOT / "config" / "config.yaml", encoding="utf-8") as f:
        full = yaml.safe_load(f)
    full["programme"]["budget_yi_cny"] = {2023: 3.0}
    with pytest.raises(
        ConfigError,
        match=r"programme.budget_yi_cny: year 2024 is listed in "
        r"`years` but has no budget; add `2024: <亿元>`",
    ):
        check_config(full)
    full["programme"]["budget_yi_cny"] = {2023: 3.0, 2024: -1}
    with pytest.raises(ConfigError, match="programme.budget_yi_cny"):
        check_config(full)


def test_programme_layer_fields_have_registry_entries_and_style(tmp_path):
    import sqlite3

    from nxgeo import fields

    for n in P.PARCEL_COLUMNS + ["allocated"]:
        assert fields.lookup(n, "programme").alias
    with pytest.raises(KeyError):
        fields.lookup("in_greedy", "sand_control")  # not a candidates field
    gpkg = tmp_path / "c.gpkg"
    from nxgeo.vector_io import write_layers

    write_layers(gpkg, {"sand_control": candidates()})
    wb = tmp_path / "wb.csv"
    pd.DataFrame({"adcode": ["640105", "640181"], "headroom_m3": [500.0, 1e6]}).to_csv(wb)
    P.programme_year(
        gpkg,
        wb,
        2024,
        cfg(),
        tmp_path / "p.csv",
        tmp_path / "p.gpkg",
        tmp_path / "s.csv",
        tmp_path / "m.csv",
        tmp_path / "r.csv",
    )
    con = sqlite3.connect(tmp_path / "p.gpkg")
    try:
        (qml,) = con.execute(
            "SELECT styleQML FROM layer_styles WHERE f_table_name = 'programme'"
        ).fetchone()
    finally:
        con.close()
    assert 'name="计划排序 Programme rank"' in qml and "投资估算（万元 10^4 CNY） Cost" in qml
