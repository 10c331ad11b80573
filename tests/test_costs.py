"""nxgeo.costs: unit costs per pathway and measure (CNY/亩), the cost and funding of every
candidate parcel, and the table's validation gate (issue #16)."""

from __future__ import annotations

import shutil

import inputs_factory as F
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nxgeo.costs import MEASURES, missing_measures, parcel_costs, parcel_measure, read_unit_costs
from nxgeo.errors import InputError
from nxgeo.validate import validate_inputs

SHIPPED = F.ROOT / "config" / "tables" / "unit_costs.csv"


def table(**over) -> pd.DataFrame:
    rows = [
        ("mine_remediation", "grass", 7000, "legacy"),
        ("mine_remediation", "slope_cutting", 4000, "legacy"),
        ("homestead_greening", "cropland_dry", 6000, "public"),
        ("sand_control", "closed_protection", 150, "public"),
        ("sand_control", "public_benefit", 1500, "public"),
        ("sand_control", "for_profit_pv", 1200, "social_capital"),
    ]
    df = pd.DataFrame(rows, columns=["pathway", "measure", "unit_cost_cny_per_mu", "funding"])
    df["unit_cost_cny_per_mu"] = df["unit_cost_cny_per_mu"].astype(float)
    df["source"], df["placeholder"], df["note"] = "test", "yes", ""
    for k, v in over.items():
        df[k] = v
    return df


def parcels() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "parcel_id": ["m1", "m2", "h1", "s1", "s2", "s3", "x"],
            "pathway": [
                "mine_remediation",
                "mine_remediation",
                "homestead_greening",
                "sand_control",
                "sand_control",
                "sand_control",
                "mine_remediation",
            ],
            "area_ha": [2.0, 1.0, 0.1, 100.0, 50.0, 10.0, 3.0],
            "recommended_target": [
                "ecological",
                "ecological",
                "cropland",
                "closed_protection",
                "public_benefit",
                "for_profit",
                "",
            ],
            "water_use": ["grass", "grass", "cropland_dry", "none", "shrub", "solar_pv", "none"],
            "sub_mode": ["", "", "", "", "", "pv", ""],
            "hazard_flag": [0, 1, 0, 0, 0, 0, 0],
            "funding": ["public", "operator", "", "", "", "", "public"],
        }
    ).assign(area_mu=lambda d: d["area_ha"] * 15.0)


def test_cost_is_area_times_unit_cost_plus_hazard_works():
    out = parcel_costs(parcels(), table()).set_index("parcel_id")
    # hand-computed: 亩 = ha x 15
    assert out.loc["m1", "cost_cny"] == pytest.approx(30 * 7000)
    assert out.loc["m2", "cost_cny"] == pytest.approx(15 * (7000 + 4000))  # 削坡减荷 on top
    assert out.loc["m2", "unit_cost_cny_per_mu"] == pytest.approx(11000)
    assert out.loc["h1", "cost_cny"] == pytest.approx(1.5 * 6000)
    assert out.loc["s1", "cost_cny"] == pytest.approx(1500 * 150)
    assert out.loc["s2", "cost_cny"] == pytest.approx(750 * 1500)
    assert out.loc["s3", "cost_cny"] == pytest.approx(150 * 1200)
    assert out.loc["s3", "cost_wan_cny"] == pytest.approx(18.0)
    assert np.isnan(out.loc["x", "cost_cny"]) and out.loc["x", "measure"] == ""
    # funding: the mine's own field (legacy) kept; sand by mode; homestead public
    assert list(out["funding"]) == [
        "public",
        "operator",
        "public",
        "public",
        "public",
        "social_capital",
        "public",
    ]


def test_measures_of_sand_modes_and_construction():
    df = pd.DataFrame(
        {
            "pathway": ["sand_control", "sand_control", "mine_remediation", "sand_control"],
            "recommended_target": ["for_profit", "natural_recovery", "construction", "for_profit"],
            "water_use": ["none", "natural_recovery", "built", "grass"],
            "sub_mode": ["tourism", "", "", "shrub"],
        }
    )
    assert list(parcel_measure(df)) == [
        "for_profit_tourism",
        "natural_recovery",
        "construction",
        "for_profit_shrub",
    ]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.01, 1e4), st.integers(0, 1)), min_size=1, max_size=20),
    st.floats(0, 2e4),
    st.floats(0, 1e4),
)
def test_cost_linear_in_area_property(rows, unit, hazard_unit):
    """cost = area_mu x (unit + hazard x hazard unit) for every parcel; never negative."""
    t = table()
    t.loc[t["measure"] == "grass", "unit_cost_cny_per_mu"] = unit
    t.loc[t["measure"] == "slope_cutting", "unit_cost_cny_per_mu"] = hazard_unit
    df = pd.DataFrame(
        {
            "pathway": "mine_remediation",
            "area_ha": [a for a, _ in rows],
            "recommended_target": "ecological",
            "water_use": "grass",
            "sub_mode": "",
            "hazard_flag": [h for _, h in rows],
            "funding": "public",
        }
    )
    out = parcel_costs(df, t)
    want = df["area_ha"] * 15.0 * (unit + df["hazard_flag"] * hazard_unit)
    assert np.allclose(out["cost_cny"], want)
    assert (out["cost_cny"] >= 0).all()
    assert np.allclose(out["cost_wan_cny"] * 1e4, out["cost_cny"])


def test_missing_measure_is_named_with_the_line_to_add():
    t = table()
    t = t[t["measure"] != "public_benefit"]
    with pytest.raises(
        InputError,
        match=r"no unit cost for measure\(s\) \(sand_control, "
        r"public_benefit\) for 1 parcel\(s\): add a line "
        r"`sand_control,public_benefit,<CNY per 亩>",
    ):
        parcel_costs(parcels(), t)


def test_missing_hazard_row_is_named():
    t = table()
    t = t[t["measure"] != "slope_cutting"]
    with pytest.raises(InputError, match=r"\(mine_remediation, slope_cutting\) for 1 parcel"):
        parcel_costs(parcels(), t)


def test_negative_cost_and_bad_funding_are_clear():
    t = table()
    t.loc[1, "unit_cost_cny_per_mu"] = -5
    t.loc[2, "funding"] = "bank"
    with pytest.raises(InputError) as exc:
        parcel_costs(parcels(), t)
    msg = str(exc.value)
    assert "row 2 (mine_remediation, slope_cutting): unit_cost_cny_per_mu -5 is negative" in msg
    assert "row 3 (homestead_greening, cropland_dry): funding 'bank' is not one of public" in msg


def test_shipped_table_covers_every_measure_and_cites_001():
    t = read_unit_costs(SHIPPED)
    assert missing_measures(t) == []
    mine = t[(t["pathway"] == "mine_remediation") & (t["measure"] == "grass")].iloc[0]
    assert mine["unit_cost_cny_per_mu"] == round(5.65e8 / 7.72e4)  # 001: 7,319 CNY/亩
    hs = t[(t["pathway"] == "homestead_greening") & (t["measure"] == "cropland")].iloc[0]
    assert hs["unit_cost_cny_per_mu"] == round(2.54e8 / 4.06e4)  # 001: 6,256 CNY/亩
    assert "001" in mine["source"] and set(t["placeholder"]) <= {"yes", "no"}


# ------------------------------------------------------------------------------------------
# the validation gate (inputs.tables.unit_costs)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return F.make_valid_inputs(tmp_path_factory.mktemp("costs_inputs"))


@pytest.fixture
def inputs(pristine, tmp_path):
    cfg, src = pristine
    base = tmp_path / "inputs"
    shutil.copytree(src, base)
    return cfg, base


def _errors(report, item="inputs.tables.unit_costs"):
    return [p.message for p in report.problems if p.severity == "error" and p.item == item]


def test_gate_negative_cost_names_row_and_column(inputs):
    cfg, base = inputs
    path = base / F.P["unit_costs"]
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[0, "unit_cost_cny_per_mu"] = "-100"
    df.to_csv(path, index=False)
    errs = _errors(validate_inputs(cfg, base))
    assert any("row 1, column unit_cost_cny_per_mu: -100 is negative" in m for m in errs), errs


def test_gate_missing_measure_and_bad_funding(inputs):
    cfg, base = inputs
    path = base / F.P["unit_costs"]
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df = df[~((df["pathway"] == "sand_control") & (df["measure"] == "for_profit_pv"))]
    df = df.reset_index(drop=True)
    df.loc[0, "funding"] = "gov"
    df.to_csv(path, index=False)
    errs = _errors(validate_inputs(cfg, base))
    assert any("no unit cost for measure(s) sand_control/for_profit_pv" in m for m in errs), errs
    assert any("'gov' is not one of public, operator, social_capital, legacy" in m for m in errs), (
        errs
    )


def test_measures_registry_lists_the_shipped_pathways():
    assert {"homestead_greening", "mine_remediation", "sand_control"} <= set(MEASURES)
