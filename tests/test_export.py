"""Exports in the formats the department files (issue #15): File Geodatabase and Shapefile read
back with the same features and values, the xlsx with Chinese headers, short field names."""

from __future__ import annotations

import string

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.api.types import is_numeric_dtype
from shapely.geometry import box

from nxgeo.candidates import write_candidates_gpkg
from nxgeo.candidates.parcels import PATHWAYS
from nxgeo.errors import InputError
from nxgeo.export import export_year, header_zh, short_names

X0, Y0 = 520_000.0, 4_163_000.0


def _layers():
    """Two parcels in one layer (Chinese text, a multipart polygon, NaN, a long decision),
    the other layers empty."""
    multi = shapely.MultiPolygon(
        [box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 300, Y0, X0 + 400, Y0 + 50)]
    )
    g = gpd.GeoDataFrame(
        {
            "parcel_id": ["W-640323-520.1-4163.1", "W-640323-520.5-4163.0"],
            "pathway": ["state_wasteland"] * 2,
            "year": [2024, 2024],
            "adcode": ["640323", "640323"],
            "county_name": ["盐池县", "盐池县"],
            "area_ha": [1.5, 0.25],
            "area_mu": [22.5, 3.75],
            "recommended_target": ["forest", "natural_recovery"],
            "target_zh": ["林地", "自然恢复（封育）"],
            "decision": ["best_use_forest;" + "x" * 60, "no_suitable_green_use"],
            "eligible": [1, 1],
            "allocated": [1, 0],
            "grade": [1, 255],
            "water_demand_m3": [0.0, np.nan],
            "greening_increment_ha": [1.5, 0.0],
            "share_bare": [0.75, 1.0],
            "score_forest": [80.5, 10.0],
            "grade_forest": [1, 3],
            "reason_forest": [0, 64],
            "d_carbon_t": [12.0, 0.0],
        },
        geometry=[multi, box(X0 + 1000, Y0, X0 + 1050, Y0 + 50)],
        crs="EPSG:4507",
    )
    return {p: (g if p == "state_wasteland" else g.iloc[:0]) for p in PATHWAYS}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    gpkg = write_candidates_gpkg(_layers(), tmp / "candidates.gpkg", styles=False)
    tables = {
        "candidates_summary": tmp / "candidates_summary.csv",
        "water_balance": tmp / "water_balance.csv",
    }
    pd.DataFrame(
        {
            "adcode": ["640323"],
            "county_name": ["盐池县"],
            "pathway": ["state_wasteland"],
            "area_ha": [1.75],
            "greening_increment_ha": [1.5],
            "n_parcels": [2],
        }
    ).to_csv(tables["candidates_summary"], index=False, encoding="utf-8-sig")
    pd.DataFrame(
        {
            "adcode": ["640323"],
            "county_name": ["盐池县"],
            "headroom_m3": [1e6],
            "allocated_m3": [0.0],
            "solver": ["=greedy"],
        }
    ).to_csv(tables["water_balance"], index=False, encoding="utf-8-sig")
    out = tmp / "2024" / "export"
    info = export_year(gpkg, tables, out, pathways=PATHWAYS, crs="EPSG:4523")
    return {"gpkg": gpkg, "tables": tables, "out": out, "info": info, "tmp": tmp}


def _same_values(src: pd.DataFrame, got: pd.DataFrame, mapping=None):
    mapping = mapping or {}
    for c in src.columns:
        if c == "geometry":
            continue
        a, b = src[c], got[mapping.get(c, c)]
        if is_numeric_dtype(a):
            assert np.allclose(a.astype(float), pd.to_numeric(b).astype(float), equal_nan=True), c
        else:
            assert list(a.fillna("").astype(str)) == list(b.fillna("").astype(str)), c


def test_gdb_reads_back_with_the_same_features(exported):
    gdb = exported["out"] / "candidates.gdb"
    assert sorted(n for n, _ in pyogrio.list_layers(gdb)) == sorted(PATHWAYS)
    src = gpd.read_file(exported["gpkg"], layer="state_wasteland").to_crs("EPSG:4523")
    got = gpd.read_file(gdb, layer="state_wasteland")
    assert got.crs.to_epsg() == 4523
    # 3-degree zone 35 with the zone number prefixed to the easting
    assert got.geometry.bounds["minx"].min() > 35_000_000
    assert list(got.columns) == list(src.columns)  # long names kept
    _same_values(src, got)
    # the GDB stores coordinates on its own precision grid (xy resolution ~1e-4 m)
    assert np.allclose(got.area, src.area, atol=0.05)
    assert got.geometry.iloc[0].geom_type == "MultiPolygon" and len(got.geometry.iloc[0].geoms) == 2
    assert len(gpd.read_file(gdb, layer="sand_control")) == 0


def test_shapefile_reads_back_utf8_with_mapped_names(exported):
    shp = exported["out"] / "shp"
    assert (shp / "state_wasteland.cpg").read_text().strip() == "UTF-8"
    mapping = pd.read_csv(shp / "field_names.csv", encoding="utf-8-sig")
    m = dict(zip(mapping["long_name"], mapping["short_name"]))
    assert (mapping["short_name"].str.len() <= 10).all()
    assert m["recommended_target"] == "rec_target" and m["parcel_id"] == "parcel_id"
    assert mapping.set_index("long_name").loc["area_ha", "alias_zh"] == "面积"
    src = gpd.read_file(exported["gpkg"], layer="state_wasteland").to_crs("EPSG:4523")
    got = gpd.read_file(shp / "state_wasteland.shp")
    assert pyogrio.read_info(shp / "state_wasteland.shp")["encoding"] == "UTF-8"
    assert set(got.columns) - {"geometry"} == {m[c] for c in src.columns if c != "geometry"}
    _same_values(src, got, m)
    assert got["target_zh"].tolist() == ["林地", "自然恢复（封育）"]
    assert np.allclose(got.area, src.area)
    assert got.crs.to_epsg() == 4523


def test_workbook_opens_with_chinese_headers(exported):
    wb = openpyxl.load_workbook(exported["out"] / "tables.xlsx")
    assert wb.sheetnames == ["候选地块汇总（县·路径）", "县域水量平衡", "字段说明"]
    ws = wb["候选地块汇总（县·路径）"]
    heads = [c.value for c in ws[1]]
    assert heads[0] == "县区代码 adcode" and heads[3] == "面积（公顷） area_ha"
    for name in wb.sheetnames:
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in str(c.value)) for c in wb[name][1]), (
            name
        )
    assert ws["A2"].value == "640323" and ws["B2"].value == "盐池县" and ws["D2"].value == 1.75
    assert wb["县域水量平衡"]["E2"].value == "'=greedy"  # text, never a formula


def test_export_is_byte_reproducible(exported):
    again = exported["tmp"] / "again" / "export"
    export_year(exported["gpkg"], exported["tables"], again, pathways=PATHWAYS, crs="EPSG:4523")
    first = sorted(
        p.relative_to(exported["out"]) for p in exported["out"].rglob("*") if p.is_file()
    )
    assert first == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in first:
        assert (exported["out"] / rel).read_bytes() == (again / rel).read_bytes(), rel


def test_rerun_replaces_the_folder(exported, tmp_path):
    out = tmp_path / "export"
    (out / "stale").mkdir(parents=True)
    export_year(exported["gpkg"], exported["tables"], out, pathways=PATHWAYS, crs=None)
    assert not (out / "stale").exists()
    assert gpd.read_file(out / "shp" / "state_wasteland.shp").crs.to_epsg() == 4507


def test_bad_inputs(exported, tmp_path):
    with pytest.raises(InputError, match="export.crs: 'EPSG:99999' is not a CRS"):
        export_year(exported["gpkg"], {}, tmp_path / "e", pathways=PATHWAYS, crs="EPSG:99999")
    with pytest.raises(InputError, match="not a projected CRS"):
        export_year(exported["gpkg"], {}, tmp_path / "e", pathways=PATHWAYS, crs="EPSG:4490")
    with pytest.raises(InputError, match=r"no layer\(s\) \['land_x'\]"):
        export_year(exported["gpkg"], {}, tmp_path / "e", pathways=["land_x"])
    assert not (tmp_path / "e").exists()


def test_headers_hand_cases():
    assert header_zh("greening_increment_ha") == "绿化增量（公顷） greening_increment_ha"
    assert header_zh("gep_yi_cny") == "生态产品总值GEP（亿元） gep_yi_cny"
    assert header_zh("d_carbon_t") == "碳储量变化（吨） d_carbon_t"
    assert (
        header_zh("carbon_sequestration_t_co2_per_yr")
        == "固碳（吨CO₂/年） carbon_sequestration_t_co2_per_yr"
    )


def test_short_names_hand_cases():
    m = short_names(
        [
            "parcel_id",
            "greening_increment_ha",
            "share_cropland_irrigated",
            "share_cropland_dry",
            "score_wine_grape",
            "dist_settlements_min_m",
        ]
    )
    assert m["parcel_id"] == "parcel_id"
    assert m["greening_increment_ha"] == "green_ha"
    assert m["share_cropland_irrigated"] == "sh_cro_irr"
    assert m["share_cropland_dry"] == "sh_cro_dry"
    assert m["score_wine_grape"] == "sc_win_gra"  # every word cut to 3 letters
    assert m["dist_settlements_min_m"] == "d_se_mi_m"
    with pytest.raises(ValueError, match="duplicate"):
        short_names(["a", "a"])


NAME = st.text(alphabet=string.ascii_letters + string.digits + "_", min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(names=st.lists(NAME, min_size=1, max_size=60, unique=True))
def test_property_short_names_one_to_one(names):
    m = short_names(names)
    shorts = list(m.values())
    assert list(m) == names
    assert all(1 <= len(s) <= 10 for s in shorts)
    assert all(s[0].isalpha() and all(ch.isalnum() or ch == "_" for ch in s) for s in shorts)
    assert len({s.lower() for s in shorts}) == len(shorts)  # dBASE ignores case
    assert short_names(names) == m  # deterministic
