"""The survey's own data (#15): DLTB polygons in, rasterised, inventoried; ownership (权属)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from shapely.geometry import MultiPolygon, box

from nxgeo.errors import InputError
from nxgeo.grid import Grid
from nxgeo.landuse import load_scheme
from nxgeo.prepare import ownership_to_grid
from nxgeo.raster_io import write_raster
from nxgeo.survey.rasterise import largest_share, rasterise_dltb
from nxgeo.survey.read import read_dltb

ROOT = Path(__file__).resolve().parents[1]
CRS = "EPSG:4507"
X0, Y0 = 500_000.0, 4_200_000.0      # upper-left corner of the test grid (CM 105E, Ningxia)
RES = 100.0
GRID = Grid(crs=CRS, transform=Affine(RES, 0, X0, 0, -RES, Y0), width=40, height=30)
SPEC = {
    "layer": "DLTB", "encoding": None,
    "fields": {"code": "DLBM", "name": "DLMC", "parcel_area": "TBMJ", "deduction": "KCMJ",
               "deduction_code": "KCDLBM", "area": "TBDLMJ", "ownership": "QSXZ",
               "located_in": "ZLDWDM", "owner_unit": "QSDWDM"},
    "county_from": "zldwdm", "state_codes": ["10", "20"],
    "collective_codes": ["30", "31", "32", "33", "34", "40"],
    "deduction_default_code": "1203", "supersample": 5,
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
        ("0404", "其他草地", "20", B, MultiPolygon([cell_box(0, 15, 10, 30),
                                                 cell_box(30, 15, 40, 30)])),
        ("0301", "乔木林地", "30", B, cell_box(10, 15, 30, 30)),
        ("1101", "河流水面", "10", A, cell_box(20, 5, 25, 15)),
    ]
    geoms = [r[4] for r in rows]
    tbmj = np.array([g.area for g in geoms])
    kcmj = np.where([r[0] == "0103" for r in rows], np.round(tbmj * 0.08, 2), 0.0)
    return gpd.GeoDataFrame({
        "BSM": np.arange(1, len(rows) + 1),
        "DLBM": [r[0] for r in rows], "DLMC": [r[1] for r in rows],
        "QSXZ": [r[2] for r in rows],
        "ZLDWDM": [f"{r[3]}0010010000000" for r in rows],
        "QSDWDM": [f"{r[3]}0010010000000" for r in rows],
        "TBMJ": tbmj, "KCMJ": kcmj,
        "KCDLBM": ["1203" if k > 0 else "" for k in kcmj],
        "TBDLMJ": tbmj - kcmj,
    }, geometry=geoms, crs=CRS)


# ---------------------------------------------------------------------------------------------
# rasterisation


def test_largest_share_by_hand():
    k = 2
    fine = np.array([[5, 5, 7, 0],
                     [5, 7, 0, 0],
                     [3, 3, 9, 9],
                     [4, 4, 9, 8]])
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
    assert (a != 0).all()              # the polygons tile the grid exactly


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
    own = np.where(np.arange(GRID.width) < 10, 1, 2).astype(np.uint8)[None, :].repeat(GRID.height, 0)
    own[5, 5] = 255
    write_raster(tmp_path / "own_src.tif", own, CRS, GRID.transform, nodata=255)
    out = ownership_to_grid(tmp_path / "lu.tif", tmp_path / "own.tif", tmp_path / "own_src.tif")
    with rasterio.open(out) as ds:
        a = ds.read(1)
        assert ds.nodata == 255
    assert (a[0] == 255).all()                     # outside the land use: nodata
    assert a[5, 5] == 0                            # source nodata inside: unknown
    assert a[1, 0] == 1 and a[1, 20] == 2
    none = ownership_to_grid(tmp_path / "lu.tif", tmp_path / "none.tif", None)
    with rasterio.open(none) as ds:
        b = ds.read(1)
    assert set(np.unique(b[1:]).tolist()) == {0} and (b[0] == 255).all()
    own[3, 3] = 7
    write_raster(tmp_path / "bad.tif", own, CRS, GRID.transform, nodata=255)
    with pytest.raises(InputError, match=r"bad.tif: ownership value\(s\) \[7\]"):
        ownership_to_grid(tmp_path / "lu.tif", tmp_path / "x.tif", tmp_path / "bad.tif")
