"""Block-wise terrain step (`terrain_reach`) against the whole-array library functions: slope,
aspect and the distances bit for bit whatever the strip and tile sizes; LS bit for bit with
the (default) exact tile-wise routing, and close to it with the opt-in coarsened routing."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from scipy import ndimage
from shapely.geometry import LineString, Point, box

from nxgeo import terrain as T
from nxgeo.config import fill_section
from nxgeo.vector_io import write_layers

ND = -9999.0
RES = 30.0


@pytest.fixture(scope="module")
def reach(tmp_path_factory):
    """A 230 x 260 DEM (the "region"), a reach polygon inside it (its template raster is the
    clipped DEM: nodata outside the polygon) and rivers / roads / settlements."""
    d = tmp_path_factory.mktemp("terrain_reach")
    rng = np.random.default_rng(5)
    h, w = 230, 260
    z = ndimage.gaussian_filter(rng.normal(size=(h, w)), 6)
    r, c = np.mgrid[0:h, 0:w]
    dem = (1500 + 900 * z / np.abs(z).max() + 2.0 * r + 0.5 * c).astype(np.float32)
    dem[40:44, 50:53] = ND  # a nodata hole
    t = from_origin(500000.0, 4000000.0, RES, RES)
    prof = {
        "driver": "GTiff",
        "height": h,
        "width": w,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4507",
        "transform": t,
        "nodata": ND,
    }
    with rasterio.open(d / "dem.tif", "w", **prof) as ds:
        ds.write(dem, 1)
    # reach window rows 20..200, cols 30..240; polygon: a box with a notch
    r0, c0, rh, rw = 20, 30, 180, 210
    poly = box(*(t @ (c0, r0 + rh)), *(t @ (c0 + rw, r0))).difference(
        box(*(t @ (c0 + 150, r0 + 60)), *(t @ (c0 + rw, r0)))
    )
    tt = from_origin(t.c + c0 * RES, t.f - r0 * RES, RES, RES)
    from rasterio.features import geometry_mask

    outside = geometry_mask([poly], (rh, rw), tt)
    tpl = dem[r0 : r0 + rh, c0 : c0 + rw].copy()
    tpl[outside] = ND
    with rasterio.open(
        d / "template.tif", "w", **{**prof, "height": rh, "width": rw, "transform": tt}
    ) as ds:
        ds.write(tpl, 1)
    x0, y0 = t.c, t.f
    rivers = gpd.GeoDataFrame(
        geometry=[LineString([(x0 + 100, y0 - 200), (x0 + 7000, y0 - 6500)])], crs="EPSG:4507"
    )
    roads = gpd.GeoDataFrame(
        geometry=[LineString([(x0 - 3000, y0 - 3000), (x0 + 9000, y0 - 3100)])], crs="EPSG:4507"
    )
    settl = gpd.GeoDataFrame(geometry=[Point(x0 + 4000, y0 - 2500).buffer(90)], crs="EPSG:4507")
    write_layers(d / "vectors.gpkg", {"rivers": rivers, "roads": roads, "settlements": settl})
    # "inside" as terrain_reach reads it: the template's valid pixels
    return {"dir": d, "dem": dem, "inside": tpl != ND, "win": (r0, c0, rh, rw), "transform": tt}


def _run(reach, name, **kw):
    d = reach["dir"]
    out = {k: d / f"{name}_{k}.tif" for k in T.TERRAIN_LAYERS}
    # s_method and l_max as the config gives them (terrain_reach has no defaults of its own)
    cfg = fill_section("terrain", {"distance_max_m": 2000.0})
    T.terrain_reach(
        d / "dem.tif",
        d / "template.tif",
        d / "vectors.gpkg",
        out,
        distance_max_m=cfg["distance_max_m"],
        s_method=cfg["s_method"],
        l_max=cfg["l_max"],
        **kw,
    )
    res = {}
    for k, p in out.items():
        with rasterio.open(p) as ds:
            assert ds.profile["driver"] == "GTiff" and ds.nodata == ND
            assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            res[k] = ds.read(1)
    return res


def _expected(reach):
    """The whole-array computation (what terrain_reach did before it became block-wise)."""
    r0, c0, rh, rw = reach["win"]
    dem, inside = reach["dem"], reach["inside"]
    pad_dem = np.full((rh + 2, rw + 2), np.float32(ND))
    src = dem[max(r0 - 1, 0) : r0 + rh + 1, max(c0 - 1, 0) : c0 + rw + 1]
    pad_dem[: src.shape[0], : src.shape[1]] = src
    slope = T.slope_degrees(pad_dem, RES, RES, nodata=ND)[1:-1, 1:-1]
    aspect = T.aspect_degrees(pad_dem, RES, RES, nodata=ND)[1:-1, 1:-1]
    dem_r = pad_dem[1:-1, 1:-1].copy()
    dem_r[~inside] = ND
    acc = T.flow_accumulation(dem_r, ND, xres=RES, yres=RES)
    ls = T.ls_factor(np.where(slope == ND, np.nan, slope), acc, RES)
    ls = np.where(np.isfinite(ls) & (ls != ND), ls, ND).astype("float32")
    out = {"slope": slope, "aspect": aspect, "ls": ls}
    pad = math.ceil(2000.0 / RES)
    from rasterio.windows import Window
    from rasterio.windows import transform as wt

    from nxgeo.vector_io import read_vector

    ptr = wt(Window(-pad, -pad, rw + 2 * pad, rh + 2 * pad), reach["transform"])
    for key, layers in T.DISTANCE_SOURCES.items():
        geoms = [
            g
            for lay in layers
            if lay in ("rivers", "roads", "settlements")
            for g in read_vector(reach["dir"] / "vectors.gpkg", lay).geometry
        ]
        m = T.rasterize_features(geoms, (rh + 2 * pad, rw + 2 * pad), ptr) > 0
        dd = T.distance_to(m, RES, RES)[pad : pad + rh, pad : pad + rw]
        out[key] = np.minimum(dd, 2000.0).astype("float32")
    for k, a in out.items():
        a = a.astype("float32", copy=True)
        a[~inside] = ND
        a[~np.isfinite(a)] = ND
        out[k] = a
    return out


def test_blockwise_equals_whole_array_bit_for_bit(reach):
    exp = _expected(reach)
    # tiny strips (one tile row) and tiny distance tiles: many blocks, many halos
    # and routing tiles of 64 x 64 (the reach is 180 x 210: 12 tiles, exact propagation)
    got = _run(reach, "small", strip_cells=10_000, distance_tile_cells=50_000, flow_tile=64)
    for k in T.TERRAIN_LAYERS:
        np.testing.assert_array_equal(got[k], exp[k], err_msg=k)
    assert (got["ls"] != ND).sum() > 0.8 * reach["inside"].sum()
    dw = got["distance_water"][reach["inside"]]
    assert dw.min() == 0.0 and dw.max() == 2000.0 and 0 < np.median(dw) < 2000.0
    default = _run(reach, "default")  # one strip, one tile; exact routing is the default
    for k in T.TERRAIN_LAYERS:
        np.testing.assert_array_equal(default[k], exp[k], err_msg=k)


def test_bounded_routing_is_close_to_exact(reach):
    exact = _run(reach, "exact", flow_max_cells=None)
    approx = _run(reach, "k3", flow_max_cells=5_000)  # 37 800 cells -> k = 3 (90 m routing)
    assert T.flow_coarsening(180 * 210, 5_000) == 3
    for k in ("slope", "aspect", "distance_water"):
        np.testing.assert_array_equal(approx[k], exact[k])
    v = exact["ls"] != ND
    assert ((approx["ls"] != ND) == v).all()
    rel = np.abs(approx["ls"][v] - exact["ls"][v]) / exact["ls"][v]
    assert np.median(rel) < 0.05 and np.percentile(rel, 90) < 0.25
    assert abs(approx["ls"][v].mean() / exact["ls"][v].mean() - 1) < 0.05


def test_flow_coarsening_and_flow_length():
    assert T.flow_coarsening(10**9) == 1  # default: no budget, never coarsened (exact)
    assert T.flow_coarsening(2_000_000, 2_000_000) == 1
    assert T.flow_coarsening(2_000_001, 2_000_000) == 2
    assert T.flow_coarsening(27_000_000, 2_000_000) == 4 and T.flow_coarsening(10**9, None) == 1
    assert T.flow_coarsening(27_000_000, 4_000_000) == 3
    # a coarse count of 5 (4 cells upslope of 90 m) is 12 fine cells of 30 m upslope
    assert T.coarse_flow_length(np.array([5.0]), 3)[0] == 12.0


@pytest.mark.parametrize("tile_cells", [400, 5_000, 10**7])
def test_distance_to_capped_equals_whole_array(tile_cells):
    rng = np.random.default_rng(2)
    mask = rng.random((90, 130)) < 0.004
    full = np.minimum(T.distance_to(mask, 30.0, 20.0), 500.0).astype(np.float32)
    got = T.distance_to_capped(mask, 30.0, 20.0, 500.0, tile_cells=tile_cells)
    np.testing.assert_array_equal(got, full)
    assert (T.distance_to_capped(np.zeros((5, 5), bool), 1, 1, 7.0) == 7.0).all()
