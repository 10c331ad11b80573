"""Terrain library: hand-computed slope/aspect, gdaldem parity, block-wise files, D8, LS, distance."""

from __future__ import annotations

import heapq
import math
import shutil
import subprocess

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from scipy import ndimage
from shapely.geometry import box

from nxgeo import terrain as T

ND = -9999.0


def _smooth_dem(shape, seed=0, sigma=3.0, amp=400.0, base=1500.0):
    rng = np.random.default_rng(seed)
    z = ndimage.gaussian_filter(rng.normal(size=shape), sigma)
    return (base + amp * z / np.abs(z).max()).astype(np.float32)


def _write_dem(path, dem, res=30.0, nodata=ND, crs="EPSG:4507"):
    profile = {
        "driver": "GTiff",
        "height": dem.shape[0],
        "width": dem.shape[1],
        "count": 1,
        "dtype": "float32",
        "crs": crs,
        "nodata": nodata,
        "transform": from_origin(500000.0, 4000000.0, res, res),
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(dem.astype(np.float32), 1)
    return path


def _read(path):
    with rasterio.open(path) as src:
        return src.read(1), src.profile


# ---------------------------------------------------------------- slope / aspect by hand


def test_plane_slope_and_aspect_exact():
    # z = a·X + b·Y with X east, Y north (metres): a = 0.3, b = 0.4, 10 m pixels -> z = 3c - 4r
    r, c = np.mgrid[0:5, 0:5]
    dem = (3.0 * c - 4.0 * r).astype(np.float32)
    slope = T.slope_degrees(dem, 10.0, 10.0)
    aspect = T.aspect_degrees(dem, 10.0, 10.0)
    inner = (slice(1, -1), slice(1, -1))
    # |grad| = sqrt(0.3² + 0.4²) = 0.5; Horn is exact on a plane (dx = -24/10, dy = -32/10)
    expected = np.float32(math.atan(0.5) * 180.0 / math.pi)
    assert np.all(slope[inner] == expected)
    assert abs(float(expected) - math.degrees(math.atan(math.hypot(0.3, 0.4)))) < 1e-5
    # steepest descent (-0.3, -0.4) in (east, north): azimuth atan2(-0.3, -0.4) = 216.87°
    # gdaldem: atan2(dy=-32, -dx=-24) = -126.87° -> 90 - (-126.87) = 216.87 (float32)
    gd = np.float32(90.0) - np.float32(math.atan2(-32.0, -24.0) / (math.pi / 180.0))
    assert np.all(aspect[inner] == gd)
    assert aspect[2, 2] == pytest.approx(math.degrees(math.atan2(-0.3, -0.4)) + 360.0, abs=1e-4)
    # the 1-pixel border is nodata
    for out in (slope, aspect):
        border = np.ones(out.shape, bool)
        border[inner] = False
        assert np.all(out[border] == ND) and out.dtype == np.float32


@pytest.mark.parametrize(
    "dem, azimuth",
    [
        (lambda r, c: 10.0 * r, 0.0),  # rises to the south (down the rows): faces north
        (lambda r, c: -10.0 * c, 90.0),  # rises to the west: faces east
        (lambda r, c: -10.0 * r, 180.0),  # rises to the north: faces south
        (lambda r, c: 10.0 * c, 270.0),  # rises to the east: faces west
    ],
)
def test_cardinal_aspects(dem, azimuth):
    r, c = np.mgrid[0:4, 0:4]
    out = T.aspect_degrees(dem(r, c).astype(np.float32), 30.0, 30.0)
    assert np.all(out[1:-1, 1:-1] == np.float32(azimuth))


def test_cone_hand_values():
    # z = -r (r in metres from the apex, 1 m pixels): 45° away from the apex, aspect = bearing
    n, k0 = 21, 10
    r, c = np.mgrid[0:n, 0:n]
    north, east = (k0 - r).astype(float), (c - k0).astype(float)
    dem = (-np.hypot(north, east)).astype(np.float32)
    slope = T.slope_degrees(dem, 1.0, 1.0)
    aspect = T.aspect_degrees(dem, 1.0, 1.0)
    # apex: window symmetric -> dx = dy = 0: slope 0, aspect flat (-9999)
    assert slope[k0, k0] == 0.0 and aspect[k0, k0] == ND
    # one cell north of the apex, by hand: dx = 0; dy = (g + 2h + i) - (a + 2b + c)
    # = 2·(sqrt(5) - 1) + 2·(2 - 0) -> slope = atan(dy / 8)
    dy = 2 * (math.sqrt(5) - 1) + 4.0
    assert slope[k0 - 1, k0] == pytest.approx(math.degrees(math.atan(dy / 8)), abs=1e-4)
    # aspect points away from the apex: N 0, E 90, S 180, W 270, NE 45, SW 225
    assert aspect[k0 - 3, k0] == 0.0
    assert aspect[k0, k0 + 3] == 90.0
    assert aspect[k0 + 3, k0] == 180.0
    assert aspect[k0, k0 - 3] == 270.0
    assert aspect[k0 - 3, k0 + 3] == pytest.approx(45.0, abs=1e-3)
    assert aspect[k0 + 4, k0 - 4] == pytest.approx(225.0, abs=1e-3)
    # general bearing on a few off-axis cells (Horn smooths over 3×3: within 1°)
    for rr, cc in [(3, 14), (15, 4), (12, 17)]:
        bearing = math.degrees(math.atan2(cc - k0, k0 - rr)) % 360
        assert aspect[rr, cc] == pytest.approx(bearing, abs=1.0)
    # 45° everywhere away from the apex (Horn's error shrinks with distance)
    far = (np.hypot(north, east) >= 5) & (slope != ND)
    assert np.abs(slope[far] - 45.0).max() < 1.0
    assert np.abs(slope[(np.hypot(north, east) >= 8) & (slope != ND)] - 45.0).max() < 0.4


@pytest.mark.parametrize("hole", [ND, np.nan])
def test_nodata_hole_propagates_to_neighbours(hole):
    r, c = np.mgrid[0:9, 0:8]
    dem = (2.0 * c + r).astype(np.float32)
    dem[4, 3] = hole
    for fn in (T.slope_degrees, T.aspect_degrees):
        out = fn(dem, 30.0, 30.0, nodata=ND)
        expect_nd = np.zeros(dem.shape, bool)
        expect_nd[[0, -1], :] = expect_nd[:, [0, -1]] = True
        expect_nd[3:6, 2:5] = True
        assert np.array_equal(out == ND, expect_nd)
        assert np.isfinite(out).all()


def test_tiny_and_int_dems():
    assert np.all(T.slope_degrees(np.zeros((2, 5)), 1, 1) == ND)
    assert np.all(T.slope_degrees(np.zeros((5, 2)), 1, 1) == ND)
    dem_i = np.arange(30, dtype=np.int16).reshape(5, 6) * 3
    assert np.array_equal(
        T.slope_degrees(dem_i, 30, 30), T.slope_degrees(dem_i.astype(np.float32), 30, 30)
    )
    flat = T.aspect_degrees(np.full((4, 4), 7.0), 30, 30)
    assert np.all(flat == ND)  # flat -> -9999, like gdaldem
    with pytest.raises(ValueError):
        T.slope_degrees(np.zeros((4, 4)), 0, 30)


def test_numpy_fallback_matches_numexpr(monkeypatch):
    dem = _smooth_dem((40, 37), seed=3)
    dem[10, 10] = ND
    a = T.slope_degrees(dem, 30, 25, ND), T.aspect_degrees(dem, 30, 25, ND)
    monkeypatch.setattr(T.horn, "_ne", None)
    b = T.slope_degrees(dem, 30, 25, ND), T.aspect_degrees(dem, 30, 25, ND)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x == ND, y == ND)
        assert np.abs(x - y).max() <= 1e-4


# ---------------------------------------------------------------- block-wise files


@pytest.mark.parametrize("block_rows", [1, 7, 48, 49, 50, 1000])
def test_file_versions_equal_whole_array(tmp_path, block_rows):
    dem = _smooth_dem((50, 40), seed=1)
    dem[20:22, 5] = ND
    dem[0, 10] = ND
    src = _write_dem(tmp_path / "dem.tif", dem)
    for file_fn, arr_fn in ((T.slope_file, T.slope_degrees), (T.aspect_file, T.aspect_degrees)):
        out = tmp_path / f"{arr_fn.__name__}.tif"
        file_fn(src, out, block_rows=block_rows)
        got, prof = _read(out)
        assert np.array_equal(got, arr_fn(dem, 30.0, 30.0, nodata=ND))  # bit for bit
        assert prof["nodata"] == ND and prof["dtype"] == "float32"
        assert prof["crs"].to_epsg() == 4507
        assert prof["transform"] == from_origin(500000.0, 4000000.0, 30.0, 30.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "aspect_degrees.tif",
        "dem.tif",
        "slope_degrees.tif",
    ]  # no temp files left


def test_file_version_is_tiled_and_compressed(tmp_path):
    dem = _smooth_dem((300, 260), seed=2)
    src = _write_dem(tmp_path / "dem.tif", dem)
    out = T.slope_file(src, tmp_path / "slope.tif", block_rows=100)
    with rasterio.open(out) as ds:
        assert ds.block_shapes == [(256, 256)]
        assert ds.compression.name.lower() == "deflate"
        assert np.array_equal(ds.read(1), T.slope_degrees(dem, 30, 30, ND))


# ---------------------------------------------------------------- peer: gdaldem


def _gdaldem(mode, src, dst):
    subprocess.run(["gdaldem", mode, "-q", str(src), str(dst)], check=True)
    return _read(dst)[0]


@pytest.mark.peer
def test_matches_gdaldem(tmp_path):
    if shutil.which("gdaldem") is None:
        pytest.skip("gdaldem not installed (Debian package gdal-bin); .ci/run installs it")
    dem = _smooth_dem((200, 150), seed=7, sigma=4.0, amp=600.0)
    dem[60:63, 80:82] = ND
    src = _write_dem(tmp_path / "dem.tif", dem)
    ref_slope = _gdaldem("slope", src, tmp_path / "gd_slope.tif")
    ref_aspect = _gdaldem("aspect", src, tmp_path / "gd_aspect.tif")
    ours = {
        "slope": T.slope_degrees(dem, 30.0, 30.0, nodata=ND),
        "aspect": T.aspect_degrees(dem, 30.0, 30.0, nodata=ND),
        "slope_file": _read(T.slope_file(src, tmp_path / "s.tif", block_rows=16))[0],
    }
    for name, ref in (("slope", ref_slope), ("aspect", ref_aspect), ("slope_file", ref_slope)):
        got = ours[name]
        assert np.array_equal(got == ND, ref == ND), name  # border, hole ring, flats
        valid = ref != ND
        diff = np.abs(got[valid].astype(np.float64) - ref[valid])
        if name == "aspect":
            diff = np.minimum(diff, 360.0 - diff)
        assert diff.max() <= 0.01, (name, diff.max())


# ---------------------------------------------------------------- D8 flow accumulation


def test_flow_acc_tilted_plane_one_outlet():
    r, c = np.mgrid[0:3, 0:4]
    dem = (r + c).astype(float)  # lowest at (0, 0); diagonal NW descent is the steepest
    acc = T.flow_accumulation(dem)
    expected = np.array([[12, 6, 3, 1], [3, 2, 2, 1], [1, 1, 1, 1]], float)
    assert np.array_equal(acc, expected)
    recv = T.d8_receivers(dem)
    assert recv[0, 0] == T.OUTLET and (recv == T.OUTLET).sum() == 1


def test_flow_acc_v_valley():
    dem = np.array([[10, 9, 10], [8, 7, 8], [6, 5, 6], [4, 3, 4]], float)
    acc = T.flow_accumulation(dem)
    expected = np.array([[1, 1, 1], [1, 4, 1], [1, 7, 1], [1, 12, 1]], float)
    assert np.array_equal(acc, expected)


def test_flow_acc_pit_is_filled_and_flat_routed():
    dem = np.array(
        [[9, 9, 9, 9, 9], [9, 5, 5, 5, 9], [9, 5, 1, 5, 9], [9, 5, 5, 5, 9], [9, 9, 9, 8, 9]], float
    )
    filled = T.fill_pits(dem)
    expected = np.full((5, 5), 9.0)
    expected[1:4, 1:4] = 8.0  # the bowl fills to the spill point (4, 3) = 8
    expected[4, 3] = 8.0
    assert np.array_equal(filled, expected)
    acc = T.flow_accumulation(dem)
    assert acc[4, 3] == 25  # everything leaves through the spill cell
    recv = T.d8_receivers(dem)
    assert recv[4, 3] == T.OUTLET and (recv == T.OUTLET).sum() == 1  # edge 9s drain inwards
    # without filling, the pit is a sink that takes everything (the spill cell included)
    assert T.d8_receivers(dem, fill=False)[2, 2] == T.OUTLET
    assert T.flow_accumulation(dem, fill=False)[2, 2] == 25


def _priority_flood(z, valid):
    """Reference fill (Barnes et al. 2014 priority-flood), a plain loop: test-only."""
    rows, cols = z.shape
    out, done, heap = z.copy(), ~valid, []
    for r in range(rows):
        for c in range(cols):
            if not valid[r, c]:
                continue
            win = valid[max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2]
            if r in (0, rows - 1) or c in (0, cols - 1) or not win.all():
                heapq.heappush(heap, (z[r, c], r, c))
                done[r, c] = True
    while heap:
        e, r, c = heapq.heappop(heap)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                rr, cc = r + dr, c + dc
                if 0 <= rr < rows and 0 <= cc < cols and not done[rr, cc]:
                    done[rr, cc] = True
                    out[rr, cc] = max(z[rr, cc], e)
                    heapq.heappush(heap, (out[rr, cc], rr, cc))
    out[~valid] = np.nan
    return out


@pytest.mark.parametrize("seed", range(8))
def test_fill_and_accumulation_random(seed):
    rng = np.random.default_rng(seed)
    rows, cols = rng.integers(3, 30, 2)
    dem = rng.integers(0, 15, (rows, cols)).astype(float)  # many ties, pits and flats
    if seed % 2:
        dem[rng.random((rows, cols)) < 0.12] = ND
    valid = dem != ND
    filled = T.fill_pits(dem, ND)
    ref = _priority_flood(dem, valid)
    assert np.array_equal(np.isnan(filled), ~valid)
    assert np.array_equal(filled[valid], ref[valid])
    recv = T.d8_receivers(dem, ND).ravel()
    has = recv >= 0
    assert valid.ravel()[recv[has]].all()  # never into nodata
    assert (filled.ravel()[recv[has]] <= filled.ravel()[has]).all()  # never uphill
    acc = T.flow_accumulation(dem, ND)
    assert np.isnan(acc[~valid]).all() and (acc[valid] >= 1).all()
    outlets = recv.reshape(dem.shape) == T.OUTLET
    assert acc[outlets].sum() == valid.sum()  # every valid cell reaches exactly one outlet
    w = rng.random(dem.shape)
    accw = T.flow_accumulation(dem, ND, weights=w)
    assert accw[outlets].sum() == pytest.approx(w[valid].sum())


# ---------------------------------------------------------------- LS factor


def _hand_l(a_in, d, m, x):
    return ((a_in + d * d) ** (m + 1) - a_in ** (m + 1)) / (d ** (m + 2) * x**m * 22.13**m)


def test_ls_on_uniform_plane_increases_downslope_and_hand_values():
    d, deg = 30.0, 5.0
    rows, cols = 20, 5
    r = np.mgrid[0:rows, 0:cols][0]
    dem = -r * d * math.tan(math.radians(deg))  # plane tilted due south
    acc = T.flow_accumulation(dem, xres=d, yres=d)
    assert np.array_equal(acc, (r + 1).astype(float))  # each column flows straight south
    slope = T.slope_degrees(dem, d, d)
    assert slope[1:-1, 1:-1] == pytest.approx(deg, abs=1e-4)
    aspect = T.aspect_degrees(dem, d, d)
    ls = T.ls_factor(slope, acc, d, l_max=None)
    inner = ls[1:-1, 2]
    assert np.all(np.diff(inner) > 0)  # LS grows downslope
    assert np.all(ls[0] == ND) and np.all(ls[:, 0] == ND)  # slope nodata -> LS nodata

    # hand check of cell (5, 2): flow_acc = 6 -> 5 cells strictly upslope
    th = math.radians(float(slope[5, 2]))
    pct = math.tan(th) * 100  # 8.75 % -> m = 0.5 (5 % < s <= 9 %)
    assert 5 < pct <= 9
    s_invest = 10.8 * math.sin(th) + 0.03  # slope < 9 %
    s_domain = 16.8 * math.sin(th) - 0.5  # 5° <= θ < 10° (θ = 5° exactly, float32 slope)
    x_slope = abs(math.sin(th)) + abs(math.cos(th))  # InVEST >= 3.14 (no aspect given)
    l_invest = _hand_l(math.sqrt(5 * d * d), d, 0.5, x_slope)
    assert ls[5, 2] == pytest.approx(l_invest * s_invest, rel=1e-5)
    ls_dom = T.ls_factor(slope, acc, d, s_method="domain", l_max=None)
    if float(slope[5, 2]) >= 5.0:
        assert ls_dom[5, 2] == pytest.approx(l_invest * s_domain, rel=1e-5)
    else:
        assert ls_dom[5, 2] == pytest.approx(ls[5, 2], rel=1e-6)
    # textbook Desmet & Govers: A = 5·D² in m², x from the aspect (180° -> x = 1)
    ls_dg = T.ls_factor(slope, acc, d, aspect_deg=aspect, area="desmet_govers", l_max=None)
    l_dg = _hand_l(5 * d * d, d, 0.5, 1.0)
    assert ls_dg[5, 2] == pytest.approx(l_dg * s_invest, rel=1e-5)
    # l_max clamps L (not the area), so LS = l_max · S where the cap bites
    capped = T.ls_factor(slope, acc, d, area="desmet_govers", l_max=1.5)
    assert capped[18, 2] == pytest.approx(1.5 * s_invest, rel=1e-5)


def test_ls_m_and_s_bands():
    deg = np.array([[0.3, 1.5, 2.5, 4.0, 7.0, 12.0, 25.0]], np.float32)
    acc = np.full(deg.shape, 10.0)
    d = 10.0
    got = T.ls_factor(deg, acc, d, l_max=None)
    got_dom = T.ls_factor(deg, acc, d, s_method="domain", l_max=None)
    for j, a in enumerate(deg[0]):
        th = math.radians(float(a))
        pct = math.tan(th) * 100
        if pct <= 1:
            m = 0.2
        elif pct <= 3.5:
            m = 0.3
        elif pct <= 5:
            m = 0.4
        elif pct <= 9:
            m = 0.5
        else:
            beta = (math.sin(th) / 0.0896) / (3 * math.sin(th) ** 0.8 + 0.56)
            m = beta / (1 + beta)
        ell = _hand_l(math.sqrt(9 * d * d), d, m, abs(math.sin(th)) + abs(math.cos(th)))
        s_inv = 10.8 * math.sin(th) + 0.03 if pct < 9 else 16.8 * math.sin(th) - 0.5
        if a < 5:
            s_dom = 10.8 * math.sin(th) + 0.03
        elif a < 10:
            s_dom = 16.8 * math.sin(th) - 0.5
        else:
            s_dom = 21.91 * math.sin(th) - 0.96
        assert got[0, j] == pytest.approx(ell * s_inv, rel=1e-5)
        assert got_dom[0, j] == pytest.approx(ell * s_dom, rel=1e-5)
    with pytest.raises(ValueError):
        T.ls_factor(deg, acc, d, s_method="usle")


# ---------------------------------------------------------------- distance / rasterize


def test_distance_to_single_pixel():
    mask = np.zeros((5, 5), bool)
    mask[2, 2] = True
    dist = T.distance_to(mask, 10.0, 10.0)
    assert dist[2, 2] == 0
    assert dist[2, 3] == pytest.approx(10.0)
    assert dist[0, 2] == pytest.approx(20.0)
    assert dist[0, 0] == pytest.approx(math.sqrt(2) * 20.0)
    assert dist[4, 4] == pytest.approx(math.sqrt(2) * 20.0)
    aniso = T.distance_to(mask, 10.0, 30.0)  # x: 10 m, y: 30 m pixels
    assert aniso[2, 4] == pytest.approx(20.0)
    assert aniso[0, 2] == pytest.approx(60.0)
    assert aniso[0, 0] == pytest.approx(math.hypot(20.0, 60.0))
    assert np.isinf(T.distance_to(np.zeros((3, 3), bool), 1, 1)).all()


def test_rasterize_features():
    tr = from_origin(0.0, 100.0, 10.0, 10.0)  # 10×10 grid of 10 m pixels
    poly = box(20.0, 70.0, 40.0, 90.0)  # exactly pixels rows 1-2, cols 2-3
    centre = T.rasterize_features([poly], (10, 10), tr, all_touched=False)
    assert centre.sum() == 4 and np.all(centre[1:3, 2:4] == 1)
    small = box(21.0, 71.0, 24.0, 74.0)  # inside pixel (row 2, col 2), misses its centre
    touched = T.rasterize_features([small], (10, 10), tr)
    assert touched.sum() == 1 and touched[2, 2] == 1
    assert T.rasterize_features([small], (10, 10), tr, all_touched=False).sum() == 0
    vals = T.rasterize_features([(poly, 7)], (10, 10), tr, dtype="int16")
    assert vals.dtype == np.int16 and set(np.unique(vals)) == {0, 7}
    assert T.rasterize_features([], (3, 4), tr).shape == (3, 4)
