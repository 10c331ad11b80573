"""The survey's own data (#15): DLTB polygons in, rasterised, inventoried; ownership (权属)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, box

from nxgeo.errors import InputError
from nxgeo.grid import Grid
from nxgeo.landuse import load_scheme
from nxgeo.prepare import ownership_to_grid
from nxgeo.raster_io import write_raster
from nxgeo.survey.inventory import (
    OUTSIDE,
    _pieces,
    cents,
    county_pieces,
    major_group,
    ownership_change,
    polygon_inventory,
    split_pieces,
    zone_shares,
)
from nxgeo.survey.rasterise import largest_share, rasterise_dltb
from nxgeo.survey.read import ellipsoidal_area_m2, load_dltb, read_dltb

ROOT = Path(__file__).resolve().parents[1]
CRS = "EPSG:4507"
X0, Y0 = 500_000.0, 4_200_000.0  # upper-left corner of the test grid (CM 105E, Ningxia)
RES = 100.0
GRID = Grid(crs=CRS, transform=Affine(RES, 0, X0, 0, -RES, Y0), width=40, height=30)
SPEC = {
    "layer": "DLTB",
    "encoding": None,
    "fields": {
        "code": "DLBM",
        "name": "DLMC",
        "parcel_area": "TBMJ",
        "deduction": "KCMJ",
        "deduction_code": "KCDLBM",
        "area": "TBDLMJ",
        "ownership": "QSXZ",
        "located_in": "ZLDWDM",
        "owner_unit": "QSDWDM",
    },
    "county_from": "zldwdm",
    "state_codes": ["10", "20"],
    "collective_codes": ["30", "31", "32", "33", "34", "40"],
    "deduction_default_code": "1203",
    "supersample": 5,
}
A, B = "640105", "640106"


@pytest.fixture(scope="module")
def scheme():
    return load_scheme("gbt21010", ROOT / "config" / "landuse")


def cell_box(c0, r0, c1, r1):
    """Polygon over grid cells [c0, c1) × [r0, r1) of GRID."""
    return box(X0 + c0 * RES, Y0 - r1 * RES, X0 + c1 * RES, Y0 - r0 * RES)


def small_dltb() -> gpd.GeoDataFrame:
    """A DLTB by hand: 旱地 with 田坎, a 0702 homestead, state and collective land, a
    multipart polygon, two counties; areas TBMJ = planar area, KCMJ = 8 % of 旱地."""
    rows = [
        # DLBM, DLMC, QSXZ, ZLDWDM county, geometry
        ("0103", "旱地", "30", A, cell_box(0, 0, 20, 15)),
        ("0702", "农村宅基地", "31", A, cell_box(20, 0, 25, 5)),
        ("1206", "裸土地", "10", A, cell_box(25, 0, 40, 15)),
        (
            "0404",
            "其他草地",
            "20",
            B,
            MultiPolygon([cell_box(0, 15, 10, 30), cell_box(30, 15, 40, 30)]),
        ),
        ("0301", "乔木林地", "30", B, cell_box(10, 15, 30, 30)),
        ("1101", "河流水面", "10", A, cell_box(20, 5, 25, 15)),
    ]
    geoms = [r[4] for r in rows]
    tbmj = np.array([g.area for g in geoms])
    kcmj = np.where([r[0] == "0103" for r in rows], np.round(tbmj * 0.08, 2), 0.0)
    return gpd.GeoDataFrame(
        {
            "BSM": np.arange(1, len(rows) + 1),
            "DLBM": [r[0] for r in rows],
            "DLMC": [r[1] for r in rows],
            "QSXZ": [r[2] for r in rows],
            "ZLDWDM": [f"{r[3]}0010010000000" for r in rows],
            "QSDWDM": [f"{r[3]}0010010000000" for r in rows],
            "TBMJ": tbmj,
            "KCMJ": kcmj,
            "KCDLBM": ["1203" if k > 0 else "" for k in kcmj],
            "TBDLMJ": tbmj - kcmj,
        },
        geometry=geoms,
        crs=CRS,
    )


# ---------------------------------------------------------------------------------------------
# rasterisation


def test_largest_share_by_hand():
    k = 2
    fine = np.array([[5, 5, 7, 0], [5, 7, 0, 0], [3, 3, 9, 9], [4, 4, 9, 8]])
    # cell (0,0): 5 x3 ; (0,1): 0 x3 -> nodata ; (1,0): 3,3,4,4 tie -> 3 ; (1,1): 9 x3
    assert largest_share(fine, k, 0).tolist() == [[5, 0], [3, 9]]
    # nodata loses ties: two 0 and two 6
    assert largest_share(np.array([[0, 6], [6, 0]]), 2, 0).tolist() == [[6]]


def test_rasterised_dltb_matches_the_polygons(tmp_path, scheme):
    gdf = read_dltb_frame(tmp_path, scheme)
    codes, owner = rasterise_dltb(gdf, GRID, tmp_path / "codes.tif", tmp_path / "own.tif")
    with rasterio.open(codes) as c, rasterio.open(owner) as o:
        a, w = c.read(1), o.read(1)
        assert c.nodata == 0 and o.nodata == 255 and o.dtypes[0] == "uint8"
    assert a[0, 0] == 103 and a[0, 22] == 702 and a[20, 5] == 404 and a[20, 35] == 404
    assert a[10, 22] == 1101 and w[10, 22] == 1 and w[0, 0] == 2 and w[20, 5] == 1
    assert (a != 0).all()  # the polygons tile the grid exactly


def read_dltb_frame(tmp_path, scheme, gdf=None):
    path = tmp_path / "dltb.gpkg"
    (gdf if gdf is not None else small_dltb()).to_file(path, layer="DLTB", engine="pyogrio")
    return read_dltb(path, SPEC, scheme)


# ---------------------------------------------------------------------------------------------
# ownership raster of the raster format


def test_ownership_raster_on_the_grid(tmp_path):
    lu = np.full((GRID.height, GRID.width), 4, np.uint8)
    lu[0, :] = 0
    write_raster(tmp_path / "lu.tif", lu, CRS, GRID.transform, nodata=0)
    own = (
        np.where(np.arange(GRID.width) < 10, 1, 2).astype(np.uint8)[None, :].repeat(GRID.height, 0)
    )
    own[5, 5] = 255
    write_raster(tmp_path / "own_src.tif", own, CRS, GRID.transform, nodata=255)
    out = ownership_to_grid(tmp_path / "lu.tif", tmp_path / "own.tif", tmp_path / "own_src.tif")
    with rasterio.open(out) as ds:
        a = ds.read(1)
        assert ds.nodata == 255
    assert (a[0] == 255).all()  # outside the land use: nodata
    assert a[5, 5] == 0  # source nodata inside: unknown
    assert a[1, 0] == 1 and a[1, 20] == 2
    none = ownership_to_grid(tmp_path / "lu.tif", tmp_path / "none.tif", None)
    with rasterio.open(none) as ds:
        b = ds.read(1)
    assert set(np.unique(b[1:]).tolist()) == {0} and (b[0] == 255).all()
    own[3, 3] = 7
    write_raster(tmp_path / "bad.tif", own, CRS, GRID.transform, nodata=255)
    with pytest.raises(InputError, match=r"bad.tif: ownership value\(s\) \[7\]"):
        ownership_to_grid(tmp_path / "lu.tif", tmp_path / "x.tif", tmp_path / "bad.tif")


# ---------------------------------------------------------------------------------------------
# inventory from the polygon areas

COUNTIES = gpd.GeoDataFrame(
    {"id": [A, B], "name": ["西夏区", "金凤区"]},
    geometry=[cell_box(0, 0, 40, 15), cell_box(0, 15, 40, 30)],
    crs=CRS,
)
REACH = gpd.GeoDataFrame(
    {"id": ["west"], "name": ["西段"]}, geometry=[cell_box(0, 0, 20, 30)], crs=CRS
)


def _inventory(gdf, scheme, county_from="zldwdm"):
    names_c = COUNTIES.set_index("id")["name"]
    names_r = REACH.set_index("id")["name"]
    zones = {
        "county": (county_pieces(gdf, COUNTIES, county_from), names_c),
        "reach": (split_pieces(_pieces(gdf), zone_shares(gdf, REACH)), names_r),
    }
    return polygon_inventory(gdf, zones, scheme)


def test_inventory_equals_the_hand_sum_of_tbdlmj(tmp_path, scheme):
    src = small_dltb()
    gdf = read_dltb_frame(tmp_path, scheme, src)
    t = _inventory(gdf, scheme)
    by = t["by_code"][t["by_code"]["zone_kind"] == "county"]
    got = by.set_index(["zone_id", "dlbm"])["area_m2"]
    # hand sums: TBDLMJ per county and class, plus KCMJ as 1203 田坎
    src["county"] = src["ZLDWDM"].str[:6]
    hand = src.groupby(["county", "DLBM"])["TBDLMJ"].sum()
    tk = src[src["KCMJ"] > 0].groupby("county")["KCMJ"].sum()
    for (c, code), v in hand.items():
        assert got[(c, code)] == pytest.approx(v, abs=0.005)
    assert got[(A, "1203")] == pytest.approx(tk[A], abs=0.005) == 240_000.0
    assert got[(A, "0103")] == 2_760_000.0  # 3,000,000 m² minus 8 % 田坎
    assert got[(B, "0404")] == 3_000_000.0  # the multipart polygon: both parts
    assert by["area_ha"].sum() == pytest.approx(src["TBMJ"].sum() / 1e4)
    assert (by["area_mu"] == by["area_ha"] * 15).all()


def test_three_groups_and_ownership_totals(tmp_path, scheme):
    t = _inventory(read_dltb_frame(tmp_path, scheme), scheme)
    g = t["by_group"][t["by_group"]["zone_kind"] == "county"].set_index(["zone_id", "group"])
    # A: 旱地 + 田坎 farm 300 ha, 0702 construction 25 ha, 1206 + 1101 unused 275 ha
    assert g.loc[(A, "farm"), "area_ha"] == 300.0 and g.loc[(A, "farm"), "group_zh"] == "农用地"
    assert g.loc[(A, "construction"), "area_ha"] == 25.0
    assert g.loc[(A, "unused"), "area_ha"] == 275.0
    assert g.loc[(B, "farm"), "area_ha"] == 300.0 and g.loc[(B, "unused"), "area_ha"] == 300.0
    o = t["ownership"][t["ownership"]["zone_kind"] == "county"]
    o = o.groupby(["zone_id", "ownership"])["area_ha"].sum()
    assert o[(A, "state")] == 275.0 and o[(A, "collective")] == 325.0
    assert o[(B, "state")] == 300.0 and o[(B, "collective")] == 300.0
    rec = t["reconcile"].set_index("zone_kind")
    assert (rec["difference_m2"] == 0).all()
    assert rec.loc["county", "zones_m2"] == rec.loc["county", "polygons_m2"] == 12_000_000.0
    # the reach covers the left half: 旱地 polygon whole, half of the multipart and of the forest
    r = t["by_code"][t["by_code"]["zone_kind"] == "reach"].set_index(["zone_id", "dlbm"])["area_m2"]
    assert r[("west", "0103")] == 2_760_000.0 and r[("west", "0404")] == 1_500_000.0
    assert r[("west", "0301")] == 1_500_000.0
    assert r[(OUTSIDE, "0404")] == 1_500_000.0
    assert rec.loc["reach", "zones_m2"] + rec.loc["reach", "outside_m2"] == 12_000_000.0


def test_county_by_overlay_equals_zldwdm_when_polygons_lie_inside(tmp_path, scheme):
    gdf = read_dltb_frame(tmp_path, scheme)
    a = _inventory(gdf, scheme, "zldwdm")["by_code"]
    b = _inventory(gdf, scheme, "overlay")["by_code"]
    key = ["zone_kind", "zone_id", "dlbm"]
    pd.testing.assert_series_equal(
        a.set_index(key)["area_m2"].sort_index(), b.set_index(key)["area_m2"].sort_index()
    )


def test_major_groups():
    assert [major_group(c) for c in (101, 103, 204, 307, 403, 1202, 1203, 1006, 1104, 1107)] == [
        "farm"
    ] * 10
    assert [major_group(c) for c in (501, 602, 702, 900, 1003, 1103, 1109, 1201)] == [
        "construction"
    ] * 8
    assert [
        major_group(c) for c in (404, 1101, 1102, 1106, 1108, 1110, 1204, 1205, 1206, 1207)
    ] == ["unused"] * 10


def test_missing_tbdlmj_uses_the_ellipsoidal_area(tmp_path, scheme):
    src = small_dltb().drop(columns=["TBDLMJ"])
    path = tmp_path / "noarea.gpkg"
    src.to_file(path, layer="DLTB", engine="pyogrio")
    spec = {**SPEC, "fields": {**SPEC["fields"], "area": None}}
    gdf = read_dltb(path, spec, scheme)
    ell = ellipsoidal_area_m2(src.geometry)
    assert (gdf["area_src"] == "ellipsoidal").all()
    np.testing.assert_allclose(gdf["area_m2"], ell - src["KCMJ"].to_numpy())
    # Gauss-Krüger near the central meridian: the ellipsoid area is within 0.1 % of the planar
    np.testing.assert_allclose(ell, src.area, rtol=1e-3)


def test_ownership_change():
    def table(state, coll):
        return pd.DataFrame(
            {
                "zone_kind": "county",
                "zone_id": [A, A],
                "zone_name": "西夏区",
                "ownership": ["state", "collective"],
                "ownership_zh": ["国有", "集体"],
                "area_ha": [state, coll],
            }
        )

    ch = ownership_change(table(10.0, 90.0), table(25.0, 75.0), 2023, 2024).set_index("ownership")
    assert ch.loc["state", "change_ha"] == 15.0 and ch.loc["collective", "change_ha"] == -15.0
    assert ch.loc["state", "change_mu"] == 225.0 and ch.loc["state", "area_ha_2023"] == 10.0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(0, 35),
            st.integers(0, 25),
            st.integers(1, 5),
            st.integers(1, 5),
            st.floats(0.01, 1e7),
            st.sampled_from([A, B]),
        ),
        min_size=1,
        max_size=25,
    ),
    st.integers(1, 39),
)
def test_zone_sums_equal_the_polygon_sum_exactly(rects, split):
    """For any polygons and areas: county sums (ZLDWDM) and reach sums (area split by
    intersection, outside included) equal the sum of the polygon areas to the 0.01 m²."""
    geoms = [cell_box(c, r, c + w, r + h) for c, r, w, h, _, _ in rects]
    areas = np.round([a for *_, a, _ in rects], 2)
    gdf = gpd.GeoDataFrame(
        {
            "code": 103,
            "owner": 2,
            "area_m2": areas,
            "kcmj": np.round(areas * 0.1, 2),
            "kc_code": 1203,
            "county": [c for *_, c in rects],
        },
        geometry=geoms,
        crs=CRS,
    )
    total = int(cents(gdf["area_m2"]).sum() + cents(gdf["kcmj"]).sum())
    pieces = county_pieces(gdf, COUNTIES, "zldwdm")
    assert int(pieces["cents"].sum()) == total
    reach = gpd.GeoDataFrame({"id": ["w"]}, geometry=[cell_box(0, 0, split, 30)], crs=CRS)
    parts = split_pieces(_pieces(gdf), zone_shares(gdf, reach))
    assert int(parts["cents"].sum()) == total
    assert (
        parts.groupby("poly")["cents"].sum().to_numpy()
        == _pieces(gdf).groupby("poly")["cents"].sum().to_numpy()
    ).all()
    over = split_pieces(_pieces(gdf), zone_shares(gdf, COUNTIES))
    assert int(over["cents"].sum()) == total


# ---------------------------------------------------------------------------------------------
# formats, encodings and bad inputs


def test_shapefile_gbk_without_cpg_is_detected(tmp_path, scheme):
    shp = tmp_path / "dltb.shp"
    small_dltb().to_file(shp, engine="pyogrio", encoding="GBK")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    raw = shp.with_suffix(".dbf").read_bytes()
    assert "旱地".encode("gbk") in raw and "旱地".encode() not in raw
    gdf, found = load_dltb(shp, SPEC, scheme)
    assert not found.errors, found.errors
    assert gdf.attrs["encoding"].startswith("text encoding GBK (detected")
    assert list(gdf["dlmc"][:2]) == ["旱地", "农村宅基地"]
    # a configured encoding wins; a .cpg is honoured
    shp.with_suffix(".cpg").write_text("UTF-8")
    gdf2, found2 = load_dltb(shp, SPEC, scheme)
    assert gdf2 is None and "does not decode as UTF-8 (from dltb.cpg)" in found2.errors[0]
    gdf3, found3 = load_dltb(shp, {**SPEC, "encoding": "GB18030"}, scheme)
    assert not found3.errors and gdf3["dlmc"].iloc[0] == "旱地"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # GDAL: latin1 / Integer64 notes
def test_undecodable_text_names_file_field_record_and_bytes(tmp_path, scheme):
    shp = tmp_path / "bad.shp"
    src = small_dltb()
    src.loc[2, "DLMC"] = "\xff\xfe\xff"  # bytes FF FE FF: neither UTF-8 nor GBK
    src.to_file(shp, engine="pyogrio", encoding="latin1")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    gdf, found = load_dltb(shp, SPEC, scheme)
    assert gdf is None
    msg = found.errors[0]
    assert str(shp) in msg and "layer 'bad'" in msg and "field 'DLMC'" in msg
    assert "record 3" in msg and "b'\\xff\\xfe\\xff'" in msg and "UTF-8 or GBK" in msg


def test_unknown_code_missing_field_and_bad_values(tmp_path, scheme):
    src = small_dltb()
    src.loc[[1, 4], "DLBM"] = "9999"
    path = tmp_path / "dltb.gpkg"
    src.to_file(path, layer="DLTB", engine="pyogrio")
    _, found = load_dltb(path, SPEC, scheme)
    msg = " | ".join(found.errors)
    assert f"{path} (layer 'DLTB'): field 'DLBM': code(s) not in scheme gbt21010" in msg
    assert "'9999' (2 polygons)" in msg and "config/landuse/gbt21010.csv" in msg
    with pytest.raises(InputError, match="9999"):
        read_dltb(path, SPEC, scheme)

    missing = small_dltb().drop(columns=["QSXZ"])
    missing.to_file(tmp_path / "m.gpkg", layer="DLTB", engine="pyogrio")
    _, found = load_dltb(tmp_path / "m.gpkg", SPEC, scheme)
    assert len(found.errors) == 1
    assert (
        f"{tmp_path / 'm.gpkg'} (layer 'DLTB'): field 'QSXZ' "
        "(inputs.landuse.polygons.fields.ownership) not found"
    ) in found.errors[0]
    assert "this one is required" in found.errors[0] and "DLBM" in found.errors[0]

    bad = small_dltb()
    bad["ZLDWDM"] = bad["ZLDWDM"].astype(object)
    bad.loc[0, "ZLDWDM"] = "64x"
    bad.loc[1, "QSXZ"] = "99"
    bad.to_file(tmp_path / "b.gpkg", layer="DLTB", engine="pyogrio")
    _, found = load_dltb(tmp_path / "b.gpkg", SPEC, scheme, counties={A, B})
    assert any("field 'ZLDWDM'" in e and "'64x'" in e for e in found.errors)
    assert any("field 'QSXZ'" in w and "'99'" in w for w in found.warnings)
    _, found = load_dltb(tmp_path / "dltb.gpkg", SPEC, scheme, counties={A})
    assert any(f"county code(s) '{B}'" in e for e in found.errors)


def test_areas_in_mu_are_refused(tmp_path, scheme):
    src = small_dltb()
    for c in ("TBMJ", "KCMJ", "TBDLMJ"):
        src[c] = src[c] * 0.0015
    src.to_file(tmp_path / "mu.gpkg", layer="DLTB", engine="pyogrio")
    _, found = load_dltb(tmp_path / "mu.gpkg", SPEC, scheme)
    assert any("look like 亩 (mu)" in e for e in found.errors)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # GDAL: latin1 / Integer64 notes
def test_file_geodatabase_and_a_wrong_layer_name(tmp_path, scheme):
    gdb = tmp_path / "sandiao.gdb"
    small_dltb().to_file(
        gdb, layer="DLTB", driver="OpenFileGDB", engine="pyogrio", promote_to_multi=True
    )
    gdf = read_dltb(gdb, SPEC, scheme)
    assert len(gdf) == 6 and gdf["dlmc"].iloc[0] == "旱地" and gdf.attrs["layer"] == "DLTB"
    _, found = load_dltb(gdb, {**SPEC, "layer": "dltb"}, scheme)
    msg = found.errors[0]
    assert (
        f"{gdb}: layer 'dltb' (inputs.landuse.polygons.layer) not found (did you mean 'DLTB'?"
    ) in msg and "the file has layer(s): DLTB" in msg
    _, found = load_dltb(gdb, {**SPEC, "layer": "DLTB2023"}, scheme)
    assert "layer 'DLTB2023'" in found.errors[0] and "did you mean" not in found.errors[0]


def test_rasterised_voronoi_dltb_agrees_with_the_polygons(tmp_path):
    """Polygons not aligned with the grid (a Voronoi tessellation): cells away from polygon
    edges take their polygon's class (>= 99 %), and edge cells the class of the largest exact
    share (shapely areas) in most cases (shares known to 1/25 of a cell)."""
    import shapely

    rng = np.random.default_rng(7)
    extent = cell_box(0, 0, GRID.width, GRID.height)
    pts = shapely.multipoints(
        np.column_stack(
            [
                rng.uniform(X0, X0 + GRID.width * RES, 40),
                rng.uniform(Y0 - GRID.height * RES, Y0, 40),
            ]
        )
    )
    cells = [c.intersection(extent) for c in shapely.voronoi_polygons(pts, extend_to=extent).geoms]
    codes = rng.choice([103, 301, 404, 702, 1101, 1206], len(cells))
    gdf = gpd.GeoDataFrame(
        {"code": codes, "owner": rng.choice([1, 2], len(cells))}, geometry=cells, crs=CRS
    )
    out, _ = rasterise_dltb(gdf, GRID, tmp_path / "c.tif", tmp_path / "o.tif", block_size=256)
    with rasterio.open(out) as ds:
        got = ds.read(1)
    boxes = np.array(
        [[cell_box(c, r, c + 1, r + 1) for c in range(GRID.width)] for r in range(GRID.height)],
        dtype=object,
    )
    flat, polys = boxes.ravel(), np.array(cells, dtype=object)
    bi, pi = shapely.STRtree(polys).query(flat, predicate="intersects")
    part = shapely.area(shapely.intersection(flat[bi], polys[pi])) / RES**2
    share = np.zeros((flat.size, codes.max() + 1))
    np.add.at(share, (bi, codes[pi]), part)
    share = share.reshape(boxes.shape + (codes.max() + 1,))
    best = share.argmax(axis=-1)
    away = share.max(axis=-1) > 0.999  # the cell lies inside one polygon
    assert away.mean() > 0.5
    assert (got[away] == best[away]).mean() >= 0.99
    edge = ~away
    chosen = np.take_along_axis(share, got[..., None].astype(int), -1)[..., 0]
    assert (chosen[edge] >= share.max(axis=-1)[edge] - 0.2).all()
    assert (got[edge] == best[edge]).mean() >= 0.85


# ---------------------------------------------------------------------------------------------
# the scope validation (validate_landuse[{year}]) with format polygons


def test_scope_validation_of_polygon_land_use(tmp_path):
    import inputs_factory as F

    from nxgeo.validate.scope import check_scope

    cfg, base = F.make_valid_inputs(tmp_path)
    rows = [
        {
            "DLBM": "0103",
            "DLMC": "旱地",
            "QSXZ": "30",
            "ZLDWDM": f"{code}0010010000000",
            "QSDWDM": f"{code}0010010000000",
            "TBMJ": geom.area,
            "KCMJ": 0.0,
            "KCDLBM": "",
            "TBDLMJ": geom.area,
            "geometry": geom,
        }
        for code, (_, geom) in F.COUNTIES.items()
    ]
    dltb = gpd.GeoDataFrame(rows, crs=F.CRS_GK)
    dltb.to_file(base / "in/dltb_2023.gpkg", layer="DLTB", engine="pyogrio")
    cfg["inputs"]["landuse"]["format"] = "polygons"
    cfg["inputs"]["landuse"]["files"][2023] = "in/dltb_2023.gpkg"
    report = check_scope(cfg, "landuse:2023", base)
    assert report.ok, report.to_markdown()
    assert report.checked[0]["kind"] == "polygons" and report.checked[0]["features"] == 2
    dltb.loc[1, "DLBM"] = "9999"
    dltb.to_file(base / "in/dltb_2023.gpkg", layer="DLTB", engine="pyogrio")
    cfg["inputs"]["landuse"]["polygons"]["layer"] = "dltb"
    report = check_scope(cfg, "landuse:2023", base)
    assert [p.item for p in report.errors] == ["inputs.landuse.files.2023"]
    assert "layer 'dltb' (inputs.landuse.polygons.layer) not found" in report.errors[0].message
    cfg["inputs"]["landuse"]["polygons"]["layer"] = "DLTB"
    report = check_scope(cfg, "landuse:2023", base)
    assert "'9999' (1 polygon)" in report.errors[0].message
    # raster format without an ownership raster: a warning, not an error
    cfg["inputs"]["landuse"]["format"] = "raster"
    cfg["inputs"]["landuse"]["files"][2023] = F.P["landuse"].format(year=2023)
    cfg["inputs"]["landuse"]["ownership"] = {}
    report = check_scope(cfg, "landuse:2023", base)
    assert report.ok and any("no ownership raster for 2023" in w.message for w in report.warnings)


def test_ownership_transitions_by_county(tmp_path):
    from nxgeo.survey.inventory import ownership_transitions
    from nxgeo.vector_io import write_layers

    a = np.full((GRID.height, GRID.width), 2, np.uint8)  # all collective in 2023
    a[0, :] = 255
    b = a.copy()
    b[1:11, 0:10] = 1  # 100 cells (100 ha) -> state
    b[20:25, 30:40] = 0  # 50 cells -> unknown
    for name, arr in (("a", a), ("b", b)):
        write_raster(tmp_path / f"{name}.tif", arr, CRS, GRID.transform, nodata=255)
    write_layers(tmp_path / "v.gpkg", {"counties": COUNTIES})
    df = ownership_transitions(
        tmp_path / "a.tif", tmp_path / "b.tif", tmp_path / "v.gpkg", 2023, 2024, tmp_path / "t.csv"
    )
    t = df.set_index(["zone_id", "from_2023", "to_2024"])["area_ha"]
    assert t[(A, "collective", "state")] == pytest.approx(100.0)
    assert t[(B, "collective", "unknown")] == pytest.approx(50.0)
    assert t[(A, "collective", "collective")] == pytest.approx(14 * 40 - 100.0)
    assert t[(B, "collective", "state")] == 0.0
    assert df.loc[df["changed"], "area_ha"].sum() == pytest.approx(150.0)
    assert (tmp_path / "t.csv").exists() and not list(tmp_path.glob(".*tmp*"))


def test_third_survey_working_classes_are_read(tmp_path, scheme):
    """三调's working classes that are not GB/T 21010-2017 codes (05H1, 08H1, 08H2, 08H2A, 0810A,
    1104A, 1107A) and a 可调整 K suffix are read, each to its own row of the scheme table."""
    src = small_dltb()
    src["DLBM"] = ["05H1", "08H2A", "1104A", "0201K", "1107A", "08H1"]
    got = read_dltb_frame(tmp_path, scheme, src)
    codes = dict(zip(got["dlbm"], got["code"]))
    assert codes == {
        "05H1": 591,
        "08H2A": 893,
        "1104A": 11041,
        "0201": 201,
        "1107A": 11071,
        "08H1": 891,
    }
    canon = scheme.table.set_index("code")["canonical"]
    assert [canon[c] for c in (591, 893, 891)] == ["built"] * 3
    assert canon[11041] == canon[11071] == "water"
