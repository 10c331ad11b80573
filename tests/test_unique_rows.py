"""nxgeo.candidates.units.unique_rows: numpy's np.unique(axis=0, return_inverse=True), faster.

The sand units are the clumps of (county, zone class, region, tile row, tile column): the rows
and their order decide the units and their ids, so the fast path must give numpy's answer
exactly, in numpy's (lexicographic) order."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nxgeo.candidates.units import unique_rows


def test_hand_computed():
    keys = np.array([[2, 1], [1, 5], [2, 1], [1, -3], [1, 5]])
    combos, inv = unique_rows(keys)
    assert combos.tolist() == [[1, -3], [1, 5], [2, 1]]  # lexicographic, negatives first
    assert inv.tolist() == [2, 1, 2, 0, 1]
    assert (combos[inv] == keys).all()


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.int64,
        st.tuples(st.integers(1, 60), st.integers(1, 5)),
        elements=st.integers(-1000, 1000),
    )
)
def test_same_as_numpy(keys):
    a, b = np.unique(keys, axis=0, return_inverse=True)
    c, d = unique_rows(keys)
    assert np.array_equal(a, c) and np.array_equal(b.ravel(), d)


def test_wide_ranges_fall_back_to_numpy():
    """Columns whose ranges multiply past int64: numpy's own answer (no overflow)."""
    keys = np.array([[2**40, -(2**40)], [0, 2**40], [2**40, -(2**40)]], dtype=np.int64)
    a, b = np.unique(keys, axis=0, return_inverse=True)
    c, d = unique_rows(keys)
    assert np.array_equal(a, c) and np.array_equal(b.ravel(), d)


def test_empty():
    c, d = unique_rows(np.zeros((0, 3), dtype=np.int64))
    assert c.shape == (0, 3) and d.shape == (0,)
