"""Tile-wise exact D8 routing (`fill_pits_tiled`, `d8_receivers_tiled`,
`flow_accumulation_tiled`) against the whole-array functions: the same values cell for cell on
DEMs larger than one tile, whatever the tile size."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import ndimage

from nxgeo import terrain as T

ND = -9999.0


def test_bowl_across_tiles_fills_to_the_spill_of_another_tile():
    # hand case: a 6 x 8 bowl whose floor straddles the tile lines of 3 x 3 tiles; the only way
    # out is the notch at (5, 7) (level 7), two tiles away from the floor's lowest cell (2, 2)
    dem = np.full((6, 8), 9.0)
    dem[1:5, 1:7] = 4.0
    dem[2, 2] = 1.0
    dem[3, 5] = 2.0
    dem[5, 7] = 7.0  # the spill cell on the grid edge
    dem[4, 6] = 7.0  # the pass into it
    expected = np.full((6, 8), 9.0)
    expected[1:5, 1:7] = 7.0  # the whole floor fills to the spill level
    expected[5, 7] = 7.0
    got = T.fill_pits_tiled(dem, tile=3)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(got, T.fill_pits(dem))
    acc = T.flow_accumulation_tiled(dem, tile=3)
    assert acc[5, 7] == 48  # everything leaves through the spill cell: the edge 9s drain
    assert (T.d8_receivers_tiled(dem, tile=3) == T.OUTLET).sum() == 1  # inwards, onto the lake
    np.testing.assert_array_equal(acc, T.flow_accumulation(dem))
    np.testing.assert_array_equal(T.d8_receivers_tiled(dem, tile=3), T.d8_receivers(dem))


def test_plane_counts_by_hand_on_many_tiles():
    r, c = np.mgrid[0:7, 0:5]
    dem = 100.0 - 10.0 * r + 0.0 * c  # tilted due south: each column flows straight down
    acc = T.flow_accumulation_tiled(dem, tile=3)
    np.testing.assert_array_equal(acc, (r + 1).astype(float))


@st.composite
def _dems(draw):
    h = draw(st.integers(1, 40))
    w = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    levels = draw(st.integers(1, 25))
    kind = draw(st.sampled_from(["int", "smooth32", "float"]))
    if kind == "int":  # many ties: flats and pits everywhere
        dem = rng.integers(0, levels, (h, w)).astype(np.float64)
    elif kind == "smooth32":  # float32 terrain with filled lakes spanning tiles
        z = ndimage.gaussian_filter(rng.normal(size=(h, w)), 2.0)
        dem = np.round(z * 40, 0).astype(np.float32) + np.float32(0.25)
    else:
        dem = rng.random((h, w)) * levels
    holes = draw(st.floats(0.0, 0.3))
    dem[rng.random((h, w)) < holes] = ND
    tile = draw(st.integers(3, 16))
    res = (draw(st.floats(1.0, 50.0)), draw(st.floats(1.0, 50.0)))
    return dem, tile, res


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_dems())
def test_tiled_equals_whole_array(case):
    dem, tile, (xr, yr) = case
    filled = T.fill_pits_tiled(dem, ND, tile=tile)
    np.testing.assert_array_equal(filled, T.fill_pits(dem, ND))
    recv = T.d8_receivers_tiled(dem, ND, xr, yr, tile=tile)
    np.testing.assert_array_equal(recv, T.d8_receivers(dem, ND, xr, yr))
    acc = T.flow_accumulation_tiled(dem, ND, xres=xr, yres=yr, tile=tile)
    np.testing.assert_array_equal(acc, T.flow_accumulation(dem, ND, xres=xr, yres=yr))
    valid = dem != ND
    # invariants: every valid cell reaches exactly one outlet; nodata stays NaN
    assert np.isnan(acc[~valid]).all()
    assert acc[recv == T.OUTLET].sum() == valid.sum()


def test_tiled_on_a_grid_of_many_large_tiles_equals_whole_array():
    rng = np.random.default_rng(3)
    z = ndimage.gaussian_filter(rng.normal(size=(300, 260)), 5.0)
    dem = np.round(z * 2000, 0).astype(np.float32)  # 1-unit steps: lakes and flats
    dem[100:130, 40:90] = np.float32(ND)
    for tile in (64, 100, 257):
        np.testing.assert_array_equal(
            T.flow_accumulation_tiled(dem, ND, xres=30, yres=30, tile=tile),
            T.flow_accumulation(dem, ND, xres=30, yres=30),
        )


@pytest.mark.parametrize("tile, msg", [(2, "tile must be at least 3"), (0, "at least 3")])
def test_bad_tile(tile, msg):
    with pytest.raises(ValueError, match=msg):
        T.flow_accumulation_tiled(np.zeros((4, 4)), tile=tile)


def test_bad_dem_shape_and_resolution():
    with pytest.raises(ValueError, match="DEM must be 2-D"):
        T.flow_accumulation_tiled(np.zeros(5))
    with pytest.raises(ValueError, match="pixel size must be positive"):
        T.flow_accumulation_tiled(np.zeros((4, 4)), xres=0.0)
