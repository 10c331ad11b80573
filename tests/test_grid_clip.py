"""Analysis grid, reprojection onto it, canonical land use, and clipping a reach to a COG."""

import json

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin
from rio_cogeo.cogeo import cog_validate
from shapely.geometry import Point, Polygon, box

from nxgeo.clip import clip_to_polygon
from nxgeo.errors import ConfigError, InputError
from nxgeo.grid import Grid, grid_for_region, row_windows
from nxgeo.landuse import load_scheme
from nxgeo.prepare import landuse_to_canonical_file, reproject_to_grid, reproject_vector


def write(path, arr, transform, crs="EPSG:4507", nodata=None):
    arr = np.asarray(arr)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=arr.shape[1],
        height=arr.shape[0],
        count=1,
        dtype=arr.dtype.name,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(arr, 1)
    return path


def read(path):
    with rasterio.open(path) as src:
        return src.read(1), src.profile


# --- grid -----------------------------------------------------------------------------------


def test_grid_for_region_snaps_and_covers():
    region = gpd.GeoDataFrame(
        geometry=[box(588_123.4, 4_095_987.6, 601_010.1, 4_110_001.9)], crs="EPSG:4507"
    )
    g = grid_for_region(region, "EPSG:4507", resolution=250, pad_cells=2)
    left, bottom, right, top = g.bounds
    for v in (left, bottom, right, top):
        assert v % 250 == 0
    assert (left, bottom) == (588_000 - 500, 4_095_750 - 500)
    assert (right, top) == (601_250 + 500, 4_110_250 + 500)
    assert g.resolution == (250.0, 250.0)
    assert g.shape == ((top - bottom) / 250, (right - left) / 250)
    # JSON round trip
    g2 = Grid.from_dict(json.loads(json.dumps(g.to_dict())))
    assert g2 == g and g2.matches(g)


def test_grid_for_region_from_geographic_input_covers_region():
    region = gpd.GeoDataFrame(geometry=[box(105.9, 36.9, 106.2, 37.1)], crs="EPSG:4490")
    g = grid_for_region(region, "EPSG:4507", resolution=30, pad_cells=0)
    assert g.crs == "EPSG:4507"
    assert g.transform.c % 30 == 0 and g.transform.f % 30 == 0
    minx, miny, maxx, maxy = region.to_crs("EPSG:4507").total_bounds
    left, bottom, right, top = g.bounds
    assert left <= minx and bottom <= miny and right >= maxx and top >= maxy
    assert right - maxx < 30 and minx - left < 30


def test_grid_refuses_geographic_crs_and_missing_crs():
    region = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs="EPSG:4490")
    with pytest.raises(ConfigError, match="geographic"):
        grid_for_region(region, "EPSG:4490")
    with pytest.raises(InputError, match="counties.*no CRS"):
        grid_for_region(gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)]), name="counties")


def test_grid_over_the_pixel_budget_is_refused_with_count_resolution_and_key():
    region = gpd.GeoDataFrame(
        geometry=[box(500_000, 4_000_000, 600_000, 4_100_000)], crs="EPSG:4507"
    )
    g = grid_for_region(region, "EPSG:4507", resolution=100, pad_cells=0, max_pixels=1_000_000)
    assert g.width * g.height == 1_000_000  # exactly the budget: fine
    with pytest.raises(ConfigError) as exc:
        grid_for_region(region, "EPSG:4507", resolution=10, pad_cells=0, max_pixels=1_000_000)
    msg = str(exc.value)
    assert (
        "grid.resolution: 10 m gives an analysis grid of 100,000,000 pixels (10,000 × 10,000 "
        "over the counties' extent), more than grid.max_pixels = 1,000,000"
    ) in msg
    assert "at least 100 m fits" in msg
    assert "raise grid.max_pixels to at least 100,000,000" in msg
    # no budget: any size (the grid is only described, nothing is allocated)
    assert grid_for_region(region, "EPSG:4507", resolution=1, pad_cells=0).width == 100_000


def test_row_windows_cover_grid():
    wins = list(row_windows(7, 10, 3))
    assert [w.height for w in wins] == [3, 3, 3, 1] and all(w.width == 7 for w in wins)


def test_reproject_vector_names_layer_without_crs():
    with pytest.raises(InputError, match="reaches"):
        reproject_vector(gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)]), "EPSG:4507", name="reaches")
    gdf = gpd.GeoDataFrame(geometry=[Point(106, 37)], crs="EPSG:4490")
    assert reproject_vector(gdf, "EPSG:4507").crs.to_epsg() == 4507


# --- reprojection ---------------------------------------------------------------------------


@pytest.fixture()
def geographic_rasters(tmp_path):
    """A 30×36 raster at 0.001° near 106E 37N (EPSG:4490), categorical int16 and float32."""
    rng = np.random.default_rng(1)
    codes = rng.choice(np.array([101, 301, 404, 1205], np.int16), size=(30, 36))
    codes[:4, :5] = -1  # nodata block
    tr = from_origin(106.0, 37.03, 0.001, 0.001)
    cat = write(tmp_path / "lu4490.tif", codes, tr, "EPSG:4490", nodata=-1)
    cont = write(
        tmp_path / "dem4490.tif",
        rng.normal(1200, 50, (30, 36)).astype(np.float32),
        tr,
        "EPSG:4490",
        nodata=-9999.0,
    )
    # a 20×15 grid at 150 m inside/around the source (part of it outside the source)
    t = Transformer.from_crs("EPSG:4490", "EPSG:4507", always_xy=True)
    x0, y0 = t.transform(106.0, 37.03)
    left, top = np.floor(x0 / 150) * 150 - 300, np.floor(y0 / 150) * 150
    grid = Grid("EPSG:4507", from_origin(left, top, 150, 150), 20, 15)
    return cat, cont, grid


def test_reproject_categorical_nearest_blockwise_equals_one_shot(geographic_rasters, tmp_path):
    cat, _, grid = geographic_rasters
    a = reproject_to_grid(cat, tmp_path / "a.tif", grid, categorical=True, block_size=3)
    b = reproject_to_grid(cat, tmp_path / "b.tif", grid, categorical=True, block_size=10_000)
    arr_a, prof = read(a)
    arr_b, _ = read(b)
    assert arr_a.dtype == np.int16 and prof["nodata"] == -1
    assert (prof["width"], prof["height"]) == (20, 15)
    assert prof["crs"].to_epsg() == 4507 and prof["transform"] == grid.transform
    np.testing.assert_array_equal(arr_a, arr_b)
    # only input values appear (nearest), and nodata: source nodata block + outside the source
    assert set(np.unique(arr_a)) <= {-1, 101, 301, 404, 1205}
    assert (arr_a[:, :2] == -1).all()  # 300 m left of the source's west edge
    assert (arr_a != -1).sum() > 100
    # nearest = the source pixel under each grid-cell centre (exact transform, per pixel)
    with rasterio.open(cat) as src:
        codes, st = src.read(1), src.transform
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width]
    xs, ys = grid.transform @ (cols + 0.5, rows + 0.5)
    lon, lat = Transformer.from_crs("EPSG:4507", "EPSG:4490", always_xy=True).transform(xs, ys)
    sc, sr = ~st @ (lon, lat)
    sc, sr = np.floor(sc).astype(int), np.floor(sr).astype(int)
    inside = (sc >= 0) & (sc < codes.shape[1]) & (sr >= 0) & (sr < codes.shape[0])
    expected = np.full(grid.shape, -1, np.int16)
    expected[inside] = codes[sr[inside], sc[inside]]
    np.testing.assert_array_equal(arr_a, expected)


def test_reproject_continuous_bilinear_blockwise_equals_one_shot(geographic_rasters, tmp_path):
    _, cont, grid = geographic_rasters
    a, prof = read(reproject_to_grid(cont, tmp_path / "a.tif", grid, False, block_size=3))
    b, _ = read(reproject_to_grid(cont, tmp_path / "b.tif", grid, False, block_size=512))
    assert a.dtype == np.float32 and prof["nodata"] == -9999.0
    np.testing.assert_array_equal(a, b)
    valid = a != -9999.0
    assert valid.sum() > 100 and (a[valid] > 900).all()
    assert (a[:, :2] == -9999.0).all()


def test_reproject_missing_crs_is_clear(tmp_path):
    src = write(
        tmp_path / "nocrs.tif", np.ones((3, 3), np.uint8), from_origin(0, 3, 1, 1), crs=None
    )
    grid = Grid("EPSG:4507", from_origin(0, 3, 1, 1), 3, 3)
    with pytest.raises(InputError, match="nocrs.tif.*no CRS"):
        reproject_to_grid(src, tmp_path / "out.tif", grid, categorical=True)
    assert not (tmp_path / "out.tif").exists()


# --- canonical land use ---------------------------------------------------------------------


def test_landuse_to_canonical_with_sand_mask(tmp_path):
    s = load_scheme("clcd")
    codes = np.array([[1, 7, 7], [7, 4, 0], [2, 7, 9]], np.uint8)
    src = write(tmp_path / "clcd.tif", codes, from_origin(0, 90, 30, 30), nodata=0)
    sand = np.zeros((3, 3), bool)
    sand[:, 1:] = True
    out, prof = read(landuse_to_canonical_file(src, tmp_path / "can.tif", s, sand, block_size=1))
    cid = s.class_id
    expected = np.array(
        [
            [cid("cropland_irrigated"), cid("sandy"), cid("sandy")],
            [cid("bare"), cid("grassland"), 0],
            [cid("forest"), cid("sandy"), cid("wetland")],
        ],
        np.uint8,
    )
    np.testing.assert_array_equal(out, expected)
    assert prof["dtype"] == "uint8" and prof["nodata"] == 0
    # the same from sand-area polygons (pixel centre rule) — the mask covers columns 1..2
    polys = gpd.GeoDataFrame(geometry=[box(30, 0, 90, 90)], crs="EPSG:4507")
    out2, _ = read(landuse_to_canonical_file(src, tmp_path / "can2.tif", s, polys))
    np.testing.assert_array_equal(out2, expected)
    # ... and from a sand-area raster on the same grid
    mask = write(tmp_path / "sand.tif", sand.astype(np.uint8), from_origin(0, 90, 30, 30))
    out3, _ = read(landuse_to_canonical_file(src, tmp_path / "can3.tif", s, mask))
    np.testing.assert_array_equal(out3, expected)


def test_landuse_unknown_code_names_code_count_and_file(tmp_path):
    s = load_scheme("gbt21010")
    codes = np.array([[101, 9999], [9999, 1205]], np.int16)
    src = write(tmp_path / "lu.tif", codes, from_origin(0, 60, 30, 30), nodata=-1)
    with pytest.raises(InputError, match=r"lu.tif.*9999 \(2 px\)"):
        landuse_to_canonical_file(src, tmp_path / "can.tif", s, block_size=1)
    assert not (tmp_path / "can.tif").exists()


# --- clip -----------------------------------------------------------------------------------


@pytest.fixture()
def ten_by_ten(tmp_path):
    arr = np.arange(100, dtype=np.int16).reshape(10, 10)
    tr = from_origin(1000, 2000, 30, 30)
    return write(tmp_path / "src.tif", arr, tr, nodata=-1), arr, tr


def test_clip_keeps_exactly_the_pixel_centres_inside(ten_by_ten, tmp_path):
    src, arr, tr = ten_by_ten
    # an irregular polygon whose edges pass between pixel centres
    poly = Polygon(
        [
            (1000 + 40, 2000 - 20),
            (1000 + 250, 2000 - 50),
            (1000 + 200, 2000 - 280),
            (1000 + 70, 2000 - 200),
        ]
    )
    out = clip_to_polygon(src, poly, tmp_path / "reach.tif", name="weining")
    got, prof = read(out)
    with rasterio.open(out) as ds:
        win = rasterio.windows.from_bounds(*ds.bounds, transform=tr).round_offsets()
    r0, c0 = int(win.row_off), int(win.col_off)
    expected = np.full(got.shape, -1, np.int16)
    n_inside = 0
    for r in range(got.shape[0]):
        for c in range(got.shape[1]):
            x, y = tr @ (c0 + c + 0.5, r0 + r + 0.5)
            if poly.contains(Point(x, y)):
                expected[r, c] = arr[r0 + r, c0 + c]
                n_inside += 1
    assert n_inside > 10
    np.testing.assert_array_equal(got, expected)
    assert prof["nodata"] == -1 and prof["crs"].to_epsg() == 4507
    # window = polygon bounds snapped outward to the pixel grid
    assert (r0, c0) == (0, 1) and got.shape == (10, 8)
    assert (got != -1).sum() == n_inside


def test_clip_aligned_rectangle_and_cog_valid_and_reproducible(ten_by_ten, tmp_path):
    src, arr, _ = ten_by_ten
    poly = box(1000 + 60, 2000 - 150, 1000 + 150, 2000 - 60)  # rows 2..4, cols 2..4
    a = clip_to_polygon(src, poly, tmp_path / "a" / "reach.tif", name="yinchuan")
    b = clip_to_polygon(src, poly, tmp_path / "b" / "reach.tif", name="yinchuan")
    got, _ = read(a)
    np.testing.assert_array_equal(got, arr[2:5, 2:5])
    is_valid, errors, _ = cog_validate(a, quiet=True)
    assert is_valid, errors
    assert a.read_bytes() == b.read_bytes()
    assert sorted(p.name for p in a.parent.iterdir()) == ["reach.tif"]  # no temp left


def test_clip_large_float_has_overviews_valid_and_reproducible(tmp_path):
    rng = np.random.default_rng(0)
    arr = rng.random((1100, 1100), dtype=np.float32)
    tr = from_origin(0, 33_000, 30, 30)
    src = write(tmp_path / "f.tif", arr, tr, nodata=-9999.0)
    poly = Point(16_500, 16_500).buffer(15_000)
    a = clip_to_polygon(src, poly, tmp_path / "a.tif", block_size=300)
    b = clip_to_polygon(src, poly, tmp_path / "b.tif", block_size=512)
    assert a.read_bytes() == b.read_bytes()
    is_valid, errors, _ = cog_validate(a, quiet=True)
    assert is_valid, errors
    with rasterio.open(a) as ds:
        assert ds.overviews(1) and ds.block_shapes[0] == (512, 512)
        assert (
            ds.tags(ns="IMAGE_STRUCTURE").get("COMPRESSION", "").upper() == "DEFLATE"
            or ds.compression.name.lower() == "deflate"
        )


def test_clip_far_polygon_names_the_reach(ten_by_ten, tmp_path):
    src, _, _ = ten_by_ten
    far = box(500_000, 4_000_000, 510_000, 4_010_000)
    with pytest.raises(InputError, match=r"reach 'shizuishan'.*does not overlap.*CRS"):
        clip_to_polygon(src, far, tmp_path / "x.tif", name="shizuishan")
    assert not (tmp_path / "x.tif").exists()


def test_clip_polygon_over_nodata_only(tmp_path):
    arr = np.full((10, 10), -1, np.int16)
    arr[0, 0] = 5
    src = write(tmp_path / "s.tif", arr, from_origin(0, 300, 30, 30), nodata=-1)
    with pytest.raises(InputError, match="reach 'jinghe'.*no data pixel"):
        clip_to_polygon(src, box(60, 60, 240, 240), tmp_path / "x.tif", name="jinghe")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
