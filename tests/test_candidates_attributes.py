"""The parcels' zonal attributes (nxgeo.candidates.attributes._run): exactextract's processing
order changes the speed, never the numbers.

Hand-computed case: a 4 x 4 raster of 10 m cells with values 1..16 (row 0 at the top: 1 2 3 4);
parcel A covers the top-left 2 x 2 cells exactly (values 1 2 5 6: mean 3.5, min 1, max 6);
parcel B the right half of cell 15 and the whole of cell 16 (bottom row: 13 14 15 16), so its
coverage-weighted mean is (0.5 * 15 + 16) / 1.5 = 15.667, min 15, max 16.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from exactextract.raster import NumPyRasterSource
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from nxgeo.candidates import attributes as A

CELL = 10.0


def _source(arr, name, nodata=None):
    h, w = arr.shape
    return NumPyRasterSource(arr, 0.0, 0.0, w * CELL, h * CELL, nodata=nodata, name=name)


def _zones(geoms):
    return A._Zones(np.asarray(geoms, dtype=object), None)


def _both(sources_fn, geoms, ops, monkeypatch):
    """_run in the default order and forced chunk by chunk (MAX_FEATURE_CELLS = 0)."""
    zones = _zones(geoms)
    fast = A._run(sources_fn(), zones, ops)
    with monkeypatch.context() as m:
        m.setattr(A, "MAX_FEATURE_CELLS", 0)
        assert zones.strategy((CELL, CELL)) == "raster-sequential"
        slow = A._run(sources_fn(), zones, ops)
    return fast, slow


def test_hand_computed_means_in_both_orders(monkeypatch):
    vals = np.arange(1, 17, dtype=np.float64).reshape(4, 4)  # top row: 1 2 3 4
    # A: the top-left 2 x 2 cells (x 0-20, y 20-40): 1 2 5 6
    # B: x 25-40, y 0-10 = the right half of cell 15 (x 20-30, weight 0.5) and cell 16
    #    (weight 1): mean = (0.5 * 15 + 16) / 1.5 = 15.667, min 15, max 16
    geoms = [box(0, 20, 20, 40), box(25, 0, 40, 10)]
    fast, slow = _both(
        lambda: [_source(vals, "v"), _source(vals * 10, "w")],
        geoms,
        ["mean", "min", "max"],
        monkeypatch,
    )
    pd.testing.assert_frame_equal(fast, slow)
    assert fast["v_mean"].tolist() == pytest.approx([3.5, 23.5 / 1.5])
    assert fast["v_min"].tolist() == [1.0, 15.0]
    assert fast["v_max"].tolist() == [6.0, 16.0]
    assert fast["w_mean"].tolist() == pytest.approx([35.0, 235.0 / 1.5])


def test_strategy_follows_the_largest_parcel():
    small = _zones([box(0, 0, 100, 100)])  # 10 x 10 cells
    assert small.strategy((CELL, CELL)) == "feature-sequential"
    side = CELL * (int(A.MAX_FEATURE_CELLS**0.5) + 1)  # just over the budget
    big = _zones([box(0, 0, 100, 100), box(0, 0, side, side)])
    assert big.strategy((CELL, CELL)) == "raster-sequential"
    assert big.strategy((2 * CELL, 2 * CELL)) == "feature-sequential"  # coarser cells
    assert _zones([]).strategy((CELL, CELL)) == "feature-sequential"


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 12),
)
def test_strategy_gives_identical_attributes(seed, n):
    """Random rasters (with nodata) and random overlapping boxes: chunk by chunk and parcel by
    parcel give the same table, bit for bit, for the ops the candidates use."""
    rng = np.random.default_rng(seed)
    h, w = 37, 29
    cont = rng.normal(100, 30, (h, w))
    cont[rng.random((h, w)) < 0.1] = -9999.0
    cls = rng.integers(1, 6, (h, w)).astype(np.float64)
    geoms = []
    for _ in range(n):
        x0, y0 = rng.uniform(0, w * CELL - 15), rng.uniform(0, h * CELL - 15)
        geoms.append(box(x0, y0, x0 + rng.uniform(5, 120), y0 + rng.uniform(5, 120)))
    zones = _zones(geoms)
    for fn, ops in (
        (lambda: [_source(cont, "c", -9999.0), _source(cont * 2, "d", -9999.0)], ["mean", "min"]),
        (lambda: [_source(cls, "lu")], ["unique", "frac", "majority"]),
    ):
        fast = A._run(fn(), zones, ops)
        old = A.MAX_FEATURE_CELLS
        A.MAX_FEATURE_CELLS = 0
        try:
            slow = A._run(fn(), zones, ops)
        finally:
            A.MAX_FEATURE_CELLS = old
        assert list(fast.columns) == list(slow.columns)
        for c in fast.columns:
            a, b = fast[c].tolist(), slow[c].tolist()
            assert len(a) == len(b)
            for x, y in zip(a, b):
                if isinstance(x, float) and np.isnan(x):
                    assert isinstance(y, float) and np.isnan(y)
                else:
                    assert np.array_equal(np.asarray(x), np.asarray(y)), (c, x, y)
