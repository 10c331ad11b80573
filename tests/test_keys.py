"""nxgeo.keys: one normalisation of county codes and coded values, used by validation and
processing alike; and the geometry repair after reprojection (nxgeo.vector_io)."""

from __future__ import annotations

import geopandas as gpd
import inputs_factory as F
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from nxgeo.errors import InputError
from nxgeo.keys import (
    adcode_ints,
    adcode_text,
    invalid_adcodes,
    normalize_adcode,
    normalize_fields,
    normalize_status,
)
from nxgeo.validate import validate_inputs
from nxgeo.vector_io import read_vector, repair_geometries

MINE_STATUS = ("abandoned", "closed", "operating")


# ------------------------------------------------------------------------------------------
# county codes


def test_adcode_spellings_of_one_county_become_one_key():
    values = pd.Series(
        [640105, 640105.0, "640105", " 640105 ", "640105\u3000", np.int64(640105)],
        dtype=object,
        index=list("abcdef"),
    )
    out = normalize_adcode(values)
    assert out.tolist() == ["640105"] * 6
    assert list(out.index) == list("abcdef")  # the index is kept
    assert adcode_ints(values).tolist() == [640105] * 6


def test_adcode_from_a_shapefile_real_field():
    # a Real field is read as float64: the whole numbers are codes
    assert normalize_adcode(np.array([640105.0, 640122.0])).tolist() == ["640105", "640122"]


@pytest.mark.parametrize(
    "bad",
    ["6401", "640105.0", "6.40105E+05", "64O105", 640105.5, True, None, "", float("nan"), 1234567],
)
def test_adcode_that_is_not_a_six_digit_code_is_an_error_naming_it(bad):
    with pytest.raises(InputError) as exc:
        normalize_adcode(["640105", bad], where="in/counties.shp: field 'adcode'")
    msg = str(exc.value)
    assert msg.startswith(
        "in/counties.shp: field 'adcode': 1 value(s) are not 6-digit county codes"
    )
    assert "store the column as text" in msg
    shown = "<empty>" if bad is None or (isinstance(bad, float) and np.isnan(bad)) else repr(bad)
    assert shown in msg
    assert invalid_adcodes(["640105", bad]) == [bad]


def test_adcode_missing_values_may_be_allowed():
    assert normalize_adcode(["640105", None], allow_missing=True).tolist() == ["640105", None]


def test_adcode_text_joins_tables_leniently():
    # a valid code in any spelling gives the canonical text; other values are kept as text
    values = [640105, " 640105 ", "640105.0", "1", "total", "640105\u3000"]
    assert adcode_text(values).tolist() == ["640105", "640105", "640105", "1", "total", "640105"]
    assert adcode_text(np.array([640105.0, 1.0])).tolist() == ["640105", "1"]


@given(st.integers(100_000, 999_999), st.sampled_from(["int", "float", "text", "padded"]))
def test_adcode_text_agrees_with_the_check_on_valid_codes(code, spelling):
    v = {"int": code, "float": float(code), "text": str(code), "padded": f" {code} "}[spelling]
    assert adcode_text([v]).tolist() == normalize_adcode([v]).tolist() == [str(code)]


# ------------------------------------------------------------------------------------------
# coded values


def test_status_case_blanks_and_chinese_terms():
    out = normalize_status([" Abandoned", "CLOSED ", "废弃", "关停", "operating"], MINE_STATUS)
    assert out.tolist() == ["abandoned", "closed", "abandoned", "closed", "operating"]


def test_status_not_in_the_vocabulary_is_an_error_listing_the_allowed_values():
    with pytest.raises(InputError) as exc:
        normalize_status(
            ["abandoned", "sealed", "sealed", None],
            MINE_STATUS,
            where="mines.gpkg (mines): field 'zt' (status)",
        )
    msg = str(exc.value)
    assert msg.startswith(
        "mines.gpkg (mines): field 'zt' (status): 3 value(s) not allowed: "
        "'sealed' (2×), <empty> (1×); use one of abandoned, closed, operating"
    )
    assert "废弃" in msg and "field calculator" in msg


def test_normalize_fields_of_a_prepared_layer():
    g = gpd.GeoDataFrame(
        {"id": [640105.0, 640122.0], "name": ["a", "b"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs=F.CRS_GK,
    )
    assert normalize_fields(g, "counties", "c.shp").id.tolist() == ["640105", "640122"]
    m = gpd.GeoDataFrame(
        {"id": [1.0, " M2 "], "status": ["Closed", "在产"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs=F.CRS_GK,
    )
    out = normalize_fields(m, "mines", "m.gpkg", {"id": "mine_id", "status": "zt"})
    assert out.id.tolist() == ["1", "M2"] and out.status.tolist() == ["closed", "operating"]
    m.loc[0, "status"] = "sealed"
    with pytest.raises(
        InputError, match=r"m.gpkg: field 'zt' \(status\): 1 value\(s\) not allowed"
    ):
        normalize_fields(m, "mines", "m.gpkg", {"id": "mine_id", "status": "zt"})


# ------------------------------------------------------------------------------------------
# validation and processing agree (the bug of issue #21)


def _counties_with_codes(base, codes, shapefile=False):
    c = gpd.read_file(base / F.P["counties"])
    c["adcode"] = codes
    (base / F.P["counties"]).unlink()
    if shapefile:
        path = base / "in" / "vector" / "counties.shp"
        c.to_file(path, engine="pyogrio")
        return path
    c.to_file(base / F.P["counties"], driver="GeoJSON", engine="pyogrio")
    return base / F.P["counties"]


@pytest.mark.parametrize(
    "codes", [[640105.0, 640122.0], ["640105 ", " 640122"]], ids=["real_number", "blanks"]
)
def test_codes_validation_accepts_are_the_codes_processing_uses(codes, tmp_path, monkeypatch):
    from nxgeo.prepare import prepare_vectors
    from nxgeo.zones import _zone_geoms

    cfg, base = F.make_valid_inputs(tmp_path / "in")
    shp = isinstance(codes[0], float)
    path = _counties_with_codes(base, codes, shapefile=shp)
    if shp:
        cfg["inputs"]["vectors"]["counties"]["path"] = str(path.relative_to(base))
        assert gpd.read_file(path)["adcode"].dtype.kind == "f"  # stored as a Real field
    report = validate_inputs(cfg, base)
    assert report.ok, report.to_markdown()
    monkeypatch.chdir(base)
    out = prepare_vectors(cfg["inputs"]["vectors"], cfg["grid"]["crs"], tmp_path / "vectors.gpkg")
    counties = read_vector(out, "counties")
    assert sorted(counties["id"]) == ["640105", "640122"]
    burn = _zone_geoms(out, 3000.0)["county"]  # crashed on '640105.0'
    assert sorted(v for _, v in burn) == [640105, 640122]


def test_prepare_vectors_refuses_a_code_validation_refuses(tmp_path, monkeypatch):
    from nxgeo.prepare import prepare_vectors

    cfg, base = F.make_valid_inputs(tmp_path / "in")
    _counties_with_codes(base, ["640105", "6401"])
    assert not validate_inputs(cfg, base).ok
    monkeypatch.chdir(base)
    with pytest.raises(
        InputError,
        match=r"in/vector/counties.geojson \(counties\): field 'adcode' "
        r"\(id\): 1 value\(s\) are not 6-digit county codes .*'6401'",
    ):
        prepare_vectors(cfg["inputs"]["vectors"], cfg["grid"]["crs"], tmp_path / "v.gpkg")


# ------------------------------------------------------------------------------------------
# geometry repair after reprojection


def _collapsed_hole(x0=460_000.0, y0=4_110_000.0, w=50_000.0):
    """A polygon whose hole has collapsed to a line (what a sliver becomes after
    reprojection): make_valid gives GeometryCollection(Polygon, MultiLineString)."""
    return Polygon(
        [(x0, y0), (x0 + w, y0), (x0 + w, y0 + w), (x0, y0 + w)],
        [[(x0 + 10, y0 + 10), (x0 + 20, y0 + 10), (x0 + 30, y0 + 10), (x0 + 10, y0 + 10)]],
    )


def test_repair_keeps_the_polygonal_part_of_a_geometry_collection():
    bad = _collapsed_hole()
    assert shapely.get_type_id(shapely.make_valid(bad)) == 7  # GeometryCollection
    g = gpd.GeoDataFrame({"id": ["a", "b"]}, geometry=[bad, box(0, 0, 1, 1)], crs=F.CRS_GK)
    out = repair_geometries(g, "polygon", "reaches.gpkg (reaches)")
    assert out["id"].tolist() == ["a", "b"]  # no feature lost
    assert set(out.geom_type) == {"Polygon"} and out.is_valid.all()
    assert out.area.iloc[0] == pytest.approx(bad.area)


def test_repair_merges_several_polygonal_parts_into_one_multipolygon():
    x0, y0 = 0.0, 0.0
    bowtie = Polygon([(x0, y0), (x0 + 10, y0 + 10), (x0 + 10, y0), (x0, y0 + 10)])
    out = repair_geometries(
        gpd.GeoDataFrame({"id": ["x"]}, geometry=[bowtie], crs=F.CRS_GK), "polygon", "m"
    )
    assert out.geom_type.tolist() == ["MultiPolygon"] and out.is_valid.all()


def test_a_feature_without_area_after_repair_is_an_error_naming_layer_and_feature():
    line_like = Polygon([(0, 0), (10, 0), (20, 0), (0, 0)])  # zero area
    g = gpd.GeoDataFrame({"id": ["ok", "R7"]}, geometry=[box(0, 0, 1, 1), line_like], crs=F.CRS_GK)
    with pytest.raises(InputError) as exc:
        repair_geometries(g, "polygon", "in/reaches.gpkg (reaches)")
    msg = str(exc.value)
    assert msg.startswith(
        "in/reaches.gpkg (reaches): 1 feature(s) have no polygon part left "
        "after reprojection to EPSG:4507 and repair (id 'R7' became"
    )
    assert "Fix Geometries" in msg


def _reach_with_sliver_in_4490(touching: bool) -> tuple[gpd.GeoDataFrame, float]:
    """The factory's reaches in EPSG:4490 with a sliver hole in the first one, and that
    reach's area in EPSG:4507 (m2) without the hole.

    touching=False: a hole of zero width along a parallel, invalid as delivered; make_valid in
    EPSG:4490 turns it into a line (GeometryCollection), reprojected first it is a valid sliver.
    touching=True: a thin hole touching the reach's bottom edge, valid in EPSG:4490; the edge
    (a parallel) bends on reprojection, so the hole then crosses the shell (invalid)."""
    r = F._gdf(
        [{"reach_id": rid, "name": rid.title(), "geometry": g} for rid, g in F.REACHES.items()]
    ).to_crs(F.CRS_GEO)
    area = r.to_crs(F.CRS_GK).area.iloc[0]
    x0, y0, x1, y1 = r.geometry.iloc[0].bounds
    lon = (x0 + x1) / 2
    if touching:  # a rectangle in EPSG:4490: its bottom edge is a parallel
        shell = [
            (x0 + 0.1, y0 + 0.1),
            (x1 - 0.1, y0 + 0.1),
            (x1 - 0.1, y1 - 0.1),
            (x0 + 0.1, y1 - 0.1),
        ]
        b = y0 + 0.1
        hole = [(lon, b), (lon + 0.05, b + 0.02), (lon - 0.05, b + 0.02), (lon, b)]
        area = gpd.GeoSeries([Polygon(shell)], crs=F.CRS_GEO).to_crs(F.CRS_GK).area.iloc[0]
    else:
        shell = list(r.geometry.iloc[0].exterior.coords)
        lat = (y0 + y1) / 2
        hole = [(lon - 0.05, lat), (lon, lat), (lon + 0.05, lat), (lon - 0.05, lat)]
    geoms = list(r.geometry)
    geoms[0] = Polygon(shell, [hole])
    return gpd.GeoDataFrame(r.drop(columns="geometry"), geometry=geoms, crs=F.CRS_GEO), area


def test_repairing_before_reprojection_is_what_made_the_geometry_collection():
    r, _ = _reach_with_sliver_in_4490(touching=False)
    g = r.geometry.iloc[0]
    assert shapely.get_type_id(shapely.make_valid(g)) == 7  # repaired in EPSG:4490
    t, _ = _reach_with_sliver_in_4490(touching=True)
    assert t.geometry.iloc[0].is_valid  # valid as delivered ...
    assert not t.to_crs(F.CRS_GK).geometry.iloc[0].is_valid  # ... not on the grid


@pytest.mark.parametrize("touching", [False, True], ids=["zero_width_hole", "hole_on_the_edge"])
def test_prepare_vectors_repairs_after_reprojection_and_the_inventory_runs(
    touching, tmp_path, monkeypatch
):
    """A dissolved reaches layer in EPSG:4490 (not the grid CRS) with a sliver hole: the
    prepared layer is valid (Multi)Polygon only, keeps every reach, and exactextract
    (inventory) accepts it."""
    from nxgeo.inventory import area_by_class
    from nxgeo.prepare import prepare_vectors

    cfg, base = F.make_valid_inputs(tmp_path / "in")
    r, area = _reach_with_sliver_in_4490(touching)
    F.write_layers(base / F.P["reaches"], {"reaches": r})
    monkeypatch.chdir(base)
    out = prepare_vectors(cfg["inputs"]["vectors"], cfg["grid"]["crs"], tmp_path / "v.gpkg")
    reaches = read_vector(out, "reaches")
    assert sorted(reaches["id"]) == sorted(r["reach_id"])
    assert set(reaches.geom_type) <= {"Polygon", "MultiPolygon"} and reaches.is_valid.all()
    hole_ha = (area - reaches.area.iloc[0]) / 1e4
    assert 0 <= hole_ha < (2_000 if touching else 10)  # the sliver, nothing more
    lu = base / cfg["inputs"]["landuse"]["files"][2023]
    res = area_by_class(lu, reaches, "id")
    assert set(res["zone_id"]) == set(reaches["id"])


def test_inventory_repairs_zones_after_reprojecting_them(tmp_path):
    """Zones in EPSG:4490 that are invalid only on the grid (the touching sliver): the
    inventory repairs them after its own reprojection and counts the zone's area."""
    from nxgeo.inventory import area_by_class

    lu = F.write_tif(tmp_path / "lu.tif", F.landuse_array(), nodata=0)
    r, area = _reach_with_sliver_in_4490(touching=True)
    z = gpd.GeoDataFrame({"id": ["a"]}, geometry=[r.geometry.iloc[0]], crs=F.CRS_GEO)
    res = area_by_class(lu, z, "id")
    assert res["area_ha"].sum() == pytest.approx(area / 1e4, rel=0.05)
