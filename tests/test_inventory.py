"""Inventory (coverage-weighted areas per zone), reconciliation, transitions and change raster."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import box

from nxgeo.errors import InputError
from nxgeo.inventory import area_by_class, inventory_table, pixel_area_ha, reconcile
from nxgeo.landuse import load_scheme
from nxgeo.prepare import landuse_to_canonical_file
from nxgeo.transitions import change_raster, transition_matrix

X0, Y0, R = 500_000.0, 4_100_000.0, 30.0
TR = from_origin(X0, Y0, R, R)
CRS = "EPSG:4507"


def write(path, arr, nodata=0, transform=TR):
    arr = np.asarray(arr)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=arr.shape[1],
        height=arr.shape[0],
        count=1,
        dtype=arr.dtype.name,
        crs=CRS,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(arr, 1)
    return path


def cells(c0, r0, c1, r1):
    """Box covering pixel columns c0..c1-1 and rows r0..r1-1 (may be fractional)."""
    return box(X0 + c0 * R, Y0 - r1 * R, X0 + c1 * R, Y0 - r0 * R)


def zones(ids, geoms, names=None, crs=CRS):
    d = {"zid": ids}
    if names is not None:
        d["name"] = names
    return gpd.GeoDataFrame(d, geometry=geoms, crs=crs)


# 4×4 land use (canonical ids); 0 = nodata
A = np.array([[1, 1, 6, 6], [3, 3, 6, 6], [3, 3, 4, 0], [12, 12, 4, 4]], np.uint8)
B = np.array([[1, 2, 6, 4], [3, 3, 6, 6], [9, 3, 4, 4], [12, 6, 4, 0]], np.uint8)


@pytest.fixture()
def ab(tmp_path):
    return write(tmp_path / "a.tif", A), write(tmp_path / "b.tif", B)


def area(df, zone, value):
    sel = df[(df["zone_id"] == zone) & (df["value"] == value)]
    return float(sel["area_ha"].sum())


def test_pixel_area_ha():
    assert pixel_area_ha(TR) == pytest.approx(0.09)
    assert pixel_area_ha(from_origin(0, 0, 250, 250)) == pytest.approx(6.25)


def test_aligned_polygon_exact_areas(ab):
    a, _ = ab
    z = zones(["z"], [cells(0, 1, 2, 3)])  # the 2×2 block of class 3
    df = area_by_class(a, z, "zid")
    assert list(df.columns) == ["zone_id", "value", "area_ha", "pixel_count"]
    assert df["value"].tolist() == [3]
    assert df["area_ha"].iloc[0] == pytest.approx(0.36)
    assert df["pixel_count"].iloc[0] == pytest.approx(4.0)


def test_half_pixel_counts_half(ab):
    a, _ = ab
    z = zones(["h"], [cells(0, 0, 1.5, 1)])  # pixel (0,0) and half of (0,1), both class 1
    df = area_by_class(a, z, "zid")
    assert area(df, "h", 1) == pytest.approx(1.5 * 0.09)
    z = zones(["q"], [cells(1.5, 0, 2.5, 1)])  # half class 1, half class 6
    df = area_by_class(a, z, "zid")
    assert area(df, "q", 1) == pytest.approx(0.045) and area(df, "q", 6) == pytest.approx(0.045)


def test_values_fill_zeros_and_zone_crs_is_reprojected(ab):
    a, _ = ab
    z = zones(["w"], [cells(0, 0, 4, 4)]).to_crs("EPSG:4490")
    df = area_by_class(a, z, "zid", values=[1, 2, 3])
    assert df["value"].tolist() == [1, 2, 3]
    assert df["area_ha"].tolist() == pytest.approx([0.18, 0.0, 0.36], abs=1e-3)


def test_counties_and_reaches_that_tile_them_sum_equal(ab):
    a, _ = ab
    counties = zones(["west", "east"], [cells(0, 0, 2, 4), cells(2, 0, 4, 4)])
    # reaches cut pixels in odd places but cover the same area
    reaches = zones(
        ["n", "s", "s"], [cells(0, 0, 4, 1.3), cells(0, 1.3, 2.7, 4), cells(2.7, 1.3, 4, 4)]
    )
    by_c = area_by_class(a, counties, "zid").groupby("value")["area_ha"].sum()
    by_r = area_by_class(a, reaches, "zid").groupby("value")["area_ha"].sum()
    pd.testing.assert_series_equal(by_c, by_r, check_exact=False, atol=1e-6)
    assert set(area_by_class(a, reaches, "zid")["zone_id"]) == {"n", "s"}  # parts summed
    assert by_c.sum() == pytest.approx(15 * 0.09)  # 1 nodata pixel


def test_reconcile_aligned_and_with_nodata_and_outside(ab):
    a, _ = ab
    z = zones(["in", "edge"], [cells(0, 0, 2, 2), cells(2, 2, 6, 4)])
    inv = area_by_class(a, z, "zid")
    rec = reconcile(inv, z, "zid", a).set_index("zone_id")
    assert rec.loc["in", "difference_ha"] == pytest.approx(0, abs=1e-6)
    assert rec.loc["in", "polygon_ha"] == pytest.approx(0.36)
    # "edge": 2 rows × 4 cols, 2 columns outside the raster, one nodata pixel
    e = rec.loc["edge"]
    assert e["polygon_ha"] == pytest.approx(0.72)
    assert e["classified_ha"] == pytest.approx(0.27)
    assert e["nodata_ha"] == pytest.approx(0.09)
    assert e["outside_ha"] == pytest.approx(0.36)
    assert e["residual_ha"] == pytest.approx(0, abs=1e-6)
    assert e["difference_pct"] == pytest.approx(100 * 0.45 / 0.72)


def test_inventory_table_by_class_and_code(tmp_path):
    s = load_scheme("gbt21010")
    codes = np.array([[101, 102, 301, 301], [103, 103, 404, 404], [1205, 1205, 702, -1]], np.int16)
    codes_p = write(tmp_path / "codes.tif", codes, nodata=-1)
    can_p = landuse_to_canonical_file(codes_p, tmp_path / "can.tif", s)
    z = zones(
        ["640104", "640105"], [cells(0, 0, 2, 3), cells(2, 0, 4, 3)], names=["兴庆区", "西夏区"]
    )
    by_class, by_code = inventory_table(
        can_p, codes_p, z, "zid", "name", "county", s.classes, s.table, mu_per_ha=15
    )
    assert list(by_class.columns) == [
        "zone_kind",
        "zone_id",
        "zone_name",
        "class_id",
        "class",
        "class_zh",
        "class_en",
        "area_ha",
        "area_mu",
        "share",
    ]
    assert len(by_class) == 2 * len(s.classes)  # every class, zeros included
    w = by_class[by_class["zone_id"] == "640104"].set_index("class")
    assert w.loc["cropland_irrigated", "area_ha"] == pytest.approx(0.18)
    assert w.loc["cropland_irrigated", "area_mu"] == pytest.approx(2.7)
    assert w.loc["cropland_dry", "class_zh"] == "旱地"
    assert w.loc["sandy", "area_ha"] == pytest.approx(0.18)
    assert w.loc["forest", "area_ha"] == 0
    assert w["share"].sum() == pytest.approx(1.0)
    assert (w["zone_name"] == "兴庆区").all() and (w["zone_kind"] == "county").all()
    assert list(by_code.columns) == [
        "zone_kind",
        "zone_id",
        "zone_name",
        "code",
        "source_code",
        "code_zh",
        "code_en",
        "canonical",
        "area_ha",
        "area_mu",
    ]
    e = by_code[by_code["zone_id"] == "640105"].set_index("source_code")
    assert sorted(e.index) == ["0301", "0404", "0702"]
    assert (
        e.loc["0702", "code_zh"] == "农村宅基地" and e.loc["0702", "canonical"] == "rural_homestead"
    )
    assert e.loc["0301", "area_ha"] == pytest.approx(0.18)
    # classes and codes give the same zone totals
    assert by_code.groupby("zone_id")["area_ha"].sum().to_dict() == pytest.approx(
        by_class.groupby("zone_id")["area_ha"].sum().to_dict()
    )
    rec = reconcile(by_class, z, "zid", can_p).set_index("zone_id")
    assert rec.loc["640104", "difference_ha"] == pytest.approx(0, abs=1e-6)
    assert rec.loc["640105", "nodata_ha"] == pytest.approx(0.09)
    assert rec.loc["640105", "zone_name"] == "西夏区"


def test_inventory_unknown_class_is_error(tmp_path):
    s = load_scheme("gbt21010")
    p = write(tmp_path / "can.tif", np.array([[1, 77]], np.uint8))
    with pytest.raises(InputError, match=r"can.tif.*77"):
        inventory_table(
            p, None, zones(["z"], [cells(0, 0, 2, 1)]), "zid", None, "reach", s.classes, None
        )


# --- transitions ----------------------------------------------------------------------------


def test_transition_matrix_known_and_row_sums_equal_inventory(ab):
    a, b = ab
    z = zones(["all", "nw"], [cells(0, 0, 4, 4), cells(0, 0, 2, 2)])
    tm = transition_matrix(a, b, z, "zid", n_classes=13)
    assert list(tm.columns) == ["zone_id", "from_class", "to_class", "area_ha"]
    nw = tm[tm["zone_id"] == "nw"].set_index(["from_class", "to_class"])["area_ha"]
    assert nw.to_dict() == pytest.approx({(1, 1): 0.09, (1, 2): 0.09, (3, 3): 0.18})
    al = tm[tm["zone_id"] == "all"].set_index(["from_class", "to_class"])["area_ha"] / 0.09
    expected = {
        (1, 1): 1,
        (1, 2): 1,
        (6, 6): 3,
        (6, 4): 1,
        (3, 3): 3,
        (3, 9): 1,
        (4, 4): 2,
        (0, 4): 1,
        (4, 0): 1,
        (12, 12): 1,
        (12, 6): 1,
    }
    assert al.round(6).to_dict() == expected
    # row sums (over all to-classes, 0 = nodata in B) = year-A inventory
    inv_a = area_by_class(a, z, "zid").set_index(["zone_id", "value"])["area_ha"]
    rows = tm[tm["from_class"] > 0].groupby(["zone_id", "from_class"])["area_ha"].sum()
    rows.index.names = ["zone_id", "value"]
    pd.testing.assert_series_equal(
        rows.sort_index(), inv_a.sort_index(), check_exact=False, check_names=False, atol=1e-9
    )


def test_transition_partial_pixels_match_inventory(ab, tmp_path):
    a, b = ab
    z = zones(["odd"], [cells(0.25, 0.5, 3.4, 3.7)])
    z.to_file(tmp_path / "z.gpkg", layer="reaches")
    tm = transition_matrix(a, b, tmp_path / "z.gpkg", "zid", n_classes=13, layer="reaches")
    inv_a = area_by_class(a, z, "zid").set_index("value")["area_ha"]
    rows = tm[tm["from_class"] > 0].groupby("from_class")["area_ha"].sum()
    np.testing.assert_allclose(
        rows.sort_index().to_numpy(), inv_a.sort_index().to_numpy(), atol=1e-9
    )
    inv_b = area_by_class(b, z, "zid").set_index("value")["area_ha"]
    cols = tm[tm["to_class"] > 0].groupby("to_class")["area_ha"].sum()
    np.testing.assert_allclose(
        cols.sort_index().to_numpy(), inv_b.sort_index().to_numpy(), atol=1e-9
    )


def test_transition_needs_same_grid(ab, tmp_path):
    a, _ = ab
    other = write(tmp_path / "o.tif", B, transform=from_origin(X0 + R, Y0, R, R))
    with pytest.raises(InputError, match="same grid"):
        transition_matrix(a, other, zones(["z"], [cells(0, 0, 1, 1)]), "zid", 13)


def test_change_raster_codes(ab, tmp_path):
    a, b = ab
    out = change_raster(a, b, tmp_path / "change.tif", block_size=1)
    with rasterio.open(out) as ds:
        ch = ds.read(1)
        assert ds.dtypes[0] == "uint16" and ds.nodata == 65535
    expected = np.array(
        [[0, 102, 0, 604], [0, 0, 0, 0], [309, 0, 0, 65535], [0, 1206, 0, 65535]], np.uint16
    )
    np.testing.assert_array_equal(ch, expected)


def test_zone_field_named_id_and_integer_ids_survive(ab):
    # exactextract's GeoDataFrame reader would replace a property called "id" by the row index
    a, _ = ab
    z = gpd.GeoDataFrame({"id": [7, 3]}, geometry=[cells(0, 1, 2, 3), box(0, 0, 10, 10)], crs=CRS)
    df = area_by_class(a, z, "id", values=[3])
    assert df["zone_id"].tolist() == [7, 3]
    assert df["area_ha"].tolist() == pytest.approx([0.36, 0.0])
    rec = reconcile(df, z, "id", a)
    assert rec["zone_id"].tolist() == [7, 3]
    assert rec["outside_ha"].tolist() == pytest.approx([0.0, 0.01])


# ---------------------------------------------------------------------------------------------
# statistics of the region only (issue #21): the land-use map legend


def test_land_use_legend_counts_the_region_only(tmp_path):
    """The grid-wide land-use raster holds land use outside the counties (the grid is the
    counties' bounding box): the map legend's shares are shares of the region."""
    from pathlib import Path

    from nxgeo.maps import data as mdata
    from nxgeo.maps import sheets

    arr = np.full((10, 10), 4, np.uint8)  # forest everywhere ...
    arr[:, :5] = 1  # ... cropland in the western half
    p = write(tmp_path / "lu.tif", arr)
    region = gpd.GeoSeries([cells(0, 0, 5, 10), cells(5, 0, 7, 10)], crs=CRS)  # 7 of 10 columns
    assert mdata.class_counts([p]) == {1: 50, 4: 50}
    assert mdata.class_counts([p], region) == {1: 50, 4: 20}
    assert mdata.class_counts([p], region.to_crs("EPSG:4490")) == {1: 50, 4: 20}
    counties = gpd.GeoDataFrame(
        {"id": ["640105", "640122"], "name": ["a", "b"]}, geometry=list(region), crs=CRS
    )
    ctx = sheets.MapContext(
        year=2024, region_name="测试区 / Test", crs=CRS, made_on="2024-01-01", counties=counties
    )
    classes = Path(__file__).resolve().parents[1] / "config" / "landuse" / "classes.csv"
    sheet = sheets.landuse_figure([p], classes, ctx)
    texts = [t.get_text() for t in sheet.legend.get_texts()]
    shares = {t.split(" ")[0]: t.rsplit(" ", 1)[1] for t in texts if t.endswith("%")}
    assert sorted(shares.values()) == ["28.6%", "71.4%"], texts  # 20/70 and 50/70
